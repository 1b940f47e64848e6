"""``patrol broadcast-agent``: the onboard broadcast agent on the companion computer."""

from __future__ import annotations

import argparse
from pathlib import Path

from patrol.errors import CommandError
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
        default=1.0,
        metavar="K",
        help="for SITL/sim --speedup K: a 3 s message takes 3/K wall seconds",
    )
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

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    start = parse_datetime(args.start_time, "--start-time") if args.start_time else None
    if not args.plan.is_file():
        raise CommandError(f"{args.plan}: no such plan bundle")
    try:
        clock = AgentClock(args.time_scale, start)
        sink = open_sink(args.sink, clock)
    except (ValueError, SinkError) as exc:
        raise CommandError(str(exc)) from None
    log_path = args.log
    if log_path is None:
        kind, _, where = args.sink.partition(":")
        log_path = (
            Path(where) / "plays.jsonl"
            if kind == "dir"
            else sub_dir("logs") / "broadcast-plays.jsonl"
        )
    try:
        source = MavlinkPositionSource(args.connect, system_id=args.sysid)
    except (OSError, ConnectionError) as exc:
        raise CommandError(f"cannot open MAVLink connection {args.connect!r}: {exc}") from None
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
        timer = threading.Timer(args.duration / args.time_scale, stop.set)
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
