"""Jerk-limited S-curve waypoint legs and their corners, as ArduCopter's AC_WPNav flies them
(AP_Math's SCurve).

A leg runs from rest to rest along the straight line between two waypoints. Its acceleration
rises and falls along raised-cosine jerk ramps (WPNAV_JERK, the ramp time set by the attitude
controller's snap), holds WPNAV_ACCEL, cruises at WPNAV_SPEED (both cut by the climb or descent
limits on a sloping leg) and then does all of it backwards to stop.

A corner is flown by starting the next leg while this one is still braking: ArduCopter starts it
as soon as the midpoint of that overlap would lie within WPNAV_RADIUS of the waypoint, slower
than the legs' speed and with less than WPNAV_ACCEL_C of acceleration. The two motions add up,
so the copter cuts inside the corner and never swings outside it; the waypoint counts as reached
half-way through the overlap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Vec = tuple[float, float, float]  # north, east, up (m)
ZERO: Vec = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class WaypointLimits:
    """AC_WPNav's limits for one leg, in m, s and radians."""

    speed: float  # horizontal (WPNAV_SPEED, or a speed set by DO_CHANGE_SPEED)
    speed_up: float
    speed_down: float
    accel: float  # horizontal (WPNAV_ACCEL)
    accel_z: float
    jerk: float  # WPNAV_JERK, capped by the attitude controller's rate limits
    snap: float  # how fast the jerk may change (from ATC_INPUT_TC)
    radius: float = 2.0  # WPNAV_RADIUS
    accel_corner: float = 5.0  # WPNAV_ACCEL_C, else twice WPNAV_ACCEL
    pause_jerk: float = 5.0  # PSC_JERK_XY: how sharply a pause slows the track down

    @property
    def ramp(self) -> float:
        """Seconds for the raised-cosine jerk to reach ``jerk``."""
        return self.jerk * math.pi / (2.0 * self.snap)


def kinematic_limit(delta: Vec, horizontal: float, up: float, down: float) -> float:
    """The largest magnitude along ``delta`` whose horizontal part stays within ``horizontal``
    and whose vertical part within ``up`` (climbing) or ``down`` (descending)."""
    h = math.hypot(delta[0], delta[1])
    v = delta[2]
    length = math.hypot(h, v)
    if length == 0.0:
        return 0.0
    limit = math.inf
    if h > 0.0:
        limit = horizontal * length / h
    if v > 0.0:
        limit = min(limit, up * length / v)
    elif v < 0.0:
        limit = min(limit, down * length / -v)
    return limit


@dataclass(frozen=True)
class SpeedUp:
    """Speeding up from rest to ``speed``: the jerk ramps to ``jerk`` in ``ramp`` s, holds for
    ``hold`` s, ramps back to zero, leaving ``accel`` that is held ``accel_hold`` s; then all of
    it in reverse. Braking to a stop is the same motion played backwards."""

    speed: float
    ramp: float
    jerk: float
    hold: float
    accel: float
    accel_hold: float

    @property
    def rise(self) -> float:
        """Seconds for the acceleration to reach ``accel``."""
        return 2.0 * self.ramp + self.hold

    @property
    def duration(self) -> float:
        return 2.0 * self.rise + self.accel_hold

    @property
    def distance(self) -> float:
        # the acceleration is symmetric in time, so the mean speed is half the final one
        return self.speed * self.duration / 2.0

    def at(self, t: float) -> tuple[float, float, float]:
        """(distance, speed, acceleration) ``t`` s after the start."""
        t = min(max(t, 0.0), self.duration)
        half = self.duration / 2.0
        if t <= half:
            return self._first_half(t)
        p, v, a = self._first_half(self.duration - t)
        return self.speed * t - self.distance + p, self.speed - v, a

    def _first_half(self, t: float) -> tuple[float, float, float]:
        r, j = self.ramp, self.jerk
        p = v = a = 0.0
        if r > 0.0:  # jerk rising as a raised cosine
            s = min(t, r)
            w = math.pi / r
            a = j / 2.0 * (s - math.sin(w * s) / w)
            v = j / 2.0 * (s * s / 2.0 - (1.0 - math.cos(w * s)) / (w * w))
            p = j / 2.0 * (s**3 / 6.0 - s / (w * w) + math.sin(w * s) / w**3)
            t -= s
        if t > 0.0 and self.hold > 0.0:  # constant jerk
            s = min(t, self.hold)
            p += v * s + a * s * s / 2.0 + j * s**3 / 6.0
            v += a * s + j * s * s / 2.0
            a += j * s
            t -= s
        if t > 0.0 and r > 0.0:  # jerk falling as a raised cosine
            s = min(t, r)
            w = math.pi / r
            p += (
                v * s
                + a * s * s / 2.0
                + j / 2.0 * (s**3 / 6.0 + s / (w * w) - math.sin(w * s) / w**3)
            )
            v += a * s + j / 2.0 * (s * s / 2.0 + (1.0 - math.cos(w * s)) / (w * w))
            a += j / 2.0 * (s + math.sin(w * s) / w)
            t -= s
        if t > 0.0:  # constant acceleration
            p += v * t + a * t * t / 2.0
            v += a * t
        return p, v, a


def speed_up(speed: float, accel: float, jerk: float, ramp: float) -> SpeedUp:
    """The fastest jerk-limited way from rest to ``speed`` within ``accel`` and ``jerk``, the
    jerk ramps no steeper than ``jerk / ramp`` (the snap)."""
    if speed <= 0.0:
        return SpeedUp(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    if accel >= jerk * ramp:
        full = accel * (ramp + accel / jerk)  # speed gained reaching accel and letting go of it
        if speed >= full:
            return SpeedUp(speed, ramp, jerk, accel / jerk - ramp, accel, (speed - full) / accel)
        peak = jerk * (math.sqrt(ramp * ramp + 4.0 * speed / jerk) - ramp) / 2.0
        if peak >= jerk * ramp:
            return SpeedUp(speed, ramp, jerk, peak / jerk - ramp, peak, 0.0)
    # too small a change for full ramps: shorter ramps at the same snap
    snap = jerk / ramp
    r = min(ramp, math.sqrt(accel / snap), (speed / (2.0 * snap)) ** (1.0 / 3.0))
    peak = snap * r * r
    return SpeedUp(speed, r, snap * r, 0.0, peak, max(speed - 2.0 * peak * r, 0.0) / peak)


class Profile:
    """Distance, speed and acceleration along one leg of ``length`` m flown from
    ``start_speed`` (rest, or a cruise the leg was re-planned from) to rest, cruising at
    ``speed`` if the leg is long enough to reach it."""

    def __init__(
        self,
        length: float,
        speed: float,
        accel: float,
        jerk: float,
        ramp: float,
        start_speed: float = 0.0,
    ):
        self.length = length
        self.speed = speed  # the leg's limit (ArduCopter compares corner speeds with it)
        self.start_speed = v0 = start_speed
        shape = (accel, jerk, ramp)

        def needs(cruise: float) -> float:
            change = speed_up(abs(cruise - v0), *shape)
            return (v0 + cruise) / 2.0 * change.duration + speed_up(cruise, *shape).distance

        cruise = speed if length > 0.0 else 0.0
        if cruise > 0.0 and needs(cruise) > length:  # too short: the cruise speed that fits
            lo, hi = (v0, cruise) if v0 <= cruise else (v0, v0)
            for _ in range(60):
                mid = (lo + hi) / 2.0
                lo, hi = (lo, mid) if needs(mid) > length else (mid, hi)
            cruise = lo
        self.change = speed_up(abs(cruise - v0), *shape)  # from start_speed to cruise
        self.sign = 1.0 if cruise >= v0 else -1.0
        self.stop = speed_up(cruise, *shape)  # played backwards
        self.change_distance = (v0 + cruise) / 2.0 * self.change.duration
        rest = length - self.change_distance - self.stop.distance
        self.cruise_speed = cruise
        self.cruise = max(rest / cruise, 0.0) if cruise > 0 else 0.0
        self.accel_end = self.change.duration
        self.decel_start = self.accel_end + self.cruise
        self.duration = self.decel_start + self.stop.duration

    def at(self, t: float) -> tuple[float, float, float]:
        """(distance, speed, acceleration) ``t`` s into the leg."""
        if t <= self.accel_end:
            p, v, a = self.change.at(t)
            k = self.sign
            return self.start_speed * t + k * p, self.start_speed + k * v, k * a
        if t < self.decel_start:
            return (
                self.change_distance + self.cruise_speed * (t - self.accel_end),
                self.cruise_speed,
                0.0,
            )
        p, v, a = self.stop.at(self.duration - t)
        return self.length - p, v, -a


class Leg:
    """A straight leg between two waypoints and how far along its profile the copter is."""

    def __init__(
        self, origin: Vec, destination: Vec, lim: WaypointLimits, start_speed: float = 0.0
    ):
        self.origin = origin
        self.destination = destination
        self.lim = lim
        self.delta: Vec = (
            destination[0] - origin[0],
            destination[1] - origin[1],
            destination[2] - origin[2],
        )
        length = math.sqrt(sum(d * d for d in self.delta))
        self.unit: Vec = tuple(d / length for d in self.delta) if length > 0 else ZERO  # type: ignore[assignment]
        speed = kinematic_limit(self.delta, lim.speed, lim.speed_up, lim.speed_down)
        accel = kinematic_limit(self.delta, lim.accel, lim.accel_z, lim.accel_z)
        self.profile = Profile(length, speed, accel, lim.jerk, lim.ramp, start_speed)
        self.accel_z = lim.accel_z
        self.t = 0.0

    @property
    def remaining(self) -> float:
        return self.profile.duration - self.t

    @property
    def finished(self) -> bool:
        return self.t >= self.profile.duration

    def advance(self, dt: float) -> None:
        self.t = min(self.t + dt, self.profile.duration)

    def state(self, t: float | None = None) -> tuple[Vec, Vec, Vec]:
        """Displacement from the origin, velocity and acceleration at ``t`` (now if None)."""
        p, v, a = self.profile.at(self.t if t is None else t)
        u = self.unit
        return (
            (u[0] * p, u[1] * p, u[2] * p),
            (u[0] * v, u[1] * v, u[2] * v),
            (u[0] * a, u[1] * a, u[2] * a),
        )


def _add(a: Vec, b: Vec, k: float = 1.0) -> Vec:
    return a[0] + k * b[0], a[1] + k * b[1], a[2] + k * b[2]


def _norm(v: Vec) -> float:
    return math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])


class Track:
    """The target AC_WPNav moves along: this leg, the tail of the previous one and, past a fast
    waypoint, the start of the next, added together. ``step`` moves it on and returns where the
    copter should be, how fast and how it accelerates."""

    def __init__(self, origin: Vec, destination: Vec, lim: WaypointLimits):
        self.prev: Leg | None = None
        self.this = Leg(origin, destination, lim)
        self.next: Leg | None = None
        self.passed = False  # this leg's end, or the middle of its corner, is behind
        self.rate = 1.0  # how fast time runs along the track: below 1 while pausing
        self._rate_change = 0.0
        self._new_limits: WaypointLimits | None = None

    @property
    def destination(self) -> Vec:
        return self.this.destination

    @property
    def lim(self) -> WaypointLimits:
        return self.this.lim

    def set_next(self, destination: Vec, lim: WaypointLimits) -> None:
        """Fly on to ``destination`` through this leg's end without stopping there."""
        self.next = Leg(self.this.destination, destination, lim)

    def shift(self) -> None:
        """Make the next leg (already under way) this one."""
        assert self.next is not None
        self.prev, self.this, self.next = self.this, self.next, None
        self.passed = False

    def change_limits(self, lim: WaypointLimits) -> None:
        """A new speed (DO_CHANGE_SPEED): this leg is re-planned from where the target is, at
        rest or once it cruises, the next leg from its start."""
        self._new_limits = lim

    def _replan(self) -> None:
        lim, this = self._new_limits, self.this
        assert lim is not None
        if self.prev is not None and not self.prev.finished:
            return  # still in the last corner
        prof = this.profile
        if this.t > 0.0 and not prof.accel_end <= this.t < prof.decel_start:
            return  # speeding up or braking: once it cruises
        if self.next is not None:
            if self.next.t > 0.0:
                return
            self.next = Leg(this.destination, self.next.destination, lim)
        p, v, _ = prof.at(this.t)
        here = tuple(o + u * p for o, u in zip(this.origin, this.unit, strict=True))
        self.this = Leg(here, this.destination, lim, start_speed=v)  # type: ignore[arg-type]
        self.prev = None
        self._new_limits = None

    def continues_to(self, destination: Vec) -> bool:
        return self.next is not None and _norm(_add(self.next.destination, destination, -1)) < 0.01

    def step(self, dt: float, paused: bool = False) -> tuple[Vec, Vec, Vec]:
        if self._new_limits is not None:
            self._replan()
        self._pace(dt, paused)
        dt *= self.rate
        this, nxt = self.this, self.next
        pos, vel, acc = this.origin, ZERO, ZERO
        if self.prev is not None:
            self.prev.advance(dt)
            p, v, a = self.prev.state()
            pos, vel, acc = _add(_add(pos, p), self.prev.delta, -1), v, a
        this.advance(dt)
        p, v, a = this.state()
        pos, vel, acc = _add(pos, p), _add(vel, v), _add(acc, a)
        self.passed = self.passed or this.finished
        if nxt is not None and (nxt.t > 0.0 or self._corner_begins()):
            nxt.advance(dt)
            p, v, a = nxt.state()
            pos, vel, acc = _add(pos, p), _add(vel, v), _add(acc, a)
            if nxt.t >= this.remaining:
                self.passed = True
        k = self.rate
        return (
            pos,
            (vel[0] * k, vel[1] * k, vel[2] * k),
            (acc[0] * k * k, acc[1] * k * k, acc[2] * k * k),
        )

    def _corner_begins(self) -> bool:
        """Whether to start the next leg now: this one is braking, will have stopped before the
        next has sped up, and the middle of the overlap stays close, slow and gentle enough."""
        this, nxt = self.this, self.next
        assert nxt is not None
        prof = this.profile
        if this.t < prof.decel_start or this.remaining > nxt.profile.accel_end:
            return False
        half = this.remaining / 2.0
        p1, v1, a1 = this.state(this.t + half)
        p2, v2, a2 = nxt.state(half)
        pos = _add(_add(p1, this.delta, -1), p2)
        vel = _add(v1, v2)
        acc = _add(a1, a2)
        lim = self.lim
        return (
            _norm(pos) < lim.radius
            and _norm(vel) < min(prof.speed, nxt.profile.speed)
            and math.hypot(acc[0], acc[1]) < lim.accel_corner
            and abs(acc[2]) < min(this.accel_z, nxt.accel_z)
        )

    def _pace(self, dt: float, paused: bool) -> None:
        """Slow the track's clock to a stop while paused and back to full speed after, the
        rate of change ramped as AC_WPNav shapes its speed (WPNAV_ACCEL, PSC_JERK_XY)."""
        goal = 0.0 if paused else 1.0
        if self.rate == goal and self._rate_change == 0.0:
            return
        speed = max(self.lim.speed, 0.1)
        accel, jerk = self.lim.accel / speed, self.lim.pause_jerk / speed
        err = goal - self.rate
        wanted = math.copysign(min(accel, math.sqrt(2.0 * jerk * abs(err))), err)
        change = wanted - self._rate_change
        self._rate_change += max(-jerk * dt, min(jerk * dt, change))
        rate = self.rate + self._rate_change * dt
        if (rate - goal) * err >= 0.0:  # arrived: no overshoot
            rate, self._rate_change = goal, 0.0
        self.rate = min(max(rate, 0.0), 1.0)
