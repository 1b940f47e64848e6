"""Detectors behind one interface (vision.boxes.Detector), chosen by name.

- "nanodet": people from NanoDet (onnxruntime) on the whole frame plus overlapping tiles;
- "nanodet-full": NanoDet on the whole frame only (faster, misses small people);
- "nanodet-small": NanoDet on 320 px tiles only (each enlarged to the network's 416), for
  people 15-50 px tall as the drone sees them from 30-40 m (slow: 15 runs on 1280x720);
- "hog": OpenCV's HOG people detector, the fallback that needs no model file;
- "faces": faces (OpenCV's res10 SSD) each with a mask decision (True, False or "unknown").

load_detector() without a name gives "nanodet", or "hog" when the NanoDet model cannot be
loaded (with a warning that says why)."""

from __future__ import annotations

import logging
from typing import Any

from vision.boxes import Detector
from vision.detect.models import ModelUnavailable

DETECTORS = ("nanodet", "nanodet-full", "nanodet-small", "hog", "faces")
# NanoDet presets: tile side and overlap (frame px), whole-frame pass, person score
NANODET_PRESETS: dict[str, dict[str, Any]] = {
    "nanodet": {},
    "nanodet-full": {"tile": None},
    "nanodet-small": {"tile": 320, "overlap": 64, "full_frame": False, "min_score": 0.4},
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
        from vision.detect.nanodet import NanoDetPeopleDetector

        detector = NanoDetPeopleDetector(**{**NANODET_PRESETS[name], **options})
        detector.name = name
        return detector
    if name == "faces":
        from vision.detect.faces import FaceMaskDetector

        return FaceMaskDetector(**options)
    raise ValueError(f"unknown detector {name!r}; one of {', '.join(DETECTORS)}")
