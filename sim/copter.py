"""Kinematic multicopter: position and velocity control with WPNAV-style speed, acceleration,
jerk and climb limits, in a local north-east-up frame (metres from home)."""

from __future__ import annotations

import math
from dataclasses import dataclass

GRAVITY = 9.80665
DRAG_PER_M = 0.04  # drag acceleration / airspeed² (1/m): ~22° tilt at 10 m/s


@dataclass
class Limits:
    speed: float  # horizontal m/s
    up: float  # m/s
    down: float  # m/s
    accel: float  # horizontal m/s²
    accel_z: float  # vertical m/s²
    # horizontal m/s³ of waypoint moves (WPNAV_JERK: ArduCopter's S-curves); None: unlimited
    jerk: float | None = None


def braking_distance(
    speed: float,
    accel: float,
    jerk: float | None,
    exit_speed: float = 0.0,
    accel_now: float = 0.0,
) -> float:
    """Metres to slow from ``speed`` to ``exit_speed`` at ``accel``, the deceleration ramped in
    and out at ``jerk`` (and an acceleration ``accel_now`` ramped out first)."""
    if speed <= exit_speed:
        return 0.0
    ramp = 0.0
    if jerk:
        ramp = (speed + exit_speed) * accel / (2 * jerk) + speed * max(accel_now, 0.0) / jerk
    return (speed * speed - exit_speed * exit_speed) / (2 * accel) + ramp


def stopping_speed(dist: float, accel: float, jerk: float | None) -> float:
    """The highest speed that can still stop within ``dist`` (braking_distance inverted)."""
    if not jerk:
        return math.sqrt(2 * accel * dist)
    ramp = accel * accel / (2 * jerk)
    return -ramp + math.sqrt(ramp * ramp + 2 * accel * dist)


@dataclass
class CopterState:
    n: float = 0.0
    e: float = 0.0
    alt: float = 0.0  # metres above home
    vn: float = 0.0
    ve: float = 0.0
    vu: float = 0.0
    yaw: float = 0.0  # radians, 0 north
    roll: float = 0.0
    pitch: float = 0.0
    landed: bool = True


class Copter:
    """Integrates the state towards position or velocity targets, one fixed step at a time."""

    def __init__(self, yaw_deg: float = 0.0):
        self.state = CopterState(yaw=math.radians(yaw_deg))
        self.wind_n = 0.0
        self.wind_e = 0.0
        self.accel_n = 0.0  # the horizontal acceleration of the last step (m/s²)
        self.accel_e = 0.0

    @property
    def ground_speed(self) -> float:
        return math.hypot(self.state.vn, self.state.ve)

    @property
    def airspeed(self) -> float:
        """Horizontal speed through the air mass (wind_n/wind_e: where the air moves to)."""
        return math.hypot(self.state.vn - self.wind_n, self.state.ve - self.wind_e)

    def fly_to(
        self, n: float, e: float, alt: float, lim: Limits, dt: float, exit_speed: float = 0.0
    ) -> float:
        """Straight-line move towards (n, e, alt), slowing to stop on it (or to pass it at
        ``exit_speed``, a corner into the next leg); returns the remaining 3D distance."""
        s = self.state
        dn, de, du = n - s.n, e - s.e, alt - s.alt
        horiz = math.hypot(dn, de)
        dist = math.sqrt(horiz * horiz + du * du)
        if dist < 1e-6:
            self._accelerate(0.0, 0.0, 0.0, lim, dt)
            return 0.0
        # cruise speed along the line such that neither axis exceeds its limit
        speed = lim.speed
        if horiz > 1e-6:
            speed = min(speed, lim.speed * dist / horiz)
        if du > 1e-6:
            speed = min(speed, lim.up * dist / du)
        elif du < -1e-6:
            speed = min(speed, lim.down * dist / -du)
        along_accel = min(lim.accel, lim.accel_z * dist / abs(du)) if abs(du) > 1e-6 else lim.accel
        exit_speed = min(exit_speed, speed)
        if lim.jerk and horiz > 1e-3:
            now = (s.vn * dn + s.ve * de) / horiz  # speed towards the target
            pushing = (self.accel_n * dn + self.accel_e * de) / horiz
            if horiz <= braking_distance(now, along_accel, lim.jerk, exit_speed, pushing):
                # brake now; the climb or descent keeps pace with the horizontal speed
                k = exit_speed / horiz
                self._accelerate(dn * k, de * k, du * max(now, 0.0) / horiz, lim, dt, lim.jerk)
                return dist
        beyond = braking_distance(exit_speed, along_accel, lim.jerk)
        speed = min(speed, stopping_speed(dist + beyond, along_accel, lim.jerk))
        speed = min(speed, max(dist / dt, exit_speed))
        k = speed / dist
        self._accelerate(dn * k, de * k, du * k, lim, dt, lim.jerk)
        return dist

    def fly_velocity(self, vn: float, ve: float, vu: float, lim: Limits, dt: float) -> None:
        vu = max(-lim.down, min(lim.up, vu))
        horiz = math.hypot(vn, ve)
        if horiz > lim.speed > 0:
            vn, ve = vn * lim.speed / horiz, ve * lim.speed / horiz
        self._accelerate(vn, ve, vu, lim, dt)

    def _accelerate(
        self, vn: float, ve: float, vu: float, lim: Limits, dt: float, jerk: float | None = None
    ) -> None:
        """Move the velocity towards (vn, ve, vu) at most at the acceleration limits; with
        ``jerk`` the horizontal acceleration itself ramps, and eases off as the velocity
        closes in (the acceleration that can still be ramped to zero in time)."""
        s = self.state
        en, ee = vn - s.vn, ve - s.ve
        err = math.hypot(en, ee)
        wanted = min(lim.accel, err / dt)
        if jerk:
            wanted = min(wanted, math.sqrt(2 * jerk * err))
        an, ae = (en * wanted / err, ee * wanted / err) if err > 1e-9 else (0.0, 0.0)
        if jerk:
            dan, dae = an - self.accel_n, ae - self.accel_e
            da = math.hypot(dan, dae)
            if da > jerk * dt:
                an = self.accel_n + dan * jerk * dt / da
                ae = self.accel_e + dae * jerk * dt / da
            step = math.hypot(an, ae) * dt
            if step > err:  # never past the velocity asked for
                an, ae = (an * err / step, ae * err / step)
        self.accel_n, self.accel_e = an, ae
        dvn, dve = an * dt, ae * dt
        dvu = max(-lim.accel_z * dt, min(lim.accel_z * dt, vu - s.vu))
        s.vn += dvn
        s.ve += dve
        s.vu += dvu
        s.n += s.vn * dt
        s.e += s.ve * dt
        s.alt += s.vu * dt
        # tilt needed for the horizontal acceleration plus holding against the wind
        # quadratic drag of the relative air: the copter leans into the airflow
        rel_n, rel_e = s.vn - self.wind_n, s.ve - self.wind_e
        rel = math.hypot(rel_n, rel_e)
        an = dvn / dt + DRAG_PER_M * rel * rel_n
        ae = dve / dt + DRAG_PER_M * rel * rel_e
        cy, sy = math.cos(s.yaw), math.sin(s.yaw)
        fwd = an * cy + ae * sy
        right = -an * sy + ae * cy
        s.pitch = -math.atan2(fwd, GRAVITY)
        s.roll = math.atan2(right, GRAVITY)
        speed = math.hypot(s.vn, s.ve)
        if speed > 1.0:
            self._turn_towards(math.atan2(s.ve, s.vn), dt)

    def _turn_towards(self, heading: float, dt: float, rate: float = math.radians(90)) -> None:
        s = self.state
        diff = (heading - s.yaw + math.pi) % (2 * math.pi) - math.pi
        step = max(-rate * dt, min(rate * dt, diff))
        s.yaw = (s.yaw + step) % (2 * math.pi)

    def touch_down(self) -> float:
        """Put the copter on the ground; returns the vertical speed at impact (m/s)."""
        s = self.state
        impact = -s.vu
        s.alt = 0.0
        s.vn = s.ve = s.vu = 0.0
        self.accel_n = self.accel_e = 0.0
        s.roll = s.pitch = 0.0
        s.landed = True
        return impact
