"""Every page, with Chinese data, in Debian's Chromium at desktop and phone size: no script
error, the Chinese names shown, nothing wider than a phone's screen, the report's print layout
without the controls; a screenshot of each under out/pages/ to look at."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from patrol.console.app import create_app
from patrol.console.services import Console
from patrol.store.models import utcnow
from tests.patrol.console.conftest import PASSWORD, make_settings
from tests.patrol.console.flagkit import record_flags
from tests.patrol.console.liveserver import CHROMIUM, CHROMIUM_ARGS, served
from tests.patrol.simkit import square_plan

ROOT = Path(__file__).resolve().parents[3]
OUT = ROOT / "out" / "pages"
SAMPLE = ROOT / "data" / "sample"
SIZES = {"desktop": {"width": 1400, "height": 900}, "phone": {"width": 390, "height": 844}}
# page -> (who sees it, what the page must show once its data has loaded: a Chinese text, or
# a Playwright selector)
PAGES = {
    "/fly": ("管理员", "text=没有可用的飞机"),
    "/plans": ("管理员", "上洋村 Shangyang"),
    "/grids": ("管理员", 'input[value="中心小学 Central primary school"]'),
    "/messages": ("管理员", "戴口罩 请注意"),
    "/review": ("管理员", "上洋村 Shangyang"),
    "/patrols": ("管理员", "东溪 巡逻"),
    "/patrols/1": ("管理员", "东溪 巡逻"),
    "/admin": ("管理员", "王小明"),
    "/account": ("王小明", "王小明"),
    "/staff": ("王小明", "请去上洋村看看"),
}

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")


@pytest.fixture
def site(tmp_path: Path):  # type: ignore[no-untyped-def]
    console = Console(make_settings(tmp_path))
    for name, role in (("管理员", "admin"), ("王小明", "staff")):
        console.accounts.add_user(name, role, PASSWORD)
    from fastapi.testclient import TestClient

    from tests.patrol.console.conftest import sign_in

    app = create_app(console.settings, console)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        sign_in(client, "管理员")
        for name, kind in (("township.geojson", "grid"), ("no-fly.geojson", "no_fly")):
            files = {"file": (name, (SAMPLE / name).read_bytes())}
            assert client.post("/api/grids/import", files=files, data={"kind": kind}).is_success
        client.patch("/api/settings", json={"values": {"home": {"lat": 27.57, "lon": 119.71,
                                                                 "alt": 200}}})  # fmt: skip
        grids = {
            f["properties"]["name"]: f["id"] for f in client.get("/api/grids").json()["features"]
        }
        speech = {"title": "戴口罩 请注意", "text": "请戴好口罩。"}
        message = client.post("/api/messages/tts", json=speech).json()
        plan = {"name": "上洋 巡逻", "grid_ids": [grids["上洋村 Shangyang"]],
                "pattern": "perimeter", "broadcast": [{"grid_id": grids["上洋村 Shangyang"],
                                                       "messages": [message["id"]]}]}  # fmt: skip
        assert client.post("/api/plans", json=plan).is_success
        patrol = console.patrols.create_patrol("东溪 巡逻", [("tcp:127.0.0.1:5760", "",
                                                             square_plan())])  # fmt: skip
        start = utcnow() - timedelta(minutes=20)
        end = start + timedelta(minutes=9)
        console.patrols.update_sortie(
            patrol.sorties[0].id, status="completed", sysid=1, started_at=start, ended_at=end
        )
        ids = record_flags(console.flags)
        review = {"action": "assign", "assignee": "王小明", "note": "请去上洋村看看"}
        client.post(f"/api/flags/{ids[0]}/review", json=review)
    with served(create_app(console.settings, console)) as url:
        yield url
    console.stop()


def _sign_in(browser, url: str, name: str, viewport: dict):  # type: ignore[no-untyped-def]
    phone = viewport["width"] < 500
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone,
                                  locale="zh-CN")  # fmt: skip
    page = context.new_page()
    page.errors = []  # script errors, as they happen
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(f"{url}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/(fly|staff)$"))
    return context, page


def test_every_page_in_chinese_at_desktop_and_phone_size(site) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    url = site
    OUT.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for size, viewport in SIZES.items():
                sessions = {}
                for path, (who, text) in PAGES.items():
                    if who not in sessions:
                        sessions[who] = _sign_in(browser, url, who, viewport)
                    page = sessions[who][1]
                    page.errors.clear()
                    page.goto(f"{url}{path}")
                    shown = text if text.startswith(("text=", "input[")) else f"text={text}"
                    if "visible=" not in shown:
                        shown += " >> visible=true"
                    try:
                        page.locator(shown).first.wait_for(timeout=15_000)
                    except Exception:
                        problems.append(f"{size} {path}: {text!r} not shown")
                    page.wait_for_timeout(300)  # the maps' tiles and layers settle
                    name = path.strip("/").replace("/", "-") or "start"
                    page.screenshot(path=str(OUT / f"{name}-{size}.png"), full_page=True)
                    wide = page.evaluate("document.documentElement.scrollWidth")
                    if wide > viewport["width"] + 1:
                        problems.append(f"{size} {path}: {wide} px wide, wider than the screen")
                    problems += [f"{size} {path}: script error {e}" for e in page.errors]
            # the report printed: no navigation, buttons or upload form
            page = sessions["管理员"][1]
            page.goto(f"{url}/patrols/1")
            page.get_by_text("东溪 巡逻").first.wait_for()
            page.emulate_media(media="print")
            hidden = page.evaluate(
                "['header.top', '#print', '#plays-upload', '.leaflet-control-layers']"
                ".map(s => document.querySelector(s))"
                ".map(e => !e || getComputedStyle(e).display === 'none')"
            )
            if not all(hidden):
                problems.append(f"print: controls still shown {json.dumps(hidden)}")
            page.pdf(path=str(OUT / "report.pdf"))
        finally:
            browser.close()
    assert not problems, "\n".join(problems)
