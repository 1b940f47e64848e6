"""Signing in and out: the sign-in page, ``/api/session`` (rate-limited), the start page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from patrol.console.deps import address, console, page
from patrol.console.errors import ApiError
from patrol.console.security import SESSION_COOKIE
from patrol.console.services import Console
from patrol.console.templating import render
from patrol.store.accounts import MAX_PASSWORD_CHARS, AccountError, SignedIn

router = APIRouter(tags=["session"])
START_PAGE = {"staff": "/staff", "reviewer": "/review", "operator": "/fly", "admin": "/fly"}


class Credentials(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_CHARS)


class PasswordChange(BaseModel):
    current: str = Field(min_length=1, max_length=MAX_PASSWORD_CHARS)
    new: str = Field(min_length=1, max_length=MAX_PASSWORD_CHARS)


class SessionOut(BaseModel):
    name: str
    role: str
    csrf: str


@router.get("/api/health")
def health() -> dict:
    """Liveness: answers without a session and says nothing else."""
    return {"ok": True}


@router.post("/api/session")
def sign_in(
    body: Credentials,
    request: Request,
    response: Response,
    c: Annotated[Console, Depends(console)],
) -> SessionOut:
    """Sign in with name and password: sets the session cookie and returns the CSRF token.
    Rate-limited per name and address."""
    where = address(request)
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("application/json"):
        # a cross-site form cannot send JSON without a CORS preflight, which we never allow
        raise ApiError(415, "sign in with a JSON body")
    wait = c.limiter.retry_after(body.name, where)
    if wait > 0:
        raise ApiError(429, f"too many failed sign-ins: try again in {wait:.0f} s")
    user = c.accounts.authenticate(body.name, body.password)
    if user is None:
        c.limiter.failed(body.name, where)
        c.accounts.audit(body.name[:100], "login-failed", "", "", where)
        raise ApiError(401, "wrong name or password")
    c.limiter.succeeded(body.name, where)
    lifetime = c.site.current.session_lifetime
    token, session = c.accounts.open_session(user, lifetime)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=c.settings.secure_cookies,
        path="/",
    )
    c.accounts.audit(user.name, "login", "", "", where)
    return SessionOut(name=user.name, role=user.role, csrf=session.csrf)


@router.get("/api/session")
def who_am_i(request: Request) -> SessionOut:
    signed_in: SignedIn = request.state.signed_in
    return SessionOut(name=signed_in.user.name, role=signed_in.user.role, csrf=signed_in.csrf)


@router.delete("/api/session")
def sign_out(request: Request, response: Response, c: Annotated[Console, Depends(console)]) -> dict:
    token = request.state.session_token
    c.accounts.close_session(token)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"ok": True}


@router.post("/api/session/password")
def change_password(
    body: PasswordChange,
    request: Request,
    c: Annotated[Console, Depends(console)],
) -> dict:
    """Change my own password: the current one is needed (and its failures are rate-limited
    as signing in is); my other sessions end, this one stays."""
    signed_in: SignedIn = request.state.signed_in
    user, where = signed_in.user, address(request)
    wait = c.limiter.retry_after(user.name, where)
    if wait > 0:
        raise ApiError(429, f"too many wrong passwords: try again in {wait:.0f} s")
    if c.accounts.authenticate(user.name, body.current) is None:
        c.limiter.failed(user.name, where)
        c.accounts.audit(user.name, "password-change-failed", user.name, "", where)
        raise ApiError(400, "the current password is wrong", {"current": "wrong password"})
    c.limiter.succeeded(user.name, where)
    if body.new == body.current:
        raise ApiError(400, "the new password is the current one", {"new": "the same"})
    try:
        c.accounts.change_password(user.id, body.new, signed_in.session_id)
    except AccountError as exc:
        raise ApiError(400, str(exc), {"new": str(exc)}) from None
    c.accounts.audit(user.name, "password-change", user.name, "", where)
    return {"ok": True}


@router.get("/account", include_in_schema=False)
def account_page(request: Request, signed_in: Annotated[SignedIn, Depends(page())]) -> HTMLResponse:
    return render(request, "account.html", signed_in)


@router.get("/login", include_in_schema=False)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    # only a path on this site: never an open redirect
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    return render(request, "login.html", None, next=target)


@router.get("/", include_in_schema=False)
def start(signed_in: Annotated[SignedIn, Depends(page())]) -> RedirectResponse:
    return RedirectResponse(START_PAGE[signed_in.user.role], 303)
