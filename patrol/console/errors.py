"""Errors as the JSON API answers them: ``{"error": message, "status": code}``, plus ``fields``
(field -> message) for bad input, so a form can show each message next to its field. Bad input
is never a 500."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("patrol.console")


class ApiError(Exception):
    """A refusal with its status: 400 bad input, 403 not allowed, 404 unknown, 409 conflict."""

    def __init__(
        self,
        status: int,
        message: str,
        fields: dict[str, str] | None = None,
        problems: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = fields or {}
        self.problems = problems or []


class LoginRequired(Exception):
    """A page asked for without a session: the browser goes to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


def error_body(
    status: int,
    message: str,
    fields: dict[str, str] | None = None,
    problems: list[str] | None = None,
) -> dict:
    """``problems``: every problem of a file, one line each (feature, field, line)."""
    body: dict = {"error": message, "status": status}
    if fields:
        body["fields"] = fields
    if problems:
        body["problems"] = problems
    return body


def _field_name(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form")]
    return ".".join(parts) or "request"


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.status, exc.message, exc.fields, exc.problems), exc.status
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields: dict[str, str] = {}
        for err in exc.errors():
            fields.setdefault(_field_name(tuple(err.get("loc", ()))), str(err.get("msg", "")))
        first = next(iter(fields.items()), ("request", "invalid"))
        return JSONResponse(error_body(422, f"{first[0]}: {first[1]}", fields), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        from patrol.console.security import BodyTooLarge

        if isinstance(exc.__cause__, BodyTooLarge):  # over the limit while FastAPI read it
            return JSONResponse(error_body(413, exc.__cause__.message), 413)
        headers = getattr(exc, "headers", None)
        return JSONResponse(error_body(exc.status_code, str(exc.detail)), exc.status_code, headers)

    @app.exception_handler(LoginRequired)
    async def _login(_request: Request, exc: LoginRequired) -> RedirectResponse:
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}", 303)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body(500, f"internal error: {type(exc).__name__}"), 500)
