"""Telemetry: the vehicle's state as its messages report it, and events when it changes.

ArduPilot sends nothing timestamped until asked; :meth:`Telemetry.request_streams` asks for the
messages used here at modest rates (in vehicle time, as SITL counts them)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from pymavlink import mavutil
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from patrol.geodesy import distance
from patrol.link import Message
from patrol.vehicle.channel import VehicleChannel

COPTER_MODES: dict[int, str] = dict(mavutil.mode_mapping_acm)
COPTER_MODE_NUMBERS: dict[str, int] = {name: number for number, name in COPTER_MODES.items()}

# EKF_STATUS_REPORT flags that must be set, and those that must not, for a healthy position.
EKF_REQUIRED = (
    mavlink.EKF_ATTITUDE
    | mavlink.EKF_VELOCITY_HORIZ
    | mavlink.EKF_VELOCITY_VERT
    | mavlink.EKF_POS_HORIZ_ABS
    | mavlink.EKF_POS_VERT_ABS
)
EKF_BAD = mavlink.EKF_CONST_POS_MODE | mavlink.EKF_UNINITIALIZED | mavlink.EKF_GPS_GLITCHING
PREARM_BIT = mavlink.MAV_SYS_STATUS_PREARM_CHECK

# Message -> Hz (vehicle time), set with MAV_CMD_SET_MESSAGE_INTERVAL: only what the checklist
# and the progress line use, so a slow radio (or a sped-up simulator) is not flooded.
DEFAULT_RATES = {
    mavlink.MAVLINK_MSG_ID_GLOBAL_POSITION_INT: 2.0,
    mavlink.MAVLINK_MSG_ID_SYS_STATUS: 1.0,
    mavlink.MAVLINK_MSG_ID_GPS_RAW_INT: 1.0,
    mavlink.MAVLINK_MSG_ID_MISSION_CURRENT: 1.0,
    mavlink.MAVLINK_MSG_ID_EKF_STATUS_REPORT: 1.0,
    mavlink.MAVLINK_MSG_ID_ATTITUDE: 1.0,
    mavlink.MAVLINK_MSG_ID_EXTENDED_SYS_STATE: 1.0,
}


def mode_name(custom_mode: int | None) -> str:
    if custom_mode is None:
        return "?"
    return COPTER_MODES.get(custom_mode, f"MODE{custom_mode}")


@dataclass(frozen=True)
class Event:
    """A change worth reporting: ``kind`` is mode, armed, statustext, reached, landed."""

    kind: str
    value: object
    text: str


@dataclass
class Position:
    lat: float
    lon: float
    alt_rel: float
    alt_amsl: float
    ground_speed: float
    heading: float
    climb_rate: float = 0.0  # m/s, up


@dataclass
class Home:
    lat: float
    lon: float
    alt_amsl: float


@dataclass
class State:
    """A snapshot of what the vehicle last reported; None where nothing was heard yet."""

    heartbeat_at: float | None = None  # time.monotonic()
    mode: int | None = None
    armed: bool = False
    system_status: int | None = None
    position: Position | None = None
    flown_m: float = 0.0  # summed over every position report while armed
    roll: float = 0.0
    pitch: float = 0.0
    yaw: float = 0.0
    voltage: float | None = None
    battery_remaining: int | None = None
    current: float | None = None
    gps_fix: int = 0
    hdop: float | None = None
    satellites: int | None = None
    ekf_flags: int | None = None
    home: Home | None = None
    mission_seq: int | None = None
    mission_total: int | None = None
    mission_state: int | None = None
    mission_current_at: float | None = None  # time.monotonic() of the last MISSION_CURRENT
    last_reached: int | None = None
    landed_state: int | None = None
    sensors_present: int = 0
    sensors_health: int = 0
    statustexts: deque[tuple[float, int, str]] = field(default_factory=lambda: deque(maxlen=200))

    @property
    def mode_name(self) -> str:
        return mode_name(self.mode)

    @property
    def ekf_healthy(self) -> bool:
        flags = self.ekf_flags
        return flags is not None and flags & EKF_REQUIRED == EKF_REQUIRED and not flags & EKF_BAD

    @property
    def prearm_ok(self) -> bool | None:
        """The SYS_STATUS pre-arm health bit, None when the vehicle does not report it."""
        if not self.sensors_present & PREARM_BIT:
            return None
        return bool(self.sensors_health & PREARM_BIT)

    @property
    def in_air(self) -> bool:
        if (
            self.landed_state is not None
            and self.landed_state != mavlink.MAV_LANDED_STATE_UNDEFINED
        ):
            return self.landed_state != mavlink.MAV_LANDED_STATE_ON_GROUND
        return self.armed and self.position is not None and self.position.alt_rel > 1.0


class Telemetry:
    """Keeps :class:`State` current from the vehicle's messages and publishes :class:`Event`."""

    def __init__(self, channel: VehicleChannel) -> None:
        self.channel = channel
        self._state = State()
        self._lock = threading.Lock()
        self._subscribers: list[Callable[[Event], None]] = []
        self._chunks: dict[int, list[str]] = {}
        self._boot_s: float | None = None
        self._beat_interval: float | None = None  # wall seconds between vehicle heartbeats
        self._heard: dict[int, float] = {}  # message id -> when it last arrived (monotonic)
        # vehicle seconds of the last silence: last timestamp before it, first after
        self.last_clock_gap: tuple[float, float] | None = None
        channel.add_listener(self._on_message)

    @property
    def state(self) -> State:
        return self._state

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``callback(event)`` on every change (on the link's reader thread)."""
        with self._lock:
            self._subscribers.append(callback)

        def remove() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return remove

    def _publish(self, event: Event) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            callback(event)

    def heartbeat_age(self) -> float | None:
        """Vehicle seconds since the last autopilot HEARTBEAT, None if never heard."""
        at = self._state.heartbeat_at
        if at is None:
            return None
        return self.channel.timebase.vehicle(time.monotonic() - at)

    def request_streams(self, rates: dict[int, float] | None = None, rounds: int = 6) -> bool:
        """Ask for the telemetry this controller uses (SET_MESSAGE_INTERVAL per message, as
        MAVSDK does; ArduPilot and the simulator both take it), and the home position. A request
        counts as taken when its message arrives (a COMMAND_ACK names no message, and either
        can be lost): those not heard within two of their intervals are asked for again, up to
        ``rounds`` times. True when every message was heard."""
        ch = self.channel
        command = mavlink.MAV_CMD_SET_MESSAGE_INTERVAL
        pending = dict(rates or DEFAULT_RATES)
        asked = time.monotonic()
        for _round in range(rounds):
            for msgid, hz in pending.items():
                ch.send(
                    mavlink.MAVLink_command_long_message(
                        ch.sysid, ch.compid, command, 0, msgid, 1e6 / hz, 0, 0, 0, 0, 0
                    )
                )
            wait = ch.rtt.timeout * 2 + ch.timebase.wall(2.0 / min(pending.values()))
            deadline = time.monotonic() + wait
            while True:
                pending = {m: hz for m, hz in pending.items() if self._heard.get(m, 0.0) < asked}
                if not pending or time.monotonic() >= deadline:
                    break
                time.sleep(min(0.05, wait / 10))
            if not pending:
                break
        self.request_home()
        return not pending

    def fetch_home(self, vehicle_seconds: float = 10.0) -> bool:
        """Ask for HOME_POSITION until it arrives (re-asking every vehicle second, so a lossy
        link does not pass for a vehicle without a home), for up to ``vehicle_seconds``."""
        for _ask in range(max(1, round(vehicle_seconds))):
            self.request_home()
            if self.wait(lambda s: s.home is not None, 1.0):
                return True
        return self._state.home is not None

    def request_home(self) -> None:
        ch = self.channel
        ch.send(
            mavlink.MAVLink_command_long_message(
                ch.sysid, ch.compid, mavlink.MAV_CMD_REQUEST_MESSAGE, 0,
                mavlink.MAVLINK_MSG_ID_HOME_POSITION, 0, 0, 0, 0, 0, 0,
            )
        )  # fmt: skip

    # -- the vehicle's own clock -------------------------------------------------------------
    def vehicle_time(self) -> float | None:
        """Seconds since the vehicle booted, from the last timestamped message (None before
        streams flow). A sped-up vehicle that falls behind its nominal speedup (a busy CPU)
        is timed by this clock, not by the nominal scale."""
        return self._boot_s

    def wait(self, condition: Callable[[State], bool], vehicle_seconds: float) -> bool:
        """Wait until ``condition(state)`` holds, for at most ``vehicle_seconds`` of the
        vehicle's time (its own clock when it reports one, else :meth:`TimeBase.patience`). A
        vehicle whose clock stops (silent, or a simulator starved of CPU) is given up after
        four times the nominal wall time, and never sooner than twice the patience."""
        tb = self.channel.timebase
        poll = min(0.05, tb.wall(0.2))
        began = time.monotonic()
        nominal = began + tb.patience(vehicle_seconds)
        hard = began + max(tb.wall(vehicle_seconds) * 4 + 1.0, 2 * tb.patience(vehicle_seconds))
        start = self.vehicle_time()
        while not condition(self._state):
            now = time.monotonic()
            clock = self.vehicle_time()
            if start is None and clock is not None:
                start = clock - tb.vehicle(now - began)
            if start is not None and clock is not None:
                if clock - start >= vehicle_seconds or now > hard:
                    return False
            elif now > nominal:
                return False
            time.sleep(poll)
        return True

    # -- message handling (reader thread) ---------------------------------------------------
    def _on_message(self, msg: Message) -> None:
        self._heard[msg.get_msgId()] = time.monotonic()
        boot_ms = getattr(msg, "time_boot_ms", None)
        if boot_ms is not None:
            boot_s = boot_ms / 1000.0
            if self._boot_s is not None and boot_s - self._boot_s > 2.0:
                self.last_clock_gap = (self._boot_s, boot_s)  # nothing heard in between
            self._boot_s = boot_s
        handler = getattr(self, f"_on_{msg.get_type().lower()}", None)
        if handler is not None:
            handler(msg)

    def link_silent(self, vehicle_seconds: float) -> bool:
        """No HEARTBEAT for ``vehicle_seconds`` (vehicle time), or for three of the heartbeat
        intervals actually seen, whichever is longer: a vehicle slower than its nominal
        speedup is not mistaken for a lost link."""
        at = self._state.heartbeat_at
        if at is None:
            return True
        limit = self.channel.timebase.wall(vehicle_seconds)
        if self._beat_interval is not None:
            limit = max(limit, 3 * self._beat_interval)
        return time.monotonic() - at > limit

    def _on_heartbeat(self, msg: Message) -> None:
        s = self._state
        now = time.monotonic()
        if s.heartbeat_at is not None:
            gap = now - s.heartbeat_at
            nominal = self.channel.timebase.wall(1.0)
            if gap < 2.5 * nominal:  # a regular beat, not the end of an outage
                self._beat_interval = (
                    gap if self._beat_interval is None else 0.9 * self._beat_interval + 0.1 * gap
                )
        s.heartbeat_at = now
        s.system_status = msg.system_status
        armed = bool(msg.base_mode & mavlink.MAV_MODE_FLAG_SAFETY_ARMED)
        if msg.custom_mode != s.mode:
            old, s.mode = s.mode, msg.custom_mode
            self._publish(
                Event("mode", msg.custom_mode, f"mode {mode_name(old)} -> {mode_name(s.mode)}")
            )
        if armed != s.armed:
            s.armed = armed
            self._publish(Event("armed", armed, "armed" if armed else "disarmed"))

    def _on_global_position_int(self, msg: Message) -> None:
        s = self._state
        last = s.position
        if last is not None and s.armed:
            s.flown_m += distance(last.lat, last.lon, msg.lat / 1e7, msg.lon / 1e7)
        s.position = Position(
            lat=msg.lat / 1e7,
            lon=msg.lon / 1e7,
            alt_rel=msg.relative_alt / 1000.0,
            alt_amsl=msg.alt / 1000.0,
            ground_speed=math.hypot(msg.vx, msg.vy) / 100.0,
            heading=msg.hdg / 100.0 if msg.hdg != 65535 else float("nan"),
            climb_rate=-msg.vz / 100.0,
        )

    def _on_attitude(self, msg: Message) -> None:
        s = self._state
        s.roll, s.pitch, s.yaw = msg.roll, msg.pitch, msg.yaw

    def _on_sys_status(self, msg: Message) -> None:
        s = self._state
        s.voltage = msg.voltage_battery / 1000.0 if msg.voltage_battery != 65535 else None
        s.battery_remaining = msg.battery_remaining if msg.battery_remaining >= 0 else None
        s.current = msg.current_battery / 100.0 if msg.current_battery >= 0 else None
        s.sensors_present = msg.onboard_control_sensors_present
        s.sensors_health = msg.onboard_control_sensors_health

    def _on_gps_raw_int(self, msg: Message) -> None:
        s = self._state
        s.gps_fix = msg.fix_type
        s.hdop = msg.eph / 100.0 if msg.eph != 65535 else None
        s.satellites = msg.satellites_visible if msg.satellites_visible != 255 else None

    def _on_ekf_status_report(self, msg: Message) -> None:
        self._state.ekf_flags = msg.flags

    def _on_home_position(self, msg: Message) -> None:
        self._state.home = Home(msg.latitude / 1e7, msg.longitude / 1e7, msg.altitude / 1000.0)

    def _on_mission_current(self, msg: Message) -> None:
        s = self._state
        s.mission_seq = msg.seq
        s.mission_total = msg.total
        s.mission_state = msg.mission_state
        s.mission_current_at = time.monotonic()

    def _on_mission_item_reached(self, msg: Message) -> None:
        self._state.last_reached = msg.seq
        self._publish(Event("reached", msg.seq, f"reached item {msg.seq}"))

    def _on_extended_sys_state(self, msg: Message) -> None:
        s = self._state
        if msg.landed_state != s.landed_state:
            s.landed_state = msg.landed_state
            name = mavlink.enums["MAV_LANDED_STATE"][msg.landed_state].name
            self._publish(Event("landed", msg.landed_state, name.removeprefix("MAV_LANDED_STATE_")))

    def _on_statustext(self, msg: Message) -> None:
        # MAVLink 2 splits long texts into chunks sharing a non-zero id
        text = msg.text if isinstance(msg.text, str) else msg.text.decode(errors="replace")
        text = text.rstrip("\x00")
        if msg.id:
            parts = self._chunks.setdefault(msg.id, [])
            parts.append(text)
            if len(text) == 50:
                return
            text = "".join(self._chunks.pop(msg.id))
        self._state.statustexts.append((time.monotonic(), msg.severity, text))
        self._publish(Event("statustext", msg.severity, text))

    def texts_since(self, since: float, prefixes: tuple[str, ...] = ()) -> list[str]:
        """STATUSTEXTs heard after ``since`` (monotonic), optionally only those with a prefix."""
        return [
            text
            for at, _sev, text in list(self._state.statustexts)
            if at >= since and (not prefixes or text.startswith(prefixes))
        ]
