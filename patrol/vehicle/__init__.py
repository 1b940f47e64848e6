"""One vehicle over a link, split by capability as MAVSDK does: telemetry, params, mission
transfer (mission_raw / geofence / rally) and actions. :class:`Vehicle` bundles them."""

from __future__ import annotations

from patrol.link import Link
from patrol.timebase import TimeBase
from patrol.vehicle.actions import Actions
from patrol.vehicle.channel import AUTOPILOT_COMPID, VehicleChannel
from patrol.vehicle.mission_transfer import MissionTransfer
from patrol.vehicle.params import Params
from patrol.vehicle.telemetry import Telemetry


class Vehicle:
    """An autopilot (``sysid``, compid 1) reached through ``link``."""

    def __init__(
        self,
        link: Link,
        sysid: int,
        compid: int = AUTOPILOT_COMPID,
        timebase: TimeBase | None = None,
    ) -> None:
        self.link = link
        self.channel = VehicleChannel(link, sysid, compid, timebase)
        self.telemetry = Telemetry(self.channel)
        self.params = Params(self.channel)
        self.missions = MissionTransfer(self.channel)
        self.actions = Actions(self.channel, self.telemetry)

    @property
    def sysid(self) -> int:
        return self.channel.sysid

    @property
    def timebase(self) -> TimeBase:
        return self.channel.timebase

    def wait_heartbeat(self, timeout: float) -> bool:
        """Wait up to ``timeout`` vehicle seconds for a HEARTBEAT from the autopilot."""
        with self.channel.inbox("HEARTBEAT") as box:
            if self.telemetry.state.heartbeat_at is not None:
                age = self.telemetry.heartbeat_age()
                if age is not None and age < 2.0:
                    return True
            return box.get(self.timebase.patience(timeout)) is not None

    def close(self) -> None:
        self.channel.close()
