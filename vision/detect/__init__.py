"""Detectors behind one interface (vision.boxes.Detector), chosen by name."""

from __future__ import annotations

from vision.boxes import Detector

DETECTORS = ("hog",)


def load_detector(name: str = "hog") -> Detector:
    """A people detector by name; raises ValueError naming the choices for an unknown one."""
    if name == "hog":
        from vision.detect.hog import HogPeopleDetector

        return HogPeopleDetector()
    raise ValueError(f"unknown detector {name!r}; one of {', '.join(DETECTORS)}")
