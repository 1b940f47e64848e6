"""``patrol demo``, the product's front door, end to end: Ctrl-C in the middle of a patrol
stops every process it started and closes the records; a second run on the same data keeps
them, flies the whole patrol headless (--autostart --until-done), logs broadcasts and flags a
gathering where the simulated camera placed one, inside the township."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pyproj import Geod
from shapely.geometry import Point, shape

from patrol.console.settings import ConsoleSettings
from patrol.store import DEFAULT_DB_NAME
from sim.camera_people import VTEST
from tests.patrol.console.liveserver import CHROMIUM
from vision.flags import FlagFilter

pytestmark = pytest.mark.skipif(
    not VTEST.is_file() or not Path(CHROMIUM).exists(),
    reason="needs opencv-doc's vtest.avi and Debian's chromium",
)

TOWNSHIP = Path(__file__).resolve().parents[3] / "data" / "sample" / "township.geojson"
SPEEDUP = "5"  # the demo's own: two detectors keep up on two busy cores (README)
GEOD = Geod(ellps="WGS84")


def _ours(data: Path) -> list[str]:
    """Command lines of the processes running on ``data`` (every one the demo starts)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if str(data) in cmdline and state != "Z":
            found.append(cmdline)
    return found


def _plays(data: Path) -> int:
    """Plays the simulated copters' broadcast agents have logged."""
    logs = (data / "console" / "agents").glob("*/v*/plays.jsonl")
    return sum(len(log.read_text().splitlines()) for log in logs)


def _demo(data: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PATROL_DATA_DIR": str(data), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "patrol.cli", "demo", "--port", "0", "--speedup", SPEEDUP,
         *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,  # a process group of its own, as a terminal's job is
    )  # fmt: skip


def _until(demo: subprocess.Popen, text: str) -> str:
    """What the demo printed up to the line with ``text``."""
    said = ""
    for line in demo.stdout:
        said += line
        if text in line:
            return said
    raise AssertionError(f"the demo ended before saying {text!r}:\n{said}")


def _launch_in_the_browser(said: str) -> None:
    """Sign in with the printed password, open the printed Fly link, click Launch, confirm."""
    from tests.patrol.console.liveserver import chromium

    base = re.search(r"the console is on (http://\S+)/", said).group(1)
    password = re.search(r"sign in as demo-admin with password (\S+) ", said).group(1)
    fly = re.search(r"open (http://\S+/fly\?plan=\d+),", said).group(1)
    with chromium() as browser:
        page = browser.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(f"{base}/login")
        page.fill("input[name=name]", "demo-admin")
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: not url.endswith("/login"), timeout=30_000)
        page.goto(fly)
        picked = page.locator('select[name="connect"]')
        expect(picked).to_have_count(2)  # one copter per sortie, both chosen already
        assert len(set(picked.evaluate_all("ss => ss.map(s => s.value)"))) == 2
        page.click("#launch-form button[type=submit]")
        expect(page.locator("#launches tbody tr")).to_have_count(2, timeout=30_000)


def _console(data: Path):  # type: ignore[no-untyped-def]
    from patrol.console.services import Console

    return Console(ConsoleSettings(data_dir=data))


def test_ctrl_c_stops_everything_and_a_second_run_flies_the_whole_patrol(
    tmp_path: Path, camera_cache: Path
) -> None:
    data = tmp_path / "data"
    # the people and the ground the camera makes once (a while on a busy machine)
    shutil.copytree(camera_cache, data / "cache" / "sim-camera")
    began = time.monotonic()

    # 1. Ctrl-C while both copters fly and their detection runs
    demo = _demo(data, "--autostart")
    try:
        deadline = time.monotonic() + 120
        while sum(" detect " in c for c in _ours(data)) < 2:
            assert demo.poll() is None, demo.stdout.read()
            assert time.monotonic() < deadline, "no detection started"
            time.sleep(0.5)
        time.sleep(3)
        os.killpg(demo.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole group
        out, _ = demo.communicate(timeout=120)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 0, out
    assert "sign in as demo-admin with password " in out and "stopping (Ctrl-C)" in out
    assert "left running" not in out  # nothing had to be killed at the end
    assert _ours(data) == []
    console = _console(data)
    [first] = console.patrols.list_patrols()
    assert first.status == "interrupted"
    assert {s.status for s in first.sorties} <= {"interrupted", "completed"}
    assert all(launch.ended_at is not None for launch in console.workers.launches())
    console.stop()
    cut_short = time.monotonic() - began
    played_before = _plays(data)

    # 2. again on the same data: the operator launches it with one click, the demo stops once
    # the patrol has ended
    demo = _demo(data, "--until-done")
    try:
        said = _until(demo, "Ctrl-C stops everything")
        assert "\n  made " not in said  # nothing set up again
        _launch_in_the_browser(said)
        out, _ = demo.communicate(timeout=600)
        out = said + out
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 0, out
    assert _ours(data) == []
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["patrol"] == "completed" and summary["sorties"] == 2, summary
    # every play the agents logged in this run is the patrol's (their log has the aircraft's
    # time, K times faster than the wall's)
    assert summary["broadcasts"] == _plays(data) - played_before > 0, summary
    assert summary["report"].endswith("/patrols/2"), summary

    console = _console(data)
    assert [p.status for p in console.patrols.list_patrols()][-1] == "interrupted"  # kept
    assert len(console.planning.plans()) == 1 and len(console.library.list()) == 3
    township = [shape(f["geometry"]) for f in json.loads(TOWNSHIP.read_text())["features"]]
    truth = json.loads((data / "sim" / "console" / "camera-truth.json").read_text())
    placed = [(g["lon"], g["lat"]) for g in truth["gatherings"]]
    flags = console.flags.list(FlagFilter(patrol_id=2), 1000)
    gatherings = [f for f in flags if f.kind == "gathering"]
    assert summary["flags"]["gathering"] == len(gatherings) >= 1, summary

    def off(flag) -> float:  # type: ignore[no-untyped-def]
        return min(GEOD.inv(flag.lon, flag.lat, lon, lat)[2] for lon, lat in placed)

    near = [f for f in gatherings if off(f) <= 5.0]
    assert near, [(f.lat, f.lon, round(off(f), 1)) for f in gatherings]
    assert all(any(t.contains(Point(f.lon, f.lat)) for t in township) for f in near)
    assert (data / DEFAULT_DB_NAME).is_file()
    console.stop()
    print(f"demo: Ctrl-C run {cut_short:.0f} s, whole run {time.monotonic() - began:.0f} s")


def test_refusals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from patrol.cli import main

    monkeypatch.setenv("PATROL_DATA_DIR", str(tmp_path / "data"))
    for argv, message in (
        (["--speedup", "0"], "--speedup must be within 0.5-50, got 0"),
        (["--port", "70000"], "--port 70000 is not a TCP port"),
        (["--grids", " , "], "--grids names no grid"),
        (["--grids", "新村 Xincun,月亮村"], "no grid named 月亮村 in the console"),
    ):
        assert main(["demo", "--port", "0", *argv]) == 2
        err = capsys.readouterr().err
        assert err.startswith("patrol demo: ") and message in err, err
    assert _ours(tmp_path / "data") == []
