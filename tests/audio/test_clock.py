"""The agent's clock: aircraft seconds for timing, the GPS's time of day when it is known."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from audio import clock as clock_module
from audio.clock import AgentClock

NO_RTC = datetime(1970, 1, 1, tzinfo=UTC)
GPS = datetime(2026, 7, 1, 14, 0, tzinfo=UTC).timestamp()


@pytest.fixture
def wall(monkeypatch):
    """The clock's monotonic time, moved by the test: [seconds]."""
    now = [1000.0]
    monkeypatch.setattr(clock_module, "time", SimpleNamespace(monotonic=lambda: now[0]))
    return now


def test_own_clock_until_the_gps_time_arrives_then_the_gps(wall):
    known: list[tuple[float, float]] = []
    clock = AgentClock(10.0, start=NO_RTC, reference=lambda: known[-1] if known else None)
    assert clock.now().year == 1970
    wall[0] += 1.0
    known.append((GPS, wall[0]))
    wall[0] += 0.05  # 0.5 aircraft seconds at time scale 10
    assert clock.now().timestamp() == pytest.approx(GPS + 0.5, abs=1e-6)
    # the aircraft's seconds, not the reference, drive elapsed time
    assert clock.elapsed() == pytest.approx(10.5, abs=1e-6)


def test_no_reference_is_the_start_time_running_at_the_time_scale(wall):
    clock = AgentClock(4.0, start=datetime(2026, 7, 1, tzinfo=UTC))
    wall[0] += 0.05
    assert clock.now().timestamp() == pytest.approx(
        datetime(2026, 7, 1, tzinfo=UTC).timestamp() + 0.2, abs=1e-6
    )
    with pytest.raises(ValueError, match="time zone"):
        AgentClock(start=datetime(2026, 7, 1))
