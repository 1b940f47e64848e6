"""A small HTTP MJPEG camera for tests: serves given frames (with X-Timestamp), then either
drops: the connection closes and the camera answers no more (HTTP 503). ``connections`` counts
the probe a reader makes before it streams."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np


class MjpegCamera:
    def __init__(
        self,
        frames: list[tuple[np.ndarray, float]],
        boundary: str = "cam",
        interval: float = 0.1,
        max_connections: int = 2,
    ) -> None:
        self.parts = [(cv2.imencode(".jpg", image)[1].tobytes(), t) for image, t in frames]
        self.boundary = boundary
        self.interval = interval
        self.max_connections = max_connections
        self.connections = 0
        camera = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                camera.connections += 1
                if camera.connections > camera.max_connections:  # dropped: it stays down
                    self.send_error(503)
                    return
                self.send_response(200)
                self.send_header(
                    "Content-Type", f'multipart/x-mixed-replace; boundary="{camera.boundary}"'
                )
                self.end_headers()
                for data, t in camera.parts:
                    self.wfile.write(
                        f"--{camera.boundary}\r\nContent-Type: image/jpeg\r\n"
                        f"Content-Length: {len(data)}\r\nX-Timestamp: {t:.6f}\r\n\r\n".encode()
                        + data
                        + b"\r\n"
                    )
                    self.wfile.flush()
                    time.sleep(camera.interval)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stream.mjpg"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> MjpegCamera:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
