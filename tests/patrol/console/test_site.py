"""Site settings (admin): read with their sources, changed and reset, checked next to their
fields, audited, and in force at once (tiles and CSP, plan defaults, the township's home, the
session lifetime); and every user's own password change."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.patrol.console.conftest import PASSWORD, sign_in

SAMPLE = Path(__file__).resolve().parents[3] / "data" / "sample"
TILES = "https://{s}.tiles.example.cn/底图/{z}/{x}/{y}.png"


def _site_json(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="site-settings">(.*?)</script>', page)
    assert found, page[:500]
    return json.loads(found.group(1))


def test_only_admins_read_and_change_the_settings(as_role) -> None:
    for role in ("operator", "reviewer", "staff"):
        client = as_role(role)
        assert client.get("/api/settings").status_code == 403
        refused = client.patch("/api/settings", json={"values": {"plan_alt_m": 50}})
        assert refused.status_code == 403
    view = as_role("admin").get("/api/settings").json()
    assert view["values"]["plan_alt_m"] == 40 and view["values"]["tile_url"] is None
    assert view["sources"]["tile_url"] == {"from": "command line"}
    assert view["sources"]["plan_alt_m"] == {"from": "default"}


def test_a_change_is_checked_saved_audited_and_in_force(as_role, console) -> None:
    admin = as_role("admin")
    change = {"tile_url": TILES, "tile_attribution": "© 测绘局", "plan_alt_m": 35,
              "home": {"lat": 27.57, "lon": 119.71, "alt": 210}}  # fmt: skip
    response = admin.patch("/api/settings", json={"values": change})
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["values"]["tile_url"] == TILES and view["values"]["home"]["alt"] == 210
    assert view["sources"]["plan_alt_m"]["from"] == "saved"
    assert view["sources"]["plan_alt_m"]["by"] == "admin"
    (entry,) = console.accounts.audit_log(action="settings-change")
    assert "plan_alt_m: 40.0 → 35.0" in entry.detail and "测绘局" in entry.detail
    # the pages get the tiles, home and plan defaults; the CSP lets the tile hosts in
    page = as_role("operator").get("/plans")
    site = _site_json(page.text)
    assert site["tile_url"] == TILES and site["plan_alt_m"] == 35 and site["home"]["lat"] == 27.57
    assert (
        "img-src 'self' data: blob: https://*.tiles.example.cn;"
        in (page.headers["content-security-policy"])
    )
    # a plan that leaves out altitude and home takes the site's
    op = as_role("operator")
    files = {"file": ("t.geojson", (SAMPLE / "township.geojson").read_bytes())}
    grid = op.post("/api/grids/import", files=files).json()["imported"][0]["id"]
    plan = op.post("/api/plans", json={"name": "默认 defaults", "grid_ids": [grid]})
    assert plan.status_code == 201, plan.text
    assert plan.json()["settings"]["alt"] == 35 and plan.json()["settings"]["home"]["alt"] == 210
    assert plan.json()["settings"]["spacing"] == 60  # the default coverage spacing
    # reset: back to the command line's value
    reset = admin.patch("/api/settings", json={"reset": ["tile_url", "home"]}).json()
    assert reset["values"]["tile_url"] is None and reset["values"]["home"] is None
    assert reset["sources"]["tile_url"] == {"from": "command line"}
    no_home = op.post("/api/plans/preview", json={"name": "x", "grid_ids": [grid]})
    assert no_home.status_code == 400 and "township home" in no_home.json()["fields"]["home"]


def test_bad_settings_are_refused_next_to_their_fields_and_change_nothing(as_role) -> None:
    admin = as_role("admin")
    before = admin.get("/api/settings").json()
    cases = [
        ({"tile_url": "ftp://x/{z}/{x}/{y}"}, "tile_url", "https://"),
        ({"tile_url": "https://x.example/{z}/{x}.png"}, "tile_url", "{y}"),
        ({"tile_url": "https://x.example/{z}/{x}/{y}.png'; script-src *"}, "tile_url", "quotes"),
        ({"max_upload_mb": 0}, "max_upload_mb", "greater than or equal to 1"),
        ({"speaker_spl": 400}, "speaker_spl", "less than or equal to 160"),
        ({"home": {"lat": 95, "lon": 0}}, "values.home.lat", "less than or equal to 90"),
        ({"plan_alt_m": "高"}, "values.plan_alt_m", "valid number"),
    ]
    for values, field, message in cases:
        response = admin.patch("/api/settings", json={"values": values})
        assert response.status_code in (400, 422), (values, response.text)
        assert message in response.json()["fields"][field], (values, response.json())
    unknown = admin.patch("/api/settings", json={"reset": ["colour"]})
    assert unknown.status_code == 400 and "colour" in unknown.json()["error"]
    assert admin.get("/api/settings").json() == before


def test_the_session_lifetime_setting_applies_to_new_sessions(as_role, anon) -> None:
    as_role("admin").patch("/api/settings", json={"values": {"session_hours": 0.5}})
    response = anon.post("/api/session", json={"name": "operator", "password": PASSWORD})
    assert "Max-Age=1800" in response.headers["set-cookie"]


def test_change_my_own_password(as_role, app, console) -> None:
    from fastapi.testclient import TestClient

    mine = as_role("王小明")
    new = "新的密码足够长了"
    with TestClient(app, base_url="http://127.0.0.1") as other:
        sign_in(other, "王小明")  # the same member on another phone
        wrong = mine.post(
            "/api/session/password", json={"current": "nope", "new": "新的密码足够长了"}
        )
        assert wrong.status_code == 400 and wrong.json()["fields"]["current"]
        short = mine.post("/api/session/password", json={"current": PASSWORD, "new": "短"})
        assert short.status_code == 400 and "8 characters" in short.json()["fields"]["new"]
        ok = mine.post(
            "/api/session/password", json={"current": PASSWORD, "new": "新的密码足够长了"}
        )
        assert ok.status_code == 200, ok.text
        assert mine.get("/api/session").status_code == 200  # this session stays
        assert other.get("/api/session").status_code == 401  # the others end
    assert console.accounts.authenticate("王小明", new) is not None
    assert console.accounts.authenticate("王小明", PASSWORD) is None
    actions = [e.action for e in console.accounts.audit_log(user="王小明")]
    assert "password-change" in actions and "password-change-failed" in actions
    assert mine.get("/account").status_code == 200


def test_wrong_current_passwords_are_rate_limited(as_role, console) -> None:
    client = as_role("reviewer")
    for _ in range(console.settings.login_failures):
        client.post("/api/session/password", json={"current": "guess guess", "new": "x" * 10})
    limited = client.post("/api/session/password", json={"current": PASSWORD, "new": "x" * 10})
    assert limited.status_code == 429 and "try again in" in limited.json()["error"]
    assert console.accounts.authenticate("reviewer", PASSWORD) is not None
