"""Signing in and out, cookies, CSRF, roles, the rate limit, the audit log, error bodies."""

from __future__ import annotations

from fastapi.testclient import TestClient

from patrol.console.app import create_app
from patrol.console.services import Console
from tests.patrol.console.conftest import PASSWORD, make_settings


def test_sign_in_sets_a_strict_httponly_cookie_and_returns_the_csrf_token(anon) -> None:
    response = anon.post("/api/session", json={"name": "operator", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "operator" and body["role"] == "operator" and len(body["csrf"]) > 20
    cookie = response.headers["set-cookie"]
    assert "gp_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain HTTP on loopback
    assert anon.get("/api/session").json()["name"] == "operator"


def test_cookies_are_secure_over_tls(tmp_path) -> None:
    console = Console(make_settings(tmp_path, tls=True))
    console.accounts.add_user("admin", "admin", PASSWORD)
    with TestClient(create_app(console.settings, console), base_url="https://127.0.0.1") as c:
        response = c.post("/api/session", json={"name": "admin", "password": PASSWORD})
        assert "Secure" in response.headers["set-cookie"]
    console.stop()


def test_wrong_password_unknown_user_and_disabled_user_are_refused(anon, console) -> None:
    for name, password in (("operator", "wrong password"), ("nobody", PASSWORD)):
        response = anon.post("/api/session", json={"name": name, "password": password})
        assert response.status_code == 401
        assert response.json() == {"error": "wrong name or password", "status": 401}
    console.accounts.update_user("reviewer", disabled=True)
    assert (
        anon.post("/api/session", json={"name": "reviewer", "password": PASSWORD}).status_code
        == 401
    )


def test_sign_in_needs_a_json_body(anon) -> None:
    response = anon.post(
        "/api/session",
        content=b'{"name": "operator", "password": "x"}',
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code in (415, 422)
    response = anon.post("/api/session", data={"name": "operator", "password": PASSWORD})
    assert response.status_code in (415, 422) and "set-cookie" not in response.headers


def test_sign_in_is_rate_limited_per_name_and_address(anon, console) -> None:
    for _ in range(console.settings.login_failures):
        anon.post("/api/session", json={"name": "operator", "password": "guess guess"})
    response = anon.post("/api/session", json={"name": "operator", "password": PASSWORD})
    assert response.status_code == 429 and "try again in" in response.json()["error"]
    # another name from the same address is not locked by these failures
    assert (
        anon.post("/api/session", json={"name": "reviewer", "password": PASSWORD}).status_code
        == 200
    )
    failed = console.accounts.audit_log(action="login-failed")
    assert len(failed) == console.settings.login_failures


def test_state_changes_need_the_csrf_token(as_role) -> None:
    admin = as_role("admin")
    token = admin.headers.pop("X-CSRF-Token")
    new = {"name": "李四", "role": "operator", "password": "long enough"}
    response = admin.post("/api/users", json=new)
    assert response.status_code == 403 and "CSRF" in response.json()["error"]
    admin.headers["X-CSRF-Token"] = "not-the-token"
    assert admin.post("/api/users", json=new).status_code == 403
    admin.headers["X-CSRF-Token"] = token
    assert admin.post("/api/users", json=new).status_code == 201


def test_sign_out_ends_the_session(as_role) -> None:
    client = as_role("operator")
    assert client.delete("/api/session").status_code == 200
    assert client.get("/api/session").status_code == 401


def test_roles_are_enforced(as_role) -> None:
    for role in ("operator", "reviewer", "staff"):
        client = as_role(role)
        assert client.get("/api/users").status_code == 403
        assert client.get("/api/audit").status_code == 403
    assert as_role("staff").get("/api/users/staff").status_code == 403
    assert as_role("reviewer").get("/api/users/staff").json() == ["staff", "王小明"]


def test_admin_manages_users_and_every_change_is_audited(as_role, console) -> None:
    admin = as_role("admin")
    response = admin.post(
        "/api/users", json={"name": "张三", "role": "reviewer", "password": "这个密码足够长了吧"}
    )
    assert response.status_code == 201 and response.json()["name"] == "张三"
    duplicate = admin.post(
        "/api/users", json={"name": "张三", "role": "staff", "password": "long enough"}
    )
    assert duplicate.status_code == 409 and duplicate.json()["fields"]["name"]
    short = admin.post("/api/users", json={"name": "x", "role": "staff", "password": "short"})
    assert short.status_code == 400 and "8 characters" in short.json()["fields"]["password"]
    bad_role = admin.post(
        "/api/users", json={"name": "y", "role": "pilot", "password": "longenough"}
    )
    assert bad_role.status_code == 422 and "role" in bad_role.json()["fields"]
    assert admin.patch("/api/users/张三", json={"role": "staff"}).json()["role"] == "staff"
    assert admin.patch("/api/users/nobody", json={"role": "staff"}).status_code == 404
    assert admin.patch("/api/users/admin", json={"disabled": True}).status_code == 409
    assert admin.delete("/api/users/admin").status_code == 409  # the last admin stays
    assert admin.delete("/api/users/张三").status_code == 200
    actions = [(e.user, e.action, e.target) for e in console.accounts.audit_log()]
    assert ("admin", "user-add", "张三") in actions
    assert ("admin", "user-change", "张三") in actions
    assert ("admin", "user-remove", "张三") in actions
    log = admin.get("/api/audit?action=user-add").json()
    assert log[0]["target"] == "张三" and log[0]["address"]


def test_a_role_change_ends_the_users_sessions(as_role, console) -> None:
    operator = as_role("operator")
    console.accounts.update_user("operator", role="staff")
    assert operator.get("/api/session").status_code == 401


def test_api_errors_are_json_with_message_and_status(as_role, anon) -> None:
    admin = as_role("admin")
    missing = admin.get("/api/no-such-thing")
    assert missing.status_code == 404 and missing.json()["status"] == 404
    bad = admin.post(
        "/api/users", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert bad.status_code == 422 and bad.json()["error"]
    assert admin.get("/api/audit?limit=abc").json()["fields"]["limit"]
    assert anon.get("/api/health").json() == {"ok": True}


def test_pages_send_a_stranger_to_sign_in_and_a_user_to_their_start_page(anon, as_role) -> None:
    response = anon.get("/admin", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/admin"
    assert anon.get("/login?next=//evil.example").text.count('data-next="/"') == 1
    staff = as_role("staff")
    assert staff.get("/", follow_redirects=False).headers["location"] == "/staff"
    assert staff.get("/admin").status_code == 403
    page = as_role("admin").get("/admin")
    assert page.status_code == 200 and 'name="csrf-token"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
