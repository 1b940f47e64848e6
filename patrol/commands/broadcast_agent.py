"""``patrol broadcast-agent``: the onboard broadcast agent on the companion computer."""

from __future__ import annotations

import argparse
from pathlib import Path

from patrol.errors import CommandError
from patrol.flight_options import add_key_options
from patrol.option_parsing import parse_datetime


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "broadcast-agent",
        help="play zone playlists from the aircraft (runs on the companion computer)",
        description="Reads the aircraft's own position over MAVLink (TELEM2 on an aircraft, "
        "SERIAL1 tcp:127.0.0.1:5762 on SITL), plays the playlist of the zone it is over, "
        "honours quiet hours, keeps going without the ground link, reloads a changed plan and "
        "logs every play as JSON lines.",
    )
    p.add_argument(
        "--connect",
        required=True,
        metavar="MAVLINK",
        help="pymavlink connection: tcp:HOST:PORT, udpin:0.0.0.0:14550, /dev/ttyS0,921600",
    )
    p.add_argument(
        "--plan",
        required=True,
        type=Path,
        metavar="PLAN.zip",
        help="bundle written by 'patrol audio plan -o'",
    )
    p.add_argument(
        "--sink",
        default="null",
        metavar="alsa:DEVICE|dir:PATH|null",
        help="where the audio goes (default: null)",
    )
    p.add_argument(
        "--log",
        type=Path,
        metavar="PLAYS.jsonl",
        help="play log (default: PATH/plays.jsonl for dir:, else <data>/logs)",
    )
    p.add_argument("--sysid", type=int, default=1, help="the aircraft's MAVLink system id")
    p.add_argument(
        "--time-scale",
        type=float,
        metavar="K",
        help="the aircraft's clock runs K× real time (a 3 s message takes 3/K wall seconds). "
        "By default the aircraft's SIM_SPEEDUP parameter (SITL, patrol sim), 1 for a real "
        "aircraft (no such parameter); a K that differs from it is reported",
    )
    p.add_argument(
        "--wait",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds to wait for the autopilot when learning its speed-up (default 30)",
    )
    add_key_options(p)
    p.add_argument(
        "--start-time",
        metavar="ISO",
        help="time of day at start until the aircraft's GPS time arrives (SYSTEM_TIME), e.g. "
        "2026-07-01T21:30+08:00; default: this computer's clock",
    )
    p.add_argument(
        "--duration",
        type=float,
        metavar="S",
        help="stop after this many aircraft seconds (default: run until stopped)",
    )
    p.set_defaults(func=run)


# bounds of the options: a MAVLink system id; a speed-up no simulator reaches; a month
MAX_TIME_SCALE = 1000.0
MAX_WAIT_S = 3600.0
MAX_DURATION_S = 30 * 86400.0


def _check_options(args: argparse.Namespace) -> None:
    if not 1 <= args.sysid <= 255:
        raise CommandError(f"--sysid must be a MAVLink system id, 1..255, not {args.sysid}")
    if args.time_scale is not None and not 0 < args.time_scale <= MAX_TIME_SCALE:
        raise CommandError(
            f"--time-scale must be over 0 and at most {MAX_TIME_SCALE:g}, not {args.time_scale:g}"
        )
    if not 0 <= args.wait <= MAX_WAIT_S:
        raise CommandError(f"--wait must be 0..{MAX_WAIT_S:g} seconds, not {args.wait:g}")
    if args.duration is not None and not 0 < args.duration <= MAX_DURATION_S:
        raise CommandError(
            f"--duration must be over 0 and at most {MAX_DURATION_S:g} seconds (30 days), "
            f"not {args.duration:g}"
        )


def _log_path(args: argparse.Namespace) -> Path:
    """Where plays are logged, its directory made now (a path that cannot be is a refusal)."""
    from patrol.datadir import sub_dir

    path = args.log
    if path is None:
        kind, _, where = args.sink.partition(":")
        path = (
            Path(where) / "plays.jsonl"
            if kind == "dir"
            else sub_dir("logs") / "broadcast-plays.jsonl"
        )
    if path.is_dir():
        raise CommandError(f"--log {path}: is a directory, not a file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"--log {path}: cannot write there: {exc.strerror or exc}") from None
    return path


def run(args: argparse.Namespace) -> int:
    import contextlib
    import io
    import logging
    import signal
    import threading

    from audio.agent import BroadcastAgent
    from audio.clock import AgentClock
    from audio.plan import PlanError, load_bundle
    from audio.position import MavlinkPositionSource
    from audio.sinks import SinkError, open_sink
    from patrol.datadir import sub_dir
    from patrol.flight_options import key_from

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    _check_options(args)
    start = parse_datetime(args.start_time, "--start-time") if args.start_time else None
    if not args.plan.is_file():
        raise CommandError(f"{args.plan}: no such plan bundle")
    key = key_from(args)
    cache = sub_dir("audio") / "agent-cache"
    try:  # everything is checked before any link opens
        load_bundle(args.plan, cache)
    except PlanError as exc:
        raise CommandError("; ".join(exc.problems)) from None
    try:
        open_sink(args.sink, AgentClock(args.time_scale or 1.0, start))  # a bad spec: say so now
    except (ValueError, SinkError, OSError) as exc:
        raise CommandError(_sink_problem(args.sink, exc)) from None
    log_path = _log_path(args)
    try:
        # pymavlink prints each refused TCP attempt ("... sleeping") on stdout: the outcome is
        # what this command reports
        with contextlib.redirect_stdout(io.StringIO()):
            source = MavlinkPositionSource(args.connect, system_id=args.sysid, signing_key=key)
    except (OSError, ConnectionError, ValueError, OverflowError) as exc:
        # what pymavlink says of a string it cannot use (tcp:x, a port over 65535) or a link
        # it cannot open
        raise CommandError(f"cannot open MAVLink connection {args.connect!r}: {exc}") from None
    try:
        scale = _time_scale(source, args.time_scale, args.wait)
        clock = AgentClock(scale, start)
        sink = open_sink(args.sink, clock)
    except (ValueError, SinkError, OSError) as exc:
        source.close()
        raise CommandError(_sink_problem(args.sink, exc)) from None
    clock.reference = source.aircraft_time  # quiet hours and the play log follow the GPS
    try:
        agent = BroadcastAgent(args.plan, source, sink, log_path, cache, clock)
    except PlanError as exc:
        source.close()
        raise CommandError("; ".join(exc.problems)) from None
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if args.duration is not None:
        timer = threading.Timer(args.duration / scale, stop.set)
        timer.daemon = True
        timer.start()
    print(
        f"broadcast agent: plan {agent.plan.name!r}, sink {args.sink}, log {log_path}", flush=True
    )
    try:
        agent.run(stop)
    finally:
        source.close()
    return 0


def _sink_problem(spec: str, exc: Exception) -> str:
    if isinstance(exc, OSError):  # dir:PATH below a file, no permission
        return f"--sink {spec}: cannot use it: {exc.strerror or exc}"
    return str(exc)


def _time_scale(source, given: float | None, wait: float) -> float:
    """The aircraft's speed-up: ``given`` (--time-scale), else its SIM_SPEEDUP parameter, else
    1 (a real aircraft has none). A ``given`` scale that differs from SIM_SPEEDUP is reported."""
    if not source.wait_autopilot(wait):
        scale = given or 1.0
        print(
            f"broadcast agent: no autopilot heard in {wait:g} s; time scale {scale:g} "
            "(--time-scale K for a simulator)",
            flush=True,
        )
        return scale
    reported = source.read_param("SIM_SPEEDUP", 3.0)
    said = (
        f"the aircraft reports SIM_SPEEDUP {reported:g}"
        if reported
        else "the aircraft has no SIM_SPEEDUP (a real aircraft)"
    )
    if source.signed_unreadable:
        said += "; it signs its MAVLink and this agent has no key (--signing-key-file)"
    scale = given or reported or 1.0
    if given is not None and abs(given - (reported or 1.0)) > 1e-6 * given:
        print(
            f"broadcast agent: time scale MISMATCH: --time-scale {given:g}, but {said}", flush=True
        )
    else:
        print(f"broadcast agent: time scale {scale:g}: {said}", flush=True)
    return scale
