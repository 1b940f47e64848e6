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

import numpy as np
import shapely
from shapely.geometry import LineString

from missions.patterns import Area

MAX_PIECES = 12  # missed pieces handled per round, best value first
MIN_PIECE_M2 = 1e-3
ROUNDS = 6
BLEND_STEPS = 12  # bisection steps of the last resort
MAX_CROSSINGS = 200_000  # line-edge pairs worked out at once; beyond, GEOS line by line


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
    band = (lo_x, hi_x, y, width / 2)  # each line's footprint
    for _ in range(ROUNDS):
        missed = shapely.difference(area, LineString(trimmed).buffer(width / 2, cap_style="flat"))
        if area.area - missed.area >= need:
            return trimmed
        if not _push_out(trimmed, path, missed, band, area.area - need):
            break  # stuck: the next rounds would move nothing either
    return _blend(trimmed, path, area, width, need)


def centre_clipped(
    path: np.ndarray, area: Area, spans: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """``path`` with each line cut where its centre leaves ``area`` (lines whose centre misses
    it kept whole): the shortest a trimmed path can be. ``spans`` are its lines' spans in
    ``area`` (line_spans), when known."""
    lo, hi = line_spans(path, area) if spans is None else spans
    high = path[0::2, 0] >= path[1::2, 0]  # does line j start at its high-x end?
    ok = lo <= hi
    clipped = path.copy()
    clipped[0::2, 0] = np.where(ok, np.where(high, hi, lo), path[0::2, 0])
    clipped[1::2, 0] = np.where(ok, np.where(high, lo, hi), path[1::2, 0])
    return clipped


def line_spans(path: np.ndarray, area: Area) -> tuple[np.ndarray, np.ndarray]:
    """For each line of ``path`` (pairs of points at one y), the least and greatest x it has
    in ``area`` (boundary included), lo > hi where it has none: the bounds of its intersection
    with ``area``, from the crossings with the rings' edges rather than an overlay per line."""
    y = path[0::2, 1]
    lo_x = np.minimum(path[0::2, 0], path[1::2, 0])
    hi_x = np.maximum(path[0::2, 0], path[1::2, 0])
    xy, ring = shapely.get_coordinates(
        shapely.get_rings(shapely.get_parts(area)), return_index=True
    )
    edge = ring[:-1] == ring[1:]  # consecutive points of one ring
    if len(y) * int(edge.sum()) > MAX_CROSSINGS:  # huge rings: GEOS, line by line
        ends = np.stack([np.column_stack([lo_x, y]), np.column_stack([hi_x, y])], axis=1)
        b = shapely.bounds(shapely.intersection(shapely.linestrings(ends), area))
        return np.nan_to_num(b[:, 0], nan=np.inf), np.nan_to_num(b[:, 2], nan=-np.inf)
    (x1, y1), (x2, y2) = xy[:-1][edge].T, xy[1:][edge].T
    Y, lo, hi = y[:, None], lo_x[:, None], hi_x[:, None]
    # edges crossing each line (x, NaN where not), half-open in y so that a ring through a
    # vertex counts once
    cross = ((y1 <= Y) & (y2 > Y)) | ((y2 <= Y) & (y1 > Y))
    with np.errstate(divide="ignore", invalid="ignore"):
        xc = np.where(cross, x1 + (Y - y1) * (x2 - x1) / (y2 - y1), np.nan)
    within = (xc >= lo) & (xc <= hi)
    # a segment's end is inside when an odd number of crossings lie before it
    least = np.minimum(
        np.where(within, xc, np.inf).min(axis=1),
        np.where((xc < lo).sum(axis=1) % 2 == 1, lo_x, np.inf),
    )
    greatest = np.maximum(
        np.where(within, xc, -np.inf).max(axis=1),
        np.where((xc < hi).sum(axis=1) % 2 == 1, hi_x, -np.inf),
    )
    on = y1 == Y
    if on.any():  # corners a line only touches, and edges along it (clipped to it)
        touch = on & (x1 >= lo) & (x1 <= hi)
        f_lo = np.maximum(np.minimum(x1, x2), lo)
        f_hi = np.minimum(np.maximum(x1, x2), hi)
        along = on & (y2 == Y) & (f_lo <= f_hi)
        least = np.minimum.reduce(
            [
                least,
                np.where(touch, x1, np.inf).min(axis=1),
                np.where(along, f_lo, np.inf).min(axis=1),
            ]
        )
        greatest = np.maximum.reduce(
            [
                greatest,
                np.where(touch, x1, -np.inf).max(axis=1),
                np.where(along, f_hi, -np.inf).max(axis=1),
            ]
        )
    return least, greatest


def _push_out(
    trimmed: np.ndarray,
    path: np.ndarray,
    missed: shapely.Geometry,
    band: tuple[np.ndarray, np.ndarray, np.ndarray, float],
    allowance: float,
) -> bool:
    """Move ends out over missed pieces, cheapest metres per m² first, until what stays
    missed fits the ``allowance``: each piece to the nearest end whose line's footprint
    reaches it (a piece no line reaches, such as a strip the layout gives up, stays missed).
    False when it moves no end."""
    lo_x, hi_x, y, h = band
    moved = np.flatnonzero(np.abs(trimmed[:, 0] - path[:, 0]) > 1e-9)
    if not len(moved):
        return False
    parts = shapely.get_parts(missed)
    sizes = shapely.area(parts)
    # hair-thin spikes along footprint seams are not worth an end's move
    keep = np.flatnonzero(sizes > MIN_PIECE_M2)
    if not len(keep):
        return False
    keep = keep[np.argsort(-sizes[keep], kind="stable")[:MAX_PIECES]]  # the largest
    pieces = parts[keep]
    # each piece's centre of area (hair-thin spikes, which overlays leave along footprint
    # edges, do not move it); the ends of lines whose footprint holds it, nearest first
    spots = shapely.get_coordinates(shapely.centroid(pieces))
    dist = np.hypot(*(trimmed[moved][None, :, :] - spots[:, None, :]).transpose(2, 0, 1))
    dist[np.abs(spots[:, 1:] - y[moved // 2][None]) > h] = np.inf
    near = np.argmin(dist, axis=1)
    reached = np.isfinite(dist[np.arange(len(pieces)), near])
    if not reached.any():
        return False
    pieces, ends = pieces[reached], moved[near[reached]]
    line = ends // 2
    # each piece's part in its end's line footprint: how far that end must move, what it gains
    cores = shapely.intersection(
        pieces, shapely.box(lo_x[line], y[line] - h, hi_x[line], y[line] + h)
    )
    moves = []  # (metres per m², end, new x, m² gained, whether it is the line's high end)
    for i, (c_lo, _, c_hi, _), gain in zip(
        ends.tolist(), shapely.bounds(cores).tolist(), shapely.area(cores).tolist(), strict=True
    ):
        if not gain > MIN_PIECE_M2:
            continue
        high_end = path[i, 0] >= path[i ^ 1, 0]
        x = (
            min(max(trimmed[i, 0], c_hi), path[i, 0])
            if high_end
            else max(min(trimmed[i, 0], c_lo), path[i, 0])
        )
        moves.append((abs(x - trimmed[i, 0]) / gain, i, x, gain, high_end))
    left, shifted = missed.area, False
    for _, i, x, gain, high_end in sorted(moves, key=lambda m: m[0]):
        if left <= allowance:
            break
        new = max(trimmed[i, 0], x) if high_end else min(trimmed[i, 0], x)
        shifted |= new != trimmed[i, 0]
        trimmed[i, 0] = new
        left -= gain
    return shifted


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
