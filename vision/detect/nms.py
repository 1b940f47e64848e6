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


def covered_share(box: np.ndarray, others: np.ndarray) -> float:
    """The share of `box`'s area that the union of `others` covers (exact, on the grid their
    edges make)."""
    x1, y1, x2, y2 = (float(v) for v in box)
    area = (x2 - x1) * (y2 - y1)
    if area <= 0 or len(others) == 0:
        return 0.0
    parts = np.clip(others, [x1, y1, x1, y1], [x2, y2, x2, y2])
    xs = np.unique(np.concatenate([[x1, x2], parts[:, 0], parts[:, 2]]))
    ys = np.unique(np.concatenate([[y1, y2], parts[:, 1], parts[:, 3]]))
    cx, cy = (xs[:-1] + xs[1:]) / 2, (ys[:-1] + ys[1:]) / 2  # each grid cell's centre
    inside = (
        (parts[:, None, None, 0] <= cx[None, None, :])
        & (cx[None, None, :] <= parts[:, None, None, 2])
        & (parts[:, None, None, 1] <= cy[None, :, None])
        & (cy[None, :, None] <= parts[:, None, None, 3])
    ).any(axis=0)
    cells = np.diff(ys)[:, None] * np.diff(xs)[None, :]
    return float((cells * inside).sum() / area)


def spans_others(
    box: np.ndarray, before: np.ndarray, part_share: float = 0.35, cover: float = 0.7
) -> bool:
    """Whether `box` is one box around two or more people already kept (`before`): at least
    two of them lie at least `part_share` inside it and together they cover at least `cover`
    of it. A detector sometimes scores the space between two people standing close as a
    person of its own, a box overlapping each of them too little for IoU to drop it."""
    if len(before) < 2:
        return False
    x1 = np.maximum(box[0], before[:, 0])
    y1 = np.maximum(box[1], before[:, 1])
    x2 = np.minimum(box[2], before[:, 2])
    y2 = np.minimum(box[3], before[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (before[:, 2] - before[:, 0]) * (before[:, 3] - before[:, 1])
    parts = before[inter >= part_share * np.maximum(area, 1e-9)]
    return len(parts) >= 2 and covered_share(box, parts) >= cover


def nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    iou_threshold: float,
    cut: np.ndarray | None = None,
    cut_ios: float = 0.6,
    span_cover: float | None = 0.7,
) -> np.ndarray:
    """Indices of the boxes kept, best first. A box is dropped when a box before it overlaps
    it by IoU > iou_threshold. `cut` marks boxes that touch a tile's inner edge, i.e. may be a
    part of a person the tile cut off: they come after every whole box, and are also dropped
    when a box before them covers more than `cut_ios` of the smaller of the two (the part of a
    person lies inside the whole person's box, where IoU alone would keep both). A box that
    spans two or more boxes kept before it, together covering `span_cover` of it, is dropped
    too (spans_others; None keeps such boxes)."""
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    cut = np.zeros(len(boxes), dtype=bool) if cut is None else np.asarray(cut, dtype=bool)
    order = np.lexsort((-scores, cut))  # whole boxes first, then by score
    boxes, cut = boxes[order], cut[order]
    iou, ios = pairwise_overlap(boxes, boxes)
    suppresses = (iou > iou_threshold) | ((ios > cut_ios) & cut[None, :])
    keep = np.ones(len(boxes), dtype=bool)
    for i in range(len(boxes)):
        if not keep[i]:
            continue
        if span_cover is not None and spans_others(boxes[i], boxes[:i][keep[:i]], cover=span_cover):
            keep[i] = False
            continue
        keep[i + 1 :] &= ~suppresses[i, i + 1 :]
    return order[keep]
