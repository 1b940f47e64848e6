"""Village grids: the polygons of a grid file, checked, with what was left out and why.

``read_grids`` reads a GeoJSON, KML or QGroundControl .plan file (``missions.grid_files``),
selects the grids asked for by name before any other check, and checks each polygon. Every
problem is collected (not just the first) and raised together as a ``GridFileError`` whose lines
name the file, the feature (index and name) and what is wrong. Features that are not polygons
(pins, paths) are left out and listed; pins inside a grid are kept with it (hover points for
``--pattern points``). With ``repair=True`` invalid rings are fixed with shapely's
``make_valid``, unless that would change the grid's extent or area beyond a small bound.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon
from shapely.validation import explain_validity

from missions.errors import GridFileError
from missions.grid_files import RawFeature, printable, read_features

MIN_AREA_M2 = 10.0
MAX_AREA_M2 = 200e6
MAX_EXTENT_M = 50_000.0  # corner to corner: a grid 11,800 km long has a mistyped coordinate
MAX_FILE_BYTES = 20_000_000  # thousands of detailed village grids fit in a few MB
# Work is bounded by these before any geometry is built: a village grid drawn at one vertex a
# metre along 20 km of boundary has 20,000 vertices.
MAX_GRID_VERTICES = 100_000
MAX_FILE_VERTICES = 500_000
MAX_REPAIR_VERTICES = 20_000  # make_valid slows sharply with many crossings beyond this
# A repair may move the outline by this share of the grid's size and change its area by
# REPAIR_AREA_SHARE of what the rings enclose as drawn; more is a typo, not a fix.
REPAIR_EXTENT_SHARE = 0.01
REPAIR_AREA_SHARE = 0.10
SHOWN_LEFT_OUT = 4
_GEOD = Geod(ellps="WGS84")
_SWAP_HINT = "; latitude and longitude appear swapped (GeoJSON/KML order is lon,lat)"


@dataclass
class Grid:
    """One named area in lon/lat (WGS84). ``repairs`` lists what ``--repair`` changed; ``pins``
    are the file's points (lon, lat) inside it."""

    name: str
    polygon: Polygon | MultiPolygon
    properties: dict[str, Any] = field(default_factory=dict)
    repairs: list[str] = field(default_factory=list)
    pins: list[tuple[float, float]] = field(default_factory=list)

    @property
    def area_m2(self) -> float:
        return geodesic_area(self.polygon)


@dataclass
class GridFile:
    """What a grid file gave: the grids, and the features left out as ``label (kind)``."""

    path: Path
    grids: list[Grid]
    left_out: list[str] = field(default_factory=list)  # not polygons, as "'name' (kind)"
    pins_in_grids: list[str] = field(default_factory=list)  # those of them that are pins in grids
    stray_pins: list[str] = field(default_factory=list)  # pins inside no grid

    def notice(self, pins_used: bool, hover_hint: bool = True) -> str | None:
        """One short line on what was not planned and why, or None. With ``pins_used``
        (``--pattern points``) pins inside a grid are hover points, not left out;
        ``hover_hint`` says so when they are not used."""
        parts = []
        left_out = [x for x in self.left_out if not (pins_used and x in self.pins_in_grids)]
        if left_out:
            shown = ", ".join(left_out[:SHOWN_LEFT_OUT])
            more = len(left_out) - SHOWN_LEFT_OUT
            shown += f" and {more} more" if more > 0 else ""
            why = "not polygons"
            if hover_hint and not pins_used and self.pins_in_grids:
                why += "; pins inside a grid are its hover points with --pattern points"
            parts.append(f"left out {shown} ({why})")
        if pins_used and self.pins_in_grids:
            parts.append(f"{len(self.pins_in_grids)} pin(s) used as hover points")
        if not parts:
            return None
        return f"{self.path.name}: planned {len(self.grids)} grid(s); " + "; ".join(parts)


def geodesic_area(geom: Polygon | MultiPolygon) -> float:
    """Area in m² on the WGS84 ellipsoid (holes subtracted whatever their ring orientation:
    pyproj sums signed ring areas, so rings are oriented first)."""
    return abs(_GEOD.geometry_area_perimeter(shapely.orient_polygons(geom))[0])


def load_grids(path: Path, repair: bool = False) -> list[Grid]:
    """The checked polygons of a .geojson/.json, .kml or .plan file."""
    return read_grids(path, repair).grids


def read_grids(path: Path, repair: bool = False, select: list[str] | None = None) -> GridFile:
    """Read and check a grid file; with ``select`` only the grids of those names (exact, or
    one word of the name), chosen before anything else is checked."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".geojson", ".json", ".kml", ".plan"):
        raise GridFileError([f"{path}: unknown grid file type '{suffix}' (.geojson, .kml, .plan)"])
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise GridFileError(
                [f"{path}: {size / 1e6:.0f} MB is over the {MAX_FILE_BYTES / 1e6:.0f} MB limit "
                 "for a grid file"]
            )  # fmt: skip
        data = path.read_bytes()
    except OSError as exc:
        raise GridFileError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    raw = read_features(path, data)
    for f in raw:
        f.name = f.name or f"{path.stem}-{f.index}"
    if select:
        raw = _select(path, raw, select)
    _check_sizes(path, raw)

    problems: list[str] = []
    grids: list[Grid] = []
    left_out: list[str] = []
    for f in raw:
        if f.problem:
            problems.append(f"{path}: {f.label}: {f.problem}")
        elif f.polygons or f.empty:
            grid = _check_feature(path, f, repair, problems)
            if grid is not None:
                grids.append(grid)
        else:
            left_out.append(f"'{f.name}' ({f.kind})")
    named = Counter(f.name for f in raw if f.polygons or f.empty or f.problem)
    for name, count in named.items():
        if count > 1:
            where = ", ".join(str(f.index) for f in raw if f.name == name)
            problems.append(f"{path}: duplicate name '{name}' (features {where})")
    if problems:
        raise GridFileError(problems)
    if not grids:
        found = f": only {', '.join(left_out[:SHOWN_LEFT_OUT])}" if left_out else ""
        raise GridFileError([f"{path}: no polygons found{found}"])
    stray = _place_pins(grids, raw)
    in_grids = [
        label
        for f in raw
        if f.pins and not (f.polygons or f.empty or f.problem)
        if (label := f"'{f.name}' ({f.kind})") not in stray
    ]
    return GridFile(path, grids, left_out, in_grids, stray)


def _select(path: Path, raw: list[RawFeature], wanted: list[str]) -> list[RawFeature]:
    chosen: list[RawFeature] = []
    for name in wanted:
        key = " ".join(name.split()).casefold()
        exact = [f for f in raw if f.name and f.name.casefold() == key]
        hits = exact or [f for f in raw if f.name and key in f.name.casefold().split()]
        if not hits:
            known = [f.name for f in raw if f.name and (f.polygons or f.empty or f.problem)]
            shown = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")
            raise GridFileError([f"{path}: no grid named '{printable(name)}' (grids: {shown})"])
        if len(hits) > 1:
            names = ", ".join(f"{f.name} (feature {f.index})" for f in hits[:10])
            raise GridFileError([f"{path}: grid name '{printable(name)}' is ambiguous: {names}"])
        f = hits[0]
        if not (f.polygons or f.empty or f.problem):
            raise GridFileError([f"{path}: {f.label} is a {f.kind}, not a grid polygon"])
        if f not in chosen:
            chosen.append(f)
    return chosen


def _check_sizes(path: Path, raw: list[RawFeature]) -> None:
    total = 0
    for f in raw:
        n = sum(len(ring) for poly in f.polygons for ring in poly)
        total += n
        if n > MAX_GRID_VERTICES and not f.problem:
            f.problem = (
                f"{n:,} vertices, over the {MAX_GRID_VERTICES:,} a grid may have "
                "(simplify it in a GIS first)"
            )
    if total > MAX_FILE_VERTICES:
        raise GridFileError(
            [f"{path}: {total:,} vertices in all, over the {MAX_FILE_VERTICES:,} a grid file "
             "may have (simplify the grids or split the file)"]
        )  # fmt: skip


def _place_pins(grids: list[Grid], raw: list[RawFeature]) -> list[str]:
    """Give each grid the pins inside it; return the labels of pins inside none."""
    pins = [(f.name, lon, lat) for f in raw for lon, lat in f.pins]
    if not pins:
        return []
    lon = np.array([p[1] for p in pins])
    lat = np.array([p[2] for p in pins])
    placed = np.zeros(len(pins), dtype=bool)
    for g in grids:
        inside = shapely.intersects_xy(g.polygon, lon, lat) & ~placed
        g.pins += [(float(x), float(y)) for x, y in zip(lon[inside], lat[inside], strict=True)]
        placed |= inside
    kinds = {f.name: f.kind for f in raw}
    return [f"'{pins[i][0]}' ({kinds[pins[i][0]]})" for i in np.flatnonzero(~placed)]


# ---- checks -------------------------------------------------------------------------------


def _check_feature(path: Path, f: RawFeature, repair: bool, problems: list[str]) -> Grid | None:
    where = f"{path}: {f.label}"
    if f.empty:
        problems.append(f"{where}: empty {f.kind} (no rings): nothing to plan")
        return None
    before = len(problems)
    parts: list[Polygon] = []
    repairs: list[str] = []
    for p_no, rings in enumerate(f.polygons, 1):
        part = f" polygon {p_no}" if len(f.polygons) > 1 else ""
        if not rings:
            problems.append(f"{where}:{part} empty polygon (no rings)")
            continue
        clean: list[np.ndarray] = []
        for r_no, ring in enumerate(rings):
            ring_label = f"{where}:{part} {'outer ring' if r_no == 0 else f'hole {r_no}'}"
            pts = _ring_points(ring, ring_label, problems)
            if pts is None:
                continue
            distinct = len(np.unique(pts, axis=0))
            if distinct < 3:
                if r_no > 0 and repair:
                    repairs.append(f"{ring_label[len(where) + 2 :]}: dropped (fewer than 3 points)")
                    continue
                problems.append(f"{ring_label}: fewer than 3 distinct points ({distinct})")
                continue
            clean.append(pts)
        if len(problems) == before and clean:
            parts.append(Polygon(clean[0], clean[1:]))
    if len(problems) > before or not parts:
        return None
    geom: Polygon | MultiPolygon = parts[0] if len(parts) == 1 else MultiPolygon(parts)
    if not geom.is_valid:
        geom = _repaired(where, geom, repair, problems, repairs)
        if geom is None:
            return None
    x0, y0, x1, y1 = geom.bounds
    extent = _GEOD.inv(x0, y0, x1, y1)[2]
    if extent > MAX_EXTENT_M:
        problems.append(
            f"{where}: spans {extent / 1000:,.0f} km corner to corner, absurd for a grid (at "
            f"most {MAX_EXTENT_M / 1000:g} km): a coordinate typed wrong?"
        )
        return None
    area = geodesic_area(geom)
    if not MIN_AREA_M2 <= area <= MAX_AREA_M2:
        problems.append(
            f"{where}: area {area:.4g} m² is absurd for a grid "
            f"(expected {MIN_AREA_M2:g} m² to {MAX_AREA_M2 / 1e6:g} km²)"
        )
        return None
    return Grid(name=f.name or "", polygon=geom, properties=f.properties, repairs=repairs)


def _ring_points(ring: list[Any], label: str, problems: list[str]) -> np.ndarray | None:
    """A ring's positions as (lon, lat) rows, checked; None after a problem."""
    if not ring:
        problems.append(f"{label}: no positions")
        return None
    pts = np.array([(p[0], p[1]) for p in ring], dtype=float)
    bad = np.flatnonzero(~np.isfinite(pts).all(axis=1))
    if len(bad):
        problems.append(f"{label}: position {bad[0] + 1} is not finite")
        return None
    lon, lat = pts[:, 0], pts[:, 1]
    bad = np.flatnonzero((np.abs(lat) > 90) | (np.abs(lon) > 180))
    if len(bad):
        i = bad[0]
        swapped = bool(np.all((np.abs(lon) <= 90) & (np.abs(lat) <= 180)))
        problems.append(
            f"{label}: position {i + 1} out of range (lon {lon[i]:g}, lat {lat[i]:g})"
            + (_SWAP_HINT if swapped else "")
        )
        return None
    if len(pts) > 1 and (pts[0] == pts[-1]).all():
        pts = pts[:-1]
    return pts


def _why_invalid(geom: Polygon | MultiPolygon) -> tuple[str, float, float]:
    text = explain_validity(geom)
    reason, _, rest = text.partition("[")
    try:
        x, y = (float(v) for v in rest.rstrip("]").split()[:2])
    except ValueError:
        c = geom.representative_point()
        return text.lower(), c.x, c.y
    return reason.strip().lower(), x, y


def _repaired(
    where: str,
    geom: Polygon | MultiPolygon,
    repair: bool,
    problems: list[str],
    repairs: list[str],
) -> Polygon | MultiPolygon | None:
    """The grid made valid, or None after a problem (no --repair, too big, too much changed)."""
    reason, lon, lat = _why_invalid(geom)
    at = f"{reason} at lat {lat:.6f}, lon {lon:.6f}"
    if not repair:
        problems.append(f"{where}: {at} (try --repair)")
        return None
    vertices = int(shapely.get_num_coordinates(geom))
    if vertices > MAX_REPAIR_VERTICES:
        problems.append(
            f"{where}: {at}; with {vertices:,} vertices it is over the "
            f"{MAX_REPAIR_VERTICES:,} --repair handles: fix the ring in a GIS"
        )
        return None
    fixed = _make_valid_polygonal(geom)
    if fixed is None:
        problems.append(f"{where}: {at}; no area left")
        return None
    drawn = _as_drawn(geom)
    change = _repair_change(drawn, fixed)
    if change:
        problems.append(f"{where}: {at}; --repair refused: it would change {change}: fix the ring")
        return None
    repairs.append(
        f"{at}: made valid, area {_area_or_zero(drawn):.0f} -> {geodesic_area(fixed):.0f} m², "
        f"{len(shapely.get_parts(fixed))} part(s)"
    )
    return fixed


def _area_or_zero(geom: Polygon | MultiPolygon) -> float:
    return 0.0 if geom.is_empty else geodesic_area(geom)


def _make_valid_polygonal(geom: Polygon | MultiPolygon) -> Polygon | MultiPolygon | None:
    fixed = shapely.make_valid(geom)
    polys = [p for p in shapely.get_parts(fixed) if isinstance(p, Polygon) and p.area > 0]
    if not polys:
        return None
    merged = shapely.union_all(polys)
    return merged if isinstance(merged, Polygon | MultiPolygon) else None


def _as_drawn(geom: Polygon | MultiPolygon) -> Polygon | MultiPolygon:
    """What the rings enclose as an operator drew them: outer rings less holes, each ring made
    valid on its own."""
    shells, holes = [], []
    for part in shapely.get_parts(geom):
        shells.append(shapely.make_valid(Polygon(part.exterior)))
        holes += [shapely.make_valid(Polygon(r)) for r in part.interiors]
    drawn = shapely.union_all(shells)
    if holes:
        drawn = drawn.difference(shapely.union_all(holes))
    polys = [p for p in shapely.get_parts(drawn) if isinstance(p, Polygon) and p.area > 0]
    return shapely.union_all(polys) if polys else Polygon()


def _repair_change(drawn: shapely.Geometry, fixed: shapely.Geometry) -> str | None:
    """What a repair would change beyond the bounds, in words; None when within them."""
    area_after = geodesic_area(fixed)
    if drawn.is_empty:
        return f"its area from 0 to {area_after:,.0f} m²"
    x0, y0, x1, y1 = drawn.bounds
    fx0, fy0, fx1, fy1 = fixed.bounds
    lat = np.radians((y0 + y1) / 2)
    metres = np.array([111_320.0 * np.cos(lat), 110_540.0])  # per degree of lon, lat
    size = np.array([x1 - x0, y1 - y0]) * metres
    grown = np.array([max(x0 - fx0, fx1 - x1), max(y0 - fy0, fy1 - y1)]) * metres
    area_before = geodesic_area(drawn)
    if (grown > np.maximum(REPAIR_EXTENT_SHARE * size.max(), 1.0)).any():
        after = np.array([fx1 - fx0, fy1 - fy0]) * metres
        return (
            f"its extent from {size[0]:,.0f} x {size[1]:,.0f} m to "
            f"{after[0]:,.0f} x {after[1]:,.0f} m and its area from {area_before:,.0f} to "
            f"{area_after:,.0f} m²"
        )
    if abs(area_after - area_before) > REPAIR_AREA_SHARE * max(area_before, 1.0):
        return f"its area from {area_before:,.0f} to {area_after:,.0f} m²"
    return None
