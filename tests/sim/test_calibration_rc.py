"""Transcript 12 up to its reboot, replayed lock-step: RC_CHANNELS and overrides, the
calibrations (ACKs, texts, PARAM_VALUEs, ACCELCAL_VEHICLE_POS requests, SYS_STATUS bits),
the compass calibration and the legacy MISSION_REQUEST download answer as SITL did."""

from __future__ import annotations

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim import SimFleet
from tests.sim.conftest import HOME
from tests.sim.gcs import Gcs
from tests.sim.replay import SHARED, Record, load, recorded_events, replay

pytestmark = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"reference transcripts not found at {SHARED}"
)
NAME = "12-calibration-rc-reboot.jsonl"
# SITL's first boot in 12 starts with these; the simulator's first boot follows 01, which does
# not show them (a reboot's boot does: test_reboot.py).
FIRST_BOOT_ONLY_IN_12 = [
    ("TEXT", "RCInput: decoding UDP (Pulses)"),
    ("TEXT", "Calibrating barometer"),
]
# The 30 s pre-arm report runs on its own cycle; SITL's tick happened to fall 1.2 s after the
# failed calibration, the simulator's falls 4 s after it (AP_Arming's report-on-change rule).
REPORT_CYCLE = ("TEXT", "PreArm: 3D Accel calibration needed")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    records = load(NAME)
    cut = next(i for i, r in enumerate(records) if r.type == "_NOTE" and "closed" in r.fields)
    before = records[:cut]
    fleet = SimFleet(count=1, home=HOME, base_port=0, state_dir=tmp_path_factory.mktemp("sim"))
    gcs = Gcs(fleet.vehicles[0].port)  # connected before boot, as the recorder was
    timed: list = []
    try:
        got = replay(before, gcs, fleet, tail_s=0.0, timed=timed)
    finally:
        fleet.stop()
    return before, got, timed


def recorded(records: list[Record], mtype: str, start: float = 0.0, end: float = 1e9):
    return [
        r for r in records if r.direction == "in" and r.type == mtype and start <= r.boot_s < end
    ]


def simulated(timed, mtype: str, start: float = 0.0, end: float = 1e9):
    return [(t, m) for t, m in timed if m.get_type() == mtype and start <= t < end]


def test_acks_texts_and_mission_items_match_sitl(run):
    records, got, _ = run
    want = list(recorded_events(records).events)
    for event in FIRST_BOOT_ONLY_IN_12:
        want.remove(event)
    assert REPORT_CYCLE in got.events
    assert [e for e in got.events if e != REPORT_CYCLE] == [e for e in want if e != REPORT_CYCLE]
    failed_at = next(t for t, text in got.texts if text == "Calibration FAILED")
    report_at = next(t for t, text in got.texts if text == REPORT_CYCLE[1])
    assert 0 < report_at - failed_at <= 5.0


def test_rc_channels_report_sitl_receiver_and_overrides(run):
    records, _, timed = run
    first = recorded(records, "RC_CHANNELS")[0].fields
    sim = simulated(timed, "RC_CHANNELS")
    assert sim, "RC_CHANNELS requested at 45 s must be streamed"
    fields = {k: getattr(sim[0][1], k) for k in first if k != "time_boot_ms"}
    assert fields == {k: v for k, v in first.items() if k != "time_boot_ms"}  # chancount 8, rssi
    assert 45.3 <= sim[0][0] <= 46.6  # from ~0.5-1.5 s after the request, at 2 Hz
    rate = len(simulated(timed, "RC_CHANNELS", 46, 56)) / 10.0
    assert rate == pytest.approx(2.0, abs=0.1)

    def chan3(start: float, end: float) -> set[int]:
        return {m.chan3_raw for _, m in simulated(timed, "RC_CHANNELS", start, end)}

    assert chan3(49.6, 55.9) == {1700}  # held, then 3 s (RC_OVERRIDE_TIME) after the last
    assert chan3(56.6, 59.6) == {1000}  # fallen back 3.0-3.5 s after the last override
    assert chan3(59.7, 60.2) == {1300}  # one override shows in the next report
    assert chan3(61.3, 63.0) == {1000}  # chan3 = 0 released it
    servo = simulated(timed, "SERVO_OUTPUT_RAW", 49.6, 55.9)
    assert {(m.servo1_raw, m.servo3_raw, m.servo5_raw) for _, m in servo} == {(1000, 1000, 0)}


def test_calibration_param_values_follow_sitl(run):
    """The same PARAM_VALUEs, in the same order, around each calibration's ACK."""
    records, _, timed = run

    def sitl(start, end):
        out = []
        for r in records:
            if r.direction == "in" and start <= r.boot_s < end:
                if r.type == "PARAM_VALUE" and r.fields["param_id"] != "STAT_RUNTIME":
                    out.append(r.fields["param_id"])
                elif r.type == "COMMAND_ACK":
                    out.append(f"ACK {r.fields['command']} {r.fields['result']}")
        return out

    def sim(start, end):
        out = []
        for t, m in timed:
            if start <= t < end:
                if m.get_type() == "PARAM_VALUE" and m.param_id != "STAT_RUNTIME":
                    out.append(m.param_id)
                elif m.get_type() == "COMMAND_ACK":
                    out.append(f"ACK {m.command} {m.result}")
        return out

    assert sim(63.0, 130.0) == sitl(63.0, 130.0)


def test_six_position_accel_cal_requests_positions_and_fails_unrotated(run):
    records, _, timed = run

    def requests(items):
        return [(t, int(f["param1"])) for t, f in items]

    want = requests(
        (r.boot_s, r.fields) for r in recorded(records, "COMMAND_LONG", 80, 160)
        if r.fields["command"] == mavlink.MAV_CMD_ACCELCAL_VEHICLE_POS
    )  # fmt: skip
    got = requests(
        (t, {"param1": m.param1}) for t, m in simulated(timed, "COMMAND_LONG", 80, 160)
        if m.command == mavlink.MAV_CMD_ACCELCAL_VEHICLE_POS
        and (m.target_system, m.target_component) == (0, 0)
    )  # fmt: skip

    def runs(requests):  # the positions asked for, each once per run of repeats
        return [p for i, (_, p) in enumerate(requests) if i == 0 or requests[i - 1][1] != p]

    failed = mavlink.ACCELCAL_VEHICLE_POS_FAILED
    assert runs(got) == runs(want) == [1, 2, failed]
    assert abs(got[0][0] - want[0][0]) < 0.1  # the first 0.57 s after the command
    assert abs(len(got) - len(want)) <= 2  # one every ~1.1 s, without a timeout
    assert {p for _, p in got if _ > 119} == {mavlink.ACCELCAL_VEHICLE_POS_FAILED}
    place = [text for _, text in run[1].texts if text.startswith("Place vehicle")]
    assert place == ["Place vehicle level and press any key."]  # once, not per position


def test_sys_status_bits_during_and_after_the_accel_cal(run):
    _, _, timed = run
    waiting = simulated(timed, "SYS_STATUS", 82.0, 115.0)
    assert waiting and all(m.onboard_control_sensors_enabled & 0x3 == 0 for _, m in waiting)
    assert all(m.onboard_control_sensors_health & 0x3 == 0 for _, m in waiting)
    failed = simulated(timed, "SYS_STATUS", 119.0, 166.0)
    lost = mavlink.MAV_SYS_STATUS_PREARM_CHECK | mavlink.MAV_SYS_STATUS_AHRS
    assert failed and all(m.onboard_control_sensors_health & lost == 0 for _, m in failed)
    assert all(m.onboard_control_sensors_enabled & 0x3 == 0x3 for _, m in failed)
    after_simple = simulated(timed, "SYS_STATUS", 75.3, 76.0)  # the GPS data went stale
    assert after_simple and all(
        not m.onboard_control_sensors_health & mavlink.MAV_SYS_STATUS_SENSOR_GPS
        for _, m in after_simple
    )
    assert simulated(timed, "SYS_STATUS", 77.5, 79.5)[0][1].onboard_control_sensors_health & (
        mavlink.MAV_SYS_STATUS_SENSOR_GPS
    )


def test_mag_cal_progress_per_compass_until_cancelled(run):
    records, _, timed = run
    want = recorded(records, "MAG_CAL_PROGRESS")[0].fields
    progress = simulated(timed, "MAG_CAL_PROGRESS")
    assert {m.compass_id for _, m in progress} == {0, 1, 2}
    m = progress[0][1]
    fields = {k: getattr(m, k) for k in want if k != "compass_id"}
    assert fields == {k: v for k, v in want.items() if k != "compass_id"}
    assert 127.9 <= progress[0][0] <= 129.0  # from the next EXTRA3 tick (1 Hz here)
    assert len(simulated(timed, "MAG_CAL_PROGRESS", 130, 157)) == 3 * 27  # 3 a second
    assert not simulated(timed, "MAG_CAL_PROGRESS", 157.7, 170)  # cancelled at 157.54
    assert not simulated(timed, "MAG_CAL_REPORT")


def test_legacy_mission_download_items_as_sitl(run):
    records, _, timed = run
    want = [r.fields for r in recorded(records, "MISSION_ITEM")]
    got = [m for _, m in simulated(timed, "MISSION_ITEM")]
    assert [m.seq for m in got] == [f["seq"] for f in want] == [0, 1, 2, 3, 4]
    for m, f in zip(got[1:], want[1:], strict=True):  # seq 0: the simulator's home is 200 m
        for key in ("frame", "command", "current", "autocontinue", "param1", "param2",
                    "param3", "param4", "x", "y", "z", "mission_type"):  # fmt: skip
            assert getattr(m, key) == f[key], (m.seq, key)
    assert (got[0].x, got[0].y, got[0].frame) == (want[0]["x"], want[0]["y"], want[0]["frame"])
    assert want[2]["param2"] == 0.0  # sent as 2: the acceptance radius is not stored
