"""``patrol plan`` through patrol.cli.main, with PATROL_DATA_DIR in a temporary directory."""

from __future__ import annotations

import json
import re

import pytest

from missions.formats import read_mission
from patrol.cli import main
from tests.missions.conftest import SAMPLE, feature, polygon, square

HOME = "27.5700,119.7100"
TOWNSHIP = str(SAMPLE / "township.geojson")
NO_FLY = str(SAMPLE / "no-fly.geojson")


def test_demo_command_prints_table_and_writes_sorties(tmp_path, capsys):
    out = tmp_path / "township.plan"
    args = [
        "plan",
        TOWNSHIP,
        "--no-fly",
        NO_FLY,
        "--home",
        HOME,
        "--pattern",
        "coverage",
        "--alt",
        "30",
        "--speed",
        "8",
        "--spacing",
        "40",
        "--endurance",
        "20",
        "-o",
        str(out),
    ]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "上洋村 Shangyang" in text and "coverage %" in text and "sortie 2:" in text
    files = sorted(tmp_path.glob("township-*.plan"))
    assert len(files) >= 2 and not out.exists()
    for f in files:
        assert str(f) in text
        m = read_mission(f)
        assert m.items[-1].command == 20 and m.params["FENCE_ENABLE"] == 1


def test_json_output_keys(tmp_path, capsys):
    out = tmp_path / "x.waypoints"
    args = [
        "plan",
        TOWNSHIP,
        "--grid",
        "Xincun",
        "--grid",
        "坑口村 Kengkou",
        "--home",
        HOME,
        "--spacing",
        "30",
        "--json",
        "-o",
        str(out),
    ]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"length_m", "flight_time_s", "items", "sorties", "grids"} <= set(doc)
    assert [g["name"] for g in doc["grids"]] == ["新村 Xincun", "坑口村 Kengkou"]
    assert set(doc["grids"][0]) == {
        "name", "area_m2", "coverage_pct", "given_up_pct", "length_m", "angle_deg", "lines"
    }  # fmt: skip
    assert 0 <= doc["given_up_pct"] <= 0.5 and 0 <= doc["grids"][0]["angle_deg"] < 180
    beside = ["x-fence.waypoints", "x-rally.waypoints", "x-fence.param"]
    assert doc["sorties"] == 1 and doc["files"] == [str(out)] + [str(tmp_path / f) for f in beside]
    assert out.read_text().startswith("QGC WPL 110\n")


def test_default_output_goes_to_the_data_dir(data_dir, capsys):
    assert main(["plan", TOWNSHIP, "--grid", "Xincun", "--home", HOME, "--spacing", "30"]) == 0
    assert (data_dir / "plans" / "township.plan").exists()


def test_geojson_output_and_camera(tmp_path, capsys):
    out = tmp_path / "r.geojson"
    args = [
        "plan",
        TOWNSHIP,
        "--grid",
        "Xincun",
        "--home",
        HOME,
        "--camera",
        "mavic3e",
        "--overlap",
        "30",
        "--alt",
        "60",
        "-o",
        str(out),
    ]
    assert main(args) == 0
    assert "camera mavic3e" in capsys.readouterr().out
    assert json.loads(out.read_text())["features"][0]["properties"]["kind"] == "route"


def run_error(args, capsys) -> str:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("patrol plan: ") and "Traceback" not in err
    return err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--alt", "150"], "--allow-altitude"),
        (["--alt", "3"], "--allow-altitude"),
        (["--grid", "Nowhere"], "no grid named 'Nowhere'"),
        (["--home", "119.71,27.57"], "swapped"),
        (["--home", "abc"], "--home expects LAT,LON"),
        (["--home", "-25.3,129.1"], "home -25.300000,129.100000 is 5,936 km from the nearest"),
        (["--angle", "north"], "--angle expects auto or degrees"),
        (["-o", "x.kml"], "use a .plan, .waypoints or .geojson"),
        (["--endurance", "0.5"], "too short"),
        (["--clearance", "-1"], "no-fly clearance -1 m must be 0-1000 m"),
        (["--clearance", "inf"], "argument --clearance: 'inf' is not a finite number"),
        (["--spacing", "nan"], "argument --spacing: 'nan' is not a finite number"),
        (["--spacing", "0.01"], "spacing 0.01 m is under 1 m: give metres"),
        (["--inset", "nan"], "argument --inset: 'nan' is not a finite number"),
        (["--endurance", "nan"], "argument --endurance: 'nan' is not a finite number"),
        (["--fence-margin", "nan"], "argument --fence-margin: 'nan' is not a finite number"),
        (["--loiter", "inf"], "argument --loiter: 'inf' is not a finite number"),
        (["--alt", "nan", "--allow-altitude"], "argument --alt: 'nan' is not a finite number"),
        (["--angle", "nan"], "--angle expects auto or degrees, not 'nan'"),
        (["--angle", "inf"], "--angle expects auto or degrees, not 'inf'"),
        (["--home", "nan,119.71"], "--home expects LAT,LON or LAT,LON,ALT in finite numbers"),
        (["--alt", "2000", "--allow-altitude"], "altitude 2000 m must be above the take-off"),
        (["--speed", "0.01"], "speed 0.01 m/s must be 0.2-20 m/s"),
        (["--camera", "mavic3e", "--spacing", "1"], "not allowed with argument --spacing"),
        (["--pattern", "points", "--spacing", "1"], "over the 500 a grid may have"),
        (["--pattern", "points", "--loiter", "1e6"], "loiter time 1e+06 s must be 0-3600 s"),
        (["--min-coverage", "20"], "minimum coverage"),
        (["--speed", "30"], "speed 30 m/s"),
        (["--spacing", "3000"], "spacing 3000 m is wider than 1000 m: give metres"),
        (["--endurance", "600"], "endurance 600 min is over 180 min"),
        (["--home", "0,0"], "is 12,917 km from the nearest grid"),
        (["--home", "27.57,119.71,20000"], "home altitude 20000 m AMSL is outside"),
    ],
)
def test_operator_errors(tmp_path, capsys, extra, message):
    args = ["plan", TOWNSHIP, "--home", HOME, "--spacing", "30", "-o", str(tmp_path / "o.plan")]
    assert message in run_error([*args, *extra], capsys)


def test_one_long_sortie_without_endurance_is_a_warning(tmp_path, capsys):
    out = tmp_path / "o.plan"
    assert main(["plan", TOWNSHIP, "--home", HOME, "--spacing", "50", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    warning = re.search(r"warning: one sortie of (\d+) min: give --endurance MIN", err)
    assert warning and int(warning.group(1)) > 60
    argv = ["plan", TOWNSHIP, "--home", HOME, "--spacing", "50", "--endurance", "20", "-o"]
    assert main([*argv, str(out)]) == 0
    assert "one sortie of" not in capsys.readouterr().err


def test_coverage_without_spacing(capsys):
    assert "--spacing M or --camera NAME" in run_error(["plan", TOWNSHIP, "--home", HOME], capsys)


def test_bad_grid_file_lists_every_problem_and_repair(tmp_path, write_geojson, capsys):
    bowtie = [(0, 0), (100, 100), (100, 0), (0, 100)]
    path = write_geojson(
        [feature("蝴蝶村", polygon(bowtie)), feature("好村", polygon(square(200, 0, 80)))]
    )
    out = tmp_path / "o.plan"
    err = run_error(["plan", str(path), "--home", HOME, "--spacing", "20", "-o", str(out)], capsys)
    assert "feature 1 '蝴蝶村'" in err and "self-intersection" in err and not out.exists()
    assert err.count("\n") == 1
    assert (
        main(["plan", str(path), "--home", HOME, "--spacing", "20", "-o", str(out), "--repair"])
        == 0
    )
    captured = capsys.readouterr()
    assert "repaired" in captured.err and out.exists()


def test_unreachable_grid_is_a_warning(tmp_path, write_geojson, capsys):
    grids = write_geojson(
        [
            feature("校内", polygon(square(300, 300, 40))),
            feature("外村", polygon(square(-300, 0, 80))),
        ]
    )
    zone = write_geojson([feature("学校", polygon(square(250, 250, 150)))], "zone.geojson")
    out = tmp_path / "o.plan"
    assert (
        main(
            [
                "plan",
                str(grids),
                "--no-fly",
                str(zone),
                "--home",
                HOME,
                "--spacing",
                "20",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "warning: grid '校内' cannot be reached" in err


def test_fixed_angle_sets_the_sweep_bearing(tmp_path, capsys):
    import numpy as np

    from tests.missions.conftest import FRAME

    out = tmp_path / "a.waypoints"
    args = [
        "plan",
        TOWNSHIP,
        "--grid",
        "Xincun",
        "--home",
        HOME,
        "--spacing",
        "25",
        "--angle",
        "45",
        "--min-coverage",
        "100",
        "-o",
        str(out),
    ]
    assert main(args) == 0
    m = read_mission(out)
    wps = [i for i in m.items[3:-1]]
    x, y = FRAME.to_local(np.array([w.lon for w in wps]), np.array([w.lat for w in wps]))
    legs = np.diff(np.column_stack([x, y]), axis=0)
    bearings = np.degrees(np.arctan2(legs[:, 0], legs[:, 1])) % 180
    sweeps = np.isclose(bearings, 45.0, atol=0.01)
    assert sweeps[::2].all() or sweeps[1::2].all()  # every other leg is a sweep line
    assert np.isclose(bearings[np.argmax(np.hypot(legs[:, 0], legs[:, 1]))], 45.0, atol=0.01)


def test_mixed_file_plans_the_polygons_with_one_notice(tmp_path, write_geojson, capsys):
    pin = {"type": "Point", "coordinates": [119.7103, 27.5703]}  # inside the grid below
    path = write_geojson(
        [
            feature("上洋村", polygon(square(0, 0, 200))),
            feature("村委会", pin),
            feature("河", {"type": "LineString", "coordinates": [[119.7, 27.5], [119.8, 27.6]]}),
        ]
    )
    out = tmp_path / "o.plan"
    assert main(["plan", str(path), "--home", HOME, "--spacing", "40", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    notes = [line for line in err.splitlines() if "note:" in line]
    assert notes == [
        "patrol plan: note: grids.geojson: planned 1 grid(s); left out '村委会' (Point), "
        "'河' (LineString) (not polygons; pins inside a grid are its hover points with "
        "--pattern points)"
    ]
    args = ["plan", str(path), "--home", HOME, "--pattern", "points", "--json", "-o", str(out)]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["items"] == 5  # home, take-off, speed, one hover at the pin, RTL
    hover = read_mission(out).items[3]
    assert (hover.command, round(hover.lat, 4), round(hover.lon, 4)) == (19, 27.5703, 119.7103)


def test_a_grid_file_with_several_problems_is_refused_on_one_line_first(
    tmp_path, write_geojson, capsys
):
    feats = [feature(n, polygon([(0, 0), (100, 100), (100, 0), (0, 100)])) for n in "ab"]
    path = write_geojson(feats)
    err = run_error(["plan", str(path), "--home", HOME, "--spacing", "20"], capsys)
    first, *rest = err.rstrip("\n").split("\n")
    assert first.startswith("patrol plan: ") and first.endswith("(try --repair) (and 1 more below)")
    assert len(rest) == 1 and rest[0].startswith("  ") and "feature 2 'b'" in rest[0]
