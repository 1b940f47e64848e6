"""The aircraft's pose over time, and pairing it with frames by capture time.

Samples come in three streams at their own rates (attitude, position, gimbal), each on the
aircraft's UTC time line (vision.poses_mavlink maps the autopilot's boot clock to UTC through
SYSTEM_TIME). ``PoseTrack.at(t)`` interpolates each stream at ``t`` and refuses a time that no
samples bracket within ``max_gap`` seconds: a frame is never paired with a stale pose.
"""

from __future__ import annotations

import bisect
import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime


class PoseError(LookupError):
    """No pose can be paired with a frame time (outside the log, or a gap in it)."""


@dataclass(frozen=True)
class Pose:
    """Where the camera was at ``time`` (UTC unix seconds). ``height`` is metres above home
    (GLOBAL_POSITION_INT.relative_alt); angles are radians, the aircraft's in ATTITUDE's
    convention. ``gimbal`` is (roll, pitch, yaw) as ArduPilot reports a gimbal: roll and pitch
    in the earth frame, yaw relative to the aircraft's nose; None when nothing reported it."""

    time: float
    lat: float
    lon: float
    alt_amsl: float
    height: float
    roll: float
    pitch: float
    yaw: float
    vn: float = 0.0
    ve: float = 0.0
    gimbal: tuple[float, float, float] | None = None


def utc_text(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-4] + " UTC"


class _Series:
    """One stream of samples (time, values...), kept sorted by time."""

    def __init__(self, angles: tuple[int, ...] = ()) -> None:
        self.times: list[float] = []
        self.values: list[tuple[float, ...]] = []
        self.angles = angles  # indices of values that wrap at 2 pi

    def add(self, t: float, values: tuple[float, ...]) -> None:
        if not self.times or t > self.times[-1]:
            self.times.append(t)
            self.values.append(values)
            return
        i = bisect.bisect_left(self.times, t)
        if i < len(self.times) and self.times[i] == t:
            self.values[i] = values
        else:
            self.times.insert(i, t)
            self.values.insert(i, values)

    def bracket(self, t: float) -> tuple[int, int] | None:
        """Indices (i, j) of the samples at or around t, or None outside the series."""
        if not self.times or t < self.times[0] or t > self.times[-1]:
            return None
        j = bisect.bisect_left(self.times, t)
        if self.times[j] == t:
            return j, j
        return j - 1, j

    def interpolate(self, i: int, j: int, t: float) -> tuple[float, ...]:
        a, b = self.values[i], self.values[j]
        if i == j:
            return a
        k = (t - self.times[i]) / (self.times[j] - self.times[i])
        out = []
        for n, (x, y) in enumerate(zip(a, b, strict=True)):
            if n in self.angles:
                y = x + (y - x + math.pi) % (2 * math.pi) - math.pi
            out.append(x + (y - x) * k)
        return tuple(out)


class PoseTrack:
    """Attitude, position and gimbal samples on one UTC time line."""

    def __init__(self, max_gap: float = 1.0, gimbal_hold: float = 5.0) -> None:
        self.max_gap = max_gap  # longest span between samples a frame may fall in
        self.gimbal_hold = gimbal_hold  # a gimbal holds its angle: its last report stays good
        self.attitude = _Series(angles=(2,))  # roll, pitch, yaw
        self.position = _Series()  # lat, lon, alt_amsl, height, vn, ve
        self.gimbal = _Series(angles=(2,))  # roll, pitch, yaw (relative to the nose)
        self.lock = threading.Lock()
        self.clock = "gps"  # where the times come from: "gps" (UTC) or "receive" (a fallback)

    def add_attitude(self, t: float, roll: float, pitch: float, yaw: float) -> None:
        with self.lock:
            self.attitude.add(t, (roll, pitch, yaw))

    def add_position(
        self,
        t: float,
        lat: float,
        lon: float,
        alt_amsl: float,
        height: float,
        vn: float,
        ve: float,
    ) -> None:
        with self.lock:
            self.position.add(t, (lat, lon, alt_amsl, height, vn, ve))

    def add_gimbal(self, t: float, roll: float, pitch: float, yaw: float) -> None:
        with self.lock:
            self.gimbal.add(t, (roll, pitch, yaw))

    def attitude_yaw_at(self, t: float) -> float:
        with self.lock:
            return self._sample(self.attitude, t, "attitude")[2]

    @property
    def span(self) -> tuple[float, float] | None:
        """First and last time at which both attitude and position are known."""
        with self.lock:
            a, p = self.attitude.times, self.position.times
            if not a or not p:
                return None
            start, end = max(a[0], p[0]), min(a[-1], p[-1])
            return (start, end) if start <= end else None

    def latest(self) -> float | None:
        span = self.span
        return span[1] if span else None

    def at(self, t: float) -> Pose:
        """The pose at UTC time ``t``; PoseError when no samples bracket it closely enough."""
        with self.lock:
            att = self._sample(self.attitude, t, "attitude")
            pos = self._sample(self.position, t, "position")
            gimbal = None
            if self.gimbal.times:
                i = bisect.bisect_right(self.gimbal.times, t) - 1
                if self.gimbal.bracket(t) is not None:
                    gimbal = self.gimbal.interpolate(*self.gimbal.bracket(t), t)
                elif i >= 0 and t - self.gimbal.times[i] <= self.gimbal_hold:
                    gimbal = self.gimbal.values[i]
        lat, lon, alt, height, vn, ve = pos
        return Pose(t, lat, lon, alt, height, *att, vn=vn, ve=ve, gimbal=gimbal)

    def _sample(self, series: _Series, t: float, what: str) -> tuple[float, ...]:
        found = series.bracket(t)
        if found is None:
            if not series.times:
                raise PoseError(f"no {what} received")
            raise PoseError(
                f"frame time {utc_text(t)} is outside the {what} log "
                f"({utc_text(series.times[0])} to {utc_text(series.times[-1])})"
            )
        i, j = found
        gap = series.times[j] - series.times[i]
        if gap > self.max_gap:
            raise PoseError(
                f"frame time {utc_text(t)} falls in a {gap:.1f} s gap of the {what} log "
                f"(at most {self.max_gap:g} s)"
            )
        return series.interpolate(i, j, t)
