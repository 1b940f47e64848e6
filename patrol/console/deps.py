"""Dependencies the routers share: the console's services, the signed-in user with a role check
(API: 401/403 as JSON; pages: to the sign-in page), and the audit helper."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Path, Request
from pydantic import Field

from patrol.console.errors import ApiError, LoginRequired
from patrol.console.services import Console
from patrol.store.accounts import SignedIn, User

# what each role may do; admin may do everything
OPERATOR, REVIEWER, STAFF, ADMIN = "operator", "reviewer", "staff", "admin"
# the store's keys are Integer columns (PostgreSQL's integer): a larger number names nothing
MAX_ID = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]  # a path parameter naming a stored row
BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]  # the same in a request body


def console(request: Request) -> Console:
    return request.app.state.console


def _allowed(user: User, roles: tuple[str, ...]) -> bool:
    return user.role == ADMIN or user.role in roles


def require(*roles: str) -> Callable[[Request], User]:
    """An API dependency: the signed-in user, if their role is one of ``roles`` (or admin)."""

    def dependency(request: Request) -> User:
        signed_in: SignedIn | None = request.state.signed_in
        if signed_in is None:
            raise ApiError(401, "sign in first")
        if not _allowed(signed_in.user, roles):
            raise ApiError(403, f"this needs the role {' or '.join(roles)}")
        return signed_in.user

    dependency.roles = roles  # type: ignore[attr-defined]  # read by the API fuzz's role table
    return dependency


def page(*roles: str) -> Callable[[Request], SignedIn]:
    """A page dependency: the session, or a redirect to the sign-in page; 403 for a role that
    may not see the page."""

    def dependency(request: Request) -> SignedIn:
        signed_in: SignedIn | None = request.state.signed_in
        if signed_in is None:
            path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise LoginRequired(path)
        if roles and not _allowed(signed_in.user, roles):
            raise ApiError(403, f"this page needs the role {' or '.join(roles)}")
        return signed_in

    return dependency


def address(request: Request) -> str:
    return request.client.host if request.client else ""


def audit(request: Request, user: User, action: str, target: str = "", detail: str = "") -> None:
    """Record a control action (who, what, on what, when, from where) in the audit log."""
    console(request).accounts.audit(user.name, action, target, detail, address(request))


Operator = Depends(require(OPERATOR))
Reviewer = Depends(require(REVIEWER))
Admin = Depends(require(ADMIN))
