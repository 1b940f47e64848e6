"""A minimal MAVLink 2 peer over TCP for link tests: it stands in for an autopilot (or
several, by system id) without any of the controller's code."""

from __future__ import annotations

import socket
import threading
import time

from pymavlink.dialects.v20 import ardupilotmega as mavlink


class _Writer:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def write(self, buf: bytes) -> None:
        self.sock.sendall(buf)


class Peer:
    """Listens on 127.0.0.1; after a client connects, sends a HEARTBEAT from each ``sysids``
    every ``period`` s and records everything it receives (``received``)."""

    def __init__(
        self, sysids=(1,), key: bytes | None = None, sign: bool = True, period=0.05,
        on_message=None,
    ):  # fmt: skip
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.port = self.server.getsockname()[1]
        self.sysids = sysids
        self.key, self.sign, self.period = key, sign, period
        self.received: list = []
        self.on_message = on_message  # called on the peer thread as on_message(peer, msg)
        self.rejected = 0
        self.base_mode, self.custom_mode = 81, 4  # what its HEARTBEATs say (81: disarmed)
        self._stop = threading.Event()
        self.conn: socket.socket | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"tcp:127.0.0.1:{self.port}"

    def _mav(self, sock: socket.socket, sysid: int) -> mavlink.MAVLink:
        mav = mavlink.MAVLink(_Writer(sock), srcSystem=sysid, srcComponent=1)
        mav.robust_parsing = True
        if self.key is not None:
            mav.signing.secret_key = self.key
            mav.signing.sign_outgoing = self.sign
            mav.signing.link_id = sysid
            mav.signing.timestamp = int((time.time() - 1420070400) * 1e5)
        return mav

    def _run(self) -> None:
        self.server.settimeout(5)
        try:
            conn, _ = self.server.accept()
        except OSError:
            return
        self.conn = conn
        conn.settimeout(self.period)
        mavs = {sysid: self._mav(conn, sysid) for sysid in self.sysids}
        parser = self._mav(conn, self.sysids[0])
        next_beat = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_beat:
                for mav in mavs.values():
                    try:
                        mav.heartbeat_send(
                            mavlink.MAV_TYPE_QUADROTOR,
                            mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA,
                            self.base_mode,
                            self.custom_mode,
                            3,
                        )
                    except OSError:
                        return
                next_beat = now + self.period
            try:
                data = conn.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            for msg in parser.parse_buffer(data) or []:
                if msg.get_type() == "BAD_DATA":
                    self.rejected += 1
                else:
                    self.received.append(msg)
                    if self.on_message is not None:
                        try:
                            self.on_message(self, msg)
                        except OSError:  # the ground station has gone
                            return

    def send(self, sysid: int, msg) -> None:
        self._mav(self.conn, sysid).send(msg)

    def drop_client(self) -> None:
        """Close the client connection (as a vehicle reboot or a radio loss would) and accept
        the next one."""
        self._stop.set()
        self.thread.join(2)
        if self.conn:
            self.conn.close()
        self._stop.clear()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self._stop.set()
        self.thread.join(2)
        if self.conn:
            self.conn.close()
        self.server.close()
