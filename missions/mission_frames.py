"""MAVLink numbers the mission file formats share: frames as files write them, fence and rally
commands, and which commands carry a position."""

from __future__ import annotations

import math

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from missions.items import MissionItem

REL, REL_INT = mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT, mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT
GLOBAL, GLOBAL_INT = mavlink.MAV_FRAME_GLOBAL, mavlink.MAV_FRAME_GLOBAL_INT
TERRAIN, TERRAIN_INT = (
    mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT,
    mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT_INT,
)
# Files write the float frames QGroundControl and Mission Planner write; MISSION_ITEM_INT uses
# the _INT ones.
TO_FILE = {REL_INT: REL, GLOBAL_INT: GLOBAL, TERRAIN_INT: TERRAIN}
FROM_FILE = {v: k for k, v in TO_FILE.items() if k != GLOBAL_INT}
INCL, EXCL = (
    mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION,
    mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION,
)
CIRCLE_INCL, CIRCLE_EXCL = (
    mavlink.MAV_CMD_NAV_FENCE_CIRCLE_INCLUSION,
    mavlink.MAV_CMD_NAV_FENCE_CIRCLE_EXCLUSION,
)
RETURN_POINT = mavlink.MAV_CMD_NAV_FENCE_RETURN_POINT
RALLY_POINT = mavlink.MAV_CMD_NAV_RALLY_POINT
POSITIONED = {
    mavlink.MAV_CMD_NAV_WAYPOINT,
    mavlink.MAV_CMD_NAV_LOITER_UNLIM,
    mavlink.MAV_CMD_NAV_LOITER_TURNS,
    mavlink.MAV_CMD_NAV_LOITER_TIME,
    mavlink.MAV_CMD_NAV_LAND,
    mavlink.MAV_CMD_NAV_SPLINE_WAYPOINT,
    mavlink.MAV_CMD_NAV_LOITER_TO_ALT,
}


def fence_groups(fence: list[MissionItem]) -> list[tuple[int, list[MissionItem]]]:
    """Split fence items into polygons (by vertex count) and single items."""
    groups: list[tuple[int, list[MissionItem]]] = []
    i = 0
    while i < len(fence):
        f = fence[i]
        n = int(f.param1) if f.command in (INCL, EXCL) else 1
        groups.append((f.command, fence[i : i + max(n, 1)]))
        i += max(n, 1)
    return groups


def json_number(v: float) -> float | int | None:
    """A number as JSON files hold it: whole numbers as integers, NaN as null."""
    if isinstance(v, float) and math.isnan(v):
        return None
    return int(v) if float(v).is_integer() and abs(v) < 1e15 else v
