"""The agent's clock: aircraft seconds for timing, the GPS's time of day when it is known."""

import time
from datetime import UTC, datetime

import pytest

from audio.clock import AgentClock

NO_RTC = datetime(1970, 1, 1, tzinfo=UTC)
GPS = datetime(2026, 7, 1, 14, 0, tzinfo=UTC).timestamp()


def test_own_clock_until_the_gps_time_arrives_then_the_gps():
    known: list[tuple[float, float]] = []
    clock = AgentClock(10.0, start=NO_RTC, reference=lambda: known[-1] if known else None)
    assert clock.now().year == 1970
    known.append((GPS, time.monotonic()))
    time.sleep(0.05)  # 0.5 aircraft seconds at time scale 10
    assert clock.now().timestamp() == pytest.approx(GPS + 0.5, abs=0.3)
    # the aircraft's seconds, not the reference, drive elapsed time
    assert clock.elapsed() == pytest.approx(0.5, abs=0.3)


def test_no_reference_is_the_start_time_running_at_the_time_scale():
    clock = AgentClock(4.0, start=datetime(2026, 7, 1, tzinfo=UTC))
    time.sleep(0.05)
    assert clock.now().timestamp() == pytest.approx(
        datetime(2026, 7, 1, tzinfo=UTC).timestamp() + 0.2, abs=0.15
    )
    with pytest.raises(ValueError, match="time zone"):
        AgentClock(start=datetime(2026, 7, 1))
