"""The control channel: a controller claims its vehicle, streams its state (preflight lines,
telemetry, progress) over its Unix socket and takes pause / continue / RTL from it; a second
controller is refused the vehicle while the first holds it."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from patrol.runner.connect import ConnectError
from patrol.runner.control import ControlClient, ControlServer
from patrol.store.claims import ClaimStore
from sim import SimFleet
from tests.patrol.simkit import HOME, in_thread, patrol_run, spec, square_plan, wait_until

K = 40.0


def test_state_and_commands_through_the_control_socket(tmp_path: Path) -> None:
    run, store, say = patrol_run(tmp_path, K)
    control = ControlServer(ClaimStore(store.engine), tmp_path / "run")
    run._say_raw = control.tee(run._say_raw)  # as terminal.run_patrol wires it
    control.attach(run)
    control.start()
    assert stat.S_IMODE(os.stat(control.path).st_mode) == 0o600
    client = ControlClient(control.path)
    try:
        with SimFleet(count=1, home=HOME, speedup=K, base_port=0, state_dir=tmp_path) as fleet:
            sim = fleet.vehicles[0]
            thread, result = in_thread(run.fly, "ctl", [spec(sim, square_plan(150))])
            (claim,) = wait_until(lambda: control.claims.claims(), timeout=30, describe=say.text)
            wait_until(lambda: run.runners, timeout=30, describe=say.text)  # made after the claim
            assert claim.owner == control.owner and claim.control_socket == str(control.path)
            assert claim.vehicle == f"tcp:127.0.0.1:{sim.port}#1"

            # a second controller on the same vehicle is refused before it sends anything
            rival_run, _store, _say = patrol_run(tmp_path, K)
            rival = ControlServer(ClaimStore(store.engine), tmp_path / "run")
            rival.attach(rival_run)
            sortie = store.get_patrol(run.patrol_id).sorties[0]
            with pytest.raises(ConnectError, match=f"is commanded by controller {control.owner}"):
                rival_run.on_vehicle(sortie, run.runners[0].vehicle)

            (snap,) = wait_until(
                lambda: [s for s in client.snapshot() if s["progress"]], timeout=30
            )
            names = [c["name"] for c in snap["preflight"]]
            assert names[:3] == ["heartbeat", "GPS", "EKF"] and all(
                c["ok"] for c in snap["preflight"]
            )
            assert snap["sysid"] == 1 and snap["telemetry"]["armed"] is True
            assert snap["progress"].startswith("item ") and not snap["link_lost"]

            stop = threading.Event()
            seen: list[list[dict]] = []
            watcher = threading.Thread(
                target=lambda: [seen.append(s) for s in client.subscribe(0.1, stop)], daemon=True
            )
            watcher.start()
            wait_until(lambda: 3 in run.runners[0].reached, timeout=30, describe=say.text)
            reply = client.command(snap["sortie"], "pause", "王小明")
            assert reply == {"ok": True, "detail": "pause requested"}
            wait_until(lambda: sim.mode == 17, timeout=10)  # BRAKE
            assert client.command(snap["sortie"], "continue", "王小明")["ok"]
            wait_until(lambda: sim.mode == 3, timeout=10)
            # a link outage shows plainly in the state, and its end too
            start = sim.sim_time
            sim.faults.outages = [(start, start + 8.0)]
            wait_until(lambda: client.snapshot()[0]["link_lost"], timeout=15)
            refused = client.command(snap["sortie"], "pause", "王小明")  # queued: link down
            assert refused["ok"]
            wait_until(lambda: not client.snapshot()[0]["link_lost"], timeout=15)
            assert client.command(999, "rtl", "x") == {
                "ok": False, "detail": "sortie 999 is not flying under this controller",
            }  # fmt: skip
            assert client.command(snap["sortie"], "explode", "x")["ok"] is False
            assert client.command(snap["sortie"], "rtl", "王小明")["ok"]
            thread.join(60)
            stop.set()
            assert not sim.armed
        ((outcome,),) = result
        assert outcome.status == "interrupted" and "operator RTL" in outcome.reason
        assert len(seen) >= 5
        positions = {(s[0]["telemetry"]["lat"], s[0]["telemetry"]["lon"]) for s in seen if s}
        assert len(positions) > 3  # the stream followed the vehicle moving
        assert control.claims.claims() == []  # released when the sortie ended
        events = [e.detail for e in store.events(snap["sortie"], "operator")]
        assert "pause requested by 王小明 (console)" in events
        assert "pause not sent: link down" in events
        assert "operator: rtl done" in events
    finally:
        control.close()
    assert not control.path.exists()


def test_the_socket_answers_bad_requests_with_a_reason(tmp_path: Path) -> None:
    import socket

    run, store, _say = patrol_run(tmp_path, K)
    control = ControlServer(ClaimStore(store.engine), tmp_path / "run")
    control.attach(run)
    control.start()
    try:
        for line in (b"not json\n", b"[1]\n", b'{"op": "dance"}\n', b'{"action": "rtl"}\n'):
            with socket.socket(socket.AF_UNIX) as sock:
                sock.connect(str(control.path))
                sock.sendall(line)
                reply = sock.makefile("rb").readline()
            assert b'"ok": false' in reply, (line, reply)
        assert ControlClient(control.path).snapshot() == []
    finally:
        control.close()
