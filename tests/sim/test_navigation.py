"""Flying: AUTO missions, RTL, LAND, GUIDED targets, pause/continue, speed changes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim.geo import distance
from tests.sim.conftest import HOME, local, square_mission, take_off
from tests.sim.gcs import item


def sample(gcs, vehicle, until, sim_timeout):
    """The pose at every simulation step until ``until()``."""
    poses = []

    def record():
        poses.append(vehicle.pose())
        return until()

    gcs.wait_for(record, sim_timeout)
    return poses


def test_auto_mission_texts_items_and_landing(fleet, ready, gcs):
    items = square_mission(alt=25)
    items.insert(5, item(5, 19, *local(50, 50), 25, p1=5))  # LOITER_TIME 5 s
    items.insert(6, item(6, 178, p2=5))  # DO_CHANGE_SPEED 5 m/s
    for seq, it in enumerate(items):
        it.seq = seq
    assert gcs.upload(items).type == 0
    take_off(fleet, ready, gcs)
    gcs.drain()
    mark = len(gcs.log)
    assert gcs.command(176, 1, 3).result == 0
    gcs.wait_for(lambda: not ready.armed, 300)
    gcs.collect(1)
    events = [
        m.text if m.get_type() == "STATUSTEXT" else f"REACHED {m.seq}"
        for m in gcs.log[mark:]
        if m.get_type() in ("STATUSTEXT", "MISSION_ITEM_REACHED")
    ]
    events = [e for e in events if not e.startswith("SIM Hit ground")]
    assert events == [
        "Mission: 1 Takeoff",
        "REACHED 1",
        "Mission: 2 WP",
        "REACHED 2",
        "Reached command #2",
        "Mission: 3 WP",
        "REACHED 3",
        "Reached command #3",
        "Mission: 4 WP",
        "REACHED 4",
        "Reached command #4",
        "Mission: 5 LoitTime",
        "REACHED 6",  # ArduCopter reports the next seq at the end of LOITER_TIME
        "Reached command #5",
        "Mission: 6 ChangeSpeed",
        "Mission: 7 RTL",
        "REACHED 7",  # the RTL item is reached at the disarm
        "Disarming motors",
    ]
    assert ready.mode == 3  # stays AUTO after the disarm
    assert ready.auto.mission_state() == mavlink.MISSION_STATE_COMPLETE
    assert distance(HOME[0], HOME[1], ready.pose().lat, ready.pose().lon) < 1.0


def test_waypoint_leg_speed_and_acceptance(fleet, ready, gcs):
    items = [item(0, 16, HOME[0], HOME[1]), item(1, 22, alt=20), item(2, 16, *local(200, 0), 20)]
    assert gcs.upload(items).type == 0
    take_off(fleet, ready, gcs)
    assert gcs.command(176, 1, 3).result == 0
    start = fleet.sim_time
    poses = sample(gcs, ready, lambda: ready.auto.current != 2 and fleet.sim_time > start + 1, 60)
    leg = fleet.sim_time - start
    peak = max(math.hypot(p.vn, p.ve) for p in poses)
    assert 9.5 < peak <= 10.01  # WPNAV_SPEED 1000 cm/s
    assert 21 < leg < 27  # SITL: 25 s for 200 m
    assert distance(*local(200, 0), poses[-1].lat, poses[-1].lon) <= 2.05  # WPNAV_RADIUS


def test_rtl_climbs_returns_and_lands_with_sitl_descent_rates(fleet, ready, gcs):
    gcs.set_param("RTL_ALT", 3000)
    take_off(fleet, ready, gcs, alt=15)
    lat, lon = local(60, 0)
    assert gcs.command_int(192, 6, -1, 0, 0, 0, round(lat * 1e7), round(lon * 1e7), 15).result == 0
    gcs.wait_for(lambda: distance(lat, lon, *ready.position()) < 1, 40)
    assert gcs.command(20).result == 0
    poses = sample(gcs, ready, lambda: not ready.armed, 200)
    assert max(p.alt_rel for p in poses) > 29.8  # climbed to RTL_ALT first
    descent = [(p.vd, p.alt_rel) for p in poses if p.vd > 0.05]
    high = [v for v, alt in descent if 13 < alt < 28]
    low = [v for v, alt in descent if 0.5 < alt < 8]
    assert abs(max(high) - 1.5) < 0.05  # WPNAV_SPEED_DN
    assert abs(max(low) - 0.5) < 0.05  # LAND_SPEED below LAND_ALT_LOW
    assert distance(HOME[0], HOME[1], poses[-1].lat, poses[-1].lon) < 1
    assert gcs.saw_text("SIM Hit ground at 0.500000 m/s")
    assert ready.mode == 6


def test_land_then_disarm_two_seconds_after_touchdown(fleet, ready, gcs):
    take_off(fleet, ready, gcs, alt=12)
    assert gcs.command(21).result == 0
    assert ready.mode == 9
    gcs.wait_for(lambda: not ready.flying, 60)
    touchdown = fleet.sim_time
    gcs.wait_for(lambda: not ready.armed, 10)
    assert 1.8 < fleet.sim_time - touchdown < 2.4


def test_guided_goto_global_int_and_reposition(fleet, ready, gcs):
    take_off(fleet, ready, gcs)
    lat, lon = local(80, 0)
    gcs.send(
        mavlink.MAVLink_set_position_target_global_int_message(
            0, 1, 1, 6, 0x0DF8, round(lat * 1e7), round(lon * 1e7), 20, 0, 0, 0, 0, 0, 0, 0, 0
        )
    )
    start = fleet.sim_time
    gcs.wait_for(lambda: distance(lat, lon, *ready.position()) < 0.5, 30)
    assert 11 < fleet.sim_time - start < 17  # SITL: ~14 s for 80 m
    lat, lon = local(80, 80)
    assert gcs.command(192, -1, 1, 0, 0, lat, lon, 25).result == mavlink.MAV_RESULT_UNSUPPORTED
    ack = gcs.command_int(192, 6, -1, 1, 0, 0, round(lat * 1e7), round(lon * 1e7), 25)
    assert ack.result == 0
    gcs.wait_for(lambda: distance(lat, lon, *ready.position()) < 0.5, 30)
    assert abs(ready.pose().alt_rel - 25) < 0.5


def test_pause_and_continue_in_auto(fleet, ready, gcs):
    items = [item(0, 16, HOME[0], HOME[1]), item(1, 22, alt=20), item(2, 16, *local(300, 0), 20)]
    assert gcs.upload(items).type == 0
    take_off(fleet, ready, gcs)
    assert gcs.command(176, 1, 3).result == 0
    gcs.wait_for(lambda: math.hypot(ready.pose().vn, ready.pose().ve) > 9, 20)
    assert gcs.command(193, 0).result == 0
    gcs.wait_for(lambda: math.hypot(ready.pose().vn, ready.pose().ve) < 0.05, 10)
    held = ready.pose().lat
    gcs.collect(1)
    assert gcs.recv("HEARTBEAT") is not None
    assert abs(ready.pose().lat - held) < 1e-6
    assert gcs.command(193, 1).result == 0
    gcs.wait_for(lambda: ready.auto.current != 2, 60)


def test_do_change_speed_slows_the_next_leg(fleet, ready, gcs):
    items = [
        item(0, 16, HOME[0], HOME[1]),
        item(1, 22, alt=20),
        item(2, 178, p2=4),
        item(3, 16, *local(120, 0), 20),
    ]
    assert gcs.upload(items).type == 0
    take_off(fleet, ready, gcs)
    assert gcs.command(176, 1, 3).result == 0
    poses = sample(gcs, ready, lambda: ready.auto.current not in (1, 2, 3), 80)
    assert 3.9 < max(math.hypot(p.vn, p.ve) for p in poses) <= 4.01


def test_mis_restart_resumes_or_restarts(fleet, ready, gcs):
    items = square_mission()
    assert gcs.upload(items).type == 0
    take_off(fleet, ready, gcs)
    assert gcs.command(176, 1, 3).result == 0
    gcs.wait_for(lambda: ready.auto.current == 3, 60)
    assert gcs.command(176, 1, 4).result == 0
    assert gcs.command(176, 1, 3).result == 0
    assert ready.auto.current == 3  # MIS_RESTART 0: resume
    gcs.set_param("MIS_RESTART", 1)
    assert gcs.command(176, 1, 4).result == 0
    assert gcs.command(176, 1, 3).result == 0
    assert ready.auto.current in (1, 2)  # restarted from the first item


def test_rtl_goes_to_the_closest_rally_point(fleet, ready, gcs):
    rally = [item(0, 5100, *local(60, 60), 30, mission_type=2)]
    assert gcs.upload(rally, mission_type=2).type == 0
    take_off(fleet, ready, gcs)
    lat, lon = local(70, 70)
    assert gcs.command_int(192, 6, -1, 0, 0, 0, round(lat * 1e7), round(lon * 1e7), 20).result == 0
    gcs.wait_for(lambda: distance(lat, lon, *ready.position()) < 1, 40)
    assert gcs.command(176, 1, 6).result == 0
    poses = sample(gcs, ready, lambda: not ready.armed, 200)
    assert max(p.alt_rel for p in poses) > 29.8  # rally altitude
    assert distance(*local(60, 60), poses[-1].lat, poses[-1].lon) < 1


def test_mission_start_command(fleet, ready, gcs):
    assert gcs.upload(square_mission()).type == 0
    take_off(fleet, ready, gcs)
    assert gcs.command(300).result == 0
    assert ready.mode == 3
    gcs.wait_for(lambda: ready.auto.current >= 2, 20)


def test_smart_rtl_retraces_the_path(fleet, ready, gcs):
    take_off(fleet, ready, gcs)
    for n, e in ((60, 0), (60, 60)):  # an L-shaped route
        lat, lon = local(n, e)
        assert (
            gcs.command_int(192, 6, -1, 0, 0, 0, round(lat * 1e7), round(lon * 1e7), 20).result == 0
        )
        gcs.wait_for(lambda lat=lat, lon=lon: distance(lat, lon, *ready.position()) < 1, 40)
    assert gcs.command(176, 1, 21).result == 0
    poses = sample(gcs, ready, lambda: not ready.armed, 200)
    corner = local(60, 0)
    # it goes back through the corner, not straight home as RTL would
    assert min(distance(*corner, p.lat, p.lon) for p in poses) < 2.5
    assert distance(HOME[0], HOME[1], poses[-1].lat, poses[-1].lon) < 2.5
    assert ready.mode == 21


def test_smart_rtl_falls_back_to_rtl_without_a_path(fleet, ready, gcs):
    take_off(fleet, ready, gcs)
    ready.nav.breadcrumbs.clear()  # e.g. the position was bad while it flew
    ready.failsafe_mode((21, 6, 9))  # SmartRTL, else RTL, else LAND
    assert ready.mode == 6


def test_camera_hook_pose_history_and_listeners(fleet, ready, gcs):
    seen = []
    ready.pose_listeners.append(seen.append)
    take_off(fleet, ready, gcs)
    lat, lon = local(100, 0)
    assert gcs.command_int(192, 6, -1, 0, 0, 0, round(lat * 1e7), round(lon * 1e7), 20).result == 0
    gcs.collect(5)
    assert len(seen) > 100 and seen[-1].time_s == ready.sim_time  # every step
    t = ready.sim_time - 2.05
    pose = ready.pose_at(t)
    before = [p for p in seen if p.time_s <= t][-1]
    after = next(p for p in seen if p.time_s >= t)
    assert before.lat <= pose.lat <= after.lat and pose.time_s == t
    assert abs(pose.alt_rel - 20) < 0.5 and pose.vn > 1
    with pytest.raises(ValueError):
        ready.pose_at(ready.sim_time + 1)


def test_brake_stops_hard_and_holds_where_it_stopped(fleet, ready, gcs):
    take_off(fleet, ready, gcs, alt=30)
    lat, lon = local(500, 0)
    assert gcs.command_int(192, 6, -1, 0, 0, 0, round(lat * 1e7), round(lon * 1e7), 30).result == 0
    gcs.wait_for(lambda: ready.copter.ground_speed > 9.9, 60)
    braked_at = ready.position()
    start = fleet.sim_time
    assert gcs.command(176, 1, 17).result == 0  # BRAKE
    gcs.wait_for(lambda: ready.copter.ground_speed < 0.05, 5)
    stopped_after = fleet.sim_time - start
    stop = distance(*braked_at, *ready.position())
    gcs.collect(10)
    held = distance(*braked_at, *ready.position())
    # BRAKE_MODE_DECEL_RATE 7.5 m/s²: 10 m/s stops in ~1.3 s over ~6.7 m, and stays there
    assert 1.0 < stopped_after < 2.0 and 5.5 < stop < 8.0, (stopped_after, stop)
    assert abs(held - stop) < 0.5


def test_guided_target_flies_at_wpnav_speed_until_a_speed_is_set_for_it(fleet, ready, gcs):
    # SITL (07, 10): DO_CHANGE_SPEED before a new target is forgotten (the 80 m leg peaked at
    # 9.7 m/s); sent after it, it re-plans the leg under way (dronekit's simple_goto does so)
    take_off(fleet, ready, gcs)
    assert gcs.command(178, 1, 3).result == 0
    lat, lon = local(300, 0)
    gcs.send(
        mavlink.MAVLink_set_position_target_global_int_message(
            0, 1, 1, 6, 0x0DF8, round(lat * 1e7), round(lon * 1e7), 20, 0, 0, 0, 0, 0, 0, 0, 0
        )
    )
    poses = sample(gcs, ready, lambda: ready.copter.state.n > 150, 40)
    assert max(math.hypot(p.vn, p.ve) for p in poses) > 9.9
    assert gcs.command(178, 1, 4).result == 0
    poses = sample(gcs, ready, lambda: distance(lat, lon, *ready.position()) < 0.5, 60)
    speeds = np.array([math.hypot(p.vn, p.ve) for p in poses])
    assert speeds.max() <= 10.01 and np.diff(speeds[:50]).max() <= 1e-9  # slowing at once
    assert np.sum(np.abs(speeds - 4.0) < 0.01) * fleet.dt > 15  # then cruising at 4 m/s
