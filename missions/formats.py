"""Mission files: QGroundControl .plan, Mission Planner .waypoints (QGC WPL 110) and GeoJSON.

``write_mission`` picks the format by extension; ``read_mission`` reads .plan and .waypoints.
.plan keeps the mission, fence, rally points and (under a ``gridpatrol`` key that
QGroundControl ignores) the vehicle parameters; .waypoints holds the mission items only.
In .plan and .waypoints the relative-altitude frame is written as QGroundControl and Mission
Planner write it (3, MAV_FRAME_GLOBAL_RELATIVE_ALT) and read back as the _INT frame (6) that
MISSION_ITEM_INT uses.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from missions.errors import MissionFileError
from missions.items import FENCE, RALLY, Mission, MissionItem

REL, REL_INT = mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT, mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT
GLOBAL, GLOBAL_INT = mavlink.MAV_FRAME_GLOBAL, mavlink.MAV_FRAME_GLOBAL_INT
TERRAIN, TERRAIN_INT = (
    mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT,
    mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT_INT,
)
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
QGC_ALT_RELATIVE, QGC_ALT_AMSL, QGC_ALT_TERRAIN = 1, 2, 4
ARDUPILOT, MULTIROTOR = 3, 2
POSITIONED = {
    mavlink.MAV_CMD_NAV_WAYPOINT,
    mavlink.MAV_CMD_NAV_LOITER_UNLIM,
    mavlink.MAV_CMD_NAV_LOITER_TURNS,
    mavlink.MAV_CMD_NAV_LOITER_TIME,
    mavlink.MAV_CMD_NAV_LAND,
    mavlink.MAV_CMD_NAV_SPLINE_WAYPOINT,
    mavlink.MAV_CMD_NAV_LOITER_TO_ALT,
}


def write_mission(path: Path, mission: Mission) -> None:
    """Write one mission; the format follows the extension (.plan, .waypoints, .geojson)."""
    path = Path(path)
    writers = {".plan": _plan_text, ".waypoints": _waypoints_text, ".geojson": _geojson_text}
    writer = writers.get(path.suffix.lower())
    if writer is None:
        raise MissionFileError(
            f"{path}: unknown mission file type '{path.suffix}' (use .plan, .waypoints, .geojson)"
        )
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(writer(mission), encoding="utf-8")
        os.replace(tmp, path)  # a plan already there survives a failed write
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise MissionFileError(f"{path}: cannot write: {exc}") from exc


def write_missions(path: Path, missions: Sequence[Mission]) -> list[Path]:
    """Write one file per sortie: ``path`` itself for one, ``stem-1.ext``, ``stem-2.ext`` ...
    for several. Returns the files written."""
    path = Path(path)
    if len(missions) == 1:
        targets = [path]
    else:
        targets = [
            path.with_name(f"{path.stem}-{n}{path.suffix}") for n in range(1, len(missions) + 1)
        ]
    for target, mission in zip(targets, missions, strict=True):
        write_mission(target, mission)
    return targets


def read_mission(path: Path) -> Mission:
    """Read a .plan or .waypoints file back into a Mission."""
    path = Path(path)
    readers = {".plan": _read_plan, ".waypoints": _read_waypoints}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise MissionFileError(f"{path}: cannot read '{path.suffix}' missions (.plan, .waypoints)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MissionFileError(f"{path}: cannot read: {exc}") from exc
    mission = reader(path, text)
    if not mission.name:
        mission.name = path.stem
    return mission


def _num(v: float) -> float | int | None:
    if isinstance(v, float) and math.isnan(v):
        return None
    return int(v) if float(v).is_integer() and abs(v) < 1e15 else v


# ---- QGroundControl .plan ------------------------------------------------------------------


def _plan_text(m: Mission) -> str:
    home = m.home
    items = []
    for seq, it in enumerate(m.items[1:], 1):
        entry: dict[str, Any] = {}
        if it.command in POSITIONED or it.command == mavlink.MAV_CMD_NAV_TAKEOFF:
            mode = {REL_INT: QGC_ALT_RELATIVE, TERRAIN_INT: QGC_ALT_TERRAIN}.get(
                it.frame, QGC_ALT_AMSL
            )
            entry |= {"AMSLAltAboveTerrain": None, "Altitude": _num(it.alt), "AltitudeMode": mode}
        entry |= {
            "autoContinue": bool(it.autocontinue),
            "command": it.command,
            "doJumpId": seq,
            "frame": TO_FILE.get(it.frame, it.frame),
            "params": [
                _num(v)
                for v in (it.param1, it.param2, it.param3, it.param4, it.lat, it.lon, it.alt)
            ],
            "type": "SimpleItem",
        }
        items.append(entry)
    polygons, circles, breach = [], [], None
    for cmd, group in _fence_groups(m.fence):
        if cmd in (INCL, EXCL):
            polygons.append(
                {"inclusion": cmd == INCL, "polygon": [[f.lat, f.lon] for f in group], "version": 1}
            )
        elif cmd in (CIRCLE_INCL, CIRCLE_EXCL):
            for f in group:
                circles.append(
                    {
                        "circle": {"center": [f.lat, f.lon], "radius": _num(f.param1)},
                        "inclusion": cmd == CIRCLE_INCL,
                        "version": 1,
                    }
                )
        elif cmd == RETURN_POINT:
            breach = [group[0].lat, group[0].lon, _num(group[0].alt)]
    fence: dict[str, Any] = {"circles": circles, "polygons": polygons, "version": 2}
    if breach:
        fence["breachReturn"] = breach
    speed = next(
        (it.param2 for it in m.items if it.command == mavlink.MAV_CMD_DO_CHANGE_SPEED), 5.0
    )
    doc = {
        "fileType": "Plan",
        "geoFence": fence,
        "groundStation": "Gridpatrol",
        "mission": {
            "cruiseSpeed": _num(speed),
            "firmwareType": ARDUPILOT,
            "globalPlanAltitudeMode": QGC_ALT_RELATIVE,
            "hoverSpeed": _num(speed),
            "items": items,
            "plannedHomePosition": [home.lat, home.lon, _num(home.alt)],
            "vehicleType": MULTIROTOR,
            "version": 2,
        },
        "rallyPoints": {"points": [[r.lat, r.lon, _num(r.alt)] for r in m.rally], "version": 2},
        "version": 1,
        "gridpatrol": {"name": m.name, "params": m.params},
    }
    return json.dumps(doc, indent=4, ensure_ascii=False) + "\n"


def _fence_groups(fence: list[MissionItem]) -> list[tuple[int, list[MissionItem]]]:
    """Split fence items into polygons (by vertex count) and single items."""
    groups: list[tuple[int, list[MissionItem]]] = []
    i = 0
    while i < len(fence):
        f = fence[i]
        n = int(f.param1) if f.command in (INCL, EXCL) else 1
        groups.append((f.command, fence[i : i + max(n, 1)]))
        i += max(n, 1)
    return groups


def _read_plan(path: Path, text: str) -> Mission:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MissionFileError(
            f"{path}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from exc
    if not isinstance(doc, dict) or doc.get("fileType") != "Plan":
        raise MissionFileError(f"{path}: not a QGroundControl plan (fileType is not 'Plan')")
    mission = doc.get("mission") or {}
    try:
        lat, lon, alt = (float(v) for v in mission["plannedHomePosition"][:3])
    except (KeyError, TypeError, ValueError) as exc:
        raise MissionFileError(
            f"{path}: mission has no plannedHomePosition [lat, lon, alt]"
        ) from exc
    items = [MissionItem(mavlink.MAV_CMD_NAV_WAYPOINT, GLOBAL, lat, lon, alt)]
    for n, raw in enumerate(mission.get("items") or [], 1):
        if not isinstance(raw, dict) or raw.get("type") != "SimpleItem":
            kind = raw.get("complexItemType", raw.get("type")) if isinstance(raw, dict) else raw
            raise MissionFileError(
                f"{path}: mission item {n} is a {kind!r} item; only SimpleItem is read "
                "(convert complex items to waypoints in QGroundControl first)"
            )
        try:
            p = [math.nan if v is None else float(v) for v in raw["params"]]
            if len(p) != 7:
                raise ValueError("params must hold 7 values")
            frame = int(raw["frame"])
            items.append(
                MissionItem(
                    command=int(raw["command"]),
                    frame=FROM_FILE.get(frame, frame),
                    lat=_zero_nan(p[4]),
                    lon=_zero_nan(p[5]),
                    alt=_zero_nan(p[6]),
                    param1=p[0],
                    param2=p[1],
                    param3=p[2],
                    param4=p[3],
                    autocontinue=int(bool(raw.get("autoContinue", True))),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MissionFileError(f"{path}: mission item {n} is malformed: {exc}") from exc
    fence_doc = doc.get("geoFence") or {}
    fence: list[MissionItem] = []
    try:
        for poly in fence_doc.get("polygons") or []:
            cmd = INCL if poly.get("inclusion", True) else EXCL
            pts = poly["polygon"]
            fence += [_fence_item(cmd, float(a), float(b), len(pts)) for a, b in pts]
        for circ in fence_doc.get("circles") or []:
            cmd = CIRCLE_INCL if circ.get("inclusion", True) else CIRCLE_EXCL
            (a, b), r = circ["circle"]["center"], float(circ["circle"]["radius"])
            fence.append(_fence_item(cmd, float(a), float(b), r))
        if fence_doc.get("breachReturn"):
            a, b, *rest = fence_doc["breachReturn"]
            fence.append(
                MissionItem(
                    RETURN_POINT,
                    GLOBAL,
                    float(a),
                    float(b),
                    float(rest[0]) if rest else 0.0,
                    autocontinue=0,
                    mission_type=FENCE,
                )
            )
        rally = [
            MissionItem(
                RALLY_POINT,
                REL_INT,
                float(a),
                float(b),
                float(c),
                autocontinue=0,
                mission_type=RALLY,
            )
            for a, b, c in (doc.get("rallyPoints") or {}).get("points") or []
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise MissionFileError(f"{path}: geoFence or rallyPoints malformed: {exc}") from exc
    extra = doc.get("gridpatrol") or {}
    params = {str(k): float(v) for k, v in (extra.get("params") or {}).items()}
    return Mission(items, fence, rally, name=str(extra.get("name") or ""), params=params)


def _zero_nan(v: float) -> float:
    return 0.0 if math.isnan(v) else v


def _fence_item(cmd: int, lat: float, lon: float, param1: float) -> MissionItem:
    return MissionItem(
        cmd, GLOBAL, lat, lon, 0.0, param1=param1, autocontinue=0, mission_type=FENCE
    )


# ---- Mission Planner .waypoints ------------------------------------------------------------

WPL_HEADER = "QGC WPL 110"


def _fmt(v: float) -> str:
    return repr(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))


def _waypoints_text(m: Mission) -> str:
    lines = [WPL_HEADER]
    for seq, it in enumerate(m.items):
        fields = [
            str(seq),
            "1" if seq == 0 else "0",
            str(TO_FILE.get(it.frame, it.frame)),
            str(it.command),
            *(_fmt(v) for v in (it.param1, it.param2, it.param3, it.param4)),
            _fmt(it.lat),
            _fmt(it.lon),
            _fmt(it.alt),
            str(it.autocontinue),
        ]
        lines.append("\t".join(fields))
    return "\n".join(lines) + "\n"


def _read_waypoints(path: Path, text: str) -> Mission:
    lines = text.splitlines()
    if not lines or not lines[0].strip().startswith("QGC WPL"):
        raise MissionFileError(f"{path}: line 1: expected the header '{WPL_HEADER}'")
    items: list[MissionItem] = []
    for n, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        if len(fields) != 12:
            raise MissionFileError(f"{path}: line {n}: expected 12 fields, found {len(fields)}")
        try:
            seq, _current, frame, cmd = (int(f) for f in fields[:4])
            p1, p2, p3, p4, lat, lon, alt = (float(f) for f in fields[4:11])
            auto = int(float(fields[11]))
        except ValueError as exc:
            raise MissionFileError(f"{path}: line {n}: {exc}") from exc
        if seq != len(items):
            raise MissionFileError(f"{path}: line {n}: sequence {seq}, expected {len(items)}")
        if seq == 0:
            frame = GLOBAL  # Mission Planner's home line: AMSL altitude
        items.append(
            MissionItem(cmd, FROM_FILE.get(frame, frame), lat, lon, alt, p1, p2, p3, p4, auto)
        )
    if not items:
        raise MissionFileError(f"{path}: no mission items")
    return Mission(items)


# ---- GeoJSON (for viewing on a map) -------------------------------------------------------


def _geojson_text(m: Mission) -> str:
    feats: list[dict[str, Any]] = []
    home = m.home
    route = [[home.lon, home.lat]]
    for seq, it in enumerate(m.items):
        if seq == 0 or it.command not in POSITIONED:
            continue
        route.append([it.lon, it.lat])
        feats.append(
            _feature(
                {"type": "Point", "coordinates": [it.lon, it.lat]},
                kind="loiter" if it.command == mavlink.MAV_CMD_NAV_LOITER_TIME else "waypoint",
                seq=seq,
                command=it.command,
                alt=it.alt,
                hover_s=it.param1 if it.command == mavlink.MAV_CMD_NAV_LOITER_TIME else 0,
            )
        )
    if m.items[-1].command == mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH:
        route.append([home.lon, home.lat])
    feats.insert(
        0,
        _feature(
            {"type": "LineString", "coordinates": route},
            kind="route",
            name=m.name,
            items=len(m.items),
            params=m.params,
        ),
    )
    feats.append(
        _feature({"type": "Point", "coordinates": [home.lon, home.lat]}, kind="home", alt=home.alt)
    )
    for cmd, group in _fence_groups(m.fence):
        if cmd in (INCL, EXCL):
            ring = [[f.lon, f.lat] for f in group]
            feats.append(
                _feature(
                    {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
                    kind="fence-inclusion" if cmd == INCL else "fence-exclusion",
                )
            )
    for r in m.rally:
        feats.append(
            _feature({"type": "Point", "coordinates": [r.lon, r.lat]}, kind="rally", alt=r.alt)
        )
    return json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False) + "\n"


def _feature(geometry: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": props}
