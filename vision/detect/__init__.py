"""Detectors behind one interface (vision.boxes.Detector), chosen by name.

- "nanodet": people from NanoDet (onnxruntime) on the whole frame plus overlapping tiles;
- "nanodet-full": NanoDet on the whole frame only (faster, misses small people);
- "nanodet-small": NanoDet on 320 px tiles only (each enlarged to the network's 416), for
  people 15-50 px tall as the drone sees them from 30-40 m (slow: 15 runs on 1280x720);
- "nanodet-drone": the int8 NanoDet that takes any input size, on the whole frame enlarged
  1.3 times in one run, for people 13-51 px tall (median 32): the patrol camera's preset, about
  4 times cheaper than "nanodet-small" for better recall (vision/models/MODELS.md). For people
  of another height give `scale=scale_for_people(height_px)` (vision.detect.nanodet);
- "hog": OpenCV's HOG people detector, the fallback that needs no model file;
- "faces": faces (OpenCV's res10 SSD) each with a mask decision (True, False or "unknown").

load_detector() without a name gives "nanodet", or "hog" when the NanoDet model cannot be
loaded (with a warning that says why)."""

from __future__ import annotations

import logging
from typing import Any

from vision.boxes import Detector
from vision.detect.models import ModelUnavailable

DETECTORS = ("nanodet", "nanodet-full", "nanodet-small", "nanodet-drone", "hog", "faces")
# NanoDet presets: tile side and overlap (frame px), whole-frame pass, person score; or the
# any-size int8 model with the frame's scale
NANODET_PRESETS: dict[str, dict[str, Any]] = {
    "nanodet": {},
    "nanodet-full": {"tile": None},
    "nanodet-small": {"tile": 320, "overlap": 64, "full_frame": False, "min_score": 0.4},
    "nanodet-drone": {"model": "nanodet_int8.onnx", "tile": None, "scale": 1.3, "min_score": 0.35},
}
DEFAULT = "nanodet"


log = logging.getLogger(__name__)


def load_detector(name: str | None = None, **options: Any) -> Detector:
    """A detector by name (options go to its constructor: thresholds, tile size...); raises
    ValueError naming the choices for an unknown name, ModelUnavailable for a model file that
    is missing or cannot be loaded."""
    if name is None:
        try:
            return load_detector(DEFAULT, **options)
        except ModelUnavailable as exc:
            log.warning("%s; people are detected with OpenCV's HOG instead", exc)
            return load_detector("hog")
    if name == "hog":
        from vision.detect.hog import HogPeopleDetector

        return HogPeopleDetector(**options)
    if name in NANODET_PRESETS:
        from vision.detect.models import MODELS_DIR
        from vision.detect.nanodet import NanoDetPeopleDetector

        preset = dict(NANODET_PRESETS[name])
        if "model" in preset:
            preset["model_path"] = MODELS_DIR / preset.pop("model")
        detector = NanoDetPeopleDetector(**{**preset, **options})
        detector.name = name
        return detector
    if name == "faces":
        from vision.detect.faces import FaceMaskDetector

        return FaceMaskDetector(**options)
    raise ValueError(f"unknown detector {name!r}; one of {', '.join(DETECTORS)}")
