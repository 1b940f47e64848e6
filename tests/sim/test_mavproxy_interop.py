"""Interoperability with a ground station nobody here wrote: MAVProxy (from PyPI, in its own
virtual environment .venv-mavproxy, see scripts/setup.sh) flies the built-in simulator."""

from __future__ import annotations

import time
from pathlib import Path

import pexpect
import pytest

from sim import SimFleet
from sim.geo import offset
from tests.sim.conftest import HOME

MAVPROXY = Path(__file__).resolve().parents[2] / ".venv-mavproxy" / "bin" / "mavproxy.py"
MODULES = "wp,param,arm,mode,cmdlong,misc,rally,fence,battery,rc"  # no MAVFTP, no log

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(
        not MAVPROXY.exists(), reason=f"MAVProxy missing: run scripts/setup.sh ({MAVPROXY})"
    ),
]


def qgc_wpl(path: Path) -> None:
    """Home, takeoff 20 m, two waypoints 100 m apart (QGC WPL 110, as ``wp load`` reads)."""
    north = offset(HOME[0], HOME[1], 100, 0)
    corner = offset(HOME[0], HOME[1], 100, 100)
    rows = [
        (0, 1, 0, 16, HOME[0], HOME[1], HOME[2]),
        (1, 0, 3, 22, 0.0, 0.0, 20.0),
        (2, 0, 3, 16, *north, 20.0),
        (3, 0, 3, 16, *corner, 20.0),
    ]
    lines = ["QGC WPL 110"]
    for seq, current, frame, cmd, lat, lon, alt in rows:
        lines.append(
            f"{seq}\t{current}\t{frame}\t{cmd}\t0\t0\t0\t0\t{lat:.7f}\t{lon:.7f}\t{alt:.2f}\t1"
        )
    path.write_text("\n".join(lines) + "\n")


def test_mavproxy_flies_a_mission(tmp_path):
    qgc_wpl(tmp_path / "patrol.txt")
    # transfers at a modest speedup: MAVProxy answers a MISSION_REQUEST within a few hundred
    # wall ms, and the vehicle gives up after 8 simulated seconds, as SITL would
    fleet = SimFleet(count=1, home=HOME, speedup=4, base_port=0, state_dir=tmp_path / "sim",
                     boot_time_scale=0.1)  # fmt: skip
    fleet.start()
    vehicle = fleet.vehicles[0]
    log = (tmp_path / "mavproxy.log").open("w")
    child = pexpect.spawn(
        str(MAVPROXY),
        [
            "--master",
            f"tcp:127.0.0.1:{vehicle.port}",
            f"--default-modules={MODULES}",
            "--state-basedir",
            str(tmp_path),
        ],
        cwd=tmp_path,
        encoding="utf-8",
        timeout=30,
        logfile=log,
    )
    try:
        child.expect("Detected vehicle 1:1")
        child.sendline("param fetch")
        child.expect("Received 1354 parameters")
        child.sendline("param show WPNAV_SPEED")
        child.expect(r"WPNAV_SPEED\s+1000")
        fleet.wait_for(vehicle.ekf_has_position, sim_timeout=60)
        child.sendline("wp load patrol.txt")
        child.expect("Sent all 4 waypoints")
        child.expect("Flight plan received")
        assert [i.command for i in vehicle.mission_items()] == [16, 22, 16, 16]
        child.sendline("param set SIM_SPEEDUP 25")  # fly faster, as with SITL
        fleet.wait_for(lambda: fleet.speedup == 25, sim_timeout=20)
        child.sendline("mode guided")
        child.expect("GUIDED>")
        child.sendline("arm throttle")
        child.expect("ARMED")
        child.sendline("takeoff 20")
        child.expect("NAV_TAKEOFF: ACCEPTED")
        fleet.wait_for(lambda: vehicle.pose().alt_rel > 19, sim_timeout=40)
        child.sendline("mode auto")
        child.expect("Mission: 1 Takeoff")
        child.expect("Reached command #2", timeout=30)
        child.expect("Reached command #3", timeout=30)
        child.sendline("rtl")
        child.expect("RTL>")
        # the vehicle's "Disarming motors" and MAVProxy's own "DISARMED" (from the next
        # heartbeat), in whichever order MAVProxy prints them
        seen = set()
        while len(seen) < 2:
            seen.add(child.expect(["Disarming motors", "DISARMED"], timeout=40))
        lat, lon = vehicle.position()
        assert abs(lat - HOME[0]) < 1e-5 and abs(lon - HOME[1]) < 1e-5
    finally:
        child.sendline("exit")
        time.sleep(0.2)
        child.close(force=True)
        log.close()
        fleet.stop()


def test_mavproxy_moves_parameters_and_missions_over_ftp(tmp_path):
    """MAVProxy's ftp module: the parameters as @PARAM/param.pck (it fetches them so when the
    module is loaded), ``wp ftpload`` writing @MISSION/mission.dat and ``wp ftp`` reading it."""
    qgc_wpl(tmp_path / "patrol.txt")
    fleet = SimFleet(count=1, home=HOME, speedup=4, base_port=0, state_dir=tmp_path / "sim",
                     boot_time_scale=0.1)  # fmt: skip
    fleet.start()
    vehicle = fleet.vehicles[0]
    log = (tmp_path / "mavproxy.log").open("w")
    child = pexpect.spawn(
        str(MAVPROXY),
        ["--master", f"tcp:127.0.0.1:{vehicle.port}", "--default-modules=wp,param,ftp,cmdlong",
         "--state-basedir", str(tmp_path)],
        cwd=tmp_path, encoding="utf-8", timeout=30, logfile=log,
    )  # fmt: skip
    try:
        child.expect("Detected vehicle 1:1")
        child.expect(r"Received 1354 parameters \(ftp\)")
        child.sendline("wp ftpload patrol.txt")
        child.expect(r"Sent waypoint of length 4 in")
        # printed once the writes are acknowledged; the vehicle stores the file at the
        # TerminateSession that follows
        fleet.wait_for(lambda: len(vehicle.mission_items()) == 4, sim_timeout=10)
        assert [i.command for i in vehicle.mission_items()] == [16, 22, 16, 16]
        child.sendline("wp ftp")
        child.expect("Saved 4 waypoints")
    finally:
        child.sendline("exit")
        time.sleep(0.2)
        child.close(force=True)
        log.close()
        fleet.stop()
