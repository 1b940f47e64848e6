"""The agent's zone logic against a scripted position source and a hand-moved clock."""

import json
import os
from datetime import UTC, datetime

import pytest

from audio.agent import BroadcastAgent
from audio.plan import PlanError
from audio.position import Position
from audio.sinks import DirSink, NullSink
from audio.wav import duration_s
from tests.audio.plans import ManualClock, bundle, make_messages, offset, square

TICK = 0.1
SHANGHAI_9AM = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai


class ScriptedPosition:
    def __init__(self) -> None:
        self.pos: Position | None = None
        self._ms = 0

    def move(self, north_m: float, east_m: float) -> None:
        self._ms += int(TICK * 1000)
        lat, lon = offset(north_m, east_m)
        self.pos = Position(lat, lon, 30.0, self._ms)

    def latest(self) -> Position | None:
        return self.pos

    def close(self) -> None:
        pass


def spec(**overrides):  # two 300 m squares side by side, A west of B
    s = {
        "name": "test",
        "timezone": "Asia/Shanghai",
        "hysteresis_m": 15,
        "zones": [
            {"name": "A", "geometry": square(0, 0, 300), "messages": [1, 2], "gap_s": 1.0},
            {"name": "B", "geometry": square(0, 300, 300), "messages": [3], "gap_s": 0.5},
        ],
    }
    s.update(overrides)
    return s


@pytest.fixture
def messages(tmp_path):
    return make_messages(tmp_path, {1: 3.0, 2: 5.0, 3: 2.0, 4: 1.5})


def make_agent(tmp_path, plan_path, clock, sink=None):
    source = ScriptedPosition()
    agent = BroadcastAgent(
        plan_path, source, sink or NullSink(clock), tmp_path / "plays.jsonl", tmp_path / "cache",
        clock,
    )  # fmt: skip
    return agent, source


def fly(agent, source, clock, path, speed=10.0):
    """Fly straight legs between (north, east) points at ``speed`` m/s, one step per tick."""
    (n0, e0), *rest = path
    for n1, e1 in rest:
        dist = ((n1 - n0) ** 2 + (e1 - e0) ** 2) ** 0.5
        steps = max(1, round(dist / (speed * TICK)))
        for i in range(1, steps + 1):
            source.move(n0 + (n1 - n0) * i / steps, e0 + (e1 - e0) * i / steps)
            agent.step()
            clock.sleep(TICK)
        n0, e0 = n1, e1


def plays(tmp_path):
    path = tmp_path / "plays.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def east_m(record, key="start_position"):
    lon = record[key]["lon"]
    return (lon - offset(0, 0)[1]) / (offset(0, 1)[1] - offset(0, 0)[1])


def test_plays_start_and_stop_at_zone_borders(tmp_path, messages):
    clock = ManualClock(SHANGHAI_9AM)
    agent, source = make_agent(tmp_path, bundle(tmp_path, spec(), messages), clock)
    fly(agent, source, clock, [(150, -200), (150, 800)], speed=8.0)
    log = plays(tmp_path)
    in_a = [r for r in log if r["zone"] == "A"]
    in_b = [r for r in log if r["zone"] == "B"]
    assert in_a and in_b and all(r["zone"] in "AB" for r in log)
    # A is entered 15 m inside its west border, B 15 m inside its (shared) border.
    assert 14 <= east_m(in_a[0]) <= 17
    assert 314 <= east_m(in_b[0]) <= 317
    # A's playlist alternates 1, 2, 1, ... with the gap; the last play is cut at A's border.
    assert [r["message_id"] for r in in_a] == [1, 2] * (len(in_a) // 2) + [1] * (len(in_a) % 2)
    assert all(r["finished"] for r in in_a[:-1])
    assert in_a[-1]["reason"] == "left-zone" and not in_a[-1]["finished"]
    assert 314 <= east_m(in_a[-1], "end_position") <= 317
    # B is left 15 m past its east border.
    assert in_b[-1]["reason"] in ("left-zone", "completed")
    last_end = max(east_m(r, "end_position") for r in in_b)
    assert last_end <= 617
    for r in log:
        if r["finished"]:
            start = datetime.fromisoformat(r["start"])
            end = datetime.fromisoformat(r["end"])
            assert (end - start).total_seconds() == pytest.approx(
                messages[r["message_id"]].duration_s, abs=TICK + 1e-6
            )


def test_no_chatter_on_a_border(tmp_path, messages):
    clock = ManualClock(SHANGHAI_9AM)
    agent, source = make_agent(tmp_path, bundle(tmp_path, spec(), messages), clock)
    fly(agent, source, clock, [(150, 250), (150, 292)])  # settle in A
    wiggle = [(150, 292), (150, 308), (150, 292)] * 10  # +-8 m around the shared border
    fly(agent, source, clock, wiggle, speed=5.0)
    assert {r["zone"] for r in plays(tmp_path)} == {"A"}
    assert all(r["reason"] != "left-zone" for r in plays(tmp_path))


def test_count_plays_the_playlist_that_many_times_per_visit(tmp_path, messages):
    s = spec()
    s["zones"][0].update(loop=False, count=1)
    clock = ManualClock(SHANGHAI_9AM)
    agent, source = make_agent(tmp_path, bundle(tmp_path, s, messages), clock)
    fly(agent, source, clock, [(150, 100), (150, 110), (150, 100)], speed=0.05)  # hover ~40 s
    assert [r["message_id"] for r in plays(tmp_path)] == [1, 2]


def test_quiet_hours_silence_and_resume(tmp_path, messages):
    # Starts 08:59:52 local; message 2 (5 s) starts at 08:59:56 and is cut at 09:00.
    clock = ManualClock(datetime(2026, 7, 1, 0, 59, 52, tzinfo=UTC))
    path = bundle(tmp_path, spec(quiet_hours=["09:00-09:01"]), messages)
    agent, source = make_agent(tmp_path, path, clock)
    fly(agent, source, clock, [(150, 100), (150, 110), (150, 100)], speed=0.2)  # ~100 s
    log = plays(tmp_path)
    cut = [r for r in log if r["reason"] == "quiet-hours"]
    assert len(cut) == 1 and not cut[0]["finished"] and cut[0]["message_id"] == 2
    end = datetime.fromisoformat(cut[0]["end"])
    assert abs((end - datetime(2026, 7, 1, 1, 0, tzinfo=UTC)).total_seconds()) <= TICK
    resumed = log[log.index(cut[0]) + 1]
    assert resumed["message_id"] == 2  # the cut message plays again
    start = datetime.fromisoformat(resumed["start"])
    assert 0 <= (start - datetime(2026, 7, 1, 1, 1, tzinfo=UTC)).total_seconds() <= TICK


def test_priority_interrupts_and_repeats(tmp_path, messages):
    s = spec(priority_messages=[{"id": "flood", "message": 4, "zones": ["B"], "repeat": 2}])
    clock = ManualClock(SHANGHAI_9AM)
    agent, source = make_agent(tmp_path, bundle(tmp_path, s, messages), clock)
    fly(agent, source, clock, [(150, 100), (150, 500), (150, 550)], speed=10)
    log = plays(tmp_path)
    in_b = [r for r in log if r["zone"] == "B"]
    assert [r["message_id"] for r in in_b[:3]] == [4, 4, 3]
    assert [r["priority_id"] for r in in_b[:2]] == ["flood", "flood"]
    gap = datetime.fromisoformat(in_b[1]["start"]) - datetime.fromisoformat(in_b[0]["end"])
    assert gap.total_seconds() == pytest.approx(0.5, abs=TICK + 1e-6)  # B's gap_s
    assert all(r["priority_id"] is None for r in log if r["zone"] == "A")


def test_priority_from_a_reloaded_plan_interrupts_the_playlist(tmp_path, messages):
    clock = ManualClock(SHANGHAI_9AM)
    plan_path = bundle(tmp_path, spec(), messages)
    agent, source = make_agent(tmp_path, plan_path, clock)
    fly(agent, source, clock, [(150, 100), (150, 106)], speed=1)  # 6 s: inside message 2
    s = spec(priority_messages=[{"id": "fire", "message": 4, "override_quiet": True}])
    bundle(tmp_path, s, messages)
    os.utime(plan_path, ns=(1, 1))  # make the change visible even within one mtime tick
    fly(agent, source, clock, [(150, 106), (150, 120)], speed=1)
    log = plays(tmp_path)
    reloaded = [r for r in log if r["reason"] == "plan-reloaded"]
    assert len(reloaded) == 1
    after = log[log.index(reloaded[0]) + 1 :]
    assert after[0]["priority_id"] == "fire" and after[0]["finished"]
    assert all(r["priority_id"] is None for r in after[1:])  # played once, not again


def test_a_reload_does_not_start_a_priority_message_s_repeats_again(tmp_path, messages):
    clock = ManualClock(SHANGHAI_9AM)
    s = spec(priority_messages=[{"id": "fire", "message": 4, "repeat": 3}])
    plan_path = bundle(tmp_path, s, messages)
    agent, source = make_agent(tmp_path, plan_path, clock)
    fly(agent, source, clock, [(150, 100), (150, 102)], speed=1)  # one 1.5 s play, then the gap
    assert [r["priority_id"] for r in plays(tmp_path)] == ["fire"]
    bundle(tmp_path, {**s, "name": "renamed"}, messages)
    os.utime(plan_path, ns=(1, 1))
    fly(agent, source, clock, [(150, 102), (150, 130)], speed=1)
    fire = [r for r in plays(tmp_path) if r["priority_id"] == "fire"]
    assert len(fire) == 3 and all(r["finished"] for r in fire)
    assert agent.plan.name == "renamed"


def test_bad_new_plan_keeps_the_old_one(tmp_path, messages):
    clock = ManualClock(SHANGHAI_9AM)
    plan_path = bundle(tmp_path, spec(), messages)
    agent, source = make_agent(tmp_path, plan_path, clock)
    fly(agent, source, clock, [(150, 100), (150, 102)], speed=1)
    plan_path.write_bytes(b"half a zip")
    fly(agent, source, clock, [(150, 102), (150, 120)], speed=1)
    assert agent.plan is not None and agent.plan.name == "test"
    assert all(r["reason"] != "plan-reloaded" for r in plays(tmp_path))
    assert len(plays(tmp_path)) >= 3


def test_lost_position_stops_playing(tmp_path, messages):
    clock = ManualClock(SHANGHAI_9AM)
    agent, source = make_agent(tmp_path, bundle(tmp_path, spec(), messages), clock)
    fly(agent, source, clock, [(150, 100), (150, 101)], speed=1)
    for _ in range(80):  # 8 s without a new fix
        agent.step()
        clock.sleep(TICK)
    assert plays(tmp_path)[-1]["reason"] == "position-lost"


def test_dir_sink_writes_what_was_heard(tmp_path, messages):
    clock = ManualClock(SHANGHAI_9AM)
    out = tmp_path / "heard"
    agent, source = make_agent(
        tmp_path, bundle(tmp_path, spec(), messages), clock, DirSink(out, clock)
    )
    fly(agent, source, clock, [(150, 250), (150, 400)], speed=10)
    files = sorted(out.glob("*.wav"))
    log = plays(tmp_path)
    assert len(files) == len(log)
    for f, r in zip(files, log, strict=True):
        assert duration_s(f) == pytest.approx(r["heard_s"], abs=0.01)
        assert f.name.split("-", 1)[1].startswith(r["zone"])


def test_agent_refuses_a_missing_plan(tmp_path):
    with pytest.raises(PlanError, match="no usable broadcast plan"):
        make_agent(tmp_path, tmp_path / "missing.zip", ManualClock())
