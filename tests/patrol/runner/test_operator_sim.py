"""Operator requests while flying (pause, continue, RTL) and the Ctrl-C prompt."""

from pathlib import Path

import pytest

from patrol.geodesy import distance
from patrol.runner import terminal
from sim import SimFleet
from tests.patrol.simkit import HOME, in_thread, patrol_run, spec, square_plan, wait_until

K = 40.0


def test_pause_continue_then_rtl(tmp_path: Path) -> None:
    run, store, say = patrol_run(tmp_path, K)
    with SimFleet(count=1, home=HOME, speedup=K, base_port=0, state_dir=tmp_path) as fleet:
        sim = fleet.vehicles[0]
        thread, result = in_thread(run.fly, "ops", [spec(sim, square_plan(150))])
        wait_until(
            lambda: run.runners and 3 in run.runners[0].reached, timeout=30, describe=say.text
        )
        runner = run.runners[0]
        run.request_all("pause")
        wait_until(lambda: sim.mode == 17, timeout=10)  # BRAKE
        fleet.wait_for(lambda: abs(sim.pose().vn) + abs(sim.pose().ve) < 0.1, sim_timeout=15)
        held = sim.pose()
        fleet.wait_for(lambda: sim.sim_time > held.time_s + 5, sim_timeout=10)
        moved = sim.pose()
        # holding, not flying on: still in BRAKE, at rest, within a few metres (a flying
        # copter would be 50 m on; the simulator may settle back to its stop point)
        assert sim.mode == 17 and abs(moved.vn) + abs(moved.ve) < 0.5
        assert distance(held.lat, held.lon, moved.lat, moved.lon) < 25.0
        run.request_all("continue")
        wait_until(lambda: 4 in runner.reached, timeout=30)
        assert sim.mode == 3, say.text()
        run.request_all("rtl")
        thread.join(60)
        assert not sim.armed
    ((outcome,),) = result
    assert outcome.status == "interrupted" and "operator RTL" in outcome.reason
    sortie = store.get_patrol(run.patrol_id).sorties[0]
    operator = [e.detail for e in sortie.events if e.kind == "operator"]
    assert operator == ["operator: pause done", "operator: continue done", "operator: rtl done"]
    assert not any("(by the vehicle)" in e.detail for e in sortie.events)


class FakeRun:
    def __init__(self) -> None:
        self.actions: list[str] = []
        self.patrol_id = 7

    def request_all(self, action: str) -> None:
        self.actions.append(action)


@pytest.mark.parametrize(
    ("typed", "action", "returned"),
    [("p\n", "pause", "pause"), ("c", "continue", "continue"), ("R", "rtl", "rtl"),
     ("l", "land", "land"), ("", None, ""), ("q", None, "quit")],
)  # fmt: skip
def test_ctrl_c_prompt(monkeypatch: pytest.MonkeyPatch, typed, action, returned) -> None:
    monkeypatch.setattr("builtins.input", lambda _prompt: typed)
    run = FakeRun()
    assert terminal._ctrl_c(run) == returned
    assert run.actions == ([action] if action else [])
