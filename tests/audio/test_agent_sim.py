"""The agent flown through zones on the built-in simulator (speedup 10): it reads the aircraft's
position over its own MAVLink link (SERIAL1) while the test flies the copter over SERIAL0."""

import itertools
import json
import statistics
import threading
from datetime import UTC, datetime

import pytest

from audio.agent import BroadcastAgent
from audio.clock import AgentClock
from audio.position import MavlinkPositionSource, Position
from audio.sinks import DirSink
from audio.wav import duration_s
from sim import SimFleet
from tests.audio.flight import GroundStation
from tests.audio.plans import bundle, make_messages, north_east, offset, rect

SPEEDUP = 10.0  # the agent's wall-clock overhead per play is multiplied by this
ALT = 30.0
HYSTERESIS = 15.0
A_SOUTH, A_NORTH = 60.0, 200.0
B_SOUTH, B_NORTH = 240.0, 380.0
EDGE_M = 1.0  # the test's flat-earth north against the agent's projection
NO_RTC = datetime(1970, 1, 1, tzinfo=UTC)


def plan_spec(quiet_hours=()):
    return {
        "name": "sim",
        "timezone": "Asia/Shanghai",
        "quiet_hours": list(quiet_hours),
        "hysteresis_m": HYSTERESIS,
        "zones": [
            {"name": "A", "geometry": rect(A_SOUTH, -150, A_NORTH - A_SOUTH, 300),
             "messages": [1, 2], "gap_s": 1.0},
            {"name": "B", "geometry": rect(B_SOUTH, -150, B_NORTH - B_SOUTH, 300),
             "messages": [3], "gap_s": 0.5, "volume": 0.5},
        ],
    }  # fmt: skip


class SeenPositions:
    """The agent's position source, recording each new fix the agent was given, so that the
    test can check its decisions against what it knew rather than against wall-clock timing
    (at speedup 10 a 100 ms stall of a shared CPU moves the aircraft 10 m)."""

    def __init__(self, source: MavlinkPositionSource) -> None:
        self.source = source
        self.fixes: list[Position] = []

    def latest(self) -> Position | None:
        pos = self.source.latest()
        if pos is not None and (not self.fixes or self.fixes[-1] != pos):
            self.fixes.append(pos)
        return pos

    def close(self) -> None:
        self.source.close()

    def north_before(self, record: dict) -> list[float]:
        """North of every fix the agent was given before the one in ``record``."""
        ms = record["time_boot_ms"]
        return [north_east(p.lat, p.lon)[0] for p in self.fixes if p.time_boot_ms < ms]


class Flight:
    """A simulator, the agent running in a thread, and a ground station for the test."""

    def __init__(self, tmp_path, spec, gps_time: datetime) -> None:
        self.tmp = tmp_path
        messages = make_messages(tmp_path, {1: 3.0, 2: 4.0, 3: 2.0})
        plan = bundle(tmp_path, spec, messages)
        self.fleet = SimFleet(
            count=1, home=(27.57, 119.71, 200.0, 0.0), speedup=SPEEDUP, base_port=0,
            state_dir=tmp_path / "sim", boot_time_scale=0.2,  # the agent needs no boot fidelity
            start_time=gps_time.timestamp(),
        ).start()  # fmt: skip
        self.vehicle = self.fleet.vehicles[0]
        # The vehicle's link faults act on SERIAL0 (the ground link) only, not on SERIAL1.
        self.ground_faults = self.vehicle.faults
        self.source = SeenPositions(MavlinkPositionSource(f"tcp:127.0.0.1:{self.vehicle.ports[1]}"))
        # a companion computer without a real-time clock: the time of day comes from the GPS
        clock = AgentClock(SPEEDUP, start=NO_RTC, reference=self.source.source.aircraft_time)
        self.heard = tmp_path / "heard"
        self.agent = BroadcastAgent(
            plan, self.source, DirSink(self.heard, clock), tmp_path / "plays.jsonl",
            tmp_path / "cache", clock,
        )  # fmt: skip
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.agent.run, args=(self.stop,), daemon=True)
        self.thread.start()
        self.gcs = GroundStation(self.fleet, self.vehicle)

    def north(self) -> float:
        pose = self.vehicle.pose()
        return north_east(pose.lat, pose.lon)[0]

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        self.gcs.close()
        self.source.close()
        self.fleet.stop()

    def plays(self) -> list[dict]:
        path = self.tmp / "plays.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def flight_factory(tmp_path):
    flights = []

    def make(spec, gps_time=datetime(2026, 7, 1, 1, 0, tzinfo=UTC)):
        flights.append(Flight(tmp_path, spec, gps_time))
        return flights[-1]

    yield make
    for f in flights:
        f.close()


def north_of(record, key):
    return north_east(record[key]["lat"], record[key]["lon"])[0]


def test_flown_through_zones_with_a_ground_link_outage(flight_factory):
    f = flight_factory(plan_spec())
    f.gcs.take_off(ALT)
    f.gcs.send_target(*offset(450, 0), ALT)
    f.fleet.wait_for(lambda: f.north() > 225, sim_timeout=400)
    outage = (f.fleet.sim_time, f.fleet.sim_time + 10_000)
    f.ground_faults.outages = [outage]
    f.fleet.wait_for(lambda: f.north() > 445, sim_timeout=400)
    dropped_before = f.vehicle.channels[0].dropped
    f.fleet.wait_for(lambda: f.vehicle.channels[0].dropped > dropped_before, sim_timeout=5)
    f.close()

    log = f.plays()
    in_a = [r for r in log if r["zone"] == "A"]
    in_b = [r for r in log if r["zone"] == "B"]
    assert len(in_a) >= 2 and len(in_b) >= 2 and len(log) == len(in_a) + len(in_b)
    # Plays begin on the first fix 15 m inside a zone, never before.
    for first, south in ((in_a[0], A_SOUTH), (in_b[0], B_SOUTH)):
        assert north_of(first, "start_position") >= south + HYSTERESIS - EDGE_M
        before = [n for n in f.source.north_before(first["start_position"]) if n > south - 50]
        assert before and max(before) < south + HYSTERESIS + EDGE_M
    for r in in_a:
        assert north_of(r, "start_position") >= A_SOUTH + HYSTERESIS - EDGE_M
        assert north_of(r, "start_position") <= A_NORTH + HYSTERESIS
    # A play still running when the aircraft leaves is cut on the first fix 15 m past the border
    # (one that ended before that fix was seen is complete).
    for r, north_border in ((in_a[-1], A_NORTH), (in_b[-1], B_NORTH)):
        before = f.source.north_before(r["end_position"])
        assert max(before) < north_border + HYSTERESIS + EDGE_M
        if r["reason"] == "left-zone":
            assert north_of(r, "end_position") >= north_border + HYSTERESIS - EDGE_M
        else:
            assert r["reason"] == "completed"
    # The agent was given the fixes as they came (4 Hz): half a second apart at the median.
    gaps = [b.time_boot_ms - a.time_boot_ms for a, b in itertools.pairwise(f.source.fixes)]
    assert statistics.median(gaps) <= 500
    assert [r["message_id"] for r in in_a] == [1, 2] * (len(in_a) // 2) + [1] * (len(in_a) % 2)
    # Zone B was flown with the ground link out: the agent went on playing there.
    during = [r for r in in_b if r["start_position"]["time_boot_ms"] / 1000 >= outage[0]]
    assert len(during) >= 2 and any(r["finished"] for r in during)
    # Logged at the GPS's time of day, not the companion computer's.
    for r in log:
        assert datetime(2026, 7, 1, 1, 0, tzinfo=UTC) < datetime.fromisoformat(r["start"])
        assert datetime.fromisoformat(r["start"]) < datetime(2026, 7, 1, 1, 30, tzinfo=UTC)
    # The dir sink holds what was heard, at the zone's volume.
    files = sorted(f.heard.glob("*.wav"))
    assert len(files) == len(log)
    for path, r in zip(files, log, strict=True):
        assert duration_s(path) == pytest.approx(r["heard_s"], abs=0.01)


def test_quiet_hours_keep_the_speaker_silent(flight_factory):
    # The GPS says 22:00 in Shanghai, inside quiet hours 21:00-23:00 (the companion's clock
    # says 08:00, 1 January 1970).
    f = flight_factory(plan_spec(["21:00-23:00"]), datetime(2026, 7, 1, 14, 0, tzinfo=UTC))
    f.gcs.take_off(ALT)
    f.gcs.go_to(*offset(150, 0), ALT)
    assert f.agent._zone == "A"  # the agent knows where it is ...
    f.close()
    assert f.plays() == []  # ... and says nothing
    assert list(f.heard.glob("*.wav")) == []
