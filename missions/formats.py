"""Mission files: QGroundControl .plan, Mission Planner .waypoints (QGC WPL 110) and GeoJSON.

``write_mission`` picks the format by extension and returns every file it wrote;
``read_mission`` reads .plan and .waypoints. .plan keeps the mission, fence, rally points and
the vehicle parameters (``missions.qgc_plan``); .waypoints holds the mission items, with the
fence, rally points and FENCE_* parameters in files beside it (``missions.wpl``). In .plan and
.waypoints the relative-altitude frame is written as QGroundControl and Mission Planner write
it (3, MAV_FRAME_GLOBAL_RELATIVE_ALT) and read back as the _INT frame (6) that
MISSION_ITEM_INT uses. GeoJSON is for viewing on a map.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from missions.errors import MissionFileError
from missions.items import Mission
from missions.mission_frames import EXCL, INCL, POSITIONED, fence_groups
from missions.qgc_plan import plan_text, read_plan
from missions.wpl import read_waypoints, waypoints_files

MAX_MISSION_FILE_BYTES = 20_000_000


def write_mission(path: Path, mission: Mission) -> list[Path]:
    """Write one mission; the format follows the extension (.plan, .waypoints, .geojson).
    Returns the files written (a .waypoints file has its fence, rally and parameter files
    beside it)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".plan":
        files = {path: plan_text(mission)}
    elif suffix == ".waypoints":
        files = waypoints_files(path, mission)
    elif suffix == ".geojson":
        files = {path: _geojson_text(mission)}
    else:
        raise MissionFileError(
            f"{path}: unknown mission file type '{path.suffix}' (use .plan, .waypoints, .geojson)"
        )
    for target, text in files.items():
        _replace(target, text)
    return list(files)


def _replace(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)  # a plan already there survives a failed write
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise MissionFileError(f"{path}: cannot write: {exc}") from exc


def write_missions(path: Path, missions: Sequence[Mission]) -> list[list[Path]]:
    """Write one file per sortie: ``path`` itself for one, ``stem-1.ext``, ``stem-2.ext`` ...
    for several. Returns each sortie's files, its mission file first."""
    path = Path(path)
    if len(missions) == 1:
        targets = [path]
    else:
        targets = [
            path.with_name(f"{path.stem}-{n}{path.suffix}") for n in range(1, len(missions) + 1)
        ]
    return [write_mission(t, m) for t, m in zip(targets, missions, strict=True)]


def read_mission(path: Path) -> Mission:
    """Read a .plan or .waypoints file back into a Mission."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".plan", ".waypoints"):
        raise MissionFileError(f"{path}: cannot read '{path.suffix}' missions (.plan, .waypoints)")
    try:
        if path.stat().st_size > MAX_MISSION_FILE_BYTES:
            raise MissionFileError(f"{path}: over {MAX_MISSION_FILE_BYTES / 1e6:.0f} MB")
        data = path.read_bytes()
    except OSError as exc:
        raise MissionFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if suffix == ".plan":
        mission = read_plan(path, data)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise MissionFileError(f"{path}: not UTF-8 text (byte {exc.start})") from None
        mission = read_waypoints(path, text)
    if not mission.name:
        mission.name = path.stem
    return mission


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
    for cmd, group in fence_groups(m.fence):
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
