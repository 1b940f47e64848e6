"""Shortening sweep lines while the camera still sees enough of the grid.

A sweep path (pairs of points, one pair per line, in a frame where lines run along x) has each
line across its whole band, so each line alone sees its band. Near slanted edges the turn legs
run along the edge and film the corners, so most line ends can stop where the line's centre
leaves the grid. Ends are first all cut back; then, while the route sees less than the target,
the end next to each missed piece is pushed out just far enough to reach it, the pieces that
cost the fewest metres per square metre first. If that does not get there in a few rounds,
every end is moved the same share of the way back out, as little as reaches the target.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import LineString

from missions.patterns import Area

MAX_PIECES = 12  # missed pieces handled per round, best value first
MIN_PIECE_M2 = 1e-3
ROUNDS = 6
BLEND_STEPS = 12  # bisection steps of the last resort


def seen_area(path: np.ndarray, area: Area, width: float) -> float:
    """What a camera ``width`` wide sees of ``area`` flying ``path`` (turns included)."""
    if len(path) < 2:
        return 0.0
    return shapely.intersection(area, LineString(path).buffer(width / 2, cap_style="flat")).area


def trim_ends(
    path: np.ndarray,
    area: Area,
    spacing: float,
    width: float,
    target: float,
    full_sees: float | None = None,
    clipped: np.ndarray | None = None,
) -> np.ndarray:
    """``path`` with its line ends moved in while at least ``target`` (a share) of ``area``
    stays seen; ``path`` itself when it does not see that much anyway. ``full_sees`` is the
    share ``path`` sees and ``clipped`` its ``centre_clipped``, when the caller knows them."""
    if not len(path) or len(path) % 2 or target >= 1.0:
        return path
    need = target * area.area * (1 + 1e-9)  # a hair over, so that rounding never dips below
    full = full_sees * area.area if full_sees is not None else seen_area(path, area, width)
    if full < need:
        return path
    trimmed = centre_clipped(path, area) if clipped is None else clipped.copy()
    lo_x = np.minimum(path[0::2, 0], path[1::2, 0])
    hi_x = np.maximum(path[0::2, 0], path[1::2, 0])
    y = path[0::2, 1]
    band = (lo_x, hi_x, y, spacing / 2)
    for _ in range(ROUNDS):
        missed = shapely.difference(area, LineString(trimmed).buffer(width / 2, cap_style="flat"))
        if area.area - missed.area >= need:
            return trimmed
        before = trimmed.copy()
        if not _push_out(trimmed, path, missed, band, area.area - need):
            break
        if np.array_equal(trimmed, before):  # stuck: the next rounds would move nothing
            break
    return _blend(trimmed, path, area, width, need)


def centre_clipped(path: np.ndarray, area: Area) -> np.ndarray:
    """``path`` with each line cut where its centre leaves ``area`` (lines whose centre misses
    it kept whole): the shortest a trimmed path can be."""
    lo_x = np.minimum(path[0::2, 0], path[1::2, 0])
    hi_x = np.maximum(path[0::2, 0], path[1::2, 0])
    y = path[0::2, 1]
    lines = shapely.linestrings(
        np.stack([np.column_stack([lo_x, y]), np.column_stack([hi_x, y])], axis=1)
    )
    cb = shapely.bounds(shapely.intersection(lines, area))
    high = path[0::2, 0] >= path[1::2, 0]  # does line j start at its high-x end?
    ok = ~np.isnan(cb[:, 0])
    clipped = path.copy()
    clipped[0::2, 0] = np.where(ok, np.where(high, cb[:, 2], cb[:, 0]), path[0::2, 0])
    clipped[1::2, 0] = np.where(ok, np.where(high, cb[:, 0], cb[:, 2]), path[1::2, 0])
    return clipped


def _push_out(
    trimmed: np.ndarray,
    path: np.ndarray,
    missed: shapely.Geometry,
    band: tuple[np.ndarray, np.ndarray, np.ndarray, float],
    allowance: float,
) -> bool:
    """Move ends out over missed pieces, cheapest metres per m² first, until what stays
    missed fits the ``allowance``. False when no end can move."""
    lo_x, hi_x, y, h = band
    moved = np.abs(trimmed[:, 0] - path[:, 0]) > 1e-9
    if not moved.any():
        return False
    # hair-thin spikes along footprint seams are not worth an end's move
    parts = shapely.get_parts(missed)
    sizes = shapely.area(parts)
    keep = np.flatnonzero(sizes > MIN_PIECE_M2)
    if not len(keep):
        return False
    keep = keep[np.argsort(-sizes[keep], kind="stable")[:MAX_PIECES]]  # the largest
    pieces, sizes = parts[keep], sizes[keep]
    spots = shapely.get_coordinates(shapely.point_on_surface(pieces))
    cand = np.flatnonzero(moved)
    dist = np.hypot(*(trimmed[cand][None, :, :] - spots[:, None, :]).transpose(2, 0, 1))
    ends = cand[np.argmin(dist, axis=1)]  # the end nearest each piece
    line = ends // 2
    # each piece's part in the band of its end's line: how far that end must move
    cores = shapely.bounds(
        shapely.intersection(pieces, shapely.box(lo_x[line], y[line] - h, hi_x[line], y[line] + h))
    )
    moves = []  # (metres per m², end, new x, m² gained, whether it is the line's high end)
    for size, i, (c_lo, _, c_hi, _) in zip(
        sizes.tolist(), ends.tolist(), cores.tolist(), strict=True
    ):
        high_end = path[i, 0] >= path[i ^ 1, 0]
        if math.isnan(c_lo):  # nothing of it in that band
            x = path[i, 0]
        elif high_end:
            x = min(max(trimmed[i, 0], c_hi), path[i, 0])
        else:
            x = max(min(trimmed[i, 0], c_lo), path[i, 0])
        moves.append((abs(x - trimmed[i, 0]) / size, i, x, size, high_end))
    left = missed.area
    for _, i, x, gain, high_end in sorted(moves, key=lambda m: m[0]):
        if left <= allowance:
            break
        trimmed[i, 0] = max(trimmed[i, 0], x) if high_end else min(trimmed[i, 0], x)
        left -= gain
    return True


def _blend(trimmed: np.ndarray, path: np.ndarray, area: Area, width: float, need: float):
    """The least uniform move of every end back towards ``path`` that sees ``need``."""
    lo, hi = 0.0, 1.0
    best = path
    for _ in range(BLEND_STEPS):
        mid = (lo + hi) / 2
        cand = trimmed + mid * (path - trimmed)
        if seen_area(cand, area, width) >= need:
            best, hi = cand, mid
        else:
            lo = mid
    return best
