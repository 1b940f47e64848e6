"""The patrol report: per sortie the route planned and the route flown (read back from the
sortie's .tlog, every position the vehicle reported), the broadcasts played (the onboard
agents' play logs), and the flags raised with their follow-up."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

from pymavlink import mavutil

from patrol.console.agents import read_plays, sim_session_for
from patrol.console.planning import route_geojson
from patrol.console.services import Console
from patrol.console.simulated import SimVehicle
from patrol.geodesy import distance
from patrol.store.models import Patrol, Sortie, aware
from patrol.store.patrols import mission_from_json
from vision.flags import FlagFilter

TRAIL_STEP_M = 5.0
PLAY_SLACK = timedelta(minutes=1)


def flown_route(tlog: str) -> list[list[float]]:
    """[lon, lat] of the positions the vehicle reported while armed, thinned to 5 m steps."""
    path = Path(tlog)
    if not tlog or not path.is_file():
        return []
    points: list[list[float]] = []
    armed = False
    log = mavutil.mavlink_connection(str(path), dialect="ardupilotmega")
    try:
        while True:
            msg = log.recv_match(type=["HEARTBEAT", "GLOBAL_POSITION_INT"])
            if msg is None:
                break
            if msg.get_type() == "HEARTBEAT":
                if msg.type != mavutil.mavlink.MAV_TYPE_GCS and msg.autopilot != 8:
                    armed = bool(msg.base_mode & mavutil.mavlink.MAV_MODE_FLAG_SAFETY_ARMED)
                continue
            if not armed or (msg.lat == 0 and msg.lon == 0):
                continue
            point = [msg.lon / 1e7, msg.lat / 1e7]
            if (
                not points
                or distance(points[-1][1], points[-1][0], point[1], point[0]) >= TRAIL_STEP_M
            ):
                points.append(point)
    finally:
        log.close()
    return points


def plays_folder(c: Console, patrol_id: int, sortie_id: int) -> Path:
    """Where a play log uploaded for a sortie (a real aircraft's agent) is kept."""
    return c.settings.data_dir / "console" / "plays" / f"patrol-{patrol_id}" / f"sortie-{sortie_id}"


def store_play_log(c: Console, patrol_id: int, sortie_id: int, source: Path) -> int:
    folder = plays_folder(c, patrol_id, sortie_id)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, folder / "plays.jsonl")
    return sum(1 for _ in read_plays(folder))


def _plays(c: Console, patrol: Patrol, sortie: Sortie) -> list[dict]:
    folders: list[tuple[Path, SimVehicle | None, float]] = [
        (plays_folder(c, patrol.id, sortie.id), None, 1.0)
    ]
    if sortie.started_at is not None:
        sim = sim_session_for(c.agents.root, sortie.connect, sortie.sysid, aware(sortie.started_at))
        if sim is not None:
            folders.append(sim)
    start = aware(sortie.started_at) - PLAY_SLACK if sortie.started_at else None
    end = aware(sortie.ended_at) + PLAY_SLACK if sortie.ended_at else None
    plays = []
    for folder, clock, speedup in folders:
        for record in read_plays(folder):
            try:
                at = datetime.fromisoformat(str(record.get("start")))
            except ValueError:
                continue
            if at.tzinfo is None or start is None:
                continue
            # a sim copter's agent logs its aircraft's time, which runs K times faster
            wall = clock.wall_time(at, speedup) if clock is not None else at
            if start <= wall and (end is None or wall <= end):
                plays.append(
                    {
                        "start": at.isoformat(),
                        "zone": record.get("zone"),
                        "title": record.get("title"),
                        "heard_s": record.get("heard_s"),
                        "finished": record.get("finished"),
                        "reason": record.get("reason"),
                    }
                )
    return sorted(plays, key=lambda p: p["start"])


def patrol_report(c: Console, patrol: Patrol) -> dict:
    sorties = []
    for s in patrol.sorties:
        mission = mission_from_json(s.mission)
        sorties.append(
            {
                "id": s.id,
                "vehicle": s.sysid,
                "connect": s.connect,
                "status": s.status,
                "reason": s.reason,
                "started_at": s.started_at.isoformat() if s.started_at else None,
                "ended_at": s.ended_at.isoformat() if s.ended_at else None,
                "distance_m": round(s.distance_m, 1),
                "waypoints_reached": len(s.reached),
                "planned": route_geojson(mission),
                "flown": {"type": "LineString", "coordinates": flown_route(s.tlog)},
                "plays": _plays(c, patrol, s),
                "events": [
                    {"at": e.at.isoformat(), "kind": e.kind, "detail": e.detail}
                    for e in s.events
                    if e.kind in ("operator", "failsafe", "link", "error")
                ],
            }
        )
    flags = []
    for f in c.flags.list(FlagFilter(patrol_id=patrol.id), 1000):
        history = c.flags.history(f.id)
        last = history[-1] if history else None
        follow_up = ""
        if last is not None:
            follow_up = f"{last.by}: {last.action}" + (f" — {last.note}" if last.note else "")
        flags.append(
            {
                "id": f.id, "kind": f.kind, "count": f.count, "grid": f.grid, "lat": f.lat,
                "lon": f.lon, "state": f.state, "assigned_to": f.assigned_to,
                "last_seen": f.last_seen.isoformat(),
                "follow_up": follow_up,
            }
        )  # fmt: skip
    return {
        "id": patrol.id,
        "name": patrol.name,
        "status": patrol.status,
        "created_at": patrol.created_at.isoformat(),
        "sorties": sorties,
        "flags": flags,
    }
