"""Writing .tlog files of an aircraft's pose for tests: what a ground station records."""

from __future__ import annotations

import math
import struct
from pathlib import Path

from pymavlink.dialects.v20 import ardupilotmega as mavlink

_MAV = mavlink.MAVLink(None, srcSystem=1, srcComponent=1)


def hover_messages(
    utc0: float,
    seconds: float,
    lat: float,
    lon: float,
    height: float,
    gimbal_pitch_deg: float,
    yaw: float = 0.0,
    rate: float = 10.0,
) -> list[tuple[float, bytes]]:
    """(receive time, packet) of a copter hovering: heartbeat, SYSTEM_TIME, ATTITUDE,
    GLOBAL_POSITION_INT and the gimbal's status, ``rate`` times a second from boot."""
    pitch = math.radians(gimbal_pitch_deg)
    q = [math.cos(pitch / 2), 0.0, math.sin(pitch / 2), 0.0]
    flags = mavlink.GIMBAL_DEVICE_FLAGS_YAW_IN_VEHICLE_FRAME
    out = []
    for k in range(int(seconds * rate) + 1):
        t = k / rate
        ms = int(t * 1000)
        msgs = [
            mavlink.MAVLink_heartbeat_message(2, 3, 0, 0, 4, 3),
            mavlink.MAVLink_system_time_message(int((utc0 + t) * 1e6), ms),
            mavlink.MAVLink_attitude_message(ms, 0.0, 0.0, yaw, 0, 0, 0),
            mavlink.MAVLink_global_position_int_message(
                ms,
                int(lat * 1e7),
                int(lon * 1e7),
                int((200 + height) * 1000),
                int(height * 1000),
                0,
                0,
                0,
                0,
            ),
            mavlink.MAVLink_gimbal_device_attitude_status_message(0, 0, ms, flags, q, 0, 0, 0, 0),
        ]
        out += [(utc0 + t + 0.02, bytes(m.pack(_MAV))) for m in msgs]
    return out


def write_tlog(path: Path, packets: list[tuple[float, bytes]]) -> Path:
    """A .tlog: each packet after its 8-byte big-endian receive time in microseconds."""
    with path.open("wb") as f:
        for t, packet in packets:
            f.write(struct.pack(">Q", int(t * 1e6)) + packet)
    return path
