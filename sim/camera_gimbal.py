"""A simulated camera's gimbal, and the MAVLink the vehicle reports it with, as ArduPilot's
AP_Mount: GIMBAL_DEVICE_ATTITUDE_STATUS (in the EXTRA3 stream; roll and pitch in the earth
frame, yaw relative to the vehicle) and MOUNT_STATUS (centidegrees: pointing_a pitch,
pointing_b roll, pointing_c yaw). A vehicle without a camera has no ``gimbal`` and sends
neither."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pymavlink.dialects.v20 import ardupilotmega as mavlink

if TYPE_CHECKING:
    from sim.state import VehicleState

GIMBAL_FLAGS = (
    mavlink.GIMBAL_DEVICE_FLAGS_ROLL_LOCK
    | mavlink.GIMBAL_DEVICE_FLAGS_PITCH_LOCK
    | mavlink.GIMBAL_DEVICE_FLAGS_YAW_IN_VEHICLE_FRAME
)


@dataclass
class Gimbal:
    """Angles in radians: roll and pitch level to the horizon, yaw from the vehicle's nose."""

    roll: float = 0.0
    pitch: float = math.radians(-45.0)
    yaw: float = 0.0


def _quaternion(roll: float, pitch: float, yaw: float) -> list[float]:
    cr, sr = math.cos(roll / 2), math.sin(roll / 2)
    cp, sp = math.cos(pitch / 2), math.sin(pitch / 2)
    cy, sy = math.cos(yaw / 2), math.sin(yaw / 2)
    return [
        cr * cp * cy + sr * sp * sy,
        sr * cp * cy - cr * sp * sy,
        cr * sp * cy + sr * cp * sy,
        cr * cp * sy - sr * sp * cy,
    ]


def gimbal_device_attitude_status(v: VehicleState) -> mavlink.MAVLink_message | None:
    gimbal: Gimbal | None = getattr(v, "gimbal", None)
    if gimbal is None:
        return None
    nan = float("nan")
    return mavlink.MAVLink_gimbal_device_attitude_status_message(
        0,
        0,
        int(v.sim_time * 1000) & 0xFFFFFFFF,
        GIMBAL_FLAGS,
        _quaternion(gimbal.roll, gimbal.pitch, gimbal.yaw),
        nan,
        nan,
        nan,
        0,
        nan,
        nan,
        1,
    )


def mount_status(v: VehicleState) -> mavlink.MAVLink_message | None:
    gimbal: Gimbal | None = getattr(v, "gimbal", None)
    if gimbal is None:
        return None
    return mavlink.MAVLink_mount_status_message(
        0,
        0,
        round(math.degrees(gimbal.pitch) * 100),
        round(math.degrees(gimbal.roll) * 100),
        round(math.degrees(gimbal.yaw) * 100),
        mavlink.MAV_MOUNT_MODE_MAVLINK_TARGETING,
    )
