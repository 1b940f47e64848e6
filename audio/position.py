"""The aircraft's own position, read by the agent over its own MAVLink connection.

On an aircraft the agent sits on a companion computer wired to TELEM2; against SITL or the
built-in simulator it is the SERIAL1 TCP port (5762). It never depends on the ground station:
it sends its own companion HEARTBEAT and asks the autopilot itself for GLOBAL_POSITION_INT.

On an aircraft that signs its MAVLink (a key put on it with SETUP_SIGNING), a telemetry port
ignores unsigned requests: the agent then needs the key too. It signs with a link id of its own
(``AGENT_LINK_ID``), so its signing stream never collides with the ground station's."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

COMPANION_COMPONENT_ID = 191  # MAV_COMP_ID_ONBOARD_COMPUTER
AGENT_LINK_ID = 1  # MAVLink 2 signing link id of the agent's own link
PARAM_RETRY_S = 0.25  # wall seconds between PARAM_REQUEST_READ while a read is pending
POSITION_RATE_HZ = 4.0
REQUEST_RETRY_S = 3.0  # wall seconds between stream requests while no position arrives
SYSTEM_TIME_INTERVAL_US = 1_000_000
# ArduPilot sends time_unix_usec 0 until its GPS knows the time; anything before this is unset
EARLIEST_GPS_TIME_S = 1_577_836_800  # 2020-01-01


@dataclass(frozen=True)
class Position:
    lat: float  # degrees
    lon: float  # degrees
    alt_m: float  # metres above home
    time_boot_ms: int  # the autopilot's clock: a new value means a new fix


class PositionSource(Protocol):
    def latest(self) -> Position | None: ...

    def close(self) -> None: ...


class MavlinkPositionSource:
    """Reads GLOBAL_POSITION_INT from the autopilot on ``url`` (pymavlink connection string,
    e.g. ``tcp:127.0.0.1:5762`` or ``/dev/ttyAMA0,921600``) in a background thread."""

    def __init__(
        self,
        url: str,
        system_id: int = 1,
        rate_hz: float = POSITION_RATE_HZ,
        signing_key: bytes | None = None,
    ) -> None:
        from pymavlink import mavutil
        from pymavlink.dialects.v20 import ardupilotmega as mavlink2

        self._mavutil = mavutil
        self._conn = mavutil.mavlink_connection(
            url,
            source_system=system_id,  # a companion shares its aircraft's system id
            source_component=COMPANION_COMPONENT_ID,
            autoreconnect=True,
            dialect="ardupilotmega",
        )
        # MAVLink 2 from the first byte: mavutil switches only after hearing it, and its switch
        # replaces the MAVLink object, losing the signing set up here
        self._conn.mav = mavlink2.MAVLink(
            self._conn, srcSystem=system_id, srcComponent=COMPANION_COMPONENT_ID
        )
        self._conn.mav.robust_parsing = True
        self._conn.WIRE_PROTOCOL_VERSION = "2.0"
        self._conn.first_byte = False
        self.signing = signing_key is not None
        if signing_key is not None:
            self._conn.setup_signing(signing_key, sign_outgoing=True, link_id=AGENT_LINK_ID)
        self.signed_unreadable = False  # the aircraft signs, and we have no key
        self._params: dict[str, float | None] = {}  # pending reads (None) and answers
        self._param_answered = threading.Condition()
        self._rate_hz = rate_hz
        self._latest: Position | None = None
        self._gps_time: tuple[float, float] | None = None
        self._target: tuple[int, int] | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="mavlink-position", daemon=True)
        self._thread.start()

    def latest(self) -> Position | None:
        with self._lock:
            return self._latest

    def aircraft_time(self) -> tuple[float, float] | None:
        """The autopilot's GPS time (UTC unix seconds) and the ``time.monotonic()`` at which it
        arrived, from its last SYSTEM_TIME; None until the GPS knows the time."""
        with self._lock:
            return self._gps_time

    @property
    def autopilot(self) -> tuple[int, int] | None:
        """(system id, component id) of the autopilot once its heartbeat was seen."""
        return self._target

    def read_param(self, name: str, wait: float) -> float | None:
        """Parameter ``name`` of the autopilot, asked for until it answers or ``wait`` wall
        seconds pass (None: unknown to it, e.g. SIM_SPEEDUP on a real aircraft, or no autopilot
        heard)."""
        name = name.upper()
        end = time.monotonic() + wait
        with self._param_answered:
            self._params.setdefault(name, None)
            while self._params[name] is None and (left := end - time.monotonic()) > 0:
                self._param_answered.wait(left)
            value = self._params.pop(name)
        return value

    def wait_autopilot(self, wait: float) -> bool:
        """Wait up to ``wait`` wall seconds for the autopilot's HEARTBEAT."""
        end = time.monotonic() + wait
        while self._target is None and time.monotonic() < end:
            time.sleep(0.05)
        return self._target is not None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._conn.close()

    def _run(self) -> None:
        mavlink = self._mavutil.mavlink
        next_heartbeat = 0.0
        next_request = 0.0
        next_param = 0.0
        last_position = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            try:
                if now >= next_heartbeat:
                    self._conn.mav.heartbeat_send(
                        mavlink.MAV_TYPE_ONBOARD_CONTROLLER, mavlink.MAV_AUTOPILOT_INVALID, 0, 0,
                        mavlink.MAV_STATE_ACTIVE,
                    )  # fmt: skip
                    next_heartbeat = now + 1.0
                stale = now - last_position > REQUEST_RETRY_S
                if self._target and stale and now >= next_request:
                    self._request_position()
                    next_request = now + REQUEST_RETRY_S
                if self._target and now >= next_param:
                    self._request_params()
                    next_param = now + PARAM_RETRY_S
                msg = self._conn.recv_match(
                    type=["HEARTBEAT", "GLOBAL_POSITION_INT", "SYSTEM_TIME", "PARAM_VALUE"],
                    blocking=True,
                    timeout=0.2,
                )
            except (OSError, ConnectionError) as exc:  # autoreconnect handles TCP; keep trying
                log.warning("MAVLink link error: %s", exc)
                time.sleep(0.5)
                continue
            if msg is None:
                continue
            src = (msg.get_srcSystem(), msg.get_srcComponent())
            if msg.get_type() == "HEARTBEAT":
                if self._target is None and msg.autopilot != mavlink.MAV_AUTOPILOT_INVALID:
                    self._target = src
                    self._conn.mav.srcSystem = src[0]
                    next_request = next_param = 0.0
                    self._check_signing(msg)
            elif self._target is not None and src != self._target:
                continue
            elif msg.get_type() == "PARAM_VALUE":
                self._param_value(msg)
            elif msg.get_type() == "SYSTEM_TIME":
                if msg.time_unix_usec / 1e6 >= EARLIEST_GPS_TIME_S:
                    with self._lock:
                        self._gps_time = (msg.time_unix_usec / 1e6, time.monotonic())
            else:
                with self._lock:
                    self._latest = Position(
                        msg.lat / 1e7, msg.lon / 1e7, msg.relative_alt / 1000.0, msg.time_boot_ms
                    )
                last_position = time.monotonic()

    def _check_signing(self, heartbeat) -> None:
        raw = heartbeat.get_msgbuf()
        if not self.signing and len(raw) > 2 and raw[0] == 0xFD and raw[2] & 1:
            self.signed_unreadable = True
            log.warning(
                "the aircraft signs its MAVLink and this agent has no key: its requests for the "
                "position are ignored on a telemetry port; give it --signing-key-file"
            )

    def _request_params(self) -> None:
        with self._param_answered:
            pending = [name for name, value in self._params.items() if value is None]
        sysid, compid = self._target or (1, 1)
        for name in pending:
            self._conn.mav.param_request_read_send(sysid, compid, name.encode(), -1)

    def _param_value(self, msg) -> None:
        name = (
            msg.param_id
            if isinstance(msg.param_id, str)
            else msg.param_id.decode("ascii", "replace")
        )
        name = name.rstrip("\x00").upper()
        with self._param_answered:
            if name in self._params:
                self._params[name] = float(msg.param_value)
                self._param_answered.notify_all()

    def _request_position(self) -> None:
        """Ask for GLOBAL_POSITION_INT both ways: MAV_CMD_SET_MESSAGE_INTERVAL and the older
        REQUEST_DATA_STREAM (POSITION group), which ArduPilot both honours; and SYSTEM_TIME at
        1 Hz for the time of day."""
        mavlink = self._mavutil.mavlink
        sysid, compid = self._target or (1, 1)
        self._conn.mav.command_long_send(
            sysid, compid, mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, 0,
            mavlink.MAVLINK_MSG_ID_GLOBAL_POSITION_INT, 1e6 / self._rate_hz, 0, 0, 0, 0, 0,
        )  # fmt: skip
        self._conn.mav.command_long_send(
            sysid, compid, mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, 0,
            mavlink.MAVLINK_MSG_ID_SYSTEM_TIME, SYSTEM_TIME_INTERVAL_US, 0, 0, 0, 0, 0,
        )  # fmt: skip
        self._conn.mav.request_data_stream_send(
            sysid, compid, mavlink.MAV_DATA_STREAM_POSITION, round(self._rate_hz), 1
        )
