"""Site settings (admin): read them with where each comes from, change some, reset some to
``patrol serve``'s value; every change audited with the old and new values."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ValidationError, create_model

from patrol.console.deps import ADMIN, Admin, audit, console, require
from patrol.console.errors import ApiError
from patrol.console.services import Console
from patrol.console.site import KEYS, SiteSettings
from patrol.store.accounts import User

router = APIRouter(tags=["settings"])

# the same fields, each optional: a change names only what it changes
SiteChange = create_model(
    "SiteChange",
    __base__=BaseModel,
    **{
        name: (info.annotation | None, None)  # type: ignore[operator]
        for name, info in SiteSettings.model_fields.items()
    },
)


class SettingsChange(BaseModel):
    values: SiteChange = SiteChange()  # type: ignore[valid-type]
    reset: list[str] = []


def _view(c: Console) -> dict:
    return {"values": c.site.current.model_dump(mode="json"), "sources": c.site.sources()}


@router.get("/api/settings", dependencies=[Admin])
def get_settings(c: Annotated[Console, Depends(console)]) -> dict:
    """Every site setting, and whether it was saved here (by whom, when) or comes from
    ``patrol serve``'s options."""
    return _view(c)


def _shown(value: object) -> str:
    return json.dumps(value, ensure_ascii=False) if value is not None else "none"


@router.patch("/api/settings")
def change_settings(
    body: SettingsChange,
    request: Request,
    c: Annotated[Console, Depends(console)],
    me: Annotated[User, Depends(require(ADMIN))],
) -> dict:
    """Change the settings given in ``values`` (a ``null`` clears ``tile_url`` or ``home``),
    and put those in ``reset`` back to ``patrol serve``'s value."""
    values = body.values.model_dump(exclude_unset=True)
    unknown = [k for k in body.reset if k not in KEYS]
    if unknown:
        raise ApiError(400, f"no setting named {unknown[0]!r}", {"reset": ", ".join(unknown)})
    both = set(values) & set(body.reset)
    if both:
        raise ApiError(400, f"{sorted(both)[0]}: changed and reset at once", {"reset": "both"})
    before = c.site.current.model_dump(mode="json")
    try:
        after = c.site.change(values, tuple(body.reset), me.name).model_dump(mode="json")
    except ValidationError as exc:
        fields = {".".join(str(p) for p in e["loc"]): e["msg"] for e in exc.errors()}
        first = next(iter(fields.items()))
        raise ApiError(400, f"{first[0]}: {first[1]}", fields) from None
    changed = [k for k in KEYS if before[k] != after[k]]
    detail = "; ".join(f"{k}: {_shown(before[k])} → {_shown(after[k])}" for k in changed)
    audit(request, me, "settings-change", ", ".join(changed) or "nothing", detail)
    return _view(c)
