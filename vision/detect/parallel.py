"""Detection on both cores: several threads detect frames at once, boxes come out in frame order.

onnxruntime and OpenCV let go of Python's GIL while they work, so threads that each run their
own detector (each with one onnxruntime thread) keep two cores busy with two frames, without
splitting one frame's network over two threads, which costs more CPU in all (bench/vision.py,
section "throughput", measures both)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import numpy as np

from vision.boxes import Box, Detector

T = TypeVar("T")


def detect_frames(
    make_detector: Callable[[], Detector],
    frames: Iterable[T],
    workers: int = 2,
    image: Callable[[T], np.ndarray] | None = None,
) -> Iterator[tuple[T, list[Box]]]:
    """(frame, boxes) for every frame, in order, detected by `workers` threads, each with its
    own detector from `make_detector` (e.g. `lambda: load_detector("nanodet-drone")`). Frames
    are images, or anything `image` takes the image from (vision.sources.Frame). At most
    2 x workers frames are read ahead of the one given out. A detector's error is raised when
    its frame's turn comes; the frames after it are dropped."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    local = threading.local()

    def detect(frame: T) -> list[Box]:
        if not hasattr(local, "detector"):
            local.detector = make_detector()
        return local.detector.detect(image(frame) if image is not None else frame)

    pending: deque[tuple[T, Future]] = deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="detect") as pool:
        try:
            for frame in frames:
                pending.append((frame, pool.submit(detect, frame)))
                if len(pending) > 2 * workers:
                    done, future = pending.popleft()
                    yield done, future.result()
            while pending:
                done, future = pending.popleft()
                yield done, future.result()
        finally:
            for _, future in pending:
                future.cancel()
