"""``patrol fly PLAN [PLAN ...] --connect URL [--connect URL ...]``: one plan per vehicle."""

from __future__ import annotations

import argparse

from patrol.detection import add_camera_options
from patrol.flight_options import add_link_options


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fly",
        help="fly planned patrols, one plan (sortie) per vehicle",
        description="Preflight, upload, launch and monitor one sortie per vehicle. Exit status "
        "0 only when every sortie completed its route and landed; 3 when a sortie landed "
        "early (resume it with 'patrol resume'); 4 when preflight or launch failed. Ctrl-C "
        "offers pause, continue, RTL and land.",
    )
    parser.add_argument("plans", nargs="+", metavar="PLAN", help=".plan or .waypoints file")
    parser.add_argument(
        "--connect",
        action="append",
        required=True,
        metavar="URL",
        help="tcp:HOST:PORT, udpin:HOST:PORT, udpout:HOST:PORT or /dev/TTY:BAUD, optionally "
        "@SYSID; one per plan, in the same order",
    )
    parser.add_argument("--name", default="", help="a name for the patrol")
    add_link_options(parser)
    add_camera_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from patrol.detection import CameraRuns
    from patrol.errors import CommandError
    from patrol.runner.patrol import SortieSpec
    from patrol.runner.terminal import load_plan, run_patrol

    if len(args.plans) != len(args.connect):
        raise CommandError(
            f"{len(args.plans)} plan(s) but {len(args.connect)} --connect: give one per plan"
        )
    specs = [
        SortieSpec(connect, str(path), load_plan(path))
        for path, connect in zip(args.plans, args.connect, strict=True)
    ]
    name = args.name or ", ".join(s.mission.name or s.plan_path for s in specs)
    cameras = CameraRuns(args, len(specs))
    try:
        return run_patrol(
            args,
            [s.connect for s in specs],
            lambda run: cameras.around(run, lambda: run.fly(name, specs)),
        )
    finally:  # quit watching (Ctrl-C, q): the aircraft carry on, the detection ends here
        cameras.stop()
