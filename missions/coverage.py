"""Boustrophedon coverage of one grid in a local metric frame (x east, y north, metres).

The grid is turned so that sweep lines run along x. ``missions.sweep_layout`` decides how many
lines and where (the fewest that leave at most the coverage budget unseen), each line spans its
band (cells where a band splits), ``missions.sweep_angle`` picks the bearings worth planning and
refines the best, and ``missions.trimming`` shortens line ends with what is left of the budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

from missions.errors import PlanningError
from missions.flight import leg_lengths, path_cost, path_costs
from missions.patterns import Area, Pattern, with_reverses
from missions.sweep_angle import along_an_edge, candidate_bearings, refine_bearing
from missions.sweep_layout import AreaProfile, Layout, layouts
from missions.trimming import centre_clipped, line_spans, trim_ends

# Default share of a grid (percent) the camera must still see: the budget spent on leaving out
# slivers and trimming sweep ends
MIN_COVERAGE_PCT = 99.5
ANGLE_CANDIDATES = 4  # bearings planned in full (2 for grids of a few lines)
REFINE_MIN_LINES = 6  # refining the bearing pays on grids of this many lines or more
FINALISTS = 2  # bearings whose routes are trimmed before the choice
FINALIST_GAP = 0.05  # ... if within this share of the best at full line length
# a band's edge this high is given up (out of the coverage budget, none at 100 %): what
# projection adds to a grid drawn to the metre
SLIVER_M = 0.001
# Routes whose flight times differ by less than this share are equally quick: the time model
# is within about 2 % of ArduPilot SITL (README), so the shorter of them is flown
TIME_TIE = 0.01


def _rotation(bearing_deg: float) -> np.ndarray:
    """Matrix turning the frame so that lines on ``bearing_deg`` run along +x."""
    a = math.radians(90.0 - bearing_deg)  # the line direction, counter-clockwise from east
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, s], [-s, c]])


def _rotate(geom: shapely.Geometry, m: np.ndarray) -> shapely.Geometry:
    return shapely.transform(geom, lambda xy: xy @ m.T)


Segment = tuple[int, float, float, float]  # band, x start, x end, y


def sweep_segments(
    area_rot: Area, layout: Layout, convex: bool | None = None, sliver: float = 0.0
) -> list[Segment]:
    """Sweep segments of a grid already turned so that lines run along x.

    Line k flies at ``layout.centres[k]`` from the smallest to the largest x of the grid inside
    its band (``layout.lo[k]`` to ``layout.hi[k]``), so a footprint that covers the band sees
    all of it: no strips are left along slanted or ragged edges. A strip ``sliver`` high
    along a band's edge does not count (a corner a hair inside the band would otherwise
    stretch the line across it). Pieces of a band whose x ranges overlap are joined; the
    result is sorted by band, then x.
    """
    xmin, _, xmax, _ = area_rot.bounds
    yc, lo, hi = layout.centres, layout.lo, layout.hi
    if convex if convex is not None else _is_convex(area_rot):
        return _convex_segments(area_rot, yc, lo, hi)
    # GEOS's rectangle clipping: several times quicker than a general intersection
    pieces = [
        shapely.clip_by_rect(area_rot, xmin - 1, a + sliver, xmax + 1, b - sliver)
        for a, b in zip(lo, hi, strict=True)
    ]
    parts, idx = shapely.get_parts(pieces, return_index=True)
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


def _convex_segments(
    area: Polygon, yc: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> list[Segment]:
    """Band extents of a convex polygon straight from its edges clipped to each band (the
    same as intersecting the bands, without the overlay)."""
    pts = np.asarray(area.exterior.coords)
    p1, p2 = pts[:-1], pts[1:]
    ylo = lo[:, None]
    yhi = hi[:, None]
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
    lo_x = np.where(inside, np.minimum(xa, xb), np.inf).min(axis=1)
    hi_x = np.where(inside, np.maximum(xa, xb), -np.inf).max(axis=1)
    return [
        (k, float(lo_x[k]), float(hi_x[k]), float(yc[k]))
        for k in range(len(yc))
        if np.isfinite(lo_x[k]) and hi_x[k] - lo_x[k] > 1e-9
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


def _base_paths(cells: list[list[Segment]], speed: float) -> tuple[list[np.ndarray], list[float]]:
    """Paths over all cells at full line length, cheaper first, with their costs: for one cell
    its two starts at the bottom (the top ones are their reverses), else the best chain. All
    fly the same lines in the same order (each either way along)."""
    if len(cells) == 1:
        paths = [_cell_path(cells[0], False, r) for r in (False, True)]
        costs = [path_cost(p, speed) for p in paths]
        order = sorted(range(2), key=costs.__getitem__)
        return [paths[i] for i in order], [costs[i] for i in order]
    path, cost = _chain_cells(cells, speed)
    return [path], [cost]


def _chain_cells(cells: list[list[Segment]], speed: float) -> tuple[np.ndarray, float]:
    """Visit all cells: try each start, then greedily the nearest corner of the nearest cell."""
    corners = [(t, r) for t in (False, True) for r in (False, True)]
    paths = [_cell_path(c, t, r) for c in cells for t, r in corners]  # cell c, corner v: 4c + v
    n = len(cells)
    heads = np.array([p[0] for p in paths])
    ends = np.array([p[-1] for p in paths])
    gap = np.hypot(heads[None, :, 0] - ends[:, None, 0], heads[None, :, 1] - ends[:, None, 1])
    starts = range(n) if n <= 3 else (0, 1, n - 1)
    # every start at once: one row per (start cell, its corner), greedy steps side by side
    route = np.array([[4 * first + v for first in starts for v in range(4)]]).T
    used = np.zeros((len(route), n), dtype=bool)
    used[np.arange(len(route)), route[:, 0] // 4] = True
    for _ in range(n - 1):
        d = np.where(np.repeat(used, 4, axis=1), np.inf, gap[route[:, -1]])
        step = np.argmin(d, axis=1)
        used[np.arange(len(route)), step // 4] = True
        route = np.column_stack([route, step])
    routes = [np.vstack([paths[i] for i in r]) for r in route.tolist()]
    costs = path_costs(routes, speed)
    best = int(np.argmin(costs))
    return routes[best], float(costs[best])


@dataclass
class _Sweep:
    """One way to sweep a grid: a bearing, a layout of lines and the cells they form."""

    paths: list[np.ndarray]  # at full line length in the turned frame, cheaper first
    costs: list[float]  # theirs: metres of straight flight, corners included
    bearing: float
    layout: Layout
    merge: bool  # fly across holes and bays rather than split into cells
    m: np.ndarray  # rotation to the frame where lines run along x
    area_rot: Area
    cells: list[list[Segment]]

    @property
    def cost(self) -> float:
        return self.costs[0]


class _Planner:
    """The sweeps of one grid at any bearing and layout, for the search to compare."""

    def __init__(
        self,
        area: Area,
        spacing: float,
        width: float,
        speed: float,
        budget: float,
        blocking: shapely.Geometry | None,
    ) -> None:
        self.area, self.spacing, self.width, self.speed = area, spacing, width, speed
        self.budget, self.blocking = budget, blocking
        self.overhang = (width - spacing) / 2
        self.sliver = SLIVER_M if budget > 0 else 0.0
        self.convex = _is_convex(area)  # rotation keeps it
        self.profile = AreaProfile(area)
        self._known: dict[tuple[float, bool], list[_Sweep]] = {}
        self._turned: dict[float, tuple] = {}

    def sweeps(self, bearing: float, final: bool = False) -> list[_Sweep]:
        """The best sweep per layout at ``bearing``: while searching only the fewest lines
        (centred), for the final choice also every line (shifted to where it is shortest)."""
        key = (bearing, final)
        if key not in self._known:
            self._known[key] = self._sweeps(bearing, final)
        return self._known[key]

    def _frame(self, bearing: float) -> tuple:
        if bearing not in self._turned:
            m = _rotation(bearing)
            blocking = _rotate(self.blocking, m) if self.blocking is not None else None
            self._turned[bearing] = (m, _rotate(self.area, m), blocking, self.profile.turned(m))
        return self._turned[bearing]

    def _sweeps(self, bearing: float, final: bool) -> list[_Sweep]:
        m, area_rot, blocking_rot, profile = self._frame(bearing)
        options = layouts(area_rot, self.spacing, self.overhang, self.budget, final, profile)
        if not final:
            options = options[:1]
        known = self.sweeps(bearing) if final else []  # the search's sweep, reused
        out = []
        for layout in options:
            reuse = next((s for s in known if _same(s.layout, layout)), None)
            if reuse is not None:
                out.append(reuse)
                continue
            segs = sweep_segments(area_rot, layout, self.convex, self.sliver)
            best = None
            for merge in (True, False):
                cells = _sweep_cells(segs, blocking_rot, merge)
                if cells is None:
                    continue  # nothing to merge: the same as the other option
                if not cells:  # no-fly zones may cut every line of a layout
                    continue
                paths, costs = _base_paths(cells, self.speed)
                if best is None or costs[0] < best.cost - 1e-6:
                    best = _Sweep(paths, costs, bearing, layout, merge, m, area_rot, cells)
            if best is not None:
                out.append(best)
        return out

    def cost_at(self, bearing: float) -> float:
        found = self.sweeps(bearing)
        return found[0].cost if found else math.inf


def _same(a: Layout, b: Layout) -> bool:
    return a.lines == b.lines and abs(a.centres[0] - b.centres[0]) < 1e-9


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

    ``footprint`` is the camera's ground width (the spacing if not given). The camera must see
    ``min_coverage`` percent of the grid: the rest is a budget spent where it shortens the
    flight most, on fewer lines (a sliver left at an edge) and on shorter line ends (100 keeps
    every line across its whole band). The sweep bearing is searched (every degree and every
    hull edge scored, the best planned in full, refined around the best) unless ``bearing`` is
    given; each bearing is tried both flying across holes and bays and split into cells.
    """
    if not spacing > 0:
        raise PlanningError(f"line spacing must be positive, not {spacing:g} m")
    width = spacing if footprint is None else max(footprint, spacing)
    share = min_coverage / 100
    if blocking is not None:
        near = area.envelope.buffer(2 * spacing)
        blocking = blocking.intersection(near) if blocking.intersects(near) else None
    planner = _Planner(area, spacing, width, speed, (1 - share) * area.area, blocking)
    if bearing is not None:
        bearings = [bearing % 180.0]
    else:
        xmin, ymin, xmax, ymax = area.bounds
        few = max(xmax - xmin, ymax - ymin) < 4 * spacing  # a few lines: little to gain
        count = 2 if few else ANGLE_CANDIDATES
        bearings = candidate_bearings(area, spacing, planner.overhang, share, count)
    searched = [(sw.cost, sw.bearing) for b in bearings for sw in planner.sweeps(b)[:1]]
    if not searched or not math.isfinite(min(searched)[0]):
        raise PlanningError("no sweep line fits inside the grid")
    searched.sort()
    best_cost, best_bearing = searched[0]
    lines = planner.sweeps(best_bearing)[0].layout.lines
    if bearing is None and lines >= REFINE_MIN_LINES and not along_an_edge(area, best_bearing):
        best_bearing, best_cost = refine_bearing(best_bearing, best_cost, planner.cost_at)
    # Lines at full length only rank bearings; trimming can reorder close ones.
    finalists, costs = [best_bearing], [best_cost]
    for c, b in searched[1:]:
        if len(finalists) == FINALISTS or c > best_cost * (1 + FINALIST_GAP):
            break
        if all(abs(c - known) > 1e-6 * c for known in costs):  # not a mirror image
            finalists.append(b)
            costs.append(c)
    return _final(planner, finalists, share)


def _final(planner: _Planner, bearings: list[float], share: float) -> Pattern:
    """Of the layouts (fewest lines, every line) at ``bearings``, each from either of its
    starts (a cell's two bottom corners; a chain of cells has one), the route quickest once
    its ends are trimmed, or the shortest of those within TIME_TIE of it: which start trims
    better depends on which corners the turns film. Lines cut where their centre leaves the
    grid bound a trimmed route from below: one whose bound is no better is not trimmed."""
    trimmers = [
        _Trimmed(sweep, planner, share) for b in bearings for sweep in planner.sweeps(b, final=True)
    ]
    options = [(t, k) for t in trimmers for k in range(len(t.paths))]
    if len(options) == 1:  # nothing to choose: trim lazily, the variant the ordering takes
        return trimmers[0].pattern()
    clipped = [t.centre_clipped(k) for t, k in options]
    bounds = [path_cost(c, planner.speed) for c in clipped]
    quickest = math.inf
    done = []  # (length, cost, option)
    for i in sorted(range(len(options)), key=lambda i: (bounds[i], i)):
        if bounds[i] > quickest * (1 + TIME_TIE):
            break
        # past the quickest's cost only a shorter route can win: the centre-clipped one is
        # the shortest this option can fly
        if bounds[i] >= quickest and leg_lengths(clipped[i]).sum() > min(
            length for length, cost, _ in done if cost <= quickest * (1 + TIME_TIE)
        ):
            continue
        trimmer, k = options[i]
        path = trimmer(2 * k)
        cost = trimmer.costs[k]
        quickest = min(quickest, cost)
        done.append((float(leg_lengths(path).sum()), cost, i))
    best = min(d for d in done if d[1] <= quickest * (1 + TIME_TIE))
    trimmer, k = options[best[2]]
    return trimmer.pattern(first=k)


class _Trimmed:
    """A sweep's paths with their ends trimmed, in the grid's frame, by variant (the base
    paths, each followed by its reverse); each trimmed when first asked for. Its costs are
    the trimmed paths' where known, else at full line length. It keeps only what trimming
    needs, and pickles, so that a pattern comes back from another process."""

    def __init__(self, sweep: _Sweep, planner: _Planner, share: float) -> None:
        self.paths, self.costs, self.area_rot, self.m = (
            sweep.paths,
            list(sweep.costs),
            sweep.area_rot,
            sweep.m,
        )
        self.speed = planner.speed
        self.bearing, self.lines = sweep.bearing, sweep.layout.lines
        self.spacing, self.width, self.share = planner.spacing, planner.width, share
        # without no-fly zones every line sees its whole band: all but the layout's strip
        self.full_sees = (
            (1 - sweep.layout.missed / planner.area.area) if planner.blocking is None else None
        )
        self._clipped: dict[int, np.ndarray] = {}  # by base path, in the turned frame
        # the base paths' lines' spans in the grid: the same for all (see _base_paths)
        self._spans: tuple[np.ndarray, np.ndarray] | None = None
        self._done: dict[int, np.ndarray] = {}  # by base path, in the grid's frame

    def centre_clipped(self, k: int) -> np.ndarray:
        """Base path k cut where its lines' centres leave the grid (see trimming)."""
        if k not in self._clipped:
            if self._spans is None:
                self._spans = line_spans(self.paths[k], self.area_rot)
            self._clipped[k] = centre_clipped(self.paths[k], self.area_rot, self._spans)
        return self._clipped[k]

    def __call__(self, variant: int) -> np.ndarray:
        k = variant // 2
        if k not in self._done:
            trimmed = trim_ends(
                self.paths[k],
                self.area_rot,
                self.spacing,
                self.width,
                self.share,
                self.full_sees,
                self._clipped.get(k),
            )
            self._done[k] = trimmed @ self.m
            self.costs[k] = path_cost(trimmed, self.speed)
        return self._done[k] if variant % 2 == 0 else self._done[k][::-1]

    def pattern(self, first: int = 0) -> Pattern:
        """The pattern, with base path ``first`` as its variant 0 (what it flies alone): its
        variants, and their costs, as trimmed where already known, for the grid order."""
        if first:
            order = [first, *(k for k in range(len(self.paths)) if k != first)]
            place = {k: j for j, k in enumerate(order)}
            self.paths = [self.paths[k] for k in order]
            self.costs = [self.costs[k] for k in order]
            self._clipped = {place[k]: c for k, c in self._clipped.items()}
            self._done = {place[k]: p for k, p in self._done.items()}
        known = [self._done.get(k, p @ self.m) for k, p in enumerate(self.paths)]
        return Pattern(
            with_reverses(known),
            bearing=self.bearing,
            refine=self,
            lines=self.lines,
            costs=[c for c in self.costs for _ in range(2)],
        )
