"""Serving a simulated camera as a network camera does: HTTP Motion JPEG.

``GET /stream.mjpg`` is ``multipart/x-mixed-replace``; every part carries its frame's capture
time as ``X-Timestamp: <UTC unix seconds>`` (mjpg-streamer's header). ``GET /snapshot.jpg``
is the newest frame, ``GET /truth.json`` the scene's ground truth.

Frames are rendered ``fps`` times per simulated second while someone watches, as far as the
CPU allows (never more than ``max_wall_fps`` per wall second): a slow machine gets fewer
frames, each still stamped with its true time. A slow client skips frames, as with a real
camera.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2

from sim.camera import CameraRig

log = logging.getLogger(__name__)

BOUNDARY = "gridpatrolframe"


class CameraServer:
    def __init__(
        self,
        rig: CameraRig,
        host: str = "127.0.0.1",
        port: int = 0,
        speedup: Callable[[], float] = lambda: 1.0,
        max_wall_fps: float = 15.0,
    ) -> None:
        self.rig = rig
        self.speedup = speedup
        self.max_wall_fps = max_wall_fps
        self._cond = threading.Condition()
        self._frame: tuple[int, bytes, float] | None = None  # (sequence, JPEG, UTC time)
        self._clients = 0
        self._stop = threading.Event()
        self.frames_rendered = 0
        server = self
        self._http = ThreadingHTTPServer((host, port), self._handler(server))
        self._http.daemon_threads = True
        self.host, self.port = self._http.server_address[:2]
        self._threads = [
            threading.Thread(target=self._http.serve_forever, name="camera-http", daemon=True),
            threading.Thread(target=self._render_loop, name="camera-render", daemon=True),
        ]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/stream.mjpg"

    def start(self) -> CameraServer:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._http.shutdown()
        self._http.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    # -- frames ---------------------------------------------------------------------------
    def _render_loop(self) -> None:
        vehicle = self.rig.vehicle
        next_t = 0.0
        next_wall = 0.0
        while not self._stop.is_set():
            with self._cond:
                watching = self._clients > 0
            now_t = vehicle.sim_time
            wait = max((next_t - now_t) / max(self.speedup(), 1e-6), next_wall - time.monotonic())
            if not watching or wait > 0:
                self._stop.wait(min(max(wait, 0.005), 0.1) if watching else 0.1)
                continue
            try:
                t = max(now_t - 0.05, 0.0)  # a pose is recorded every 0.1 s: stay inside them
                image, utc = self.rig.frame_at(t)
            except ValueError:  # no pose for that time yet (just booted)
                self._stop.wait(0.05)
                continue
            ok, data = cv2.imencode(
                ".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.rig.spec.quality]
            )
            if not ok:
                continue
            with self._cond:
                seq = self._frame[0] + 1 if self._frame else 0
                self._frame = (seq, data.tobytes(), utc)
                self._cond.notify_all()
            self.frames_rendered += 1
            next_t = t + 1.0 / self.rig.spec.fps
            next_wall = time.monotonic() + 1.0 / self.max_wall_fps

    def _next_frame(self, after: int) -> tuple[int, bytes, float] | None:
        with self._cond:
            while not self._stop.is_set() and (self._frame is None or self._frame[0] <= after):
                self._cond.wait(0.5)
            return None if self._stop.is_set() else self._frame

    # -- HTTP -----------------------------------------------------------------------------
    def _handler(self, server: CameraServer) -> type[BaseHTTPRequestHandler]:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, fmt: str, *args) -> None:  # quiet: a camera, not a web site
                log.debug("camera http: " + fmt, *args)

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path == "/stream.mjpg":
                    self._stream()
                elif path == "/snapshot.jpg":
                    self._snapshot()
                elif path == "/truth.json":
                    body = json.dumps(server.rig.world.scene.truth()).encode()
                    self._reply(200, "application/json", body)
                else:
                    self._reply(404, "text/plain", b"not found\n")

            def _reply(self, code: int, kind: str, body: bytes, extra: dict | None = None):
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (extra or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def _snapshot(self) -> None:
                with server._cond:
                    server._clients += 1
                try:
                    frame = server._next_frame(-1)
                finally:
                    with server._cond:
                        server._clients -= 1
                if frame is None:
                    self._reply(503, "text/plain", b"no frame\n")
                    return
                self._reply(200, "image/jpeg", frame[1], {"X-Timestamp": f"{frame[2]:.6f}"})

            def _stream(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                with server._cond:
                    server._clients += 1
                last = -1
                try:
                    while True:
                        frame = server._next_frame(last)
                        if frame is None:
                            return
                        last, data, utc = frame
                        head = (
                            f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                            f"Content-Length: {len(data)}\r\nX-Timestamp: {utc:.6f}\r\n\r\n"
                        )
                        self.wfile.write(head.encode() + data + b"\r\n")
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    return
                finally:
                    with server._cond:
                        server._clients -= 1

        return Handler
