"""Kinematic multicopter: position and velocity control with WPNAV-style speed, acceleration and
climb limits, in a local north-east-up frame (metres from home)."""

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

    @property
    def ground_speed(self) -> float:
        return math.hypot(self.state.vn, self.state.ve)

    @property
    def airspeed(self) -> float:
        """Horizontal speed through the air mass (wind_n/wind_e: where the air moves to)."""
        return math.hypot(self.state.vn - self.wind_n, self.state.ve - self.wind_e)

    def fly_to(self, n: float, e: float, alt: float, lim: Limits, dt: float) -> float:
        """Straight-line move towards (n, e, alt), slowing to stop on it; returns the remaining
        3D distance."""
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
        speed = min(speed, math.sqrt(2.0 * along_accel * dist), dist / dt)
        k = speed / dist
        self._accelerate(dn * k, de * k, du * k, lim, dt)
        return dist

    def fly_velocity(self, vn: float, ve: float, vu: float, lim: Limits, dt: float) -> None:
        vu = max(-lim.down, min(lim.up, vu))
        horiz = math.hypot(vn, ve)
        if horiz > lim.speed > 0:
            vn, ve = vn * lim.speed / horiz, ve * lim.speed / horiz
        self._accelerate(vn, ve, vu, lim, dt)

    def _accelerate(self, vn: float, ve: float, vu: float, lim: Limits, dt: float) -> None:
        s = self.state
        dvn, dve = vn - s.vn, ve - s.ve
        dv = math.hypot(dvn, dve)
        max_dv = lim.accel * dt
        if dv > max_dv:
            dvn, dve = dvn * max_dv / dv, dve * max_dv / dv
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
        s.roll = s.pitch = 0.0
        s.landed = True
        return impact
