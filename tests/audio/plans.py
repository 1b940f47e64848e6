"""Test plans: square zones laid out in metres around the simulator's home, short tone messages."""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shapely.geometry import Polygon, mapping

from audio.plan import PlanMessage, build_plan, write_bundle
from audio.wav import SAMPLE_RATE, write_wav
from tests.audio.media import tone

HOME = (27.57, 119.71)
M_PER_DEG_LAT = 110_790.0


def north_east(lat: float, lon: float, home: tuple[float, float] = HOME) -> tuple[float, float]:
    """The inverse of ``offset``."""
    lat0, lon0 = home
    return (
        (lat - lat0) * M_PER_DEG_LAT,
        (lon - lon0) * M_PER_DEG_LAT * math.cos(math.radians(lat0)),
    )


def offset(north_m: float, east_m: float, home: tuple[float, float] = HOME) -> tuple[float, float]:
    """(lat, lon) ``north_m``/``east_m`` from ``home`` (flat earth: fine over a kilometre)."""
    lat0, lon0 = home
    return (
        lat0 + north_m / M_PER_DEG_LAT,
        lon0 + east_m / (M_PER_DEG_LAT * math.cos(math.radians(lat0))),
    )


def square(north_m: float, east_m: float, size_m: float) -> dict:
    """GeoJSON polygon of a square whose south-west corner is ``north_m``/``east_m`` from home."""
    return rect(north_m, east_m, size_m, size_m)


def rect(north_m: float, east_m: float, height_m: float, width_m: float) -> dict:
    """GeoJSON polygon of a rectangle whose south-west corner is ``north_m``/``east_m`` from
    home."""
    corners = [(0, 0), (0, width_m), (height_m, width_m), (height_m, 0)]
    ring = [offset(north_m + n, east_m + e) for n, e in corners]
    return mapping(Polygon([(lon, lat) for lat, lon in ring]))


def make_messages(directory: Path, durations: dict[int, float]) -> dict[int, PlanMessage]:
    messages = {}
    for mid, seconds in durations.items():
        path = directory / f"msg{mid}.wav"
        write_wav(path, tone(seconds, SAMPLE_RATE, 0.5))
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        messages[mid] = PlanMessage(mid, f"message {mid}", seconds, digest, path)
    return messages


def resolver(messages: dict[int, PlanMessage]):  # type: ignore[no-untyped-def]
    def resolve(ref):  # type: ignore[no-untyped-def]
        if isinstance(ref, int) and ref in messages:
            return messages[ref]
        for m in messages.values():
            if m.title == ref:
                return m
        raise LookupError(ref)

    return resolve


def bundle(tmp: Path, spec: dict, messages: dict[int, PlanMessage], name: str = "plan.zip"):  # type: ignore[no-untyped-def]
    plan = build_plan(spec, resolver(messages))
    path = tmp / name
    write_bundle(plan, path)
    return path


class ManualClock:
    """An agent clock the test moves by hand; ``sleep`` advances it."""

    time_scale = 1.0

    def __init__(self, start: datetime | None = None) -> None:
        self.start = start or datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
        self.t = 0.0

    def elapsed(self) -> float:
        return self.t

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.t)

    def sleep(self, seconds: float) -> None:
        self.t += seconds
