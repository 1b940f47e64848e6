"""Users and the audit log (admin), the staff list (for assigning flags), the admin page."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from patrol.console.deps import ADMIN, MAX_ID, REVIEWER, Admin, audit, console, page, require
from patrol.console.errors import ApiError
from patrol.console.services import Console
from patrol.console.templating import render
from patrol.store.accounts import MAX_PASSWORD_CHARS, AccountError, SignedIn, User

router = APIRouter(tags=["users"])
Role = Literal["admin", "operator", "reviewer", "staff"]


class UserOut(BaseModel):
    name: str
    role: str
    disabled: bool
    created_at: datetime


class NewUser(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: Role
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_CHARS)


class UserChange(BaseModel):
    role: Role | None = None
    password: str | None = Field(default=None, max_length=MAX_PASSWORD_CHARS)
    disabled: bool | None = None


class AuditOut(BaseModel):
    id: int
    at: datetime
    user: str
    action: str
    target: str
    detail: str
    address: str


def _out(user: User) -> UserOut:
    return UserOut(
        name=user.name, role=user.role, disabled=user.disabled, created_at=user.created_at
    )


def _keep_an_admin(c: Console, name: str) -> None:
    admins = [u for u in c.accounts.users() if u.role == ADMIN and not u.disabled]
    if [u.name for u in admins] == [name]:
        raise ApiError(409, f"{name} is the only admin left: make another admin first")


@router.get("/api/users", dependencies=[Admin])
def list_users(c: Annotated[Console, Depends(console)]) -> list[UserOut]:
    return [_out(u) for u in c.accounts.users()]


@router.get("/api/users/staff")
def list_staff(
    c: Annotated[Console, Depends(console)], _user: Annotated[User, Depends(require(REVIEWER))]
) -> list[str]:
    """Names of the ground staff a flag can be assigned to."""
    return [u.name for u in c.accounts.users() if u.role == "staff" and not u.disabled]


@router.post("/api/users", status_code=201)
def add_user(
    body: NewUser,
    request: Request,
    c: Annotated[Console, Depends(console)],
    me: Annotated[User, Depends(require(ADMIN))],
) -> UserOut:
    try:
        user = c.accounts.add_user(body.name, body.role, body.password)
    except AccountError as exc:
        field = "password" if "password" in str(exc) else "name"
        raise ApiError(400 if field == "password" else 409, str(exc), {field: str(exc)}) from None
    audit(request, me, "user-add", user.name, f"role {user.role}")
    return _out(user)


@router.patch("/api/users/{name}")
def change_user(
    name: str,
    body: UserChange,
    request: Request,
    c: Annotated[Console, Depends(console)],
    me: Annotated[User, Depends(require(ADMIN))],
) -> UserOut:
    if c.accounts.get_user(name) is None:
        raise ApiError(404, f"no user named {name!r}")
    if (body.role not in (None, ADMIN)) or body.disabled:
        _keep_an_admin(c, name)
    try:
        user = c.accounts.update_user(
            name, role=body.role, password=body.password, disabled=body.disabled
        )
    except AccountError as exc:
        raise ApiError(400, str(exc), {"password": str(exc)}) from None
    changed = [k for k, v in body.model_dump().items() if v is not None]
    audit(request, me, "user-change", name, ", ".join(k for k in changed if k != "password")
          + (" password" if body.password else ""))  # fmt: skip
    return _out(user)


@router.delete("/api/users/{name}")
def remove_user(
    name: str,
    request: Request,
    c: Annotated[Console, Depends(console)],
    me: Annotated[User, Depends(require(ADMIN))],
) -> dict:
    if c.accounts.get_user(name) is None:
        raise ApiError(404, f"no user named {name!r}")
    _keep_an_admin(c, name)
    c.accounts.remove_user(name)
    audit(request, me, "user-remove", name)
    return {"ok": True}


@router.get("/api/audit", dependencies=[Admin])
def audit_log(
    c: Annotated[Console, Depends(console)],
    user: str | None = None,
    action: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> list[AuditOut]:
    """Every control action, newest first (who, what, on what, when, from where)."""
    entries = c.accounts.audit_log(limit, offset, user, action)
    return [AuditOut(**e.__dict__) for e in entries]


@router.get("/admin", include_in_schema=False)
def admin_page(
    request: Request, signed_in: Annotated[SignedIn, Depends(page(ADMIN))]
) -> HTMLResponse:
    return render(request, "admin.html", signed_in)
