"""What the copter flies in each mode: hold, goto, velocity, takeoff, land, RTL, and the AUTO
mission executor with ArduCopter's STATUSTEXT and MISSION_ITEM_REACHED behaviour."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim import modes, telemetry
from sim.copter import GRAVITY
from sim.scurve import Track, Vec, WaypointLimits

if TYPE_CHECKING:
    from sim.state import VehicleState

SPOOL_UP_S = 3.75
DISARMED_FALL_MS = 5.0
AVOID_CREEP_MS = 0.3
BRAKE_DECEL_MSS = 7.5  # ArduCopter BRAKE_MODE_DECEL_RATE 750 cm/s²
NAV_COMMANDS = {16, 17, 18, 19, 20, 21, 22, 82, 93, 112}
FAST_NEXT = {16, 17, 18, 19, 82}  # a waypoint followed by one of these is flown through

COMMAND_NAMES = {
    16: "WP",
    17: "LoitUnlim",
    18: "LoitTurns",
    19: "LoitTime",
    20: "RTL",
    21: "Land",
    22: "Takeoff",
    82: "SplineWP",
    93: "Delay",
    112: "CondDelay",
    113: "CondChangeAlt",
    114: "CondDist",
    115: "CondYaw",
    177: "Jump",
    178: "ChangeSpeed",
    179: "SetHome",
    181: "SetRelay",
    183: "SetServo",
    201: "SetROI",
    206: "SetCamTrigDst",
}


class Nav:
    """Navigation primitives for the non-AUTO modes (AUTO drives them through AutoMission)."""

    def __init__(self, vehicle: VehicleState):
        self.v = vehicle
        self.target: tuple[float, float, float] | None = None
        self.track: Track | None = None  # AC_WPNav's S-curve legs towards ``target``
        self._speeds: tuple[float | None, float | None] = (None, None)  # set when it began
        self.velocity: tuple[float, float, float] | None = None
        self.velocity_until = 0.0
        self.speed: float | None = None
        self.taking_off = False
        self.pilot_takeoff = False  # NAV_TAKEOFF accepted in a pilot mode, waiting for throttle
        self.takeoff_start = 0.0
        self.landing = False
        self.land_point: tuple[float, float] = (0.0, 0.0)
        self.touched_down = False
        self.rtl_phase: str | None = None
        self.rtl_dest: tuple[float, float, float] = (0.0, 0.0, 0.0)
        self.rtl_loiter_until = 0.0
        self.paused = False
        self.breadcrumbs: list[tuple[float, float, float]] = []  # SmartRTL path since arming
        self.smart_path: list[tuple[float, float, float]] = []

    # -- setting targets --------------------------------------------------------------------
    def hold_here(self) -> None:
        """Hold at the stopping point, as ArduCopter's position controller does: the copter
        brakes to a stop ahead of where it was (at BRAKE's rate in BRAKE) and stays there."""
        s = self.v.copter.state
        self.velocity = None
        self.speed = None
        self.track = None
        if s.landed:
            self.target = None
            return
        self.target = self._stopping_point()

    def _stopping_point(self) -> Vec:
        """Where the copter comes to rest braking at the current limits (v²/2a ahead)."""
        s = self.v.copter.state
        lim = self._limits()
        ahead = math.hypot(s.vn, s.ve) / (2 * lim.accel)
        up = s.vu * abs(s.vu) / (2 * lim.accel_z)
        return s.n + s.vn * ahead, s.e + s.ve * ahead, s.alt + up

    def _limits(self):
        v = self.v
        lim = v.limits(self.speed or v.speed_override)
        if v.mode == modes.BRAKE:
            lim.accel = lim.accel_z = BRAKE_DECEL_MSS
        return lim

    def wp_limits(self, speed: float | None = None) -> WaypointLimits:
        """AC_WPNav's limits from the parameters: WPNAV_* with the jerk capped by the
        attitude rate limits and the snap set by ATC_INPUT_TC and the angular accelerations
        (AC_WPNav::calc_scurve_jerk_and_snap), at ``speed`` or the speed set."""
        p = self.v.params
        lim = self.v.limits(speed or self.speed or self.v.speed_override)
        jerk = p.get("WPNAV_JERK")
        if jerk <= 0:
            jerk = lim.accel
        rate = min(p.get("ATC_RATE_R_MAX"), p.get("ATC_RATE_P_MAX"))  # deg/s, 0: unlimited
        if rate > 0:
            jerk = min(jerk, math.radians(rate) * GRAVITY)
        snap = jerk * math.pi / (2 * max(p.get("ATC_INPUT_TC"), 0.1))
        ang_accel = min(p.get("ATC_ACCEL_R_MAX"), p.get("ATC_ACCEL_P_MAX")) / 100  # deg/s²
        if ang_accel > 0:
            snap = min(snap, math.radians(ang_accel) * GRAVITY)
        corner = p.get("WPNAV_ACCEL_C") / 100
        return WaypointLimits(
            speed=lim.speed,
            speed_up=lim.up,
            speed_down=lim.down,
            accel=lim.accel,
            accel_z=lim.accel_z,
            jerk=jerk,
            snap=snap / 2,  # AC_WPNav keeps to half of what the airframe could do
            radius=max(p.get("WPNAV_RADIUS") / 100, 0.05),
            accel_corner=corner if corner > 0 else 2 * lim.accel,
            pause_jerk=max(p.get("PSC_JERK_XY"), 0.1),
        )

    def goto(self, n: float, e: float, alt: float, speed: float | None = None) -> None:
        """Fly to (n, e, alt) on AC_WPNav's S-curves: on from the leg just flown when that
        ended there, through it when it was flown as a corner, else from the stopping point."""
        self.velocity = None
        self.landing = False
        self.rtl_phase = None
        self.paused = False
        self.speed = speed
        dest = (n, e, alt)
        track = self.track
        if track is not None and track.passed and track.continues_to(dest):
            track.shift()
        else:
            ended_there = track is not None and track.passed and track.next is None
            origin = track.destination if ended_there else self._stopping_point()
            if speed is None and self.v.mode != modes.AUTO:
                # a new GUIDED target starts over at WPNAV_SPEED, whatever DO_CHANGE_SPEED
                # said before it (as SITL flew it)
                speed = self.v.params.get("WPNAV_SPEED") / 100.0
            self.track = Track(origin, dest, self.wp_limits(speed))
        self.target = dest
        self._speeds = (self.speed, self.v.speed_override)

    def fly_on_to(self, n: float, e: float, alt: float, speed: float | None = None) -> None:
        """After the current target, go on to (n, e, alt) without stopping: a fast waypoint."""
        if self.track is not None:
            self.track.set_next((n, e, alt), self.wp_limits(speed))

    def arrived(self) -> bool:
        """The waypoint is reached: passed the middle of its corner, or stopped on the track's
        end within WPNAV_RADIUS."""
        track = self.track
        if track is None or not track.passed:
            return False
        if track.next is not None:
            return True
        s = self.v.copter.state
        d = track.destination
        return math.dist(d, (s.n, s.e, s.alt)) <= track.lim.radius

    def climb_to(self, alt: float) -> None:
        """Straight up or down to ``alt`` (a take-off item flown in the air)."""
        s = self.v.copter.state
        self.velocity = None
        self.track = None
        self.target = (s.n, s.e, alt)

    def set_velocity(self, vn: float, ve: float, vu: float, timeout_s: float = 3.0) -> None:
        self.velocity = (vn, ve, vu)
        self.velocity_until = self.v.sim_time + timeout_s
        self.target = None
        self.track = None

    def takeoff(self, alt: float) -> None:
        s = self.v.copter.state
        self.pilot_takeoff = False
        self.taking_off = True
        self.touched_down = False
        self.takeoff_start = self.v.sim_time
        self.target = (s.n, s.e, alt)
        self.velocity = None
        self.track = None

    def land(self, n: float | None = None, e: float | None = None) -> None:
        s = self.v.copter.state
        self.landing = True
        self.rtl_phase = None
        self.velocity = None
        self.track = None
        self.land_point = (s.n if n is None else n, s.e if e is None else e)
        self.target = (self.land_point[0], self.land_point[1], 0.0)

    def rtl(self) -> None:
        """Climb (or not) over the stopping point, then fly home on the S-curves."""
        s = self.v.copter.state
        n, e, rally_alt = self.v.rally_or_home()
        rtl_alt = self.v.params.get("RTL_ALT") / 100.0
        climb_to = max(s.alt, rtl_alt) if rtl_alt > 0 else s.alt
        if rally_alt is not None:
            climb_to = max(s.alt, rally_alt)
        self.rtl_dest = (n, e, climb_to)
        self.rtl_phase = "climb"
        self.landing = False
        self.velocity = None
        self.track = None
        stop_n, stop_e, _ = self._stopping_point()
        self.target = (stop_n, stop_e, climb_to)

    def smart_rtl(self) -> None:
        """Retrace the recorded path backwards (SRTL_ACCURACY apart), then land."""
        self.rtl_phase = None
        self.landing = False
        self.velocity = None
        self.track = None
        self.smart_path = list(reversed(self.breadcrumbs))
        self.target = self.smart_path[0] if self.smart_path else None

    def record_breadcrumb(self) -> None:
        s = self.v.copter.state
        p = self.v.params
        if self.breadcrumbs:
            n, e, alt = self.breadcrumbs[-1]
            if math.dist((n, e, alt), (s.n, s.e, s.alt)) < p.get("SRTL_ACCURACY"):
                return
        self.breadcrumbs.append((s.n, s.e, s.alt))
        if len(self.breadcrumbs) > max(int(p.get("SRTL_POINTS")), 2):
            # full: keep the path's shape with half the points, as a simplification pass would
            self.breadcrumbs = (
                self.breadcrumbs[:1] + self.breadcrumbs[1:-1:2] + self.breadcrumbs[-1:]
            )

    def enter_mode(self, mode: int) -> None:
        if mode != modes.GUIDED:
            self.taking_off = False
        self.paused = False
        self.landing = False
        self.rtl_phase = None
        if self.v.copter.state.landed and not self.taking_off:
            self.target = None
            self.velocity = None
            return
        if mode == modes.LAND:
            self.land()
        elif mode == modes.RTL:
            self.rtl()
        elif mode == modes.SMART_RTL:
            self.smart_rtl()
        elif mode != modes.AUTO and not self.taking_off:
            self.hold_here()

    def on_disarm(self) -> None:
        self.taking_off = False
        self.pilot_takeoff = False
        self.landing = False
        self.rtl_phase = None
        self.target = None
        self.velocity = None
        self.track = None

    # -- stepping -----------------------------------------------------------------------------
    def step(self, dt: float) -> None:
        v = self.v
        s = v.copter.state
        if not v.armed:
            if not s.landed:  # motors off in the air: it falls
                v.copter.fly_velocity(0.0, 0.0, -DISARMED_FALL_MS, v.limits(), dt)
                if s.alt <= 0.0:
                    self._touch_down()
            return
        if s.landed:
            if not self.taking_off or v.sim_time < self.takeoff_start + SPOOL_UP_S:
                return
            s.landed = False
        if v.mode == modes.AUTO:
            v.auto.step(dt)
        else:
            self.fly(dt)
        if v.mode != modes.SMART_RTL and not s.landed:
            self.record_breadcrumb()
        if s.alt <= 0.0 and (s.vu < 0.0 or not self.taking_off):
            self._touch_down()

    def fly(self, dt: float) -> None:
        """One step of whatever the current target says."""
        v = self.v
        s = v.copter.state
        lim = self._limits()
        if self.track is not None and self.rtl_phase is None:
            self._fly_track(dt)
            return
        if self.paused:
            v.copter.fly_velocity(0.0, 0.0, 0.0, lim, dt)
            return
        if v.mode == modes.SMART_RTL and not self.landing:
            self._smart_rtl_step(dt, lim)
            return
        if self.rtl_phase is not None:
            self._rtl_step(dt)
            return
        if self.landing:
            self._land_step(dt)
            return
        if self.velocity is not None:
            if v.sim_time > self.velocity_until:
                self.hold_here()
            else:
                v.copter.fly_velocity(*self._avoid(self.velocity, lim), lim, dt)
                return
        if self.target is None:
            self.hold_here()
        if self.target is not None:
            remaining = v.copter.fly_to(*self.target, lim, dt)
            if self.taking_off and (s.alt >= self.target[2] - 0.1 or remaining < 0.1):
                self.taking_off = False

    def _fly_track(self, dt: float) -> None:
        """Follow the S-curve target as ArduCopter's position controller does: its velocity
        and acceleration fed forward, the position error corrected at PSC_POS*_P."""
        assert self.track is not None
        v = self.v
        s = v.copter.state
        if self.rtl_phase is None and (self.speed, v.speed_override) != self._speeds:
            self._speeds = (self.speed, v.speed_override)  # DO_CHANGE_SPEED under way
            self.track.change_limits(self.wp_limits())
        pos, vel, acc = self.track.step(dt, self.paused)
        kxy, kz = v.params.get("PSC_POSXY_P"), v.params.get("PSC_POSZ_P")
        # the step integrates about the mean of this and the next velocity; what the feed
        # forward alone would leave of the position error is corrected
        ff = [vel[i] - acc[i] * dt / 2.0 for i in range(3)]
        here = (s.n, s.e, s.alt)
        gain = (kxy, kxy, kz)
        wanted = [ff[i] + gain[i] * (pos[i] - here[i] - ff[i] * dt) for i in range(3)]
        tl = self.track.lim
        lim = replace(
            self._limits(),
            speed=1.1 * max(tl.speed, math.hypot(vel[0], vel[1])),  # a change slows down
            up=1.1 * tl.speed_up,
            down=1.1 * tl.speed_down,
            accel=1.2 * tl.accel_corner,
            accel_z=2.0 * tl.accel_z,
        )
        v.copter.fly_velocity(*wanted, lim, dt)

    def _avoid(self, velocity, lim):
        """AC_Avoid (AVOID_ENABLE bit 0): slow a velocity request so the copter can stop at
        FENCE_MARGIN before an enabled fence; it still creeps at AVOID_CREEP_MS, as SITL
        did (it breached at ~0.3 m/s)."""
        v = self.v
        vn, ve, vu = velocity
        f = v.fence
        if not f.enabled or not int(v.params.get("AVOID_ENABLE")) & 1:
            return velocity
        s = v.copter.state
        dist = f.distance_along(s.n, s.e, vn, ve)
        speed = math.hypot(vn, ve)
        if dist is None or speed < 1e-6:
            return velocity
        allowed = max(math.sqrt(2 * lim.accel * max(dist - f.margin, 0.0)), AVOID_CREEP_MS)
        if speed <= allowed:
            return velocity
        k = allowed / speed
        return vn * k, ve * k, vu

    def _smart_rtl_step(self, dt: float, lim) -> None:
        v = self.v
        if not self.smart_path:
            s = v.copter.state
            self.land(s.n, s.e)
            return
        target = self.smart_path[0]
        self.target = target
        remaining = v.copter.fly_to(*target, lim, dt)
        if remaining < max(v.params.get("SRTL_ACCURACY"), 0.5):
            self.smart_path.pop(0)

    def _land_step(self, dt: float) -> None:
        """Descend at LAND_SPEED_HIGH (else WPNAV_SPEED_DN), slowing on a square-root approach
        at WPNAV_ACCEL_Z so as to reach LAND_ALT_LOW at LAND_SPEED, then at LAND_SPEED
        (Mode::land_run_vertical_control)."""
        v = self.v
        s = v.copter.state
        p = v.params
        lim = v.limits()
        land = p.get("LAND_SPEED") / 100.0
        high = p.get("LAND_SPEED_HIGH")
        high = max((high if high > 0 else p.get("WPNAV_SPEED_DN")) / 100.0, land)
        above = s.alt - max(p.get("LAND_ALT_LOW") / 100.0, 1.0)
        gain, accel = p.get("PSC_POSZ_P"), lim.accel_z
        linear = accel / (gain * gain)  # ArduPilot's sqrt_controller
        if above > linear:
            approach = math.sqrt(2.0 * accel * (above - linear / 2.0))
        else:
            approach = gain * above
        lim.down = min(max(approach, land), high)
        v.copter.fly_to(self.land_point[0], self.land_point[1], -2.0, lim, dt)

    def _rtl_step(self, dt: float) -> None:
        v = self.v
        s = v.copter.state
        p = v.params
        n, e, alt = self.rtl_dest
        speed = p.get("RTL_SPEED") / 100.0 or None
        lim = v.limits(speed)
        if self.rtl_phase == "climb":
            assert self.target is not None
            remaining = v.copter.fly_to(*self.target, lim, dt)
            if abs(s.alt - alt) <= 0.2 and remaining <= self.wp_limits().radius:
                self.rtl_phase = "return"
                origin = (s.n, s.e, alt)
                self.track = Track(origin, (n, e, alt), self.wp_limits(speed or lim.speed))
                self.target = (n, e, alt)
        elif self.rtl_phase == "return":
            self._fly_track(dt)
            if self.arrived():
                self.rtl_phase = "loiter"
                self.rtl_loiter_until = v.sim_time + p.get("RTL_LOIT_TIME") / 1000.0
        elif self.rtl_phase == "loiter":
            self._fly_track(dt)
            if v.sim_time >= self.rtl_loiter_until:
                final = p.get("RTL_ALT_FINAL") / 100.0
                self.track = None
                if final > 0:
                    self.rtl_phase = "final"
                    self.rtl_dest = (n, e, final)
                else:
                    self.rtl_phase = None
                    self.land(n, e)
        elif self.rtl_phase == "final":
            v.copter.fly_to(n, e, alt, lim, dt)

    def _touch_down(self) -> None:
        v = self.v
        impact = v.copter.touch_down()
        self.taking_off = False
        self.touched_down = self.landing or not v.armed
        self.landing = False
        self.target = None
        self.velocity = None
        v.text(mavlink.MAV_SEVERITY_INFO, f"SIM Hit ground at {impact:f} m/s")


class AutoMission:
    """AUTO mode: runs MISSION items from ``current``."""

    def __init__(self, vehicle: VehicleState):
        self.v = vehicle
        self.current = 0
        self.state = mavlink.MISSION_STATE_NOT_STARTED
        self.started_cmd = -1
        self.arrived_at: float | None = None
        self.jumps: dict[int, int] = {}

    def items(self):
        return self.v.mission_items()

    def mission_state(self) -> int:
        if len(self.items()) <= 1:
            return mavlink.MISSION_STATE_NO_MISSION
        if self.v.nav.paused and self.v.mode == modes.AUTO:
            return mavlink.MISSION_STATE_PAUSED
        return self.state

    def starts_with_takeoff(self) -> bool:
        items = self.items()
        return len(items) > 1 and items[1].command == 22

    def mission_changed(self) -> None:
        self.current = 0
        self.state = mavlink.MISSION_STATE_NOT_STARTED
        self.started_cmd = -1
        self.jumps.clear()

    def set_current(self, seq: int) -> bool:
        if not 0 <= seq < len(self.items()):
            return False
        self.current = seq
        self.started_cmd = -1
        if self.state == mavlink.MISSION_STATE_COMPLETE:
            self.state = mavlink.MISSION_STATE_NOT_STARTED
        if self.v.mode == modes.AUTO:
            self._begin()
        return True

    def on_enter(self) -> None:
        restart = self.v.params.get("MIS_RESTART") >= 1
        if restart or self.current == 0 or self.state == mavlink.MISSION_STATE_COMPLETE:
            self.current = 1
            self.jumps.clear()
        self.state = mavlink.MISSION_STATE_ACTIVE
        self.started_cmd = -1
        if len(self.items()) <= 1:
            self.state = mavlink.MISSION_STATE_COMPLETE
            self.v.nav.hold_here()
            return
        self._begin()

    def on_exit(self) -> None:
        self.started_cmd = -1
        if self.state == mavlink.MISSION_STATE_ACTIVE:
            self.state = mavlink.MISSION_STATE_NOT_STARTED

    def on_disarm(self) -> None:
        items = self.items()
        active = self.v.mode == modes.AUTO and self.state == mavlink.MISSION_STATE_ACTIVE
        if active and 0 < self.current < len(items) and items[self.current].command in (20, 21):
            self._reached_message(self.current)
            self._complete()
        elif self.state != mavlink.MISSION_STATE_COMPLETE:
            self.mission_changed()  # ArduCopter resets the mission on disarm

    def _reached_message(self, seq: int) -> None:
        self.v.broadcast(mavlink.MAVLink_mission_item_reached_message(seq))

    def _complete(self) -> None:
        self.state = mavlink.MISSION_STATE_COMPLETE
        self.current = 0
        self.started_cmd = -1

    def _begin(self) -> None:
        """Start the current command: its 'Mission: n Name' text and any immediate effect."""
        v = self.v
        items = self.items()
        while 0 < self.current < len(items):
            item = items[self.current]
            if self.started_cmd != self.current:
                self.started_cmd = self.current
                self.arrived_at = None
                name = COMMAND_NAMES.get(item.command, str(item.command))
                v.text(mavlink.MAV_SEVERITY_INFO, f"Mission: {self.current} {name}")
                v.broadcast(telemetry.mission_current(v))
            if not v.armed:
                return
            if item.command == 178:  # DO_CHANGE_SPEED
                if item.param2 > 0:
                    v.speed_override = item.param2
                self.current += 1
                continue
            if item.command == 177:  # DO_JUMP
                target, repeat = int(item.param1), int(item.param2)
                done = self.jumps.get(self.current, 0)
                if repeat < 0 or done < repeat:
                    self.jumps[self.current] = done + 1
                    self.current = target
                else:
                    self.current += 1
                continue
            if item.command in NAV_COMMANDS:
                self._start_nav(item)
                return
            self.current += 1  # other DO commands take effect at once here
        if self.current >= len(items):
            self._complete()
            v.nav.hold_here()

    def _local(self, item) -> tuple[float, float, float]:
        v = self.v
        s = v.copter.state
        if item.x == 0 and item.y == 0:
            n, e = s.n, s.e
        else:
            n, e = v.local_of(item.lat, item.lon)
        alt = item.z if item.z != 0 or item.command in (21,) else s.alt
        if item.frame in (mavlink.MAV_FRAME_GLOBAL, mavlink.MAV_FRAME_GLOBAL_INT):
            alt = item.z - v.home[2]
        return n, e, alt

    def _start_nav(self, item) -> None:
        nav = self.v.nav
        s = self.v.copter.state
        if item.command == 22:
            alt = max(item.z, s.alt) if not s.landed else item.z
            if s.landed:
                nav.takeoff(alt)
            else:
                nav.climb_to(alt)
        elif item.command == 20:
            nav.rtl()
        elif item.command == 21:
            n, e, _ = self._local(item)
            nav.land(n, e)
        elif item.command in (93, 112):
            nav.hold_here()
        else:
            n, e, alt = self._local(item)
            nav.goto(n, e, alt)
            if item.command in (16, 82) and item.param1 <= 0:
                self._fly_through()

    def _fly_through(self) -> None:
        """A waypoint without a delay is flown through when the next navigation command goes
        on to another position (ModeAuto::wp_start's fast waypoint); a DO_CHANGE_SPEED on the
        way applies from the corner on."""
        items = self.items()
        speed = None
        for nxt in items[self.current + 1 :]:
            if nxt.command == 178 and nxt.param2 > 0:
                speed = nxt.param2
                continue
            if nxt.command not in NAV_COMMANDS:
                if nxt.command == 177:  # DO_JUMP: where it leads is decided later
                    return
                continue
            if nxt.command in FAST_NEXT and (nxt.x != 0 or nxt.y != 0):
                n2, e2, alt2 = self._local(nxt)
                self.v.nav.fly_on_to(n2, e2, alt2, speed)
            return

    def _next(self) -> None:
        self.current += 1
        self._begin()

    def step(self, dt: float) -> None:
        v = self.v
        nav = v.nav
        items = self.items()
        if self.state != mavlink.MISSION_STATE_ACTIVE or not 0 < self.current < len(items):
            nav.fly(dt)
            return
        if self.started_cmd != self.current:
            self._begin()
            if not 0 < self.current < len(items):
                nav.fly(dt)
                return
        item = items[self.current]
        cmd = item.command
        if cmd in (20, 21):  # RTL / LAND ignore DO_CHANGE_SPEED
            saved, v.speed_override = v.speed_override, None
            nav.fly(dt)
            v.speed_override = saved
            return
        nav.fly(dt)
        if nav.paused:
            return
        s = v.copter.state
        now = v.sim_time
        if cmd == 22:
            if not nav.taking_off and nav.target and s.alt >= nav.target[2] - 0.5:
                self._reached_message(self.current)
                self._next()
            return
        if cmd in (93, 112):
            self.arrived_at = self.arrived_at if self.arrived_at is not None else now
            if now - self.arrived_at >= item.param1:
                self._next()
            return
        if self.arrived_at is None:
            if not nav.arrived():
                return
            self.arrived_at = now
        if cmd in (16, 82):
            if now - self.arrived_at >= item.param1:
                self._reached_message(self.current)
                v.text(mavlink.MAV_SEVERITY_INFO, f"Reached command #{self.current}")
                self._next()
        elif cmd == 19:
            if now - self.arrived_at >= item.param1:
                v.text(mavlink.MAV_SEVERITY_INFO, f"Reached command #{self.current}")
                self._reached_message(self.current + 1)  # ArduCopter reports the next seq here
                self._next()
        elif cmd == 18:
            radius_m = max(abs(item.param3), 1.0)
            circle_s = item.param1 * 2 * math.pi * radius_m / min(v.limits().speed, 5.0)
            if now - self.arrived_at >= circle_s:
                v.text(mavlink.MAV_SEVERITY_INFO, f"Reached command #{self.current}")
                self._reached_message(self.current)
                self._next()
