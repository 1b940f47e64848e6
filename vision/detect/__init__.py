"""Detectors behind one interface (vision.boxes.Detector), chosen by name.

- "nanodet": people from NanoDet (onnxruntime) on the whole frame plus overlapping tiles;
- "nanodet-full": NanoDet on the whole frame only (faster, misses small people);
- "hog": OpenCV's HOG people detector, the fallback that needs no model file;
- "faces": faces (OpenCV's res10 SSD) each with a mask decision (True, False or "unknown").

load_detector() without a name gives "nanodet", or "hog" when the NanoDet model cannot be
loaded (with a warning that says why)."""

from __future__ import annotations

import logging
from typing import Any

from vision.boxes import Detector
from vision.detect.models import ModelUnavailable

DETECTORS = ("nanodet", "nanodet-full", "hog", "faces")
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
    if name in ("nanodet", "nanodet-full"):
        from vision.detect.nanodet import NanoDetPeopleDetector

        if name == "nanodet-full":
            options.setdefault("tile", None)
        return NanoDetPeopleDetector(**options)
    if name == "faces":
        from vision.detect.faces import FaceMaskDetector

        return FaceMaskDetector(**options)
    raise ValueError(f"unknown detector {name!r}; one of {', '.join(DETECTORS)}")
