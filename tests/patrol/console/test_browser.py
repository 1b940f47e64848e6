"""The whole walk in Debian's Chromium (headless, driven by Playwright): sign in, import grids,
plan, launch a simulated patrol and watch the vehicle move on the map, pause and continue it,
record a message in the browser and play it back, review and assign a flag, and handle it as
the assigned member of staff on a phone-sized viewport while the reviewer sees it change.
Screenshots of every open page are kept under out/browser/ when a test fails."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from patrol.console.app import create_app
from patrol.console.services import Console
from patrol.console.simulated import SimVehicle
from sim import SimFleet
from tests.patrol.console.conftest import PASSWORD, make_settings
from tests.patrol.console.flagkit import jpeg, record_flags
from tests.patrol.console.liveserver import CHROMIUM, CHROMIUM_ARGS, served
from tests.patrol.simkit import HOME

ROOT = Path(__file__).resolve().parents[3]
OUT = ROOT / "out" / "browser"
SAMPLE = ROOT / "data" / "sample"
K = 20.0
TOWNSHIP_HOME = {"lat": 27.57, "lon": 119.71, "alt": 200}
MEDIA_ARGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
              "--autoplay-policy=no-user-gesture-required"]  # fmt: skip

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")


@pytest.fixture
def browser(request):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS + MEDIA_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            report = getattr(request.node, "rep_call", None)
            if report is not None and report.failed:
                folder = OUT / request.node.name
                folder.mkdir(parents=True, exist_ok=True)
                for c, context in enumerate(chromium.contexts):
                    for n, page in enumerate(context.pages):
                        page.screenshot(
                            path=str(folder / f"context{c}-page{n}.png"), full_page=True
                        )
            chromium.close()


@pytest.fixture
def site(tmp_path: Path):  # type: ignore[no-untyped-def]
    with SimFleet(count=1, home=HOME, speedup=K, base_port=0, state_dir=tmp_path / "sim") as fleet:
        sim = fleet.vehicles[0]
        connect = f"tcp:127.0.0.1:{sim.port}"
        console = Console(make_settings(tmp_path, connects=[connect], speedup=K))
        console.simulated = [SimVehicle(0, 1, "127.0.0.1", sim.port, sim.ports[1])]
        for name, role in (("操作员", "operator"), ("审核员", "reviewer"), ("王小明", "staff")):
            console.accounts.add_user(name, role, PASSWORD)
        console.site.change({"home": TOWNSHIP_HOME}, (), "管理员")  # as an admin sets it
        with served(create_app(console.settings, console)) as url:
            try:
                yield url, console, sim
            finally:
                console.workers.stop_all()
        console.stop()


def until(page, condition, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    """Poll ``condition`` (Python, over locators) until it holds: the pages' CSP forbids the
    string evaluation that wait_for_function uses."""
    for _ in range(int(timeout * 10)):
        value = condition()
        if value:
            return value
        page.wait_for_timeout(100)
    raise AssertionError("condition not met in the browser")


def sign_in(context, url: str, name: str):  # type: ignore[no-untyped-def]
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{url}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/(fly|review|staff)$"))
    return page


def test_the_whole_walk(browser, site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, console, sim = site
    desk = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    desk.grant_permissions(["microphone"])
    op = sign_in(desk, url, "操作员")

    # grids: import the sample township and its no-fly zones
    op.goto(f"{url}/grids")
    op.set_input_files("#import-form input[name=file]", str(SAMPLE / "township.geojson"))
    op.click("#import-form button[type=submit]")
    op.wait_for_selector('tr[data-grid="上洋村 Shangyang"]')
    op.select_option("#import-form select[name=kind]", "no_fly")
    op.set_input_files("#import-form input[name=file]", str(SAMPLE / "no-fly.geojson"))
    op.click("#import-form button[type=submit]")
    until(op, lambda: op.locator("#grid-list tbody tr").count() == 15)
    assert op.locator('tr[data-grid="上洋村 Shangyang"] input').input_value() == "上洋村 Shangyang"

    # plan: a perimeter round one grid, previewed then saved
    op.goto(f"{url}/plans")
    op.fill("#plan-form input[name=name]", "上洋 巡逻")
    op.get_by_label("上洋村 Shangyang").check()
    op.select_option("#plan-form select[name=pattern]", "perimeter")
    op.click("#preview")
    op.wait_for_selector("#stats:not([hidden]) #sortie-table tbody tr")
    assert "1 sortie(s)" in op.inner_text("#stats-line")
    op.click("#plan-form button[type=submit]")
    op.wait_for_selector('tr[data-plan="上洋 巡逻"]')

    # fly: launch on the simulated copter, watch it move, pause and continue it
    op.click('tr[data-plan="上洋 巡逻"] >> text=Fly')
    op.wait_for_selector("#sortie-vehicles select option", state="attached")
    op.click("#launch-form button[type=submit]")
    op.wait_for_selector("article.vehicle .checks li.ok", state="attached", timeout=60_000)
    card = op.locator("article.vehicle")
    op.wait_for_selector("article.vehicle[data-mode=AUTO]", timeout=90_000)
    first = (card.get_attribute("data-lat"), card.get_attribute("data-lon"))
    marker = op.locator("path.leaflet-interactive[data-vehicle]")
    drawn = marker.get_attribute("d")
    until(op, lambda: (card.get_attribute("data-lat"), card.get_attribute("data-lon")) != first)
    until(op, lambda: marker.get_attribute("d") != drawn)
    card.locator("button[data-action=pause]").click()
    op.wait_for_selector("article.vehicle[data-mode=BRAKE]", timeout=30_000)
    assert sim.mode == 17
    card = op.locator("article.vehicle")
    card.locator("button[data-action=continue]").click()
    op.wait_for_selector("article.vehicle[data-mode=AUTO]", timeout=30_000)

    # messages: record in the browser (a fake microphone), save, play it back
    op.goto(f"{url}/messages")
    op.click("#record-start")
    op.wait_for_timeout(3000)
    op.click("#record-stop")
    op.wait_for_selector("#record-audio:not([hidden])")
    op.fill("#record-form input[name=title]", "温州话 通知")
    op.fill("#record-form input[name=dialect]", "wuu")
    op.click("#record-form button[type=submit]")
    row = op.locator('tr[data-message="温州话 通知"]')
    row.wait_for(timeout=30_000)
    assert "wuu" in row.inner_text()
    played = op.evaluate(
        """async () => {
          const a = document.querySelector('tr[data-message="温州话 通知"] audio');
          await a.play();
          await new Promise((r) => setTimeout(r, 800));
          return { t: a.currentTime, d: a.duration };
        }"""
    )
    assert played["t"] > 0 and played["d"] > 2.0

    # review: the camera's flags, one assigned to the ground staff with a note
    ids = record_flags(console.flags)
    reviewer = sign_in(browser.new_context(viewport={"width": 1400, "height": 900}), url, "审核员")
    reviewer.wait_for_selector(f'li[data-flag="{ids[0]}"] img.thumb')
    reviewer.click(f'li[data-flag="{ids[0]}"]')
    reviewer.wait_for_selector(f'#detail[data-flag="{ids[0]}"] #detail-crop[src]')
    reviewer.select_option("#review-form select[name=assignee]", "王小明")
    reviewer.fill("#review-form textarea[name=note]", "请去上洋村看看")
    reviewer.click("#review-form button[data-action=assign]")
    reviewer.wait_for_selector(f'li[data-flag="{ids[0]}"] .badge.assigned')

    # the staff member's phone: the flag, its crop, the way there, handled with a photo
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
        geolocation={"latitude": 27.5700, "longitude": 119.7035}, permissions=["geolocation"],
    )  # fmt: skip
    staff = sign_in(phone, url, "王小明")
    task = staff.locator(f'li[data-flag="{ids[0]}"]')
    task.wait_for()
    crop = task.locator("img.crop")
    crop.wait_for()
    assert until(staff, lambda: crop.evaluate("img => img.naturalWidth")) == 64
    until(staff, lambda: re.search(r"\d+ m · \d+° ", task.locator(".directions").inner_text()))
    directions = task.locator(".directions").inner_text()
    metres = int(directions.split(" m")[0])
    assert 330 <= metres <= 360 and "N 北" in directions  # 0.0031° of latitude north: 344 m
    photo = tmp_path / "现场.jpg"
    photo.write_bytes(jpeg(640, 480))
    task.locator("textarea[name=note]").fill("已劝散 dispersed")
    task.locator("input[name=photo]").set_input_files(str(photo))
    task.locator("button[type=submit]").click()
    staff.wait_for_selector(f'li[data-flag="{ids[0]}"][data-state=resolved]')

    # the reviewer sees the follow-up without reloading
    reviewer.wait_for_selector(f'li[data-flag="{ids[0]}"] .badge.resolved', timeout=15_000)
    reviewer.wait_for_selector("#history li:has-text('已劝散 dispersed') a")
    OUT.mkdir(parents=True, exist_ok=True)
    staff.screenshot(path=str(OUT / "staff-phone.png"), full_page=True)
    reviewer.screenshot(path=str(OUT / "review.png"))


def test_draw_a_grid_on_the_map(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    console = Console(make_settings(tmp_path))
    console.accounts.add_user("操作员", "operator", PASSWORD)
    console.site.change({"home": TOWNSHIP_HOME}, (), "管理员")  # the maps open there
    with served(create_app(console.settings, console)) as url:
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        page.on("dialog", lambda dialog: dialog.accept("新村 Xincun"))
        page.goto(f"{url}/login")
        page.fill("input[name=name]", "操作员")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r".*/fly$"))
        page.goto(f"{url}/grids")
        page.click(".leaflet-pm-icon-polygon")
        box = page.locator("#map").bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        corners = [(-80, -60), (80, -60), (80, 60), (-80, 60), (-80, -60)]
        for dx, dy in corners:
            page.mouse.click(cx + dx, cy + dy)
            page.wait_for_timeout(150)
        page.wait_for_selector('tr[data-grid="新村 Xincun"]')
    (grid,) = console.planning.grids()
    assert grid.name == "新村 Xincun" and grid.source == "drawn"
    assert len(grid.geometry["coordinates"][0]) == 5
    console.stop()
