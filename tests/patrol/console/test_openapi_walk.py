"""Walk every route of /openapi.json without a session: each one that changes or reveals
anything answers 401 (or 403); pages outside the schema send the browser to sign in."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute

from patrol.console.routers import ROUTERS


def _routes() -> list[APIRoute]:
    """Every route of the console's routers (included without prefixes)."""
    return [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]


# what answers a stranger: signing in (it changes nothing until the password is right) and a
# liveness probe that says only {"ok": true}
PUBLIC = {("post", "/api/session"), ("get", "/api/health")}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_api_route_refuses_a_stranger(anon) -> None:
    schema = anon.get("/openapi.json").json()
    walked = []
    for path, methods in schema["paths"].items():
        for method in methods:
            if (method, path) in PUBLIC:
                continue
            response = anon.request(method.upper(), _concrete(path), json={})
            walked.append((method, path))
            assert response.status_code in (401, 403), (method, path, response.status_code)
            assert response.json()["status"] in (401, 403)
    assert len(walked) >= 5, walked
    # and the schema lists every API route the app has
    api_routes = {
        (m.lower(), r.path) for r in _routes() if r.path.startswith("/api/") for m in r.methods
    }
    assert api_routes == {(m, p) for m, p in walked} | PUBLIC


def test_every_page_sends_a_stranger_to_sign_in(anon) -> None:
    pages = [r.path for r in _routes() if not r.include_in_schema and r.path != "/login"]
    assert "/admin" in pages
    for path in pages:
        response = anon.get(_concrete(path), follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")
