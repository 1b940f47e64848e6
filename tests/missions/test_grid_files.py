"""Grid files as operators have them: mixed features, collections, encodings, and the classes of
malformed input that must be refused with the place named (never a traceback)."""

from __future__ import annotations

import json
import re

import pytest

from missions.errors import GridFileError
from missions.grids import MAX_GRID_VERTICES, load_grids, read_grids
from tests.missions.conftest import feature, lonlat_ring, polygon, square

KML_HEAD = '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'


def kml_coords(xy) -> str:
    return " ".join(f"{lon},{lat},0" for lon, lat in lonlat_ring(xy))


def kml_polygon(xy, *holes) -> str:
    inner = "".join(
        f"<innerBoundaryIs><LinearRing><coordinates>{kml_coords(h)}</coordinates>"
        "</LinearRing></innerBoundaryIs>"
        for h in holes
    )
    return (
        f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{kml_coords(xy)}</coordinates>"
        f"</LinearRing></outerBoundaryIs>{inner}</Polygon>"
    )


def kml_point(x, y) -> str:
    (lon, lat), *_ = lonlat_ring([(x, y)])
    return f"<Point><coordinates>{lon},{lat},0</coordinates></Point>"


def placemark(name: str, geometry: str) -> str:
    return f"<Placemark><name>{name}</name>{geometry}</Placemark>"


def write_kml(tmp_path, body: str, name="g.kml", encoding="UTF-8"):
    path = tmp_path / name
    text = f'<?xml version="1.0" encoding="{encoding}"?>{KML_HEAD}{body}</Document></kml>'
    path.write_bytes(text.encode(encoding))
    return path


def problems(path, **kwargs) -> list[str]:
    with pytest.raises(GridFileError) as exc:
        read_grids(path, **kwargs)
    return exc.value.problems


# ---- what real exports look like ------------------------------------------------------------


def test_google_earth_export_with_pin_and_river_plans_the_outline(tmp_path):
    river = "<LineString><coordinates>119.70,27.56 119.72,27.58</coordinates></LineString>"
    path = write_kml(
        tmp_path,
        placemark("上洋村", kml_polygon(square(0, 0, 300)))
        + placemark("村委会", kml_point(150, 150))
        + placemark("河道", river)
        + placemark("远处的桥", kml_point(2000, 2000)),
    )
    got = read_grids(path)
    assert [g.name for g in got.grids] == ["上洋村"]
    assert len(got.grids[0].pins) == 1  # the committee pin lies inside the grid
    assert got.stray_pins == ["'远处的桥' (Point)"]
    assert got.notice(pins_used=True) == (
        "g.kml: planned 1 grid(s); left out '河道' (LineString), '远处的桥' (Point) "
        "(not polygons); 1 pin(s) used as hover points"
    )
    assert got.notice(pins_used=False) == (
        "g.kml: planned 1 grid(s); left out '村委会' (Point), '河道' (LineString), "
        "'远处的桥' (Point) (not polygons; pins inside a grid are its hover points with "
        "--pattern points)"
    )


def test_grid_selection_comes_before_any_other_check(write_geojson):
    bad = {"type": "Polygon", "coordinates": [[[119.7, 27.5], {"lon": 1}]]}
    path = write_geojson(
        [
            feature("好村 Haocun", polygon(square(0, 0, 100))),
            feature("坏村", bad),
            feature("坏村", polygon(square(0, 0, 10))),
        ]
    )
    assert len(problems(path)) == 2  # the broken ring and the duplicate name
    (grid,) = read_grids(path, select=["haocun"]).grids
    assert grid.name == "好村 Haocun"
    (line,) = problems(path, select=["Nowhere"])
    assert "no grid named 'Nowhere' (grids: 好村 Haocun, 坏村, 坏村)" in line
    (line,) = problems(path, select=["坏村"])
    assert "grid name '坏村' is ambiguous" in line


def test_selecting_a_pin_says_it_is_not_a_grid(write_geojson):
    pin = {"type": "Point", "coordinates": [119.71, 27.57]}
    path = write_geojson([feature("a", polygon(square(0, 0, 50))), feature("入口", pin)])
    (line,) = problems(path, select=["入口"])
    assert line.endswith("feature 2 '入口' is a Point, not a grid polygon")


@pytest.mark.parametrize("bare", [False, True])
def test_geometry_collection_of_polygons_is_a_grid(tmp_path, bare):
    collection = {
        "type": "GeometryCollection",
        "geometries": [polygon(square(0, 0, 100)), polygon(square(200, 0, 100))],
    }
    doc = collection if bare else feature("双片村", collection)
    path = tmp_path / "g.geojson"
    path.write_text(json.dumps(doc))
    (grid,) = load_grids(path)
    assert grid.name == ("g-1" if bare else "双片村")
    assert grid.area_m2 == pytest.approx(2 * 100 * 100, rel=1e-3)


@pytest.mark.parametrize("encoding", ["ISO-8859-1", "GBK", "UTF-16"])
def test_kml_encoding_follows_its_declaration(tmp_path, encoding):
    name = "Café" if encoding == "ISO-8859-1" else "上洋村"
    path = write_kml(tmp_path, placemark(name, kml_polygon(square(0, 0, 100))), encoding=encoding)
    assert [g.name for g in load_grids(path)] == [name]


def test_geojson_with_a_byte_order_mark(tmp_path):
    path = tmp_path / "bom.geojson"
    doc = {"type": "FeatureCollection", "features": [feature("村", polygon(square(0, 0, 80)))]}
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(doc, ensure_ascii=False).encode())
    assert [g.name for g in load_grids(path)] == ["村"]


def test_geojson_that_is_not_utf8_names_the_byte(tmp_path):
    path = tmp_path / "gbk.geojson"
    path.write_bytes('{"type": "Feature", "properties": {"name": "村"}}'.encode("gbk"))
    offset = path.read_bytes().index("村".encode("gbk"))
    (line,) = problems(path)
    assert line == f"{path}: not UTF-8 text: byte 0xb4 at offset {offset} (save the file as UTF-8)"


# ---- silent misreads made loud ---------------------------------------------------------------


@pytest.mark.parametrize(
    "geometry",
    [{"type": "Polygon", "coordinates": []}, {"type": "MultiPolygon", "coordinates": []}],
)
def test_an_empty_polygon_is_refused_not_dropped(write_geojson, geometry):
    path = write_geojson([feature("a", polygon(square(0, 0, 50))), feature("空", geometry)])
    (line,) = problems(path)
    assert line.endswith(f"feature 2 '空': empty {geometry['type']} (no rings): nothing to plan")


def test_empty_kml_polygon_and_holes_without_outer_ring(tmp_path):
    holes_only = (
        "<Polygon><innerBoundaryIs><LinearRing><coordinates>"
        f"{kml_coords(square(0, 0, 50))}</coordinates></LinearRing></innerBoundaryIs></Polygon>"
    )
    path = write_kml(
        tmp_path,
        placemark("ok", kml_polygon(square(300, 0, 50)))
        + placemark("空", "<Polygon></Polygon>")
        + placemark("洞", holes_only),
    )
    empty, holes = problems(path)
    assert empty.endswith("feature 2 '空': empty Polygon (no rings): nothing to plan")
    assert holes.endswith(
        "feature 3 '洞': Polygon has holes (innerBoundaryIs) but no outerBoundaryIs"
    )


def test_polygon_of_a_nested_placemark_is_planned_once(tmp_path):
    path = write_kml(
        tmp_path,
        "<Placemark><name>外</name>"
        + placemark("内", kml_polygon(square(0, 0, 100)))
        + "</Placemark>",
    )
    got = read_grids(path)
    assert [g.name for g in got.grids] == ["内"]
    assert got.left_out == ["'外' (no geometry)"]


# ---- malformed input: the place is named, nothing crashes -------------------------------------


@pytest.mark.parametrize(
    ("coordinates", "message"),
    [
        ([[[119.7, 27.5], {"lon": 1, "lat": 2}, [119.8, 27.6]]], "[0][1]: expected a list"),
        ([[[119.7, 27.5], ["119.8", 27.6], [119.8, 27.5]]], "[0][1][0]: expected a number"),
        (
            [[[119.7, 27.5], [1e309, 27.6], [119.8, 27.5]]],
            "[0][1][0]: expected a finite number (got inf)",
        ),
        ([[[119.7, 27.5], ["@9", 27.6], [119.8, 27.5]]], "(5000 chars) is out of range"),
        ([[[119.7, 27.5], [True, 27.6], [119.8, 27.5]]], "[0][1][0]: expected a number (got True)"),
        ([[[119.7, 27.5], [119.8], [119.8, 27.5]]], "coordinates[0][1]: list should have"),
    ],
)
def test_malformed_positions_name_the_place(tmp_path, coordinates, message):
    doc = {"type": "FeatureCollection", "features": [feature("坏", None)]}
    text = json.dumps(doc).replace("null", json.dumps({"type": "Polygon", "coordinates": "@"}))
    text = text.replace('"@"', json.dumps(coordinates).replace("Infinity", "1e309"))
    text = text.replace('"@9"', "9" * 5000)
    path = tmp_path / "bad.geojson"
    path.write_text(text)
    (line,) = problems(path)
    assert line.startswith(f"{path}: feature 1 '坏': geometry.coordinates") and message in line


@pytest.mark.parametrize("part", ["5", "null", '"x"'])
def test_multipolygon_part_that_is_not_a_polygon(tmp_path, part):
    ring = json.dumps([lonlat_ring(square(0, 0, 50))])
    path = tmp_path / "m.geojson"
    path.write_text(f'{{"type": "MultiPolygon", "coordinates": [{ring}, {part}]}}')
    (line,) = problems(path)
    assert "geometry.coordinates[1]: expected a list" in line


def test_json_nested_too_deep_is_refused_before_parsing(tmp_path):
    path = tmp_path / "deep.geojson"
    path.write_text('{"type": "Feature", "geometry": ' + "[" * 999 + "]" * 999 + "}")
    (line,) = problems(path)
    assert line == f"{path}: arrays and objects nested 1000 levels deep (at most 64)"


@pytest.mark.parametrize("kind", [{"a": 1}, [1], None, 3])
def test_a_top_level_type_that_is_not_text(tmp_path, kind):
    path = tmp_path / "t.geojson"
    path.write_text(json.dumps({"type": kind, "coordinates": []}))
    (line,) = problems(path)
    assert line == f"{path}: not GeoJSON (type {kind!r})"


def test_unknown_geometry_type_and_nan_constant(tmp_path):
    path = tmp_path / "t.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": ['
        '{"type": "Feature", "properties": {}, "geometry": {"type": "NaN", "coordinates": []}},'
        '{"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": '
        "[NaN, 1]}}]}"
    )
    first, second = problems(path)
    assert "feature 1 't-1': geometry: type 'NaN' is not one of 'Point', 'MultiPoint'" in first
    assert "feature 2 't-2': geometry.coordinates[0]: the number NaN is out of range" in second


def test_lone_surrogate_in_a_name_is_replaced(write_geojson):
    path = write_geojson([feature("x", polygon(square(0, 0, 50)))])
    path.write_text(path.read_text().replace('"x"', '"\\ud800\\u6751"'))
    (grid,) = load_grids(path)
    assert grid.name == "\ufffd村"


def test_a_ring_with_too_many_vertices_is_refused_before_any_geometry(tmp_path):
    import numpy as np

    t = np.linspace(0, 2 * np.pi, MAX_GRID_VERTICES + 10)
    ring = [[119.71 + 0.01 * np.cos(a), 27.57 + 0.01 * np.sin(a)] for a in t]
    path = tmp_path / "dense.geojson"
    path.write_text(json.dumps({"type": "Polygon", "coordinates": [ring]}))
    (line,) = problems(path)
    assert line.endswith(
        "100,010 vertices, over the 100,000 a grid may have (simplify it in a GIS first)"
    )


def test_repair_that_would_stretch_the_grid_across_the_world_is_refused(write_geojson):
    hole = lonlat_ring(square(50, 50, 40))
    hole[2] = [0.0, hole[2][1]]  # one hole vertex typed as longitude 0
    geometry = {"type": "Polygon", "coordinates": [lonlat_ring(square(0, 0, 300)), hole]}
    path = write_geojson([feature("漏", geometry)])
    (line,) = problems(path, repair=True)
    assert re.search(r"--repair refused: it would change its extent from 300 x 29\d m to "
                     r"11,8\d\d,\d{3} x 29\d m and its area from 88,\d{3} to", line)  # fmt: skip
    assert line.endswith("m²: fix the ring")


def test_plan_with_malformed_containers(tmp_path):
    path = tmp_path / "p.plan"
    for doc, message in [
        ({"fileType": "Plan", "geoFence": []}, "geoFence: expected an object (got [])"),
        ({"fileType": "Plan", "geoFence": {"polygons": 3}}, "geoFence.polygons: expected a list"),
        ({"fileType": "Plan", "mission": "x"}, "mission: expected an object (got 'x')"),
        ({"fileType": "Plan", "mission": {"items": {}}}, "mission.items: expected a list"),
    ]:
        path.write_text(json.dumps(doc))
        (line,) = problems(path)
        assert line.startswith(f"{path}: {message}"), line


def test_a_grid_spanning_thousands_of_kilometres_is_refused(tmp_path):
    # one vertex typed as longitude 0: a valid sliver 11,000 km long, of a plausible area
    ring = [[0.0, 27.57], [119.7124, 27.57], [119.7124, 27.570005], [0.0, 27.57]]
    path = tmp_path / "far.geojson"
    path.write_text(json.dumps(feature("远", {"type": "Polygon", "coordinates": [ring]})))
    (line,) = problems(path)
    assert re.search(r"feature 1 '远': spans 11,\d{3} km corner to corner, absurd for a grid", line)
