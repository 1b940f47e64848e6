"""Non-maximum suppression over boxes as numpy arrays (N x 4: x1, y1, x2, y2)."""

from __future__ import annotations

import numpy as np


def pairwise_overlap(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """IoU and intersection over the smaller box, each (len(a), len(b))."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    iou = inter / np.maximum(union, 1e-9)
    ios = inter / np.maximum(np.minimum(area_a[:, None], area_b[None, :]), 1e-9)
    return iou, ios


def nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    iou_threshold: float,
    cut: np.ndarray | None = None,
    cut_ios: float = 0.6,
) -> np.ndarray:
    """Indices of the boxes kept, best first. A box is dropped when a box before it overlaps
    it by IoU > iou_threshold. `cut` marks boxes that touch a tile's inner edge, i.e. may be a
    part of a person the tile cut off: they come after every whole box, and are also dropped
    when a box before them covers more than `cut_ios` of the smaller of the two (the part of a
    person lies inside the whole person's box, where IoU alone would keep both)."""
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    cut = np.zeros(len(boxes), dtype=bool) if cut is None else np.asarray(cut, dtype=bool)
    order = np.lexsort((-scores, cut))  # whole boxes first, then by score
    boxes, cut = boxes[order], cut[order]
    iou, ios = pairwise_overlap(boxes, boxes)
    suppresses = (iou > iou_threshold) | ((ios > cut_ios) & cut[None, :])
    keep = np.ones(len(boxes), dtype=bool)
    for i in range(len(boxes)):
        if keep[i]:
            keep[i + 1 :] &= ~suppresses[i, i + 1 :]
    return order[keep]
