import threading
import time
from typing import ClassVar

import numpy as np
import pytest

from vision.boxes import Box
from vision.detect.parallel import detect_frames


class Numbered:
    """Gives one box whose x1 is the frame's number (its first pixel), after a delay that makes
    later frames finish first; counts the threads it is used on."""

    name = "numbered"
    made: ClassVar[list[str]] = []

    def __init__(self) -> None:
        Numbered.made.append(threading.current_thread().name)
        self.thread = threading.current_thread().name

    def detect(self, frame: np.ndarray) -> list[Box]:
        assert threading.current_thread().name == self.thread  # one detector per thread
        number = int(frame[0, 0, 0])
        if number == 13:
            raise RuntimeError("frame 13 is bad")
        time.sleep(0.02 if number % 2 == 0 else 0.0)
        return [Box("person", number, 0, number + 1, 1, 0.9)]


def frames(n: int):
    for k in range(n):
        yield np.full((4, 4, 3), k, np.uint8)


def test_boxes_come_in_frame_order_from_one_detector_per_thread():
    Numbered.made = []
    got = [(int(f[0, 0, 0]), boxes[0].x1) for f, boxes in detect_frames(Numbered, frames(12), 2)]
    assert got == [(k, k) for k in range(12)]
    assert len(Numbered.made) <= 2 and len(set(Numbered.made)) == len(Numbered.made)


def test_a_detector_error_comes_at_its_frame():
    seen = []
    with pytest.raises(RuntimeError, match="frame 13"):
        for frame, _ in detect_frames(Numbered, frames(20), 2):
            seen.append(int(frame[0, 0, 0]))
    assert seen == list(range(13))


def test_workers_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        next(detect_frames(Numbered, frames(1), 0))
