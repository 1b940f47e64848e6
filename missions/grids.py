"""Village grids: read polygons from GeoJSON, KML and QGroundControl .plan files and check them.

Every problem is collected (not just the first) and raised together as a ``GridFileError`` whose
lines name the file, the feature (index and name) and what is wrong. With ``repair=True`` invalid
rings are fixed with shapely's ``make_valid`` and each grid records what was changed.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from lxml import etree
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon
from shapely.validation import explain_validity

from missions.errors import GridFileError

MIN_AREA_M2 = 10.0
MAX_AREA_M2 = 200e6
MAX_FILE_BYTES = 50_000_000  # thousands of detailed village grids fit in a few MB
NAME_KEYS = ("name", "Name", "NAME", "名称", "title")
_GEOD = Geod(ellps="WGS84")

Ring = list[tuple[float, float]]


@dataclass
class Grid:
    """One named area in lon/lat (WGS84). ``repairs`` lists what ``--repair`` changed."""

    name: str
    polygon: Polygon | MultiPolygon
    properties: dict[str, Any] = field(default_factory=dict)
    repairs: list[str] = field(default_factory=list)

    @property
    def area_m2(self) -> float:
        return geodesic_area(self.polygon)


@dataclass
class _RawFeature:
    index: int  # 1-based position in the file
    name: str | None
    kind: str  # geometry type as the file spells it
    polygons: list[list[Any]] | None  # [[outer, hole, ...], ...], rings of (lon, lat)
    properties: dict[str, Any]

    @property
    def label(self) -> str:
        return f"feature {self.index}" + (f" '{self.name}'" if self.name else "")


def geodesic_area(geom: Polygon | MultiPolygon) -> float:
    """Area in m² on the WGS84 ellipsoid (holes subtracted whatever their ring orientation:
    pyproj sums signed ring areas, so rings are oriented first)."""
    return abs(_GEOD.geometry_area_perimeter(shapely.orient_polygons(geom))[0])


def load_grids(path: Path, repair: bool = False) -> list[Grid]:
    """Read and check the polygons of a .geojson/.json, .kml or .plan file."""
    path = Path(path)
    suffix = path.suffix.lower()
    readers = {".geojson": _read_geojson, ".json": _read_geojson, ".kml": _read_kml}
    readers[".plan"] = _read_plan
    if suffix not in readers:
        raise GridFileError([f"{path}: unknown grid file type '{suffix}' (.geojson, .kml, .plan)"])
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise GridFileError(
                [f"{path}: {size / 1e6:.0f} MB is over the {MAX_FILE_BYTES / 1e6:.0f} MB limit "
                 "for a grid file"]
            )  # fmt: skip
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GridFileError([f"{path}: cannot read: {exc}"]) from exc
    raw = list(readers[suffix](path, text))
    if not raw:
        raise GridFileError([f"{path}: no polygons found"])
    problems: list[str] = []
    grids = [g for f in raw if (g := _check_feature(path, f, repair, problems)) is not None]
    named = Counter(f.name for f in raw if f.name)
    for name, count in named.items():
        if count > 1:
            where = ", ".join(str(f.index) for f in raw if f.name == name)
            problems.append(f"{path}: duplicate name '{name}' (features {where})")
    if problems:
        raise GridFileError(problems)
    return grids


# ---- checks -------------------------------------------------------------------------------


def _check_feature(path: Path, f: _RawFeature, repair: bool, problems: list[str]) -> Grid | None:
    where = f"{path}: {f.label}"
    if f.polygons is None:
        problems.append(f"{where}: is a {f.kind}, not a polygon")
        return None
    before = len(problems)
    parts: list[Polygon] = []
    repairs: list[str] = []
    for p_no, rings in enumerate(f.polygons, 1):
        part = f" polygon {p_no}" if len(f.polygons) > 1 else ""
        clean: list[Ring] = []
        for r_no, ring in enumerate(rings):
            ring_label = f"{where}:{part} {'outer ring' if r_no == 0 else f'hole {r_no}'}"
            pts = _ring_points(ring, ring_label, problems)
            if pts is None:
                continue
            if len(set(pts)) < 3:
                if r_no > 0 and repair:
                    repairs.append(f"{ring_label[len(where) + 2 :]}: dropped (fewer than 3 points)")
                    continue
                problems.append(f"{ring_label}: fewer than 3 distinct points ({len(set(pts))})")
                continue
            clean.append(pts)
        if len(problems) == before and clean:
            parts.append(Polygon(clean[0], clean[1:]))
    if len(problems) > before or not parts:
        return None
    geom: Polygon | MultiPolygon = parts[0] if len(parts) == 1 else MultiPolygon(parts)
    if not geom.is_valid:
        reason, lon, lat = _why_invalid(geom)
        if not repair:
            problems.append(f"{where}: {reason} at lat {lat:.6f}, lon {lon:.6f} (try --repair)")
            return None
        fixed = _make_valid_polygonal(geom)
        if fixed is None:
            problems.append(f"{where}: {reason} at lat {lat:.6f}, lon {lon:.6f}; no area left")
            return None
        repairs.append(
            f"{reason} at lat {lat:.6f}, lon {lon:.6f}: made valid, area "
            f"{geodesic_area(geom):.0f} -> {geodesic_area(fixed):.0f} m², "
            f"{len(shapely.get_parts(fixed))} part(s)"
        )
        geom = fixed
    area = geodesic_area(geom)
    if not MIN_AREA_M2 <= area <= MAX_AREA_M2:
        problems.append(
            f"{where}: area {area:.4g} m² is absurd for a grid "
            f"(expected {MIN_AREA_M2:g} m² to {MAX_AREA_M2 / 1e6:g} km²)"
        )
        return None
    name = f.name or f"{path.stem}-{f.index}"
    return Grid(name=name, polygon=geom, properties=f.properties, repairs=repairs)


def _ring_points(ring: Any, label: str, problems: list[str]) -> Ring | None:
    """Validate one ring's coordinates; returns (lon, lat) tuples or None after a problem."""
    if not isinstance(ring, list | tuple) or not ring:
        problems.append(f"{label}: malformed coordinates (expected a list of positions)")
        return None
    pts: Ring = []
    for i, pos in enumerate(ring, 1):
        try:
            lon, lat = float(pos[0]), float(pos[1])
        except (TypeError, ValueError, IndexError):
            problems.append(f"{label}: position {i} is not a [lon, lat] pair of numbers: {pos!r}")
            return None
        if not (math.isfinite(lon) and math.isfinite(lat)):
            problems.append(f"{label}: position {i} is not finite: {pos!r}")
            return None
        if abs(lat) > 90 or abs(lon) > 180:
            hint = ""
            if abs(lon) <= 90 and abs(lat) <= 180:
                hint = "; latitude and longitude appear swapped (GeoJSON/KML order is lon,lat)"
            problems.append(f"{label}: position {i} out of range (lon {lon:g}, lat {lat:g}){hint}")
            return None
        pts.append((lon, lat))
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts.pop()
    return pts


_VALIDITY = re.compile(r"^(?P<reason>[^\[]+)\[(?P<x>[-\d.eE+]+) (?P<y>[-\d.eE+]+)\]")


def _why_invalid(geom: Polygon | MultiPolygon) -> tuple[str, float, float]:
    text = explain_validity(geom)
    m = _VALIDITY.match(text)
    if not m:
        c = geom.representative_point()
        return text.lower(), c.x, c.y
    return m["reason"].strip().lower(), float(m["x"]), float(m["y"])


def _make_valid_polygonal(geom: Polygon | MultiPolygon) -> Polygon | MultiPolygon | None:
    fixed = shapely.make_valid(geom)
    polys = [p for p in shapely.get_parts(fixed) if isinstance(p, Polygon) and p.area > 0]
    if not polys:
        return None
    merged = shapely.union_all(polys)
    return merged if isinstance(merged, Polygon | MultiPolygon) else None


# ---- readers ------------------------------------------------------------------------------


def _load_json(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise GridFileError(
            [f"{path}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"]
        ) from exc


def _read_geojson(path: Path, text: str) -> Iterator[_RawFeature]:
    doc = _load_json(path, text)
    if not isinstance(doc, dict):
        raise GridFileError([f"{path}: not GeoJSON (top level is not an object)"])
    kind = doc.get("type")
    if kind == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list):
            raise GridFileError([f"{path}: FeatureCollection has no 'features' list"])
    elif kind == "Feature":
        features = [doc]
    elif isinstance(kind, str) and "coordinates" in doc:
        features = [{"type": "Feature", "geometry": doc, "properties": {}}]
    else:
        raise GridFileError([f"{path}: not GeoJSON (type {kind!r})"])
    for i, feat in enumerate(features, 1):
        if not isinstance(feat, dict):
            yield _RawFeature(i, None, type(feat).__name__, None, {})
            continue
        props = feat.get("properties") or {}
        props = props if isinstance(props, dict) else {}
        name = next((str(props[k]).strip() for k in NAME_KEYS if props.get(k)), None)
        geom = feat.get("geometry")
        gtype = geom.get("type") if isinstance(geom, dict) else None
        coords = geom.get("coordinates") if isinstance(geom, dict) else None
        if gtype == "Polygon" and isinstance(coords, list):
            yield _RawFeature(i, name, gtype, [coords], props)
        elif gtype == "MultiPolygon" and isinstance(coords, list):
            yield _RawFeature(i, name, gtype, coords, props)
        else:
            yield _RawFeature(i, name, gtype or "feature without geometry", None, props)


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _kml_ring(element: Any) -> list[tuple[str, ...]]:
    coords = element.xpath(".//*[local-name()='coordinates']")
    text = coords[0].text if coords and coords[0].text else ""
    return [tuple(t.split(",")) for t in text.split()]


def _read_kml(path: Path, text: str) -> Iterator[_RawFeature]:
    try:
        root = etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        raise GridFileError([f"{path}: not valid XML: {exc}"]) from exc
    for i, pm in enumerate(root.xpath("//*[local-name()='Placemark']"), 1):
        names = pm.xpath("./*[local-name()='name']/text()")
        name = names[0].strip() if names and names[0].strip() else None
        props: dict[str, Any] = {}
        for data in pm.xpath(".//*[local-name()='Data']"):
            value = data.xpath("./*[local-name()='value']/text()")
            props[data.get("name", "")] = value[0] if value else ""
        polygons = pm.xpath(".//*[local-name()='Polygon']")
        if not polygons:
            geoms = [
                _local(e.tag)
                for e in pm.iter()
                if _local(e.tag) in {"Point", "LineString", "LinearRing", "Model", "Track"}
            ]
            kind = geoms[0] if geoms else "placemark without geometry"
            yield _RawFeature(i, name, kind, None, props)
            continue
        parts = []
        for poly in polygons:
            outer = poly.xpath("./*[local-name()='outerBoundaryIs']")
            # one LinearRing per innerBoundaryIs is usual, several in one also occur
            inner = poly.xpath("./*[local-name()='innerBoundaryIs']/*[local-name()='LinearRing']")
            parts.append([_kml_ring(b) for b in outer[:1] + inner])
        yield _RawFeature(i, name, "Polygon", parts, props)


def _read_plan(path: Path, text: str) -> Iterator[_RawFeature]:
    doc = _load_json(path, text)
    if not isinstance(doc, dict) or doc.get("fileType") != "Plan":
        raise GridFileError([f"{path}: not a QGroundControl plan (fileType is not 'Plan')"])
    index = 0
    fence = doc.get("geoFence") or {}
    polygons = list(fence.get("polygons") or [])
    if fence.get("polygon"):  # geoFence version 1 kept one inclusion polygon
        polygons.append({"polygon": fence["polygon"], "inclusion": True})
    for n, poly in enumerate(polygons, 1):
        index += 1
        inclusion = bool(poly.get("inclusion", True)) if isinstance(poly, dict) else True
        pts = poly.get("polygon") if isinstance(poly, dict) else None
        props = {"source": "geoFence", "inclusion": inclusion}
        yield _RawFeature(index, f"fence {n}", "Polygon", [[_swap(pts)]], props)
    items = (doc.get("mission") or {}).get("items") or []
    surveys = [
        it
        for it in items
        if isinstance(it, dict) and it.get("type") == "ComplexItem" and "polygon" in it
    ]
    for n, item in enumerate(surveys, 1):
        index += 1
        props = {"source": item.get("complexItemType", "survey")}
        yield _RawFeature(index, f"survey {n}", "Polygon", [[_swap(item["polygon"])]], props)


def _swap(points: Any) -> Any:
    """QGC stores [lat, lon]; the checks expect [lon, lat]. Malformed input passes through."""
    if not isinstance(points, list):
        return points
    return [p[1::-1] + p[2:] if isinstance(p, list) and len(p) >= 2 else p for p in points]
