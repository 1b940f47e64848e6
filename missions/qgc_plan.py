"""QGroundControl .plan files: mission, fence, rally points and (under a ``gridpatrol`` key that
QGroundControl ignores) the vehicle parameters.

Written as QGroundControl writes them and read against ``plan_schema.PlanFile``, the keys,
types and versions QGroundControl itself checks. ``cruiseSpeed`` and ``hoverSpeed`` are whole
numbers: Mission Planner reads them as integers and refuses a plan with 7.5; the speed flown is
the DO_CHANGE_SPEED item's.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from missions import plan_schema
from missions.errors import MissionFileError, PlanningError
from missions.items import FENCE, RALLY, Mission, MissionItem
from missions.json_input import load_json
from missions.mission_frames import (
    CIRCLE_EXCL,
    CIRCLE_INCL,
    EXCL,
    FROM_FILE,
    GLOBAL,
    INCL,
    POSITIONED,
    RALLY_POINT,
    REL_INT,
    RETURN_POINT,
    TERRAIN_INT,
    TO_FILE,
    fence_groups,
    json_number,
)
from missions.validation import problems

QGC_ALT_RELATIVE, QGC_ALT_AMSL, QGC_ALT_TERRAIN = 1, 2, 4
ARDUPILOT, MULTIROTOR = 3, 2


def plan_text(m: Mission) -> str:
    home = m.home
    items = []
    for seq, it in enumerate(m.items[1:], 1):
        entry: dict[str, Any] = {}
        if it.command in POSITIONED or it.command == mavlink.MAV_CMD_NAV_TAKEOFF:
            mode = {REL_INT: QGC_ALT_RELATIVE, TERRAIN_INT: QGC_ALT_TERRAIN}.get(
                it.frame, QGC_ALT_AMSL
            )
            entry |= {
                "AMSLAltAboveTerrain": None,
                "Altitude": json_number(it.alt),
                "AltitudeMode": mode,
            }
        entry |= {
            "autoContinue": bool(it.autocontinue),
            "command": it.command,
            "doJumpId": seq,
            "frame": TO_FILE.get(it.frame, it.frame),
            "params": [
                json_number(v)
                for v in (it.param1, it.param2, it.param3, it.param4, it.lat, it.lon, it.alt)
            ],
            "type": "SimpleItem",
        }
        items.append(entry)
    speed = next(
        (it.param2 for it in m.items if it.command == mavlink.MAV_CMD_DO_CHANGE_SPEED), 5.0
    )
    whole_speed = max(1, round(speed))
    doc = {
        "fileType": "Plan",
        "geoFence": _fence_doc(m.fence),
        "groundStation": "Gridpatrol",
        "mission": {
            "cruiseSpeed": whole_speed,
            "firmwareType": ARDUPILOT,
            "globalPlanAltitudeMode": QGC_ALT_RELATIVE,
            "hoverSpeed": whole_speed,
            "items": items,
            "plannedHomePosition": [home.lat, home.lon, json_number(home.alt)],
            "vehicleType": MULTIROTOR,
            "version": 2,
        },
        "rallyPoints": {
            "points": [[r.lat, r.lon, json_number(r.alt)] for r in m.rally],
            "version": 2,
        },
        "version": 1,
        "gridpatrol": {"name": m.name, "params": m.params},
    }
    return json.dumps(doc, indent=4, ensure_ascii=False) + "\n"


def _fence_doc(fence: list[MissionItem]) -> dict[str, Any]:
    polygons, circles, breach = [], [], None
    for cmd, group in fence_groups(fence):
        if cmd in (INCL, EXCL):
            polygons.append(
                {"inclusion": cmd == INCL, "polygon": [[f.lat, f.lon] for f in group], "version": 1}
            )
        elif cmd in (CIRCLE_INCL, CIRCLE_EXCL):
            for f in group:
                circles.append(
                    {
                        "circle": {"center": [f.lat, f.lon], "radius": json_number(f.param1)},
                        "inclusion": cmd == CIRCLE_INCL,
                        "version": 1,
                    }
                )
        elif cmd == RETURN_POINT:
            breach = [group[0].lat, group[0].lon, json_number(group[0].alt)]
    doc: dict[str, Any] = {"circles": circles, "polygons": polygons, "version": 2}
    if breach:
        doc["breachReturn"] = breach
    return doc


def read_plan(path: Path, data: bytes) -> Mission:
    try:
        doc = load_json(data, str(path))
    except PlanningError as exc:
        raise MissionFileError(str(exc)) from None
    if not isinstance(doc, dict) or doc.get("fileType") != "Plan":
        raise MissionFileError(f"{path}: not a QGroundControl plan (fileType is not 'Plan')")
    try:
        plan = plan_schema.ReadablePlan.model_validate(doc)
    except ValidationError as exc:
        raise MissionFileError(f"{path}: {problems(exc)[0]}") from None
    lat, lon, alt = plan.mission.plannedHomePosition
    if lat is None or lon is None:
        raise MissionFileError(f"{path}: mission.plannedHomePosition has no latitude/longitude")
    items = [MissionItem(mavlink.MAV_CMD_NAV_WAYPOINT, GLOBAL, lat, lon, _zero_nan(alt))]
    for n, raw in enumerate(plan.mission.items, 1):
        if raw.get("type") != "SimpleItem":
            kind = raw.get("complexItemType", raw.get("type"))
            raise MissionFileError(
                f"{path}: mission item {n} is a {str(kind)[:40]!r} item; only SimpleItem is read "
                "(convert complex items to waypoints in QGroundControl first)"
            )
        try:
            item = plan_schema.SimpleItem.model_validate(raw)
        except ValidationError as exc:
            raise MissionFileError(f"{path}: mission item {n}: {problems(exc)[0]}") from None
        p = [math.nan if v is None else v for v in item.params]
        items.append(
            MissionItem(
                command=item.command,
                frame=FROM_FILE.get(item.frame, item.frame),
                lat=_zero_nan(p[4]),
                lon=_zero_nan(p[5]),
                alt=_zero_nan(p[6]),
                param1=p[0],
                param2=p[1],
                param3=p[2],
                param4=p[3],
                autocontinue=int(item.autoContinue),
            )
        )
    fence, rally = _read_fence(path, plan.geoFence), _read_rally(path, plan.rallyPoints)
    extra = plan.gridpatrol or plan_schema.GridpatrolPart()
    return Mission(items, fence, rally, name=extra.name, params=dict(extra.params))


def _read_fence(path: Path, part: plan_schema.GeoFence | None) -> list[MissionItem]:
    if part is None:
        return []
    fence: list[MissionItem] = []
    for k, poly in enumerate(part.polygons, 1):
        cmd = INCL if poly.inclusion else EXCL
        for lat, lon in poly.polygon:
            if lat is None or lon is None:
                raise MissionFileError(f"{path}: geoFence.polygons[{k - 1}]: a vertex is null")
            fence.append(_fence_item(cmd, lat, lon, len(poly.polygon)))
    for k, circ in enumerate(part.circles):
        (lat, lon), radius = circ.circle.center, circ.circle.radius
        if lat is None or lon is None:
            raise MissionFileError(f"{path}: geoFence.circles[{k}]: the centre is null")
        cmd = CIRCLE_INCL if circ.inclusion else CIRCLE_EXCL
        fence.append(_fence_item(cmd, lat, lon, radius))
    if part.breachReturn:
        lat, lon, alt = part.breachReturn
        if lat is not None and lon is not None:
            fence.append(
                MissionItem(
                    RETURN_POINT, GLOBAL, lat, lon, _zero_nan(alt), autocontinue=0,
                    mission_type=FENCE,
                )
            )  # fmt: skip
    return fence


def _read_rally(path: Path, part: plan_schema.RallyPoints | None) -> list[MissionItem]:
    if part is None:
        return []
    rally = []
    for k, (lat, lon, alt) in enumerate(part.points):
        if lat is None or lon is None:
            raise MissionFileError(f"{path}: rallyPoints.points[{k}]: latitude/longitude is null")
        rally.append(
            MissionItem(
                RALLY_POINT, REL_INT, lat, lon, _zero_nan(alt), autocontinue=0, mission_type=RALLY
            )
        )
    return rally


def _zero_nan(v: float | None) -> float:
    return 0.0 if v is None or math.isnan(v) else v


def _fence_item(cmd: int, lat: float, lon: float, param1: float) -> MissionItem:
    return MissionItem(
        cmd, GLOBAL, lat, lon, 0.0, param1=param1, autocontinue=0, mission_type=FENCE
    )
