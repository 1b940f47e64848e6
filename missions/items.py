"""Mission items and missions as ArduPilot stores them: what the planner emits, the formats
read and write, and the vehicle link uploads (one MISSION_ITEM_INT each)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pymavlink.dialects.v20 import ardupilotmega as mavlink

MISSION = mavlink.MAV_MISSION_TYPE_MISSION
FENCE = mavlink.MAV_MISSION_TYPE_FENCE
RALLY = mavlink.MAV_MISSION_TYPE_RALLY


@dataclass(frozen=True)
class MissionItem:
    """One mission item. ``lat``/``lon`` are degrees (sent as degE7 integers), ``alt`` metres in
    ``frame``. For items without a position, lat/lon are 0."""

    command: int
    frame: int = mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT
    lat: float = 0.0
    lon: float = 0.0
    alt: float = 0.0
    param1: float = 0.0
    param2: float = 0.0
    param3: float = 0.0
    param4: float = 0.0
    autocontinue: int = 1
    mission_type: int = MISSION

    @property
    def x(self) -> int:
        """Latitude as sent in MISSION_ITEM_INT (degE7)."""
        return round(self.lat * 1e7)

    @property
    def y(self) -> int:
        """Longitude as sent in MISSION_ITEM_INT (degE7)."""
        return round(self.lon * 1e7)


@dataclass
class Mission:
    """One sortie: mission items (item 0 is home), geofence items and rally points."""

    items: list[MissionItem]
    fence: list[MissionItem] = field(default_factory=list)
    rally: list[MissionItem] = field(default_factory=list)
    name: str = ""
    # Vehicle parameters the runner sets before flying (FENCE_ENABLE, FENCE_TYPE, FENCE_ACTION,
    # FENCE_ALT_MAX): ArduPilot keeps the maximum altitude as a parameter, not a fence item.
    params: dict[str, float] = field(default_factory=dict)

    @property
    def home(self) -> MissionItem:
        return self.items[0]

    def of_type(self, mission_type: int) -> list[MissionItem]:
        """The items of one MAV_MISSION_TYPE."""
        return {MISSION: self.items, FENCE: self.fence, RALLY: self.rally}[mission_type]
