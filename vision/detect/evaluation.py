"""Matching detections to labelled boxes: precision and recall at an IoU threshold, with
"ignore" regions (people too occluded or too cut off to count either way)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vision.boxes import Box
from vision.detect.nms import pairwise_overlap


@dataclass
class Counts:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    def add(self, other: Counts) -> None:
        self.true_positives += other.true_positives
        self.false_positives += other.false_positives
        self.false_negatives += other.false_negatives

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        labelled = self.true_positives + self.false_negatives
        return self.true_positives / labelled if labelled else 1.0


def match_frame(
    detections: list[Box],
    labels: list[list[float]],
    ignore: list[list[float]] = (),
    iou_threshold: float = 0.3,
) -> Counts:
    """Greedy one-to-one matching, best score first: a detection is a true positive if it
    overlaps a still unmatched label by IoU >= iou_threshold; an unmatched detection that
    overlaps an ignore region (IoU >= iou_threshold, or half of it inside) counts for nothing."""
    dets = sorted(detections, key=lambda b: -b.score)
    det_xyxy = np.array([[b.x1, b.y1, b.x2, b.y2] for b in dets], dtype=float).reshape(-1, 4)
    lab_xyxy = np.array(labels, dtype=float).reshape(-1, 4)
    iou = pairwise_overlap(det_xyxy, lab_xyxy)[0]
    matched = np.zeros(len(lab_xyxy), dtype=bool)
    counts = Counts()
    unmatched = []
    for i in range(len(dets)):
        candidates = np.where(~matched & (iou[i] >= iou_threshold), iou[i], -1.0)
        j = int(np.argmax(candidates)) if len(candidates) else -1
        if j >= 0 and candidates[j] >= iou_threshold:
            matched[j] = True
            counts.true_positives += 1
        else:
            unmatched.append(i)
    if unmatched and len(ignore):
        ign = np.array(ignore, dtype=float).reshape(-1, 4)
        d = det_xyxy[unmatched]
        ign_iou, _ = pairwise_overlap(d, ign)
        inside = _share_inside(d, ign)
        ignored = ((ign_iou >= iou_threshold) | (inside >= 0.5)).any(axis=1)
        unmatched = [i for i, skip in zip(unmatched, ignored, strict=True) if not skip]
    counts.false_positives = len(unmatched)
    counts.false_negatives = int((~matched).sum())
    return counts


def _share_inside(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The share of each box of a that lies inside each box of b."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    return inter / np.maximum(area[:, None], 1e-9)
