"""``patrol plan`` on generated grid files and options, and the corpus of known bad input."""

from __future__ import annotations

import math

from hypothesis import strategies as st

from tests.fuzz.grid_inputs import lonlat, render
from tests.fuzz.harness import Case, Target, register
from tests.fuzz.plan_options import HOME, plan_options

REFUSED = ("refused",)
PLANNED = ("ok",)
OUTPUTS = ["p.plan", "p.waypoints", "p.geojson", "p.kml", "sub/p.plan"]


@st.composite
def plan_cases(draw) -> Case:
    from tests.fuzz.grid_inputs import grid_files

    name, data = draw(grid_files)
    argv = ["plan", f"{{dir}}/{name}", *draw(plan_options())]
    if draw(st.integers(0, 5)) == 0:
        argv += ["--no-fly", f"{{dir}}/{name}"]
    if draw(st.integers(0, 3)):
        argv += ["-o", f"{{dir}}/out/{draw(st.sampled_from(OUTPUTS))}"]
    return Case(f"generated {name}", argv, {name: data})


def _square(x: float, y: float, size: float) -> list[list[float]]:
    ring = lonlat([(x, y), (x + size, y), (x + size, y + size), (x, y + size)])
    return [*ring, ring[0]]


def _feature(geometry, name="村", **props) -> dict:
    return {"type": "Feature", "properties": {"name": name, **props}, "geometry": geometry}


def _collection(*features) -> bytes:
    return render({"type": "FeatureCollection", "features": list(features)}).encode()


def _polygon(*rings) -> dict:
    return {"type": "Polygon", "coordinates": list(rings)}


def _plan(argv_tail, files, name, expect=REFUSED, **kw) -> Case:
    grid = next(iter(files))
    argv = ["plan", f"{{dir}}/{grid}", "--home", HOME, "--spacing", "40", *argv_tail]
    return Case(name, argv, files, expect=expect, **kw)


def _kml(body: str, encoding: str = "UTF-8") -> bytes:
    head = f'<?xml version="1.0" encoding="{encoding}"?>'
    doc = f'{head}<kml xmlns="http://www.opengis.net/kml/2.2"><Document>{body}</Document></kml>'
    return doc.encode(encoding.lower())


def _kml_ring(ring) -> str:
    return " ".join(f"{lon},{lat},0" for lon, lat in ring)


def _kml_polygon(ring, outer=True) -> str:
    boundary = "outerBoundaryIs" if outer else "innerBoundaryIs"
    return (
        f"<Polygon><{boundary}><LinearRing><coordinates>{_kml_ring(ring)}</coordinates>"
        f"</LinearRing></{boundary}></Polygon>"
    )


def _ring_of(n: int, radius: float, noise: float = 0.0) -> list[list[float]]:
    xy = []
    for k in range(n):
        a = 2 * math.pi * k / n
        r = radius + (noise if k % 2 else -noise)
        xy.append((r * math.cos(a), r * math.sin(a)))
    ring = lonlat(xy)
    return [*ring, ring[0]]


def _crossed(n: int) -> list[list[float]]:
    """A ring of ``n`` vertices that crosses itself (two vertices swapped)."""
    ring = _ring_of(n, 300)
    ring[10], ring[n // 2] = ring[n // 2], ring[10]
    return ring


def corpus() -> list[Case]:
    """The classes of bad input the hardening round found, and the valid files once refused."""
    sq = _square(0, 0, 200)
    point = lambda coords: {"type": "Point", "coordinates": coords}  # noqa: E731
    cases = [
        # tracebacks
        _plan([], {"g.geojson": _collection(_feature(_polygon([sq[0], {"lon": 1}, *sq[1:]])))},
              "a position given as an object"),
        _plan([], {"g.geojson": _collection(_feature(_polygon([sq[0], ["__RAW_BIG_EXP__", 27.5],
              *sq[1:]])))}, "a coordinate of 1e309"),
        _plan([], {"g.geojson": _collection(_feature(_polygon([sq[0], ["__RAW_BIG_INT__", 27.5],
              *sq[1:]])))}, "an integer of 5000 digits"),
        _plan([], {"g.geojson": b'{"type": "Feature", "geometry": ' + b"[" * 1000 + b"]" * 1000
              + b"}"}, "JSON nested 1000 deep"),
        _plan([], {"g.geojson": _collection(_feature({"type": "MultiPolygon",
              "coordinates": [[sq], 5]}))}, "a MultiPolygon part that is a number"),
        _plan([], {"g.geojson": _collection(_feature({"type": "MultiPolygon",
              "coordinates": [[sq], None]}))}, "a MultiPolygon part that is null"),
        _plan([], {"g.geojson": render({"type": {"a": 1}}).encode()}, "a type that is an object"),
        _plan([], {"g.geojson": render({"type": ["Polygon"]}).encode()}, "a type that is a list"),
        _plan([], {"g.plan": render({"fileType": "Plan", "geoFence": []}).encode()},
              ".plan geoFence not an object"),
        _plan([], {"g.plan": render({"fileType": "Plan", "mission": "x"}).encode()},
              ".plan mission not an object"),
        _plan([], {"g.plan": render({"fileType": "Plan", "geoFence": {"polygons": 3}}).encode()},
              ".plan polygons not a list"),
        _plan([], {"g.plan": render({"fileType": "Plan", "mission": {"items": {}}}).encode()},
              ".plan items not a list"),
        _plan(["--pattern", "points"], {"g.geojson": _collection(_feature(_polygon(sq),
              hover_points=[{"lon": 1}]))}, "hover_points entry an object"),
        _plan(["--pattern", "points"], {"g.geojson": _collection(_feature(_polygon(sq),
              hover_points=[["__RAW_BIG_INT__", 27.5]]))}, "hover_points entry a huge integer"),
        _plan([], {"g.geojson": _collection(_feature(_polygon(sq), name="\ud800村"))},
              "a lone surrogate in a feature name", PLANNED),
        _plan(["--json"], {"g.geojson": _collection(_feature(_polygon(sq), name="\udcff"),
              _feature(_polygon(_square(300, 0, 100)), name="\udcff"))},
              "lone surrogates in duplicate names"),
        Case("PATROL_DATA_DIR is a file", ["plan", "{dir}/g.geojson", "--home", HOME, "--spacing",
             "40"], {"g.geojson": _collection(_feature(_polygon(sq))), "file": b"x"},
             env={"PATROL_DATA_DIR": "{dir}/file"}, expect=REFUSED),
        # runaway work
        _plan(["--repair"], {"g.geojson": _collection(_feature(_polygon(
              sq, [sq[0], sq[1], [0.0, sq[2][1]], sq[0]])))}, "repair across the world"),
        _plan(["--repair", "--pattern", "points"], {"g.geojson": _collection(_feature(_polygon(
              sq, [sq[0], sq[1], [0.0, sq[2][1]], sq[0]])))}, "repair across the world, points"),
        _plan([], {"g.geojson": _collection(_feature(_polygon(_ring_of(120_000, 300))))},
              "a ring of 120,000 vertices"),
        _plan([], {"g.plan": render({"fileType": "Plan", "geoFence": {"polygons": [{
              "polygon": [[27.57, 0.0], [27.57, 119.7124], [27.570005, 119.7124]]}]}}).encode()},
              "a valid sliver 11,000 km long (a vertex typed as longitude 0)"),
        _plan([], {"g.geojson": _collection(_feature(_polygon(_ring_of(1_000_000, 300))))},
              "a ring of 1,000,000 vertices", heavy=True),
        _plan(["--repair"], {"g.geojson": _collection(_feature(_polygon(_crossed(99_000))))},
              "a self-intersecting ring of 99,000 vertices with --repair", heavy=True),
        _plan(["--repair"], {"g.geojson": _collection(_feature(_polygon(_crossed(30_000))))},
              "a large self-intersecting ring with --repair"),
        _plan([], {"g.geojson": _collection(_feature(_polygon(_ring_of(60_000, 300, 0.004))))},
              "a dense ring simplified at centimetres", PLANNED),
        _plan(["--pattern", "perimeter"], {"g.geojson": _collection(_feature(_polygon(
              _ring_of(30_000, 300, 2.0))))}, "a jagged ring no simplifying thins"),
        _plan(["--no-fly", "{dir}/z.geojson"], {"g.geojson": _collection(_feature(_polygon(sq))),
              "z.geojson": _collection(_feature(_polygon(_ring_of(30_000, 900, 2.0))))},
              "a jagged no-fly zone"),
        # option values
        *[
            _plan(list(args), {"g.geojson": _collection(_feature(_polygon(sq)))}, f"option {args}")
            for args in [
                ("--spacing", "nan"), ("--spacing", "inf"), ("--spacing", "0.01"),
                ("--pattern", "points", "--spacing", "1"), ("--inset", "nan", "--pattern",
                "perimeter"), ("--clearance", "inf"), ("--endurance", "nan"), ("--alt", "nan",
                "--allow-altitude"), ("--loiter", "inf"), ("--angle", "nan"), ("--angle", "inf"),
                ("--fence-margin", "nan"), ("--min-coverage", "nan"), ("--overlap", "99.99",
                "--camera", "mavic3e"), ("--home", "-25.3,129.1"),
            ]
        ],
        # silent misreads
        _plan([], {"g.geojson": _collection(_feature(_polygon(sq)), _feature(
              {"type": "Polygon", "coordinates": []}, name="空"))}, "an empty Polygon"),
        _plan([], {"g.geojson": _collection(_feature(_polygon(sq)), _feature(
              {"type": "MultiPolygon", "coordinates": []}, name="空"))}, "an empty MultiPolygon"),
        _plan([], {"g.kml": _kml(f"<Placemark><name>a</name>{_kml_polygon(sq)}</Placemark>"
              "<Placemark><name>b</name><Polygon></Polygon></Placemark>")},
              "an empty KML Polygon"),
        _plan([], {"g.kml": _kml(f"<Placemark><name>a</name>{_kml_polygon(sq, outer=False)}"
              "</Placemark>")}, "a KML Polygon with only a hole"),
        _plan([], {"g.kml": _kml(f"<Placemark><name>外</name><Placemark><name>内</name>"
              f"{_kml_polygon(sq)}</Placemark></Placemark>")}, "a nested Placemark", PLANNED),
        # valid files once refused
        _plan([], {"g.geojson": b"\xef\xbb\xbf" + _collection(_feature(_polygon(sq)))},
              "GeoJSON with a byte-order mark", PLANNED),
        _plan([], {"g.kml": _kml(f"<Placemark><name>上洋村</name>{_kml_polygon(sq)}</Placemark>",
              "GBK")}, "KML declared GBK", PLANNED),
        _plan([], {"g.kml": _kml(f"<Placemark><name>Café</name>{_kml_polygon(sq)}</Placemark>",
              "ISO-8859-1")}, "KML declared ISO-8859-1", PLANNED),
        _plan([], {"g.geojson": render({"type": "GeometryCollection", "geometries": [
              _polygon(sq), _polygon(_square(300, 0, 100))]}).encode()},
              "a bare GeometryCollection", PLANNED),
        _plan(["--grid", "村"], {"g.geojson": _collection(_feature(_polygon(sq)), _feature(
              point(lonlat([(50.0, 50.0)])[0]), name="村委会"), _feature({"type": "LineString",
              "coordinates": lonlat([(0, 0), (90, 9)])}, name="河"), _feature(_polygon([
              sq[0], "x"]), name="坏"))}, "--grid in a mixed file with a broken feature",
              PLANNED),
        _plan(["--pattern", "points"], {"g.geojson": _collection(_feature(_polygon(sq)),
              _feature(point(lonlat([(50.0, 50.0)])[0]), name="村委会"))},
              "a pin as a hover point", PLANNED),
    ]  # fmt: skip
    return cases


register(Target("plan", plan_cases(), corpus, warm=("missions.planner", "missions.formats")))
