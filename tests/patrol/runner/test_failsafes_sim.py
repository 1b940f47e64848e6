"""Link outage and low battery mid-patrol, then ``resume``, against the simulator."""

from pathlib import Path

from pymavlink import mavutil
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from patrol.runner.profile import SiteProfile
from patrol.runner.route import waypoint_seqs
from sim import SimFleet
from tests.patrol.simkit import HOME, in_thread, patrol_run, spec, square_plan, wait_until

K = 40.0


def commands_sent_after(tlog: str, marker_command: int) -> list[int]:
    """COMMAND_LONG/INT commands we sent after the first ``marker_command``."""
    log = mavutil.mavlink_connection(tlog)
    seen_marker, after = False, []
    while (m := log.recv_match(type=["COMMAND_LONG", "COMMAND_INT"])) is not None:
        if m.get_srcSystem() != 255:
            continue
        if seen_marker:
            after.append(m.command)
        if m.command == marker_command and m.param2 == 3:  # DO_SET_MODE AUTO
            seen_marker = True
    assert seen_marker
    return after


def test_ten_second_link_outage_mid_mission(tmp_path: Path) -> None:
    plan = square_plan(120)
    run, store, say = patrol_run(tmp_path, K, SiteProfile())  # FS_GCS_TIMEOUT 5 s
    with SimFleet(count=1, home=HOME, speedup=K, base_port=0, state_dir=tmp_path) as fleet:
        sim = fleet.vehicles[0]
        thread, result = in_thread(run.fly, "outage", [spec(sim, plan)])
        wait_until(
            lambda: run.runners and 2 in run.runners[0].reached, timeout=30, describe=say.text
        )
        start = sim.sim_time
        sim.faults.outages = [(start, start + 10.0)]
        thread.join(60)
        assert not sim.armed
    ((outcome,),) = result
    sortie = store.get_patrol(run.patrol_id).sorties[0]
    details = [e.detail for e in sortie.events]
    text = say.text()
    assert "link lost: the aircraft follows its own failsafe; retrying" in details, text
    restored = [d for d in details if d.startswith("link restored after")]
    # (a busy CPU can add short simulator stalls; the outage itself is one of the gaps)
    assert any(9.0 <= float(r.split()[3]) <= 12.0 for r in restored), details
    # the aircraft's own GCS failsafe brought it home; the runner re-synced and reported it
    assert any(d.startswith("re-synced: mode RTL") for d in details), details
    assert any("(by the vehicle)" in d and "RTL" in d for d in details)
    assert outcome.status == "interrupted" and outcome.exit_code == 3
    assert "continue with: patrol resume" in outcome.reason
    # never a blind arm or mode command after the launch: only stream/home requests
    extra = commands_sent_after(sortie.tlog, mavlink.MAV_CMD_DO_SET_MODE)
    assert set(extra) <= {mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, mavlink.MAV_CMD_REQUEST_MESSAGE}


def test_low_battery_rtl_then_resume_completes_the_route(tmp_path: Path) -> None:
    plan = square_plan(120)
    run, store, say = patrol_run(tmp_path, K)
    state = tmp_path / "vehicle"
    with SimFleet(count=1, home=HOME, speedup=K, base_port=0, state_dir=state) as fleet:
        sim = fleet.vehicles[0]
        thread, result = in_thread(run.fly, "battery", [spec(sim, plan)])
        wait_until(
            lambda: run.runners and 3 in run.runners[0].reached, timeout=30, describe=say.text
        )
        with fleet.lock:  # the simulator steps on its own thread
            sim.set_param("SIM_BATT_VOLTAGE", 10.3)  # below BATT_LOW_VOLT 10.5 (profile)
        thread.join(60)
    ((first,),) = result
    assert first.status == "interrupted", say.text()
    sortie = store.get_patrol(run.patrol_id).sorties[0]
    assert any("Battery" in e.detail for e in sortie.events if e.kind == "failsafe")
    reached_before = set(store.reached_seqs(sortie.id))
    assert {3} <= reached_before and not set(waypoint_seqs(plan)) <= reached_before

    # battery swap: the vehicle reboots (same storage, fresh battery) on a new port
    with SimFleet(count=1, home=HOME, speedup=K, base_port=0, state_dir=state) as fleet:
        sim = fleet.vehicles[0]
        with fleet.lock:
            sim.set_param("SIM_BATT_VOLTAGE", 12.6)  # the fresh pack (the sim keeps params)
        again, _, say2 = patrol_run(tmp_path, K)
        (second,) = again.resume(run.patrol_id, [f"tcp:127.0.0.1:{sim.port}"])
        assert not sim.armed
    assert second.status == "completed", say2.text()
    text = say2.text()
    last = max(s for s in reached_before if s in waypoint_seqs(plan))
    assert f"resuming at plan item {last} (last reached {last})" in text
    assert set(waypoint_seqs(plan)) <= set(store.reached_seqs(sortie.id))
    assert store.get_patrol(run.patrol_id).status == "completed"
