import math

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from missions.items import FENCE, MISSION, MissionItem
from patrol.vehicle.mission_transfer import compare, same_item

WP = mavlink.MAV_CMD_NAV_WAYPOINT


def test_vehicle_storage_quirks_count_as_equal() -> None:
    sent = MissionItem(WP, lat=27.5718, lon=119.71, alt=25, param4=math.nan)
    back = MissionItem(
        WP, frame=mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT, lat=27.5718, lon=119.71, alt=25.0,
        autocontinue=1,
    )  # fmt: skip
    assert same_item(sent, back)  # frame 6 -> 3, NaN -> 0
    loiter = MissionItem(mavlink.MAV_CMD_NAV_LOITER_TIME, lat=27.57, lon=119.71, alt=25, param1=10)
    assert same_item(loiter, MissionItem(**{**loiter.__dict__, "param3": 1.0, "frame": 3}))
    speed = MissionItem(mavlink.MAV_CMD_DO_CHANGE_SPEED, param1=1, param2=5, param3=-1)
    assert same_item(speed, MissionItem(**{**speed.__dict__, "frame": 0}))  # DO items: frame 0
    rtl = MissionItem(mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH)  # sent in frame 6, back in 0
    assert same_item(rtl, MissionItem(**{**rtl.__dict__, "frame": 0}))
    fence = MissionItem(5001, frame=0, lat=27.57, lon=119.71, param1=4, mission_type=FENCE)
    assert same_item(fence, MissionItem(**{**fence.__dict__, "autocontinue": 0}))


def test_real_differences_are_caught() -> None:
    sent = MissionItem(WP, lat=27.5718, lon=119.71, alt=25)
    for change in (
        {"lat": 27.57181},
        {"alt": 26.0},
        {"command": mavlink.MAV_CMD_NAV_LOITER_UNLIM},
        {"param1": 3.0},
        {"frame": mavlink.MAV_FRAME_GLOBAL},
    ):
        assert not same_item(sent, MissionItem(**{**sent.__dict__, **change})), change


def test_compare_skips_home_and_reports_count() -> None:
    home = MissionItem(mavlink.MAV_CMD_NAV_WAYPOINT, frame=0, lat=27.57, lon=119.71, alt=200)
    wp = MissionItem(WP, lat=27.5718, lon=119.71, alt=25)
    vehicle_home = MissionItem(WP, frame=0, lat=27.5700001, lon=119.7100002, alt=200.1)
    assert compare([home, wp], [vehicle_home, wp], MISSION) == []
    assert compare([home, wp], [vehicle_home], MISSION) == [
        "mission: sent 2 items, vehicle holds only the first 1"
    ]
    other = MissionItem(WP, lat=27.5728, lon=119.71, alt=25)
    assert compare([home, wp, wp], [vehicle_home, other], MISSION) == [
        "mission: sent 3 items, vehicle holds 2"
    ]
    fence = [MissionItem(5003, frame=0, lat=27.57, lon=119.71, param1=400, mission_type=FENCE)]
    assert compare(fence, [MissionItem(**{**fence[0].__dict__, "param1": 300})], FENCE)
