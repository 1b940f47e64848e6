"""Arming, pre-arm wording, modes and failsafes of the simulated ArduCopter."""

from __future__ import annotations

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim import SimFleet
from tests.sim.conftest import HOME, local, square_mission, take_off
from tests.sim.gcs import Gcs, item

FAILED = mavlink.MAV_RESULT_FAILED


@pytest.fixture
def sitl_timed(tmp_path):
    """SITL's own boot timing (EKF position at 41.6 s), lock-step."""
    fleet = SimFleet(count=1, home=HOME, base_port=0, state_dir=tmp_path)
    gcs = Gcs(fleet.vehicles[0].port, fleet=fleet)
    yield fleet, fleet.vehicles[0], gcs
    gcs.close()
    fleet.stop()


def test_boot_prearm_sequence_matches_sitl(sitl_timed):
    _, v, gcs = sitl_timed
    gcs.wait_for(lambda: v.sim_time > 2.5, 10)
    mark = len(gcs.log)
    assert gcs.command(400, 1).result == FAILED
    texts = [t for t in gcs.texts_since(mark) if t.startswith("Arm:")]
    assert texts[:2] == ["Arm: Accels inconsistent", "Arm: EKF attitude is bad"]
    # in the gap between PREARM-healthy (23.6 s) and EKF using GPS (41.6 s)
    gcs.wait_for(lambda: v.sim_time > 25, 30)
    assert gcs.command(176, 1, 4).result == 0
    mark = len(gcs.log)
    assert gcs.command(400, 1).result == FAILED
    gcs.recv("STATUSTEXT", 2, lambda m: m.text.startswith("Arm:"))
    assert gcs.saw_text("Arm: Need Position Estimate", mark)
    assert gcs.command(401).result == 0
    gcs.recv("STATUSTEXT", 2, lambda m: m.text.startswith("PreArm:"))
    assert gcs.saw_text("PreArm: Need Position Estimate", mark)
    assert gcs.command(176, 1, 0).result == 0
    assert gcs.command(400, 1).result == 0  # STABILIZE arms without a position
    assert gcs.command(400, 0).result == 0
    gcs.wait_for(v.ekf_has_position, 30)
    assert 41 < v.sim_time < 43
    assert gcs.command(176, 1, 4).result == 0
    assert gcs.command(400, 1).result == 0


def test_sys_status_prearm_bit_and_gps_fix(ready, fleet, gcs):
    gcs.request_streams(4)
    status = gcs.recv("SYS_STATUS")
    assert status.onboard_control_sensors_health & mavlink.MAV_SYS_STATUS_PREARM_CHECK
    assert gcs.recv("GPS_RAW_INT").fix_type == 6
    ekf = gcs.recv("EKF_STATUS_REPORT")
    assert ekf.flags == 0x33F


def test_arm_twice_disarm_in_air_refused_and_auto_disarm(fleet, ready, gcs):
    assert gcs.command(176, 1, 4).result == 0
    assert gcs.command(400, 1).result == 0
    assert gcs.command(400, 1).result == 0
    armed_at = fleet.sim_time
    gcs.wait_for(lambda: not ready.armed, 15)
    assert 9.5 < fleet.sim_time - armed_at < 11  # DISARM_DELAY 10 s without a takeoff
    assert gcs.saw_text("Disarming motors")
    take_off(fleet, ready, gcs)
    assert gcs.command(400, 0).result == FAILED
    assert ready.armed
    assert gcs.command(400, 0, 21196).result == 0  # forced disarm: it falls
    gcs.wait_for(lambda: not ready.flying, 20)


def test_takeoff_rules(fleet, ready, gcs):
    assert gcs.command(22, 0, 0, 0, 0, 0, 0, 20).result == FAILED  # disarmed
    assert gcs.command(176, 1, 4).result == 0
    assert gcs.command(400, 1).result == 0
    start = fleet.sim_time
    assert gcs.command(22, 0, 0, 0, 0, 0, 0, 20).result == 0
    gcs.wait_for(lambda: ready.flying, 10)
    assert 3.5 < fleet.sim_time - start < 4.3  # motor spool-up before liftoff
    gcs.wait_for(lambda: ready.pose().alt_rel > 19.7, 30)
    assert 11 < fleet.sim_time - start < 15  # SITL: 13.3 s to 20 m
    assert gcs.command(22, 0, 0, 0, 0, 0, 0, 30).result == FAILED  # already flying


def test_modes_while_disarmed_and_invalid_modes(ready, gcs):
    for mode in (0, 2, 5, 17, 16, 6, 9, 21, 4, 3):
        assert gcs.command(176, 1, mode).result == 0
        assert ready.mode == mode
    assert not gcs.saw_text("Mission: 1 Takeoff", timeout=0.1)  # no mission loaded yet
    assert gcs.command(176, 1, 99).result == FAILED
    assert gcs.saw_text("No such mode 99")
    assert gcs.command(176, 0, 4).result == mavlink.MAV_RESULT_DENIED
    gcs.drain()
    gcs.send(mavlink.MAVLink_set_mode_message(1, 1, 4))
    hb = gcs.recv("HEARTBEAT", 3, lambda m: m.custom_mode == 4)
    assert hb.base_mode & mavlink.MAV_MODE_FLAG_GUIDED_ENABLED
    acks = [m for m in gcs.log if m.get_type() == "COMMAND_ACK"]
    assert all(m.command != 11 for m in acks)  # SET_MODE is never ACKed


def test_heartbeat_flags(fleet, ready, gcs):
    hb = gcs.recv("HEARTBEAT")
    assert (hb.type, hb.autopilot, hb.system_status) == (2, 3, 3)
    take_off(fleet, ready, gcs)
    gcs.drain()
    hb = gcs.recv("HEARTBEAT")
    assert hb.base_mode & mavlink.MAV_MODE_FLAG_SAFETY_ARMED
    assert hb.system_status == mavlink.MAV_STATE_ACTIVE and hb.custom_mode == 4


def test_auto_mode_needs_takeoff_item_when_on_ground(fleet, ready, gcs):
    items = square_mission()
    items[1] = item(1, 16, *local(10, 0), 20)
    assert gcs.upload(items).type == 0
    assert gcs.command(176, 1, 4).result == 0
    assert gcs.command(400, 1).result == 0
    assert gcs.command(176, 1, 3).result == FAILED
    assert gcs.saw_text("Auto: Missing Takeoff Cmd")


def test_gcs_failsafe_rtl_and_recovery(fleet, ready, gcs):
    assert gcs.set_param("FS_GCS_ENABLE", 1).param_value == 1
    gcs.heartbeats = True
    take_off(fleet, ready, gcs)
    gcs.heartbeats = False
    gcs.heartbeat()
    last = fleet.sim_time
    hb = gcs.recv("HEARTBEAT", 5, lambda m: m.custom_mode == 6)
    assert hb.system_status == mavlink.MAV_STATE_CRITICAL
    assert 4.9 < fleet.sim_time - last < 6.5
    assert gcs.saw_text("GCS Failsafe")
    gcs.heartbeat()
    gcs.recv("STATUSTEXT", 3, lambda m: m.text == "GCS Failsafe Cleared")
    assert ready.mode == 6  # stays in RTL
    gcs.wait_for(lambda: not ready.armed, 120)


def test_gcs_failsafe_ignores_other_systems(fleet, ready, gcs):
    gcs.set_param("FS_GCS_ENABLE", 1)
    other = Gcs(ready.port, sysid=42, fleet=fleet)
    try:
        gcs.heartbeats = True
        take_off(fleet, ready, gcs)
        gcs.heartbeats = False
        gcs.heartbeat()
        start = fleet.sim_time
        while fleet.sim_time - start < 8:
            other.heartbeat()  # not MAV_GCS_SYSID (255): does not count
            other.collect(1)
        assert ready.gcs_failsafe and ready.mode == 6
    finally:
        other.close()


def test_battery_failsafe(fleet, ready, gcs):
    gcs.set_param("BATT_LOW_VOLT", 11.0)
    gcs.set_param("BATT_FS_LOW_ACT", 2)
    take_off(fleet, ready, gcs)
    gcs.request_streams(2)
    gcs.set_param("SIM_BATT_VOLTAGE", 10.8)
    low_at = fleet.sim_time
    assert gcs.recv("SYS_STATUS", 3, lambda m: m.voltage_battery == 10799) is not None
    msg = gcs.recv("STATUSTEXT", 20, lambda m: m.text.startswith("Battery 1 is low"))
    assert 9.8 < fleet.sim_time - low_at < 11.5
    assert msg.text.startswith("Battery 1 is low 10.80V used ")
    assert gcs.recv("STATUSTEXT", 2).text == "Battery Failsafe"
    assert gcs.recv("HEARTBEAT", 3, lambda m: m.custom_mode == 6).system_status == 5
    batt = gcs.recv("BATTERY_STATUS", 3, lambda m: m.charge_state == 2)
    assert batt.voltages[0] == 10799
    gcs.wait_for(lambda: not ready.armed, 120)
    mark = len(gcs.log)
    assert gcs.command(176, 1, 4).result == 0
    assert gcs.command(400, 1).result == FAILED
    gcs.recv("STATUSTEXT", 2, lambda m: m.text == "Arm: Battery failsafe")
    assert gcs.saw_text("Arm: Battery 1 low voltage failsafe", mark)


def test_battery_sag_fault_and_drain(fleet, ready, gcs):
    ready.faults.battery_sag_v = 1.0
    gcs.request_streams(2)
    status = gcs.recv("SYS_STATUS", 3, lambda m: m.voltage_battery < 11700)
    assert 11500 < status.voltage_battery < 11700
    ready.faults.battery_sag_v = 0.0
    take_off(fleet, ready, gcs)
    used = ready.battery.consumed_mah
    gcs.wait_for(lambda: ready.battery.consumed_mah > used + 50, 20)
    assert 25 < ready.battery.current < 40  # hover current as SITL reports (28-34 A)


def fence_square(gcs, half: float = 100.0) -> None:
    corners = [(half, half), (half, -half), (-half, -half), (-half, half)]
    items = [
        item(i, 5001, *local(n, e), p1=4, frame=0, mission_type=1)
        for i, (n, e) in enumerate(corners)
    ]
    assert gcs.upload(items, mission_type=1).type == 0


def test_fence_prearm_when_enabled_without_polygon(fleet, ready, gcs):
    gcs.set_param("FENCE_TYPE", 4)
    gcs.set_param("FENCE_ENABLE", 1)
    assert gcs.command(176, 1, 4).result == 0
    assert gcs.command(400, 1).result == FAILED
    gcs.recv("STATUSTEXT", 2, lambda m: m.text.startswith("Arm:"))
    assert gcs.saw_text("Arm: Fences enabled, but none selected")
    fence_square(gcs)
    assert gcs.command(400, 1).result == 0


def test_fence_breach_rtl_and_guided_targets_outside(fleet, ready, gcs):
    fence_square(gcs)
    gcs.set_param("FENCE_ENABLE", 1)
    take_off(fleet, ready, gcs)
    lat, lon = local(300, 0)
    assert gcs.command_int(192, 6, -1, 1, 0, 0, round(lat * 1e7), round(lon * 1e7), 20).result == 4
    gcs.send(
        mavlink.MAVLink_set_position_target_global_int_message(
            0, 1, 1, 6, 0x0DF8, round(lat * 1e7), round(lon * 1e7), 20, 0, 0, 0, 0, 0, 0, 0, 0
        )
    )
    gcs.collect(2)
    assert ready.nav.target[0] < 1  # ignored: still holding over home
    speeds = []
    for _ in range(90):  # 5 m/s north, re-sent every second as the recorder did
        gcs.send(
            mavlink.MAVLink_set_position_target_local_ned_message(
                0, 1, 1, 1, 0x0DC7, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0
            )
        )
        speeds.append((ready.copter.state.n, ready.pose().vn))
        if gcs.recv("STATUSTEXT", 1, lambda m: m.text == "Polygon fence breached"):
            break
    assert ready.mode == 6
    assert max(v for _, v in speeds) > 4.9
    assert all(v < 0.5 for n, v in speeds if n > 98.5)  # fence avoidance slowed it
    assert ready.pose().lat > local(99, 0)[0]
    gcs.recv("STATUSTEXT", 5, lambda m: m.text == "Fence breach cleared")
    gcs.wait_for(lambda: not ready.armed, 120)


def test_gps_loss_triggers_ekf_failsafe_and_blocks_arming(fleet, ready, gcs):
    take_off(fleet, ready, gcs)
    ready.faults.gps_loss = True
    gcs.recv("STATUSTEXT", 3, lambda m: m.text == "EKF Failsafe: changed to LAND Mode")
    assert ready.mode == 9
    gcs.wait_for(lambda: not ready.armed, 120)
    assert gcs.command(176, 1, 0).result == 0
    assert gcs.command(400, 1).result == FAILED
    gcs.recv("STATUSTEXT", 2, lambda m: m.text.startswith("Arm:"))
    assert gcs.saw_text("Arm: GPS 1: Bad fix")


def test_capacity_failsafes_low_then_critical(fleet, ready, gcs):
    take_off(fleet, ready, gcs, alt=40)
    remaining = 3300 - ready.battery.consumed_mah
    gcs.set_param("BATT_FS_LOW_ACT", 2)  # RTL
    gcs.set_param("BATT_FS_CRT_ACT", 1)  # LAND
    gcs.set_param("BATT_LOW_MAH", remaining - 30)  # remaining-capacity thresholds
    gcs.set_param("BATT_CRT_MAH", remaining - 90)
    assert gcs.recv("STATUSTEXT", 30, lambda m: m.text.startswith("Battery 1 is low"))
    assert gcs.recv("HEARTBEAT", 3, lambda m: m.custom_mode == 6) is not None
    assert gcs.recv("STATUSTEXT", 60, lambda m: m.text.startswith("Battery 1 is critical"))
    assert gcs.recv("HEARTBEAT", 3, lambda m: m.custom_mode == 9) is not None
    assert ready.battery.charge_state == mavlink.MAV_BATTERY_CHARGE_STATE_CRITICAL
    assert "Battery 1 critical capacity failsafe" in ready.prearm_failures()


def test_sim_battery_capacity_lowers_the_voltage(fleet, ready, gcs):
    gcs.set_param("SIM_BATT_CAP_AH", 0.2)  # a tiny pack: 200 mAh
    take_off(fleet, ready, gcs)
    gcs.wait_for(lambda: ready.battery.consumed_mah > 100, 30)
    assert 11.3 < ready.battery.voltage < 11.8  # half used: halfway from 12.6 to 10.5 V


def test_wind_tilts_the_copter_and_costs_current(fleet, ready, gcs):
    take_off(fleet, ready, gcs)
    gcs.collect(3)
    calm = ready.battery.current
    gcs.set_param("SIM_WIND_SPD", 8)
    gcs.set_param("SIM_WIND_DIR", 0)  # from the north
    gcs.collect(2)
    assert ready.battery.current > calm + 3  # 0.4 A per m/s of airspeed
    assert ready.pose().pitch < -0.1  # facing north, leaning into it: nose down
    gcs.request_streams(2)
    wind = gcs.recv("WIND")
    assert abs(wind.speed - 8) < 0.01 and abs(wind.direction) < 0.01
    assert abs(gcs.recv("VFR_HUD").airspeed - 8) < 0.1  # hovering in an 8 m/s wind


def test_gcs_failsafe_can_continue_an_auto_mission(fleet, ready, gcs):
    gcs.set_param("FS_GCS_ENABLE", 1)
    gcs.set_param("FS_OPTIONS", 2)  # continue the mission in AUTO
    assert gcs.upload(square_mission()).type == 0
    gcs.heartbeats = True
    take_off(fleet, ready, gcs)
    assert gcs.command(176, 1, 3).result == 0
    gcs.heartbeats = False
    assert gcs.saw_text("GCS Failsafe", timeout=10)
    assert ready.mode == 3 and ready.auto.current >= 2


def test_gps_time_runs_from_the_start_time(tmp_path):
    # SYSTEM_TIME carries the GPS's UTC: SITL --start-time at boot, advancing with sim time
    start = 1_782_910_800.0  # 2026-07-01 13:00 UTC
    f = SimFleet(count=1, home=HOME, base_port=0, state_dir=tmp_path, start_time=start)
    gcs = Gcs(f.vehicles[0].port, fleet=f)
    try:
        gcs.request_streams()
        msg = gcs.recv("SYSTEM_TIME", timeout=10)
    finally:
        gcs.close()
        f.stop()
    assert msg.time_unix_usec / 1e6 == pytest.approx(start + msg.time_boot_ms / 1000, abs=0.05)
