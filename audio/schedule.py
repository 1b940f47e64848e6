"""Quiet hours: local times of day when the loudspeaker must stay silent."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class QuietSpan:
    start: time
    end: time  # a span whose end is before its start runs past midnight

    def contains(self, t: time) -> bool:
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def parse_span(text: str) -> QuietSpan:
    """``"21:30-07:00"`` -> QuietSpan. Raises ValueError naming the bad text."""
    m = _SPAN.match(text)
    if not m:
        raise ValueError(f"quiet hours {text!r} are not HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
        raise ValueError(f"quiet hours {text!r} hold an impossible time")
    end = time(0, 0) if h2 == 24 else time(h2, m2)
    if time(h1, m1) == end:
        raise ValueError(f"quiet hours {text!r} start and end at the same time")
    return QuietSpan(time(h1, m1), end)


def timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


@dataclass(frozen=True)
class QuietHours:
    spans: tuple[QuietSpan, ...]
    tz: ZoneInfo

    def is_quiet(self, when: datetime) -> bool:
        """``when`` must be timezone-aware; it is compared in the plan's time zone."""
        local = when.astimezone(self.tz).time()
        return any(span.contains(local) for span in self.spans)
