from pathlib import Path

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from missions.items import FENCE, Mission, MissionItem
from patrol.runner.profile import ProfileError, load_profile


def mission(with_fence: bool) -> Mission:
    items = [
        MissionItem(16, frame=0, lat=27.57, lon=119.71, alt=200),
        MissionItem(mavlink.MAV_CMD_NAV_TAKEOFF, alt=20),
        MissionItem(16, lat=27.571, lon=119.71, alt=42),
    ]
    fence = [MissionItem(5003, frame=0, lat=27.57, lon=119.71, param1=500, mission_type=FENCE)]
    return Mission(items, fence=fence if with_fence else [])


def test_default_profile_enforces_failsafes_and_fence_from_plan() -> None:
    params = load_profile(None).params_for(mission(with_fence=True))
    assert params["FS_GCS_ENABLE"] == 1 and params["BATT_FS_LOW_ACT"] == 2
    assert params["FENCE_ENABLE"] == 1 and params["FENCE_ACTION"] == 1
    assert params["FENCE_ALT_MAX"] == 52
    assert params["FENCE_TYPE"] == 5  # altitude + polygon
    assert load_profile(None).params_for(mission(with_fence=False))["FENCE_TYPE"] == 1


def test_plan_sets_the_fence_but_the_profile_owns_the_failsafes() -> None:
    m = mission(with_fence=True)
    m.params.update({"FENCE_ALT_MAX": 80, "FENCE_TYPE": 7, "FENCE_ACTION": 0})
    params = load_profile(None).params_for(m)
    assert params["FENCE_ALT_MAX"] == 80 and params["FENCE_TYPE"] == 7
    assert params["FENCE_ACTION"] == 1


def test_profile_file_overrides(tmp_path: Path) -> None:
    toml = tmp_path / "site.toml"
    toml.write_text("[params]\nbatt_low_volt = 14.4\n[checks]\nmin_voltage = 15.2\n")
    profile = load_profile(toml)
    assert profile.params["BATT_LOW_VOLT"] == 14.4 and profile.min_voltage == 15.2
    js = tmp_path / "site.json"
    js.write_text('{"checks": {"max_hdop": 1.2, "pause_method": "LOITER"}}')
    assert load_profile(js).pause_method == "LOITER"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[checks]\nmin_volts = 3\n", "unknown check 'min_volts'"),
        ("[params]\nFS_GCS_ENABLE = 'yes'\n", "params.FS_GCS_ENABLE must be a number"),
        ("[other]\n", "unknown section"),
        ("[params\n", "site.toml"),
    ],
)
def test_bad_profile_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "site.toml"
    path.write_text(text)
    with pytest.raises(ProfileError, match=message):
        load_profile(path)
