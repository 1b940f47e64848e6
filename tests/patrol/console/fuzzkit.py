"""Fuzzing the console's JSON API with schemathesis, from its own /openapi.json, as each role
(a session cookie and the CSRF header): every answer under 500, every error JSON with a message
and its status, and every request by a role a route does not allow refused with 403 and
without changing anything. Used by tests/patrol/console/test_fuzz.py (bounded, deterministic)
and bench/console_fuzz.py (longer, random)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import schemathesis
from fastapi import FastAPI
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from sqlalchemy import MetaData, select
from sqlalchemy.orm import Session

from patrol.console.security import SESSION_COOKIE
from patrol.console.services import Console
from patrol.store.accounts import ROLES

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "data" / "sample"
PASSWORD = "fuzz password 模糊测试"
# routes that answer a stranger too (sign in, liveness)
PUBLIC = {("POST", "/api/session"), ("GET", "/api/health")}
# tables whose rows a request may add without changing anything (sessions come and go)
VOLATILE = {"console_sessions"}


def never_streamed(method: str, path: str) -> bool:
    """The event stream never ends by itself: not fuzzed (its refusals are in
    test_openapi_walk, its use in test_fly)."""
    return (method, path) == ("GET", "/api/vehicles/stream")


def route_roles(app: FastAPI) -> dict[tuple[str, str], tuple[str, ...] | None]:
    """(method, path) -> the roles its ``deps.require`` allows (admin always may), or None
    for routes any signed-in user may call (their own session) or anyone (PUBLIC)."""

    def found(dependant) -> Iterator[tuple[str, ...]]:  # type: ignore[no-untyped-def]
        for dep in dependant.dependencies:
            roles = getattr(dep.call, "roles", None)
            if roles is not None:
                yield roles
            yield from found(dep)

    table = {}
    for route in app.routes:
        if isinstance(route, APIRoute) and route.path.startswith("/api/"):
            roles = next(found(route.dependant), None)
            for method in route.methods:
                table[(method, route.path)] = roles
    return table


def allowed(role: str, roles: tuple[str, ...] | None) -> bool:
    return roles is None or role == "admin" or role in roles


def store_digest(console: Console) -> str:
    """A digest of every row of every table (but sessions) and of every file in the data
    directory: equal digests, nothing changed."""
    digest = hashlib.sha256()
    meta = MetaData()
    meta.reflect(console.engine)
    with Session(console.engine) as s:
        for name in sorted(meta.tables):
            if name in VOLATILE:
                continue
            table = meta.tables[name]
            rows = s.execute(select(table).order_by(*table.primary_key.columns)).all()
            digest.update(name.encode())
            digest.update(json.dumps([list(r) for r in rows], default=str).encode())
    for path in sorted(console.settings.data_dir.rglob("*")):
        if path.is_file() and not path.name.startswith("gridpatrol.db"):
            digest.update(f"{path.relative_to(console.settings.data_dir)}:{path.stat().st_size}"
                          .encode())  # fmt: skip
    return digest.hexdigest()


@dataclass
class Failure:
    role: str
    method: str
    path: str
    status: int
    problem: str
    curl: str

    def __str__(self) -> str:
        head = f"{self.role} {self.method} {self.path} -> {self.status}"
        return f"{head}: {self.problem}\n  {self.curl}"


@dataclass
class Fuzzer:
    """Drives every operation of the schema as one role after another."""

    console: Console
    app: FastAPI
    schema: schemathesis.BaseSchema = field(init=False)
    roles: dict = field(init=False)
    failures: list[Failure] = field(default_factory=list)
    calls: int = 0
    seconds: dict = field(default_factory=dict)  # (method, path) -> time spent calling it
    _tokens: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.schema = schemathesis.openapi.from_asgi("/openapi.json", self.app)
        self.roles = route_roles(self.app)

    # -- sessions ---------------------------------------------------------------------------
    def user_name(self, role: str) -> str:
        return f"模糊 {role}"

    def credentials(self, role: str) -> tuple[str, str]:
        """A live session of this role's user (made again if a fuzzed request ended it, or
        changed or removed the user)."""
        accounts = self.console.accounts
        token, csrf = self._tokens.get(role, ("", ""))
        live = accounts.session(token) if token else None
        if live is not None and live.user.role == role:
            return token, csrf
        name = self.user_name(role)
        user = accounts.get_user(name)
        if user is None:
            user = accounts.add_user(name, role, PASSWORD)
        elif user.role != role or user.disabled:
            user = accounts.update_user(name, role=role, disabled=False)
        token, session = accounts.open_session(user, timedelta(hours=1))
        self._tokens[role] = (token, session.csrf)
        return self._tokens[role]

    # -- one request ------------------------------------------------------------------------
    def call(self, role: str, case) -> None:  # type: ignore[no-untyped-def]
        op = case.operation
        method, path = op.method.upper(), op.path
        token, csrf = self.credentials(role)
        headers = {"Cookie": f"{SESSION_COOKIE}={token}", "X-CSRF-Token": csrf}
        self.calls += 1
        started = time.perf_counter()
        try:
            response = case.call(headers=headers, timeout=60)
        except Exception as exc:  # the app raised: a 500 for the browser
            curl = case.as_curl_command(headers={"X-CSRF-Token": "…"})
            problem = f"crash: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            self.failures.append(Failure(role, method, path, 500, problem, curl))
            return
        spent = time.perf_counter() - started
        self.seconds[(method, path)] = self.seconds.get((method, path), 0.0) + spent
        problem = self.judge(role, method, path, response)
        if problem:
            curl = case.as_curl_command(headers={"X-CSRF-Token": "…"})
            self.failures.append(Failure(role, method, path, response.status_code, problem, curl))

    def judge(self, role: str, method: str, path: str, response) -> str:  # type: ignore[no-untyped-def]
        status = response.status_code
        if status >= 500:
            return f"server error: {response.text[:300]}"
        roles = self.roles.get((method, path))
        if not allowed(role, roles) and status != 403:
            return f"the role {role} is not allowed here ({roles}) but got {status}"
        if status >= 400:
            try:
                body = response.json()
            except ValueError:
                return f"an error that is not JSON: {response.text[:200]!r}"
            if not isinstance(body, dict) or body.get("status") != status:
                return f"an error body without its status: {body!r:.200}"
            if not isinstance(body.get("error"), str) or not body["error"].strip():
                return f"an error body without a message: {body!r:.200}"
        return ""

    # -- operations -------------------------------------------------------------------------
    def operations(self, skip: Callable[[str, str], bool] = lambda m, p: False) -> list:
        ops = []
        for result in self.schema.get_all_operations():
            op = result.ok()
            if not skip(op.method.upper(), op.path):
                ops.append(op)
        return ops

    def fuzz(self, role: str, op, examples: int, mode: GenerationMode, seed: bool) -> None:  # type: ignore[no-untyped-def]
        """``examples`` generated requests of ``op`` as ``role`` (derandomized if ``seed``)."""

        @settings(
            max_examples=examples,
            derandomize=seed,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=op.as_strategy(generation_mode=mode))
        def run(case) -> None:  # type: ignore[no-untyped-def]
            self.call(role, case)

        # Unsatisfiable: e.g. no negative case exists for an operation without inputs
        with contextlib.suppress(Unsatisfiable):
            run()

    def run_role(self, role: str, examples: int, refused_examples: int, seed: bool,
                 skip: Callable[[str, str], bool] = lambda m, p: False) -> None:  # fmt: skip
        """First every operation the role may not call (the store must not change), then
        every one it may, in both positive and negative generation modes."""
        ops = self.operations(skip)
        refused = [o for o in ops if not allowed(role, self.roles.get((o.method.upper(), o.path)))]
        before = store_digest(self.console)
        for op in refused:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                self.fuzz(role, op, refused_examples, mode, seed)
        after = store_digest(self.console)
        if before != after:
            self.failures.append(
                Failure(role, "*", "*", 0, "requests the role may not make changed the store", "")
            )
        for op in ops:
            if op in refused:
                continue
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                self.fuzz(role, op, examples, mode, seed)


def seed_console(console: Console, client) -> None:  # type: ignore[no-untyped-def]
    """Data for the fuzz to find: the sample township's grids and no-fly zones (Chinese
    names), a plan over one grid, a message, flags."""
    from tests.patrol.console.flagkit import record_flags

    for name, kind in (("township.geojson", "grid"), ("no-fly.geojson", "no_fly")):
        files = {"file": (name, (SAMPLE / name).read_bytes(), "application/json")}
        assert client.post("/api/grids/import", files=files, data={"kind": kind}).status_code == 201
    grids = client.get("/api/grids").json()["features"]
    plan = {"name": "上洋 巡逻", "grid_ids": [grids[0]["id"]], "pattern": "perimeter",
            "home": {"lat": 27.57, "lon": 119.71, "alt": 200}}  # fmt: skip
    assert client.post("/api/plans", json=plan).status_code == 201
    speech = {"title": "戴口罩", "text": "请戴好口罩。", "lang": "cmn"}
    assert client.post("/api/messages/tts", json=speech).status_code == 201
    record_flags(console.flags)


__all__ = ["ROLES", "Fuzzer", "seed_console"]
