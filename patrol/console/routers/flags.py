"""Flags from the camera: the review queue (filters, thumbnails, crops, map positions),
confirm / dismiss / assign to a member of the ground staff with a note, reopen, the follow-up
history with the staff's notes and photos, CSV and GeoJSON export; the review page."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import BaseModel, Field

from patrol.console.deps import (
    MAX_ID,
    OPERATOR,
    REVIEWER,
    STAFF,
    RowId,
    audit,
    console,
    page,
    require,
)
from patrol.console.errors import ApiError
from patrol.console.services import Console
from patrol.console.templating import render
from patrol.store.accounts import SignedIn, User
from vision.flags import (
    FLAG_KINDS,
    MAX_NOTE_CHARS,
    REVIEW_STATES,
    Flag,
    FlagError,
    FlagEvent,
    FlagFilter,
    to_csv,
    to_geojson,
)

router = APIRouter(tags=["flags"])
CAN_REVIEW = Depends(require(REVIEWER))
Kind = Literal[FLAG_KINDS]  # type: ignore[valid-type]
State = Literal[REVIEW_STATES]  # type: ignore[valid-type]
EXPORT_LIMIT = 100_000


class Review(BaseModel):
    action: Literal["confirm", "dismiss", "assign", "reopen", "note"]
    note: str = Field(default="", max_length=MAX_NOTE_CHARS)
    assignee: str | None = Field(default=None, max_length=100)


def flag_json(f: Flag) -> dict:
    return {
        "id": f.id,
        "kind": f.kind,
        "state": f.state,
        "count": f.count,
        "confidence": round(f.confidence, 3),
        "lat": f.lat,
        "lon": f.lon,
        "error_m": round(f.error_m, 1),
        "radius_m": round(f.radius_m, 1) if f.radius_m is not None else None,
        "grid": f.grid,
        "patrol_id": f.patrol_id,
        "sortie_id": f.sortie_id,
        "first_seen": f.first_seen.isoformat(),
        "last_seen": f.last_seen.isoformat(),
        "observations": f.observations,
        "assigned_to": f.assigned_to,
        "detail": f.detail,
        "updated_at": f.updated_at.isoformat(),
        "crop": f"/api/flags/{f.id}/crop" if f.crop else None,
        "thumbnail": f"/api/flags/{f.id}/thumbnail" if f.thumbnail else None,
    }


def event_json(e: FlagEvent) -> dict:
    return {
        "id": e.id,
        "at": e.at.isoformat(),
        "by": e.by,
        "action": e.action,
        "from_state": e.from_state,
        "to_state": e.to_state,
        "assignee": e.assignee,
        "note": e.note,
        "photo": f"/api/flags/{e.flag_id}/photos/{e.id}" if e.photo else None,
    }


def flag_for(c: Console, user: User, flag_id: int) -> Flag:
    """The flag, if ``user`` may see it: reviewers (and admins) any; staff only theirs."""
    try:
        flag = c.flags.get(flag_id)
    except FlagError:
        raise ApiError(404, f"no flag {flag_id}") from None
    if user.role == STAFF and flag.assigned_to != user.name:
        raise ApiError(403, f"flag {flag_id} is not assigned to you")
    return flag


def _filter(
    kind: Kind | None = None,
    state: State | None = None,
    grid: str | None = None,
    patrol_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    assigned_to: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> FlagFilter:
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise ApiError(422, f"{name}: give a time with its UTC offset", {name: "needs +08:00"})
    # the store keeps UTC: compare in UTC (SQLite compares the stored text)
    since = since.astimezone(UTC) if since else None
    until = until.astimezone(UTC) if until else None
    return FlagFilter(kind, state, grid or None, patrol_id, None, assigned_to or None, since, until)


@router.get("/api/flags")
def list_flags(
    c: Annotated[Console, Depends(console)],
    _user: Annotated[User, CAN_REVIEW],
    flt: Annotated[FlagFilter, Depends(_filter)],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> dict:
    """The review queue, newest sighting first, with the number matching the filters."""
    return {
        "count": c.flags.count(flt),
        "flags": [flag_json(f) for f in c.flags.list(flt, limit, offset)],
        "grids": sorted({g.name for g in c.planning.grids("grid")}),
    }


OPEN_STATES = ("new", "confirmed", "assigned")


@router.get("/api/flags/positions")
def flag_positions(
    c: Annotated[Console, Depends(console)],
    _user: Annotated[User, Depends(require(OPERATOR, REVIEWER))],
    patrol_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    open_only: bool = True,
    limit: Annotated[int, Query(ge=1, le=2000)] = 500,
) -> list[dict]:
    """Where the flags are, for the maps an operator flies by: kind, count, state and
    position only (the crops, notes and follow-up stay with the reviewers). ``open_only``:
    those still new, confirmed or assigned."""
    flags = c.flags.list(FlagFilter(patrol_id=patrol_id), limit)
    return [
        {"id": f.id, "kind": f.kind, "count": f.count, "state": f.state, "lat": f.lat,
         "lon": f.lon, "radius_m": round(f.radius_m, 1) if f.radius_m is not None else None,
         "grid": f.grid, "patrol_id": f.patrol_id, "last_seen": f.last_seen.isoformat()}
        for f in flags
        if not open_only or f.state in OPEN_STATES
    ]  # fmt: skip


@router.get("/api/flags/export.csv")
def export_csv(
    c: Annotated[Console, Depends(console)],
    _user: Annotated[User, CAN_REVIEW],
    flt: Annotated[FlagFilter, Depends(_filter)],
) -> Response:
    text = to_csv(c.flags.list(flt, EXPORT_LIMIT))
    headers = {"Content-Disposition": 'attachment; filename="flags.csv"'}
    # a byte-order mark so that spreadsheets open the Chinese text as UTF-8
    return Response("\ufeff" + text, media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/api/flags/export.geojson")
def export_geojson(
    c: Annotated[Console, Depends(console)],
    _user: Annotated[User, CAN_REVIEW],
    flt: Annotated[FlagFilter, Depends(_filter)],
) -> Response:
    body = json.dumps(to_geojson(c.flags.list(flt, EXPORT_LIMIT)), ensure_ascii=False)
    headers = {"Content-Disposition": 'attachment; filename="flags.geojson"'}
    return Response(body, media_type="application/geo+json", headers=headers)


@router.get("/api/flags/{flag_id}")
def get_flag(
    flag_id: RowId,
    c: Annotated[Console, Depends(console)],
    user: Annotated[User, Depends(require(REVIEWER, STAFF))],
) -> dict:
    """A flag with its review and follow-up history."""
    flag = flag_for(c, user, flag_id)
    return flag_json(flag) | {"history": [event_json(e) for e in c.flags.history(flag_id)]}


def _image(path) -> FileResponse:  # type: ignore[no-untyped-def]
    if path is None or not path.is_file():
        raise ApiError(404, "no image")
    return FileResponse(path, media_type="image/jpeg")


@router.get("/api/flags/{flag_id}/crop")
def flag_crop(
    flag_id: RowId,
    c: Annotated[Console, Depends(console)],
    user: Annotated[User, Depends(require(REVIEWER, STAFF))],
) -> FileResponse:
    return _image(flag_for(c, user, flag_id).crop)


@router.get("/api/flags/{flag_id}/thumbnail")
def flag_thumbnail(
    flag_id: RowId,
    c: Annotated[Console, Depends(console)],
    user: Annotated[User, Depends(require(REVIEWER, STAFF))],
) -> FileResponse:
    return _image(flag_for(c, user, flag_id).thumbnail)


@router.get("/api/flags/{flag_id}/photos/{event_id}")
def followup_photo(
    flag_id: RowId,
    event_id: RowId,
    c: Annotated[Console, Depends(console)],
    user: Annotated[User, Depends(require(REVIEWER, STAFF))],
) -> FileResponse:
    """A photo the ground staff took when handling the flag."""
    flag_for(c, user, flag_id)
    event = next((e for e in c.flags.history(flag_id) if e.id == event_id), None)
    return _image(event.photo if event else None)


@router.post("/api/flags/{flag_id}/review")
def review_flag(
    flag_id: RowId,
    body: Review,
    request: Request,
    c: Annotated[Console, Depends(console)],
    user: Annotated[User, CAN_REVIEW],
) -> dict:
    """Confirm, dismiss, assign (to a member of the ground staff, by name), reopen, or note."""
    flag_for(c, user, flag_id)
    assignee = None
    if body.action == "assign":
        staff = c.accounts.get_user((body.assignee or "").strip())
        if staff is None or staff.role != STAFF or staff.disabled:
            message = f"{body.assignee!r} is not a member of the ground staff"
            raise ApiError(400, message, {"assignee": message})
        assignee = staff.name
    elif body.assignee:
        raise ApiError(400, "only assign takes an assignee", {"assignee": "only for assign"})
    try:
        flag = c.flags.review(flag_id, body.action, user.name, body.note, assignee)
    except FlagError as exc:
        raise ApiError(409, str(exc)) from None
    target = f"flag {flag_id}" + (f" to {assignee}" if assignee else "")
    audit(request, user, f"flag-{body.action}", target, body.note[:200])
    return flag_json(flag)


@router.get("/review", include_in_schema=False)
def review_page(
    request: Request, signed_in: Annotated[SignedIn, Depends(page(REVIEWER))]
) -> HTMLResponse:
    return render(request, "review.html", signed_in)
