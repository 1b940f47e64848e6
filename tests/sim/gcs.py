"""A minimal scripted ground station for the simulator tests: raw TCP + pymavlink parser.

With ``fleet=`` a fleet that was not started, it runs in lock-step: whenever it waits it
advances the fleet itself, all timeouts are simulated seconds, and it sends its own 1 Hz
HEARTBEAT when asked to. Tests are then deterministic whatever the machine's load."""

from __future__ import annotations

import socket
import threading
import time

from pymavlink.dialects.v20 import ardupilotmega as mavlink


class _SocketFile:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self.lock:
            self.sock.sendall(data)


class Gcs:
    """Talks to one simulated vehicle; keeps everything it received in ``self.log``."""

    def __init__(
        self,
        port: int,
        sysid: int = 255,
        compid: int = 190,
        key: bytes | None = None,
        fleet=None,
    ):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.lockstep = fleet if fleet is not None and fleet._thread is None else None
        if self.lockstep is not None:
            self.sock.setblocking(False)
        else:
            self.sock.settimeout(0.05)
        self.mav = mavlink.MAVLink(_SocketFile(self.sock), srcSystem=sysid, srcComponent=compid)
        self.mav.robust_parsing = True
        if key is not None:
            self.mav.signing.secret_key = key
            self.mav.signing.sign_outgoing = True
            self.mav.signing.link_id = 1
            self.mav.signing.timestamp = int((time.time() - 1420070400) * 1e5)
        self.log: list = []
        self._pos = 0
        self.target = 1
        self.heartbeats = False  # lock-step: send a GCS HEARTBEAT every simulated second
        self._next_beat = 0.0

    def close(self) -> None:
        self.sock.close()

    # -- time -------------------------------------------------------------------------------
    def now(self) -> float:
        return self.lockstep.sim_time if self.lockstep else time.monotonic()

    def _idle(self) -> None:
        """Let time pass: one simulation step in lock-step, else a blocking read."""
        if self.lockstep is None:
            self.pump()
            return
        fleet = self.lockstep
        if self.heartbeats and fleet.sim_time >= self._next_beat:
            self._next_beat = fleet.sim_time + 1.0
            self.heartbeat()
        fleet.advance(fleet.dt)
        self.pump_all()

    def wait_for(self, predicate, timeout: float):
        """Wait (simulated seconds in lock-step) until ``predicate()``; TimeoutError if not."""
        deadline = self.now() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if self.now() > deadline:
                raise TimeoutError(f"condition not met within {timeout} s")
            self._idle()

    # -- input ------------------------------------------------------------------------------
    def send(self, msg) -> None:
        self.mav.send(msg)

    def pump(self) -> None:
        try:
            data = self.sock.recv(65536)
        except (TimeoutError, BlockingIOError):
            return
        if not data:
            raise ConnectionError("vehicle closed the connection")
        for msg in self.mav.parse_buffer(data) or []:
            if msg.get_type() != "BAD_DATA":
                self.log.append(msg)

    def pump_all(self) -> None:
        """Read everything already delivered."""
        before = -1
        while before != len(self.log):
            before = len(self.log)
            self.pump()

    def recv(self, types, timeout: float = 5.0, cond=None):
        """The next not-yet-consumed message of ``types`` (matching ``cond``) or None."""
        if isinstance(types, str):
            types = (types,)
        deadline = self.now() + timeout
        while True:
            for i in range(self._pos, len(self.log)):
                msg = self.log[i]
                if msg.get_type() in types and (cond is None or cond(msg)):
                    self._pos = i + 1
                    return msg
            if self.now() > deadline:
                return None
            self._idle()

    def drain(self) -> None:
        """Forget everything received so far."""
        self.pump_all()
        self._pos = len(self.log)

    def collect(self, seconds: float) -> list:
        start = len(self.log)
        deadline = self.now() + seconds
        while self.now() < deadline:
            self._idle()
        self._pos = len(self.log)
        return self.log[start:]

    def texts_since(self, index: int) -> list[str]:
        return [m.text for m in self.log[index:] if m.get_type() == "STATUSTEXT"]

    def saw_text(self, text: str, since: int = 0, timeout: float = 2.0) -> bool:
        """Whether STATUSTEXT ``text`` arrived after log index ``since`` (waits for it)."""
        deadline = self.now() + timeout
        while True:
            if text in self.texts_since(since):
                return True
            if self.now() > deadline:
                return False
            self._idle()

    # -- output -------------------------------------------------------------------------------
    def heartbeat(self) -> None:
        self.send(mavlink.MAVLink_heartbeat_message(6, 8, 0, 0, 0, 3))

    def command(self, command: int, *params: float, timeout: float = 5.0):
        p = list(params) + [0.0] * (7 - len(params))
        self.send(mavlink.MAVLink_command_long_message(self.target, 1, command, 0, *p))
        return self.recv("COMMAND_ACK", timeout, lambda m: m.command == command)

    def command_int(self, command: int, frame: int, p1=0.0, p2=0.0, p3=0.0, p4=0.0,
                    x=0, y=0, z=0.0, timeout: float = 5.0):  # fmt: skip
        self.send(
            mavlink.MAVLink_command_int_message(
                self.target, 1, frame, command, 0, 0, p1, p2, p3, p4, x, y, z
            )
        )
        return self.recv("COMMAND_ACK", timeout, lambda m: m.command == command)

    def set_param(self, name: str, value: float):
        self.send(mavlink.MAVLink_param_set_message(self.target, 1, name.encode(), value, 9))
        return self.recv("PARAM_VALUE", 5, lambda m: m.param_id.upper() == name.upper())

    def request_streams(self, rate: int = 4) -> None:
        self.send(mavlink.MAVLink_request_data_stream_message(self.target, 1, 0, rate, 1))

    def upload(self, items: list[mavlink.MAVLink_mission_item_int_message], mission_type=0):
        """Upload as a GCS does: answer each MISSION_REQUEST(_INT); returns the MISSION_ACK."""
        self.send(mavlink.MAVLink_mission_count_message(self.target, 1, len(items), mission_type))
        types = ("MISSION_REQUEST", "MISSION_REQUEST_INT", "MISSION_ACK")
        while True:
            msg = self.recv(types, 5, lambda m: m.mission_type == mission_type)
            if msg is None or msg.get_type() == "MISSION_ACK":
                return msg
            self.send(items[msg.seq])

    def download(self, mission_type=0) -> list:
        self.send(mavlink.MAVLink_mission_request_list_message(self.target, 1, mission_type))
        count = self.recv("MISSION_COUNT", 5, lambda m: m.mission_type == mission_type).count
        items = []
        for seq in range(count):
            self.send(
                mavlink.MAVLink_mission_request_int_message(self.target, 1, seq, mission_type)
            )
            items.append(self.recv("MISSION_ITEM_INT", 5, lambda m, s=seq: m.seq == s))
        self.send(mavlink.MAVLink_mission_ack_message(self.target, 1, 0, mission_type))
        return items


def item(seq, command, lat=0.0, lon=0.0, alt=0.0, p1=0.0, p2=0.0, p3=0.0, p4=0.0,
         frame=mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, mission_type=0, target=1):  # fmt: skip
    return mavlink.MAVLink_mission_item_int_message(
        target, 1, seq, frame, command, 0, 1, p1, p2, p3, p4,
        round(lat * 1e7), round(lon * 1e7), alt, mission_type,
    )  # fmt: skip
