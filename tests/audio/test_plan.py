import pytest
from shapely.geometry import shape

from audio.plan import PlanError, build_plan, load_bundle, write_bundle
from tests.audio.plans import make_messages, resolver, square


@pytest.fixture
def messages(tmp_path):
    return make_messages(tmp_path, {1: 1.0, 2: 2.0})


def good_spec():
    return {
        "name": "东溪镇",
        "quiet_hours": ["12:00-13:30", "21:30-07:00"],
        "zones": [
            {"name": "A", "geometry": square(0, 0, 300), "messages": [1, "message 2"]},
            {"grid": "上村", "messages": [2], "count": 2, "volume": 0.5, "alt_m": 40},
        ],
        "priority_messages": [{"id": "flood", "message": 2, "zones": ["上村"]}],
    }


GRIDS = {"上村": shape(square(0, 400, 300))}


def test_bundle_round_trip(tmp_path, messages):
    plan = build_plan(good_spec(), resolver(messages), GRIDS)
    assert plan.zone("上村").playlist.loop is False and plan.zone("A").playlist.loop is True
    write_bundle(plan, tmp_path / "p.zip")
    loaded = load_bundle(tmp_path / "p.zip", tmp_path / "cache")
    assert [z.name for z in loaded.zones] == ["A", "上村"]
    assert loaded.zone("上村").playlist == plan.zone("上村").playlist
    assert loaded.zone("上村").polygon.equals(GRIDS["上村"])
    assert loaded.priority_messages == plan.priority_messages
    for mid, m in loaded.messages.items():
        assert m.path.parent == tmp_path / "cache"
        assert m.path.read_bytes() == messages[mid].path.read_bytes()


def problems(spec, messages, grids=GRIDS):
    with pytest.raises(PlanError) as info:
        build_plan(spec, resolver(messages), grids)
    return info.value.problems


def test_every_problem_is_reported_with_its_place(messages):
    spec = good_spec()
    spec["zones"][0]["messages"] = [1, "no such message"]
    spec["zones"][1]["messages"] = []
    spec["quiet_hours"].append("late")
    spec["priority_messages"][0]["zones"] = ["nowhere"]
    found = problems(spec, messages)
    assert "zones[0] (A).messages[1]: unknown message 'no such message'" in found
    assert "zones[1] (上村): the playlist is empty" in found
    assert any(p.startswith("quiet_hours[2]:") for p in found)
    assert "priority_messages[0]: unknown zone 'nowhere'" in found


def test_overlap_needs_a_winner(messages):
    spec = good_spec()
    spec["zones"].append({"name": "C", "geometry": square(100, 100, 100), "messages": [1]})
    (found,) = problems(spec, messages)
    assert "zones 'A' and 'C' overlap" in found and "priority" in found
    spec["zones"][-1]["priority"] = 1
    build_plan(spec, resolver(messages), GRIDS)


def test_zone_sources_are_checked(messages):
    spec = good_spec()
    spec["zones"][1]["grid"] = "下村"
    assert "zones[1] (下村): no grid named '下村' in the grids file" in problems(spec, messages)
    line = {"type": "LineString", "coordinates": [[119.7, 27.5], [119.8, 27.6]]}
    spec["zones"][1] = {"name": "line", "geometry": line, "messages": [1]}
    assert "zones[1] (line): the geometry is a LineString, not a polygon" in problems(
        spec, messages
    )
    spec["zones"][1] = {"name": "tiny", "geometry": square(0, 500, 20), "messages": [1]}
    assert any("too narrow" in p for p in problems(spec, messages))


def test_bad_numbers(messages):
    spec = good_spec()
    spec["zones"][0]["volume"] = 3
    spec["zones"][0]["gap_s"] = "long"
    found = problems(spec, messages)
    assert "zones[0] (A): volume 3 is outside 0.01..1" in found
    assert "zones[0] (A): gap_s must be a number, not 'long'" in found


def test_not_a_bundle(tmp_path):
    (tmp_path / "x.zip").write_text("nope")
    with pytest.raises(PlanError, match="not a readable broadcast plan"):
        load_bundle(tmp_path / "x.zip", tmp_path / "cache")
