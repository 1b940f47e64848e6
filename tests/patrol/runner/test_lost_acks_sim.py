"""Lost COMMAND_ACKs: a command whose answer was lost is settled by what the vehicle reports,
and an armed aircraft is never abandoned."""

from pathlib import Path

import pytest
from pymavlink import mavutil
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from missions.items import MISSION
from patrol.link import Link
from patrol.runner.profile import SiteProfile
from patrol.runner.route import waypoint_seqs
from patrol.store.patrols import mission_to_json
from patrol.timebase import TimeBase
from patrol.vehicle import Vehicle
from patrol.vehicle.mission_transfer import MissionTransfer, MissionTransferError
from sim import SimFleet
from tests.patrol.simkit import HOME, in_thread, patrol_run, spec, square_plan, wait_until

K = 40.0
LOSSY_SPEEDUP = 20.0  # four vehicles and four sorties on this two-core machine
LAUNCH_COMMANDS = {
    mavlink.MAV_CMD_DO_SET_MODE,  # GUIDED, then AUTO
    mavlink.MAV_CMD_COMPONENT_ARM_DISARM,
    mavlink.MAV_CMD_NAV_TAKEOFF,
}


def commands_and_answers(tlog: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(command, confirmation) we sent and (command, result) the vehicle answered."""
    log = mavutil.mavlink_connection(tlog)
    sent, answers = [], []
    while (m := log.recv_match(type=["COMMAND_LONG", "COMMAND_ACK"])) is not None:
        if m.get_type() == "COMMAND_LONG" and m.get_srcSystem() == 255:
            sent.append((m.command, m.confirmation))
        elif m.get_type() == "COMMAND_ACK" and m.get_srcSystem() != 255:
            answers.append((m.command, m.result))
    return sent, answers


def test_launch_with_the_first_ack_of_every_launch_command_lost(tmp_path: Path) -> None:
    plan = square_plan(60, legs=2)
    run, store, say = patrol_run(tmp_path, K)
    with SimFleet(count=1, home=HOME, speedup=K, base_port=0, state_dir=tmp_path) as fleet:
        sim = fleet.vehicles[0]
        sim.faults.lose_first_ack = set(LAUNCH_COMMANDS)
        (outcome,) = run.fly("lost acks", [spec(sim, plan)])
        assert not sim.armed
    assert outcome.status == "completed", say.text()
    sortie = store.get_patrol(run.patrol_id).sorties[0]
    assert set(waypoint_seqs(plan)) <= {r.seq for r in sortie.reached}
    sent, answers = commands_and_answers(sortie.tlog)
    for command in LAUNCH_COMMANDS:
        assert (command, 1) in sent, f"{command} was never re-sent: {sent}"
    # the re-sent takeoff reached a vehicle already taking off, which refused it: the climb
    # that followed settled it, not that answer
    takeoff = mavlink.MAV_CMD_NAV_TAKEOFF
    assert (takeoff, mavlink.MAV_RESULT_FAILED) in answers, answers
    assert (takeoff, mavlink.MAV_RESULT_ACCEPTED) not in answers
    assert (
        "NAV_TAKEOFF: sent 2 times, answered MAV_RESULT_FAILED: taken, as the vehicle reports "
        "(climbing)" in [e.detail for e in sortie.events]
    )


def test_every_mission_item_reached_lost_progress_follows_mission_current(tmp_path: Path) -> None:
    plan = square_plan(80, legs=3)
    run, store, say = patrol_run(tmp_path, K)
    with SimFleet(count=1, home=HOME, speedup=K, base_port=0, state_dir=tmp_path) as fleet:
        sim = fleet.vehicles[0]
        sim.faults.lose_messages = {"MISSION_ITEM_REACHED"}
        (outcome,) = run.fly("no reached", [spec(sim, plan)])
    assert outcome.status == "completed", say.text()
    sortie = store.get_patrol(run.patrol_id).sorties[0]
    assert set(waypoint_seqs(plan)) <= {r.seq for r in sortie.reached if r.inferred}
    lines = [line for line in say.lines if "| flown " in line]
    assert "waypoints 3/3" in lines[-1] and " left 0 m " in lines[-1].replace(",", ""), lines[-1]


def test_operator_commands_with_their_first_ack_lost(tmp_path: Path) -> None:
    run, store, say = patrol_run(tmp_path, K)
    with SimFleet(count=1, home=HOME, speedup=K, base_port=0, state_dir=tmp_path) as fleet:
        sim = fleet.vehicles[0]
        run.profile.pause_method = "PAUSE"  # DO_PAUSE_CONTINUE: settled by MISSION_CURRENT
        thread, result = in_thread(run.fly, "ops", [spec(sim, square_plan(150))])
        wait_until(lambda: run.runners and 3 in run.runners[0].reached, describe=say.text)
        sim.faults.lose_first_ack = {mavlink.MAV_CMD_DO_PAUSE_CONTINUE, mavlink.MAV_CMD_DO_SET_MODE}
        run.request_all("pause")
        wait_until(lambda: sim.nav.paused, timeout=10, describe=say.text)
        run.request_all("continue")
        wait_until(lambda: 4 in run.runners[0].reached, describe=say.text)
        run.request_all("rtl")
        thread.join(60)
        assert not sim.armed
    ((outcome,),) = result
    assert outcome.status == "interrupted" and "operator RTL" in outcome.reason, say.text()
    sortie = store.get_patrol(run.patrol_id).sorties[0]
    operator = [e.detail for e in sortie.events if e.kind == "operator"]
    assert operator == ["operator: pause done", "operator: continue done", "operator: rtl done"]
    sent, _answers = commands_and_answers(sortie.tlog)
    assert (mavlink.MAV_CMD_DO_PAUSE_CONTINUE, 1) in sent  # re-sent, and still settled


def test_a_launch_that_fails_in_the_air_is_brought_down_and_watched(tmp_path: Path) -> None:
    run, store, say = patrol_run(tmp_path, K)
    with SimFleet(count=1, home=HOME, speedup=K, base_port=0, state_dir=tmp_path) as fleet:
        sim = fleet.vehicles[0]
        thread, result = in_thread(run.fly, "stalled climb", [spec(sim, square_plan(60))])
        # a pilot's switch stops the climb half-way: the launch never reaches its altitude
        wait_until(lambda: sim.pose().alt_rel > 5.0, timeout=60, describe=say.text)
        with fleet.lock:
            assert sim.set_mode(5)  # LOITER
        wait_until(lambda: "launch failed" in say.text(), timeout=30, describe=say.text)
        assert sim.armed  # the runner has not let go of an armed aircraft
        thread.join(60)
        assert not sim.armed and not thread.is_alive()
    ((outcome,),) = result
    assert outcome.status == "failed" and outcome.exit_code == 4, say.text()
    assert outcome.reason.startswith("launch failed: the vehicle switched to LOITER during")
    assert outcome.reason.endswith("landed and disarmed")
    text = say.text()
    assert "LAND commanded after the failed launch" in text
    sortie = store.get_patrol(run.patrol_id).sorties[0]
    assert sortie.status == "failed" and sortie.ended_at is not None
    modes = [m.param2 for m in _sent(sortie.tlog, mavlink.MAV_CMD_DO_SET_MODE)]
    assert modes[-1] == 9  # LAND, after the failure


def test_a_failsafe_during_the_climb_is_left_to_bring_the_aircraft_home(tmp_path: Path) -> None:
    run, store, say = patrol_run(tmp_path, K, SiteProfile())  # FS_GCS_TIMEOUT 5 s
    with SimFleet(count=1, home=HOME, speedup=K, base_port=0, state_dir=tmp_path) as fleet:
        sim = fleet.vehicles[0]
        thread, result = in_thread(run.fly, "failsafe", [spec(sim, square_plan(60))])
        wait_until(lambda: sim.pose().alt_rel > 3.0, timeout=60, describe=say.text)
        sim.faults.outages = [(sim.sim_time, sim.sim_time + 8.0)]  # the ground link goes quiet
        thread.join(60)
        assert not sim.armed and not thread.is_alive()
    ((outcome,),) = result
    assert outcome.status == "failed" and outcome.exit_code == 4, say.text()
    # (its "GCS Failsafe" text was lost with the link: the mode change tells)
    assert outcome.reason.startswith("launch failed: the vehicle switched to RTL during the climb")
    assert "the vehicle comes down by itself (RTL)" in say.text()
    sortie = store.get_patrol(run.patrol_id).sorties[0]
    modes = [m.param2 for m in _sent(sortie.tlog, mavlink.MAV_CMD_DO_SET_MODE)]
    assert modes == [4], modes  # GUIDED only: the vehicle's own RTL was never overridden


def _sent(tlog: str, command: int) -> list:
    log = mavutil.mavlink_connection(tlog)
    out = []
    while (m := log.recv_match(type="COMMAND_LONG")) is not None:
        if m.get_srcSystem() == 255 and m.command == command:
            out.append(m)
    return out


@pytest.mark.parametrize("loss", [0.10, 0.20])
def test_four_sorties_at_once_over_a_lossy_slow_link(tmp_path: Path, loss: float) -> None:
    speedup = LOSSY_SPEEDUP
    run, store, say = patrol_run(tmp_path, speedup)
    with SimFleet(count=4, home=HOME, speedup=speedup, base_port=0, state_dir=tmp_path) as fleet:
        for vehicle in fleet.vehicles:
            vehicle.faults.packet_loss = loss
            vehicle.faults.latency_s = 0.100
        plans = [square_plan(60 + 10 * n, alt=20 + 5 * n, legs=3) for n in range(4)]
        outcomes = run.fly(
            "lossy", [spec(v, p) for v, p in zip(fleet.vehicles, plans, strict=True)]
        )
        assert not any(v.armed for v in fleet.vehicles)
    assert [o.status for o in outcomes] == ["completed"] * 4, say.text()
    for sortie, plan in zip(store.get_patrol(run.patrol_id).sorties, plans, strict=True):
        assert set(waypoint_seqs(plan)) <= {r.seq for r in sortie.reached}


def test_reattach_watches_even_when_the_mission_cannot_be_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = square_plan(80, legs=3)
    run, store, say = patrol_run(tmp_path, K)
    patrol = store.create_patrol("reattach", [("unused", "a.plan", plan)])
    sortie_id = patrol.sorties[0].id
    with SimFleet(count=1, home=HOME, speedup=K, base_port=0, state_dir=tmp_path) as fleet:
        sim = fleet.vehicles[0]
        url = f"tcp:127.0.0.1:{sim.port}"
        # a controller that launched the sortie, then died (its link closed)
        with Link(url, timebase=TimeBase(K)) as link:
            assert link.wait_vehicle(10) == 1
            vehicle = Vehicle(link, 1)
            vehicle.telemetry.request_streams()
            vehicle.missions.upload_verified(plan.items, MISSION)
            wait_until(lambda: vehicle.telemetry.state.ekf_healthy, timeout=30)
            vehicle.actions.set_mode("GUIDED")
            vehicle.actions.arm()
            vehicle.actions.takeoff(20)
            assert vehicle.actions.wait_altitude(18, 60)
            vehicle.actions.start_mission()
        store.update_sortie(
            sortie_id, status="flying", sysid=1, connect=url,
            flying=mission_to_json(plan), seq_map=list(range(len(plan.items))),
        )  # fmt: skip

        def unreadable(*_args, **_kwargs):
            raise MissionTransferError("mission download failed after 3 tries: no answer")

        monkeypatch.setattr(MissionTransfer, "download", unreadable)
        (outcome,) = run.resume(patrol.id)
        assert not sim.armed
    assert outcome.status == "completed", say.text()
    assert "re-attach: the mission could not be read back" in say.text()
