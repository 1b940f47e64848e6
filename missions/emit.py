"""MAVLink mission, fence and rally items following ArduPilot conventions."""

from __future__ import annotations

from collections.abc import Sequence

import shapely
from pymavlink.dialects.v20 import ardupilotmega as mavlink
from shapely.geometry import MultiPolygon, Polygon

from missions.items import FENCE, RALLY, MissionItem

GLOBAL = mavlink.MAV_FRAME_GLOBAL
RELATIVE = mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT
NO_POSITION = mavlink.MAV_FRAME_MISSION

# FENCE_TYPE bits: 1 maximum altitude, 2 circle around home, 4 polygons, 8 minimum altitude.
# The circle is left out: FENCE_RADIUS (150 m in SITL's copter.parm) would cut a township patrol.
FENCE_TYPE_ALT_POLYGON = 1 | 4
FENCE_ACTION_RTL = 1


def mission_items(
    home: tuple[float, float, float],
    stops: Sequence[tuple[float, float, float]],
    alt: float,
    speed: float,
) -> list[MissionItem]:
    """Home (AMSL), take-off, speed, one waypoint (or LOITER_TIME when the third value, the
    hover time in seconds, is > 0) per stop (lat, lon, seconds), RTL."""
    lat0, lon0, alt0 = home
    items = [
        MissionItem(mavlink.MAV_CMD_NAV_WAYPOINT, GLOBAL, lat0, lon0, alt0),
        MissionItem(mavlink.MAV_CMD_NAV_TAKEOFF, RELATIVE, 0.0, 0.0, alt),
        MissionItem(
            mavlink.MAV_CMD_DO_CHANGE_SPEED, NO_POSITION, param1=1, param2=speed, param3=-1
        ),
    ]
    for lat, lon, hover in stops:
        if hover > 0:
            items.append(
                MissionItem(mavlink.MAV_CMD_NAV_LOITER_TIME, RELATIVE, lat, lon, alt, param1=hover)
            )
        else:
            items.append(MissionItem(mavlink.MAV_CMD_NAV_WAYPOINT, RELATIVE, lat, lon, alt))
    items.append(MissionItem(mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH, NO_POSITION))
    return items


def _rings(geom: Polygon | MultiPolygon) -> list[list[tuple[float, float]]]:
    """Outer rings (lon, lat) without the closing vertex."""
    return [list(p.exterior.coords)[:-1] for p in shapely.get_parts(geom)]


def fence_items(
    inclusion: Polygon, exclusions: Sequence[Polygon | MultiPolygon]
) -> list[MissionItem]:
    """One inclusion polygon (5001) and an exclusion polygon (5002) per no-fly part, frame 0."""
    out: list[MissionItem] = []
    groups = [(mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION, r) for r in _rings(inclusion)]
    for zone in exclusions:
        groups += [(mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION, r) for r in _rings(zone)]
    for command, ring in groups:
        for lon, lat in ring:
            out.append(
                MissionItem(
                    command,
                    GLOBAL,
                    lat,
                    lon,
                    0.0,
                    param1=len(ring),
                    autocontinue=0,
                    mission_type=FENCE,
                )
            )
    return out


def rally_items(points: Sequence[tuple[float, float]], alt: float) -> list[MissionItem]:
    """Rally points (lat, lon) at ``alt`` above home."""
    return [
        MissionItem(
            mavlink.MAV_CMD_NAV_RALLY_POINT,
            RELATIVE,
            lat,
            lon,
            alt,
            autocontinue=0,
            mission_type=RALLY,
        )
        for lat, lon in points
    ]


def fence_params(alt_max: float) -> dict[str, float]:
    return {
        "FENCE_ENABLE": 1.0,
        "FENCE_TYPE": float(FENCE_TYPE_ALT_POLYGON),
        "FENCE_ACTION": float(FENCE_ACTION_RTL),
        "FENCE_ALT_MAX": float(alt_max),
    }
