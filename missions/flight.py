"""How long a copter takes to fly a path: cruise, slowing for corners, climb, descent, loiter.

The figures are ArduCopter defaults (WPNAV_ACCEL 250 cm/s², WPNAV_SPEED_UP 250 cm/s,
WPNAV_SPEED_DN 150 cm/s, LAND_SPEED 50 cm/s below LAND_ALT_LOW 10 m, RTL_LOIT_TIME 5 s) and
timings recorded from ArduCopter SITL (spool-up before liftoff, settling over home, the
disarm after touchdown).
"""

from __future__ import annotations

import numpy as np

ACCEL = 2.5
CLIMB_SPEED = 2.5
DESCENT_SPEED = 1.5
LAND_SPEED = 0.5
LAND_ALT_LOW = 10.0
SPOOL_UP_S = 3.75  # NAV_TAKEOFF to liftoff
RTL_HOVER_S = 7.0  # over home before the descent: RTL_LOIT_TIME 5 s plus settling
DISARM_DELAY_S = 2.1  # touchdown to auto-disarm, motors still turning


def leg_lengths(points: np.ndarray) -> np.ndarray:
    """Lengths of the legs between consecutive points of an (N, 2) array."""
    if len(points) < 2:
        return np.zeros(0)
    return np.hypot(*np.diff(points, axis=0).T)


def turn_times(points: np.ndarray, speed: float, accel: float = ACCEL) -> np.ndarray:
    """Extra seconds at each interior vertex: a full stop and restart (speed/accel) for a
    U-turn, scaled by (1 - cos θ) / 2 for a heading change θ."""
    if len(points) < 3:
        return np.zeros(0)
    d = np.diff(points, axis=0)
    n = np.hypot(d[:, 0], d[:, 1])
    n[n == 0] = 1.0
    u = d / n[:, None]
    cos = np.clip(np.einsum("ij,ij->i", u[:-1], u[1:]), -1.0, 1.0)
    return (speed / accel) * (1.0 - cos) / 2.0


def path_time(points: np.ndarray, speed: float) -> float:
    """Seconds to fly an (N, 2) path in metres at ``speed``, corners included."""
    if len(points) < 2:
        return 0.0
    d = points[1:] - points[:-1]
    n = np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1])
    total = float(n.sum()) / speed
    if len(points) > 2:
        n[n == 0] = 1.0
        cos = (d[:-1, 0] * d[1:, 0] + d[:-1, 1] * d[1:, 1]) / (n[:-1] * n[1:])
        total += float((1.0 - np.clip(cos, -1.0, 1.0)).sum()) * speed / ACCEL / 2.0
    return total


def path_cost(points: np.ndarray, speed: float) -> float:
    """The same in metres of straight flight (what the sweep-angle search minimises)."""
    return path_time(points, speed) * speed


def vertical_time(alt: float) -> float:
    """Take-off climb plus descent and landing at the end of a sortie."""
    high = max(alt - LAND_ALT_LOW, 0.0)
    return alt / CLIMB_SPEED + high / DESCENT_SPEED + min(alt, LAND_ALT_LOW) / LAND_SPEED


def sortie_overhead(alt: float, speed: float, accel: float = ACCEL) -> float:
    """Seconds of a sortie, arming to disarm, besides its horizontal path: spool-up, take-off
    climb, starting from and stopping over home (speed/accel in all), the hover over home,
    descent, landing and the disarm delay."""
    return SPOOL_UP_S + vertical_time(alt) + speed / accel + RTL_HOVER_S + DISARM_DELAY_S
