"""Time as the aircraft lives it. On a real aircraft that is the wall clock; against a simulator
running K times faster than real time (SITL ``--speedup K``) every aircraft second lasts 1/K wall
seconds, so a 3 s message plays in 3/K s."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class AgentClock:
    def __init__(self, time_scale: float = 1.0, start: datetime | None = None) -> None:
        if time_scale <= 0:
            raise ValueError(f"time scale {time_scale} must be positive")
        self.time_scale = time_scale
        self._start = start or datetime.now(UTC)
        if self._start.tzinfo is None:
            raise ValueError("the start time needs a time zone")
        self._wall0 = time.monotonic()

    def elapsed(self) -> float:
        """Aircraft seconds since the clock started."""
        return (time.monotonic() - self._wall0) * self.time_scale

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.elapsed())

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of aircraft time."""
        time.sleep(max(0.0, seconds) / self.time_scale)
