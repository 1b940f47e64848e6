from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from missions.emit import fence_items, fence_params, mission_items, rally_items
from missions.errors import MissionFileError
from missions.formats import read_mission, write_mission, write_missions
from missions.items import FENCE, RALLY, Mission
from missions.plan_schema import PlanFile
from tests.missions.conftest import HOME

lat_st = st.floats(-89, 89, allow_nan=False)
lon_st = st.floats(-179, 179, allow_nan=False)
num_st = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)


def sample_mission() -> Mission:
    from shapely.geometry import Polygon

    stops = [(27.571, 119.711, 0.0), (27.572, 119.712, 30.0), (27.5725, 119.7105, 0.0)]
    incl = Polygon([(119.709, 27.569), (119.714, 27.569), (119.714, 27.574), (119.709, 27.574)])
    excl = Polygon([(119.7112, 27.5712), (119.7116, 27.5712), (119.7116, 27.5716)])
    return Mission(
        items=mission_items((*HOME, 200.0), stops, 30.0, 8.0),
        fence=fence_items(incl, [excl]),
        rally=rally_items([HOME, (27.573, 119.713)], 30.0),
        name="t",
        params=fence_params(50.0),
    )


def test_mission_follows_ardupilot_conventions():
    m = sample_mission()
    cmds = [i.command for i in m.items]
    assert cmds == [16, 22, 178, 16, 19, 16, 20]
    assert (m.items[0].frame, m.items[0].alt) == (mavlink.MAV_FRAME_GLOBAL, 200.0)
    assert m.items[1].frame == mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT and m.items[1].alt == 30
    assert (m.items[2].param1, m.items[2].param2, m.items[2].param3) == (1, 8.0, -1)
    assert {i.frame for i in m.items[3:6]} == {mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT}
    assert m.items[4].param1 == 30.0
    assert [f.command for f in m.fence] == [5001] * 4 + [5002] * 3
    assert [f.param1 for f in m.fence] == [4] * 4 + [3] * 3
    assert {f.frame for f in m.fence} == {0} and {f.mission_type for f in m.fence} == {FENCE}
    assert {r.command for r in m.rally} == {5100} and {r.mission_type for r in m.rally} == {RALLY}
    assert m.params["FENCE_ALT_MAX"] == 50 and m.params["FENCE_ENABLE"] == 1


def test_plan_is_shaped_as_qgroundcontrol_writes_it(tmp_path):
    path = tmp_path / "m.plan"
    write_mission(path, sample_mission())
    doc = json.loads(path.read_text())
    assert (doc["fileType"], doc["version"]) == ("Plan", 1)
    mission = doc["mission"]
    assert (mission["version"], mission["firmwareType"], mission["vehicleType"]) == (2, 3, 2)
    assert mission["plannedHomePosition"] == [HOME[0], HOME[1], 200]
    assert mission["cruiseSpeed"] == mission["hoverSpeed"] == 8
    first = mission["items"][0]
    assert first["type"] == "SimpleItem" and first["command"] == 22 and first["doJumpId"] == 1
    assert len(first["params"]) == 7 and first["frame"] == 3 and first["AltitudeMode"] == 1
    assert "Altitude" not in mission["items"][1]  # DO_CHANGE_SPEED has no position
    fence = doc["geoFence"]
    assert fence["version"] == 2 and fence["circles"] == []
    assert [p["inclusion"] for p in fence["polygons"]] == [True, False]
    assert fence["polygons"][0]["polygon"][0] == [27.569, 119.709]  # [lat, lon]
    assert doc["rallyPoints"] == {"points": [[*HOME, 30], [27.573, 119.713, 30]], "version": 2}


@pytest.mark.parametrize("suffix", [".plan", ".waypoints"])
def test_round_trip_of_a_planned_mission(tmp_path, suffix):
    m = sample_mission()
    path = tmp_path / f"m{suffix}"
    write_mission(path, m)
    back = read_mission(path)
    assert back.items == m.items
    assert (back.fence, back.rally, back.params) == (m.fence, m.rally, m.params)
    if suffix == ".plan":
        assert back.name == "t"


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    st.tuples(lat_st, lon_st, num_st),
    st.lists(st.tuples(lat_st, lon_st, st.sampled_from([0.0, 5.0, 42.5])), min_size=1, max_size=8),
    st.floats(1, 500, allow_nan=False),
    st.floats(0.5, 20, allow_nan=False),
)
def test_formats_round_trip(tmp_path_factory, home, stops, alt, speed):
    m = Mission(mission_items(home, stops, alt, speed), name="x")
    d = tmp_path_factory.mktemp("rt")
    for suffix in (".plan", ".waypoints"):
        write_mission(d / f"m{suffix}", m)
        assert read_mission(d / f"m{suffix}").items == m.items


def test_geojson_holds_route_waypoints_and_fence(tmp_path):
    path = tmp_path / "m.geojson"
    write_mission(path, sample_mission())
    doc = json.loads(path.read_text())
    kinds = [f["properties"]["kind"] for f in doc["features"]]
    assert kinds[0] == "route"
    route = doc["features"][0]["geometry"]["coordinates"]
    assert route[0] == route[-1] == [HOME[1], HOME[0]]
    assert kinds.count("waypoint") == 2 and kinds.count("loiter") == 1
    assert "fence-inclusion" in kinds and "fence-exclusion" in kinds and "rally" in kinds


def test_write_missions_names_one_file_per_sortie(tmp_path):
    m = sample_mission()
    assert write_missions(tmp_path / "a.plan", [m]) == [[tmp_path / "a.plan"]]
    files = write_missions(tmp_path / "t.waypoints", [m, m])
    assert [[f.name for f in fs] for fs in files] == [
        [
            f"t-{n}.waypoints",
            f"t-{n}-fence.waypoints",
            f"t-{n}-rally.waypoints",
            f"t-{n}-fence.param",
        ]
        for n in (1, 2)
    ]
    assert all(f.exists() for fs in files for f in fs)


def test_a_failed_write_keeps_the_plan_already_there(tmp_path, monkeypatch):
    path = tmp_path / "a.plan"
    write_mission(path, sample_mission())
    before = path.read_bytes()
    real_write_text = type(path).write_text

    def disk_full(self, text, *args, **kwargs):
        real_write_text(self, text[: len(text) // 2], *args, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(type(path), "write_text", disk_full)
    with pytest.raises(MissionFileError, match=r"a\.plan: cannot write: .*No space left"):
        write_mission(path, sample_mission())
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [f.name for f in tmp_path.iterdir()] == ["a.plan"]


def test_read_errors_name_file_and_line(tmp_path):
    wp = tmp_path / "bad.waypoints"
    wp.write_text("QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\t27.57\t119.71\t200\t1\n1\t0\t3\t16\n")
    with pytest.raises(MissionFileError, match=r"bad.waypoints: line 3: expected 12 fields"):
        read_mission(wp)
    wp.write_text("hello\n")
    with pytest.raises(MissionFileError, match="line 1: expected the header"):
        read_mission(wp)
    plan = tmp_path / "bad.plan"
    write_mission(plan, sample_mission())
    doc = json.loads(plan.read_text())
    doc["mission"]["items"][0] = {"type": "ComplexItem", "complexItemType": "survey"}
    plan.write_text(json.dumps(doc))
    with pytest.raises(MissionFileError, match="mission item 1 is a 'survey' item"):
        read_mission(plan)
    with pytest.raises(MissionFileError, match="unknown mission file type"):
        write_mission(tmp_path / "m.kml", sample_mission())


def test_plan_has_the_keys_types_and_versions_qgroundcontrol_checks(tmp_path):
    path = tmp_path / "m.plan"
    m = sample_mission()
    m.items[2] = replace(m.items[2], param2=7.5)  # --speed 7.5
    write_mission(path, m)
    doc = json.loads(path.read_text())
    plan = PlanFile.model_validate(doc)  # strict: raises on any key, type or version QGC refuses
    assert plan.mission.cruiseSpeed == 8 and isinstance(doc["mission"]["cruiseSpeed"], int)
    assert isinstance(doc["mission"]["hoverSpeed"], int)  # Mission Planner reads integers
    assert read_mission(path).items[2].param2 == 7.5  # the speed flown is DO_CHANGE_SPEED's


def test_geojson_is_valid_for_geojson_pydantic(tmp_path):
    from geojson_pydantic import FeatureCollection

    path = tmp_path / "m.geojson"
    write_mission(path, sample_mission())
    FeatureCollection.model_validate_json(path.read_text(), strict=True)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(geoFence=[]), "geoFence: expected an object (got [])"),
        (lambda d: d.update(mission="x"), "mission: expected an object (got 'x')"),
        (lambda d: d["mission"].update(items={}), "mission.items: expected a list"),
        (lambda d: d["geoFence"].update(polygons=7), "geoFence.polygons: expected a list (got 7)"),
        (lambda d: d["mission"]["items"][0].update(params=[{}] * 7), "params[0]: expected a"),
        (lambda d: d["mission"]["items"][0].update(command="16"), "command: expected a whole"),
        (lambda d: d["mission"].update(plannedHomePosition=[1, 2]), "list should have at least 3"),
    ],
)
def test_malformed_plan_is_refused_with_the_place(tmp_path, change, message):
    path = tmp_path / "m.plan"
    write_mission(path, sample_mission())
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(MissionFileError) as err:
        read_mission(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)


MAVPROXY_PYTHON = Path(__file__).resolve().parents[2] / ".venv-mavproxy" / "bin" / "python"
READ_WITH_MAVWP = """
import json, os, sys
os.environ["MAVLINK20"] = "1"  # as MAVProxy sets it
from pymavlink import mavparm, mavwp
base = sys.argv[1]
loaders = {"mission": mavwp.MAVWPLoader(), "fence": mavwp.MissionItemProtocol_Fence(),
           "rally": mavwp.MissionItemProtocol_Rally()}
out = {}
for kind, loader in loaders.items():
    loader.load(base + ("" if kind == "mission" else "-" + kind) + ".waypoints")
    out[kind] = [[w.seq, w.frame, w.command, w.param1, w.param2, w.param3, w.param4, w.x, w.y,
                  w.z, w.autocontinue, getattr(w, "mission_type", 0)] for w in loader.wpoints]
params = mavparm.MAVParmDict()
params.load(base + "-fence.param")
out["params"] = dict(params)
print(json.dumps(out))
"""


@pytest.mark.skipif(not MAVPROXY_PYTHON.exists(), reason="MAVProxy missing: run scripts/setup.sh")
def test_mavproxy_reads_the_waypoints_fence_rally_and_parameters(tmp_path):
    m = sample_mission()
    write_mission(tmp_path / "patrol.waypoints", m)
    done = subprocess.run(
        [str(MAVPROXY_PYTHON), "-c", READ_WITH_MAVWP, str(tmp_path / "patrol")],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    got = json.loads(done.stdout.splitlines()[-1])

    def rows(items, frames):
        return [
            [n, frames.get(i.frame, i.frame), i.command, i.param1, i.param2, i.param3, i.param4,
             i.lat, i.lon, i.alt, i.autocontinue, i.mission_type]
            for n, i in enumerate(items)
        ]  # fmt: skip

    rel = {mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT: mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT}
    for kind, items in (("mission", m.items), ("fence", m.fence), ("rally", m.rally)):
        assert len(got[kind]) == len(items)
        for mine, theirs in zip(rows(items, rel), got[kind], strict=True):
            assert mine == pytest.approx(theirs, abs=1e-6), kind
    assert got["fence"][0][2] == 5001 and got["rally"][0][2] == 5100
    assert got["params"] == pytest.approx(m.params)


def test_a_waypoints_file_without_fence_clears_the_one_an_earlier_plan_left(tmp_path):
    path = tmp_path / "p.waypoints"
    write_mission(path, sample_mission())
    bare = Mission(sample_mission().items)
    assert len(write_mission(path, bare)) == 4
    back = read_mission(path)
    assert (back.fence, back.rally, back.params) == ([], [], {})
