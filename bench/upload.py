"""Mission upload speed: Gridpatrol's verified upload (upload + read-back + compare) of 100, 300
and 600 items, against MAVProxy's ``wp load`` on the same vehicle when MAVProxy is installed
(.venv-mavproxy, from scripts/setup.sh).

    .venv/bin/python bench/upload.py                 # starts `patrol sim` (speedup 10)
    .venv/bin/python bench/upload.py --connect tcp:127.0.0.1:5760   # any vehicle, e.g. SITL

The controller runs at the vehicle's own speed-up (its SIM_SPEEDUP parameter; --speedup wins).

Prints items/s. MAVProxy's figure is its own "Loaded N waypoints in T s" (COUNT to the last
item sent, no read-back); ours is measured to the vehicle's ACK, and again with the read-back.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pymavlink.dialects.v20 import ardupilotmega as mavlink  # noqa: E402

from missions.formats import write_mission  # noqa: E402
from missions.items import MISSION, Mission, MissionItem  # noqa: E402
from patrol.link import Link  # noqa: E402
from patrol.vehicle import Vehicle  # noqa: E402
from patrol.vehicle.speedup import settle_speedup  # noqa: E402

MAVPROXY = ROOT / ".venv-mavproxy" / "bin" / "mavproxy.py"
HOME = (27.57, 119.71, 200.0)


def mission(count: int) -> Mission:
    """Home, takeoff and ``count - 2`` waypoints on a 10 m lawnmower grid."""
    items = [
        MissionItem(16, frame=0, lat=HOME[0], lon=HOME[1], alt=HOME[2]),
        MissionItem(mavlink.MAV_CMD_NAV_TAKEOFF, alt=20),
    ]
    for k in range(count - 2):
        row, col = divmod(k, 25)
        col = col if row % 2 == 0 else 24 - col
        items.append(
            MissionItem(16, lat=HOME[0] + row * 10 / 110_800, lon=HOME[1] + col * 10 / 98_500,
                        alt=20 + k % 3)
        )  # fmt: skip
    return Mission(items, name=f"bench-{count}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sim(speedup: float, workdir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PATROL_DATA_DIR": str(workdir)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "patrol.cli", "sim", "--speedup", str(speedup), "--port",
         str(port), "--state-dir", str(workdir / "sim")],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"tcp:127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("bench: the simulator did not start")


def ours(connect: str, count: int, override: float | None) -> tuple[float, float]:
    """Seconds for upload to ACK, and for upload + read-back + compare, at the vehicle's own
    speed-up (SIM_SPEEDUP; ``override`` wins)."""
    link = Link(connect).start()
    try:
        sysid = link.wait_vehicle(20)
        if sysid is None:
            raise SystemExit(f"bench: no vehicle on {connect}")
        vehicle = Vehicle(link, sysid)
        print(f"  ({settle_speedup(vehicle, override).note})")
        items = mission(count).items
        vehicle.missions.clear(MISSION)
        started = time.monotonic()
        stats = vehicle.missions.upload(items, MISSION)
        upload = time.monotonic() - started
        if stats.resent or stats.restarts:
            print(f"  (upload of {count}: {stats.resent} re-sends, {stats.restarts} restarts)")
        vehicle.missions.clear(MISSION)
        verified = vehicle.missions.upload_verified(items, MISSION).seconds
        return upload, verified
    finally:
        link.close()


def mavproxy(connect: str, count: int, workdir: Path) -> float | None:
    """MAVProxy's own time for ``wp load`` of ``count`` items, or None if it failed."""
    import pexpect

    path = workdir / f"bench-{count}.waypoints"
    write_mission(path, mission(count))
    child = pexpect.spawn(
        str(MAVPROXY),
        ["--master", connect, "--state-basedir", str(workdir), "--default-modules", "wp,cmdlong"],
        cwd=str(workdir), encoding="utf-8", timeout=60,
    )  # fmt: skip
    try:
        child.expect(["Detected vehicle", "online system"], timeout=30)
        time.sleep(1.0)
        child.sendline(f"wp load {path}")
        child.expect(r"Loaded (\d+) waypoints in ([0-9.]+)s", timeout=120)
        return float(child.match.group(2))
    except (pexpect.TIMEOUT, pexpect.EOF):
        return None
    finally:
        child.sendline("exit")
        child.close(force=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connect", help="vehicle to use (default: start patrol sim)")
    parser.add_argument(
        "--speedup",
        type=float,
        help="speed-up of the simulator started here (default 10); with --connect it overrides "
        "the vehicle's own SIM_SPEEDUP",
    )
    parser.add_argument("--counts", default="100,300,600", help="mission sizes")
    parser.add_argument("--no-mavproxy", action="store_true", help="skip the MAVProxy runs")
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        sim = None
        connect = args.connect
        if connect is None:
            speedup = args.speedup or 10.0
            sim, connect = start_sim(speedup, workdir)
            print(f"vehicle: patrol sim --speedup {speedup:g} on {connect}")
        else:
            print(f"vehicle: {connect}")
        use_mavproxy = MAVPROXY.exists() and not args.no_mavproxy
        if not use_mavproxy:
            print("MAVProxy: not measured (.venv-mavproxy/bin/mavproxy.py missing or skipped)")
        try:
            for count in counts:
                upload, verified = ours(connect, count, args.speedup)
                line = (
                    f"{count:4d} items: gridpatrol upload {count / upload:7.1f} items/s "
                    f"({upload:.2f} s), with read-back {count / verified:7.1f} items/s "
                    f"({verified:.2f} s)"
                )
                if use_mavproxy:
                    took = mavproxy(connect, count, workdir)
                    line += (
                        f" | MAVProxy wp load {count / took:7.1f} items/s ({took:.2f} s)"
                        if took
                        else " | MAVProxy wp load failed"
                    )
                print(line, flush=True)
        finally:
            if sim is not None:
                sim.terminate()
                sim.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
