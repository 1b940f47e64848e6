"""Boustrophedon coverage of one grid in a local metric frame (x east, y north, metres).

The grid is turned so that sweep lines run along x; bands one line spacing wide tile it; each
line spans its band (cells where a band splits), the sweep bearing is searched for the fastest
route, and sweep ends are trimmed where the turns already film the corners.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

from missions.errors import PlanningError
from missions.flight import path_cost
from missions.patterns import Area, Pattern, with_reverses

ANGLE_STEP_DEG = 15.0
ANGLE_CANDIDATES = 4
# Default share of a grid (percent) the camera must still see after sweep ends are trimmed
MIN_COVERAGE_PCT = 99.5
MAX_PIECES = 12  # missed pieces handled per trimming round, largest first


def _rotation(bearing_deg: float) -> np.ndarray:
    """Matrix turning the frame so that lines on ``bearing_deg`` run along +x."""
    a = math.radians(90.0 - bearing_deg)  # the line direction, counter-clockwise from east
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, s], [-s, c]])


def _rotate(geom: shapely.Geometry, m: np.ndarray) -> shapely.Geometry:
    return shapely.transform(geom, lambda xy: xy @ m.T)


Segment = tuple[int, float, float, float]  # band, x start, x end, y


def _band_centres(area_rot: Area, spacing: float, shift: float = 0.0) -> np.ndarray:
    """Centre lines of the bands tiling the grid's y extent, shifted by ``shift`` (within the
    slack the last band leaves)."""
    _, ymin, _, ymax = area_rot.bounds
    height = ymax - ymin
    n = max(1, math.ceil(height / spacing - 1e-6))
    return ymin + height / 2 + shift + (np.arange(n) - (n - 1) / 2) * spacing


def _best_shift(area_rot: Area, spacing: float, convex: bool) -> float:
    """Shift of the bands (centred, flush with the bottom or the top) with the shortest centre
    lines: the length the trimmed route flies."""
    _, ymin, _, ymax = area_rot.bounds
    n = max(1, math.ceil((ymax - ymin) / spacing - 1e-6))
    slack = n * spacing - (ymax - ymin)
    if slack < max(0.5, 0.2 * spacing):  # too little room to gain anything
        return 0.0
    xmin, _, xmax, _ = area_rot.bounds
    best, best_len = 0.0, math.inf
    for shift in (0.0, -slack / 2, slack / 2):
        yc = _band_centres(area_rot, spacing, shift)
        if convex:  # centre lines as bands of (almost) no height
            total = sum(b - a for _, a, b, _ in _convex_segments(area_rot, yc, 1e-9))
            if total < best_len - 0.5:
                best, best_len = shift, total
            continue
        lines = shapely.linestrings(
            np.stack(
                [
                    np.column_stack([np.full(n, xmin - 1), yc]),
                    np.column_stack([np.full(n, xmax + 1), yc]),
                ],
                axis=1,
            )
        )
        total = shapely.length(shapely.intersection(lines, area_rot)).sum()
        if total < best_len - 0.5:
            best, best_len = shift, total
    return best


def sweep_segments(
    area_rot: Area, spacing: float, shift: float = 0.0, convex: bool | None = None
) -> list[Segment]:
    """Sweep segments of a grid already turned so that lines run along x.

    Line k flies the centre of band k (bands ``spacing`` wide tile the grid's y extent) from the
    smallest to the largest x of the grid inside that band, so a footprint at least ``spacing``
    wide sees the whole band: no strips are left along slanted or ragged edges. Pieces of a band
    whose x ranges overlap are joined; the result is sorted by band, then x.
    """
    xmin, _, xmax, _ = area_rot.bounds
    yc = _band_centres(area_rot, spacing, shift)
    if convex if convex is not None else _is_convex(area_rot):
        return _convex_segments(area_rot, yc, spacing)
    boxes = shapely.box(xmin - 1, yc - spacing / 2, xmax + 1, yc + spacing / 2)
    parts, idx = shapely.get_parts(shapely.intersection(boxes, area_rot), return_index=True)
    keep = shapely.area(parts) > 1e-6
    bounds = shapely.bounds(parts[keep])
    idx = idx[keep]
    order = np.lexsort((bounds[:, 0], idx))
    segs: list[Segment] = []
    for k, xa, xb in zip(
        idx[order].tolist(), bounds[order, 0].tolist(), bounds[order, 2].tolist(), strict=True
    ):
        if segs and segs[-1][0] == k and xa <= segs[-1][2] + 1e-9:
            segs[-1] = (k, segs[-1][1], max(segs[-1][2], xb), segs[-1][3])
        else:
            segs.append((k, xa, xb, float(yc[k])))
    return segs


def _is_convex(area: Area) -> bool:
    return (
        isinstance(area, Polygon)
        and not area.interiors
        and area.area >= area.convex_hull.area * (1 - 1e-9)
    )


def _convex_segments(area: Polygon, yc: np.ndarray, spacing: float) -> list[Segment]:
    """Band extents of a convex polygon straight from its edges clipped to each band (the
    same as intersecting the bands, without the overlay)."""
    pts = np.asarray(area.exterior.coords)
    p1, p2 = pts[:-1], pts[1:]
    ylo = (yc - spacing / 2)[:, None]
    yhi = (yc + spacing / 2)[:, None]
    dy = p2[:, 1] - p1[:, 1]
    flat = np.abs(dy) < 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        ta = (ylo - p1[:, 1]) / dy
        tb = (yhi - p1[:, 1]) / dy
    t0 = np.clip(np.minimum(ta, tb), 0.0, 1.0)
    t1 = np.clip(np.maximum(ta, tb), 0.0, 1.0)
    inside = (t1 > t0) | ((t1 == t0) & (np.minimum(ta, tb) <= t0) & (np.maximum(ta, tb) >= t0))
    inside = np.where(flat, (p1[:, 1] >= ylo) & (p1[:, 1] <= yhi), inside)
    t0 = np.where(flat, 0.0, t0)
    t1 = np.where(flat, 1.0, t1)
    dx = p2[:, 0] - p1[:, 0]
    xa = p1[:, 0] + t0 * dx
    xb = p1[:, 0] + t1 * dx
    lo = np.where(inside, np.minimum(xa, xb), np.inf).min(axis=1)
    hi = np.where(inside, np.maximum(xa, xb), -np.inf).max(axis=1)
    return [
        (k, float(lo[k]), float(hi[k]), float(yc[k]))
        for k in range(len(yc))
        if np.isfinite(lo[k]) and hi[k] - lo[k] > 1e-9
    ]


def merge_gaps(segs: list[Segment], blocking_rot: shapely.Geometry | None) -> list[Segment]:
    """Join the pieces of each band across holes and bays, unless the join would cross
    ``blocking_rot`` (no-fly zones)."""
    out: list[Segment] = []
    for seg in segs:
        if out and out[-1][0] == seg[0]:
            k, a, b, y = out[-1]
            gap = LineString([(b, y), (seg[1], y)])
            if blocking_rot is None or not shapely.intersects(gap, blocking_rot):
                out[-1] = (k, a, seg[2], y)
                continue
        out.append(seg)
    return out


def _sweep_cells(
    segs: list[Segment], blocking_rot: shapely.Geometry | None, merge: bool
) -> list[list[Segment]] | None:
    """Cells of sweep segments; with ``merge`` None when no gap could be merged."""
    if merge:
        merged = merge_gaps(segs, blocking_rot)
        if len(merged) == len(segs):
            return None
        segs = merged
    if blocking_rot is not None:
        segs = _cut_segments(segs, blocking_rot)
    return _cells(segs) if segs else []


def _cut_segments(segs: list[Segment], blocking_rot: shapely.Geometry) -> list[Segment]:
    """Remove the parts of sweep lines that run through no-fly zones."""
    lines = shapely.linestrings([[(a, y), (b, y)] for _, a, b, y in segs])
    hit = shapely.intersects(lines, blocking_rot)
    if not hit.any():
        return segs
    out: list[Segment] = []
    for seg, line, h in zip(segs, lines, hit, strict=True):
        if not h:
            out.append(seg)
            continue
        for piece in shapely.get_parts(shapely.difference(line, blocking_rot)):
            if piece.length > 1e-6:
                b = piece.bounds
                out.append((seg[0], b[0], b[2], seg[3]))
    out.sort(key=lambda s: (s[0], s[1]))
    return out


def _cells(segs: list[Segment]) -> list[list[Segment]]:
    """Boustrophedon cells: chains of segments in consecutive bands that overlap one-to-one."""
    by_band: dict[int, list[int]] = {}
    for i, s in enumerate(segs):
        by_band.setdefault(s[0], []).append(i)
    up: dict[int, list[int]] = {i: [] for i in range(len(segs))}
    down: dict[int, list[int]] = {i: [] for i in range(len(segs))}
    for i, (k, a, b, _) in enumerate(segs):
        for j in by_band.get(k + 1, []):
            if a <= segs[j][2] and segs[j][1] <= b:
                up[i].append(j)
                down[j].append(i)
    cell_of: dict[int, int] = {}
    cells: list[list[Segment]] = []
    for i in range(len(segs)):
        below = down[i]
        if len(below) == 1 and len(up[below[0]]) == 1:
            c = cell_of[below[0]]
        else:
            c = len(cells)
            cells.append([])
        cell_of[i] = c
        cells[c].append(segs[i])
    return cells


def _cell_path(cell: list[Segment], from_top: bool, from_right: bool) -> np.ndarray:
    rows = cell[::-1] if from_top else cell
    pts = []
    rightward = not from_right
    for _, a, b, y in rows:
        pts += [(a, y), (b, y)] if rightward else [(b, y), (a, y)]
        rightward = not rightward
    return np.array(pts, dtype=float)


def _chain_cells(cells: list[list[Segment]], speed: float) -> np.ndarray:
    """Visit all cells: try each start, then greedily the nearest corner of the nearest cell."""
    if len(cells) == 1:  # the two starts at the bottom; the top ones are their reverses
        paths = [_cell_path(cells[0], False, r) for r in (False, True)]
        return min(paths, key=lambda p: path_cost(p, speed))
    corners = [(t, r) for t in (False, True) for r in (False, True)]
    paths = [[_cell_path(c, t, r) for t, r in corners] for c in cells]
    starts = range(len(cells)) if len(cells) <= 3 else (0, 1, len(cells) - 1)
    n = len(cells)
    heads = np.array([[p[0] for p in ps] for ps in paths])  # (cells, 4, 2)
    best: np.ndarray | None = None
    best_cost = math.inf
    for first in starts:
        for v0 in range(4):
            route = [paths[first][v0]]
            used = np.zeros(n, dtype=bool)
            used[first] = True
            for _ in range(n - 1):
                end = route[-1][-1]
                d = np.hypot(heads[..., 0] - end[0], heads[..., 1] - end[1])
                d[used] = np.inf
                c, v = np.unravel_index(int(np.argmin(d)), d.shape)
                route.append(paths[c][v])
                used[c] = True
            full = np.vstack(route)
            cost = path_cost(full, speed)
            if cost < best_cost:
                best, best_cost = full, cost
    assert best is not None
    return best


def _hull_bearings(area: Area) -> list[float]:
    """Candidate sweep bearings, best first by the hull's width across the lines."""
    hull = np.asarray(area.convex_hull.exterior.coords)
    d = np.diff(hull, axis=0)
    edges = np.degrees(np.arctan2(d[:, 0], d[:, 1])) % 180.0
    cands = np.unique(np.round(np.concatenate([edges, np.arange(0, 180, ANGLE_STEP_DEG)]), 3))
    rad = np.radians(cands)
    normals = np.column_stack([np.cos(rad), -np.sin(rad)])
    widths = np.ptp(hull @ normals.T, axis=0)
    return [float(b) for b in cands[np.argsort(widths, kind="stable")]]


def coverage(
    area: Area,
    spacing: float,
    speed: float,
    bearing: float | None = None,
    blocking: shapely.Geometry | None = None,
    footprint: float | None = None,
    min_coverage: float = MIN_COVERAGE_PCT,
) -> Pattern:
    """Boustrophedon coverage of ``area`` with lines ``spacing`` apart.

    The sweep bearing is searched to minimise flight time (straight length plus corners) over
    the hull-edge directions and every 15°, unless ``bearing`` is given. Each bearing is tried
    both flying across holes and bays and split into boustrophedon cells; the faster wins.
    ``footprint`` is the camera's ground width (the spacing if not given). Sweep ends are
    trimmed while the camera still sees ``min_coverage`` percent of the grid (100 keeps every
    line across its whole band).
    """
    if spacing <= 0:
        raise PlanningError(f"line spacing must be positive, not {spacing:g} m")
    if bearing is not None:
        bearings = [bearing]
    else:
        bearings = _hull_bearings(area)
        # small grids (a few lines) gain little from a wide search
        few = max(area.bounds[2] - area.bounds[0], area.bounds[3] - area.bounds[1]) < 4 * spacing
        bearings = bearings[: 2 if few else ANGLE_CANDIDATES]
    if blocking is not None:
        near = area.envelope.buffer(2 * spacing)
        blocking = blocking.intersection(near) if blocking.intersects(near) else None
    convex = _is_convex(area)  # rotation keeps it
    best = None
    for b in bearings:
        m = _rotation(b)
        area_rot = _rotate(area, m)
        blocking_rot = _rotate(blocking, m) if blocking is not None else None
        segs = sweep_segments(area_rot, spacing, convex=convex)
        for merge in (True, False):
            cells = _sweep_cells(segs, blocking_rot, merge)
            if cells is None:
                continue  # nothing to merge: the same as the other option
            cost = path_cost(_chain_cells(cells, speed), speed) if cells else math.inf
            if best is None or cost < best[0] - 1e-6:
                best = (cost, b, merge, m, area_rot, blocking_rot, cells)
    if best is None or not math.isfinite(best[0]):
        raise PlanningError("no sweep line fits inside the grid")
    _, b, merge, m, area_rot, blocking_rot, cells = best
    shift = _best_shift(area_rot, spacing, convex)
    if shift:
        segs = sweep_segments(area_rot, spacing, shift, convex)
        shifted = _sweep_cells(segs, blocking_rot, merge) or _sweep_cells(segs, blocking_rot, False)
        cells = shifted or cells  # keep the centred layout if the shift lost every line
    if len(cells) == 1:
        base = [_cell_path(cells[0], False, False), _cell_path(cells[0], False, True)]
        base.sort(key=lambda p: path_cost(p, speed))  # the cheaper start first
    else:
        base = [_chain_cells(cells, speed)]
    width = spacing if footprint is None else max(footprint, spacing)

    def refine(path: np.ndarray) -> np.ndarray:
        return _trim_ends(path @ m.T, area_rot, spacing, width, min_coverage / 100) @ m

    return Pattern([p @ m for p in with_reverses(base)], bearing=b, refine=refine)


def _trim_ends(
    path: np.ndarray, area_rot: Area, spacing: float, width: float, target: float
) -> np.ndarray:
    """Shorten sweep lines to where their centre line leaves the grid, as long as the camera,
    filming all along the route (turns included), still sees ``target`` of the grid.

    Lines span their whole band so that each sees its band alone. Near slanted edges the turn
    legs run along the edge and film the corners, so most ends can stop at the centre line.
    Ends are first all cut back; then, while the route sees less than ``target``, the end next
    to each missed piece is pushed out just far enough to reach it. If that does not get there
    the untrimmed path is kept.
    """
    n = len(path) // 2
    if n == 0 or len(path) % 2 or target >= 1.0:
        return path
    lo_x = np.minimum(path[0::2, 0], path[1::2, 0])
    hi_x = np.maximum(path[0::2, 0], path[1::2, 0])
    y = path[0::2, 1]
    h = spacing / 2
    lines = shapely.linestrings(
        np.stack([np.column_stack([lo_x, y]), np.column_stack([hi_x, y])], axis=1)
    )
    cb = shapely.bounds(shapely.intersection(lines, area_rot))
    trimmed = path.copy()
    high = path[0::2, 0] >= path[1::2, 0]  # does line j start at its high-x end?
    ok = ~np.isnan(cb[:, 0])
    start_x = np.where(high, cb[:, 2], cb[:, 0])
    end_x = np.where(high, cb[:, 0], cb[:, 2])
    trimmed[0::2, 0] = np.where(ok, start_x, path[0::2, 0])
    trimmed[1::2, 0] = np.where(ok, end_x, path[1::2, 0])
    area = area_rot.area
    for _ in range(6):
        seen = LineString(trimmed).buffer(width / 2, cap_style="flat")
        missed = shapely.difference(area_rot, seen)
        if missed.area <= (1 - target) * area:
            return trimmed
        pieces = [p for p in shapely.get_parts(missed) if p.area > 1e-9 * area]
        if not pieces:
            break
        pieces = sorted(pieces, key=lambda p: -p.area)[:MAX_PIECES]
        # push the trimmed end nearest to each missed piece out over that piece
        spots = shapely.get_coordinates(shapely.point_on_surface(pieces))
        moved = np.abs(trimmed[:, 0] - path[:, 0]) > 1e-9
        if not moved.any():
            break
        cand = np.flatnonzero(moved)
        dist = np.hypot(*(trimmed[cand][None, :, :] - spots[:, None, :]).transpose(2, 0, 1))
        for piece, k in zip(pieces, np.argmin(dist, axis=1), strict=True):
            i = cand[k]
            band = shapely.box(lo_x[i // 2], y[i // 2] - h, hi_x[i // 2], y[i // 2] + h)
            # opening removes hair-thin spikes along footprint seams
            core = piece.buffer(-1e-3).buffer(1e-3, join_style="mitre").intersection(band)
            if core.is_empty:
                trimmed[i, 0] = path[i, 0]
                continue
            x0, _, x1, _ = core.bounds
            if path[i, 0] >= path[i ^ 1, 0]:  # a high-x end
                trimmed[i, 0] = min(max(trimmed[i, 0], x1), path[i, 0])
            else:
                trimmed[i, 0] = max(min(trimmed[i, 0], x0), path[i, 0])
    return path
