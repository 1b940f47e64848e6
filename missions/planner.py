"""The patrol planner: grids and settings in, sorties (Missions) and stats out.

Stages: project to a local frame -> pattern per grid -> order the grids -> route every leg
around the no-fly zones -> split into sorties by endurance -> emit items, fence and rally.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Annotated, Any

import numpy as np
import shapely
from pydantic import Field, TypeAdapter, ValidationError
from pyproj import Geod
from shapely.errors import GEOSException
from shapely.geometry import LineString, MultiPolygon, Polygon
from shapely.validation import explain_validity

from missions.coverage import coverage
from missions.emit import fence_items, fence_params, mission_items, rally_items
from missions.errors import PlanningError
from missions.flight import leg_lengths, path_cost
from missions.flight import sortie_time as flight_time
from missions.grids import Grid
from missions.items import Mission
from missions.ordering import order_grids
from missions.parallel import map_grids
from missions.patterns import Pattern, hover_points, perimeter
from missions.plan_settings import PlanSettings
from missions.projection import LocalFrame
from missions.routing import Router
from missions.sorties import Route, SortieCutter
from missions.validation import Number, problems
from missions.work_bounds import (
    MAX_GRID_HOVER_POINTS,
    MAX_GRID_VERTICES,
    SIMPLIFY_M,
    check_work,
)

MAX_HOME_DISTANCE_M = 20_000.0  # farther than any township patrol flies out from take-off
MAX_REACH_M = 2 * MAX_HOME_DISTANCE_M  # no part of any grid farther than this from home
LONG_SORTIE_MIN = 60.0  # a single sortie longer than this needs --endurance
FENCE_ALT_MARGIN = 20.0
MAX_ITEMS = 700  # mission items most ArduPilot boards can store (SITL holds more)
FENCE_VERTICES = 20  # exclusion polygons with more vertices are simplified outward

_HOVER_POINTS = TypeAdapter(
    list[Annotated[list[Number], Field(min_length=2, max_length=3)]], config={"strict": True}
)


@dataclass
class GridStats:
    name: str
    area_m2: float
    coverage_pct: float
    length_m: float
    angle_deg: float | None = None  # sweep bearing from north, coverage only
    lines: int = 0  # sweep lines, coverage only

    @property
    def given_up_pct(self) -> float:
        """The share of the grid the camera does not see (spent on a shorter route)."""
        return 100.0 - self.coverage_pct


@dataclass
class Plan:
    sorties: list[Mission]
    grids: list[GridStats]
    sortie_lengths: list[float]
    sortie_times: list[float]
    unreachable: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def length_m(self) -> float:
        return float(sum(self.sortie_lengths))

    @property
    def flight_time_s(self) -> float:
        return float(sum(self.sortie_times))

    @property
    def items(self) -> int:
        return sum(len(m.items) for m in self.sorties)

    @property
    def given_up_pct(self) -> float:
        """The share of all grids' area the camera does not see (area-weighted)."""
        total = sum(g.area_m2 for g in self.grids)
        unseen = sum(g.area_m2 * g.given_up_pct for g in self.grids)
        return unseen / total if total > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        """The stats as one JSON-ready object."""
        return {
            "length_m": round(self.length_m, 1),
            "flight_time_s": round(self.flight_time_s, 1),
            "items": self.items,
            "sorties": len(self.sorties),
            "given_up_pct": round(self.given_up_pct, 3),
            "grids": [
                {
                    "name": g.name,
                    "area_m2": round(g.area_m2, 1),
                    "coverage_pct": round(g.coverage_pct, 2),
                    "given_up_pct": round(g.given_up_pct, 3),
                    "length_m": round(g.length_m, 1),
                    "angle_deg": g.angle_deg,
                    "lines": g.lines,
                }
                for g in self.grids
            ],
            "sortie_details": [
                {"length_m": round(n, 1), "flight_time_s": round(t, 1), "items": len(m.items)}
                for m, n, t in zip(
                    self.sorties, self.sortie_lengths, self.sortie_times, strict=True
                )
            ],
            "unreachable": self.unreachable,
        }


@dataclass
class _Planned:
    grid: Grid
    stat_area: Polygon | MultiPolygon  # grid minus no-fly zones, local metres
    pattern: Pattern
    flown: np.ndarray | None = None  # the path chosen by the ordering, as flown


def plan_patrol(
    grids: list[Grid],
    settings: PlanSettings,
    home: tuple[float, float],
    no_fly: list[Grid] | None = None,
    processes: int | None = None,
) -> Plan:
    """Plan one patrol over ``grids`` from ``home`` (lat, lon). The grids are planned in
    ``processes`` worker processes (default: one per CPU when worthwhile, see
    ``missions.parallel``)."""
    settings.check()
    if not grids:
        raise PlanningError("no grids to plan")
    _check_home_near(grids, home)
    frame = LocalFrame(*home)
    zones = [shapely.simplify(frame.geom_to_local(z.polygon), SIMPLIFY_M) for z in no_fly or []]
    for z, local in zip(no_fly or [], zones, strict=True):
        n = shapely.get_num_coordinates(local)
        if n > MAX_GRID_VERTICES:
            raise PlanningError(
                f"no-fly zone '{z.name}' keeps {n:,} vertices after simplifying at "
                f"{SIMPLIFY_M * 100:g} cm, over the {MAX_GRID_VERTICES:,} a zone may have: "
                "simplify it in a GIS"
            )
    router = Router(zones, settings.clearance, [z.name for z in no_fly or []])
    origin = np.zeros(2)
    zone = router.zone_at(origin)
    if zone:
        raise PlanningError(
            f"home {home[0]:.6f},{home[1]:.6f} is inside no-fly zone '{zone}' "
            f"(or within {settings.clearance:g} m of it)"
        )
    for lat, lon in settings.rally:
        if router.zone_at(np.array(frame.to_local(lon, lat))):
            raise PlanningError(f"rally point {lat:.6f},{lon:.6f} is inside a no-fly zone")

    planned, unreachable, notes = _plan_grids(grids, settings, frame, zones, router, processes)
    if not planned:
        raise PlanningError("no grid can be reached: " + "; ".join(unreachable))

    costs = [
        p.pattern.costs or [path_cost(v, settings.speed) for v in p.pattern.variants]
        for p in planned
    ]
    order = order_grids(origin, [p.pattern.variants for p in planned], costs)
    # the paths flown (sweep ends trimmed for the variant chosen) and what each grid sees
    finished = map_grids(_finish_grid, (planned, settings), order, processes)
    stats: list[GridStats | None] = [None] * len(planned)
    for (g, _), (flown, grid_stats) in zip(order, finished, strict=True):
        planned[g].flown, stats[g] = flown, grid_stats
    points, hover, owner, line_start = _route(order, planned, router, settings)

    def sortie_time(pts: np.ndarray, hov: np.ndarray) -> float:
        return flight_time(pts, hov, settings.alt, settings.speed)

    budget = settings.endurance_min * 60.0 if settings.endurance_min else None
    cutter = SortieCutter(
        Route(points, hover, owner, line_start),
        router,
        settings.alt,
        settings.speed,
        lambda g: planned[g].grid.name,
    )
    margin = 0.0
    for _ in range(5):  # detour corners on the way out and home are only estimated: re-cut
        pieces = cutter.split(budget - margin if budget else None, settings.endurance_min)
        over = max(sortie_time(*piece) for piece in pieces) - (budget or math.inf)
        if over <= 0:
            break
        margin += over + 1.0
    else:  # a sortie that cannot be cut shorter is still too long
        pts, hov = max(pieces, key=lambda piece: sortie_time(*piece))
        on_route = (pts[:, None, :] == points[None, :, :]).all(axis=2).any(axis=0)
        names = sorted({planned[g].grid.name for g in owner[on_route] if g >= 0})
        raise PlanningError(
            f"endurance {settings.endurance_min:g} min is too short for the sortie to "
            f"{', '.join(names) or 'the first grid'}: it needs {sortie_time(pts, hov):.1f} s "
            f"of flight, over the {budget:.0f} s, home and back included"
        )

    sorties, lengths, times = [], [], []
    nofly_geo = [frame.geom_to_geo(_fence_outline(z)) for z in zones]
    rally_local = [np.array(frame.to_local(lon, lat)) for lat, lon in settings.rally]
    for n, (pts, hov) in enumerate(pieces, 1):
        lengths.append(float(leg_lengths(pts).sum()))
        times.append(sortie_time(pts, hov))
        sorties.append(_emit(pts, hov, frame, settings, nofly_geo, rally_local, home, n))
        if len(pieces) > 1:
            sorties[-1].name = f"{settings.name}-{n}"
        if len(sorties[-1].items) > MAX_ITEMS:
            notes.append(
                f"sortie {n} has {len(sorties[-1].items)} mission items; many flight "
                f"controllers store about {MAX_ITEMS}: use a shorter --endurance"
            )
    if budget is None and times[0] > LONG_SORTIE_MIN * 60:
        notes.append(
            f"one sortie of {times[0] / 60:.0f} min: give --endurance MIN to split it into "
            "sorties the battery can fly"
        )
    return Plan(sorties, [s for s in stats if s], lengths, times, unreachable, notes)


def _check_home_near(grids: list[Grid], home: tuple[float, float]) -> None:
    """Refuse a take-off point far from every grid (a mistyped or default 0,0 home)."""
    points = [g.polygon.representative_point() for g in grids]
    n = len(points)
    _, _, dist = Geod(ellps="WGS84").inv(
        [home[1]] * n, [home[0]] * n, [p.x for p in points], [p.y for p in points]
    )
    nearest = int(np.argmin(dist))
    if dist[nearest] > MAX_HOME_DISTANCE_M:
        raise PlanningError(
            f"home {home[0]:.6f},{home[1]:.6f} is {dist[nearest] / 1000:,.0f} km from the "
            f"nearest grid '{grids[nearest].name}': check the take-off point (LAT,LON)"
        )
    # every corner of every grid's extent: a patrol flies out and back on one battery
    bounds = shapely.bounds(np.asarray([g.polygon for g in grids], dtype=object))
    lon = bounds[:, [0, 2, 0, 2]].ravel()
    lat = bounds[:, [1, 1, 3, 3]].ravel()
    _, _, reach = Geod(ellps="WGS84").inv([home[1]] * len(lon), [home[0]] * len(lon), lon, lat)
    far = int(np.argmax(reach))
    if reach[far] > MAX_REACH_M:
        raise PlanningError(
            f"grid '{grids[far // 4].name}' reaches {reach[far] / 1000:,.0f} km from home "
            f"(at most {MAX_REACH_M / 1000:g} km): check its coordinates or plan it from "
            "nearer"
        )


def _plan_grids(
    grids: list[Grid],
    settings: PlanSettings,
    frame: LocalFrame,
    zones: list[shapely.Geometry],
    router: Router,
    processes: int | None = None,
) -> tuple[list[_Planned], list[str], list[str]]:
    nofly = shapely.union_all(zones) if zones else None
    keep_out = nofly.buffer(settings.clearance) if nofly is not None else None
    if keep_out is not None:
        shapely.prepare(keep_out)
    notes: list[str] = []
    areas = []
    for grid in grids:
        if not grid.polygon.is_valid:
            raise PlanningError(
                f"grid '{grid.name}' is not a valid polygon: {explain_validity(grid.polygon)}"
            )
        # dense rings (a vertex every few millimetres) cost time and change nothing
        local = shapely.simplify(frame.geom_to_local(grid.polygon), SIMPLIFY_M)
        if not local.is_valid:  # a hair-thin spot the projection's rounding closed
            local = _polygonal(shapely.make_valid(local)) or local
        areas.append(local)
        notes += [f"grid '{grid.name}': repaired: {r}" for r in grid.repairs]
    given = [_given_hover_points(g, frame) if settings.pattern == "points" else None for g in grids]
    check_work(grids, areas, given, settings)
    context = _GridContext(settings, nofly, keep_out, router)
    jobs = [(g.name, a, p) for g, a, p in zip(grids, areas, given, strict=True)]
    planned: list[_Planned] = []
    unreachable: list[str] = []
    for grid, result in zip(grids, map_grids(_plan_grid, context, jobs, processes), strict=True):
        if isinstance(result, str):
            unreachable.append(result)
            continue
        stat_area, pattern = result
        notes += [f"grid '{grid.name}': {n}" for n in pattern.notes]
        planned.append(_Planned(grid, stat_area, pattern))
    return planned, unreachable, notes


@dataclass(frozen=True)
class _GridContext:
    """What planning any one grid needs besides the grid."""

    settings: PlanSettings
    nofly: shapely.Geometry | None
    keep_out: shapely.Geometry | None  # the zones grown by the clearance
    router: Router


def _plan_grid(
    c: _GridContext, job: tuple[str, Polygon | MultiPolygon, np.ndarray | None]
) -> tuple[Polygon | MultiPolygon, Pattern] | str:
    """One grid's pattern and the area its coverage is counted over (the grid less the
    no-fly zones), or why it cannot be flown."""
    name, local, points = job
    stat_area = local.difference(c.nofly) if c.nofly is not None else local
    area = _polygonal(local.difference(c.keep_out) if c.keep_out is not None else local)
    if area is None:
        return (
            f"grid '{name}' cannot be reached: it lies inside no-fly zone(s) "
            f"(with the {c.settings.clearance:g} m clearance)"
        )
    try:
        pattern = _pattern(area, c.settings, c.keep_out, points)
        c.router.path(np.zeros(2), pattern.path[0])
    except GEOSException as exc:
        raise PlanningError(
            f"grid '{name}': its outline is too degenerate to plan over ({exc})"
        ) from None
    except PlanningError as exc:
        return f"grid '{name}' cannot be reached: {exc}"
    return _polygonal(stat_area) or area, pattern


def _given_hover_points(grid: Grid, frame: LocalFrame) -> np.ndarray | None:
    """A grid's own hover points in local metres: its ``hover_points`` property [[lon, lat],
    ...] and the pins inside it; None when it has neither."""
    given = grid.properties.get("hover_points")
    points: list[list[float]] = []
    if given is not None:
        try:
            points = [p[:2] for p in _HOVER_POINTS.validate_python(given)]
        except ValidationError as exc:
            (problem,) = problems(exc)
            raise PlanningError(f"grid '{grid.name}': hover_points{problem}") from None
    points += [list(p) for p in grid.pins]
    if not points:
        return None
    if len(points) > MAX_GRID_HOVER_POINTS:
        raise PlanningError(
            f"grid '{grid.name}' has {len(points):,} hover points, over the "
            f"{MAX_GRID_HOVER_POINTS:,} a grid may have"
        )
    lon, lat = np.array(points, dtype=float).T
    if (np.abs(lat) > 90).any() or (np.abs(lon) > 180).any():
        raise PlanningError(f"grid '{grid.name}': hover_points out of range (give [lon, lat])")
    return np.column_stack(frame.to_local(lon, lat))


def _polygonal(geom: shapely.Geometry) -> Polygon | MultiPolygon | None:
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and p.area > 1.0]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def _pattern(
    area: Polygon | MultiPolygon,
    s: PlanSettings,
    keep_out: shapely.Geometry | None,
    given: np.ndarray | None,
) -> Pattern:
    if s.pattern == "coverage":
        return coverage(
            area, s.line_spacing, s.speed, s.angle, keep_out, s.footprint_width, s.min_coverage
        )
    if s.pattern == "perimeter":
        return perimeter(area, s.inset)
    return hover_points(area, s.line_spacing, given)


def _route(
    order: list[tuple[int, int]], planned: list[_Planned], router: Router, s: PlanSettings
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The whole patrol as one path from home back to home, every leg clear of no-fly zones.
    Returns points (N, 2), hover seconds (N,), the owning grid index (N,; -1 transit) and
    whether a sweep line starts at each point (N,)."""
    pts = [np.zeros((1, 2))]
    hover = [np.zeros(1)]
    owner = [np.full(1, -1)]
    starts = [np.zeros(1, dtype=bool)]
    for g, _ in order:
        pattern = planned[g].pattern
        path = planned[g].flown
        assert path is not None
        pts.append(path)
        hover.append(np.full(len(path), s.loiter if pattern.hover else 0.0))
        owner.append(np.full(len(path), g))
        line_start = np.zeros(len(path), dtype=bool)
        if pattern.bearing is not None:  # coverage: points come in pairs, one per line
            line_start[0::2] = True
        starts.append(line_start)
    pts.append(np.zeros((1, 2)))
    hover.append(np.zeros(1))
    owner.append(np.full(1, -1))
    starts.append(np.zeros(1, dtype=bool))
    p, (h, o, f) = _detour(
        np.vstack(pts),
        [
            (np.concatenate(hover), 0.0),
            (np.concatenate(owner), -1),
            (np.concatenate(starts), False),
        ],
        router,
    )
    return p, h, o, f


def _detour(
    p: np.ndarray, cols: list[tuple[np.ndarray, Any]], router: Router
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Replace every leg that crosses a no-fly zone by the shortest way around it. ``cols`` are
    per-point arrays carried along, with the value the inserted points get (the owner column,
    second, keeps its grid when both ends share one)."""
    blocked = np.flatnonzero(router.blocked(p[:-1], p[1:]))
    if not len(blocked):
        return p, [c for c, _ in cols]
    cut = blocked[0] + 1
    out_p = [p[:cut]]
    out_c = [[c[:cut]] for c, _ in cols]
    for n, i in enumerate(blocked):
        mid = router.path(p[i], p[i + 1])[1:-1]
        stop = blocked[n + 1] + 1 if n + 1 < len(blocked) else len(p)
        out_p += [mid, p[i + 1 : stop]]
        for k, (c, fill) in enumerate(cols):
            if k == 1 and c[i] == c[i + 1]:
                fill = c[i]
            out_c[k] += [np.full(len(mid), fill, dtype=c.dtype), c[i + 1 : stop]]
    return np.vstack(out_p), [np.concatenate(parts) for parts in out_c]


def _emit(
    pts: np.ndarray,
    hov: np.ndarray,
    frame: LocalFrame,
    s: PlanSettings,
    nofly_geo: list[Polygon | MultiPolygon],
    rally_local: list[np.ndarray],
    home: tuple[float, float],
    n: int,
) -> Mission:
    inner = pts[1:-1]
    lon, lat = frame.to_geo(inner[:, 0], inner[:, 1])
    stops = list(zip(np.atleast_1d(lat), np.atleast_1d(lon), hov[1:-1], strict=True))
    items = mission_items((home[0], home[1], s.home_alt), stops, s.alt, s.speed)
    around = [pts, *[r[None] for r in rally_local]]
    hull = shapely.multipoints(np.vstack(around)).convex_hull
    fence_local = hull.buffer(s.fence_margin, join_style="mitre").simplify(s.fence_margin * 0.3)
    fence = frame.geom_to_geo(fence_local)
    rally = [(home[0], home[1]), *s.rally]
    return Mission(
        items=items,
        fence=fence_items(fence, nofly_geo),
        rally=rally_items(rally, s.alt),
        name=f"{s.name}",
        params=fence_params(s.alt + FENCE_ALT_MARGIN),
    )


def _fence_outline(zone: Polygon | MultiPolygon) -> Polygon | MultiPolygon:
    """A no-fly zone with few vertices for the fence (flight controllers keep a few dozen fence
    points): grown by a tolerance, then simplified by it, so it still holds the whole zone."""
    parts = []
    for part in shapely.get_parts(zone):
        outline = Polygon(part.exterior)
        if len(outline.exterior.coords) > FENCE_VERTICES:
            tol = max(1.0, math.sqrt(outline.area) / 50)
            outline = outline.buffer(tol, join_style="mitre").simplify(tol)
        parts.append(outline)
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def _finish_grid(
    c: tuple[list[_Planned], PlanSettings], visit: tuple[int, int]
) -> tuple[np.ndarray, GridStats]:
    """The path flown over grid g as variant v, and what its camera sees."""
    planned, s = c
    g, v = visit
    path = planned[g].pattern.final(v)
    return path, _grid_stats(planned[g], path, s)


def _grid_stats(p: _Planned, path: np.ndarray, s: PlanSettings) -> GridStats:
    w, h = s.footprint_width, s.footprint_height
    if p.pattern.hover:  # what the camera sees while hovering at each point
        seen = shapely.union_all(
            shapely.box(
                path[:, 0] - w / 2, path[:, 1] - h / 2, path[:, 0] + w / 2, path[:, 1] + h / 2
            )
        )
    else:
        seen = LineString(path).buffer(w / 2, cap_style="flat") if len(path) > 1 else None
    covered = shapely.intersection(seen, p.stat_area).area if seen is not None else 0.0
    pct = 100.0 * covered / p.stat_area.area if p.stat_area.area > 0 else 0.0
    return GridStats(
        name=p.grid.name,
        area_m2=float(p.grid.area_m2),
        coverage_pct=float(min(pct, 100.0)),
        length_m=float(leg_lengths(path).sum()),
        angle_deg=None if p.pattern.bearing is None else round(p.pattern.bearing, 2) % 180.0,
        lines=p.pattern.lines,
    )
