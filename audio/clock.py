"""Time as the aircraft lives it. Against a simulator running K times faster than real time
(SITL ``--speedup K``) every aircraft second lasts 1/K wall seconds, so a 3 s message plays in
3/K s.

The time of day (for quiet hours and the play log) comes from the aircraft's GPS when a
``reference`` gives it: a companion computer often has no battery-backed clock and no network in
the field, so its own clock can be hours or years off. Until the GPS time arrives, the companion's
clock (or ``start``) is used."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

log = logging.getLogger(__name__)

# (UTC unix seconds, time.monotonic() when that was true), or None while unknown
TimeReference = Callable[[], tuple[float, float] | None]


class AgentClock:
    def __init__(
        self,
        time_scale: float = 1.0,
        start: datetime | None = None,
        reference: TimeReference | None = None,
    ) -> None:
        if time_scale <= 0:
            raise ValueError(f"time scale {time_scale} must be positive")
        self.time_scale = time_scale
        self._start = start or datetime.now(UTC)
        if self._start.tzinfo is None:
            raise ValueError("the start time needs a time zone")
        self._wall0 = time.monotonic()
        self.reference = reference
        self._referenced = False

    def elapsed(self) -> float:
        """Aircraft seconds since the clock started."""
        return (time.monotonic() - self._wall0) * self.time_scale

    def now(self) -> datetime:
        own = self._start + timedelta(seconds=self.elapsed())
        ref = self.reference() if self.reference is not None else None
        if ref is None:
            return own
        unix_s, at = ref
        aircraft = datetime.fromtimestamp(unix_s + (time.monotonic() - at) * self.time_scale, UTC)
        if not self._referenced:
            self._referenced = True
            off = (own - aircraft).total_seconds()
            log.info("time of day from the aircraft's GPS (this computer's clock: %+.0f s)", off)
        return aircraft

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of aircraft time."""
        time.sleep(max(0.0, seconds) / self.time_scale)
