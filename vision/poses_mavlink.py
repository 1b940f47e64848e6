"""Poses from MAVLink: a .tlog, or a live link to the aircraft (its SERIAL2 / companion port,
or a ground link that others share, e.g. a UDP broadcast).

Timestamps: ATTITUDE, GLOBAL_POSITION_INT and GIMBAL_DEVICE_ATTITUDE_STATUS carry the
autopilot's ``time_boot_ms``; SYSTEM_TIME pairs that clock with the GPS's UTC, which is what a
camera stamps its frames with. Without a SYSTEM_TIME that knows the time (no GPS time yet),
messages fall back on when they were received: the .tlog's own timestamps, or this computer's
clock for a live link (reported by ``clock``).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from pathlib import Path

from pymavlink import mavutil
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from vision.poses import Pose, PoseError, PoseTrack

log = logging.getLogger(__name__)

EARLIEST_GPS_TIME_S = 1_577_836_800  # 2020-01-01: ArduPilot sends 0 until its GPS has the time
MAX_BUFFERED = 5000  # messages held while waiting for the first SYSTEM_TIME
CAMERA_COMPONENT_ID = mavlink.MAV_COMP_ID_CAMERA
REQUEST_RETRY_S = 3.0
RATES_HZ = {
    mavlink.MAVLINK_MSG_ID_ATTITUDE: 20.0,
    mavlink.MAVLINK_MSG_ID_GLOBAL_POSITION_INT: 10.0,
    mavlink.MAVLINK_MSG_ID_SYSTEM_TIME: 1.0,
    mavlink.MAVLINK_MSG_ID_GIMBAL_DEVICE_ATTITUDE_STATUS: 10.0,
    mavlink.MAVLINK_MSG_ID_MOUNT_STATUS: 10.0,
}
POSE_TYPES = [
    "HEARTBEAT",
    "SYSTEM_TIME",
    "ATTITUDE",
    "GLOBAL_POSITION_INT",
    "GIMBAL_DEVICE_ATTITUDE_STATUS",
    "MOUNT_STATUS",
]


def quaternion_euler(w: float, x: float, y: float, z: float) -> tuple[float, float, float]:
    """ZYX Euler angles (roll, pitch, yaw) of a unit quaternion, as ArduPilot's Quaternion."""
    roll = math.atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y))
    pitch = math.asin(max(-1.0, min(1.0, 2 * (w * y - z * x))))
    yaw = math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
    return roll, pitch, yaw


class MavlinkPoses:
    """Turns one aircraft's MAVLink messages into PoseTrack samples on the UTC time line.
    ``feed`` every message with the time it was received (UTC unix seconds)."""

    def __init__(self, track: PoseTrack, sysid: int | None = None) -> None:
        self.track = track
        self.sysid = sysid
        self.compid: int | None = None
        self.offset: float | None = None  # UTC - boot seconds, from SYSTEM_TIME
        self.clock = "waiting"  # "gps" (SYSTEM_TIME), "receive" (fallback)
        self._buffer: list[tuple[object, float]] = []
        self._last_boot_s: float | None = None
        self.counts: dict[str, int] = {}

    def use_receive_time(self) -> None:
        """No SYSTEM_TIME with a GPS time: place what was held, and what follows, at the time
        it was received."""
        if self.clock == "waiting":
            self.clock = "receive"
            held, self._buffer = self._buffer, []
            for msg, received in held:
                self._sample(msg, received)

    def feed(self, msg, received: float) -> None:
        kind = msg.get_type()
        src = (msg.get_srcSystem(), msg.get_srcComponent())
        if kind == "HEARTBEAT":
            if (
                self.compid is None
                and msg.autopilot != mavlink.MAV_AUTOPILOT_INVALID
                and (self.sysid is None or self.sysid == src[0])
            ):
                self.sysid, self.compid = src
            return
        if self.sysid is None or src[0] != self.sysid:
            return
        if kind in ("ATTITUDE", "GLOBAL_POSITION_INT", "SYSTEM_TIME") and (
            self.compid is not None and src[1] != self.compid
        ):
            return
        if kind == "SYSTEM_TIME":
            self._system_time(msg)
            return
        if kind not in POSE_TYPES:
            return
        boot_s = getattr(msg, "time_boot_ms", None)
        if boot_s is not None:
            boot_s /= 1000.0
            if self._last_boot_s is not None and boot_s + 5.0 < self._last_boot_s:
                # the autopilot rebooted: its boot clock restarted, the old offset is wrong
                log.info("autopilot clock went back %.1f s: waiting for SYSTEM_TIME", boot_s)
                if self.clock == "gps":
                    self.clock, self.offset = "waiting", None
            self._last_boot_s = boot_s
        if self.clock == "waiting":
            if len(self._buffer) < MAX_BUFFERED:
                self._buffer.append((msg, received))
            return
        self._sample(msg, received)

    def _system_time(self, msg) -> None:
        if msg.time_unix_usec / 1e6 < EARLIEST_GPS_TIME_S:
            return
        self.offset = msg.time_unix_usec / 1e6 - msg.time_boot_ms / 1000.0
        if self.clock == "waiting":
            self.clock = "gps"
            held, self._buffer = self._buffer, []
            for held_msg, received in held:
                self._sample(held_msg, received)

    def _time(self, msg, received: float) -> float:
        boot_ms = getattr(msg, "time_boot_ms", None)
        if self.clock == "gps":
            if boot_ms is None:  # MOUNT_STATUS has no time of its own
                return self._last_boot_s + self.offset if self._last_boot_s else received
            return boot_ms / 1000.0 + self.offset
        return received

    def _sample(self, msg, received: float) -> None:
        t = self._time(msg, received)
        kind = msg.get_type()
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if kind == "ATTITUDE":
            self.track.add_attitude(t, msg.roll, msg.pitch, msg.yaw)
        elif kind == "GLOBAL_POSITION_INT":
            self.track.add_position(
                t,
                msg.lat / 1e7,
                msg.lon / 1e7,
                msg.alt / 1000.0,
                msg.relative_alt / 1000.0,
                msg.vx / 100.0,
                msg.vy / 100.0,
            )
        elif kind == "MOUNT_STATUS":
            # pointing_a pitch, pointing_b roll (earth frame), pointing_c yaw (body), cdeg
            self.track.add_gimbal(
                t,
                *(
                    math.radians(v / 100.0)
                    for v in (msg.pointing_b, msg.pointing_a, msg.pointing_c)
                ),
            )
        elif kind == "GIMBAL_DEVICE_ATTITUDE_STATUS":
            q = list(msg.q)
            if any(math.isnan(v) for v in q):
                return
            roll, pitch, yaw = quaternion_euler(*q)
            flags = msg.flags
            earth = bool(flags & mavlink.GIMBAL_DEVICE_FLAGS_YAW_IN_EARTH_FRAME) or (
                bool(flags & mavlink.GIMBAL_DEVICE_FLAGS_YAW_LOCK)
                and not flags & mavlink.GIMBAL_DEVICE_FLAGS_YAW_IN_VEHICLE_FRAME
            )
            if earth:  # make it relative to the nose, as the track keeps it
                try:
                    yaw -= self.track.attitude_yaw_at(t)
                except PoseError:
                    return
            self.track.add_gimbal(t, roll, pitch, yaw)


def read_tlog(path: Path | str, sysid: int | None = None, max_gap: float = 1.0) -> PoseTrack:
    """The poses in a .tlog; PoseError when it cannot be read or holds no pose."""
    path = Path(path)
    if not path.is_file():
        raise PoseError(f"tlog {path}: no such file")
    track = PoseTrack(max_gap=max_gap)
    poses = MavlinkPoses(track, sysid)
    try:
        conn = mavutil.mavlink_connection(str(path), dialect="ardupilotmega", robust_parsing=True)
    except (OSError, ValueError) as exc:
        raise PoseError(f"tlog {path}: cannot read it ({exc})") from None
    try:
        while True:
            msg = conn.recv_match(type=POSE_TYPES)
            if msg is None:
                break
            poses.feed(msg, float(getattr(msg, "_timestamp", 0.0)))
    except Exception as exc:  # pymavlink raises bare errors on damaged files
        raise PoseError(f"tlog {path}: unreadable ({type(exc).__name__}: {exc})") from None
    finally:
        conn.close()
    poses.use_receive_time()
    if track.span is None:
        raise PoseError(
            f"tlog {path}: no ATTITUDE and GLOBAL_POSITION_INT from an autopilot"
            + (f" with system id {sysid}" if sysid else "")
        )
    if poses.clock == "receive":
        log.warning("tlog %s has no SYSTEM_TIME with GPS time: using its own timestamps", path)
    track.clock = poses.clock
    return track


class LivePoses:
    """Reads poses from a live MAVLink link in a background thread. It announces itself as a
    camera component and asks the autopilot for the messages it needs (SET_MESSAGE_INTERVAL,
    and the older REQUEST_DATA_STREAM that ArduPilot also honours)."""

    def __init__(
        self,
        url: str,
        sysid: int | None = None,
        max_gap: float = 1.0,
        clock_wait_s: float = 10.0,
    ) -> None:
        self.url = url
        self.track = PoseTrack(max_gap=max_gap)
        self.poses = MavlinkPoses(self.track, sysid)
        self.clock_wait_s = clock_wait_s
        self.last_message = 0.0  # time.monotonic() of the aircraft's last ATTITUDE
        try:
            self._conn = mavutil.mavlink_connection(
                url,
                source_system=sysid or 1,
                source_component=CAMERA_COMPONENT_ID,
                autoreconnect=True,
                dialect="ardupilotmega",
            )
        except (OSError, ValueError) as exc:
            raise PoseError(f"MAVLink {url}: cannot connect ({exc})") from None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vision-poses", daemon=True)
        self._thread.start()

    @property
    def clock(self) -> str:
        return self.poses.clock

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._conn.close()

    def pose_at(self, t: float, wait_s: float = 1.0) -> Pose:
        """The pose at UTC ``t``, waiting up to ``wait_s`` wall seconds for the samples after
        it to arrive (a frame can reach us before the telemetry of its moment)."""
        deadline = time.monotonic() + wait_s
        while True:
            latest = self.track.latest()
            if (latest is not None and latest >= t) or time.monotonic() >= deadline:
                return self.track.at(t)
            time.sleep(0.01)

    def _run(self) -> None:
        started = time.monotonic()
        next_heartbeat = next_request = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            try:
                if now >= next_heartbeat:
                    self._conn.mav.heartbeat_send(
                        mavlink.MAV_TYPE_CAMERA,
                        mavlink.MAV_AUTOPILOT_INVALID,
                        0,
                        0,
                        mavlink.MAV_STATE_ACTIVE,
                    )
                    next_heartbeat = now + 1.0
                stale = now - self.last_message > REQUEST_RETRY_S
                if self.poses.sysid is not None and stale and now >= next_request:
                    self._request()
                    next_request = now + REQUEST_RETRY_S
                msg = self._conn.recv_match(type=POSE_TYPES, blocking=True, timeout=0.2)
            except (OSError, ConnectionError) as exc:
                log.warning("MAVLink %s: %s", self.url, exc)
                time.sleep(0.5)
                continue
            if self.poses.clock == "waiting" and now - started > self.clock_wait_s:
                log.warning(
                    "no SYSTEM_TIME with GPS time on %s: using this computer's clock", self.url
                )
                self.poses.use_receive_time()
            if msg is None:
                continue
            if msg.get_type() == "ATTITUDE" and msg.get_srcSystem() == self.poses.sysid:
                self.last_message = time.monotonic()  # the streams we asked for are flowing
            self.poses.feed(msg, time.time())

    def _request(self) -> None:
        sysid, compid = self.poses.sysid or 1, self.poses.compid or 1
        self._conn.mav.srcSystem = sysid
        for msgid, rate in RATES_HZ.items():
            self._conn.mav.command_long_send(
                sysid,
                compid,
                mavlink.MAV_CMD_SET_MESSAGE_INTERVAL,
                0,
                msgid,
                1e6 / rate,
                0,
                0,
                0,
                0,
                0,
            )
        for stream, rate in (
            (mavlink.MAV_DATA_STREAM_EXTRA1, 20),
            (mavlink.MAV_DATA_STREAM_POSITION, 10),
            (mavlink.MAV_DATA_STREAM_EXTRA3, 2),
        ):
            self._conn.mav.request_data_stream_send(sysid, compid, stream, rate, 1)
