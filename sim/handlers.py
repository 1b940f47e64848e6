"""Incoming MAVLink for one vehicle: parameters, streams, commands, mission protocol, guided
targets and signing, answered as ArduCopter answers them."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim import modes, reboot, telemetry
from sim.arming import FORCE_DISARM
from sim.boot import FIRMWARE_TEXT, FRAME_TEXT
from sim.ftp import FtpServer
from sim.geo import distance
from sim.link import Channel

if TYPE_CHECKING:
    from sim.vehicle import Vehicle

ACCEPTED = mavlink.MAV_RESULT_ACCEPTED
DENIED = mavlink.MAV_RESULT_DENIED
UNSUPPORTED = mavlink.MAV_RESULT_UNSUPPORTED
FAILED = mavlink.MAV_RESULT_FAILED

STREAM_START_S = 1.0
EKF_ORIGIN_MAX_DIST_M = 50_000.0
STREAM_PARAM = {1: "RAW_SENS", 2: "EXT_STAT", 3: "RC_CHAN", 6: "POSITION"}
STREAM_PARAM.update({10: "EXTRA1", 11: "EXTRA2", 12: "EXTRA3"})


def _ack(channel: Channel, msg, command: int, result: int) -> None:
    channel.send(
        mavlink.MAVLink_command_ack_message(
            command, result, 0, 0, msg.get_srcSystem(), msg.get_srcComponent()
        )
    )


class Handler:
    """Dispatches one vehicle's incoming messages by type."""

    def __init__(self, vehicle: Vehicle):
        self.v = vehicle
        self.ftp = FtpServer(vehicle, self._banner)

    def __call__(self, channel: Channel, msg) -> None:
        v = self.v
        mtype = msg.get_type()
        if mtype == "HEARTBEAT":
            if msg.get_srcSystem() == int(v.params.get("MAV_GCS_SYSID", 255)):
                v.last_gcs_heartbeat = v.sim_time
            return
        target = getattr(msg, "target_system", None)
        if target is not None and target not in (0, v.sysid):
            return
        component = getattr(msg, "target_component", None)
        if component is not None and component not in (0, 1):
            return  # for another component of this system (camera, gimbal, companion)
        method = getattr(self, f"on_{mtype.lower()}", None)
        if method is None:
            return
        v.deferred_texts = []  # texts queue behind the direct replies, as in ArduPilot
        try:
            method(channel, msg)
        finally:
            v.flush_texts()

    # -- parameters -------------------------------------------------------------------------
    def on_param_request_list(self, channel: Channel, msg) -> None:
        self._banner()
        self.v.param_list.start(channel)

    def _banner(self) -> None:
        """The texts ArduPilot starts a parameter download with."""
        v = self.v
        v.text(mavlink.MAV_SEVERITY_INFO, FIRMWARE_TEXT)
        v.text(mavlink.MAV_SEVERITY_INFO, f"{0x3D1219C7C4C5404A:016x}{v.sysid:016x}")  # board id
        v.text(mavlink.MAV_SEVERITY_INFO, FRAME_TEXT)

    def on_param_request_read(self, channel: Channel, msg) -> None:
        v = self.v
        params = v.params
        if msg.param_index >= 0:
            if msg.param_index >= len(params):
                return
            name = params.names[msg.param_index]
            index = msg.param_index
        else:
            name = params.canonical(msg.param_id)
            if name is None:
                return
            index = 65535
        channel.send(
            mavlink.MAVLink_param_value_message(
                name.encode(), params.values[name], params.types[name], len(params), index
            )
        )

    def on_param_set(self, channel: Channel, msg) -> None:
        self.v.set_param(msg.param_id, msg.param_value)

    # -- streams ------------------------------------------------------------------------------
    def on_request_data_stream(self, channel: Channel, msg) -> None:
        rate = float(msg.req_message_rate) if msg.start_stop else 0.0
        groups = list(telemetry.STREAM_GROUPS) if msg.req_stream_id == 0 else [msg.req_stream_id]
        for group in groups:
            if group not in telemetry.STREAM_GROUPS:
                continue
            channel.stream_rates[group] = rate
            # SITL's first stream messages come 1.0-1.5 s after the request
            channel.next_due[group] = self.v.sim_time + STREAM_START_S
            suffix = STREAM_PARAM[group]
            if channel.index < 3:
                self.v.params.set(f"MAV{channel.index + 1}_{suffix}", rate, persist=False)

    def on_timesync(self, channel: Channel, msg) -> None:
        if msg.tc1 == 0:
            channel.send(mavlink.MAVLink_timesync_message(int(self.v.sim_time * 1e9), msg.ts1))

    # -- modes ----------------------------------------------------------------------------------
    def on_set_mode(self, channel: Channel, msg) -> None:
        if not msg.base_mode & mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED:
            return
        self._change_mode(msg.custom_mode)

    def _change_mode(self, mode: int) -> int:
        v = self.v
        if mode not in modes.NAMES:
            v.text(mavlink.MAV_SEVERITY_WARNING, f"No such mode {mode}")
            return FAILED
        if v.mode == mode:
            return ACCEPTED
        return ACCEPTED if v.set_mode(mode) else FAILED

    # -- commands ---------------------------------------------------------------------------
    def on_command_long(self, channel: Channel, msg) -> None:
        self._command(channel, msg, is_int=False)

    def on_command_int(self, channel: Channel, msg) -> None:
        self._command(channel, msg, is_int=True)

    def _command(self, channel: Channel, msg, is_int: bool) -> None:
        method = getattr(self, f"cmd_{msg.command}", None)
        if method is None:
            _ack(channel, msg, msg.command, UNSUPPORTED)
            return
        result = method(channel, msg, is_int)
        if result is not None:
            _ack(channel, msg, msg.command, result)

    @staticmethod
    def _p(msg, i: int) -> float:
        """paramN of COMMAND_LONG, or COMMAND_INT's x/y/z for 5..7."""
        if msg.get_type() == "COMMAND_INT" and i >= 5:
            return {5: msg.x, 6: msg.y, 7: msg.z}[i]
        return getattr(msg, f"param{i}")

    def cmd_400(self, channel, msg, is_int):  # COMPONENT_ARM_DISARM
        v = self.v
        force = round(msg.param2) == FORCE_DISARM
        if msg.param1 == 1:
            return ACCEPTED if v.arm(force) else FAILED
        if msg.param1 == 0:
            if v.armed and (v.nav.taking_off or v.nav.pilot_takeoff) and not force:
                return FAILED
            return ACCEPTED if v.disarm(force) else FAILED
        return DENIED

    def cmd_401(self, channel, msg, is_int):  # RUN_PREARM_CHECKS
        v = self.v
        _ack(channel, msg, msg.command, ACCEPTED)
        for failure in v.prearm_failures():
            v.text(mavlink.MAV_SEVERITY_CRITICAL, f"PreArm: {failure}")
        return None

    def cmd_22(self, channel, msg, is_int):  # NAV_TAKEOFF
        v = self.v
        if not v.armed or v.flying or v.nav.taking_off:
            return FAILED
        alt = self._p(msg, 7)
        if v.mode == modes.GUIDED:
            if alt <= 0:
                return FAILED
            v.nav.takeoff(alt)
            return ACCEPTED
        if v.mode in (modes.LOITER, modes.ALT_HOLD, modes.POSHOLD):
            v.nav.pilot_takeoff = True  # accepted, but these modes need pilot throttle to climb
            return ACCEPTED
        return FAILED

    def cmd_176(self, channel, msg, is_int):  # DO_SET_MODE
        if not int(msg.param1) & mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED:
            return DENIED
        return self._change_mode(int(msg.param2))

    def cmd_300(self, channel, msg, is_int):  # MISSION_START
        v = self.v
        if v.mode != modes.AUTO and not v.set_mode(modes.AUTO):
            return FAILED
        if v.auto.state != mavlink.MISSION_STATE_ACTIVE:
            v.auto.on_enter()
        return ACCEPTED

    def cmd_178(self, channel, msg, is_int):  # DO_CHANGE_SPEED
        if msg.param2 > 0:
            self.v.speed_override = msg.param2
            if self.v.mode == modes.GUIDED:
                self.v.nav.speed = msg.param2
            return ACCEPTED
        return FAILED

    def cmd_20(self, channel, msg, is_int):  # NAV_RETURN_TO_LAUNCH
        return self._change_mode(modes.RTL)

    def cmd_21(self, channel, msg, is_int):  # NAV_LAND
        return self._change_mode(modes.LAND)

    def cmd_192(self, channel, msg, is_int):  # DO_REPOSITION
        v = self.v
        if not is_int:
            return UNSUPPORTED
        change_mode = int(msg.param2) & mavlink.MAV_DO_REPOSITION_FLAGS_CHANGE_MODE
        if v.mode != modes.GUIDED and not change_mode:
            return DENIED
        target = self._global_target(msg.frame, msg.x / 1e7, msg.y / 1e7, msg.z)
        if target is None or not v.fence.allows(*target):
            return FAILED
        if v.mode != modes.GUIDED and not v.set_mode(modes.GUIDED):
            return FAILED
        speed = msg.param1 if msg.param1 > 0 else None
        v.nav.goto(*target, speed=speed)
        return ACCEPTED

    def cmd_193(self, channel, msg, is_int):  # DO_PAUSE_CONTINUE
        v = self.v
        if v.mode not in (modes.AUTO, modes.GUIDED) or not v.armed:
            return FAILED
        if msg.param1 == 0:
            v.nav.paused = True
        else:
            v.nav.paused = False
        return ACCEPTED

    def cmd_224(self, channel, msg, is_int):  # DO_SET_MISSION_CURRENT
        return ACCEPTED if self.v.auto.set_current(int(msg.param1)) else DENIED

    def cmd_179(self, channel, msg, is_int):  # DO_SET_HOME
        v = self.v
        if msg.param1 == 1:
            lat, lon = v.position()
            alt = v.alt_amsl()
        else:
            lat = self._p(msg, 5) / (1e7 if is_int else 1)
            lon = self._p(msg, 6) / (1e7 if is_int else 1)
            alt = self._p(msg, 7)
        if not v.home_set:
            return FAILED  # no EKF origin yet
        origin = v.boot_home[0]
        if distance(origin[0], origin[1], lat, lon) > EKF_ORIGIN_MAX_DIST_M:
            return FAILED  # Copter::far_from_EKF_origin
        v.relocate_home(lat, lon, alt)
        v.broadcast(telemetry.home_position(v))
        return ACCEPTED

    def cmd_207(self, channel, msg, is_int):  # DO_FENCE_ENABLE
        self.v.set_param("FENCE_ENABLE", 1 if msg.param1 >= 1 else 0)
        return ACCEPTED

    def cmd_511(self, channel, msg, is_int):  # SET_MESSAGE_INTERVAL
        msgid, interval_us = int(msg.param1), msg.param2
        if interval_us <= 0 or msgid not in telemetry.BY_ID:
            channel.intervals.pop(msgid, None)  # -1 stop, 0 back to the stream default
        else:
            channel.intervals[msgid] = interval_us / 1e6
            channel.next_due[-msgid] = self.v.sim_time + interval_us / 1e6
        return ACCEPTED

    def cmd_510(self, channel, msg, is_int):  # GET_MESSAGE_INTERVAL
        msgid = int(msg.param1)
        _ack(channel, msg, msg.command, ACCEPTED)
        interval = channel.intervals.get(msgid)
        interval_us = round(interval * 1e6) if interval else 0
        channel.send(mavlink.MAVLink_message_interval_message(msgid, interval_us))
        return None

    def cmd_512(self, channel, msg, is_int):  # REQUEST_MESSAGE
        build = telemetry.BY_ID.get(int(msg.param1))
        if build is None:
            return UNSUPPORTED
        _ack(channel, msg, msg.command, ACCEPTED)
        out = build(self.v)
        if out is not None:
            channel.send(out)
        return None

    def cmd_520(self, channel, msg, is_int):  # REQUEST_AUTOPILOT_CAPABILITIES
        _ack(channel, msg, msg.command, ACCEPTED)
        channel.send(telemetry.autopilot_version(self.v))
        return None

    def cmd_410(self, channel, msg, is_int):  # GET_HOME_POSITION
        _ack(channel, msg, msg.command, ACCEPTED)
        out = telemetry.home_position(self.v)
        if out is not None:
            channel.send(out)
        return None

    def cmd_42428(self, channel, msg, is_int):  # DO_SEND_BANNER
        self._banner()
        return ACCEPTED

    def cmd_246(self, channel, msg, is_int):  # PREFLIGHT_REBOOT_SHUTDOWN
        result, at = reboot.request(self.v, msg.param1)
        if at is not None:
            self.v.reboot_at = at
        return result

    # -- calibration ------------------------------------------------------------------------------
    def cmd_241(self, channel, msg, is_int):  # PREFLIGHT_CALIBRATION
        def reply(result: int) -> None:
            _ack(channel, msg, msg.command, result)

        return self.v.calibration.preflight(msg.param1, msg.param3, self._p(msg, 5), reply)

    def cmd_42429(self, channel, msg, is_int):  # ACCELCAL_VEHICLE_POS
        return self.v.calibration.vehicle_position(msg.param1)

    def cmd_42424(self, channel, msg, is_int):  # DO_START_MAG_CAL
        return self.v.calibration.start_mag(msg.param1)

    def cmd_42426(self, channel, msg, is_int):  # DO_CANCEL_MAG_CAL
        return self.v.calibration.cancel_mag()

    def _global_target(self, frame: int, lat: float, lon: float, z: float):
        v = self.v
        s = v.copter.state
        n, e = (s.n, s.e) if lat == 0 and lon == 0 else v.local_of(lat, lon)
        if frame in (mavlink.MAV_FRAME_GLOBAL, mavlink.MAV_FRAME_GLOBAL_INT):
            alt = z - v.home[2]
        elif frame in (
            mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT,
            mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
            mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT,
            mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT_INT,
        ):
            alt = z
        else:
            return None
        return n, e, alt

    # -- guided targets -----------------------------------------------------------------------
    def on_set_position_target_global_int(self, channel: Channel, msg) -> None:
        v = self.v
        if v.mode != modes.GUIDED or not v.armed or not v.flying:
            return
        mask = msg.type_mask
        if not mask & 0b111:
            target = self._global_target(
                msg.coordinate_frame, msg.lat_int / 1e7, msg.lon_int / 1e7, msg.alt
            )
            if target is None or not v.fence.allows(*target):
                return
            v.nav.goto(*target)  # a new target flies at the default speed, as observed
        elif not mask & 0b111000:
            v.nav.set_velocity(msg.vx, msg.vy, -msg.vz, v.params.get("GUID_TIMEOUT"))

    def on_set_position_target_local_ned(self, channel: Channel, msg) -> None:
        v = self.v
        if v.mode != modes.GUIDED or not v.armed or not v.flying:
            return
        s = v.copter.state
        mask = msg.type_mask
        frame = msg.coordinate_frame
        yaw = s.yaw
        if not mask & 0b111:
            x, y, z = msg.x, msg.y, msg.z
            if frame in (mavlink.MAV_FRAME_BODY_NED, mavlink.MAV_FRAME_BODY_OFFSET_NED):
                x, y = x * math.cos(yaw) - y * math.sin(yaw), x * math.sin(yaw) + y * math.cos(yaw)
            if frame in (
                mavlink.MAV_FRAME_LOCAL_OFFSET_NED,
                mavlink.MAV_FRAME_BODY_NED,
                mavlink.MAV_FRAME_BODY_OFFSET_NED,
            ):
                target = (s.n + x, s.e + y, s.alt - z)
            else:
                target = (x, y, -z)
            if v.fence.allows(*target):
                v.nav.goto(*target)
        elif not mask & 0b111000:
            vx, vy = msg.vx, msg.vy
            if frame in (mavlink.MAV_FRAME_BODY_NED, mavlink.MAV_FRAME_BODY_OFFSET_NED):
                vx, vy = (
                    vx * math.cos(yaw) - vy * math.sin(yaw),
                    vx * math.sin(yaw) + vy * math.cos(yaw),
                )
            v.nav.set_velocity(vx, vy, -msg.vz, v.params.get("GUID_TIMEOUT"))

    # -- RC ---------------------------------------------------------------------------------------
    def on_rc_channels_override(self, channel: Channel, msg) -> None:
        v = self.v
        if msg.get_srcSystem() != int(v.params.get("MAV_GCS_SYSID", 255)):
            return  # ArduPilot takes overrides from its own ground station only
        values = [getattr(msg, f"chan{i}_raw") for i in range(1, 19)]
        v.rc.override(values, v.sim_time)

    # -- mission protocol -----------------------------------------------------------------------
    def on_mission_count(self, channel: Channel, msg) -> None:
        self.v.missions.handle_count(channel, msg)

    def on_mission_item_int(self, channel: Channel, msg) -> None:
        self.v.missions.handle_item(channel, msg)

    def on_mission_item(self, channel: Channel, msg) -> None:
        self.v.missions.handle_item(channel, msg)

    def on_mission_request_list(self, channel: Channel, msg) -> None:
        self.v.missions.handle_request_list(channel, msg)

    def on_mission_request_int(self, channel: Channel, msg) -> None:
        self.v.missions.handle_request(channel, msg)

    def on_mission_request(self, channel: Channel, msg) -> None:
        self.v.missions.handle_request(channel, msg)

    def on_mission_clear_all(self, channel: Channel, msg) -> None:
        self.v.missions.handle_clear_all(channel, msg)

    def on_mission_set_current(self, channel: Channel, msg) -> None:
        if self.v.auto.set_current(msg.seq):
            channel.send(telemetry.mission_current(self.v))

    # -- MAVLink FTP ------------------------------------------------------------------------------
    def on_file_transfer_protocol(self, channel: Channel, msg) -> None:
        self.ftp.handle(channel, msg)

    # -- signing --------------------------------------------------------------------------------
    def on_setup_signing(self, channel: Channel, msg) -> None:
        v = self.v
        key = bytes(msg.secret_key)
        v.signing_key = key if any(key) else None
        v.signing_timestamp = int(msg.initial_timestamp)
        for ch in v.channels:
            ch.set_signing(v.signing_key, v.signing_timestamp)
        v.save_signing()
