"""``patrol status [PATROL_ID]``: patrols in the store, or one patrol's sorties and events."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("status", help="list patrols, or show one patrol")
    parser.add_argument("patrol_id", type=int, nargs="?", metavar="PATROL_ID")
    parser.add_argument("--db", metavar="URL", help="SQLAlchemy URL (default: SQLite in data dir)")
    parser.add_argument("--events", type=int, default=20, help="events shown per sortie")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from patrol.errors import CommandError
    from patrol.store.patrols import PatrolStore

    store = PatrolStore(url=args.db)
    if args.patrol_id is None:
        patrols = store.list_patrols()
        if not patrols:
            print("no patrols yet")
        for p in patrols:
            sorties = ", ".join(f"#{s.id} {s.status}" for s in p.sorties)
            print(
                f"{p.id:5d}  {p.created_at:%Y-%m-%d %H:%M}  {p.status:11s}  {p.name}  [{sorties}]"
            )
        return 0
    patrol = store.get_patrol(args.patrol_id)
    if patrol is None:
        raise CommandError(f"no patrol {args.patrol_id} in the store")
    print(f"patrol {patrol.id} {patrol.name!r}: {patrol.status}")
    for s in patrol.sorties:
        print(
            f"  sortie {s.id} vehicle {s.sysid} via {s.connect}: {s.status}, last reached item "
            f"{s.last_reached}, {len(s.reached)} items reached, {s.distance_m:.0f} m flown"
        )
        if s.reason:
            print(f"    {s.reason}")
        if s.tlog:
            print(f"    tlog {s.tlog}")
        for e in s.events[-args.events :]:
            print(f"    {e.at:%H:%M:%S} {e.kind:10s} {e.detail}")
    return 0
