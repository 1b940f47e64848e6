from __future__ import annotations

import pytest

from sim.params import ParamStore


def test_sitl_defaults_and_index_order():
    params = ParamStore()
    assert len(params) == 1354
    assert params.names[0] == "FORMAT_VERSION"
    assert params.names[1] == "PILOT_THR_FILT"
    assert params["WPNAV_SPEED"] == 1000
    assert params["RTL_ALT"] == 1500
    assert params.type_of("FS_GCS_ENABLE") == 2
    assert params.type_of("RTL_ALT") == 6


def test_names_are_case_insensitive_and_old_names_alias_the_new():
    params = ParamStore()
    assert params.set("rtl_alt", 1800) == "RTL_ALT"
    assert params["RTL_ALT"] == 1800
    assert params.set("SYSID_THISMAV", 7) == "MAV_SYSID"
    assert params["MAV_SYSID"] == 7
    assert params.canonical("SR0_POSITION") == "MAV1_POSITION"
    assert params.set("NOT_A_PARAM", 1) is None


def test_integer_types_truncate_and_floats_are_float32():
    params = ParamStore()
    params.set("FS_GCS_ENABLE", 1.7)
    assert params["FS_GCS_ENABLE"] == 1.0
    params.set("FS_GCS_ENABLE", 300)
    assert params["FS_GCS_ENABLE"] == 127  # INT8 clamps
    params.set("SIM_BATT_VOLTAGE", 10.8)
    assert params["SIM_BATT_VOLTAGE"] == 10.800000190734863


def test_values_persist_across_restarts(tmp_path):
    path = tmp_path / "instance-0" / "params.json"
    ParamStore(path).set("WPNAV_SPEED", 800)
    again = ParamStore(path)
    assert again["WPNAV_SPEED"] == 800
    assert again["RTL_ALT"] == 1500


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{not json", "Expecting property name"),
        (b"\xff\xfe", "codec can't decode"),
        (b"[]", "not a JSON object"),
        (b'{"params": []}', "params is not an object of numbers"),
        (b'{"params": {"WPNAV_SPEED": "fast"}}', "params is not an object of numbers"),
        (b'{"params": {"SYSID_THISMAV": 1e999}}', "MAV_SYSID: inf is not a valid integer"),
        (b'{"extra": []}', "extra is not an object"),
        (b'{"params": {"SIM_WIND_SPD": 1e300}}', "1e+300 is beyond a 32-bit float"),
        (b"[" * 100_000, "recursion depth"),
    ],
)
def test_damaged_state_file_starts_wiped_and_is_kept_aside(tmp_path, content, reason):
    path = tmp_path / "params.json"
    path.write_bytes(content)
    params = ParamStore(path, overrides={"MAV_SYSID": 3})
    assert params["WPNAV_SPEED"] == 1000 and params["MAV_SYSID"] == 3 and params.extra == {}
    assert reason in params.damaged
    assert not path.exists() and (tmp_path / "params.json.damaged").read_bytes() == content
