"""The ground staff's own page: the flags assigned to the signed-in member, each with its crop
and position, and marking one handled with a note or a photo (or adding a note)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse

from patrol.console.deps import STAFF, RowId, audit, console, page, require
from patrol.console.errors import ApiError
from patrol.console.routers.flags import event_json, flag_for, flag_json
from patrol.console.services import Console
from patrol.console.templating import render
from patrol.console.uploads import display_name
from patrol.store.accounts import SignedIn, User
from vision.flags import MAX_JPEG_BYTES, MAX_NOTE_CHARS, FlagError, FlagFilter

router = APIRouter(tags=["staff"])
IS_STAFF = Depends(require(STAFF))


@router.get("/api/staff/flags")
def my_flags(c: Annotated[Console, Depends(console)], user: Annotated[User, IS_STAFF]) -> list:
    """The flags assigned to me: still to do first, then those I handled."""
    todo = c.flags.list(FlagFilter(state="assigned", assigned_to=user.name), 200)
    done = [
        f for f in c.flags.list(FlagFilter(state="resolved"), 200)
        if any(e.action == "resolve" and e.by == user.name for e in c.flags.history(f.id))
    ][:20]  # fmt: skip
    out = []
    for f in todo + done:
        history = [event_json(e) for e in c.flags.history(f.id)]
        out.append(flag_json(f) | {"history": history})
    return out


def _photo(photo: UploadFile | None) -> bytes | None:
    if photo is None or not photo.filename:
        return None
    data = photo.file.read(MAX_JPEG_BYTES + 1)
    name = display_name(photo.filename)
    if len(data) > MAX_JPEG_BYTES:
        message = f"{name}: over the {MAX_JPEG_BYTES // 2**20} MB limit for a photo"
        raise ApiError(413, message, {"photo": message})
    if not data.startswith(b"\xff\xd8\xff"):
        message = f"{name}: not a JPEG photo"
        raise ApiError(400, message, {"photo": message})
    return data


def _step(
    c: Console, user: User, flag_id: int, action: str, note: str, photo: UploadFile | None
) -> dict:
    flag = flag_for(c, user, flag_id)
    if user.role == STAFF and flag.state != "assigned":
        raise ApiError(409, f"flag {flag_id} is {flag.state}, no longer waiting for you")
    data = _photo(photo)
    if action == "resolve" and not note.strip() and data is None:
        message = "say what was done, or add a photo"
        raise ApiError(400, message, {"note": message})
    try:
        updated = c.flags.review(flag_id, action, user.name, note, None, data)
    except FlagError as exc:
        raise ApiError(400, str(exc), {"note": str(exc)}) from None
    history = [event_json(e) for e in c.flags.history(flag_id)]
    return flag_json(updated) | {"history": history}


@router.post("/api/staff/flags/{flag_id}/handled")
def mark_handled(
    flag_id: RowId,
    request: Request,
    c: Annotated[Console, Depends(console)],
    user: Annotated[User, IS_STAFF],
    note: Annotated[str, Form(max_length=MAX_NOTE_CHARS)] = "",
    photo: Annotated[UploadFile | None, File()] = None,
) -> dict:
    """Handled on the ground: the flag is resolved, with a note, a photo, or both."""
    result = _step(c, user, flag_id, "resolve", note, photo)
    audit(request, user, "flag-resolve", f"flag {flag_id}", note[:200])
    return result


@router.post("/api/staff/flags/{flag_id}/note")
def add_note(
    flag_id: RowId,
    request: Request,
    c: Annotated[Console, Depends(console)],
    user: Annotated[User, IS_STAFF],
    note: Annotated[str, Form(max_length=MAX_NOTE_CHARS)] = "",
    photo: Annotated[UploadFile | None, File()] = None,
) -> dict:
    """A note (or photo) on the way, without closing the flag."""
    result = _step(c, user, flag_id, "note", note, photo)
    audit(request, user, "flag-note", f"flag {flag_id}", note[:200])
    return result


@router.get("/staff", include_in_schema=False)
def staff_page(
    request: Request, signed_in: Annotated[SignedIn, Depends(page(STAFF))]
) -> HTMLResponse:
    return render(request, "staff.html", signed_in)
