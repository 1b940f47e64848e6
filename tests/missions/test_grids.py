from __future__ import annotations

import pytest
from shapely.geometry import MultiPolygon, Polygon

from missions.errors import GridFileError, PlanningError
from missions.grids import load_grids, read_grids
from tests.missions.conftest import SAMPLE, feature, lonlat_ring, polygon, square


def problems(path, repair: bool = False) -> list[str]:
    with pytest.raises(GridFileError) as exc:
        load_grids(path, repair=repair)
    assert isinstance(exc.value, PlanningError)
    return exc.value.problems


def test_sample_township_loads_named_grids():
    grids = load_grids(SAMPLE / "township.geojson")
    assert len(grids) >= 12
    names = [g.name for g in grids]
    assert "上洋村 Shangyang" in names and len(set(names)) == len(names)
    pond = next(g for g in grids if "Xitou" in g.name)
    assert len(pond.polygon.interiors) == 1
    strip = next(g for g in grids if "Yanjiang" in g.name)
    minx, miny, maxx, maxy = strip.polygon.bounds
    assert (maxx - minx) > 10 * (maxy - miny) / 2  # long along the river
    concave = [g for g in grids if g.polygon.convex_hull.area > 1.05 * g.polygon.area]
    assert len(concave) >= 3
    assert all(isinstance(g.polygon, Polygon | MultiPolygon) for g in grids)


def test_kml_nested_folders_and_holes():
    grids = load_grids(SAMPLE / "villages.kml")
    assert [g.name for g in grids] == [
        "上洋村 Shangyang",
        "下洋村 Xiayang",
        "溪头村 Xitou",
        "沿江村 Yanjiang",
    ]
    assert len(grids[2].polygon.interiors) == 1


def test_plan_geofence_and_survey_polygons():
    grids = load_grids(SAMPLE / "villages.plan")
    assert [g.name for g in grids] == ["fence 1", "survey 1"]
    assert grids[0].properties["inclusion"] is True
    assert 27.5 < grids[0].polygon.centroid.y < 27.6  # [lat, lon] read in the right order


def test_multipolygon_and_nameless_feature(write_geojson):
    geom = {
        "type": "MultiPolygon",
        "coordinates": [[lonlat_ring(square(0, 0, 100))], [lonlat_ring(square(300, 0, 80))]],
    }
    path = write_geojson([feature(None, geom)])
    (grid,) = load_grids(path)
    assert grid.name == "grids-1"
    assert isinstance(grid.polygon, MultiPolygon)
    assert grid.area_m2 == pytest.approx(100 * 100 + 80 * 80, rel=1e-3)


def test_pins_and_paths_are_left_out_and_named(write_geojson):
    point = {"type": "Point", "coordinates": [119.71, 27.57]}
    river = {"type": "LineString", "coordinates": [[119.7, 27.5], [119.8, 27.6]]}
    path = write_geojson(
        [feature("ok", polygon(square(0, 0, 50))), feature("market", point), feature("河", river)]
    )
    got = read_grids(path)
    assert [g.name for g in got.grids] == ["ok"]
    assert got.left_out == ["'market' (Point)", "'河' (LineString)"]
    note = got.notice(pins_used=False)
    assert note.startswith("grids.geojson: planned 1 grid(s); left out 'market' (Point)")
    assert "pins inside a grid are its hover points with --pattern points" in note


def test_self_intersection_names_place(write_geojson):
    bowtie = [(0, 0), (100, 100), (100, 0), (0, 100)]
    path = write_geojson([feature("蝴蝶村 Hudie", polygon(bowtie))])
    (line,) = problems(path)
    assert "feature 1 '蝴蝶村 Hudie'" in line
    assert "self-intersection at lat 27.57" in line and "lon 119.71" in line
    assert "--repair" in line


def test_repair_fixes_bowtie_and_says_what_changed(write_geojson):
    bowtie = [(0, 0), (100, 100), (100, 0), (0, 100)]
    path = write_geojson([feature("蝴蝶村 Hudie", polygon(bowtie))])
    (grid,) = load_grids(path, repair=True)
    assert grid.polygon.is_valid
    assert grid.area_m2 == pytest.approx(5000, rel=1e-2)  # two triangles of 2500 m²
    (note,) = grid.repairs
    assert "self-intersection" in note and "2 part(s)" in note


def test_fewer_than_three_points(write_geojson):
    path = write_geojson([feature("line", polygon([(0, 0), (100, 0), (0, 0), (100, 0)]))])
    (line,) = problems(path)
    assert "feature 1 'line'" in line and "outer ring" in line and "fewer than 3 distinct" in line


def test_out_of_range_and_swapped(write_geojson):
    swapped = [[27.57, 119.71], [27.58, 119.71], [27.58, 119.72], [27.57, 119.71]]
    far = [[200.0, 27.0], [201.0, 27.0], [201.0, 28.0], [200.0, 27.0]]
    feats = [
        feature("swapped", {"type": "Polygon", "coordinates": [swapped]}),
        feature("far", {"type": "Polygon", "coordinates": [far]}),
    ]
    lines = problems(write_geojson(feats))
    assert len(lines) == 2
    assert "feature 1 'swapped'" in lines[0] and "appear swapped" in lines[0]
    assert "feature 2 'far'" in lines[1] and "out of range" in lines[1]
    assert "appear swapped" not in lines[1]


def test_duplicate_names(write_geojson):
    feats = [feature("新村", polygon(square(x, 0, 50))) for x in (0, 100, 200)]
    (line,) = problems(write_geojson(feats))
    assert "duplicate name '新村' (features 1, 2, 3)" in line


@pytest.mark.parametrize("size", [2.0, 20000.0])
def test_absurd_area(write_geojson, size):
    (line,) = problems(write_geojson([feature("odd", polygon(square(0, 0, size)))]))
    assert "feature 1 'odd'" in line and "absurd" in line


def test_every_problem_reported_at_once(write_geojson):
    feats = [
        feature("a", polygon([(0, 0), (100, 100), (100, 0), (0, 100)])),
        feature("b", {"type": "Polygon", "coordinates": [[[119.7, 27.5], [119.8]]]}),
        feature("a", polygon(square(0, 0, 50))),
    ]
    lines = problems(write_geojson(feats))
    assert len(lines) == 3


def test_invalid_json_and_unknown_type(tmp_path):
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    (line,) = problems(bad)
    assert str(bad) in line and "not valid JSON" in line and "line 1" in line
    other = tmp_path / "grids.shp"
    other.write_text("x")
    assert "unknown grid file type" in problems(other)[0]
    assert "cannot read" in problems(tmp_path / "missing.geojson")[0]


def test_huge_file_refused_before_reading(tmp_path):
    huge = tmp_path / "huge.geojson"
    with huge.open("wb") as f:
        f.truncate(60_000_000)  # sparse: nothing is written or read
    (line,) = problems(huge)
    assert line == f"{huge}: 60 MB is over the 20 MB limit for a grid file"


def test_kml_point_placemark_and_bad_xml(tmp_path):
    kml = tmp_path / "g.kml"
    kml.write_text(
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>入口</name>'
        "<Point><coordinates>119.71,27.57,0</coordinates></Point></Placemark></Document></kml>",
        encoding="utf-8",
    )
    (line,) = problems(kml)
    assert line == f"{kml}: no polygons found: only '入口' (Point)"
    kml.write_text("<kml><Placemark>", encoding="utf-8")
    assert "not valid XML" in problems(kml)[0]


def test_hole_with_too_few_points_dropped_only_with_repair(write_geojson):
    geom = polygon(square(0, 0, 100), [(10, 10), (20, 20), (10, 10)])
    path = write_geojson([feature("p", geom)])
    assert "hole 1" in problems(path)[0]
    (grid,) = load_grids(path, repair=True)
    assert not grid.polygon.interiors and "hole 1" in grid.repairs[0]


def test_kml_two_holes_in_one_inner_boundary(tmp_path):
    def ring(x, y, size):
        pts = lonlat_ring(square(x, y, size))
        return " ".join(f"{lon},{lat},0" for lon, lat in pts)

    kml = tmp_path / "holes.kml"
    kml.write_text(
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>双塘 Shuangtang</name>'
        f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{ring(0, 0, 300)}</coordinates>"
        "</LinearRing></outerBoundaryIs><innerBoundaryIs>"
        f"<LinearRing><coordinates>{ring(50, 50, 50)}</coordinates></LinearRing>"
        f"<LinearRing><coordinates>{ring(200, 200, 50)}</coordinates></LinearRing>"
        "</innerBoundaryIs></Polygon></Placemark></kml>",
        encoding="utf-8",
    )
    (grid,) = load_grids(kml)
    assert len(grid.polygon.interiors) == 2
    assert grid.area_m2 == pytest.approx(300 * 300 - 2 * 50 * 50, rel=1e-3)


def test_hole_area_is_subtracted_whatever_the_ring_orientation(write_geojson):
    ccw_hole = square(50, 50, 50)
    cw_hole = ccw_hole[::-1]
    feats = [
        feature("a", polygon(square(0, 0, 200), ccw_hole)),
        feature("b", polygon(square(0, 0, 200), cw_hole)),
    ]
    a, b = load_grids(write_geojson(feats))
    assert a.area_m2 == pytest.approx(200 * 200 - 50 * 50, rel=1e-3)
    assert b.area_m2 == pytest.approx(a.area_m2)
