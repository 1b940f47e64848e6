"""Controller clocks scaled to the vehicle's clock.

SITL (``--speedup K``) and the simulator count every vehicle timeout in simulated time, so a
ground station talking to a sped-up vehicle must run its own intervals K times faster or it
trips the vehicle's failsafes. Every controller interval is written in vehicle seconds and
converted here. For a real aircraft the scale is 1."""

from __future__ import annotations

from dataclasses import dataclass

PATIENCE_FLOOR = 2.0  # wall seconds


@dataclass(frozen=True)
class TimeBase:
    """``scale`` = how many vehicle seconds pass per wall-clock second."""

    scale: float = 1.0

    def __post_init__(self) -> None:
        if not self.scale > 0:
            raise ValueError(f"time scale must be positive, got {self.scale}")

    def wall(self, vehicle_seconds: float) -> float:
        """Wall-clock seconds for an interval given in vehicle seconds."""
        return vehicle_seconds / self.scale

    def patience(self, vehicle_seconds: float) -> float:
        """Wall seconds to wait before giving up on the vehicle: the interval at the nominal
        speedup, but never less than ``min(vehicle_seconds, PATIENCE_FLOOR)`` of wall time. A
        sped-up simulator on a busy CPU can stall that long; a real aircraft (scale 1) is
        unaffected. Retransmission intervals are not stretched, only the giving up."""
        return max(self.wall(vehicle_seconds), min(vehicle_seconds, PATIENCE_FLOOR))

    def vehicle(self, wall_seconds: float) -> float:
        """Vehicle seconds elapsed during ``wall_seconds`` of wall-clock time."""
        return wall_seconds * self.scale
