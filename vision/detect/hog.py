"""OpenCV's HOG + linear SVM people detector (Dalal-Triggs): the fallback when no CNN model
can be loaded. Slow and weak on small people, but it needs no weights file."""

from __future__ import annotations

import cv2
import numpy as np

from vision.boxes import Box


class HogPeopleDetector:
    name = "hog"

    def __init__(self, min_score: float = 0.5, nms_iou: float = 0.45, scale: float = 1.05) -> None:
        self.min_score = min_score
        self.nms_iou = nms_iou
        self.scale = scale
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def detect(self, frame: np.ndarray) -> list[Box]:
        rects, weights = self._hog.detectMultiScale(
            frame, winStride=(8, 8), padding=(8, 8), scale=self.scale
        )
        if len(rects) == 0:
            return []
        scores = [float(w) for w in np.ravel(weights)]
        keep = cv2.dnn.NMSBoxes(
            [list(map(int, r)) for r in rects], scores, self.min_score, self.nms_iou
        )
        boxes = []
        for i in np.ravel(keep):
            x, y, w, h = (float(v) for v in rects[i])
            # the SVM margin is unbounded: squash it into (0, 1) so that it reads as a score
            score = 1.0 / (1.0 + np.exp(-scores[i]))
            boxes.append(Box("person", x, y, x + w, y + h, float(score)))
        return boxes
