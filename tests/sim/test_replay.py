"""Fidelity: replay the recorded ArduCopter SITL transcripts (../shared/reference/sitl) against
the simulator; its answers must match in kind and order (ACK results, mission protocol, mode
numbers, STATUSTEXT wording), and the ARMED transitions must match."""

from __future__ import annotations

import pytest

from sim import SimFleet
from tests.sim.conftest import HOME
from tests.sim.gcs import Gcs
from tests.sim.replay import SHARED, leg_times, load, recorded_events, recorded_texts, replay

pytestmark = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"reference transcripts not found at {SHARED}"
)

# Known, explained differences: (scenario, recorded event the simulator does not produce).
NOT_MODELLED = {
    # AC_Avoid backs the copter away from the fence margin right after the breach, so SITL
    # is inside again 0.9 s later; the simulator has no avoidance and clears the breach only
    # when the manual-recovery window ends (the second "cleared" in the transcript).
    "04-fence-rally.jsonl": [("TEXT", "Fence breach cleared")],
}

SCENARIOS = [
    "01-boot.jsonl",
    "02-prearm-early-arm.jsonl",
    "03-mission-upload-download.jsonl",
    "04-fence-rally.jsonl",
    "05-params.jsonl",
    "06-flight-auto.jsonl",
    "07-modes-and-commands.jsonl",
    "08-gcs-failsafe.jsonl",
    "09-battery-failsafe.jsonl",
    "10-takeoff-land-guided.jsonl",
]


def run(name, tmp_path):
    records = load(name)
    fleet = SimFleet(count=1, home=HOME, base_port=0, state_dir=tmp_path)
    gcs = Gcs(fleet.vehicles[0].port)  # connected before boot, as the recorder was
    try:
        got = replay(records, gcs, fleet)  # lock-step: deterministic
    finally:
        fleet.stop()
    return records, got


@pytest.mark.parametrize("name", SCENARIOS)
def test_replay_matches_sitl(name, tmp_path):
    records, got = run(name, tmp_path)
    want = recorded_events(records)
    expected = list(want.events)
    for event in NOT_MODELLED.get(name, []):
        expected.remove(event)  # the first occurrence
    assert got.events == expected
    assert got.armed_changes == want.armed_changes


def test_replay_param_replies(tmp_path):
    """05: reads by name/index, sets (own type, index 65535, INT8 truncation, lower-case
    names), unknown names unanswered, and the head of PARAM_REQUEST_LIST in index order."""
    name = "05-params.jsonl"
    records = load(name)
    boot_only = ("BARO", "INS_", "EK3_SRC", "STAT_", "MIS_TOTAL")

    def keep(f):
        return not f["param_id"].startswith(boot_only) and (
            f["param_index"] == 65535 or f["param_index"] < 50
        )

    want = [
        (r.fields["param_id"], r.fields["param_value"], r.fields["param_type"],
         r.fields["param_index"])
        for r in records
        if r.direction == "in" and r.type == "PARAM_VALUE" and keep(r.fields)
    ]  # fmt: skip
    fleet = SimFleet(count=1, home=HOME, base_port=0, state_dir=tmp_path)
    gcs = Gcs(fleet.vehicles[0].port)
    try:
        replay(records, gcs, fleet)
    finally:
        fleet.stop()
    got = [
        (m.param_id, m.param_value, m.param_type, m.param_index)
        for m in gcs.log
        if m.get_type() == "PARAM_VALUE" and keep(m.to_dict())
    ]
    assert got == want


def test_auto_mission_leg_times_close_to_sitl(tmp_path):
    """06: each leg (WPNAV_SPEED 10 m/s, WPNAV_ACCEL 2.5 m/s², WPNAV_JERK 1 m/s³, 2 m radius;
    corners of 90°, 90°, 34°, 70° and 76° flown through; LOITER_TIME 10 s) takes within 5 % of
    SITL's time; the disarm follows touchdown by ~2 s."""
    records, got = run("06-flight-auto.jsonl", tmp_path)
    sitl = leg_times(recorded_texts(records))
    sim = leg_times(got.texts)
    assert set(sim) == set(sitl) == {2, 3, 4, 5, 6, 7, "disarm_after_touchdown"}
    for leg in (2, 3, 4, 5, 6, 7):
        assert abs(sim[leg] - sitl[leg]) <= 0.05 * sitl[leg], (leg, sim[leg], sitl[leg])
    assert abs(sim["disarm_after_touchdown"] - sitl["disarm_after_touchdown"]) < 0.3
