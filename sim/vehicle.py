"""One simulated ArduCopter: boot sequence, arming, modes, navigation, failsafes, telemetry."""

from __future__ import annotations

import bisect
import collections
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim import modes, telemetry
from sim.battery import Battery
from sim.copter import Copter, Limits
from sim.faults import Faults
from sim.fence import BREACH_BOUNDARY, BREACH_MAXALT, Fence
from sim.geo import ne_between, offset
from sim.link import Channel
from sim.mission import FENCE, MISSION, RALLY, Item, MissionStore
from sim.navigation import AutoMission, Nav
from sim.params import ParamStore

# Boot STATUSTEXT recorded from SITL (sim seconds, as most recorded runs show; 01 was ~0.5 s
# earlier for the EKF lines); all severity INFO.
BOOT_TEXTS = (
    (1.45, "Barometer 1 calibration complete"),
    (1.45, "Barometer 2 calibration complete"),
    (1.96, "ArduPilot Ready"),
    (1.97, "AHRS: DCM active"),
    (2.27, "RC7: SaveWaypoint LOW"),
    (4.44, "EKF3 IMU0 initialised"),
    (4.44, "EKF3 IMU1 initialised"),
    (4.45, "AHRS: EKF3 active"),
    (5.79, "EKF3 IMU0 tilt alignment complete"),
    (5.79, "EKF3 IMU1 tilt alignment complete"),
    (5.89, "EKF3 IMU0 MAG0 initial yaw alignment complete"),
    (5.89, "EKF3 IMU1 MAG0 initial yaw alignment complete"),
    (9.30, "GPS 1: probing for u-blox at 230400 baud"),
    (9.33, "GPS 1: detected u-blox"),
    (20.05, "EKF3 IMU0 origin set"),
    (20.23, "EKF3 IMU1 origin set"),
    (41.41, "EKF3 IMU0 is using GPS"),
    (41.62, "EKF3 IMU1 is using GPS"),
)
# Unsolicited PARAM_VALUE SITL sends while it boots (calibration results), sim seconds.
BOOT_PARAMS = (
    (1.45, ("BARO1_GND_PRESS", "BARO2_GND_PRESS", "INS_GYR_ID", "INS_ACC_ID", "INS_GYR2_ID",
            "INS_ACC2_ID")),
    (1.99, ("INS_GYROFFS_X", "INS_GYROFFS_Y", "INS_GYROFFS_Z", "INS_GYR_ID", "INS_GYR1_CALTEMP",
            "INS_GYR2OFFS_X", "INS_GYR2OFFS_Y", "INS_GYR2OFFS_Z", "INS_GYR2_ID",
            "INS_GYR2_CALTEMP", "INS_GYR3OFFS_X", "INS_GYR3OFFS_Y", "INS_GYR3OFFS_Z",
            "INS_GYR3_ID")),
    (2.99, ("EK3_SRC1_POSXY",)),
)  # fmt: skip
STAT_RUNTIME_PERIOD_S = 30.0
PREARM_HEALTHY_S = 23.5  # 23.56-23.6 s in the recordings
EKF_POSITION_S = 41.62
LANDED_DISARM_S = 2.0
FENCE_RECOVERY_S = 10.0
PREARM_TICK_PHASE_S = 0.44  # the 1 Hz arming check ran at x.43-x.48 s in the recordings
PREARM_EVAL_PHASE_S = 0.06
POSE_HISTORY_S = 600.0
POSE_HISTORY_DT = 0.1
FORCE_DISARM = 21196
# Recorded quirk (04): these INT8 params are echoed as REAL32 after a PARAM_SET.
SET_ECHO_TYPE = {
    "FENCE_TYPE": mavlink.MAV_PARAM_TYPE_REAL32,
    "FENCE_ACTION": mavlink.MAV_PARAM_TYPE_REAL32,
}
FIRMWARE_TEXT = "ArduCopter V4.7.0-dev (90700977)"
FRAME_TEXT = "Frame: QUAD/PLUS"


@dataclass
class Pose:
    """The aircraft's true pose at one instant (for camera renderers and tests)."""

    time_s: float
    lat: float
    lon: float
    alt_amsl: float
    alt_rel: float
    roll: float
    pitch: float
    yaw: float
    vn: float
    ve: float
    vd: float


class Vehicle:
    """A copter with one MAVLink channel per SERIAL port, stepped by the fleet's loop."""

    def __init__(
        self,
        index: int,
        home: tuple[float, float, float, float],
        state_dir: Path | None,
        signing_key: bytes | None = None,
        boot_time_scale: float = 1.0,
        start_time: float | None = None,
    ):
        self.index = index
        self.boot_time_scale = boot_time_scale
        path = state_dir / f"instance-{index}" / "params.json" if state_dir else None
        self.params = ParamStore(path, overrides={"MAV_SYSID": index + 1})  # as SITL --sysid
        self.sysid = int(self.params["MAV_SYSID"])
        self.home = (home[0], home[1], home[2])
        self.home_set = False
        self.faults = Faults(seed=index)
        self.channels: list[Channel] = []
        self.sim_time = 0.0
        self.copter = Copter(home[3])
        self.battery = Battery()
        self.fence = Fence()
        self.nav = Nav(self)
        self.auto = AutoMission(self)
        self.missions = MissionStore(
            self.text, lambda: self.sim_time, self.home_item, self._missions_changed,
            self._set_total,
        )  # fmt: skip
        stored = self.params.extra.get("missions")
        if stored:
            self.missions.load_json(stored)
        self.mode = modes.STABILIZE
        self.armed = False
        self.ever_armed = False
        self.disarm_at: float | None = None
        self.landed_since: float | None = 0.0
        self.last_gcs_heartbeat: float | None = None
        self.gcs_failsafe = False
        self.ekf_failsafe = False
        self.boot_index = 0
        self.boot_param_index = 0
        self.runtime_at_boot = self.params.get("STAT_RUNTIME")
        self.next_stat_runtime = STAT_RUNTIME_PERIOD_S + 0.43
        self.next_heartbeat = 0.5
        self.next_timesync = 9.5
        self.first_heartbeat = True
        # AP_Arming: failures are shown by the 1 Hz update every 30 s, or (4 s apart) after the
        # checks' result changed; the result is also evaluated for SYS_STATUS (2 Hz)
        self.next_arming_check = PREARM_TICK_PHASE_S
        self.next_prearm_eval = PREARM_EVAL_PHASE_S
        self.last_prearm_result: bool | None = None
        self.last_prearm_display = 0.0
        self.prearm_report_now = False
        self._text_id = 0  # STATUSTEXT id of the last multi-chunk text
        self.liftoff_at: float | None = None
        self.yaw_aligned = False
        self.param_queue: dict[Channel, int] = {}
        self.ftp_busy_until = 0.0  # sim time until which MAVLink FTP slows the streams 4x
        # ArduPilot queues STATUSTEXT, so a command's ACK goes out before its texts
        self.deferred_texts: list[tuple[int | None, str]] | None = None
        self.speed_override: float | None = None
        # UTC (unix seconds) at sim time 0, as SITL --start-time; GPS time runs from it
        self.wall_epoch0 = time.time() if start_time is None else float(start_time)
        self.on_speedup: Callable[[float], None] | None = None
        # camera hook: poses every POSE_HISTORY_DT for POSE_HISTORY_S, and per-step listeners
        self.pose_history: collections.deque[Pose] = collections.deque(
            maxlen=int(POSE_HISTORY_S / POSE_HISTORY_DT)
        )
        self.pose_listeners: list[Callable[[Pose], None]] = []
        self.params.listeners.append(self._param_changed)
        key = signing_key or bytes.fromhex(self.params.extra.get("signing_key", "")) or None
        self.signing_key = key
        self.signing_timestamp = int(self.params.extra.get("signing_timestamp", 0))
        self._configure()

    # -- state queries --------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self.channels[0].port

    @property
    def ports(self) -> tuple[int, ...]:
        return tuple(c.port for c in self.channels)

    def position(self) -> tuple[float, float]:
        s = self.copter.state
        return offset(self.home[0], self.home[1], s.n, s.e)

    def alt_amsl(self) -> float:
        return self.home[2] + self.copter.state.alt

    def pose(self) -> Pose:
        s = self.copter.state
        lat, lon = self.position()
        return Pose(
            self.sim_time, lat, lon, self.alt_amsl(), s.alt, s.roll, s.pitch, s.yaw,
            s.vn, s.ve, -s.vu,
        )  # fmt: skip

    def pose_at(self, time_s: float) -> Pose:
        """The pose at simulated time ``time_s`` (interpolated from the last 10 minutes, at
        0.1 s spacing), for a camera renderer stamping frames; ValueError outside it."""
        history = self.pose_history
        if not history or not history[0].time_s <= time_s <= self.sim_time:
            raise ValueError(f"no pose recorded for t={time_s:.2f} s")
        if time_s >= history[-1].time_s:
            return self.pose() if time_s > history[-1].time_s else history[-1]
        i = bisect.bisect_right([p.time_s for p in history], time_s)
        a, b = history[i - 1], history[i]
        k = (time_s - a.time_s) / (b.time_s - a.time_s)

        def mix(x: float, y: float) -> float:
            return x + (y - x) * k

        yaw = a.yaw + ((b.yaw - a.yaw + math.pi) % (2 * math.pi) - math.pi) * k
        return Pose(
            time_s, mix(a.lat, b.lat), mix(a.lon, b.lon), mix(a.alt_amsl, b.alt_amsl),
            mix(a.alt_rel, b.alt_rel), mix(a.roll, b.roll), mix(a.pitch, b.pitch),
            yaw % (2 * math.pi), mix(a.vn, b.vn), mix(a.ve, b.ve), mix(a.vd, b.vd),
        )  # fmt: skip

    def wall_epoch_us(self) -> int:
        return int((self.wall_epoch0 + self.sim_time) * 1e6)

    def booted(self, sitl_s: float) -> bool:
        """Whether the boot milestone SITL reaches at ``sitl_s`` has passed (scaled by
        ``boot_time_scale``; 1.0 = SITL's timing)."""
        return self.sim_time >= sitl_s * self.boot_time_scale

    def ekf_has_position(self) -> bool:
        return self.booted(EKF_POSITION_S) and not self.faults.gps_loss

    @property
    def flying(self) -> bool:
        return not self.copter.state.landed

    def landed_state(self) -> int:
        if self.copter.state.landed:
            return mavlink.MAV_LANDED_STATE_ON_GROUND
        if self.nav.landing:
            return mavlink.MAV_LANDED_STATE_LANDING
        if self.nav.taking_off:
            return mavlink.MAV_LANDED_STATE_TAKEOFF
        return mavlink.MAV_LANDED_STATE_IN_AIR

    def home_item(self) -> Item:
        lat, lon, alt = self.home
        return Item(0, 0, 16, 0, 0, 0, 0, int(lat * 1e7), int(lon * 1e7), alt)

    def target_global(self) -> tuple[float, float, float] | None:
        target = self.nav.target
        if target is None:
            return None
        lat, lon = offset(self.home[0], self.home[1], target[0], target[1])
        return lat, lon, target[2]

    def target_distance_bearing(self) -> tuple[float, float]:
        target = self.nav.target
        if target is None:
            return 0.0, 0.0
        s = self.copter.state
        dn, de = target[0] - s.n, target[1] - s.e
        return math.hypot(dn, de), math.degrees(math.atan2(de, dn)) % 360

    def limits(self, speed: float | None = None) -> Limits:
        p = self.params
        return Limits(
            speed=speed if speed else p.get("WPNAV_SPEED") / 100.0,
            up=p.get("WPNAV_SPEED_UP") / 100.0,
            down=p.get("WPNAV_SPEED_DN") / 100.0,
            accel=p.get("WPNAV_ACCEL") / 100.0,
            accel_z=max(p.get("WPNAV_ACCEL_Z") / 100.0, 0.5),
        )

    # -- parameters -------------------------------------------------------------------------
    def set_param(self, name: str, value: float) -> str | None:
        """Set a parameter as PARAM_SET would (persisted); returns the canonical name."""
        canon = self.params.set(name, value)
        if canon is not None:
            echo_type = SET_ECHO_TYPE.get(canon, self.params.type_of(canon))
            self.send_param_value(canon, self.params[canon], echo_type)
        return canon

    def _param_changed(self, name: str, value: float) -> None:
        if name == "SIM_SPEEDUP" and value > 0 and self.on_speedup is not None:
            self.on_speedup(value)  # the fleet shares one clock
        self._configure()

    def _configure(self) -> None:
        self.fence.configure(self.params)
        self.fence.load(self.missions.items[FENCE], self.home)
        self.battery.capacity_mah = self.params.get("BATT_CAPACITY")
        wind_speed = self.params.get("SIM_WIND_SPD")
        wind_dir = math.radians(self.params.get("SIM_WIND_DIR"))
        # SIM_WIND_DIR is where the wind comes from
        self.copter.wind_n = -wind_speed * math.cos(wind_dir)
        self.copter.wind_e = -wind_speed * math.sin(wind_dir)

    def send_param_value(self, name: str, value: float, ptype: int | None = None) -> None:
        ptype = self.params.type_of(name) if ptype is None else ptype
        msg = mavlink.MAVLink_param_value_message(
            name.encode(), value, ptype, len(self.params), 65535
        )
        self.broadcast(msg)

    def _set_total(self, name: str, value: float) -> None:
        """MIS_TOTAL, FENCE_TOTAL, RALLY_TOTAL: parameters the firmware sets, and announces."""
        canon = self.params.set(name, value, persist=False)
        if canon is not None:
            self.send_param_value(canon, self.params[canon])

    def _missions_changed(self, mission_type: int) -> None:
        self.params.extra["missions"] = self.missions.to_json()
        self.params.save()
        if mission_type == FENCE:
            self.fence.load(self.missions.items[FENCE], self.home)
        if mission_type == MISSION:
            self.auto.mission_changed()
            self.broadcast(telemetry.mission_current(self))

    def save_signing(self) -> None:
        self.params.extra["signing_key"] = self.signing_key.hex() if self.signing_key else ""
        self.params.extra["signing_timestamp"] = self.signing_timestamp
        self.params.save()

    # -- output -----------------------------------------------------------------------------
    def broadcast(self, msg: mavlink.MAVLink_message) -> None:
        for channel in self.channels:
            channel.send(msg)

    def text(self, severity: int, text: str) -> None:
        """STATUSTEXT to every channel, split in 50-character chunks as ArduPilot does."""
        if self.deferred_texts is not None:
            self.deferred_texts.append((severity, text))
            return
        data = text.encode()
        if len(data) <= 50:
            self.broadcast(mavlink.MAVLink_statustext_message(severity, data, 0, 0))
            return
        self._text_id = self._text_id % 65535 + 1
        for i in range(0, len(data), 50):
            chunk = data[i : i + 50]
            self.broadcast(
                mavlink.MAVLink_statustext_message(severity, chunk, self._text_id, i // 50)
            )

    def heartbeat(self) -> mavlink.MAVLink_message:
        base = (
            mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED
            | mavlink.MAV_MODE_FLAG_STABILIZE_ENABLED
            | mavlink.MAV_MODE_FLAG_MANUAL_INPUT_ENABLED
        )
        if self.mode in modes.POSITION_CONTROLLED or (
            self.mode == modes.STABILIZE and not self.ever_armed
        ):
            base |= mavlink.MAV_MODE_FLAG_GUIDED_ENABLED
        if self.armed:
            base |= mavlink.MAV_MODE_FLAG_SAFETY_ARMED
        if self.first_heartbeat:
            status = mavlink.MAV_STATE_BOOT
            self.first_heartbeat = False
        elif self.gcs_failsafe or self.battery.failsafe or self.ekf_failsafe:
            status = mavlink.MAV_STATE_CRITICAL
        elif self.flying:
            status = mavlink.MAV_STATE_ACTIVE
        else:
            status = mavlink.MAV_STATE_STANDBY
        return mavlink.MAVLink_heartbeat_message(
            mavlink.MAV_TYPE_QUADROTOR, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, base, self.mode,
            status, 3,
        )  # fmt: skip

    # -- arming -----------------------------------------------------------------------------
    def prearm_failures(self, mode: int | None = None) -> list[str]:
        """ArduCopter's failing pre-arm checks, worded as its STATUSTEXT (without prefix)."""
        mode = self.mode if mode is None else mode
        failures: list[str] = []
        checks = self.params.get("ARMING_CHECK") != 0
        if checks:
            if not self.booted(PREARM_HEALTHY_S):
                failures.append("Accels inconsistent")
            if not self.booted(5.79):
                failures.append("EKF attitude is bad")
            if not self.booted(4.45):
                failures.append("AHRS: not using configured AHRS type")
            if self.faults.gps_loss and self.booted(PREARM_HEALTHY_S):
                failures.append("GPS 1: Bad fix")
        if self.battery.failsafe:
            kind = "critical" if self.battery.failsafe == 2 else "low"
            failures.append(f"Battery 1 {kind} {self.battery.failsafe_reason} failsafe")
            failures.append("Battery failsafe")
        if checks and self.fence.enabled:
            present = self.fence.types & 3 or (self.fence.types & 4 and self.fence.has_polygon)
            if not present:
                failures.append("Fences enabled, but none selected")
            elif self.fence.types & 6 and not self.ekf_has_position():
                failures.append("Fence requires position")
            elif self.fence.violations(0.0, 0.0, 0.0) and self.booted(PREARM_HEALTHY_S):
                failures.append("Vehicle breaching fence")
        if (
            self.booted(PREARM_HEALTHY_S)
            and mode in modes.NEEDS_POSITION
            and not self.ekf_has_position()
            and not failures
        ):
            failures.append("Need Position Estimate")
        return failures

    def _prearm_evaluate(self) -> None:
        healthy = self.prearm_healthy()
        if self.last_prearm_result is not None and healthy != self.last_prearm_result:
            self.prearm_report_now = True
        self.last_prearm_result = healthy

    def _arming_update(self, t: float) -> None:
        failures = [] if self.armed else self.prearm_failures()
        since = t - self.last_prearm_display
        if (self.prearm_report_now and since > 4.0 + 1e-6) or since > 30.0 + 1e-6:
            self.prearm_report_now = False
            self.last_prearm_display = t
            for failure in failures:
                self.text(mavlink.MAV_SEVERITY_CRITICAL, f"PreArm: {failure}")

    def prearm_healthy(self) -> bool:
        return self.armed or not self.prearm_failures()

    def arm(self, force: bool = False) -> bool:
        if self.armed:
            return True
        failures = [] if force else self.prearm_failures()
        if not force and self.mode not in modes.ARMABLE:
            failures.append("Mode not armable")
        if failures:
            for failure in failures:
                self.text(mavlink.MAV_SEVERITY_CRITICAL, f"Arm: {failure}")
            return False
        self.armed = True
        self.ever_armed = True
        self.landed_since = self.sim_time
        self.nav.touched_down = False
        self.nav.breadcrumbs = []
        self.text(mavlink.MAV_SEVERITY_INFO, "Arming motors")
        if not self.flying and self.home_set:
            # ArduCopter moves home to where it is armed
            lat, lon = self.position()
            self.relocate_home(lat, lon, self.alt_amsl())
            self.broadcast(telemetry.gps_global_origin(self))
            self.broadcast(telemetry.home_position(self))
        return True

    def disarm(self, force: bool = False) -> bool:
        if not self.armed:
            return True
        if self.flying and not force:
            return False
        self.armed = False
        self.disarm_at = None
        self.nav.on_disarm()
        self.auto.on_disarm()
        self.text(mavlink.MAV_SEVERITY_INFO, "Disarming motors")
        return True

    # -- modes ------------------------------------------------------------------------------
    def set_mode(self, mode: int) -> bool:
        if mode not in modes.NAMES:
            return False
        if self.armed and mode in modes.NEEDS_POSITION and not self.ekf_has_position():
            return False
        if mode == modes.SMART_RTL and self.armed and self.flying and not self.nav.breadcrumbs:
            return False  # no path recorded: the failsafe chains fall back to RTL
        if (
            mode == modes.AUTO
            and self.armed
            and not self.flying
            and not self.auto.starts_with_takeoff()
        ):
            self.text(mavlink.MAV_SEVERITY_CRITICAL, "Auto: Missing Takeoff Cmd")
            return False
        previous = self.mode
        self.mode = mode
        self.queue_heartbeat()  # ArduCopter announces a new mode at once
        self.speed_override = None
        if previous == modes.AUTO:
            self.auto.on_exit()
        self.nav.enter_mode(mode)
        if mode == modes.AUTO:
            self.auto.on_enter()
        self._fence_manual_recovery()
        return True

    def _fence_manual_recovery(self) -> None:
        """A mode change while breached starts AC_Fence's manual recovery: new breaches are
        not acted on for 10 s."""
        f = self.fence
        if f.enabled and self.armed and self.flying and f.breached:
            self.text(mavlink.MAV_SEVERITY_INFO, "Manual recovery started")
            f.recovery_until = self.sim_time + FENCE_RECOVERY_S

    def failsafe_mode(self, preferred: tuple[int, ...]) -> None:
        """Switch to the first mode of ``preferred`` that can be entered (ArduCopter's
        set_mode_X_or_Y chains); disarm instead when on the ground."""
        if not self.flying:
            self.disarm(force=True)
            return
        for mode in preferred:
            if self.mode == mode or self.set_mode(mode):
                return
        self.set_mode(modes.LAND)

    # -- time -------------------------------------------------------------------------------
    def step(self, dt: float) -> None:
        """Advance ``dt`` simulated seconds. STATUSTEXT raised meanwhile goes out after the
        step's other messages, as ArduPilot's text queue does."""
        self.deferred_texts = []
        try:
            self._step(dt)
        finally:
            self.flush_texts()

    def flush_texts(self) -> None:
        """Send what was queued: a HEARTBEAT first if a mode changed (ArduPilot sends it at
        once), then the STATUSTEXTs in order."""
        texts, self.deferred_texts = self.deferred_texts or [], None
        if (None, "") in texts:
            self.broadcast(self.heartbeat())
        for severity, text in texts:
            if severity is not None:
                self.text(severity, text)

    def queue_heartbeat(self) -> None:
        if self.deferred_texts is None:
            self.broadcast(self.heartbeat())
        elif (None, "") not in self.deferred_texts:
            self.deferred_texts.append((None, ""))

    def _step(self, dt: float) -> None:
        self.sim_time += dt
        t = self.sim_time
        while self.boot_index < len(BOOT_TEXTS) and self.booted(BOOT_TEXTS[self.boot_index][0]):
            self.text(mavlink.MAV_SEVERITY_INFO, BOOT_TEXTS[self.boot_index][1])
            if BOOT_TEXTS[self.boot_index][1] == "EKF3 IMU0 origin set":
                self._set_home()
            self.boot_index += 1
        while self.boot_param_index < len(BOOT_PARAMS) and self.booted(
            BOOT_PARAMS[self.boot_param_index][0]
        ):
            for name in BOOT_PARAMS[self.boot_param_index][1]:
                self.send_param_value(name, self.params[name])
            self.boot_param_index += 1
        if t >= self.next_stat_runtime:
            self.next_stat_runtime += STAT_RUNTIME_PERIOD_S
            runtime = float(int(self.runtime_at_boot + t))
            self.params.set("STAT_RUNTIME", runtime, persist=False)  # saved when the fleet stops
            self.send_param_value("STAT_RUNTIME", runtime)
        self.nav.step(dt)
        history = self.pose_history
        if self.pose_listeners or not history or t - history[-1].time_s >= POSE_HISTORY_DT - 1e-9:
            pose = self.pose()
            if not history or t - history[-1].time_s >= POSE_HISTORY_DT - 1e-9:
                history.append(pose)
            for listener in self.pose_listeners:
                listener(pose)
        if self.liftoff_at is None and self.flying:
            self.liftoff_at = t
        if self.liftoff_at is not None and not self.yaw_aligned and t >= self.liftoff_at + 1.85:
            self.yaw_aligned = True
            for imu in (0, 1):
                self.text(
                    mavlink.MAV_SEVERITY_INFO,
                    f"EKF3 IMU{imu} MAG0 in-flight yaw alignment complete",
                )
        self._land_detector()
        self._battery(dt)
        self._gcs_failsafe()
        self._fence_check()
        self._ekf_failsafe()
        self.missions.tick()
        if t >= self.next_prearm_eval:
            self.next_prearm_eval += 0.5
            self._prearm_evaluate()
        if t >= self.next_arming_check:
            self.next_arming_check += 1.0
            self._arming_update(t)
        if t >= self.next_heartbeat:
            self.next_heartbeat += 1.0
            self.broadcast(self.heartbeat())
        if t >= self.next_timesync:
            self.next_timesync += 10.0
            self.broadcast(mavlink.MAVLink_timesync_message(0, int(t * 1e9)))
        for channel in self.channels:
            if channel.clients:
                self._streams(channel, t)
        if self.param_queue:
            self._stream_params(dt)

    def _set_home(self) -> None:
        self.home_set = True
        self.broadcast(telemetry.gps_global_origin(self))
        self.broadcast(telemetry.home_position(self))
        self.text(mavlink.MAV_SEVERITY_INFO, f"Field Elevation Set: {round(self.home[2])}m")
        self.send_param_value("MIS_TOTAL", float(max(self.missions.count(), 1)))  # home
        for name in ("BARO1_GND_PRESS", "BARO2_GND_PRESS"):  # re-zeroed at the origin
            self.send_param_value(name, self.params[name])

    def _streams(self, channel: Channel, t: float) -> None:
        due = channel.next_due
        slowdown = 4.0 if t < self.ftp_busy_until else 1.0  # ArduPilot, while FTP replies go out
        for group, rate in channel.stream_rates.items():
            if rate <= 0 or t + 1e-9 < due.get(group, 0.0):
                continue
            period = 1.0 / rate * slowdown
            due[group] = max(due.get(group, 0.0) + period, t + period * 0.5)
            for build in telemetry.STREAM_GROUPS[group][1]:
                msg = build(self)
                if msg is not None:
                    channel.send(msg)
        for msgid, interval in channel.intervals.items():
            key = -msgid  # message ids share the dict with (positive) stream group ids
            if t + 1e-9 < due.get(key, 0.0):
                continue
            interval *= slowdown
            due[key] = max(due.get(key, 0.0) + interval, t + interval * 0.5)
            build = telemetry.BY_ID.get(msgid)
            msg = build(self) if build else None
            if msg is not None:
                channel.send(msg)

    def _stream_params(self, dt: float) -> None:
        per_step = max(1, math.ceil(len(self.params) * dt / 1.0))  # whole list in ~1 s
        for channel, next_index in list(self.param_queue.items()):
            end = min(next_index + per_step, len(self.params))
            for i in range(next_index, end):
                name = self.params.names[i]
                channel.send(
                    mavlink.MAVLink_param_value_message(
                        name.encode(),
                        self.params.values[name],
                        self.params.types[name],
                        len(self.params),
                        i,
                    )
                )
            if end >= len(self.params):
                del self.param_queue[channel]
            else:
                self.param_queue[channel] = end

    def _land_detector(self) -> None:
        if not self.armed:
            return
        if self.flying or self.nav.taking_off or self.nav.pilot_takeoff:
            self.landed_since = None
            self.disarm_at = None
            return
        if self.landed_since is None:
            self.landed_since = self.sim_time
        if self.disarm_at is None:
            delay = LANDED_DISARM_S if self.nav.touched_down else self.params.get("DISARM_DELAY")
            if delay <= 0:
                return
            self.disarm_at = self.landed_since + delay
        if self.sim_time >= self.disarm_at:
            self.disarm(force=True)

    def _battery(self, dt: float) -> None:
        p = self.params
        s = self.copter.state
        b = self.battery
        b.update(
            dt, p.get("SIM_BATT_VOLTAGE"), self.faults.battery_sag_v, self.armed, self.flying,
            self.copter.airspeed, s.vu, p.get("SIM_BATT_CAP_AH"),
        )  # fmt: skip
        if p.get("BATT_MONITOR") == 0:
            return
        remaining_mah = b.capacity_mah - b.consumed_mah
        now = self.sim_time
        timer = p.get("BATT_LOW_TIMER")

        def below(volt_param: str, mah_param: str, since: float | None):
            """(reason or None, when the voltage first fell below the threshold)."""
            volt, mah = p.get(volt_param), p.get(mah_param)
            if mah > 0 and remaining_mah < mah:
                return "capacity", since
            if volt > 0 and b.voltage < volt:
                since = now if since is None else since
                return ("voltage" if now - since >= timer else None), since
            return None, None

        crit, b.crit_since = below("BATT_CRT_VOLT", "BATT_CRT_MAH", b.crit_since)
        low, b.low_since = below("BATT_LOW_VOLT", "BATT_LOW_MAH", b.low_since)
        level = 2 if crit else (1 if low else 0)
        if level > b.failsafe:
            b.failsafe = level
            b.failsafe_reason = crit or low
            kind = "critical" if level == 2 else "low"
            b.charge_state = (
                mavlink.MAV_BATTERY_CHARGE_STATE_CRITICAL
                if level == 2
                else mavlink.MAV_BATTERY_CHARGE_STATE_LOW
            )
            self.text(
                mavlink.MAV_SEVERITY_WARNING,
                f"Battery 1 is {kind} {b.voltage:.2f}V used {b.consumed_mah:.0f} mAh",
            )
            self.text(mavlink.MAV_SEVERITY_WARNING, "Battery Failsafe")
            action = int(p.get("BATT_FS_CRT_ACT" if level == 2 else "BATT_FS_LOW_ACT"))
            self._battery_action(action)

    def _battery_action(self, action: int) -> None:
        if action == 0 or not self.armed:
            return
        chains = {
            1: (modes.LAND,),
            2: (modes.RTL, modes.LAND),
            3: (modes.SMART_RTL, modes.RTL, modes.LAND),
            4: (modes.SMART_RTL, modes.LAND),
            6: (modes.RTL, modes.LAND),
            7: (modes.BRAKE, modes.LAND),
        }
        if action == 5:
            self.disarm(force=True)
            return
        if self.mode == modes.LAND and action != 5:
            return
        self.failsafe_mode(chains.get(action, (modes.LAND,)))

    def _gcs_failsafe(self) -> None:
        p = self.params
        if self.last_gcs_heartbeat is None:
            return
        lost = self.sim_time - self.last_gcs_heartbeat > p.get("FS_GCS_TIMEOUT")
        if not lost:
            if self.gcs_failsafe:
                self.gcs_failsafe = False
                self.text(mavlink.MAV_SEVERITY_WARNING, "GCS Failsafe Cleared")
            return
        if self.gcs_failsafe or not p.get("FS_GCS_ENABLE") or not self.armed:
            return
        self.gcs_failsafe = True
        self.text(mavlink.MAV_SEVERITY_WARNING, "GCS Failsafe")
        options = int(p.get("FS_OPTIONS"))
        if not self.flying:
            self.disarm(force=True)
            return
        fs_gcs = int(p.get("FS_GCS_ENABLE"))
        if (options & 2 or fs_gcs == 2) and self.mode == modes.AUTO:
            return  # FS_OPTIONS bit 1 (or the deprecated FS_GCS_ENABLE 2): continue the mission
        if options & 8 and (self.mode == modes.LAND or self.nav.landing):
            return
        if options & 16 and self.mode in modes.PILOT_CONTROLLED:
            return
        chains = {
            1: (modes.RTL, modes.LAND),
            2: (modes.RTL, modes.LAND),
            3: (modes.SMART_RTL, modes.RTL, modes.LAND),
            4: (modes.SMART_RTL, modes.LAND),
            5: (modes.LAND,),
            7: (modes.BRAKE, modes.LAND),
        }
        self.failsafe_mode(chains.get(fs_gcs, (modes.RTL, modes.LAND)))

    def _fence_check(self) -> None:
        """AC_Fence: act on a new breach (outside a manual-recovery window), report when the
        copter is back inside."""
        f = self.fence
        if not f.enabled or not self.armed or not self.ekf_has_position():
            if not f.enabled:
                f.breached = 0
            return
        s = self.copter.state
        bad = f.violations(s.n, s.e, s.alt) if self.flying else 0
        new = bad & ~f.breached
        recovering = f.recovery_until is not None and self.sim_time < f.recovery_until
        if f.breached and not bad:
            f.breached = 0
            self.text(mavlink.MAV_SEVERITY_NOTICE, "Fence breach cleared")
            return
        f.breached = bad
        if not new:
            return
        f.breach_count += 1
        f.breach_time = self.sim_time
        f.breach_type = BREACH_MAXALT if new & 1 and not new & 6 else BREACH_BOUNDARY
        if recovering:
            return  # counted, but a pilot/GCS recovering is left alone
        names = [name for bit, name in ((4, "Polygon"), (2, "Circle"), (1, "Max alt")) if new & bit]
        self.text(mavlink.MAV_SEVERITY_NOTICE, f"{' '.join(names)} fence breached")
        chains = {
            1: (modes.RTL, modes.LAND),
            2: (modes.LAND,),
            3: (modes.SMART_RTL, modes.RTL, modes.LAND),
            4: (modes.BRAKE, modes.LAND),
            5: (modes.SMART_RTL, modes.LAND),
        }
        for mode in chains.get(int(self.params.get("FENCE_ACTION")), ()):
            if self.set_mode(mode):
                break

    def _ekf_failsafe(self) -> None:
        lost = self.faults.gps_loss and self.booted(EKF_POSITION_S)
        if lost and not self.ekf_failsafe and self.armed and self.flying:
            if self.mode in modes.NEEDS_POSITION:
                self.ekf_failsafe = True
                self.text(mavlink.MAV_SEVERITY_CRITICAL, "EKF variance")
                self.mode = modes.LAND
                self.nav.enter_mode(modes.LAND)
                self.queue_heartbeat()
                self.text(mavlink.MAV_SEVERITY_CRITICAL, "EKF Failsafe: changed to LAND Mode")
        elif not lost and self.ekf_failsafe:
            self.ekf_failsafe = False
            self.text(mavlink.MAV_SEVERITY_CRITICAL, "EKF Failsafe Cleared")

    # -- navigation helpers used by commands ------------------------------------------------
    def local_of(self, lat: float, lon: float) -> tuple[float, float]:
        return ne_between(self.home[0], self.home[1], lat, lon)

    def rally_or_home(self) -> tuple[float, float, float | None]:
        """RTL destination (n, e, alt or None): the closest rally point or home."""
        s = self.copter.state
        best = (0.0, 0.0, None)
        best_dist = math.hypot(s.n, s.e) if self.params.get("RALLY_INCL_HOME") else math.inf
        limit = self.params.get("RALLY_LIMIT_KM") * 1000.0
        for item in self.missions.items[RALLY]:
            n, e = self.local_of(item.lat, item.lon)
            dist = math.hypot(s.n - n, s.e - e)
            if dist < best_dist and (limit <= 0 or math.hypot(n, e) <= max(limit, 1e9)):
                best, best_dist = (n, e, item.z), dist
        return best

    def relocate_home(self, lat: float, lon: float, alt: float) -> None:
        """Move home (DO_SET_HOME) keeping the aircraft where it is."""
        s = self.copter.state
        dn, de = self.local_of(lat, lon)
        s.n -= dn
        s.e -= de
        s.alt -= alt - self.home[2]
        self.home = (lat, lon, alt)
        self.home_set = True
        self.fence.load(self.missions.items[FENCE], self.home)

    def mission_items(self) -> list[Item]:
        return self.missions.items[MISSION]
