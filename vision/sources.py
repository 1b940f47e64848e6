"""Frame sources: video files, network streams, camera devices and image folders, each frame
with its capture time (UTC unix seconds) when the source can tell it.

- Video files (anything OpenCV's FFmpeg backend reads): the time is the video's start plus the
  frame's presentation time. The start is given (``start``) or read from the container's
  ``creation_time`` (PyAV); without either, frames have no time (boxes only, no pairing).
- Image folders: sorted by name; ``start`` + index / ``fps`` when given, else each file's
  modification time.
- Network streams: HTTP MJPEG is read part by part (vision.sources_mjpeg), honouring a per-part
  ``X-Timestamp`` header (mjpg-streamer's, and the simulator's); RTSP, UDP/RTP and other HTTP
  streams go to OpenCV's FFmpeg backend and are stamped when they arrive. Camera devices
  (``0``, ``/dev/video0``) likewise.
- Live sources (streams, devices) keep only the newest frame: detection slower than the camera
  drops frames rather than falling behind. A stream that stops is retried for ``reconnect_s``;
  then the source ends with a SourceError that says so.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
STREAM_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "udp://", "rtp://", "srt://", "tcp://")
RECONNECT_S = 10.0


class SourceError(Exception):
    """A source that cannot be read (or stopped), with what and where."""


@dataclass(frozen=True)
class Frame:
    index: int  # frames read from the source before this one (skipped ones included)
    image: np.ndarray  # BGR, uint8, H x W x 3
    time: float | None  # capture time, UTC unix seconds


class FrameSource(Protocol):
    name: str
    live: bool

    def frames(self, every: int = 1) -> Iterator[Frame]: ...

    def close(self) -> None: ...


def _bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


def container_start(path: Path) -> float | None:
    """The recording's start from the container's ``creation_time`` tag, if it has one."""
    import av

    try:
        with av.open(str(path)) as container:
            tag = container.metadata.get("creation_time")
    except (OSError, av.FFmpegError):
        return None
    if not tag:
        return None
    try:
        return datetime.fromisoformat(tag.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class VideoFileSource:
    live = False

    def __init__(self, path: Path, start: float | None = None) -> None:
        self.name = str(path)
        self.path = path
        self._cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
        if not self._cap.isOpened():
            raise SourceError(f"video {path}: cannot be opened (not a video FFmpeg can read)")
        ok, first = self._cap.read()
        if not ok or first is None:
            self._cap.release()
            raise SourceError(f"video {path}: no frame can be decoded")
        self._first = first
        self.count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.start = start if start is not None else container_start(path)
        self.ended_early: str | None = None

    @property
    def duration(self) -> float:
        """Seconds from the first frame to the last, as the container tells (0 if unknown)."""
        return self.count / self.fps if self.count and self.fps else 0.0

    def _time(self, index: int) -> float | None:
        if self.start is None:
            return None
        msec = self._cap.get(cv2.CAP_PROP_POS_MSEC)
        if msec <= 0 and index and self.fps > 0:
            msec = 1000.0 * index / self.fps
        return self.start + msec / 1000.0

    def frames(self, every: int = 1) -> Iterator[Frame]:
        index = 0
        yield Frame(0, self._first, self.start)
        while True:
            index += 1
            if index % every:
                if not self._cap.grab():
                    break
                continue
            ok, image = self._cap.read()
            if not ok or image is None:
                break
            yield Frame(index, image, self._time(index))
        if self.count and index < self.count - 1:
            self.ended_early = f"video {self.path}: ended at frame {index} of {self.count}"

    def close(self) -> None:
        self._cap.release()


class FolderSource:
    live = False

    def __init__(self, path: Path, start: float | None = None, fps: float | None = None) -> None:
        self.name = str(path)
        self.files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.files:
            raise SourceError(f"folder {path}: no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        if fps is not None and start is None:
            raise SourceError("an image folder's --fps needs a start time too")
        self.start, self.fps = start, fps
        self.unreadable: list[str] = []

    def frames(self, every: int = 1) -> Iterator[Frame]:
        for index, path in enumerate(self.files):
            if index % every:
                continue
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                self.unreadable.append(path.name)
                log.warning("image %s cannot be read: skipped", path)
                continue
            if self.start is not None and self.fps:
                t = self.start + index / self.fps
            elif self.start is not None:
                t = self.start
            else:
                t = path.stat().st_mtime
            yield Frame(index, _bgr(image), t)

    def close(self) -> None:
        pass


class LiveSource:
    """A reader thread keeps the newest frame; ``frames`` hands each new one out once."""

    live = True

    def __init__(self, name: str, reconnect_s: float = RECONNECT_S) -> None:
        self.name = name
        self.reconnect_s = reconnect_s
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._taken = -1
        self._count = 0
        self._error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_frame_at = time.monotonic()

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"source {self.name}", daemon=True)
        self._thread.start()

    def _publish(self, image: np.ndarray, t: float | None) -> None:
        with self._cond:
            self._latest = Frame(self._count, _bgr(image), t)
            self._count += 1
            self._last_frame_at = time.monotonic()
            self._cond.notify_all()

    def _fail(self, message: str) -> None:
        with self._cond:
            self._error = message
            self._cond.notify_all()

    def _run(self) -> None:
        """Read frames until stopped, reconnecting until ``reconnect_s`` pass without one."""
        while not self._stop.is_set():
            try:
                self._read()  # returns when the stream ends
                reason = "the stream ended"
            except (OSError, ValueError, SourceError) as exc:
                reason = str(exc) or type(exc).__name__
            if self._stop.is_set():
                return
            if time.monotonic() - self._last_frame_at > self.reconnect_s:
                self._fail(f"stream {self.name}: {reason}; no frame for {self.reconnect_s:g} s")
                return
            log.warning("stream %s: %s; reconnecting", self.name, reason)
            self._stop.wait(0.5)

    def _read(self) -> None:
        raise NotImplementedError

    def frames(self, every: int = 1) -> Iterator[Frame]:
        while True:
            with self._cond:
                while (
                    not self._stop.is_set()
                    and self._error is None
                    and (self._latest is None or self._latest.index < self._taken + every)
                ):
                    self._cond.wait(0.5)
                if self._latest is not None and self._latest.index >= self._taken + every:
                    frame = self._latest
                    self._taken = frame.index
                elif self._error is not None:
                    raise SourceError(self._error)
                else:
                    return
            yield frame

    def close(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)


class CaptureSource(LiveSource):
    """A network stream or camera device read by OpenCV (FFmpeg backend for URLs)."""

    def __init__(self, target: str | int, reconnect_s: float = RECONNECT_S) -> None:
        super().__init__(str(target), reconnect_s)
        self.target = target
        self._start()

    def _read(self) -> None:
        backend = cv2.CAP_FFMPEG if isinstance(self.target, str) else cv2.CAP_ANY
        cap = cv2.VideoCapture(self.target, backend)
        try:
            if not cap.isOpened():
                raise SourceError("cannot be opened")
            got = False
            while not self._stop.is_set():
                ok, image = cap.read()
                if not ok or image is None:
                    if not got:
                        raise SourceError("no frame could be read")
                    return
                got = True
                self._publish(image, time.time())
        finally:
            cap.release()


def open_source(
    spec: str,
    start: float | None = None,
    fps: float | None = None,
    reconnect_s: float = RECONNECT_S,
) -> FrameSource:
    """A source for ``spec``: a video file, an image folder, a URL, or a camera device."""
    if spec.isdigit():
        return CaptureSource(int(spec), reconnect_s)
    lower = spec.lower()
    if lower.startswith(("http://", "https://")):
        from vision.sources_mjpeg import open_http

        return open_http(spec, reconnect_s)
    if lower.startswith(STREAM_SCHEMES):
        return CaptureSource(spec, reconnect_s)
    if spec.startswith("/dev/"):
        if not Path(spec).exists():
            raise SourceError(f"camera {spec}: no such device")
        return CaptureSource(spec, reconnect_s)
    path = Path(spec)
    if path.is_dir():
        return FolderSource(path, start, fps)
    if path.is_file():
        return VideoFileSource(path, start)
    raise SourceError(f"{spec}: no such file, folder, device or stream URL")
