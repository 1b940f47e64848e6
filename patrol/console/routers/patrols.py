"""Patrols: launch a saved plan on chosen vehicles (a supervised worker runs ``patrol fly``),
resume one, list them with their workers, show one with its sorties and events; the list and
report pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from patrol.console.deps import OPERATOR, REVIEWER, BodyId, RowId, audit, console, page, require
from patrol.console.errors import ApiError
from patrol.console.report import patrol_report, store_play_log
from patrol.console.routers.plans import broadcast_bundle, stored_plan
from patrol.console.services import Console
from patrol.console.simulated import detection_options
from patrol.console.templating import render
from patrol.console.uploads import saved_upload
from patrol.console.workers import Launch
from patrol.link import LinkError, parse_endpoint
from patrol.store.accounts import SignedIn, User
from patrol.store.models import Patrol

router = APIRouter(tags=["patrols"])
CAN_FLY = Depends(require(OPERATOR))
CAN_READ = Depends(require(OPERATOR, REVIEWER))


class LaunchRequest(BaseModel):
    plan_id: BodyId
    connects: list[str] = Field(min_length=1, description="one vehicle per sortie, in order")


def launch_json(c: Console, launch: Launch, log: bool = False) -> dict:
    out = {
        "id": launch.id,
        "kind": launch.kind,
        "plan_id": launch.plan_id,
        "patrol_id": launch.patrol_id,
        "pid": launch.pid,
        "started_by": launch.started_by,
        "started_at": launch.started_at.isoformat(),
        "ended_at": launch.ended_at.isoformat() if launch.ended_at else None,
        "exit_code": launch.exit_code,
        "running": launch.running,
    }
    if log:
        out["log"] = c.workers.log_tail(launch)
    return out


def patrol_json(p: Patrol, events: int = 0) -> dict:
    return {
        "id": p.id,
        "name": p.name,
        "status": p.status,
        "created_at": p.created_at.isoformat(),
        "sorties": [
            {
                "id": s.id,
                "connect": s.connect,
                "sysid": s.sysid,
                "status": s.status,
                "reason": s.reason,
                "last_reached": s.last_reached,
                "distance_m": round(s.distance_m, 1),
                "started_at": s.started_at.isoformat() if s.started_at else None,
                "ended_at": s.ended_at.isoformat() if s.ended_at else None,
                "events": [
                    {"at": e.at.isoformat(), "kind": e.kind, "detail": e.detail}
                    for e in (s.events[-events:] if events else [])
                ],
            }
            for s in p.sorties
        ],
    }


def grids_geojson(c: Console) -> dict:
    """The village grids, for the detection to tag its flags with."""
    features = [
        {"type": "Feature", "properties": {"name": g.name}, "geometry": g.geometry}
        for g in c.planning.grids("grid")
    ]
    return {"type": "FeatureCollection", "features": features}


def _check_connects(c: Console, connects: list[str], sorties: int) -> None:
    if len(connects) != sorties:
        message = f"the plan has {sorties} sortie(s): pick one vehicle for each"
        raise ApiError(400, message, {"connects": message})
    if len(set(connects)) != len(connects):
        raise ApiError(400, "one vehicle per sortie", {"connects": "a vehicle is picked twice"})
    for connect in connects:
        try:
            parse_endpoint(connect)
        except LinkError as exc:
            raise ApiError(400, str(exc), {"connects": str(exc)}) from None
        if connect not in c.settings.connects:
            message = f"{connect} is not a vehicle this console flies (patrol serve --connect)"
            raise ApiError(400, message, {"connects": message})
    held = {cl.connect: cl for cl in c.claims.claims()}
    for connect in connects:
        if connect in held:
            raise ApiError(409, f"{connect} is busy: {held[connect].describe()}")


@router.post("/api/patrols", status_code=201)
def launch_patrol(
    body: LaunchRequest,
    request: Request,
    c: Annotated[Console, Depends(console)],
    user: Annotated[User, CAN_FLY],
) -> dict:
    """Launch a saved plan: one sortie per vehicle, flown by a supervised ``patrol fly``
    worker (preflight first; the fly page shows each line as it passes or fails)."""
    plan = stored_plan(c, body.plan_id)
    _check_connects(c, body.connects, len(plan.sorties))
    if plan.broadcast:
        for connect in body.connects:
            sim = c.simulated_at(connect)
            if sim is not None:
                c.agents.ensure(sim, lambda path: broadcast_bundle(c, plan, path))
    sims = [c.simulated_at(connect) for connect in body.connects]
    cameras = None
    if all(sim is not None and sim.camera for sim in sims):  # detection beside every sortie
        cameras = [(sim.camera, sim.camera_link) for sim in sims]
    launch = c.workers.fly(
        plan, body.connects, user.name, cameras, detection_options(c.settings.speedup),
        grids_geojson(c),
    )  # fmt: skip
    audit(request, user, "launch", f"plan {plan.id} {plan.name}", ", ".join(body.connects))
    return launch_json(c, launch)


@router.post("/api/patrols/{patrol_id}/resume", status_code=201)
def resume_patrol(
    patrol_id: RowId,
    request: Request,
    c: Annotated[Console, Depends(console)],
    user: Annotated[User, CAN_FLY],
) -> dict:
    """Continue a patrol (``patrol resume``): re-attach to vehicles still flying, fly the rest
    of the route on those that landed early."""
    patrol = c.patrols.get_patrol(patrol_id)
    if patrol is None:
        raise ApiError(404, f"no patrol {patrol_id}")
    if all(s.status == "completed" for s in patrol.sorties):
        raise ApiError(409, f"patrol {patrol_id} is already completed")
    launch = c.workers.resume(patrol_id, user.name)
    audit(request, user, "resume", f"patrol {patrol_id}")
    return launch_json(c, launch)


@router.get("/api/patrols")
def list_patrols(c: Annotated[Console, Depends(console)], _user: Annotated[User, CAN_READ]) -> dict:
    return {
        "patrols": [patrol_json(p) for p in c.patrols.list_patrols()],
        "launches": [launch_json(c, launch) for launch in c.workers.launches()],
    }


@router.get("/api/launches/{launch_id}")
def get_launch(
    launch_id: RowId, c: Annotated[Console, Depends(console)], _user: Annotated[User, CAN_FLY]
) -> dict:
    """A worker with the tail of its output."""
    launch = c.workers.launch(launch_id)
    if launch is None:
        raise ApiError(404, f"no launch {launch_id}")
    return launch_json(c, launch, log=True)


@router.get("/api/patrols/{patrol_id}")
def get_patrol(
    patrol_id: RowId, c: Annotated[Console, Depends(console)], _user: Annotated[User, CAN_READ]
) -> dict:
    patrol = c.patrols.get_patrol(patrol_id)
    if patrol is None:
        raise ApiError(404, f"no patrol {patrol_id}")
    return patrol_json(patrol, events=50)


@router.get("/api/patrols/{patrol_id}/report")
def report(
    patrol_id: RowId, c: Annotated[Console, Depends(console)], _user: Annotated[User, CAN_READ]
) -> dict:
    """The patrol report: routes planned and flown, broadcasts played, flags and follow-up."""
    patrol = c.patrols.get_patrol(patrol_id)
    if patrol is None:
        raise ApiError(404, f"no patrol {patrol_id}")
    return patrol_report(c, patrol)


@router.post("/api/patrols/{patrol_id}/sorties/{sortie_id}/plays", status_code=201)
def upload_plays(
    patrol_id: RowId,
    sortie_id: RowId,
    request: Request,
    c: Annotated[Console, Depends(console)],
    user: Annotated[User, CAN_FLY],
    file: Annotated[UploadFile, File()],
) -> dict:
    """A real aircraft's broadcast agent play log (plays.jsonl) for the report."""
    patrol = c.patrols.get_patrol(patrol_id)
    if patrol is None or sortie_id not in {s.id for s in patrol.sorties}:
        raise ApiError(404, f"no sortie {sortie_id} in patrol {patrol_id}")
    with saved_upload(file, (".jsonl", ".json", ".log"), c.site.current.max_upload_bytes) as (
        path,
        shown,
    ):
        plays = store_play_log(c, patrol_id, sortie_id, path)
    audit(request, user, "plays-upload", f"patrol {patrol_id} sortie {sortie_id}", shown)
    return {"plays": plays}


@router.get("/patrols/{patrol_id}", include_in_schema=False)
def report_page(
    patrol_id: RowId,
    request: Request,
    signed_in: Annotated[SignedIn, Depends(page(OPERATOR, REVIEWER))],
) -> HTMLResponse:
    return render(request, "report.html", signed_in, patrol_id=patrol_id)


@router.get("/patrols", include_in_schema=False)
def patrols_page(
    request: Request, signed_in: Annotated[SignedIn, Depends(page(OPERATOR, REVIEWER))]
) -> HTMLResponse:
    return render(request, "patrols.html", signed_in)
