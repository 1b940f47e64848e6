import json
import math
import struct
import zipfile

import pytest
from shapely.geometry import shape

from audio.plan import MAX_PLAN_JSON_BYTES, PlanError, build_plan, load_bundle, write_bundle
from tests.audio.plans import make_messages, offset, resolver, square


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


def _bundle(tmp_path, messages) -> dict[str, bytes]:
    plan = build_plan(good_spec(), resolver(messages), GRIDS)
    write_bundle(plan, tmp_path / "good.zip")
    with zipfile.ZipFile(tmp_path / "good.zip") as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _zip(path, members: dict[str, bytes], method=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _refusal(tmp_path, members) -> str:
    with pytest.raises(PlanError) as err:
        load_bundle(_zip(tmp_path / "bad.zip", members), tmp_path / "cache")
    (problem,) = err.value.problems
    return problem


def _bent(members, change) -> dict[str, bytes]:
    doc = json.loads(members["plan.json"])
    change(doc)
    return {**members, "plan.json": json.dumps(doc).encode()}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["zones"][0].update(loop="false"), "loop must be true or false, not 'false'"),
        (lambda d: d["priority_messages"][0].update(override_quiet="no"), "override_quiet must"),
        (lambda d: d["messages"]["1"].update(sha256="../../x"), "sha256 '../../x' is not a SHA"),
        (lambda d: d["messages"]["1"].update(file="../../x"), "file '../../x' is not audio/"),
        (lambda d: d["messages"]["1"].update(file="audio/2.wav"), "is not audio/1.wav"),
        (lambda d: d["messages"]["1"].update(duration_s=float("nan")), "must be a finite number"),
        (lambda d: d.update(messages=[1]), "messages must be an object"),
        (lambda d: d.update(messages={str(2**64): d["messages"]["1"]}), "is not a message id"),
        (lambda d: d.update(format="other/1"), "format input should be"),
        (lambda d: d.update(zones=3), "zones must be a list, not 3"),
    ],
)
def test_plan_json_is_held_to_a_strict_model(tmp_path, messages, change, message):
    problem = _refusal(tmp_path, _bent(_bundle(tmp_path, messages), change))
    assert problem.startswith(f"{tmp_path / 'bad.zip'}: plan.json: ") and message in problem
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").iterdir())


def test_members_are_named_as_the_format_names_them(tmp_path, messages):
    members = _bundle(tmp_path, messages)
    for name in ("../audio/1.wav", "/tmp/evil", "audio/../../x.wav", "notes.txt"):
        assert f"(holds {name!r})" in _refusal(tmp_path, {**members, name: b"x"})
    assert "no plan.json" in _refusal(tmp_path, {"audio/1.wav": members["audio/1.wav"]})
    del members["audio/2.wav"]
    assert "message 2: audio/2.wav is missing" in _refusal(tmp_path, members)


def test_zip_bombs_are_refused_by_declared_and_by_inflated_size(tmp_path, messages):
    members = _bundle(tmp_path, messages)
    big = b"{" + b" " * (MAX_PLAN_JSON_BYTES + 1) + b"}"
    problem = _refusal(tmp_path, {**members, "plan.json": big})
    assert problem.endswith("plan.json is over 5 MB (a zip bomb?)")
    # a member whose headers declare 1,000 bytes but that inflates to 20 MB
    path = _zip(tmp_path / "bad.zip", {**members, "audio/1.wav": bytes(20 << 20)},
                zipfile.ZIP_DEFLATED)  # fmt: skip
    data = bytearray(path.read_bytes())
    for signature, at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = data.find(signature)
        while start >= 0:
            if data[start + name_at : start + name_at + 11] == b"audio/1.wav":
                data[start + at : start + at + 4] = struct.pack("<I", 1000)
            start = data.find(signature, start + 4)
    path.write_bytes(data)
    with pytest.raises(PlanError, match=r"not a readable broadcast plan .*CRC"):
        load_bundle(path, tmp_path / "cache")


def test_audio_must_match_its_checksum_and_length(tmp_path, messages):
    members = _bundle(tmp_path, messages)
    swapped = {**members, "audio/1.wav": members["audio/2.wav"]}
    assert "audio/1.wav does not match its checksum" in _refusal(tmp_path, swapped)

    def lie(doc):  # a checksum made to match, a length that does not
        doc["messages"]["1"]["duration_s"] = 9.0

    assert "lasts 1.00 s but plan.json says 9.00 s" in _refusal(tmp_path, _bent(members, lie))


def _round_zone(n: int, radius_m: float, jag_m: float = 0.0) -> dict:
    ring = []
    for i in range(n):
        r = radius_m + (jag_m if i % 2 else -jag_m)
        lat, lon = offset(r * math.cos(2 * math.pi * i / n), r * math.sin(2 * math.pi * i / n))
        ring.append([lon, lat])
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def test_a_dense_smooth_zone_is_checked_simplified_and_kept_as_drawn(messages):
    zone = {"name": "村", "geometry": _round_zone(50_000, 500), "messages": [1]}
    plan = build_plan({"zones": [zone]}, resolver(messages))
    assert len(plan.zone("村").polygon.exterior.coords) == 50_001


def test_a_zone_too_detailed_to_check_is_refused_before_the_geometry_work(messages):
    zone = {"name": "锯齿", "geometry": _round_zone(30_000, 500, jag_m=2.0), "messages": [1]}
    with pytest.raises(PlanError) as err:
        build_plan({"zones": [zone]}, resolver(messages))
    assert err.value.problems == [
        "zone '锯齿' keeps 30,001 vertices after simplifying at 5 cm, over the 20,000 a zone may "
        "have (simplify it in a GIS)"
    ]


def test_overlaps_are_listed_up_to_twenty_then_counted(messages):
    zones = [{"name": f"z{j}", "geometry": square(0, 0, 100), "messages": [1]} for j in range(8)]
    with pytest.raises(PlanError) as err:
        build_plan({"zones": zones}, resolver(messages))
    problems = err.value.problems
    assert len(problems) == 21 and problems[-1] == "... and 8 more overlapping pairs"  # 28 pairs
    assert problems[0].startswith("zones 'z0' and 'z1' overlap by ")


def test_a_bundle_inflating_past_its_limit_in_all_is_refused(tmp_path, messages, monkeypatch):
    monkeypatch.setattr("audio.plan.MAX_BUNDLE_BYTES", 3 << 20)  # 1 GB in use: the same sum
    members = _bundle(tmp_path, messages)
    extra = {f"audio/{k}.wav": bytes(1 << 20) for k in range(3, 6)}  # each far under 100 MB
    problem = _refusal(tmp_path, {**members, **extra})
    assert problem.endswith("its members inflate to 3.3 MB, over the 3 MB a bundle may hold")
