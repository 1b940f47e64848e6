from __future__ import annotations

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


def test_corrupt_state_file_falls_back_to_defaults(tmp_path):
    path = tmp_path / "params.json"
    path.write_text("{not json")
    assert ParamStore(path)["WPNAV_SPEED"] == 1000
