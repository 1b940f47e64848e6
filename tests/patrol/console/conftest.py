"""A console app on a temporary data directory and database, with users of every role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from patrol.console.app import create_app
from patrol.console.services import Console
from patrol.console.settings import ConsoleSettings

PASSWORD = "correct horse 电池"
ROLES = ("admin", "operator", "reviewer", "staff")


def make_settings(tmp_path: Path, **overrides: object) -> ConsoleSettings:
    data = tmp_path / "data"
    return ConsoleSettings(
        data_dir=data, db_url=f"sqlite:///{tmp_path / 'console.db'}", **overrides
    )


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    c = Console(make_settings(tmp_path))
    for role in ROLES:
        c.accounts.add_user(role, role, PASSWORD)
    c.accounts.add_user("王小明", "staff", PASSWORD)
    yield c
    c.stop()


@pytest.fixture
def app(console: Console):  # type: ignore[no-untyped-def]
    return create_app(console.settings, console)


@pytest.fixture
def anon(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> TestClient:
    """Sign ``client`` in; its later requests carry the CSRF header."""
    response = client.post("/api/session", json={"name": name, "password": password})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf"]
    return client


@pytest.fixture
def as_role(app):  # type: ignore[no-untyped-def]
    """``as_role("operator")``: a new signed-in client."""
    clients: list[TestClient] = []

    def make(name: str) -> TestClient:
        client = TestClient(app, base_url="http://127.0.0.1")
        client.__enter__()
        clients.append(client)
        return sign_in(client, name)

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    """Let fixtures see whether the test failed (browser tests keep screenshots then)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
