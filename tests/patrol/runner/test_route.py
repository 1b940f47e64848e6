import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from missions.items import Mission, MissionItem
from patrol.runner.route import (
    RouteError,
    fence_alt_max,
    legs,
    progress,
    resume_mission,
    waypoint_seqs,
)

HOME = (27.57, 119.71)
NORTH_100M = 100 / 111_000  # degrees of latitude, roughly


def plan() -> Mission:
    lat, lon = HOME
    items = [
        MissionItem(mavlink.MAV_CMD_NAV_WAYPOINT, frame=0, lat=lat, lon=lon, alt=200),
        MissionItem(mavlink.MAV_CMD_NAV_TAKEOFF, alt=20),
        MissionItem(mavlink.MAV_CMD_DO_CHANGE_SPEED, frame=2, param1=1, param2=6, param3=-1),
        *[
            MissionItem(mavlink.MAV_CMD_NAV_WAYPOINT, lat=lat + k * NORTH_100M, lon=lon, alt=25)
            for k in range(1, 5)
        ],  # seqs 3..6
        MissionItem(mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH),
    ]
    return Mission(items, name="t")


def test_waypoints_and_legs() -> None:
    m = plan()
    assert waypoint_seqs(m) == [3, 4, 5, 6]
    lengths = [length for _, length in legs(m)]
    assert lengths == pytest.approx([100.2] * 4, rel=0.01)
    assert fence_alt_max(m) == 35.0


def test_progress_counts_down_the_route_and_the_way_home() -> None:
    m = plan()
    route = sum(length for _, length in legs(m))  # four legs north; the RTL comes back
    start = progress(m, set(), *HOME, speed=None)
    assert start.total == 4 and start.reached == 0
    assert start.left_m == pytest.approx(2 * route, rel=1e-3)
    assert start.eta_s == pytest.approx(start.left_m / 6, rel=1e-6)  # planned speed 6 m/s
    # half-way between waypoints 4 and 5 after reaching 4: half a leg, a leg, the way home
    mid = progress(m, {3, 4}, HOME[0] + 2.5 * NORTH_100M, HOME[1], speed=5.0)
    assert mid.reached == 2
    assert mid.left_m == pytest.approx(route * (1.5 + 4) / 4, rel=1e-3)
    assert mid.eta_s == pytest.approx(mid.left_m / 5.0)


def test_the_return_leg_shrinks_to_nothing_at_home() -> None:
    m = plan()
    all_reached = set(waypoint_seqs(m))
    lefts = [
        progress(m, all_reached, HOME[0] + k * NORTH_100M, HOME[1], speed=8.0).left_m
        for k in (4, 3, 2, 1, 0)
    ]
    assert lefts == sorted(lefts, reverse=True) and lefts[-1] == pytest.approx(0, abs=0.01)
    assert lefts[0] == pytest.approx(sum(length for _, length in legs(m)), rel=1e-3)
    # an RTL mid-route (failsafe, operator) flies home from where it is; LAND stays put
    away = (HOME[0] + 2 * NORTH_100M, HOME[1])
    home = progress(m, {3}, *away, speed=8.0, toward="home")
    assert home.left_m == pytest.approx(legs(m)[0][1] * 2, rel=1e-3)
    assert progress(m, {3}, *away, speed=8.0, toward="here").left_m == 0.0


def test_a_route_without_rtl_ends_at_its_last_waypoint() -> None:
    m = plan()
    m = Mission(m.items[:-1], name="no rtl")
    start = progress(m, set(), *HOME, speed=None)
    assert start.left_m == pytest.approx(sum(length for _, length in legs(m)), rel=1e-3)
    assert progress(m, set(waypoint_seqs(m)), *HOME, speed=None).left_m == 0.0


def test_resume_after_waypoint_4() -> None:
    m = plan()
    resumed, seq_map = resume_mission(m, 4)
    commands = [i.command for i in resumed.items]
    assert commands == [16, 22, 178, 16, 16, 16, 20]
    assert seq_map == [0, 1, 2, 4, 5, 6, 7]
    assert [resumed.items[k] for k in range(3, 7)] == m.items[4:]


def test_resume_before_any_waypoint_and_after_all() -> None:
    m = plan()
    _resumed, seq_map = resume_mission(m, None)
    assert seq_map == list(range(len(m.items)))
    with pytest.raises(RouteError, match="nothing left"):
        resume_mission(m, 6)
    no_takeoff = Mission([m.items[0], *m.items[3:]])
    with pytest.raises(RouteError, match="TAKEOFF"):
        resume_mission(no_takeoff, 4)
