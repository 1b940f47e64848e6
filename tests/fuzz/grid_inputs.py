"""Hypothesis strategies for grid files as hostile users and broken exporters write them:
GeoJSON, KML and .plan documents built from plausible grids near the sample township, then
bent: wrong types anywhere, numbers no float holds, names no terminal prints, encodings,
nesting, empty and half-drawn polygons, pins and paths mixed in."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import strategies as st

from missions.projection import LocalFrame

HOME = (27.57, 119.71)
FRAME = LocalFrame(*HOME)
# Values JSON can spell that no float holds; json.dumps writes these placeholders as strings,
# ``render`` swaps in the raw text.
RAW = {
    "__RAW_BIG_EXP__": "1e309",
    "__RAW_NEG_EXP__": "-1e309",
    "__RAW_BIG_INT__": "9" * 5000,
    "__RAW_NAN__": "NaN",
    "__RAW_INF__": "Infinity",
}


def render(doc: Any) -> str:
    """JSON text; lone surrogates (which UTF-8 cannot carry) as ``\\udXXX`` escapes."""
    text = json.dumps(doc, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(doc)
    for key, raw in RAW.items():
        text = text.replace(f'"{key}"', raw)
    return text


def lonlat(xy: list[tuple[float, float]]) -> list[list[float]]:
    lon, lat = FRAME.to_geo([p[0] for p in xy], [p[1] for p in xy])
    return [[float(a), float(b)] for a, b in zip(lon, lat, strict=True)]


junk_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(sorted(RAW)),
    st.just("\ud800"),
)
junk = st.recursive(
    junk_scalar,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def outline(draw, clean: bool = False) -> list[tuple[float, float]]:
    """A ring in local metres: a box, a convex or star shape, and unless ``clean`` also a
    bowtie, a sliver, a giant or a dense one."""
    kinds = ["box"] * 4 + ["convex"] * 2 + ["star"] * 2
    kind = draw(st.sampled_from(kinds if clean else [*kinds, "bowtie", "tiny", "giant", "dense"]))
    x0 = draw(st.floats(-800, 800))
    y0 = draw(st.floats(-800, 800))
    size = draw(st.floats(20, 400))
    if kind == "box":
        h = size * draw(st.floats(0.2, 1.0))
        return [(x0, y0), (x0 + size, y0), (x0 + size, y0 + h), (x0, y0 + h)]
    if kind == "bowtie":
        return [(x0, y0), (x0 + size, y0 + size), (x0 + size, y0), (x0, y0 + size)]
    if kind == "tiny":
        return [(x0, y0), (x0 + 0.5, y0), (x0 + 0.5, y0 + 0.5)]
    if kind == "giant":
        return [(x0, y0), (x0 + 30_000, y0), (x0 + 30_000, y0 + 20_000), (x0, y0 + 20_000)]
    n = draw(st.integers(5, 400 if kind == "dense" else 12))
    radii = draw(st.lists(st.floats(0.3, 1.0), min_size=n, max_size=n))
    if kind == "convex":
        radii = [1.0] * n
    return [
        (
            x0 + size * r * math.cos(2 * math.pi * k / n),
            y0 + size * r * math.sin(2 * math.pi * k / n),
        )
        for k, r in enumerate(radii)
    ]


@st.composite
def ring(draw) -> list[Any]:
    """A closed (or not) ring of [lon, lat], sometimes bent."""
    pts: list[Any] = lonlat(draw(outline()))
    if draw(st.booleans()):
        pts.append(list(pts[0]))
    bend = draw(st.sampled_from(["none"] * 25 + ["junk", "swap", "short", "empty", "far"]))
    if bend == "junk" and pts:
        pts[draw(st.integers(0, len(pts) - 1))] = draw(junk)
    elif bend == "swap":
        pts = [[p[1], p[0]] for p in pts]
    elif bend == "short":
        pts = pts[:2]
    elif bend == "empty":
        pts = []
    elif bend == "far":
        pts[0] = [0.0, pts[0][1]]  # one vertex typed as longitude 0
    return pts


@st.composite
def geometry(draw) -> Any:
    kind = draw(
        st.sampled_from(
            ["Polygon"] * 12
            + ["MultiPolygon", "GeometryCollection", "Point", "LineString", "empty", "junk", None]
        )
    )
    if kind == "Polygon":
        rings = [draw(ring()), *draw(st.lists(ring(), max_size=1))]
        return {"type": "Polygon", "coordinates": rings}
    if kind == "MultiPolygon":
        parts = draw(st.lists(st.lists(ring(), min_size=1, max_size=2), min_size=1, max_size=3))
        if draw(st.booleans()):
            parts.append(draw(junk))
        return {"type": "MultiPolygon", "coordinates": parts}
    if kind == "GeometryCollection":
        members = draw(st.lists(geometry(), max_size=3))
        return {"type": "GeometryCollection", "geometries": [m for m in members if m is not None]}
    if kind == "Point":
        return {"type": "Point", "coordinates": lonlat([(draw(st.floats(-500, 500)), 0.0)])[0]}
    if kind == "LineString":
        return {"type": "LineString", "coordinates": lonlat([(0.0, 0.0), (100.0, 50.0)])}
    if kind == "empty":
        return {"type": draw(st.sampled_from(["Polygon", "MultiPolygon"])), "coordinates": []}
    if kind == "junk":
        return draw(junk)
    return None


names = st.one_of(
    st.text(max_size=20), st.just("\ud800村"), st.just("上洋村 Shangyang"), st.integers(), junk
)


@st.composite
def properties(draw) -> Any:
    props: dict[str, Any] = {}
    if draw(st.booleans()):
        props["name"] = draw(names)
    if draw(st.integers(0, 4)) == 0:
        props["hover_points"] = draw(
            st.one_of(
                st.just(lonlat([(10.0, 10.0), (40.0, 30.0)])), st.lists(junk, max_size=3), junk
            )
        )
    return props if draw(st.integers(0, 19)) else draw(junk)


@st.composite
def geojson_doc(draw) -> Any:
    features = [
        {"type": "Feature", "properties": draw(properties()), "geometry": draw(geometry())}
        for _ in range(draw(st.integers(1, 4)))
    ]
    shape = draw(st.sampled_from(["collection"] * 12 + ["feature", "bare", "junk", "deep"]))
    if shape == "feature":
        return features[0]
    if shape == "bare":
        return features[0]["geometry"]
    if shape == "junk":
        return draw(junk)
    doc: Any = {"type": "FeatureCollection", "features": features}
    if shape == "deep":
        for _ in range(draw(st.integers(60, 1200))):
            doc = [doc]
    return doc


def _encode(text: str, encoding: str) -> bytes:
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


@st.composite
def geojson_file(draw) -> bytes:
    encoding = draw(st.sampled_from(["utf-8"] * 4 + ["utf-8-sig", "utf-16", "gbk"]))
    return _encode(render(draw(geojson_doc())), encoding)


# ---- KML ----------------------------------------------------------------------------------


def _coords(points: list[Any]) -> str:
    return " ".join(
        f"{p[0]},{p[1]},0" if isinstance(p, list) and len(p) >= 2 else str(p) for p in points
    )


@st.composite
def kml_geometry(draw) -> str:
    kind = draw(
        st.sampled_from(
            ["Polygon"] * 4 + ["holes-only", "empty", "Point", "LineString", "Multi", "junk"]
        )
    )
    if kind == "Polygon":
        holes = "".join(
            f"<innerBoundaryIs><LinearRing><coordinates>{_coords(draw(ring()))}</coordinates>"
            "</LinearRing></innerBoundaryIs>"
            for _ in range(draw(st.integers(0, 1)))
        )
        return (
            "<Polygon><outerBoundaryIs><LinearRing><coordinates>"
            f"{_coords(draw(ring()))}</coordinates></LinearRing></outerBoundaryIs>{holes}</Polygon>"
        )
    if kind == "holes-only":
        return (
            "<Polygon><innerBoundaryIs><LinearRing><coordinates>"
            f"{_coords(draw(ring()))}</coordinates></LinearRing></innerBoundaryIs></Polygon>"
        )
    if kind == "empty":
        return "<Polygon></Polygon>"
    if kind == "Point":
        return f"<Point><coordinates>{_coords(lonlat([(5.0, 5.0)]))}</coordinates></Point>"
    if kind == "LineString":
        path = _coords(lonlat([(0, 0), (90, 9)]))
        return f"<LineString><coordinates>{path}</coordinates></LineString>"
    if kind == "Multi":
        return f"<MultiGeometry>{draw(kml_geometry())}{draw(kml_geometry())}</MultiGeometry>"
    return draw(
        st.sampled_from(["<Polygon><outerBoundaryIs>1e309,2 x,y</outerBoundaryIs>", "&amp;"])
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@st.composite
def kml_file(draw) -> bytes:
    placemarks = []
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.text(max_size=12) if draw(st.booleans()) else st.just("上洋村"))
        inner = draw(kml_geometry())
        if draw(st.integers(0, 6)) == 0:  # a Placemark nested in another
            inner += f"<Placemark><name>nested</name>{draw(kml_geometry())}</Placemark>"
        placemarks.append(f"<Placemark><name>{_escape(name)}</name>{inner}</Placemark>")
    encoding = draw(st.sampled_from(["UTF-8"] * 3 + ["ISO-8859-1", "GBK", "UTF-16"]))
    head = f'<?xml version="1.0" encoding="{encoding}"?>'
    attack = draw(st.sampled_from(["", "", "", "laughs", "xxe", "truncate"]))
    if attack == "laughs":
        head += (
            '<!DOCTYPE kml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;">]>'
        )
        placemarks.append("<Placemark><name>&d;</name></Placemark>")
    elif attack == "xxe":
        head += '<!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        placemarks.append("<Placemark><name>&x;</name></Placemark>")
    text = f'{head}<kml xmlns="http://www.opengis.net/kml/2.2"><Document>{"".join(placemarks)}'
    text += "</Document></kml>" if attack != "truncate" else "</Docu"
    return _encode(text, encoding.lower())


# ---- QGroundControl .plan ------------------------------------------------------------------


@st.composite
def plan_file(draw) -> bytes:
    def latlon(points: list[Any]) -> list[Any]:
        return [[p[1], p[0]] if isinstance(p, list) and len(p) >= 2 else p for p in points]

    polygons = [
        {
            "inclusion": draw(st.one_of(st.booleans(), junk)),
            "polygon": latlon(draw(ring())),
            "version": 1,
        }
        for _ in range(draw(st.integers(0, 2)))
    ]
    fence: Any = {"circles": [], "polygons": polygons, "version": 2}
    if draw(st.integers(0, 4)) == 0:
        fence["polygons"] = draw(junk)
    if draw(st.integers(0, 5)) == 0:
        fence = draw(junk)
    items: Any = [
        {"type": "ComplexItem", "complexItemType": "survey", "polygon": latlon(draw(ring()))}
        for _ in range(draw(st.integers(0, 2)))
    ]
    if draw(st.integers(0, 4)) == 0:
        items = draw(junk)
    mission: Any = {"items": items, "version": 2}
    if draw(st.integers(0, 5)) == 0:
        mission = draw(junk)
    doc = {"fileType": "Plan", "geoFence": fence, "mission": mission, "version": 1}
    return render(doc).encode("utf-8", "surrogatepass")


# ---- well-formed files (half of what the fuzzer plans over, so the planner is exercised) ----


@st.composite
def clean_file(draw) -> tuple[str, bytes]:
    """A well-formed grid file of a few named grids (they may overlap), pins among them."""
    count = draw(st.integers(1, 4))
    rings = [lonlat(draw(outline(clean=True))) for _ in range(count)]
    names = [f"村{n} V{n}" for n in range(count)]
    pins = lonlat([(draw(st.floats(-300, 300)), draw(st.floats(-300, 300)))])
    kind = draw(st.sampled_from(["geojson", "kml", "plan"]))
    if kind == "geojson":
        feats = [
            {"type": "Feature", "properties": {"name": n}, "geometry": {
                "type": "Polygon", "coordinates": [[*r, r[0]]]}}
            for n, r in zip(names, rings, strict=True)
        ]  # fmt: skip
        feats.append({"type": "Feature", "properties": {"name": "pin"},
                      "geometry": {"type": "Point", "coordinates": pins[0]}})  # fmt: skip
        doc = {"type": "FeatureCollection", "features": feats}
        return "grids.geojson", json.dumps(doc, ensure_ascii=False).encode()
    if kind == "kml":
        marks = "".join(
            f"<Placemark><name>{n}</name><Polygon><outerBoundaryIs><LinearRing><coordinates>"
            f"{_coords([*r, r[0]])}</coordinates></LinearRing></outerBoundaryIs></Polygon>"
            "</Placemark>"
            for n, r in zip(names, rings, strict=True)
        )
        text = (
            '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
            f"<Document>{marks}</Document></kml>"
        )
        return "grids.kml", text.encode()
    polygons = [
        {"inclusion": True, "polygon": [[p[1], p[0]] for p in r], "version": 1} for r in rings
    ]
    doc = {"fileType": "Plan", "geoFence": {"circles": [], "polygons": polygons, "version": 2}}
    return "grids.plan", json.dumps(doc).encode()


grid_files = st.one_of(
    clean_file(),
    st.tuples(st.just("grids.geojson"), geojson_file()),
    st.tuples(st.just("grids.kml"), kml_file()),
    st.tuples(st.just("grids.plan"), plan_file()),
)
