"""MAV_CMD_PREFLIGHT_REBOOT_SHUTDOWN as SITL answers it (transcript 12): ACK, TCP closed,
parameters and the mission kept, a new boot with SITL's first messages, streams gone."""

from __future__ import annotations

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim import SimFleet
from tests.sim.conftest import HOME, square_mission, take_off
from tests.sim.gcs import Gcs
from tests.sim.replay import SHARED, load, normalize_text

REBOOT = mavlink.MAV_CMD_PREFLIGHT_REBOOT_SHUTDOWN


def reboot_boot_records():
    """What SITL sent after the reconnect, until streams were requested again (12 s)."""
    records = load("12-calibration-rc-reboot.jsonl")
    start = next(
        i for i, r in enumerate(records) if r.type == "_NOTE" and "reconnected" in str(r.fields)
    )
    return [r for r in records[start:] if r.direction == "in" and r.boot_s < 12.0]


def test_reboot_keeps_params_and_mission_and_boots_again(tmp_path):
    fleet = SimFleet(count=1, home=HOME, base_port=0, state_dir=tmp_path)  # SITL's boot timing
    v = fleet.vehicles[0]
    gcs = Gcs(v.port, fleet=fleet)
    try:
        gcs.wait_for(lambda: v.home_set, 25)
        reboot_and_reconnect(fleet, v, gcs)
    finally:
        gcs.close()
        fleet.stop()


def reboot_and_reconnect(fleet, v, gcs):
    assert gcs.upload(square_mission()).type == 0
    gcs.set_param("RTL_ALT", 2500)
    gcs.request_streams(4)
    gcs.recv("SYS_STATUS", 3)
    booted_for = v.sim_time
    ack = gcs.command(REBOOT, 1)
    assert (ack.result, ack.target_system, ack.target_component) == (0, 255, 190)
    with pytest.raises(ConnectionError):  # SITL closes the TCP connection
        gcs.wait_for(lambda: False, 2.0)
    assert v.sim_time < 2.0 < booted_for  # a new boot: time since boot starts again
    again = Gcs(v.port, fleet=fleet)
    try:
        seen = again.collect(11.0)
    finally:
        again.close()
    types = {m.get_type() for m in seen}
    assert types <= {"HEARTBEAT", "STATUSTEXT", "PARAM_VALUE", "TIMESYNC"}  # no streams
    texts = [normalize_text(m.text) for m in seen if m.get_type() == "STATUSTEXT"]
    records = reboot_boot_records()
    want = [normalize_text(r.fields["text"]) for r in records if r.type == "STATUSTEXT"]
    assert texts == want  # "RCInput: decoding UDP (Pulses)", "Calibrating barometer", ...
    params = [m.param_id for m in seen if m.get_type() == "PARAM_VALUE"]
    assert (
        params[:9]
        == [r.fields["param_id"] for r in reboot_boot_records() if r.type == "PARAM_VALUE"][:9]
    )  # ESC_CALIBRATION, COMPASS_*, BARO_ALT_OFFSET
    heartbeats = [m for m in seen if m.get_type() == "HEARTBEAT"]
    assert heartbeats[0].system_status == mavlink.MAV_STATE_BOOT
    assert heartbeats[-1].system_status == mavlink.MAV_STATE_STANDBY
    assert v.params["RTL_ALT"] == 2500
    assert [i.command for i in v.mission_items()] == [16, 22, 16, 16, 16, 20]
    assert v.position() == pytest.approx((27.57, 119.71))


def test_reboot_refused_while_armed(fleet, ready, gcs):
    take_off(fleet, ready, gcs, alt=10)
    assert gcs.command(REBOOT, 1).result == mavlink.MAV_RESULT_FAILED
    assert gcs.command(REBOOT, 0).result == mavlink.MAV_RESULT_UNSUPPORTED
    gcs.collect(1.0)  # still connected
    assert ready.armed


pytestmark = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"reference transcripts not found at {SHARED}"
)
