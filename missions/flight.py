"""How long a copter takes to fly a sortie: S-curve legs and corners (missions.scurve), climb,
descent, loiter.

Waypoints are flown as ArduCopter's AC_WPNav flies them: each leg a jerk-limited S-curve at the
mission speed, corners cut by starting the next leg while braking into the waypoint, a stop at a
loiter point and at the last waypoint before RTL, whose return home flies at WPNAV_SPEED
(RTL_SPEED 0: DO_CHANGE_SPEED does not apply to it).

The rest is ArduCopter's defaults (WPNAV_SPEED_UP 250 cm/s with WPNAV_ACCEL_Z 100 cm/s²,
WPNAV_SPEED_DN 150 cm/s, LAND_SPEED 50 cm/s from LAND_ALT_LOW 10 m, RTL_LOIT_TIME 5 s) and
timings recorded from ArduCopter SITL (spool-up before liftoff, the disarm after touchdown),
with the launch the patrol runner flies: GUIDED take-off, AUTO from 90 % of the altitude.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from missions.scurve import (
    corner_overlaps,
    cruise_speeds,
    leg_times,
    overlap_table,
    speed_ups,
    take,
)

CLIMB_SPEED = 2.5
CLIMB_ACCEL = 1.0  # WPNAV_ACCEL_Z, up and down
POS_Z_P = 1.0  # PSC_POSZ_P
DESCENT_SPEED = 1.5
LAND_SPEED = 0.5
LAND_ALT_LOW = 10.0
TAKEOFF_MARGIN = 0.5  # a take-off item counts as done this far below its altitude
RTL_SPEED = 10.0  # WPNAV_SPEED's default: what RTL returns at
SPOOL_UP_S = 3.75  # NAV_TAKEOFF to liftoff
RTL_HOVER_S = 5.0  # over home before the descent: RTL_LOIT_TIME
DISARM_DELAY_S = 2.1  # touchdown to auto-disarm, motors still turning
COST_SAMPLES = 400  # leg lengths in path_cost's table


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


def path_time(points: np.ndarray, speed: float) -> float:
    """Seconds to fly an (N, 2) path in metres at ``speed``, corners included; starting at
    its first point and stopping at its last are left to :func:`sortie_overhead`."""
    if len(points) < 2:
        return 0.0
    return float(leg_lengths(points).sum()) / speed + float(turn_times(points, speed).sum())


def path_cost(points: np.ndarray, speed: float) -> float:
    """About the same in metres of straight flight: what the sweep-angle search and the grid
    order minimise, quicker for taking every corner as one between legs at full speed and
    each leg's time from a table over its length."""
    if len(points) < 2:
        return 0.0
    d = points[1:] - points[:-1]
    length = np.hypot(d[:, 0], d[:, 1])
    extra, overlap = _cost_terms(d, length, speed)
    total = float(length.sum()) / speed + float(extra.sum()) - (extra[0] + extra[-1]) / 2.0
    return (total - float(overlap.sum())) * speed


def path_costs(paths: list[np.ndarray], speed: float) -> np.ndarray:
    """path_cost of each path, all in one pass (quicker than one call per path from a few
    paths on): the paths are joined, and the legs where one meets the next count as legs of
    no length, which add nothing and cut no corner."""
    sizes = np.array([len(p) for p in paths])
    if not (sizes >= 2).any():
        return np.zeros(len(paths))
    points = np.vstack([p for p in paths if len(p)])
    owner = np.repeat(np.arange(len(paths)), sizes)
    d = points[1:] - points[:-1]
    own = owner[1:] == owner[:-1]  # a leg within a path, not between two
    length = np.where(own, np.hypot(d[:, 0], d[:, 1]), 0.0)
    extra, overlap = _cost_terms(d, length, speed)
    legs = np.flatnonzero(own)
    first = np.full(len(paths), -1)
    last = np.full(len(paths), -1)
    first[owner[legs][::-1]] = legs[::-1]
    last[owner[legs]] = legs
    # each path's share: its legs, less half the extra of its first and last leg (starting
    # and stopping are counted elsewhere), less its corners' overlap
    total = np.bincount(owner[1:], weights=length / speed + extra, minlength=len(paths))
    total -= np.where(sizes >= 2, (extra[first] + extra[last]) / 2.0, 0.0)
    if len(overlap):
        total -= np.bincount(owner[1:-1], weights=overlap, minlength=len(paths))
    return total * speed


def _cost_terms(d: np.ndarray, length: np.ndarray, speed: float) -> tuple[np.ndarray, np.ndarray]:
    """path_cost's terms for legs ``d`` (with their ``length``): each leg's seconds over
    flying it all at the speed, and each corner between consecutive legs' overlap (none
    beside a leg of no length)."""
    leg_len, leg_dur, leg_extra, turn_cos, turn_overlap = _cost_tables(float(speed))
    extra = np.interp(length, leg_len, leg_extra)
    if len(length) < 2:
        return extra, np.zeros(0)
    dur = np.interp(length, leg_len, leg_dur)  # each leg's speed-up (a short one's half)
    norm = length[:-1] * length[1:]
    dot = d[:-1, 0] * d[1:, 0] + d[:-1, 1] * d[1:, 1]
    overlap = np.interp(dot / np.where(norm > 0, norm, 1.0), turn_cos, turn_overlap)
    overlap = np.minimum(overlap, np.minimum(dur[:-1], dur[1:]))
    return extra, np.where(norm > 0, overlap, 0.0)


@lru_cache(maxsize=32)
def _cost_tables(speed: float) -> tuple[np.ndarray, ...]:
    """path_cost's tables at ``speed``: over leg lengths up to the shortest that reaches the
    speed (beyond it both stay at the end value), the time a leg takes to speed up (or, a
    short one, its half) and its seconds over flying it at the speed; the corner overlap
    over the turn's cosine. A leg too short for the speed speeds up over half of it and
    slows down over the other half."""
    up, reach = _full_speed_up(speed)
    length = np.linspace(0.0, reach, COST_SAMPLES) ** 2 / reach  # denser near zero
    with np.errstate(divide="ignore", invalid="ignore"):
        dur = np.where(length > 0, length / np.maximum(cruise_speeds(length, speed), 1e-9), 0.0)
    dur[-1] = up
    extra = 2.0 * dur - length / speed
    return (length, dur, extra, *overlap_table(speed))


@lru_cache(maxsize=32)
def _full_speed_up(speed: float) -> tuple[float, float]:
    """Seconds to reach ``speed`` from rest, and the shortest leg that reaches it."""
    ups = speed_ups(np.array([speed]))
    return float(ups.duration[0]), 2.0 * float(ups.distance[0])


def vertical_time(alt: float) -> float:
    """Take-off climb (until the take-off item is done) plus descent and landing."""
    v, a = CLIMB_SPEED, CLIMB_ACCEL
    climb = alt / v + v / a - math.sqrt(2.0 * TAKEOFF_MARGIN / a)
    return climb + descent_time(alt)


def descent_time(alt: float) -> float:
    """Seconds from ``alt`` at rest to touchdown as ArduCopter lands: DESCENT_SPEED, slowing
    on a square-root approach (WPNAV_ACCEL_Z, PSC_POSZ_P) so as to reach LAND_ALT_LOW at
    LAND_SPEED, then LAND_SPEED to the ground."""
    a, p, fast, slow = CLIMB_ACCEL, POS_Z_P, DESCENT_SPEED, LAND_SPEED
    linear = a / (p * p)  # the approach is proportional this close, a square root further
    above = alt - LAND_ALT_LOW
    end = slow / p  # where the approach asks for LAND_SPEED, above LAND_ALT_LOW
    if above <= end:  # LAND_SPEED all the way
        return slow / (2.0 * a) + alt / slow
    # speeding up at a from rest meets the approach (or DESCENT_SPEED) at a peak
    meet = (above + linear / 2.0) / 2.0  # on the square root: 2a(above - e) = 2a(e - linear/2)
    if meet >= linear:
        peak = math.sqrt(a * (above - linear / 2.0))
        if peak > fast:  # cruise at DESCENT_SPEED until the approach asks for less
            start = fast * fast / (2.0 * a) + linear / 2.0
            t = fast / a + (above - fast * fast / (2.0 * a) - start) / fast + fast / a
        else:
            t = 2.0 * peak / a
        t -= math.sqrt(a * linear) / a  # ...down to where it turns proportional
        meet = linear
    else:  # meets the proportional part: p²e² + 2ae = 2a·above
        meet = (math.sqrt(a * a + 2.0 * a * p * p * above) - a) / (p * p)
        t = p * meet / a
    if p * meet <= slow:
        return slow / (2.0 * a) + alt / slow
    return t + math.log(p * meet / slow) / p + (LAND_ALT_LOW + end) / slow


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
    return float(sortie_times([(points, hover)], alt, speed)[0])


_known: dict[tuple[bytes, bytes, float, float], float] = {}  # the splitter and the planner
KNOWN_SORTIES = 1024  # ... both ask for each sortie's time


def sortie_times(
    sorties: Sequence[tuple[np.ndarray, np.ndarray]], alt: float, speed: float
) -> np.ndarray:
    """sortie_time of each (points, hover) sortie; the corners of those not timed before are
    worked out together, much quicker than one sortie at a time."""
    keys = [
        (
            np.ascontiguousarray(p, dtype=float).tobytes(),
            np.ascontiguousarray(h, dtype=float).tobytes(),
            float(alt),
            float(speed),
        )
        for p, h in sorties
    ]
    todo = [k for k in dict.fromkeys(keys) if k not in _known]
    if todo:
        if len(_known) + len(todo) > KNOWN_SORTIES:
            _known.clear()
        pts = [np.frombuffer(k[0]).reshape(-1, 2) for k in todo]
        hover = [np.frombuffer(k[1]) for k in todo]
        fixed = SPOOL_UP_S + vertical_time(alt) + RTL_HOVER_S + DISARM_DELAY_S
        for k, t in zip(todo, _flight_times(pts, hover, speed) + fixed, strict=True):
            _known[k] = float(t)
    return np.array([_known[k] for k in keys])


def _flight_times(pts: list[np.ndarray], hover: list[np.ndarray], speed: float) -> np.ndarray:
    """Seconds along each sortie's legs, corners and hovers, all sorties joined into one path
    for ``_legs_and_corners``: the legs that join one sortie to the next are left out, and
    their ends count as stops (no corner cut there)."""
    sortie = np.repeat(np.arange(len(pts)), [len(p) for p in pts])
    points = np.vstack(pts)
    joins = sortie[1:] != sortie[:-1]
    ends = np.flatnonzero(np.append(joins, True))  # each sortie's last point (home)
    speeds = np.full(len(points) - 1, float(speed))
    speeds[ends[ends > 0] - 1] = RTL_SPEED  # each sortie's return home
    stops = np.concatenate(hover)[1:-1] > 0  # hovers, and each sortie's last waypoint before
    stops[ends[ends > 1] - 2] = True  # ... RTL, flown to a stop
    stops |= joins[:-1] | joins[1:]
    _, times, overlap = _legs_and_corners(points, speeds, stops)
    total = np.bincount(sortie[1:][~joins], weights=times[~joins], minlength=len(pts))
    total -= np.bincount(sortie[1:-1], weights=overlap, minlength=len(pts))
    return total + np.array([float(np.sum(h)) for h in hover])
