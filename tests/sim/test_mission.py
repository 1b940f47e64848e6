"""Mission protocol for MISSION, FENCE and RALLY, with ArduPilot's answers (transcript 03/04)."""

from __future__ import annotations

import math

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from tests.sim.conftest import HOME, local, square_mission
from tests.sim.gcs import Gcs, item


def test_upload_then_download_as_arducopter_stores_it(ready, gcs):
    items = square_mission()
    items[2].param4 = math.nan  # NaN param4 on a waypoint is accepted and comes back as 0
    ack = gcs.upload(items)
    assert ack.type == mavlink.MAV_MISSION_ACCEPTED
    assert gcs.saw_text("Flight plan received")
    back = gcs.download()
    assert [m.command for m in back] == [16, 22, 16, 16, 16, 20]
    assert back[0].frame == 0 and back[0].x == round(HOME[0] * 1e7)  # seq 0 is the real home
    assert all(m.frame == 3 for m in back[1:5])  # nav items come back relative (frame 3)
    assert back[5].frame == 0  # RTL has no location
    assert back[2].param4 == 0.0
    assert back[3].x == items[3].x and back[3].y == items[3].y and back[3].z == 20.0
    assert ready.missions.count() == 6


def test_upload_requests_use_legacy_mission_request(ready, gcs):
    gcs.send(mavlink.MAVLink_mission_count_message(1, 1, 2, 0))
    req = gcs.recv(("MISSION_REQUEST", "MISSION_REQUEST_INT"))
    assert req.get_type() == "MISSION_REQUEST" and req.seq == 0


def test_wrong_sequence_is_nacked_but_not_aborted(ready, gcs):
    items = square_mission()
    gcs.send(mavlink.MAVLink_mission_count_message(1, 1, len(items), 0))
    assert gcs.recv("MISSION_REQUEST").seq == 0
    gcs.send(items[3])
    assert gcs.recv("MISSION_ACK").type == mavlink.MAV_MISSION_INVALID_SEQUENCE
    # the vehicle keeps asking for seq 0; answering correctly completes the upload
    assert gcs.recv("MISSION_REQUEST", cond=lambda m: m.seq == 0) is not None
    for it in items:
        gcs.send(it)
    assert gcs.recv("MISSION_ACK", cond=lambda m: m.type == 0) is not None


def test_silent_upload_times_out_after_8s_and_keeps_the_old_mission(fleet, ready, gcs):
    assert gcs.upload(square_mission()).type == 0
    gcs.drain()
    first = len(gcs.log)
    start = fleet.sim_time
    gcs.send(mavlink.MAVLink_mission_count_message(1, 1, 6, 0))
    ack = gcs.recv("MISSION_ACK", 10)
    elapsed = fleet.sim_time - start
    assert ack.type == mavlink.MAV_MISSION_OPERATION_CANCELLED
    assert 7.9 <= elapsed <= 9.5
    requests = [m for m in gcs.log[first:] if m.get_type() == "MISSION_REQUEST"]
    assert 7 <= len(requests) <= 9  # first request plus one re-request per second
    assert gcs.saw_text("Mission upload timeout")
    assert len(gcs.download()) == 6


def test_clear_all_and_count_zero(ready, gcs):
    gcs.upload(square_mission())
    gcs.send(mavlink.MAVLink_mission_clear_all_message(1, 1, 0))
    assert gcs.recv("MISSION_ACK").type == 0
    assert gcs.download() == []
    assert gcs.upload([]).type == 0


def test_set_current(ready, gcs):
    gcs.upload(square_mission())
    gcs.drain()
    gcs.send(mavlink.MAVLink_mission_set_current_message(1, 1, 3))
    assert gcs.recv("MISSION_CURRENT", cond=lambda m: m.seq == 3) is not None
    assert gcs.command(224, 50).result == mavlink.MAV_RESULT_DENIED
    assert gcs.command(224, 4).result == 0


def test_no_space_beyond_650_items(ready, gcs):
    gcs.send(mavlink.MAVLink_mission_count_message(1, 1, 60000, 0))
    assert gcs.recv("MISSION_ACK").type == mavlink.MAV_MISSION_NO_SPACE
    assert gcs.saw_text("Only 650 items are supported")


def test_unsupported_item_keeps_what_arrived(ready, vehicle, gcs):
    items = square_mission()
    items[2] = item(2, 31010, *local(10, 10), 20)
    assert gcs.upload(items).type == mavlink.MAV_MISSION_UNSUPPORTED
    assert vehicle.missions.count() == 2


def test_loiter_time_nan_param4_is_invalid(ready, vehicle, gcs):
    items = square_mission()
    items[3] = item(3, 19, *local(50, 0), 20, p1=10, p4=math.nan)
    assert gcs.upload(items).type == mavlink.MAV_MISSION_INVALID_PARAM4
    assert vehicle.missions.count() == 3


def test_request_outside_a_transfer(ready, gcs):
    gcs.upload(square_mission())
    gcs.drain()
    gcs.send(mavlink.MAVLink_mission_request_int_message(1, 1, 99, 0))
    got = [gcs.recv(("MISSION_COUNT", "MISSION_ACK")) for _ in range(2)]
    assert [m.get_type() for m in got] == ["MISSION_COUNT", "MISSION_ACK"]
    assert got[0].count == 6 and got[1].type == mavlink.MAV_MISSION_INVALID_SEQUENCE


def test_legacy_mission_item_and_request(ready, gcs):
    items = [
        mavlink.MAVLink_mission_item_message(
            1,
            1,
            i.seq,
            3,
            i.command,
            0,
            1,
            i.param1,
            i.param2,
            i.param3,
            i.param4,
            i.x / 1e7,
            i.y / 1e7,
            i.z,
            0,
        )
        for i in square_mission()
    ]
    assert gcs.upload(items).type == 0
    assert gcs.saw_text("got MISSION_ITEM; GCS should send MISSION_ITEM_INT")
    gcs.send(mavlink.MAVLink_mission_request_message(1, 1, 2, 0))
    back = gcs.recv("MISSION_ITEM")
    # float32 degrees computed as ArduPilot does (lat * 1.0e-7f): within 2 float32 steps (12)
    assert back.seq == 2 and abs(back.x - local(100, 0)[0]) < 4e-6
    assert gcs.saw_text("got MISSION_REQUEST; use MISSION_REQUEST_INT!")


def test_fence_and_rally_round_trip(ready, vehicle, gcs):
    square = [(100, 100), (100, -100), (-100, -100), (-100, 100)]
    fence = [
        item(i, 5001, *local(n, e), p1=4, frame=0, mission_type=1)
        for i, (n, e) in enumerate(square)
    ]
    fence.append(item(4, 5003, HOME[0], HOME[1], p1=400, frame=0, mission_type=1))
    assert gcs.upload(fence, mission_type=1).type == 0
    assert gcs.saw_text("Fence Indexed OK")
    # FENCE_TOTAL as SITL sets it: 4 vertices + 1 circle + 2 (11 in the 04 transcript's 4+4+1)
    total = gcs.recv("PARAM_VALUE", cond=lambda m: m.param_id == "FENCE_TOTAL")
    assert total.param_value == 7 and vehicle.params["FENCE_TOTAL"] == 7
    rally = [item(i, 5100, *local(60, 60 * (1 - 2 * i)), 30, mission_type=2) for i in range(2)]
    assert gcs.upload(rally, mission_type=2).type == 0
    assert vehicle.params["RALLY_TOTAL"] == 2
    back = gcs.download(1)
    assert [m.command for m in back] == [5001] * 4 + [5003]
    assert all(m.frame == 0 and m.autocontinue == 0 for m in back)
    rally_back = gcs.download(2)
    assert [m.frame for m in rally_back] == [3, 3]
    assert vehicle.fence.has_polygon
    assert vehicle.fence.violations(150, 0, 10) and not vehicle.fence.violations(50, 0, 10)


def test_missions_persist_with_the_params(tmp_path):
    from sim import SimFleet

    with SimFleet(count=1, speedup=50, base_port=0, state_dir=tmp_path) as f1:
        v = f1.vehicles[0]
        with f1.lock:
            for it in square_mission():
                from sim.mission import item_from_message

                v.missions._write(item_from_message(it))
            v._missions_changed(0)
    with SimFleet(count=1, speedup=50, base_port=0, state_dir=tmp_path) as f2:
        assert f2.vehicles[0].missions.count() == 6


def test_transfer_rules_while_an_upload_is_in_progress(ready, gcs, fleet):
    gcs.send(mavlink.MAVLink_mission_count_message(1, 1, 3, 0))
    assert gcs.recv("MISSION_REQUEST").seq == 0
    other = Gcs(ready.ports[1], sysid=200, fleet=fleet)  # another link
    try:
        other.send(mavlink.MAVLink_mission_count_message(1, 1, 2, 0))
        assert other.recv("MISSION_ACK").type == mavlink.MAV_MISSION_DENIED
    finally:
        other.close()
    gcs.send(mavlink.MAVLink_mission_request_list_message(1, 1, 0))
    assert gcs.recv("MISSION_ACK").type == mavlink.MAV_MISSION_DENIED
    gcs.send(mavlink.MAVLink_mission_clear_all_message(1, 1, 0))
    assert gcs.recv("MISSION_ACK").type == mavlink.MAV_MISSION_ERROR


def test_late_duplicate_items_get_no_answer(ready, gcs):
    items = square_mission()
    assert gcs.upload(items).type == 0
    gcs.send(items[5])  # a GCS answering a re-request after the upload completed
    assert gcs.recv("MISSION_ACK", 2) is None
