"""The aircraft's true pose, and its recent history for camera renderers and tests."""

from __future__ import annotations

import bisect
import collections
import math
from collections.abc import Callable
from dataclasses import dataclass

from sim.state import VehicleState

POSE_HISTORY_S = 600.0
POSE_HISTORY_DT = 0.1


@dataclass
class Pose:
    """The aircraft's true pose at one instant (for camera renderers and tests)."""

    time_s: float
    lat: float
    lon: float
    alt_amsl: float
    alt_rel: float
    roll: float
    pitch: float
    yaw: float
    vn: float
    ve: float
    vd: float


def current_pose(v: VehicleState) -> Pose:
    s = v.copter.state
    lat, lon = v.position()
    return Pose(
        v.sim_time, lat, lon, v.alt_amsl(), s.alt, s.roll, s.pitch, s.yaw, s.vn, s.ve, -s.vu
    )


class PoseHistory:
    """Poses every POSE_HISTORY_DT for the last POSE_HISTORY_S, and per-step listeners."""

    def __init__(self) -> None:
        self.poses: collections.deque[Pose] = collections.deque(
            maxlen=int(POSE_HISTORY_S / POSE_HISTORY_DT)
        )
        self.listeners: list[Callable[[Pose], None]] = []

    def record(self, v: VehicleState) -> None:
        """After a step: keep the pose when it is due and tell the listeners."""
        history = self.poses
        due = not history or v.sim_time - history[-1].time_s >= POSE_HISTORY_DT - 1e-9
        if self.listeners or due:
            pose = current_pose(v)
            if due:
                history.append(pose)
            for listener in self.listeners:
                listener(pose)

    def at(self, v: VehicleState, time_s: float) -> Pose:
        """The pose at simulated time ``time_s`` (interpolated from the history); ValueError
        outside it."""
        history = self.poses
        if not history or not history[0].time_s <= time_s <= v.sim_time:
            raise ValueError(f"no pose recorded for t={time_s:.2f} s")
        if time_s >= history[-1].time_s:
            return current_pose(v) if time_s > history[-1].time_s else history[-1]
        i = bisect.bisect_right([p.time_s for p in history], time_s)
        a, b = history[i - 1], history[i]
        k = (time_s - a.time_s) / (b.time_s - a.time_s)

        def mix(x: float, y: float) -> float:
            return x + (y - x) * k

        yaw = a.yaw + ((b.yaw - a.yaw + math.pi) % (2 * math.pi) - math.pi) * k
        return Pose(
            time_s, mix(a.lat, b.lat), mix(a.lon, b.lon), mix(a.alt_amsl, b.alt_amsl),
            mix(a.alt_rel, b.alt_rel), mix(a.roll, b.roll), mix(a.pitch, b.pitch),
            yaw % (2 * math.pi), mix(a.vn, b.vn), mix(a.ve, b.ve), mix(a.vd, b.vd),
        )  # fmt: skip
