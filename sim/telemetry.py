"""Telemetry messages of a simulated vehicle and ArduPilot's stream groups (MAVn_* / SRn_*)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim.camera_gimbal import gimbal_device_attitude_status, mount_status

if TYPE_CHECKING:
    from sim.state import VehicleState

Message = mavlink.MAVLink_message
# A builder gives the message(s) a stream or a request sends now: one, several, or none.
Builder = Callable[["VehicleState"], "Message | list[Message] | None"]

# SYS_STATUS sensor bitmasks recorded from SITL (present / enabled / health).
SENSORS_PRESENT = 1399979055
SENSORS_ENABLED_BOOT = 1380031535
SENSORS_ENABLED = 1382128687
SENSORS_HEALTH_BOOT = 1196530735
SENSORS_HEALTH = 1198627887
PREARM_BIT = mavlink.MAV_SYS_STATUS_PREARM_CHECK
GEOFENCE_BIT = mavlink.MAV_SYS_STATUS_GEOFENCE
BATTERY_BIT = mavlink.MAV_SYS_STATUS_SENSOR_BATTERY
GPS_BIT = mavlink.MAV_SYS_STATUS_SENSOR_GPS

COMPASSES = (0, 1, 2)  # SITL's three compasses
RC_CHANCOUNT = 8  # SITL's receiver

EKF_FLAGS_ATTITUDE = 0xA7  # 167 before the EKF uses GPS
EKF_FLAGS_POSITION = 0x33F  # 831 after


def _ms(v: VehicleState) -> int:
    return int(v.sim_time * 1000) & 0xFFFFFFFF


def sys_status(v: VehicleState) -> mavlink.MAVLink_message:
    enabled = SENSORS_ENABLED if v.booted(22.5) else SENSORS_ENABLED_BOOT
    health = SENSORS_HEALTH if v.booted(22.5) else SENSORS_HEALTH_BOOT
    if v.armed or v.last_prearm_result:  # the checks' last (2 Hz) result, as ArduPilot's flag
        health |= PREARM_BIT
    if v.fence.breached:
        health &= ~GEOFENCE_BIT
    if v.fence.enabled:
        enabled |= GEOFENCE_BIT
    if v.battery.failsafe:
        health &= ~BATTERY_BIT
    if v.faults.gps_loss:
        health &= ~GPS_BIT
    cal = v.calibration_status
    enabled &= ~cal.sensors_off
    health &= ~(cal.sensors_off | cal.unhealthy)
    return mavlink.MAVLink_sys_status_message(
        SENSORS_PRESENT, enabled, health, 0,
        int(v.battery.voltage * 1000), int(v.battery.current * 100), v.battery.remaining,
        0, 0, 0, 0, 0, 0, 0, 0, 0,
    )  # fmt: skip


def power_status(v: VehicleState) -> mavlink.MAVLink_message:
    return mavlink.MAVLink_power_status_message(5000, 0, 0)


def meminfo(v: VehicleState) -> mavlink.MAVLink_message:
    return mavlink.MAVLink_meminfo_message(0, 65535, 131072)


def mission_current(v: VehicleState) -> mavlink.MAVLink_message:
    return mavlink.MAVLink_mission_current_message(
        v.auto.current, max(v.missions.count() - 1, 0), v.auto.mission_state(),
        1 if v.mode == 3 else 0,
    )  # fmt: skip


def gps_raw_int(v: VehicleState) -> mavlink.MAVLink_message:
    s = v.copter.state
    lat, lon = v.position()
    fix = 0 if not v.booted(9.8) else (1 if v.faults.gps_loss else 6)
    sats = 10 if fix > 1 else 0
    cog = (
        int((math.degrees(math.atan2(s.ve, s.vn)) % 360) * 100)
        if v.copter.ground_speed > 0.3
        else 0
    )
    return mavlink.MAVLink_gps_raw_int_message(
        int(v.sim_time * 1e6), fix, int(lat * 1e7), int(lon * 1e7),
        int(v.alt_amsl() * 1000), 121, 200, int(v.copter.ground_speed * 100), cog, sats,
        int(v.alt_amsl() * 1000), 300, 300, 0, 0, 0,
    )  # fmt: skip


def nav_controller_output(v: VehicleState) -> mavlink.MAVLink_message:
    s = v.copter.state
    wp_dist, bearing = v.target_distance_bearing()
    return mavlink.MAVLink_nav_controller_output_message(
        math.degrees(s.roll), math.degrees(s.pitch), int(math.degrees(s.yaw)) % 360,
        int(bearing) % 360, min(int(wp_dist), 65535), 0.0, 0.0, 0.0,
    )  # fmt: skip


def fence_status(v: VehicleState) -> mavlink.MAVLink_message | None:
    if not v.fence.enabled:
        return None
    f = v.fence
    return mavlink.MAVLink_fence_status_message(
        1 if f.breached else 0, f.breach_count, f.breach_type, int(f.breach_time * 1000), 1
    )


def position_target_global_int(v: VehicleState) -> mavlink.MAVLink_message | None:
    if v.mode not in (3, 4):
        return None
    target = v.target_global()
    if target is None:
        return None
    lat, lon, alt = target
    return mavlink.MAVLink_position_target_global_int_message(
        _ms(v), mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, 0x0FF8,
        int(lat * 1e7), int(lon * 1e7), alt, 0, 0, 0, 0, 0, 0, 0, 0,
    )  # fmt: skip


def servo_output_raw(v: VehicleState) -> mavlink.MAVLink_message:
    pwm = 1000 if not v.armed else (1150 if v.copter.state.landed else 1550)
    return mavlink.MAVLink_servo_output_raw_message(
        int(v.sim_time * 1e6) & 0xFFFFFFFF, 0, pwm, pwm, pwm, pwm, 0, 0, 0, 0
    )


def rc_channels(v: VehicleState) -> mavlink.MAVLink_message:
    chans = v.rc.channels(v.sim_time, v.params.get("RC_OVERRIDE_TIME"))
    return mavlink.MAVLink_rc_channels_message(_ms(v), RC_CHANCOUNT, *chans, 255)


def raw_imu(v: VehicleState) -> mavlink.MAVLink_message:
    s = v.copter.state
    az = -1000
    return mavlink.MAVLink_raw_imu_message(
        int(v.sim_time * 1e6), int(-math.sin(s.pitch) * 1000), int(math.sin(s.roll) * 1000), az,
        0, 0, 0, 0, 0, 0, 0, 0,
    )  # fmt: skip


def scaled_pressure(v: VehicleState) -> mavlink.MAVLink_message:
    press = 101325.0 * (1 - 2.25577e-5 * v.alt_amsl()) ** 5.25588 / 100.0
    return mavlink.MAVLink_scaled_pressure_message(_ms(v), press, 0.0, 2500, 0)


def global_position_int(v: VehicleState) -> mavlink.MAVLink_message:
    s = v.copter.state
    lat, lon = v.position()
    return mavlink.MAVLink_global_position_int_message(
        _ms(v), int(lat * 1e7), int(lon * 1e7), int(v.alt_amsl() * 1000), int(s.alt * 1000),
        int(s.vn * 100), int(s.ve * 100), int(-s.vu * 100),
        int(math.degrees(s.yaw) * 100) % 36000,
    )  # fmt: skip


def local_position_ned(v: VehicleState) -> mavlink.MAVLink_message | None:
    if not v.ekf_has_position():
        return None
    s = v.copter.state
    return mavlink.MAVLink_local_position_ned_message(_ms(v), s.n, s.e, -s.alt, s.vn, s.ve, -s.vu)


def attitude(v: VehicleState) -> mavlink.MAVLink_message:
    s = v.copter.state
    yaw = s.yaw if s.yaw <= math.pi else s.yaw - 2 * math.pi
    return mavlink.MAVLink_attitude_message(_ms(v), s.roll, s.pitch, yaw, 0.0, 0.0, 0.0)


def simstate(v: VehicleState) -> mavlink.MAVLink_message:
    s = v.copter.state
    lat, lon = v.position()
    yaw = s.yaw if s.yaw <= math.pi else s.yaw - 2 * math.pi
    return mavlink.MAVLink_simstate_message(
        s.roll, s.pitch, yaw, 0.0, 0.0, -9.81, 0.0, 0.0, 0.0, int(lat * 1e7), int(lon * 1e7)
    )


def ahrs2(v: VehicleState) -> mavlink.MAVLink_message:
    s = v.copter.state
    lat, lon = v.position()
    yaw = s.yaw if s.yaw <= math.pi else s.yaw - 2 * math.pi
    return mavlink.MAVLink_ahrs2_message(
        s.roll, s.pitch, yaw, v.alt_amsl(), int(lat * 1e7), int(lon * 1e7)
    )


def vfr_hud(v: VehicleState) -> mavlink.MAVLink_message:
    s = v.copter.state
    throttle = 0 if not v.armed else (10 if s.landed else 39)
    return mavlink.MAVLink_vfr_hud_message(
        v.copter.airspeed, v.copter.ground_speed, int(math.degrees(s.yaw)) % 360,
        throttle, v.alt_amsl(), s.vu,
    )  # fmt: skip


def ahrs(v: VehicleState) -> mavlink.MAVLink_message:
    return mavlink.MAVLink_ahrs_message(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


def system_time(v: VehicleState) -> mavlink.MAVLink_message:
    return mavlink.MAVLink_system_time_message(int(v.wall_epoch_us()), _ms(v))


def battery_status(v: VehicleState) -> mavlink.MAVLink_message:
    b = v.battery
    volts = [int(b.voltage * 1000)] + [65535] * 9
    return mavlink.MAVLink_battery_status_message(
        0, mavlink.MAV_BATTERY_FUNCTION_UNKNOWN, mavlink.MAV_BATTERY_TYPE_UNKNOWN, 32767,
        volts, int(b.current * 100), int(b.consumed_mah), int(b.consumed_wh * 36), b.remaining,
        0, b.charge_state, [0, 0, 0, 0], 0, 0,
    )  # fmt: skip


def mag_cal_progress(v: VehicleState) -> list[mavlink.MAVLink_message]:
    """One per compass being calibrated. The copter is never rotated, so each stays at step
    one, 0 %, with one section of the sphere seen, as SITL reported for 30 s."""
    compasses = v.calibration_status.compasses
    mask = sum(1 << c for c in compasses)
    return [
        mavlink.MAVLink_mag_cal_progress_message(
            c, mask, mavlink.MAG_CAL_RUNNING_STEP_ONE, 1, 0, [0, 0, 0, 0, 0, 4, 0, 0, 0, 0],
            0.0, 0.0, 0.0,
        )
        for c in compasses
    ]  # fmt: skip


def ekf_status_report(v: VehicleState) -> mavlink.MAVLink_message:
    flags = EKF_FLAGS_POSITION if v.ekf_has_position() else EKF_FLAGS_ATTITUDE
    return mavlink.MAVLink_ekf_status_report_message(flags, 0.01, 0.01, 0.01, 0.01, 0.0, 0.0)


def vibration(v: VehicleState) -> mavlink.MAVLink_message:
    return mavlink.MAVLink_vibration_message(int(v.sim_time * 1e6), 0.01, 0.01, 0.01, 0, 0, 0)


def wind(v: VehicleState) -> mavlink.MAVLink_message | None:
    if not v.ekf_has_position():
        return None
    speed = math.hypot(v.copter.wind_n, v.copter.wind_e)
    direction = math.degrees(math.atan2(-v.copter.wind_e, -v.copter.wind_n)) % 360
    return mavlink.MAVLink_wind_message(direction, speed, 0.0)


def extended_sys_state(v: VehicleState) -> mavlink.MAVLink_message:
    return mavlink.MAVLink_extended_sys_state_message(mavlink.MAV_VTOL_STATE_MC, v.landed_state())


def home_position(v: VehicleState) -> mavlink.MAVLink_message | None:
    if not v.home_set:
        return None
    lat, lon, alt = v.home
    nan = float("nan")
    return mavlink.MAVLink_home_position_message(
        int(lat * 1e7), int(lon * 1e7), int(alt * 1000), 0.0, 0.0, -0.0,
        [nan, nan, nan, nan], 0.0, 0.0, 0.0, int(v.sim_time * 1e6),
    )  # fmt: skip


def gps_global_origin(v: VehicleState) -> mavlink.MAVLink_message | None:
    if not v.home_set:
        return None
    lat, lon, alt = v.home
    return mavlink.MAVLink_gps_global_origin_message(
        int(lat * 1e7), int(lon * 1e7), int(alt * 1000), int(v.sim_time * 1e6)
    )


def autopilot_version(v: VehicleState) -> mavlink.MAVLink_message:
    return mavlink.MAVLink_autopilot_version_message(
        64495, 67567616, 0, 0, 0, list(b"90700977"), [0] * 8, [0] * 8, 0, 0, v.sysid,
        [*b"3d1219c7c4c5404aa", 0],
    )  # fmt: skip


# Stream groups, as ArduPilot's GCS_MAVLink streams (ids from MAV_DATA_STREAM).
STREAM_GROUPS: dict[int, tuple[str, tuple[Builder, ...]]] = {
    1: ("RAW_SENS", (raw_imu, scaled_pressure)),
    2: (
        "EXT_STAT",
        (
            sys_status,
            power_status,
            meminfo,
            mission_current,
            gps_raw_int,
            nav_controller_output,
            fence_status,
            position_target_global_int,
        ),
    ),
    3: ("RC_CHAN", (servo_output_raw, rc_channels)),
    6: ("POSITION", (global_position_int, local_position_ned)),
    10: ("EXTRA1", (attitude, simstate, ahrs2)),
    11: ("EXTRA2", (vfr_hud,)),
    12: (
        "EXTRA3",
        (
            ahrs,
            system_time,
            battery_status,
            mag_cal_progress,
            gimbal_device_attitude_status,
            ekf_status_report,
            vibration,
            wind,
        ),
    ),
}

# Messages a GCS may ask for by id (REQUEST_MESSAGE, SET_MESSAGE_INTERVAL).
BY_ID: dict[int, Builder] = {
    mavlink.MAVLINK_MSG_ID_SYS_STATUS: sys_status,
    mavlink.MAVLINK_MSG_ID_POWER_STATUS: power_status,
    mavlink.MAVLINK_MSG_ID_MEMINFO: meminfo,
    mavlink.MAVLINK_MSG_ID_MISSION_CURRENT: mission_current,
    mavlink.MAVLINK_MSG_ID_GPS_RAW_INT: gps_raw_int,
    mavlink.MAVLINK_MSG_ID_NAV_CONTROLLER_OUTPUT: nav_controller_output,
    mavlink.MAVLINK_MSG_ID_FENCE_STATUS: fence_status,
    mavlink.MAVLINK_MSG_ID_POSITION_TARGET_GLOBAL_INT: position_target_global_int,
    mavlink.MAVLINK_MSG_ID_SERVO_OUTPUT_RAW: servo_output_raw,
    mavlink.MAVLINK_MSG_ID_RC_CHANNELS: rc_channels,
    mavlink.MAVLINK_MSG_ID_RAW_IMU: raw_imu,
    mavlink.MAVLINK_MSG_ID_SCALED_PRESSURE: scaled_pressure,
    mavlink.MAVLINK_MSG_ID_GLOBAL_POSITION_INT: global_position_int,
    mavlink.MAVLINK_MSG_ID_LOCAL_POSITION_NED: local_position_ned,
    mavlink.MAVLINK_MSG_ID_ATTITUDE: attitude,
    mavlink.MAVLINK_MSG_ID_SIMSTATE: simstate,
    mavlink.MAVLINK_MSG_ID_AHRS2: ahrs2,
    mavlink.MAVLINK_MSG_ID_VFR_HUD: vfr_hud,
    mavlink.MAVLINK_MSG_ID_AHRS: ahrs,
    mavlink.MAVLINK_MSG_ID_SYSTEM_TIME: system_time,
    mavlink.MAVLINK_MSG_ID_BATTERY_STATUS: battery_status,
    mavlink.MAVLINK_MSG_ID_EKF_STATUS_REPORT: ekf_status_report,
    mavlink.MAVLINK_MSG_ID_VIBRATION: vibration,
    mavlink.MAVLINK_MSG_ID_WIND: wind,
    mavlink.MAVLINK_MSG_ID_EXTENDED_SYS_STATE: extended_sys_state,
    mavlink.MAVLINK_MSG_ID_HOME_POSITION: home_position,
    mavlink.MAVLINK_MSG_ID_GPS_GLOBAL_ORIGIN: gps_global_origin,
    mavlink.MAVLINK_MSG_ID_AUTOPILOT_VERSION: autopilot_version,
    mavlink.MAVLINK_MSG_ID_GIMBAL_DEVICE_ATTITUDE_STATUS: gimbal_device_attitude_status,
    mavlink.MAVLINK_MSG_ID_MOUNT_STATUS: mount_status,
}
