"""ArduCopter's land detector as far as it disarms: ~2 s after a touchdown, or DISARM_DELAY
after arming on the ground without taking off."""

from __future__ import annotations

from collections.abc import Callable

from sim.state import VehicleState

LANDED_DISARM_S = 2.0


class LandDetector:
    def __init__(self, vehicle: VehicleState, disarm: Callable[[], object]):
        self.v = vehicle
        self.disarm = disarm  # a forced disarm
        self.landed_since: float | None = 0.0
        self.disarm_at: float | None = None

    def on_arm(self) -> None:
        self.landed_since = self.v.sim_time

    def on_disarm(self) -> None:
        self.disarm_at = None

    def step(self) -> None:
        v = self.v
        if not v.armed:
            return
        if v.flying or v.nav.taking_off or v.nav.pilot_takeoff:
            self.landed_since = None
            self.disarm_at = None
            return
        if self.landed_since is None:
            self.landed_since = v.sim_time
        if self.disarm_at is None:
            delay = LANDED_DISARM_S if v.nav.touched_down else v.params.get("DISARM_DELAY")
            if delay <= 0:
                return
            self.disarm_at = self.landed_since + delay
        if v.sim_time >= self.disarm_at:
            self.disarm()
