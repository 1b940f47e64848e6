"""Flying from the console: a saved plan launched on a simulated copter runs in a supervised
``patrol fly`` worker; the console streams its state and relays pause / continue / RTL through
the controller's control channel. A patrol flown from a terminal is seen and commanded the same
way, and a vehicle held by one controller is not launched on again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from missions.formats import write_mission
from patrol.console.app import create_app
from patrol.console.services import Console
from patrol.console.simulated import SimVehicle
from patrol.store.patrols import mission_to_json
from sim import SimFleet
from tests.patrol.console.conftest import PASSWORD, make_settings
from tests.patrol.console.liveserver import served
from tests.patrol.simkit import HOME, square_plan, wait_until

K = 20.0


@pytest.fixture
def flying(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A served console with one simulated copter it may launch on, and a signed-in operator."""
    with SimFleet(count=1, home=HOME, speedup=K, base_port=0, state_dir=tmp_path / "sim") as fleet:
        sim = fleet.vehicles[0]
        connect = f"tcp:127.0.0.1:{sim.port}"
        console = Console(make_settings(tmp_path, connects=[connect], speedup=K))
        console.simulated = [SimVehicle(0, 1, "127.0.0.1", sim.port, sim.ports[1])]
        console.accounts.add_user("operator", "operator", PASSWORD)
        profile = tmp_path / "site.toml"
        profile.write_text("[params]\nFS_GCS_TIMEOUT = 20\n")
        with served(create_app(console.settings, console)) as url:
            client = httpx.Client(base_url=url, timeout=20)
            login = client.post("/api/session", json={"name": "operator", "password": PASSWORD})
            client.headers["X-CSRF-Token"] = login.json()["csrf"]
            try:
                yield console, client, sim, connect
            finally:
                console.workers.stop_all()
                client.close()
        console.stop()


def _live(client: httpx.Client) -> list[dict]:
    return client.get("/api/vehicles").json()["live"]["sorties"]


def _sortie_where(client: httpx.Client, condition) -> dict:  # type: ignore[no-untyped-def]
    def found():  # type: ignore[no-untyped-def]
        return next((s for s in _live(client) if condition(s)), None)

    return wait_until(found, timeout=60, poll=0.2, describe=lambda: json.dumps(_live(client)))


def test_launch_watch_pause_continue_and_rtl_from_the_console(flying) -> None:  # type: ignore[no-untyped-def]
    console, client, sim, connect = flying
    plan = console.planning.add_plan("方块 square", {}, {}, [mission_to_json(square_plan(150))],
                                     None, "operator")  # fmt: skip
    bad = client.post("/api/patrols", json={"plan_id": plan.id, "connects": ["tcp:10.0.0.1:5760"]})
    assert bad.status_code == 400 and "not a vehicle this console flies" in bad.json()["error"]
    launched = client.post("/api/patrols", json={"plan_id": plan.id, "connects": [connect]})
    assert launched.status_code == 201, launched.text
    # the vehicle shows up with its preflight lines, then flying
    first = _sortie_where(client, lambda s: s["preflight"])
    assert first["preflight"][0]["name"] == "heartbeat" and first["preflight"][0]["ok"]
    flying_now = _sortie_where(client, lambda s: s["progress"] and s["telemetry"]["armed"])
    sortie = flying_now["sortie"]
    busy = client.post("/api/patrols", json={"plan_id": plan.id, "connects": [connect]})
    assert busy.status_code == 409 and "busy" in busy.json()["error"]
    vehicles = client.get("/api/vehicles").json()["vehicles"]
    assert vehicles[0]["busy"] and vehicles[0]["sortie"] == sortie
    # server-sent events carry the same state
    with client.stream("GET", "/api/vehicles/stream") as events:
        line = next(ln for ln in events.iter_lines() if ln.startswith("data: "))
    assert json.loads(line[6:])["sorties"][0]["sortie"] == sortie

    _sortie_where(client, lambda s: "waypoints 0/" not in s["progress"])
    answer = client.post(f"/api/vehicles/{sortie}/command", json={"action": "pause"})
    assert answer.status_code == 200 and answer.json()["ok"], answer.text
    wait_until(lambda: sim.mode == 17, timeout=15)  # BRAKE
    _sortie_where(client, lambda s: s["telemetry"]["mode"] == "BRAKE")
    assert client.post(f"/api/vehicles/{sortie}/command", json={"action": "continue"}).json()["ok"]
    wait_until(lambda: sim.mode == 3, timeout=15)  # AUTO
    moved = _sortie_where(client, lambda s: len(s["trail"]) > 5)
    assert moved["trail"][0] != moved["trail"][-1]
    assert client.post(f"/api/vehicles/{sortie}/command", json={"action": "fly"}).status_code == 422
    assert client.post(f"/api/vehicles/{sortie}/command", json={"action": "rtl"}).json()["ok"]
    wait_until(lambda: not sim.armed, timeout=60)
    launches = wait_until(
        lambda: [ln for ln in client.get("/api/patrols").json()["launches"] if not ln["running"]],
        timeout=30,
    )
    assert launches[0]["exit_code"] == 3  # landed before the end of the route: resumable
    patrol = client.get(f"/api/patrols/{launches[0]['patrol_id']}").json()
    operator = [e["detail"] for e in patrol["sorties"][0]["events"] if e["kind"] == "operator"]
    assert "pause requested by operator (console)" in operator and "operator: rtl done" in operator
    audit = [(e.action, e.target) for e in console.accounts.audit_log(user="operator")]
    assert ("launch", f"plan {plan.id} 方块 square") in audit
    assert ("pause", f"sortie {sortie}") in audit and ("rtl", f"sortie {sortie}") in audit
    report = client.get(f"/api/patrols/{launches[0]['patrol_id']}/report").json()
    flown = report["sorties"][0]["flown"]["coordinates"]
    assert len(flown) > 20  # from the sortie's .tlog: every position reported while armed
    north = max(lat for _lon, lat in flown)
    assert north > HOME[0] + 100 / 110_800  # it flew the square's first leg, 150 m north
    gone = _sortie_where(client, lambda s: s["sortie"] == sortie and not s["controller"])
    assert gone["status"] in ("interrupted", "flying")
    assert (
        client.post(f"/api/vehicles/{sortie}/command", json={"action": "land"}).status_code == 409
    )


def test_a_patrol_flown_from_a_terminal_is_seen_and_commanded(flying, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    console, client, sim, connect = flying
    plan_file = tmp_path / "square.plan"
    write_mission(plan_file, square_plan(150))
    env = {**os.environ, "PATROL_DATA_DIR": str(console.settings.data_dir),
           "PYTHONUNBUFFERED": "1"}  # fmt: skip
    terminal = subprocess.Popen(
        [sys.executable, "-m", "patrol.cli", "fly", str(plan_file), "--connect", connect,
         "--speedup", str(K), "--db", console.settings.db_url],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        seen = _sortie_where(client, lambda s: s["progress"] and s["telemetry"]["armed"])
        assert seen["pid"] == terminal.pid
        answer = client.post(f"/api/vehicles/{seen['sortie']}/command", json={"action": "land"})
        assert answer.json() == {"ok": True, "detail": "land requested"}
        out, _ = terminal.communicate(timeout=90)
    finally:
        if terminal.poll() is None:
            terminal.kill()
    assert terminal.returncode == 3, out
    assert "operator LAND" in out and not sim.armed
    time.sleep(0.1)
