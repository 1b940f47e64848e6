"""HTTP streams: Motion JPEG (``multipart/x-mixed-replace``) read part by part, so each part's
headers can give the frame's capture time (``X-Timestamp: <unix seconds>``, as mjpg-streamer
and the simulated camera send). Any other HTTP stream is left to OpenCV's FFmpeg backend."""

from __future__ import annotations

import http.client
import logging
import time
import urllib.parse
from email.message import Message

import cv2
import numpy as np

from vision.sources import RECONNECT_S, CaptureSource, FrameSource, LiveSource, SourceError

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 5.0
MAX_PART_BYTES = 32 * 1024 * 1024
MAX_HEADER_LINES = 64


def _connect(url: str) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    parts = urllib.parse.urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = cls(parts.hostname or "", parts.port, timeout=READ_TIMEOUT_S)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        conn.request("GET", path, headers={"Accept": "multipart/x-mixed-replace, */*"})
        resp = conn.getresponse()
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        raise SourceError(f"cannot connect ({exc})") from None
    if resp.status != 200:
        conn.close()
        raise SourceError(f"HTTP {resp.status} {resp.reason}")
    return conn, resp


def _boundary(content_type: str) -> str | None:
    msg = Message()
    msg["content-type"] = content_type
    if msg.get_content_type() != "multipart/x-mixed-replace":
        return None
    boundary = msg.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise SourceError(f"multipart stream without a boundary ({content_type!r})")
    return boundary.removeprefix("--")


class MjpegSource(LiveSource):
    def __init__(self, url: str, reconnect_s: float = RECONNECT_S) -> None:
        super().__init__(url, reconnect_s)
        self.url = url
        self.bad_parts = 0
        self._start()

    def _read(self) -> None:
        conn, resp = _connect(self.url)
        try:
            boundary = _boundary(resp.getheader("Content-Type", ""))
            if boundary is None:
                raise SourceError("not a multipart/x-mixed-replace stream any more")
            marker = b"--" + boundary.encode()
            while not self._stop.is_set():
                part = self._part(resp, marker)
                if part is None:
                    return
                headers, data = part
                image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
                if image is None:
                    self.bad_parts += 1
                    continue
                stamp = headers.get("x-timestamp")
                try:
                    t = float(stamp) if stamp else time.time()
                except ValueError:
                    t = time.time()
                self._publish(image, t)
        except (TimeoutError, http.client.HTTPException) as exc:
            raise SourceError(f"read failed ({exc or type(exc).__name__})") from None
        finally:
            conn.close()

    @staticmethod
    def _part(resp: http.client.HTTPResponse, marker: bytes) -> tuple[dict, bytes] | None:
        """The next part's headers (lower-case names) and body; None at the end."""
        while True:  # skip to the boundary line
            line = resp.readline(1024)
            if not line:
                return None
            if line.strip().startswith(marker):
                if line.strip() == marker + b"--":
                    return None
                break
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADER_LINES):
            line = resp.readline(4096)
            if not line:
                return None
            line = line.strip()
            if not line:
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) <= MAX_PART_BYTES:
            data = resp.read(int(length))
            return (headers, data) if len(data) == int(length) else None
        # no length: the body runs to the next boundary
        body = bytearray()
        while len(body) <= MAX_PART_BYTES:
            line = resp.readline(65536)
            if not line:
                return None
            if line.strip().startswith(marker):
                return headers, bytes(body).rstrip(b"\r\n")
            body += line
        raise SourceError(f"a part over {MAX_PART_BYTES} bytes")


def open_http(url: str, reconnect_s: float = RECONNECT_S) -> FrameSource:
    """An MJPEG reader for multipart streams, OpenCV's FFmpeg for anything else."""
    try:
        conn, resp = _connect(url)
    except SourceError as exc:
        raise SourceError(f"stream {url}: {exc}") from None
    try:
        boundary = _boundary(resp.getheader("Content-Type", ""))
    except SourceError as exc:
        raise SourceError(f"stream {url}: {exc}") from None
    finally:
        conn.close()
    if boundary is not None:
        return MjpegSource(url, reconnect_s)
    return CaptureSource(url, reconnect_s)
