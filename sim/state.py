"""What every part of a simulated copter shares: identity, parameters, home, the airframe, the
battery, fence and mission stores, mode and arming flags, and the outputs (STATUSTEXT,
HEARTBEAT, broadcasts). The modules that act on a vehicle (telemetry, navigation, arming,
failsafes, ...) depend on this module; ``sim.vehicle`` puts them together."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim import modes
from sim.battery import Battery
from sim.copter import Copter, Limits
from sim.faults import Faults
from sim.fence import Fence
from sim.geo import ne_between, offset
from sim.link import Channel
from sim.mission import FENCE, MISSION, RALLY, Item, MissionStore
from sim.params import ParamStore
from sim.rc import RcInput

EKF_POSITION_S = 41.62  # boot time at which the EKF uses GPS (SITL)


class Navigator(Protocol):
    """What the rest of the vehicle uses of its navigation (``sim.navigation.Nav``)."""

    target: tuple[float, float, float] | None
    speed: float | None
    taking_off: bool
    pilot_takeoff: bool
    landing: bool
    touched_down: bool
    paused: bool
    breadcrumbs: list[tuple[float, float, float]]

    def enter_mode(self, mode: int) -> None: ...
    def on_disarm(self) -> None: ...
    def hold_here(self) -> None: ...
    def goto(self, n: float, e: float, alt: float, speed: float | None = None) -> None: ...
    def set_velocity(self, vn: float, ve: float, vu: float, timeout_s: float = 3.0) -> None: ...
    def takeoff(self, alt: float) -> None: ...
    def step(self, dt: float) -> None: ...


class MissionRunner(Protocol):
    """What the rest of the vehicle uses of its AUTO executor (``sim.navigation.AutoMission``)."""

    current: int
    state: int

    def mission_state(self) -> int: ...
    def starts_with_takeoff(self) -> bool: ...
    def mission_changed(self) -> None: ...
    def set_current(self, seq: int) -> bool: ...
    def on_enter(self) -> None: ...
    def on_exit(self) -> None: ...
    def on_disarm(self) -> None: ...


@dataclass
class CalibrationStatus:
    """What the rest of the vehicle sees of its sensor calibrations (``sim.calibration``)."""

    sensors_off: int = 0  # SYS_STATUS bits neither enabled nor healthy
    unhealthy: int = 0  # SYS_STATUS health bits cleared
    accel_needed: bool = False  # an accelerometer calibration failed: no arming until reboot
    compasses: tuple[int, ...] = ()  # compasses whose calibration is running


class VehicleState:
    """The state of one copter and its outputs. ``nav`` and ``auto`` are set by the vehicle."""

    nav: Navigator
    auto: MissionRunner

    def __init__(
        self,
        index: int,
        home: tuple[float, float, float],
        params: ParamStore,
        boot_time_scale: float,
        wall_epoch0: float,
        heading_deg: float,
    ):
        self.index = index
        self.boot_time_scale = boot_time_scale
        self.params = params
        self.sysid = int(params["MAV_SYSID"])
        self.boot_home = (home, heading_deg)  # where SITL's --home puts the copter at power-on
        self.faults = Faults(seed=index)
        self.channels: list[Channel] = []
        self.missions: MissionStore  # set by the vehicle (its callbacks live there)
        self._text_id = 0  # STATUSTEXT id of the last multi-chunk text
        # ArduPilot queues STATUSTEXT, so a command's ACK goes out before its texts
        self.ftp_busy_until = 0.0  # sim time until which MAVLink FTP slows the streams 4x
        self.deferred_texts: list[tuple[int | None, str]] | None = None
        self.power_on(wall_epoch0)

    def power_on(self, wall_epoch0: float) -> None:
        """The state of a copter that has just booted (params and stored items persist)."""
        home, heading_deg = self.boot_home
        self.home = home
        self.home_set = False
        self.sim_time = 0.0
        self.wall_epoch0 = wall_epoch0  # UTC (unix seconds) at sim time 0, as SITL --start-time
        self.copter = Copter(heading_deg)
        self.battery = Battery()
        self.fence = Fence()
        self.mode = modes.STABILIZE
        self.armed = False
        self.ever_armed = False
        self.gcs_failsafe = False
        self.ekf_failsafe = False
        self.last_gcs_heartbeat: float | None = None
        self.last_prearm_result: bool | None = None  # the arming checks' last (2 Hz) result
        self.first_heartbeat = True
        self.speed_override: float | None = None
        self.rc = RcInput()
        self.calibration_status = CalibrationStatus()

    # -- queries ----------------------------------------------------------------------------
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

    def mission_items(self) -> list[Item]:
        return self.missions.items[MISSION]

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
        """Move home (DO_SET_HOME, arming) keeping the aircraft where it is."""
        s = self.copter.state
        dn, de = self.local_of(lat, lon)
        s.n -= dn
        s.e -= de
        s.alt -= alt - self.home[2]
        self.home = (lat, lon, alt)
        self.home_set = True
        self.fence.load(self.missions.items[FENCE], self.home)

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

    def send_param_value(self, name: str, value: float, ptype: int | None = None) -> None:
        ptype = self.params.type_of(name) if ptype is None else ptype
        msg = mavlink.MAVLink_param_value_message(
            name.encode(), value, ptype, len(self.params), 65535
        )
        self.broadcast(msg)

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
