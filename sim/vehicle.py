"""One simulated ArduCopter: its state (``sim.state``) and the parts that act on it (boot,
arming, land detector, failsafes, navigation, streams), stepped in ArduCopter's order."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim import mode_change, reboot, telemetry
from sim.arming import Arming
from sim.boot import Boot
from sim.calibration import Calibration
from sim.failsafes import Failsafes
from sim.land_detector import LandDetector
from sim.mission import FENCE, MISSION, MissionStore
from sim.navigation import AutoMission, Nav
from sim.params import ParamStore
from sim.pose import Pose, PoseHistory, current_pose
from sim.state import VehicleState
from sim.stored import StoredExtra, parse_extra
from sim.streams import ParamList, send_due

# Recorded quirk (04): these INT8 params are echoed as REAL32 after a PARAM_SET.
SET_ECHO_TYPE = {
    "FENCE_TYPE": mavlink.MAV_PARAM_TYPE_REAL32,
    "FENCE_ACTION": mavlink.MAV_PARAM_TYPE_REAL32,
}


class Vehicle(VehicleState):
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
        path = state_dir / f"instance-{index}" / "params.json" if state_dir else None
        params = ParamStore(path, overrides={"MAV_SYSID": index + 1})  # as SITL --sysid
        try:
            stored = parse_extra(params.extra)
        except ValueError as exc:  # a damaged state file: start wiped, as after an eeprom erase
            params.wipe(str(exc))
            stored = StoredExtra()
        super().__init__(
            index, (home[0], home[1], home[2]), params, boot_time_scale,
            time.time() if start_time is None else float(start_time), home[3],
        )  # fmt: skip
        self.on_speedup: Callable[[float], None] | None = None
        self.params.listeners.append(self._param_changed)
        self.signing_key = signing_key or bytes.fromhex(stored.signing_key) or None
        self.signing_timestamp = stored.signing_timestamp
        self._start_parts()

    def _start_parts(self) -> None:
        """The parts of a freshly booted copter, on the state ``power_on`` left."""
        self.nav = Nav(self)
        self.auto = AutoMission(self)
        self.missions = MissionStore(
            self.text, lambda: self.sim_time, self.home_item, self._missions_changed,
            self._set_total,
        )  # fmt: skip
        stored = self.params.extra.get("missions")
        if stored:  # checked at power-on (sim.stored), written by this copter since
            self.missions.load_json(stored)
        self.boot = Boot(self)
        self.land = LandDetector(self, lambda: self.disarm(force=True))
        self.arming = Arming(self, self.land)
        self.failsafes = Failsafes(self, self.arming)
        self.calibration = Calibration(self)
        self.param_list = ParamList(self)
        self.poses = PoseHistory()
        self.next_heartbeat = 0.5
        self.next_timesync = 9.5
        self.reboot_at: float | None = None
        self._configure()

    def reboot(self) -> None:
        """Restart as SITL does on PREFLIGHT_REBOOT_SHUTDOWN: connections closed, streams
        gone, a new boot from the --home position; parameters and stored items persist."""
        reboot.disconnect(self.channels)
        self.params.save()
        self.power_on(self.wall_epoch0 + self.sim_time)
        self._start_parts()
        self.boot.rebooted = True

    # -- pose (camera hook) ---------------------------------------------------------------
    def pose(self) -> Pose:
        return current_pose(self)

    def pose_at(self, time_s: float) -> Pose:
        """The pose at simulated time ``time_s`` (interpolated from the last 10 minutes, at
        0.1 s spacing), for a camera renderer stamping frames; ValueError outside it."""
        return self.poses.at(self, time_s)

    @property
    def pose_listeners(self) -> list[Callable[[Pose], None]]:
        return self.poses.listeners

    # -- arming and modes -----------------------------------------------------------------
    def prearm_failures(self, mode: int | None = None) -> list[str]:
        return self.arming.failures(mode)

    def prearm_healthy(self) -> bool:
        return self.arming.healthy()

    def arm(self, force: bool = False) -> bool:
        return self.arming.arm(force)

    def disarm(self, force: bool = False) -> bool:
        return self.arming.disarm(force)

    def set_mode(self, mode: int) -> bool:
        return mode_change.set_mode(self, mode)

    def failsafe_mode(self, preferred: tuple[int, ...]) -> None:
        self.failsafes.failsafe_mode(preferred)

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

    # -- time -------------------------------------------------------------------------------
    def step(self, dt: float) -> None:
        """Advance ``dt`` simulated seconds. STATUSTEXT raised meanwhile goes out after the
        step's other messages, as ArduPilot's text queue does."""
        self.deferred_texts = []
        try:
            self._step(dt)
        finally:
            self.flush_texts()

    def _step(self, dt: float) -> None:
        if self.reboot_at is not None and self.sim_time >= self.reboot_at:
            self.reboot()
        self.sim_time += dt
        t = self.sim_time
        self.boot.step()
        self.nav.step(dt)
        self.poses.record(self)
        self.boot.after_move()
        self.land.step()
        self.failsafes.step(dt)
        self.missions.tick()
        self.calibration.step()
        self.arming.step()
        if t >= self.next_heartbeat:
            self.next_heartbeat += 1.0
            self.broadcast(self.heartbeat())
        if t >= self.next_timesync:
            self.next_timesync += 10.0
            self.broadcast(mavlink.MAVLink_timesync_message(0, int(t * 1e9)))
        for channel in self.channels:
            if channel.clients:
                send_due(self, channel)
        self.param_list.step(dt)
