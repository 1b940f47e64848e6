"""Vehicles: the ones this console may launch on, every flying sortie's live state (JSON and
server-sent events), and operator commands relayed to the controller that holds a vehicle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import BaseModel

from patrol.console.deps import OPERATOR, RowId, audit, console, page, require
from patrol.console.errors import ApiError
from patrol.console.services import Console
from patrol.console.templating import render
from patrol.store.accounts import SignedIn, User

router = APIRouter(tags=["vehicles"])
CAN_FLY = Depends(require(OPERATOR))
KEEPALIVE_S = 15.0
POLL_S = 0.25


class Command(BaseModel):
    action: Literal["pause", "continue", "rtl", "land"]


def vehicles_json(c: Console) -> list[dict]:
    claims = c.claims.claims()
    out = []
    for connect in c.settings.connects:
        holder = next((cl for cl in claims if cl.connect == connect), None)
        sim = c.simulated_at(connect)
        out.append(
            {
                "connect": connect,
                "simulated": sim is not None,
                "sysid": sim.sysid if sim else None,
                "busy": holder is not None,
                "held_by": holder.describe() if holder else None,
                "sortie": holder.sortie_id if holder else None,
            }
        )
    return out


@router.get("/api/vehicles")
def list_vehicles(c: Annotated[Console, Depends(console)], _user: Annotated[User, CAN_FLY]) -> dict:
    """The vehicles this console may launch on (busy when a controller holds one) and the
    live state of every flying sortie, whoever launched it."""
    return {"vehicles": vehicles_json(c), "live": c.fleet.state()}


@router.get("/api/vehicles/stream")
async def stream_vehicles(
    request: Request, c: Annotated[Console, Depends(console)], _user: Annotated[User, CAN_FLY]
) -> StreamingResponse:
    """Server-sent events: one ``data:`` line of JSON (as ``live`` in /api/vehicles) each time
    a vehicle's state changes."""

    async def events() -> AsyncIterator[str]:
        # polled, not waited on in a thread: fifty watching browsers must not hold fifty of
        # the thread pool's workers that the rest of the API runs on
        version, quiet = -1, 0.0
        while not await request.is_disconnected():
            if c.fleet.version != version:
                version, event = c.fleet.event()
                quiet = 0.0
                yield event
            elif quiet >= KEEPALIVE_S:
                quiet = 0.0
                yield ": keepalive\n\n"
            await anyio.sleep(POLL_S)
            quiet += POLL_S

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


@router.post("/api/vehicles/{sortie_id}/command")
def command_vehicle(
    sortie_id: RowId,
    body: Command,
    request: Request,
    c: Annotated[Console, Depends(console)],
    user: Annotated[User, CAN_FLY],
) -> dict:
    """Pause, continue, RTL or land: sent to the controller that flies the sortie."""
    result = c.fleet.command(sortie_id, body.action, user.name)
    audit(request, user, body.action, f"sortie {sortie_id}",
          ("" if result.get("ok") else "refused: ") + str(result.get("detail", "")))  # fmt: skip
    if not result.get("ok"):
        raise ApiError(409, str(result.get("detail", "refused")))
    return result


@router.get("/fly", include_in_schema=False)
def fly_page(
    request: Request, signed_in: Annotated[SignedIn, Depends(page(OPERATOR))]
) -> HTMLResponse:
    return render(request, "fly.html", signed_in)
