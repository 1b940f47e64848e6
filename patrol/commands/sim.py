"""``patrol sim``: run simulated ArduCopters (built-in, or ArduPilot's SITL binary) for the
controller, the demo and tests. Vehicle i listens on TCP port+10*i with system id i+1."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from patrol.datadir import sub_dir
from patrol.errors import CommandError
from patrol.flight_options import add_key_options, key_from
from patrol.option_parsing import parse_datetime

SAMPLE_PEOPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "people.json"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "sim",
        help="run simulated copters (built-in or ArduPilot SITL)",
        description="Run N simulated ArduCopters speaking MAVLink 2. Vehicle i listens on TCP "
        "PORT+10*i (SERIAL0; SERIAL1/2 on +2/+3) with system id i+1, as SITL instances do.",
    )
    p.add_argument("--count", type=int, default=1, metavar="N", help="number of copters")
    p.add_argument(
        "--home",
        default="27.57,119.71,200,0",
        metavar="LAT,LON,ALT,HDG",
        help="home position: degrees, metres AMSL, heading degrees",
    )
    p.add_argument("--speedup", type=float, default=1.0, metavar="K", help="sim time / wall time")
    p.add_argument(
        "--port", type=int, default=5760, help="TCP port of vehicle 0 (SERIAL0); 0 = any free"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--gcs-udp", metavar="HOST:PORT", help="also send vehicle telemetry here")
    p.add_argument("--state-dir", type=Path, help="where params persist (default: data dir)")
    add_key_options(p)
    p.add_argument("--duration", type=float, metavar="S", help="stop after S wall seconds")
    p.add_argument(
        "--start-time",
        metavar="ISO",
        help="UTC time the GPS reports at boot, e.g. 2026-07-01T09:00+08:00 (SITL --start-time; "
        "default now)",
    )
    p.add_argument(
        "--boot-time-scale",
        type=float,
        default=1.0,
        metavar="F",
        help="scale SITL's boot timing (GPS/EKF position at 41.6 s); 1 = as SITL",
    )
    faults = p.add_argument_group("fault injection (built-in simulator)")
    faults.add_argument(
        "--packet-loss", type=float, default=0.0, metavar="PCT", help="MAVLink packets lost"
    )
    faults.add_argument(
        "--latency-ms", type=float, default=0.0, metavar="MS", help="one-way link delay"
    )
    faults.add_argument(
        "--outage",
        action="append",
        default=[],
        metavar="START:END",
        help="link outage window in simulated seconds since boot (repeatable)",
    )
    faults.add_argument("--gps-loss", action="store_true", help="GPS without a fix")
    faults.add_argument(
        "--battery-sag", type=float, default=0.0, metavar="V", help="volts off the battery"
    )
    faults.add_argument(
        "--wind", metavar="SPEED,FROM_DEG", help="steady wind (m/s, direction it blows from)"
    )
    camera = p.add_argument_group("simulated camera (built-in simulator)")
    camera.add_argument(
        "--camera",
        nargs="?",
        const=str(SAMPLE_PEOPLE),
        metavar="SCENARIO",
        help="give each copter a gimbal camera over a scene of people, served as HTTP MJPEG "
        f"(default scenario: {SAMPLE_PEOPLE.relative_to(SAMPLE_PEOPLE.parents[2])})",
    )
    camera.add_argument(
        "--camera-port", type=int, default=8080, help="HTTP port of camera 0 (+i); 0 = any free"
    )
    camera.add_argument(
        "--camera-size", choices=("1920x1080", "1280x720"), default="1920x1080",
        help="frame size (vision's sim-1080p / sim-720p camera models)",
    )  # fmt: skip
    camera.add_argument(
        "--camera-pitch", type=float, default=-45.0, metavar="DEG", help="gimbal pitch"
    )
    camera.add_argument(
        "--camera-fps", type=float, default=10.0, metavar="N", help="frames per simulated second"
    )
    sitl = p.add_argument_group("ArduPilot SITL instead of the built-in copter")
    sitl.add_argument("--sitl", type=Path, metavar="PATH", help="arducopter SITL binary")
    sitl.add_argument("--sitl-defaults", type=Path, metavar="PARMFILE", help="--defaults file")
    sitl.add_argument("--sitl-wipe", action="store_true", help="wipe eeprom at start (-w)")
    sitl.add_argument("--sitl-model", default="+", metavar="MODEL", help="SITL --model")
    p.set_defaults(func=run)


def parse_home(text: str) -> tuple[float, float, float, float]:
    parts = text.split(",")
    if len(parts) not in (3, 4):
        raise CommandError(f"--home must be LAT,LON,ALT[,HDG], got {text!r}")
    try:
        values = [float(x) for x in parts] + ([0.0] if len(parts) == 3 else [])
    except ValueError:
        raise CommandError(f"--home must be numbers, got {text!r}") from None
    lat, lon, alt, hdg = values
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise CommandError(f"--home latitude/longitude out of range: {text!r}")
    return lat, lon, alt, hdg


def parse_outages(values: list[str]) -> list[tuple[float, float]]:
    outages = []
    for text in values:
        try:
            start, end = (float(x) for x in text.split(":"))
        except ValueError:
            raise CommandError(f"--outage must be START:END seconds, got {text!r}") from None
        if end <= start:
            raise CommandError(f"--outage end must be after start, got {text!r}")
        outages.append((start, end))
    return outages


def parse_wind(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        speed, direction = (float(x) for x in text.split(","))
    except ValueError:
        raise CommandError(f"--wind must be SPEED,FROM_DEG, got {text!r}") from None
    if not 0 <= speed <= 50:
        raise CommandError(f"--wind speed must be 0..50 m/s, got {speed:g}")
    return speed, direction % 360


def _check(args: argparse.Namespace) -> None:
    if args.count < 1:
        raise CommandError("--count must be at least 1")
    if args.speedup <= 0:
        raise CommandError("--speedup must be positive")
    if not 0 <= args.port <= 65535 - 10 * args.count:
        raise CommandError(f"--port {args.port} leaves no room for {args.count} vehicles")
    if not 0 < args.boot_time_scale <= 1:
        raise CommandError("--boot-time-scale must be within (0, 1]")
    if not 0 <= args.packet_loss <= 100:
        raise CommandError("--packet-loss must be 0..100 percent")
    if args.camera and args.sitl is not None:
        raise CommandError("--camera needs the built-in simulator, not --sitl")


def _wait(duration: float | None, alive=lambda: True) -> None:
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        waited = 0.0
        while not stop.is_set() and alive() and (duration is None or waited < duration):
            stop.wait(0.2)
            waited += 0.2
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run(args: argparse.Namespace) -> int:
    _check(args)
    home = parse_home(args.home)
    outages = parse_outages(args.outage)
    wind = parse_wind(args.wind)
    state_dir = args.state_dir or sub_dir("sim")
    start_time = (
        parse_datetime(args.start_time, "--start-time").timestamp() if args.start_time else None
    )
    if args.sitl is not None:
        if args.signing_key or args.signing_key_file:
            raise CommandError("a key for --sitl goes on with 'patrol signing setup'")
        return _run_sitl(args, home, state_dir, start_time)
    key = key_from(args)
    from sim import SimFleet

    try:
        fleet = SimFleet(
            count=args.count,
            home=home,
            speedup=args.speedup,
            base_port=args.port,
            state_dir=state_dir,
            gcs_udp=args.gcs_udp,
            host=args.host,
            signing_key=key,
            boot_time_scale=args.boot_time_scale,
            start_time=start_time,
        )
    except OSError as exc:
        raise CommandError(str(exc)) from None
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    for vehicle in fleet.vehicles:
        if vehicle.params.damaged:
            print(
                f"patrol sim: warning: {vehicle.params.path}: damaged state "
                f"({vehicle.params.damaged}); vehicle {vehicle.index} starts wiped, the file "
                "kept as params.json.damaged",
                file=sys.stderr,
                flush=True,
            )
        vehicle.faults.packet_loss = args.packet_loss / 100.0
        vehicle.faults.latency_s = args.latency_ms / 1000.0
        vehicle.faults.outages = list(outages)
        vehicle.faults.gps_loss = args.gps_loss
        vehicle.faults.battery_sag_v = args.battery_sag
        if wind is not None:
            vehicle.set_param("SIM_WIND_SPD", wind[0])
            vehicle.set_param("SIM_WIND_DIR", wind[1])
    cameras = _cameras(args, fleet, home, state_dir) if args.camera else []
    with fleet:
        for server in cameras:
            server.start()
            print(
                f"camera {server.rig.vehicle.index}: {server.url} (gimbal "
                f"{args.camera_pitch:g} deg; truth {state_dir / 'camera-truth.json'})",
                flush=True,
            )
        for v in fleet.vehicles:
            serial1, serial2 = v.ports[1], v.ports[2]
            print(
                f"vehicle {v.index} sysid {v.sysid}: tcp:{args.host}:{v.port} "
                f"(serial1 {serial1}, serial2 {serial2})",
                flush=True,
            )
        print(f"speedup {args.speedup:g}; state in {state_dir}; Ctrl-C to stop", flush=True)
        try:
            _wait(args.duration)
        finally:
            for server in cameras:
                server.stop()
    return 0


def _cameras(args: argparse.Namespace, fleet, home, state_dir: Path) -> list:
    """One camera per vehicle, each served on its own HTTP port; the truth goes to the
    state directory."""
    import json

    from sim.camera import CameraRig, CameraSpec, World
    from sim.camera_people import PeopleError
    from sim.camera_scene import SceneError
    from sim.camera_stream import CameraServer

    width, height = (int(v) for v in args.camera_size.split("x"))
    try:
        spec = CameraSpec(width, height, pitch_deg=args.camera_pitch, fps=args.camera_fps)
        world = World(Path(args.camera), (home[0], home[1]), sub_dir("cache") / "sim-camera")
    except (ValueError, SceneError, PeopleError) as exc:
        fleet.stop()
        raise CommandError(str(exc)) from None
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / "camera-truth.json").write_text(json.dumps(world.scene.truth(), indent=1))
    servers = []
    try:
        for v in fleet.vehicles:
            port = 0 if args.camera_port == 0 else args.camera_port + v.index
            rig = CameraRig(v, world, spec, lock=fleet.lock)
            servers.append(CameraServer(rig, args.host, port, lambda: fleet.speedup))
    except OSError as exc:
        fleet.stop()
        raise CommandError(f"camera port: {exc}") from None
    return servers


def _run_sitl(args: argparse.Namespace, home, state_dir: Path, start_time: float | None) -> int:
    from sim.sitl import SitlFleet

    if args.gcs_udp:
        raise CommandError("--gcs-udp is not supported with --sitl; connect to the TCP ports")
    try:
        fleet = SitlFleet(
            args.sitl,
            count=args.count,
            home=home,
            speedup=args.speedup,
            base_port=args.port,
            work_dir=state_dir / "sitl",
            defaults=args.sitl_defaults,
            wipe=args.sitl_wipe,
            model=args.sitl_model,
            start_time=start_time,
        )
        fleet.start()
    except (OSError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    try:
        for inst in fleet.instances:
            print(
                f"SITL {inst.index} sysid {inst.sysid}: tcp:127.0.0.1:{inst.port} "
                f"in {inst.workdir}",
                flush=True,
            )
        _wait(args.duration, alive=lambda: all(code is None for code in fleet.poll()))
        codes = fleet.poll()
    finally:
        fleet.stop()
    failed = [(i, c) for i, c in enumerate(codes) if c not in (None, 0)]
    if failed:
        raise CommandError(
            "SITL exited early: "
            + ", ".join(
                f"instance {i} status {c} (see {fleet.instances[i].workdir}/sitl.log)"
                for i, c in failed
            )
        )
    return 0
