"""What detectors return, and the one interface every detector meets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

BoxClass = Literal["person", "face"]
MaskState = bool | Literal["unknown"]


@dataclass(frozen=True)
class Box:
    """A detection in pixels of the frame it came from (x2, y2 exclusive). ``mask`` is only
    for faces: True (wears a mask), False (no mask) or "unknown" (too small or unsure to say);
    it is None for people."""

    cls: BoxClass
    x1: float
    y1: float
    x2: float
    y2: float
    score: float
    mask: MaskState | None = None

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def foot(self) -> tuple[float, float]:
        """The bottom centre: where a standing person meets the ground."""
        return ((self.x1 + self.x2) / 2.0, self.y2)

    def to_json(self) -> dict:
        data: dict = {"class": self.cls, "x1": round(self.x1, 1), "y1": round(self.y1, 1),
                      "x2": round(self.x2, 1), "y2": round(self.y2, 1),
                      "score": round(self.score, 4)}  # fmt: skip
        if self.cls == "face":
            data["mask"] = "unknown" if self.mask is None else self.mask
        return data


class Detector(Protocol):
    """Finds boxes in one BGR frame (OpenCV's layout, uint8, H x W x 3)."""

    name: str

    def detect(self, frame: np.ndarray) -> list[Box]: ...
