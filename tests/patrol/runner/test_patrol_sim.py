"""Patrols flown against the built-in simulator at high speedup, as the issue's proof asks."""

import re
import subprocess
import sys
from pathlib import Path

from pymavlink import mavutil

from patrol.runner.patrol import SortieSpec
from patrol.runner.route import waypoint_seqs
from sim import SimFleet
from tests.patrol.simkit import (
    HOME,
    M_LAT,
    M_LON,
    gcs_udp_port,
    patrol_run,
    spec,
    square_plan,
)

K = 40.0


def test_full_patrol_completes_and_is_recorded(tmp_path: Path) -> None:
    plan = square_plan(100)
    run, store, say = patrol_run(tmp_path, K)
    with SimFleet(count=1, home=HOME, speedup=K, base_port=0, state_dir=tmp_path) as fleet:
        (outcome,) = run.fly("one", [spec(fleet.vehicles[0], plan)])
        assert not fleet.vehicles[0].armed
    assert outcome.status == "completed", say.text()
    assert outcome.exit_code == 0
    patrol = store.get_patrol(run.patrol_id)
    sortie = patrol.sorties[0]
    assert patrol.status == "completed" and sortie.status == "completed"
    assert set(waypoint_seqs(plan)) <= {r.seq for r in sortie.reached}
    assert sortie.distance_m > 300  # 4 legs of ~100 m plus the way home
    details = [e.detail for e in sortie.events]
    for expected in ("preflight passed", "armed", "mission started (AUTO)", "disarmed"):
        assert expected in details
    text = say.text()
    assert "[ ok ] param FS_GCS_ENABLE: 1 (was 0, set and confirmed)" in text
    assert "[ ok ] mission upload: 7 items uploaded over MAVLink FTP, read back identical" in text
    assert "waypoints 4/4" in text and "ETA" in text
    # "left" counts the way home and shrinks to nothing at touchdown
    lefts = [int(n) for n in re.findall(r"left (\d+) m", text)]
    assert lefts[0] > 300 and lefts[-1] <= 10, lefts
    # the .tlog holds both directions and reads with mavlogdump
    tlog = Path(sortie.tlog)
    log = mavutil.mavlink_connection(str(tlog))
    seen = set()
    while (m := log.recv_match()) is not None:
        seen.add((m.get_srcSystem(), m.get_type()))
    assert {
        (1, "MISSION_ITEM_REACHED"),
        (255, "FILE_TRANSFER_PROTOCOL"),
        (255, "HEARTBEAT"),
    } <= seen
    dump = subprocess.run(
        [sys.executable, str(Path(sys.executable).parent / "mavlogdump.py"), "--types",
         "MISSION_ITEM_REACHED", str(tlog)], capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert dump.stdout.count("MISSION_ITEM_REACHED") >= 4


def test_two_vehicles_fly_at_once_without_cross_talk(tmp_path: Path) -> None:
    run, store, say = patrol_run(tmp_path, K)
    with SimFleet(count=2, home=HOME, speedup=K, base_port=0, state_dir=tmp_path) as fleet:
        a, b = fleet.vehicles
        plans = [square_plan(80, alt=20, legs=3), square_plan(120, alt=30, legs=4)]
        outcomes = run.fly("pair", [spec(a, plans[0]), spec(b, plans[1])])
        furthest = [v.pose() for v in fleet.vehicles]
    assert [o.status for o in outcomes] == ["completed", "completed"], say.text()
    # every line of a sortie, the preflight checklist too, names its vehicle
    checklist = [line for line in say.lines if "[ ok ]" in line or "[FAIL]" in line]
    assert checklist and all(line.startswith(("[v1]   [", "[v2]   [")) for line in checklist)
    patrol = store.get_patrol(run.patrol_id)
    assert [s.sysid for s in patrol.sorties] == [1, 2]
    for sortie, plan in zip(patrol.sorties, plans, strict=True):
        assert set(waypoint_seqs(plan)) <= {r.seq for r in sortie.reached}
        sources = set()
        log = mavutil.mavlink_connection(sortie.tlog)
        while (m := log.recv_match()) is not None:
            sources.add(m.get_srcSystem())
        assert sources == {sortie.sysid, 255}  # one tlog per vehicle, only its traffic
    # each flew its own route: the larger square took vehicle 2 further
    reached_b = [r for r in patrol.sorties[1].reached if r.lat is not None]
    assert max(r.lat for r in reached_b) > HOME[0] + 110 * M_LAT
    reached_a = [r for r in patrol.sorties[0].reached if r.lat is not None]
    assert max(r.lat for r in reached_a) < HOME[0] + 90 * M_LAT
    assert furthest  # both vehicles existed to the end


def test_prearm_failure_is_reported_clearly(tmp_path: Path) -> None:
    # a fence polygon drawn beside home: the vehicle refuses to arm ("breaching fence")
    lat, lon = HOME[0] + 300 * M_LAT, HOME[1]
    polygon = [
        (lat, lon - 50 * M_LON),
        (lat + 100 * M_LAT, lon - 50 * M_LON),
        (lat + 100 * M_LAT, lon + 50 * M_LON),
        (lat, lon + 50 * M_LON),
    ]
    run, store, _say = patrol_run(tmp_path, K)
    with SimFleet(count=1, home=HOME, speedup=K, base_port=0, state_dir=tmp_path) as fleet:
        (outcome,) = run.fly(
            "fenced", [spec(fleet.vehicles[0], square_plan(fence_polygon=polygon))]
        )
        assert not fleet.vehicles[0].armed
    assert outcome.status == "failed" and outcome.exit_code == 4
    assert "launch failed" in outcome.reason
    assert "breaching fence" in outcome.reason, outcome.reason
    assert store.get_patrol(run.patrol_id).sorties[0].status == "failed"


def test_two_vehicles_sharing_one_udp_port(tmp_path: Path) -> None:
    run, store, say = patrol_run(tmp_path, K)
    with gcs_udp_port() as port, SimFleet(
        count=2, home=HOME, speedup=K, base_port=0, state_dir=tmp_path,
        gcs_udp=("127.0.0.1", port),
    ):  # fmt: skip
        plans = [square_plan(80, legs=2), square_plan(100, alt=30, legs=3)]
        specs = [
            SortieSpec(f"udpin:127.0.0.1:{port}@2", "b.plan", plans[1]),
            SortieSpec(f"udpin:127.0.0.1:{port}", "a.plan", plans[0]),  # the other one
        ]
        outcomes = run.fly("udp pair", specs)
    assert [o.status for o in outcomes] == ["completed", "completed"], say.text()
    sorties = store.get_patrol(run.patrol_id).sorties
    assert [s.sysid for s in sorties] == [2, 1]
    for sortie, plan in zip(sorties, [plans[1], plans[0]], strict=True):
        assert set(waypoint_seqs(plan)) <= {r.seq for r in sortie.reached}
        log = mavutil.mavlink_connection(sortie.tlog)
        sources = set()
        while (m := log.recv_match()) is not None:
            sources.add(m.get_srcSystem())
            if m.get_srcSystem() == 255:
                assert getattr(m, "target_system", 0) in (0, sortie.sysid)
        assert sources == {sortie.sysid, 255}  # its own .tlog despite the shared port
