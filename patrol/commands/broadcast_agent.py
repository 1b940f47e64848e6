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


def run(args: argparse.Namespace) -> int:
    import logging
    import signal
    import threading

    from audio.agent import BroadcastAgent
    from audio.clock import AgentClock
    from audio.plan import PlanError
    from audio.position import MavlinkPositionSource
    from audio.sinks import SinkError, open_sink
    from patrol.datadir import sub_dir
    from patrol.flight_options import key_from

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    start = parse_datetime(args.start_time, "--start-time") if args.start_time else None
    if not args.plan.is_file():
        raise CommandError(f"{args.plan}: no such plan bundle")
    if args.time_scale is not None and not 0 < args.time_scale < float("inf"):
        raise CommandError(f"--time-scale must be a positive number, got {args.time_scale:g}")
    key = key_from(args)
    try:
        open_sink(args.sink, AgentClock(args.time_scale or 1.0, start))  # a bad spec: say so now
    except (ValueError, SinkError) as exc:
        raise CommandError(str(exc)) from None
    try:
        source = MavlinkPositionSource(args.connect, system_id=args.sysid, signing_key=key)
    except (OSError, ConnectionError) as exc:
        raise CommandError(f"cannot open MAVLink connection {args.connect!r}: {exc}") from None
    try:
        scale = _time_scale(source, args.time_scale, args.wait)
        clock = AgentClock(scale, start)
        sink = open_sink(args.sink, clock)
    except (ValueError, SinkError) as exc:
        source.close()
        raise CommandError(str(exc)) from None
    log_path = args.log
    if log_path is None:
        kind, _, where = args.sink.partition(":")
        log_path = (
            Path(where) / "plays.jsonl"
            if kind == "dir"
            else sub_dir("logs") / "broadcast-plays.jsonl"
        )
    clock.reference = source.aircraft_time  # quiet hours and the play log follow the GPS
    try:
        agent = BroadcastAgent(
            args.plan, source, sink, log_path, sub_dir("audio") / "agent-cache", clock
        )
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
