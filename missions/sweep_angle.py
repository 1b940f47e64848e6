"""Which sweep bearings are worth planning in full, and how finely to refine the best.

Every whole degree (Fields2Cover's brute force) and every convex-hull edge direction is scored
at once from the hull's width across the lines: the lines a bearing needs, given the share of
the grid that may go unseen. The best few, some degrees apart, are planned in full by
``missions.coverage``; around the best of those the bearing is refined in halving steps while
that still shortens the route. The work is linear in the hull's vertices (a hull of more than
``MAX_HULL`` vertices is simplified first), never quadratic in the grid's.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import shapely

from missions.patterns import Area

MAX_HULL = 256  # hull vertices scored; a denser hull is simplified (its width moves < 1 cm)
MIN_APART_DEG = 3.0  # candidates planned in full differ by at least this much
MAX_TIED = 5  # directions that need equally few lines, all planned in full
REFINE_STEPS_DEG = (1.0, 0.5, 0.25)
MIN_GAIN = 1e-3  # a refinement step must shorten the route by this share to be taken


def _hull(area: Area) -> np.ndarray:
    hull = area.convex_hull
    tol = 0.001
    while len(hull.exterior.coords) > MAX_HULL + 1 and tol < 1.0:
        hull = shapely.convex_hull(hull.simplify(tol))
        tol *= 2
    return np.asarray(hull.exterior.coords)


def candidate_bearings(
    area: Area, spacing: float, overhang: float, coverage_share: float, count: int
) -> list[float]:
    """Bearings (degrees from north, 0-180) best first: the directions where the hull's width
    across the lines is least locally (each a different way to lay the lines), fewest lines
    first, then the narrowest; then other whole degrees ``MIN_APART_DEG`` apart if there are
    fewer such directions. ``count`` of them, or all that need the fewest lines (up to
    ``MAX_TIED``): which of those is shortest only planning them tells."""
    hull = _hull(area)
    d = np.diff(hull, axis=0)
    edges = np.degrees(np.arctan2(d[:, 0], d[:, 1])) % 180.0
    cands = np.unique(np.round(np.concatenate([edges, np.arange(0.0, 180.0, 1.0)]), 6))
    rad = np.radians(cands)
    normals = np.column_stack([np.cos(rad), -np.sin(rad)])  # across lines on each bearing
    widths = np.ptp(hull @ normals.T, axis=0)
    lines = np.maximum(1, np.ceil((coverage_share * widths - 2 * overhang) / spacing - 1e-9))
    local = (widths <= np.roll(widths, 1)) & (widths <= np.roll(widths, -1))  # 0 and 180 meet
    order = np.lexsort((widths, lines, ~local))
    # every local minimum needing the fewest lines is worth planning (up to MAX_TIED)
    tied = int((local & (lines == lines[local].min())).sum())
    wanted = max(count, min(tied, MAX_TIED)) if count > 1 else count
    chosen: list[float] = []
    for b in cands[order]:
        if all(_apart(b, c) >= MIN_APART_DEG for c in chosen):
            chosen.append(float(b))
            if len(chosen) == wanted:
                break
    return chosen


def along_an_edge(area: Area, bearing: float) -> bool:
    """Whether ``bearing`` runs along an edge of the grid's hull (no slanted line ends there:
    turning away from it cannot shorten the route)."""
    hull = _hull(area)
    d = np.diff(hull, axis=0)
    edges = np.degrees(np.arctan2(d[:, 0], d[:, 1])) % 180.0
    return bool(min(_apart(bearing, float(e)) for e in edges) < 1e-6)


def _apart(a: float, b: float) -> float:
    d = abs(a - b) % 180.0
    return min(d, 180.0 - d)


def refine_bearing(
    best: float, best_cost: float, cost_at: Callable[[float], float]
) -> tuple[float, float]:
    """Pattern search around ``best``: try a step either side, move while the route gets
    shorter by ``MIN_GAIN``, then halve the step."""
    for step in REFINE_STEPS_DEG:
        for _ in range(4):  # a few moves per step size at most
            tried = [((best + sign * step) % 180.0, sign) for sign in (-1, 1)]
            costs = [(cost_at(b), b) for b, _ in tried]
            cost, bearing = min(costs)
            if not math.isfinite(cost) or cost > best_cost * (1 - MIN_GAIN):
                break
            best, best_cost = bearing, cost
    return best, best_cost
