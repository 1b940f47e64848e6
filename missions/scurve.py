"""Closed-form times of ArduCopter's S-curve waypoint legs and corners (AC_WPNav with SCurve),
for whole paths at once: one array element per leg or corner.

A leg is flown from rest to rest: a jerk-limited speed-up (the jerk ramps in and out as raised
cosines in ``RAMP`` s, up to ``JERK``; the acceleration holds at ``ACCEL``), a cruise, and the
speed-up played backwards. A leg too short to reach its speed cruises at the speed whose
speed-up and slow-down just fill it (solved in closed form below). At a corner the next leg
starts while this one is still braking, as soon as the middle of that overlap lies within
``RADIUS`` of the waypoint, slower than the legs' speed and with less than ``ACCEL_CORNER`` of
acceleration; the corner saves the overlap's length in time.

The figures are ArduCopter's defaults: WPNAV_ACCEL 250 cm/s², WPNAV_JERK 1 m/s³, the snap
AC_WPNav derives from ATC_INPUT_TC 0.15 s (half of JERK·π/(2·0.15)), WPNAV_RADIUS 200 cm and
WPNAV_ACCEL_C 0 (twice WPNAV_ACCEL).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

ACCEL = 2.5
JERK = 1.0
INPUT_TC = 0.15
RAMP = 2.0 * INPUT_TC  # JERK·π / (2·snap) with snap = JERK·π / (2·INPUT_TC) / 2
RADIUS = 2.0
ACCEL_CORNER = 2.0 * ACCEL
OVERLAP_SAMPLES = 8  # coarse look for the earliest overlap start before refining it
OVERLAP_REFINE = 10  # to a 2000th of the longest overlap: well under a control step
TABLE_STEP = np.radians(0.25)  # turn angles of the precomputed corners
NEWTON_STEPS = 4

_RISE = RAMP + ACCEL / JERK  # seconds to build up full acceleration and let it go again
_FULL = ACCEL * _RISE  # speed gained doing that: faster speed-ups also hold ACCEL
_LOW = 2.0 * JERK * RAMP * RAMP  # slower speed-ups never reach the full jerk
_SNAP = JERK / RAMP
assert ACCEL >= JERK * RAMP  # the speed-up regimes below assume the full jerk comes first


@dataclass(frozen=True)
class SpeedUps:
    """Speed-ups from rest to ``speed``, one per leg: the jerk rises to ``jerk`` in ``ramp``
    s, holds ``hold`` s and falls, leaving ``peak`` acceleration held ``accel_hold`` s; then
    the same in reverse."""

    speed: np.ndarray
    ramp: np.ndarray
    jerk: np.ndarray
    hold: np.ndarray
    peak: np.ndarray
    accel_hold: np.ndarray

    @property
    def duration(self) -> np.ndarray:
        return 2.0 * (2.0 * self.ramp + self.hold) + self.accel_hold

    @property
    def distance(self) -> np.ndarray:
        return self.speed * self.duration / 2.0  # the acceleration is symmetric in time


def speed_ups(speed: np.ndarray) -> SpeedUps:
    """The quickest speed-ups from rest to each of ``speed`` within ACCEL, JERK and the snap."""
    v = np.asarray(speed, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        peak2 = JERK * (np.sqrt(RAMP * RAMP + 4.0 * v / JERK) - RAMP) / 2.0  # no accel hold
        r3 = np.cbrt(v / (2.0 * _SNAP))  # short ramps: the jerk never peaks
        full, low = v >= _FULL, v < _LOW
        ramp = np.where(low, r3, RAMP)
        peak = np.where(full, ACCEL, np.where(low, _SNAP * r3 * r3, peak2))
        jerk = np.where(low, _SNAP * r3, JERK)
        hold = np.where(low, 0.0, peak / JERK - RAMP)
        accel_hold = np.where(full, (v - _FULL) / ACCEL, 0.0)
    zero = v <= 0.0
    return SpeedUps(
        v,
        np.where(zero, 0.0, ramp),
        np.where(zero, 0.0, jerk),
        np.where(zero, 0.0, hold),
        np.where(zero, 0.0, peak),
        np.where(zero, 0.0, accel_hold),
    )


def cruise_speeds(length: np.ndarray, speed: float | np.ndarray) -> np.ndarray:
    """The speed each leg of ``length`` m cruises at: ``speed``, or on a leg too short for it
    the speed whose speed-up and slow-down (each covering half the leg) fill it."""
    half = np.asarray(length, dtype=float) / 2.0
    speed = np.broadcast_to(np.asarray(speed, dtype=float), half.shape)
    # distance of a speed-up in each regime, inverted in closed form
    x = _RISE / 2.0
    v_accel_hold = ACCEL * (np.sqrt(x * x + 2.0 * half / ACCEL) - x)
    # peak below ACCEL: x³ - RAMP·x² = half/JERK for x = RAMP + peak/JERK (Cardano, one root)
    q = -2.0 * RAMP**3 / 27.0 - half / JERK
    root = np.sqrt(np.maximum(q * q / 4.0 - RAMP**6 / 729.0, 0.0))
    y = np.cbrt(-q / 2.0 + root) + np.cbrt(-q / 2.0 - root) + RAMP / 3.0
    v_peak = JERK * (y - RAMP) * y
    rr = (half / (4.0 * _SNAP)) ** 0.25  # the jerk never peaks
    v_short = 2.0 * _SNAP * rr**3
    fitting = np.where(
        half >= _FULL * _RISE, v_accel_hold, np.where(half >= _LOW * 2.0 * RAMP, v_peak, v_short)
    )
    return np.minimum(speed, fitting)


def leg_times(length: np.ndarray, speed: float | np.ndarray) -> tuple[np.ndarray, SpeedUps]:
    """Seconds to fly each leg from rest to rest, and its speed-up."""
    length = np.asarray(length, dtype=float)
    ups = speed_ups(cruise_speeds(length, speed))
    with np.errstate(divide="ignore", invalid="ignore"):
        cruise = np.where(ups.speed > 0, (length - 2.0 * ups.distance) / ups.speed, 0.0)
    return 2.0 * ups.duration + np.maximum(cruise, 0.0), ups


def take(ups: SpeedUps, index: np.ndarray) -> SpeedUps:
    """The speed-ups at ``index``."""
    return SpeedUps(*(getattr(ups, f)[index] for f in SpeedUps.__dataclass_fields__))


def speed_up_at(ups: SpeedUps, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distance, speed, acceleration) ``t`` s into each speed-up (t within it)."""
    dur = ups.duration
    second = t > dur / 2.0
    p, v, a = _first_half(ups, np.where(second, dur - t, t))
    # the second half mirrors the first: v(t) = V - v(T - t)
    p = np.where(second, ups.speed * t - ups.distance + p, p)
    v = np.where(second, ups.speed - v, v)
    return p, v, a


def _first_half(ups: SpeedUps, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r, j = ups.ramp, ups.jerk
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(r > 0, np.pi / np.where(r > 0, r, 1.0), 0.0)
        iw = np.where(r > 0, 1.0 / np.where(w > 0, w, 1.0), 0.0)
    s = np.minimum(np.maximum(t, 0.0), r)  # jerk rising as a raised cosine
    sin, cos = np.sin(w * s), np.cos(w * s)
    a = j / 2.0 * (s - sin * iw)
    v = j / 2.0 * (s * s / 2.0 - (1.0 - cos) * iw * iw)
    p = j / 2.0 * (s**3 / 6.0 - s * iw * iw + sin * iw**3)
    s = np.minimum(np.maximum(t - r, 0.0), ups.hold)  # constant jerk
    p = p + v * s + a * s * s / 2.0 + j * s**3 / 6.0
    v = v + a * s + j * s * s / 2.0
    a = a + j * s
    s = np.minimum(np.maximum(t - r - ups.hold, 0.0), r)  # jerk falling as a raised cosine
    sin, cos = np.sin(w * s), np.cos(w * s)
    p = p + v * s + a * s * s / 2.0 + j / 2.0 * (s**3 / 6.0 + s * iw * iw - sin * iw**3)
    v = v + a * s + j / 2.0 * (s * s / 2.0 + (1.0 - cos) * iw * iw)
    a = a + j / 2.0 * (s + sin * iw)
    s = np.maximum(t - 2.0 * r - ups.hold, 0.0)  # constant acceleration
    return p + v * s + a * s * s / 2.0, v + a * s, a


def corner_overlaps(
    before: SpeedUps, after: SpeedUps, cos_turn: np.ndarray, speed_limit: np.ndarray
) -> np.ndarray:
    """Seconds the leg after each corner runs while the one before still brakes: the longest
    overlap (at most the braking and the speeding up) whose middle keeps within RADIUS of the
    waypoint, under ``speed_limit`` and ACCEL_CORNER.

    Most corners are decided by RADIUS while both legs are still ramping their acceleration,
    the same way whatever the legs' lengths: those come from a table over the turn angle for
    each speed limit; the others are solved one by one. A sweep repeats the same corner at
    every line end (a speed-up is fixed by its speed), so each distinct corner is worked out
    once."""
    key = np.column_stack([before.speed, after.speed, np.round(cos_turn, 12), speed_limit])
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    if len(first) == len(cos_turn):
        return _distinct_corner_overlaps(before, after, cos_turn, speed_limit)
    got = _distinct_corner_overlaps(
        take(before, first), take(after, first), cos_turn[first], speed_limit[first]
    )
    return got[inverse.ravel()]


def _distinct_corner_overlaps(
    before: SpeedUps, after: SpeedUps, cos_turn: np.ndarray, speed_limit: np.ndarray
) -> np.ndarray:
    out = np.zeros(len(cos_turn))
    solve = np.ones(len(cos_turn), dtype=bool)
    turn = np.arccos(np.clip(cos_turn, -1.0, 1.0))
    for limit in np.unique(speed_limit):
        at = speed_limit == limit
        table, bound = _corner_table(float(limit))
        k = np.minimum((turn[at] / TABLE_STEP).astype(int), len(table) - 2)
        both = bound[k] & bound[k + 1]
        frac = turn[at] / TABLE_STEP - k
        half = (table[k] * (1.0 - frac) + table[k + 1] * frac) / 2.0
        b, a = take(before, at), take(after, at)
        same = half < np.minimum(_shared(b, limit), _shared(a, limit))
        use = (both & same) | ((b.speed >= limit) & (a.speed >= limit))
        out[np.flatnonzero(at)[use]] = 2.0 * half[use]
        solve[np.flatnonzero(at)[use]] = False
        # RADIUS ends these too, a little earlier or later: from the table's, to where it does
        near = np.flatnonzero(at)[both & ~use]
        if len(near):
            got, fine = _radius_bound(
                take(before, near), take(after, near), cos_turn[near], speed_limit[near],
                half[both & ~use],
            )  # fmt: skip
            out[near[fine]] = got[fine]
            solve[near[fine]] = False
    idx = np.flatnonzero(solve)
    if len(idx):
        out[idx] = _solve_overlaps(
            take(before, idx), take(after, idx), cos_turn[idx], speed_limit[idx]
        )
    return out


@lru_cache(maxsize=32)
def overlap_table(speed: float) -> tuple[np.ndarray, np.ndarray]:
    """Overlaps of corners between legs that both reach ``speed``, by the turn's cosine
    (ascending): for ranking paths by interpolation, not timing them."""
    table, _ = _corner_table(speed)
    return np.cos(np.arange(len(table)) * TABLE_STEP)[::-1].copy(), table[::-1].copy()


def _radius_bound(
    before: SpeedUps, after: SpeedUps, cos_turn: np.ndarray, limit: np.ndarray, h: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Overlaps ended by RADIUS, found by Newton's method from ``h`` (half of one), and
    whether that is what ends each: the speed and acceleration still fit there and the overlap
    is within what both legs allow."""
    top = np.minimum(before.duration, after.duration) / 2.0
    h = np.minimum(h, top)
    for _ in range(NEWTON_STEPS):
        d1, v1, _ = speed_up_at(before, h)
        d2, v2, _ = speed_up_at(after, h)
        gap = d1 * d1 + d2 * d2 - 2.0 * d1 * d2 * cos_turn - RADIUS**2
        slope = 2.0 * (d1 * v1 + d2 * v2 - cos_turn * (v1 * d2 + d1 * v2))
        with np.errstate(divide="ignore", invalid="ignore"):
            h = np.clip(h - np.where(slope > 0, gap / slope, 0.0), 0.0, top)
    h = h - 1e-6
    d1, v1, a1 = speed_up_at(before, h)
    d2, v2, a2 = speed_up_at(after, h)
    fits = (
        (d1 * d1 + d2 * d2 - 2.0 * d1 * d2 * cos_turn < RADIUS**2)
        & (v1 * v1 + v2 * v2 + 2.0 * v1 * v2 * cos_turn < limit**2)
        & (a1 * a1 + a2 * a2 - 2.0 * a1 * a2 * cos_turn < ACCEL_CORNER**2)
        & (h < top - 1e-3)
    )
    d1, _, _ = speed_up_at(before, h + 1e-3)
    d2, _, _ = speed_up_at(after, h + 1e-3)
    ends = d1 * d1 + d2 * d2 - 2.0 * d1 * d2 * cos_turn >= RADIUS**2
    return 2.0 * h, fits & ends


def _shared(ups: SpeedUps, speed: float) -> np.ndarray:
    """How long each speed-up moves exactly as the one to ``speed`` does (within half of it,
    the longest corner overlap it allows)."""
    full = ups.peak >= ACCEL
    same = np.where(
        ups.speed >= speed,
        np.inf,
        np.where(full, 2.0 * ups.ramp + ups.hold + ups.accel_hold, ups.ramp + ups.hold),
    )
    same = np.where((ups.ramp < RAMP) & (ups.speed < speed), 0.0, same)
    return np.minimum(same, ups.duration / 2.0)  # nor beyond the longest overlap it allows


@lru_cache(maxsize=32)
def _corner_table(speed: float) -> tuple[np.ndarray, np.ndarray]:
    """Overlaps of corners between two legs that both reach ``speed``, every TABLE_STEP of
    turn from 0 to 180°, and whether RADIUS is what ends each (only those are shared by
    shorter legs)."""
    turn = np.arange(0.0, np.pi + TABLE_STEP, TABLE_STEP)
    ups = speed_ups(np.full(len(turn), speed))
    cos = np.cos(turn)
    limit = np.full(len(turn), speed)
    tau = _solve_overlaps(ups, ups, cos, limit)
    d, _, _ = speed_up_at(ups, tau / 2.0 + 1e-3)
    radius_bound = (2.0 * d * d * (1.0 - cos) >= RADIUS**2) & (tau < ups.duration - 1e-3)
    return tau, radius_bound


def _solve_overlaps(
    before: SpeedUps, after: SpeedUps, cos_turn: np.ndarray, speed_limit: np.ndarray
) -> np.ndarray:
    if len(cos_turn) == 0:
        return np.zeros(0)
    top = np.minimum(before.duration, after.duration) / 2.0  # half the longest overlap

    def fine(h: np.ndarray) -> np.ndarray:
        d1, v1, a1 = speed_up_at(before, h)
        d2, v2, a2 = speed_up_at(after, h)
        pos = d1 * d1 + d2 * d2 - 2.0 * d1 * d2 * cos_turn
        vel = v1 * v1 + v2 * v2 + 2.0 * v1 * v2 * cos_turn
        acc = a1 * a1 + a2 * a2 - 2.0 * a1 * a2 * cos_turn
        return (pos < RADIUS**2) & (vel < speed_limit**2) & (acc < ACCEL_CORNER**2)

    # the overlap starts at its first chance, going down from the longest: sample, then refine
    steps = np.arange(OVERLAP_SAMPLES, -1, -1) / OVERLAP_SAMPLES  # 1 ... 0
    ok = fine(top[None, :] * steps[:, None])
    ok[-1] = True
    first = np.argmax(ok, axis=0)
    lo = top * steps[first]
    hi = np.where(first > 0, top * steps[np.maximum(first - 1, 0)], lo)
    for _ in range(OVERLAP_REFINE):
        mid = (lo + hi) / 2.0
        good = fine(mid)
        lo, hi = np.where(good, mid, lo), np.where(good, hi, mid)
    return 2.0 * lo * (top > 0)
