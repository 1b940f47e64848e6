"""Mission upload speed, both ways Gridpatrol moves a mission: as a file over MAVLink FTP and
item by item over the mission protocol, each measured to the vehicle's acknowledgement
(``upload_s``) and with the read-back and compare that every upload gets (``verified_s``), for
100/300/600 items; against MAVProxy's unverified ``wp load`` and ``wp ftpload`` on the same
vehicle when MAVProxy is installed (.venv-mavproxy, from scripts/setup.sh).

    .venv/bin/python bench/upload.py --speedup 1      # starts `patrol sim` at real time
    .venv/bin/python bench/upload.py --connect tcp:127.0.0.1:5760 --json   # any vehicle (SITL)

The controller runs at the vehicle's own speed-up (its SIM_SPEEDUP parameter; --speedup wins).

Targets: a verified 600-item upload under 0.3 s over FTP at speed-up 1 on loopback; the verified
mission-protocol upload within 1.1x of MAVProxy's ``wp load``. Each figure is the median of
``--repeat`` runs. MAVProxy's figures are its own ("Loaded N waypoints in T s": COUNT to the last
item sent; "Sent waypoint of length N in T s"), with no read-back. With ``--json`` every figure is
one object per line: ``{"items": N, "path": "ftp"|"mission", "upload_s": x, "verified_s": y}``
(MAVProxy's add ``"client": "mavproxy"`` and have ``verified_s`` null).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
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
from patrol.vehicle import Vehicle, mission_file  # noqa: E402
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


def timed(fn) -> float:
    started = time.monotonic()
    fn()
    return time.monotonic() - started


def ours(vehicle: Vehicle, count: int, path: str, repeat: int) -> tuple[float, float] | None:
    """Median seconds for the upload to the vehicle's acknowledgement, and for the verified
    upload (upload + read-back + compare); None when ``path`` is "ftp" and the vehicle has no
    MAVLink FTP."""
    transfer = vehicle.missions
    items = mission(count).items
    transfer.use_ftp = path == "ftp"
    client = transfer.ftp()
    if path == "ftp" and client is None:
        return None
    ch = vehicle.channel
    data = mission_file.encode(items, MISSION, ch.sysid, ch.compid)
    uploads, verified = [], []
    for _ in range(repeat):
        if client is not None:
            uploads.append(timed(lambda: client.write(mission_file.PATHS[MISSION], data)))
        else:
            uploads.append(timed(lambda: transfer.upload(items, MISSION)))
        stats = transfer.upload_verified(items, MISSION)
        if stats.path != path:
            raise SystemExit(f"bench: the {path} upload went {stats.way()}")
        verified.append(stats.seconds)
    return statistics.median(uploads), statistics.median(verified)


def mavproxy(connect: str, count: int, ftp: bool, workdir: Path, repeat: int) -> float | None:
    """Median of MAVProxy's own time for ``wp load`` (or ``wp ftpload``), None if it failed."""
    import pexpect

    path = workdir / f"bench-{count}.waypoints"
    write_mission(path, mission(count))
    modules = "wp,cmdlong" + (",ftp" if ftp else "")
    child = pexpect.spawn(
        str(MAVPROXY),
        ["--master", connect, "--state-basedir", str(workdir), "--default-modules", modules],
        cwd=str(workdir), encoding="utf-8", timeout=60,
    )  # fmt: skip
    took = []
    try:
        child.expect(["Detected vehicle", "online system"], timeout=30)
        time.sleep(1.0)
        for _ in range(repeat):
            if ftp:
                child.sendline(f"wp ftpload {path}")
                child.expect(r"Sent \w+ of length (\d+) in ([0-9.]+)s", timeout=120)
            else:
                child.sendline(f"wp load {path}")
                child.expect(r"Loaded (\d+) waypoints in ([0-9.]+)s", timeout=120)
            took.append(float(child.match.group(2)))
            time.sleep(0.5)
    except (pexpect.TIMEOUT, pexpect.EOF):
        return None
    finally:
        child.sendline("exit")
        child.close(force=True)
    return statistics.median(took)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connect", help="vehicle to use (default: start patrol sim)")
    parser.add_argument(
        "--speedup", type=float, help="speed-up of the simulator started here (default 10); "
        "with --connect it overrides the vehicle's own SIM_SPEEDUP",
    )  # fmt: skip
    parser.add_argument("--counts", default="100,300,600", help="mission sizes")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--no-mavproxy", action="store_true", help="skip the MAVProxy runs")
    parser.add_argument("--json", action="store_true", help="one JSON object per figure")
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    say = (lambda line: None) if args.json else print

    def emit(count: int, path: str, upload: float, verified: float | None, **extra) -> None:
        if args.json:
            record = {"items": count, "path": path, "upload_s": round(upload, 4)}
            record["verified_s"] = None if verified is None else round(verified, 4)
            print(json.dumps(record | extra), flush=True)
            return
        who = extra.get("client", "gridpatrol")
        check = f", verified {verified:6.3f} s" if verified is not None else " (no read-back)"
        print(f"{count:4d} items {who:10s} {path:7s}: upload {upload:6.3f} s{check}", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        sim = None
        connect = args.connect
        if connect is None:
            speedup = args.speedup or 10.0
            sim, connect = start_sim(speedup, workdir)
            say(f"vehicle: patrol sim --speedup {speedup:g} on {connect}")
        else:
            say(f"vehicle: {connect}")
        use_mavproxy = MAVPROXY.exists() and not args.no_mavproxy
        if not use_mavproxy:
            say("MAVProxy: not measured (.venv-mavproxy/bin/mavproxy.py missing or skipped)")
        try:
            for count in counts:
                link = Link(connect).start()
                try:
                    sysid = link.wait_vehicle(20)
                    if sysid is None:
                        raise SystemExit(f"bench: no vehicle on {connect}")
                    vehicle = Vehicle(link, sysid)
                    # the vehicle's own SIM_SPEEDUP; --speedup wins, a mismatch is said
                    say(f"  ({settle_speedup(vehicle, args.speedup).note})")
                    for path in ("ftp", "mission"):
                        figures = ours(vehicle, count, path, args.repeat)
                        if figures is None:
                            say(f"{count:4d} items: the vehicle offers no MAVLink FTP")
                            continue
                        emit(count, path, *figures)
                finally:
                    link.close()
                if use_mavproxy:
                    for path, ftp in (("ftp", True), ("mission", False)):
                        took = mavproxy(connect, count, ftp, workdir, args.repeat)
                        if took is None:
                            say(f"{count:4d} items mavproxy   {path:7s}: failed")
                        else:
                            emit(count, path, took, None, client="mavproxy")
        finally:
            if sim is not None:
                sim.terminate()
                sim.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
