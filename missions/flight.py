"""How long a copter takes to fly a sortie: S-curve legs and corners (missions.scurve), climb,
descent, loiter.

Waypoints are flown as ArduCopter's AC_WPNav flies them: each leg a jerk-limited S-curve at the
mission speed, corners cut by starting the next leg while braking into the waypoint, a stop at a
loiter point and at the last waypoint before RTL, whose return home flies at WPNAV_SPEED
(RTL_SPEED 0: DO_CHANGE_SPEED does not apply to it).

The rest is ArduCopter's defaults (WPNAV_SPEED_UP 250 cm/s with WPNAV_ACCEL_Z 100 cm/s²,
WPNAV_SPEED_DN 150 cm/s, LAND_SPEED 50 cm/s below LAND_ALT_LOW 10 m, RTL_LOIT_TIME 5 s) and
timings recorded from ArduCopter SITL (spool-up before liftoff, the disarm after touchdown),
with the launch the patrol runner flies: GUIDED take-off, AUTO from 90 % of the altitude.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from missions.scurve import (
    corner_overlaps,
    leg_times,
    quick_cruise_speeds,
    speed_ups,
    table_overlaps,
    take,
)

CLIMB_SPEED = 2.5
CLIMB_ACCEL = 1.0
DESCENT_SPEED = 1.5
LAND_SPEED = 0.5
LAND_ALT_LOW = 10.0
TAKEOFF_MARGIN = 0.5  # a take-off item counts as done this far below its altitude
RTL_SPEED = 10.0  # WPNAV_SPEED's default: what RTL returns at
SPOOL_UP_S = 3.75  # NAV_TAKEOFF to liftoff
RTL_HOVER_S = 5.0  # over home before the descent: RTL_LOIT_TIME
DISARM_DELAY_S = 2.1  # touchdown to auto-disarm, motors still turning


def leg_lengths(points: np.ndarray) -> np.ndarray:
    """Lengths of the legs between consecutive points of an (N, 2) array."""
    if len(points) < 2:
        return np.zeros(0)
    return np.hypot(*np.diff(points, axis=0).T)


def _legs_and_corners(
    points: np.ndarray, speeds: np.ndarray, stops: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per leg: length and rest-to-rest time; per interior vertex: the corner's overlap."""
    d = np.diff(points, axis=0)
    length = np.hypot(d[:, 0], d[:, 1])
    times, ups = leg_times(length, speeds)
    if len(points) < 3:
        return length, times, np.zeros(0)
    a, b = d[:-1], d[1:]
    moving = (length[:-1] > 0) & (length[1:] > 0)
    if stops is not None:
        moving &= ~np.asarray(stops, dtype=bool)
    norm = np.where(moving, length[:-1] * length[1:], 1.0)
    cos = np.clip((a[:, 0] * b[:, 0] + a[:, 1] * b[:, 1]) / norm, -1.0, 1.0)
    overlap = np.zeros(len(cos))
    idx = np.flatnonzero(moving)
    if len(idx):
        overlap[idx] = corner_overlaps(
            take(ups, idx),
            take(ups, idx + 1),
            cos[idx],
            np.minimum(speeds[idx], speeds[idx + 1]),
        )
    return length, times, overlap


def turn_times(points: np.ndarray, speed: float, stops: np.ndarray | None = None) -> np.ndarray:
    """Extra seconds at each interior vertex over flying its legs at ``speed``: the slowing
    and speeding up there (half of each leg's, the corner's overlap saved), a full stop where
    ``stops`` (one flag per interior vertex) says so."""
    if len(points) < 3:
        return np.zeros(0)
    speeds = np.full(len(points) - 1, float(speed))
    length, times, overlap = _legs_and_corners(points, speeds, stops)
    extra = times - length / speed
    return (extra[:-1] + extra[1:]) / 2.0 - overlap


def path_time(points: np.ndarray, speed: float, stops: np.ndarray | None = None) -> float:
    """Seconds to fly an (N, 2) path in metres at ``speed``, corners included; starting at
    its first point and stopping at its last are left to :func:`sortie_overhead`."""
    if len(points) < 2:
        return 0.0
    return float(leg_lengths(points).sum()) / speed + float(turn_times(points, speed, stops).sum())


def path_cost(points: np.ndarray, speed: float) -> float:
    """About the same in metres of straight flight: what the sweep-angle search and the grid
    order minimise, quicker for taking every corner as one between legs at full speed."""
    if len(points) < 2:
        return 0.0
    d = np.diff(points, axis=0)
    length = np.hypot(d[:, 0], d[:, 1])
    up, reach = _full_speed_up(float(speed))
    short = length < reach
    # a leg that reaches the speed takes a speed-up's time over flying it all at that speed; a
    # shorter one speeds up over half of it and slows down over the other half
    dur = np.full(len(length), up)
    if short.any():
        dur[short] = length[short] / np.maximum(quick_cruise_speeds(length[short], speed), 1e-9)
    extra = np.where(short, 2.0 * dur - length / speed, up)
    total = float(length.sum()) / speed + float(extra.sum()) - (extra[0] + extra[-1]) / 2.0
    if len(points) > 2:
        a, b = d[:-1], d[1:]
        norm = length[:-1] * length[1:]
        cos = (a[:, 0] * b[:, 0] + a[:, 1] * b[:, 1]) / np.where(norm > 0, norm, 1.0)
        overlap = table_overlaps(np.arccos(np.clip(cos, -1.0, 1.0)), speed)
        overlap = np.minimum(overlap, np.minimum(dur[:-1], dur[1:])) * (norm > 0)
        total -= float(overlap.sum())
    return total * speed


@lru_cache(maxsize=32)
def _full_speed_up(speed: float) -> tuple[float, float]:
    """Seconds to reach ``speed`` from rest, and the shortest leg that reaches it."""
    ups = speed_ups(np.array([speed]))
    return float(ups.duration[0]), 2.0 * float(ups.distance[0])


def vertical_time(alt: float) -> float:
    """Take-off climb (until the take-off item is done) plus descent and landing, each speeding
    up and slowing down at WPNAV_ACCEL_Z."""
    v, a = CLIMB_SPEED, CLIMB_ACCEL
    climb = alt / v + v / a - np.sqrt(2.0 * TAKEOFF_MARGIN / a)
    high, low = max(alt - LAND_ALT_LOW, 0.0), min(alt, LAND_ALT_LOW)
    down, land = DESCENT_SPEED, LAND_SPEED
    descent = high / down + low / land
    if high > 0:  # speeding up to the descent rate, slowing to LAND_SPEED below LAND_ALT_LOW
        descent += down / (2.0 * a) + (down - land) / a - (down**2 - land**2) / (2.0 * a * land)
    return float(climb + descent)


def sortie_overhead(alt: float, speed: float) -> float:
    """Seconds of a sortie, arming to disarm, besides its horizontal path as path_time counts
    it: spool-up, take-off climb, starting from and stopping over home, the hover over home,
    descent, landing and the disarm delay."""
    start_stop, _ = _full_speed_up(float(speed))
    return SPOOL_UP_S + vertical_time(alt) + start_stop + RTL_HOVER_S + DISARM_DELAY_S


def sortie_time(points: np.ndarray, hover: np.ndarray, alt: float, speed: float) -> float:
    """Seconds from arming to the disarm for a sortie from home (``points[0]``) through its
    waypoints back home (``points[-1]``), hovering ``hover`` s at each: the legs at ``speed``
    with their corners, a stop at each hover and at the last waypoint, the RTL leg home at
    RTL_SPEED, and the take-off, hover over home, descent, landing and disarm."""
    speeds = np.full(len(points) - 1, float(speed))
    speeds[-1] = RTL_SPEED
    stops = np.asarray(hover[1:-1], dtype=float) > 0
    if len(stops):
        stops[-1] = True  # RTL follows the last waypoint: it is flown to a stop
    _, times, overlap = _legs_and_corners(points, speeds, stops)
    fixed = SPOOL_UP_S + vertical_time(alt) + RTL_HOVER_S + DISARM_DELAY_S
    return fixed + float(times.sum() - overlap.sum() + np.sum(hover))
