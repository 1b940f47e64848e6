"""Plans: preview (route, stats, sorties, broadcast audibility), save, list, download each
sortie as .plan or .waypoints and the broadcast bundle; the plans page."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi import Path as UrlPath
from fastapi.responses import HTMLResponse, Response
from shapely.geometry import shape

from audio.plan import PlanError, build_plan, write_bundle
from missions.camera import CAMERAS
from missions.formats import write_mission
from patrol.console.deps import OPERATOR, RowId, audit, console, page, require
from patrol.console.errors import ApiError
from patrol.console.planning import PlanRequest, make_plan, route_geojson, sorties_json
from patrol.console.services import Console
from patrol.console.templating import render
from patrol.store.accounts import SignedIn, User
from patrol.store.patrols import mission_from_json, mission_to_json
from patrol.store.planning import StoredPlan

router = APIRouter(tags=["plans"])
CAN_PLAN = Depends(require(OPERATOR))


def _preview(result) -> dict:  # type: ignore[no-untyped-def]
    plan = result.plan
    return {
        "summary": plan.summary(),
        "notes": plan.notes,
        "unreachable": plan.unreachable,
        "sorties": sorties_json(plan),
        "audibility": result.audibility,
    }


def plan_out(p: StoredPlan, full: bool = False) -> dict:
    out = {
        "id": p.id,
        "name": p.name,
        "created_by": p.created_by,
        "created_at": p.created_at.isoformat(),
        "summary": p.summary,
        "settings": p.settings,
        "broadcast": p.broadcast,
        "sorties": len(p.sorties),
    }
    if full:
        missions = [mission_from_json(m) for m in p.sorties]
        out["routes"] = [route_geojson(m) for m in missions]
    return out


@router.get("/api/plans/options")
def plan_options(_user: Annotated[User, CAN_PLAN]) -> dict:
    """What the plan form offers: patterns and cameras."""
    return {"patterns": ["coverage", "perimeter", "points"], "cameras": sorted(CAMERAS)}


@router.post("/api/plans/preview")
def preview_plan(
    body: PlanRequest, c: Annotated[Console, Depends(console)], _user: Annotated[User, CAN_PLAN]
) -> dict:
    """Plan without saving: the route of each sortie, the stats, the audibility per zone."""
    return _preview(make_plan(c, body))


@router.post("/api/plans", status_code=201)
def save_plan(
    body: PlanRequest,
    request: Request,
    c: Annotated[Console, Depends(console)],
    user: Annotated[User, CAN_PLAN],
) -> dict:
    result = make_plan(c, body)
    stored = c.planning.add_plan(
        body.name.strip(),
        result.request.model_dump(),
        result.plan.summary(),
        [mission_to_json(m) for m in result.plan.sorties],
        result.broadcast_spec,
        user.name,
    )
    audit(
        request, user, "plan-save", stored.name, f"plan {stored.id}, {len(stored.sorties)} sorties"
    )
    return plan_out(stored, full=True) | _preview(result)


@router.get("/api/plans")
def list_plans(c: Annotated[Console, Depends(console)], _user: Annotated[User, CAN_PLAN]) -> list:
    return [plan_out(p) for p in c.planning.plans()]


def stored_plan(c: Console, plan_id: int) -> StoredPlan:
    plan = c.planning.plan(plan_id)
    if plan is None:
        raise ApiError(404, f"no plan {plan_id}")
    return plan


@router.get("/api/plans/{plan_id}")
def get_plan(
    plan_id: RowId, c: Annotated[Console, Depends(console)], _user: Annotated[User, CAN_PLAN]
) -> dict:
    return plan_out(stored_plan(c, plan_id), full=True)


@router.delete("/api/plans/{plan_id}")
def delete_plan(
    plan_id: RowId,
    request: Request,
    c: Annotated[Console, Depends(console)],
    user: Annotated[User, CAN_PLAN],
) -> dict:
    plan = stored_plan(c, plan_id)
    c.planning.delete_plan(plan_id)
    audit(request, user, "plan-delete", plan.name, f"plan {plan_id}")
    return {"ok": True}


def _attachment(content: bytes, filename: str, media_type: str) -> Response:
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})


@router.get("/api/plans/{plan_id}/sorties/{number}/{fmt}")
def download_sortie(
    plan_id: RowId,
    number: Annotated[int, UrlPath(ge=1, le=1000)],
    fmt: Literal["plan", "waypoints"],
    c: Annotated[Console, Depends(console)],
    _user: Annotated[User, CAN_PLAN],
) -> Response:
    """Sortie ``number`` (from 1) as a QGroundControl .plan or Mission Planner .waypoints."""
    plan = stored_plan(c, plan_id)
    if not 1 <= number <= len(plan.sorties):
        raise ApiError(404, f"plan {plan_id} has {len(plan.sorties)} sortie(s), not {number}")
    mission = mission_from_json(plan.sorties[number - 1])
    with tempfile.TemporaryDirectory(prefix="gridpatrol-plan-") as folder:
        path = Path(folder) / f"sortie.{fmt}"
        write_mission(path, mission)
        content = path.read_bytes()
    name = f"{plan.name}-{number}.{fmt}" if len(plan.sorties) > 1 else f"{plan.name}.{fmt}"
    return _attachment(content, name, "application/json" if fmt == "plan" else "text/plain")


def broadcast_bundle(c: Console, plan: StoredPlan, path: Path) -> None:
    """Write the plan's broadcast bundle (the onboard agent's plan.zip) to ``path``."""
    if not plan.broadcast:
        raise ApiError(404, f"plan {plan.id} has no broadcast playlists")
    grids = {g.name: shape(g.geometry) for g in c.planning.grids("grid")}
    try:
        built = build_plan(plan.broadcast, c.library.plan_message, grids)
    except PlanError as exc:  # a message or grid deleted since the plan was saved
        raise ApiError(409, "; ".join(exc.problems)) from None
    write_bundle(built, path)


@router.get("/api/plans/{plan_id}/broadcast.zip")
def download_broadcast(
    plan_id: RowId, c: Annotated[Console, Depends(console)], _user: Annotated[User, CAN_PLAN]
) -> Response:
    """The broadcast bundle for the onboard agent (``patrol broadcast-agent --plan``)."""
    plan = stored_plan(c, plan_id)
    with tempfile.TemporaryDirectory(prefix="gridpatrol-bundle-") as folder:
        path = Path(folder) / "plan.zip"
        broadcast_bundle(c, plan, path)
        content = path.read_bytes()
    return _attachment(content, f"{plan.name}-broadcast.zip", "application/zip")


@router.get("/plans", include_in_schema=False)
def plans_page(
    request: Request, signed_in: Annotated[SignedIn, Depends(page(OPERATOR))]
) -> HTMLResponse:
    return render(request, "plans.html", signed_in)
