"""Benchmark the built-in simulator: N copters in one process at a given speedup, with a
ground-station client (a separate process) requesting telemetry at R Hz over MAVLink and
flying every copter. Prints the simulator process's CPU share of one core and the achieved
real-time factor.

    .venv/bin/python bench/sim.py [--count 10] [--rate 10] [--speedup 10] [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import selectors
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# Streams the client asks for: what a ground station map/HUD shows at ``rate``, the status
# groups at 2 Hz (REQUEST_DATA_STREAM ids).
FAST_STREAMS = (6, 10, 11)  # POSITION, EXTRA1 (attitude), EXTRA2 (VFR_HUD)
SLOW_STREAMS = (2, 12)  # EXTENDED_STATUS, EXTRA3 (battery, EKF)


def client(ports: list[int], rate: int, status_rate: int, seconds: float) -> None:
    """Connect to every copter, request streams, arm, take off and fly away; report what
    arrived (JSON on stdout)."""
    from pymavlink.dialects.v20 import ardupilotmega as mavlink

    class Link:
        def __init__(self, sysid: int, port: int):
            self.sysid = sysid
            self.sock = socket.create_connection(("127.0.0.1", port))
            self.sock.setblocking(False)
            self.mav = mavlink.MAVLink(None, srcSystem=255, srcComponent=190)
            self.armed = False
            self.alt = 0.0
            self.ekf_ok = False
            self.sent_goto = False

        def send(self, msg) -> None:
            self.sock.sendall(msg.pack(self.mav))

    links = [Link(i + 1, port) for i, port in enumerate(ports)]
    selector = selectors.DefaultSelector()
    for link in links:
        selector.register(link.sock, selectors.EVENT_READ, link)
        for stream in FAST_STREAMS:
            link.send(mavlink.MAVLink_request_data_stream_message(link.sysid, 1, stream, rate, 1))
        for stream in SLOW_STREAMS:
            link.send(
                mavlink.MAVLink_request_data_stream_message(link.sysid, 1, stream, status_rate, 1)
            )
    counts: dict[str, int] = {}
    start = time.monotonic()
    next_cmd = start
    while time.monotonic() - start < seconds:
        for key, _ in selector.select(timeout=0.05):
            link = key.data
            try:
                data = link.sock.recv(1 << 16)
            except BlockingIOError:
                continue
            for msg in link.mav.parse_buffer(data) or []:
                kind = msg.get_type()
                counts[kind] = counts.get(kind, 0) + 1
                if kind == "HEARTBEAT":
                    link.armed = bool(msg.base_mode & mavlink.MAV_MODE_FLAG_SAFETY_ARMED)
                elif kind == "GLOBAL_POSITION_INT":
                    link.alt = msg.relative_alt / 1000
                elif kind == "EKF_STATUS_REPORT":
                    link.ekf_ok = msg.flags == 0x33F
        if time.monotonic() >= next_cmd:
            next_cmd += 0.5
            for link in links:
                link.send(mavlink.MAVLink_heartbeat_message(6, 8, 0, 0, 0, 3))
                if link.ekf_ok and not link.armed:
                    link.send(mavlink.MAVLink_command_long_message(
                        link.sysid, 1, 176, 0, 1, 4, 0, 0, 0, 0, 0))  # fmt: skip
                    link.send(mavlink.MAVLink_command_long_message(
                        link.sysid, 1, 400, 0, 1, 0, 0, 0, 0, 0, 0))  # fmt: skip
                    link.send(mavlink.MAVLink_command_long_message(
                        link.sysid, 1, 22, 0, 0, 0, 0, 0, 0, 0, 30))  # fmt: skip
                elif link.armed and link.alt > 29 and not link.sent_goto:
                    link.sent_goto = True  # fly 2 km out on a per-copter bearing
                    bearing = 2 * math.pi * link.sysid / len(links)
                    lat = 27.57 + 2000 * math.cos(bearing) / 111319.5
                    lon = 119.71 + 2000 * math.sin(bearing) / (111319.5 * math.cos(0.4812))
                    link.send(mavlink.MAVLink_set_position_target_global_int_message(
                        0, link.sysid, 1, 6, 0x0DF8, int(lat * 1e7), int(lon * 1e7), 30,
                        0, 0, 0, 0, 0, 0, 0, 0))  # fmt: skip
    elapsed = time.monotonic() - start
    flying = sum(1 for link in links if link.alt > 5)
    print(json.dumps({"counts": counts, "elapsed": elapsed, "flying": flying}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--rate", type=int, default=10, help="telemetry Hz requested")
    parser.add_argument("--status-rate", type=int, default=2, help="EXT_STAT/EXTRA3 Hz")
    parser.add_argument("--speedup", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=10.0, help="wall seconds measured")
    parser.add_argument("--client", nargs="*", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--client-seconds", type=float, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client is not None:
        client(args.client, args.rate, args.status_rate, args.client_seconds)
        return 0

    from sim import SimFleet

    state = tempfile.mkdtemp(prefix="bench-sim-")
    fleet = SimFleet(count=args.count, speedup=args.speedup, base_port=0, state_dir=state)
    fleet.start()
    warmup_sim = 60.0  # boot (EKF position at 41.6 s, SITL timing), arm, take off
    warmup_wall = warmup_sim / args.speedup + 2
    total = warmup_wall + args.seconds + 1
    ports = [str(v.port) for v in fleet.vehicles]
    proc = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--rate",
            str(args.rate),
            "--status-rate",
            str(args.status_rate),
            "--client-seconds",
            str(total),
            "--client",
            *ports,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(warmup_wall)
    cpu0, wall0, sim0 = time.process_time(), time.monotonic(), fleet.sim_time
    time.sleep(args.seconds)
    cpu1, wall1, sim1 = time.process_time(), time.monotonic(), fleet.sim_time
    out, _ = proc.communicate(timeout=total + 30)
    fleet.stop()
    report = json.loads(out.strip().splitlines()[-1])
    wall = wall1 - wall0
    received = sum(report["counts"].values())
    gpi = report["counts"].get("GLOBAL_POSITION_INT", 0)
    print(
        f"copters {args.count}, speedup {args.speedup:g}, telemetry {args.rate} Hz "
        f"(POSITION/EXTRA1/EXTRA2; EXT_STAT/EXTRA3 {args.status_rate} Hz), "
        f"sim step {1 / fleet.dt:g} Hz"
    )
    print(f"copters flying at the end: {report['flying']}/{args.count}")
    print(f"CPU share of one core (sim process): {100 * (cpu1 - cpu0) / wall:.1f} %")
    print(f"real-time factor achieved: {(sim1 - sim0) / wall:.2f} (target {args.speedup:g})")
    per_copter = gpi / report["elapsed"] / args.count / args.speedup
    print(
        f"client received {received / report['elapsed']:.0f} msgs/s; "
        f"GLOBAL_POSITION_INT {per_copter:.2f} per sim s per copter"
    )
    print(f"cores on this machine: {os.cpu_count()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
