"""Controller clocks scaled to the vehicle's clock.

SITL (``--speedup K``) and the simulator count every vehicle timeout in simulated time, so a
ground station talking to a sped-up vehicle must run its own intervals K times faster or it
trips the vehicle's failsafes. Every controller interval is written in vehicle seconds and
converted here. For a real aircraft the scale is 1. A simulated vehicle reports its speed-up in
the ``SIM_SPEEDUP`` parameter (see :mod:`patrol.vehicle.speedup`), so the scale is usually
learnt from the vehicle after connecting, and follows it when it changes."""

from __future__ import annotations

import threading

PATIENCE_FLOOR = 2.0  # wall seconds


class TimeBase:
    """``scale`` = how many vehicle seconds pass per wall-clock second. It can change while the
    controller runs (:meth:`set_scale`): every interval is converted when it is used."""

    def __init__(self, scale: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._scale = self._checked(scale)

    @staticmethod
    def _checked(scale: float) -> float:
        if not scale > 0 or scale == float("inf"):
            raise ValueError(f"time scale must be a positive number, got {scale}")
        return float(scale)

    @property
    def scale(self) -> float:
        return self._scale

    def set_scale(self, scale: float) -> None:
        with self._lock:
            self._scale = self._checked(scale)

    def __repr__(self) -> str:
        return f"TimeBase({self._scale:g})"

    def wall(self, vehicle_seconds: float) -> float:
        """Wall-clock seconds for an interval given in vehicle seconds."""
        return vehicle_seconds / self._scale

    def patience(self, vehicle_seconds: float) -> float:
        """Wall seconds to wait before giving up on the vehicle: the interval at the nominal
        speedup, but never less than ``min(vehicle_seconds, PATIENCE_FLOOR)`` of wall time. A
        sped-up simulator on a busy CPU can stall that long; a real aircraft (scale 1) is
        unaffected. Retransmission intervals are not stretched, only the giving up."""
        return max(self.wall(vehicle_seconds), min(vehicle_seconds, PATIENCE_FLOOR))

    def vehicle(self, wall_seconds: float) -> float:
        """Vehicle seconds elapsed during ``wall_seconds`` of wall-clock time."""
        return wall_seconds * self._scale
