import time

import pytest

from audio.agent import BroadcastAgent
from audio.clock import AgentClock
from audio.position import Position
from audio.sinks import AlsaSink, DirSink, NullSink, SinkError, open_sink
from audio.wav import duration_s
from tests.audio.plans import ManualClock, bundle, make_messages, offset, rect


def test_open_sink_specs(tmp_path):
    clock = AgentClock()
    assert isinstance(open_sink("null", clock), NullSink)
    assert isinstance(open_sink(f"dir:{tmp_path}", clock), DirSink)
    for bad in ("", "dir:", "alsa:", "speaker", "null:x"):
        with pytest.raises(SinkError, match="unknown sink"):
            open_sink(bad, clock)


def test_alsa_refuses_a_time_scale():
    with pytest.raises(SinkError, match="real time"):
        AlsaSink("null", AgentClock(time_scale=10))


def test_alsa_plays_through_aplay_and_reports_a_bad_device(tmp_path):
    messages = make_messages(tmp_path, {1: 0.5})
    sink = AlsaSink("null", AgentClock())  # ALSA's null PCM swallows the samples
    playback = sink.play(messages[1].path, 0.5, 0.5, "test")
    deadline = time.monotonic() + 10
    while not playback.finished():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    bad = AlsaSink("no-such-device", AgentClock()).play(messages[1].path, 0.5, 1.0, "test")
    with pytest.raises(SinkError, match="aplay failed"):
        while not bad.finished():
            assert time.monotonic() < deadline
            time.sleep(0.01)
    sink.close()


def test_dir_sink_numbering_continues(tmp_path):
    clock = ManualClock()
    messages = make_messages(tmp_path, {1: 1.0})
    for _ in range(2):
        sink = DirSink(tmp_path / "out", clock)
        p = sink.play(messages[1].path, 1.0, 1.0, "zone-msg")
        clock.sleep(0.25)
        assert p.stop() == pytest.approx(0.25)
    names = sorted(f.name for f in (tmp_path / "out").glob("*.wav"))
    assert names == ["0001-zone-msg.wav", "0002-zone-msg.wav"]
    assert duration_s(tmp_path / "out" / names[0]) == pytest.approx(0.25, abs=0.001)


class FailingSink:
    def play(self, path, duration_s, volume, label):
        class Broken:
            def finished(self):
                raise SinkError("aplay failed (1): device busy")

            def stop(self):
                return 0.0

        return Broken()

    def close(self):
        pass


class Still:
    def __init__(self):
        self.ms = 0

    def latest(self):
        self.ms += 100
        return Position(*offset(50, 50), 30.0, self.ms)

    def close(self):
        pass


def test_agent_survives_a_failing_speaker(tmp_path):
    spec = {"zones": [{"name": "A", "geometry": rect(0, 0, 100, 100), "messages": [1],
                       "gap_s": 1.0}]}  # fmt: skip
    plan = bundle(tmp_path, spec, make_messages(tmp_path, {1: 1.0}))
    clock = ManualClock()
    agent = BroadcastAgent(
        plan, Still(), FailingSink(), tmp_path / "plays.jsonl", tmp_path / "cache", clock
    )
    for _ in range(25):
        agent.step()
        clock.sleep(0.1)
    lines = (tmp_path / "plays.jsonl").read_text().splitlines()
    # fails at 0.1 s, retried after the 1 s gap at 1.1 (fails 1.2) and 2.2 (fails 2.3)
    assert len(lines) == 3 and all("sink-error: aplay failed" in line for line in lines)
