"""Request security as one ASGI middleware: the session behind the cookie, 401 for the API
without one, CSRF on every state-changing API request, the upload size limit, and security
headers. It runs before FastAPI reads a body, so no endpoint can answer (or even validate
input) for a caller who is not signed in. Plus the login rate limiter."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie

from patrol.console.errors import error_body
from patrol.store.accounts import Accounts

SESSION_COOKIE = "gp_session"
CSRF_HEADER = b"x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# API routes that answer without a session: signing in, and the liveness probe
PUBLIC_API = {("POST", "/api/session"), ("GET", "/api/health")}

Scope = dict
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


class BodyTooLarge(Exception):
    """Raised while the body is read; FastAPI turns it into its own 400 ("error parsing the
    body") with this as the cause, which ``errors`` answers as 413 with this message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header is no session
                return None
            if name in jar:
                return jar[name].value
    return None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


async def _json(send: Send, status: int, message: str, headers: list | None = None) -> None:
    body = json.dumps(error_body(status, message)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SecurityMiddleware:
    def __init__(  # type: ignore[no-untyped-def]
        self, app, accounts: Accounts, max_body: Callable[[], int], csp: Callable[[], bytes]
    ) -> None:
        """``max_body`` and ``csp`` are read per request: an admin may change them."""
        self.app = app
        self.accounts = accounts
        self.max_body = max_body
        self.csp = csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        import anyio.to_thread

        method, path = scope["method"], scope["path"]
        token = _cookie(scope, SESSION_COOKIE)
        signed_in = await anyio.to_thread.run_sync(self.accounts.session, token) if token else None
        scope.setdefault("state", {})["signed_in"] = signed_in
        scope["state"]["session_token"] = token if signed_in else None
        is_api = path.startswith("/api/")
        if is_api and (method, path) not in PUBLIC_API:
            if signed_in is None:
                await _json(send, 401, "sign in first")
                return
            if method not in SAFE_METHODS and _header(scope, CSRF_HEADER) != signed_in.csrf:
                await _json(send, 403, "missing or wrong CSRF token (reload the page)")
                return
        max_body = self.max_body()
        too_large = f"request body over the {max_body / 2**20:g} MB limit"
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > max_body:
            await _json(send, 413, too_large)
            return
        csp = self.csp()

        received = 0

        async def limited_receive() -> dict:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_body:
                    raise BodyTooLarge(too_large)
            return message

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                    (b"content-security-policy", csp),
                ]
                if is_api:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        started = False

        async def tracking_send(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send_with_headers(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _json(send, 413, too_large)


class LoginLimiter:
    """At most ``failures`` failed sign-ins per (name, address) and per address within
    ``window`` seconds; then 429 until the oldest failure ages out."""

    def __init__(self, failures: int, window: float) -> None:
        self.failures = failures
        self.window = window
        self._seen: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _keys(self, name: str, address: str) -> list[tuple[str, str]]:
        # per name from one address, and per address whatever the names (a spray)
        return [(name.casefold(), address), ("", address)]

    def retry_after(self, name: str, address: str) -> float:
        """Seconds until another try is allowed (0: allowed now)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in self._keys(name, address):
                times = self._seen.get(key)
                if not times:
                    continue
                while times and now - times[0] > self.window:
                    times.popleft()
                limit = self.failures if key[0] else self.failures * 4
                if len(times) >= limit:
                    wait = max(wait, self.window - (now - times[0]))
        return wait

    def failed(self, name: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in self._keys(name, address):
                self._seen.setdefault(key, deque()).append(now)

    def succeeded(self, name: str, address: str) -> None:
        with self._lock:
            self._seen.pop((name.casefold(), address), None)
