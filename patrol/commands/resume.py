"""``patrol resume PATROL_ID``: continue a patrol from the store."""

from __future__ import annotations

import argparse

from patrol.flight_options import add_link_options


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "resume",
        help="continue a patrol: re-attach to vehicles still flying, fly the rest of the route "
        "on those that landed early",
        description="For each unfinished sortie: if its vehicle is still flying (after a "
        "controller restart), watch it again without sending any command; if it landed "
        "(RTL, battery swap), build the rest of the route from the last reached waypoint "
        "(takeoff, speed, remaining items), upload it and fly it.",
    )
    parser.add_argument("patrol_id", type=int, metavar="PATROL_ID")
    parser.add_argument(
        "--connect",
        action="append",
        default=[],
        metavar="URL",
        help="new connection for each unfinished sortie, in order (default: as stored)",
    )
    add_link_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from patrol.errors import CommandError
    from patrol.runner.terminal import run_patrol
    from patrol.store.patrols import PatrolStore

    patrol = PatrolStore(url=args.db).get_patrol(args.patrol_id)
    if patrol is None:
        raise CommandError(f"no patrol {args.patrol_id} in the store")
    todo = [s.connect for s in patrol.sorties if s.status != "completed"]
    if not todo:
        raise CommandError(f"patrol {args.patrol_id} is already completed")
    if args.connect and len(args.connect) != len(todo):
        raise CommandError(
            f"patrol {args.patrol_id} has {len(todo)} unfinished sortie(s); "
            f"give one --connect for each (got {len(args.connect)})"
        )
    connects = args.connect or todo
    return run_patrol(args, connects, lambda run: run.resume(args.patrol_id, args.connect))
