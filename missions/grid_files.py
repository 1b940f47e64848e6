"""Reading grid files (GeoJSON, KML, QGroundControl .plan) into raw features, unchecked.

Each reader yields one ``RawFeature`` per feature (GeoJSON feature, KML Placemark, .plan fence
or survey polygon) with its polygons as rings of (lon, lat) numbers, its pins (points) and what
else it holds. Structured input is validated against declared schemas (``geojson_schema``,
``plan_schema``); a feature that does not fit carries its ``problem``. ``missions.grids``
decides what to plan, what to refuse and what to leave out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from pydantic import ValidationError

from missions import geojson_schema as gj
from missions import plan_schema
from missions.errors import GridFileError, PlanningError
from missions.json_input import load_json
from missions.validation import problems

NAME_KEYS = ("name", "Name", "NAME", "名称", "title")
MAX_NAME_CHARS = 200
# Every polygon as [outer ring, hole, ...]; a ring is a list of positions (lon, lat, ...).
Polygons = list[list[list[Any]]]


@dataclass
class RawFeature:
    index: int  # 1-based position in the file
    name: str | None
    kind: str  # what the file calls its geometry: Polygon, Point, LineString ...
    polygons: Polygons = field(default_factory=list)
    pins: list[tuple[float, float]] = field(default_factory=list)  # points (lon, lat)
    others: list[str] = field(default_factory=list)  # geometry types that are neither
    properties: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None  # what makes the feature unreadable
    empty: bool = False  # a polygon geometry without a single ring

    @property
    def label(self) -> str:
        return f"feature {self.index}" + (f" '{self.name}'" if self.name else "")


def clean_name(value: Any) -> str | None:
    """A printable feature name: text or a number, lone surrogates replaced, whitespace runs
    one space, other control characters escaped, length capped."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(value) if not isinstance(value, str) else value
    text = " ".join(printable(text).split())[:MAX_NAME_CHARS]
    return text or None


def printable(text: str) -> str:
    """``text`` safe to print on one line: lone surrogates replaced, control characters (line
    breaks included) escaped."""
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def read_features(path: Path, data: bytes) -> list[RawFeature]:
    readers = {".geojson": _geojson, ".json": _geojson, ".kml": _kml, ".plan": _plan}
    try:
        return list(readers[path.suffix.lower()](path, data))
    except GridFileError:
        raise
    except PlanningError as exc:
        raise GridFileError([str(exc)]) from None


# ---- GeoJSON ------------------------------------------------------------------------------


def _geojson(path: Path, data: bytes) -> Iterator[RawFeature]:
    doc = load_json(data, str(path))
    if not isinstance(doc, dict):
        raise GridFileError([f"{path}: not GeoJSON (the top level is not an object)"])
    kind = doc.get("type")
    if kind == "FeatureCollection":
        try:
            features = gj.FeatureCollection.model_validate(doc).features
        except ValidationError as exc:
            raise GridFileError([f"{path}: not a FeatureCollection: {problems(exc)[0]}"]) from None
    elif kind == "Feature":
        features = [doc]
    elif isinstance(kind, str) and kind in gj.GEOMETRY_TYPES:  # a bare geometry
        features = [{"type": "Feature", "geometry": doc, "properties": None}]
    else:
        shown = repr(kind)[:40]
        raise GridFileError([f"{path}: not GeoJSON (type {shown})"])
    for i, raw in enumerate(features, 1):
        yield _geojson_feature(i, raw)


def _geojson_feature(index: int, raw: Any) -> RawFeature:
    props = raw.get("properties") if isinstance(raw, dict) else None
    props = props if isinstance(props, dict) else {}
    name = next((n for k in NAME_KEYS if (n := clean_name(props.get(k)))), None)
    try:
        feature = gj.Feature.model_validate(raw)
    except ValidationError as exc:
        kind = _declared_type(raw)
        return RawFeature(index, name, kind, problem=problems(exc, gj.GEOMETRY_TYPES)[0])
    out = RawFeature(index, name, "no geometry", properties=props)
    if feature.geometry is not None:
        out.kind = feature.geometry.type
        _collect(feature.geometry, out)
    return out


def _declared_type(raw: Any) -> str:
    geom = raw.get("geometry") if isinstance(raw, dict) else None
    kind = geom.get("type") if isinstance(geom, dict) else None
    return kind if isinstance(kind, str) and kind in gj.GEOMETRY_TYPES else "feature"


def _collect(geom: Any, out: RawFeature) -> None:
    """Sort a validated geometry's parts into polygons, pins and others."""
    if isinstance(geom, gj.Polygon):
        out.polygons.append(geom.coordinates)
        out.empty |= not geom.coordinates
    elif isinstance(geom, gj.MultiPolygon):
        out.polygons += geom.coordinates
        out.empty |= not geom.coordinates or any(not p for p in geom.coordinates)
    elif isinstance(geom, gj.Point):
        out.pins.append((geom.coordinates[0], geom.coordinates[1]))
    elif isinstance(geom, gj.MultiPoint):
        out.pins += [(p[0], p[1]) for p in geom.coordinates]
    elif isinstance(geom, gj.GeometryCollection):
        for part in geom.geometries:
            _collect(part, out)
    else:
        out.others.append(geom.type)


# ---- KML ----------------------------------------------------------------------------------

_COMMA = re.compile(r"\s*,\s*")


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _kml(path: Path, data: bytes) -> Iterator[RawFeature]:
    # Bytes, not text: the parser honours the XML declaration (ISO-8859-1, GBK, UTF-16, BOM).
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, LookupError, ValueError) as exc:
        raise GridFileError([f"{path}: not valid XML: {exc}"]) from None
    if root is None:
        raise GridFileError([f"{path}: not valid XML: no root element"])
    for i, pm in enumerate(root.xpath("//*[local-name()='Placemark']"), 1):
        yield _placemark(i, pm)


def _own(pm: Any, kind: str) -> list[Any]:
    """The ``kind`` elements of a Placemark, not those of a Placemark nested in it."""
    depth = len(pm.xpath("ancestor-or-self::*[local-name()='Placemark']"))
    return pm.xpath(
        f".//*[local-name()='{kind}'][count(ancestor::*[local-name()='Placemark']) = {depth}]"
    )


def _placemark(index: int, pm: Any) -> RawFeature:
    names = pm.xpath("./*[local-name()='name']/text()")
    props: dict[str, Any] = {}
    for data in pm.xpath(".//*[local-name()='Data']"):
        value = data.xpath("./*[local-name()='value']/text()")
        props[clean_name(data.get("name")) or ""] = value[0] if value else ""
    name = clean_name(names[0]) if names else None
    out = RawFeature(index, name, "no geometry", properties=props)
    try:
        for poly in _own(pm, "Polygon"):
            outer = poly.xpath("./*[local-name()='outerBoundaryIs']//*[local-name()='coordinates']")
            inner = poly.xpath("./*[local-name()='innerBoundaryIs']//*[local-name()='coordinates']")
            if not outer and inner:
                out.problem = "Polygon has holes (innerBoundaryIs) but no outerBoundaryIs"
            elif not outer:
                out.empty = True
            else:
                out.polygons.append([_kml_ring(c.text) for c in outer[:1] + inner])
        for point in _own(pm, "Point"):
            coords = point.xpath("./*[local-name()='coordinates']/text()")
            out.pins += [(lon, lat) for lon, lat in _kml_ring(coords[0] if coords else "")[:1]]
        for other in ("LineString", "LinearRing", "Track", "MultiTrack", "Model"):
            found = _own(pm, other)
            if other == "LinearRing":  # the rings of polygons are not paths
                found = [e for e in found if _local(e.getparent().tag) not in _BOUNDS]
            if found:
                out.others.append(other)
    except ValueError as exc:
        out.problem = str(exc)
    if out.polygons or out.empty or _own(pm, "Polygon"):
        out.kind = "Polygon"
    elif out.pins:
        out.kind = "Point"
    elif out.others:
        out.kind = out.others[0]
    return out


_BOUNDS = {"outerBoundaryIs", "innerBoundaryIs"}


def _kml_ring(text: str | None) -> list[tuple[float, float]]:
    """A KML coordinates text ``lon,lat[,alt] lon,lat[,alt] ...`` as (lon, lat) numbers."""
    points = []
    for n, token in enumerate(_COMMA.sub(",", text or "").split(), 1):
        parts = token.split(",")
        try:
            lon, lat = float(parts[0]), float(parts[1])
        except (ValueError, IndexError):
            raise ValueError(f"coordinate {n} is not lon,lat[,alt]: {token[:40]!r}") from None
        points.append((lon, lat))
    return points


# ---- QGroundControl .plan -----------------------------------------------------------------


def _plan(path: Path, data: bytes) -> Iterator[RawFeature]:
    doc = load_json(data, str(path))
    if not isinstance(doc, dict) or doc.get("fileType") != "Plan":
        raise GridFileError([f"{path}: not a QGroundControl plan (fileType is not 'Plan')"])
    try:
        plan = plan_schema.PlanGrids.model_validate(doc)
    except ValidationError as exc:
        raise GridFileError([f"{path}: {line}" for line in problems(exc, limit=5)]) from None
    index = 0
    fence = plan.geoFence or plan_schema.AnyGeoFence()
    polygons = list(fence.polygons)
    if fence.polygon:
        polygons.append(plan_schema.AnyFencePolygon(inclusion=True, polygon=fence.polygon))
    for n, poly in enumerate(polygons, 1):
        index += 1
        props = {"source": "geoFence", "inclusion": poly.inclusion}
        ring = [(lon, lat) for lat, lon in poly.polygon]
        yield RawFeature(index, f"fence {n}", "Polygon", [[ring]], properties=props)
    for n in range(len(fence.circles)):
        index += 1
        yield RawFeature(index, f"fence circle {n + 1}", "fence circle", others=["circle"])
    items = plan.mission.items if plan.mission else []
    surveys = 0
    for k, item in enumerate(items, 1):
        if not (isinstance(item, dict) and item.get("type") == "ComplexItem"):
            continue
        if "polygon" not in item:
            continue
        surveys += 1
        index += 1
        name = f"survey {surveys}"
        try:
            survey = plan_schema.SurveyItem.model_validate(item)
        except ValidationError as exc:
            problem = f"mission item {k}: {problems(exc)[0]}"
            yield RawFeature(index, name, "Polygon", problem=problem)
            continue
        ring = [(lon, lat) for lat, lon in survey.polygon]
        props = {"source": survey.complexItemType}
        yield RawFeature(index, name, "Polygon", [[ring]], properties=props)
