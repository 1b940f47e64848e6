"""``patrol flags list|export|show``: the flags detection raised (gatherings, missing masks)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kind", choices=("gathering", "no_mask"))
    p.add_argument("--state", choices=("new", "confirmed", "dismissed", "assigned", "resolved"))
    p.add_argument("--grid", metavar="NAME")
    p.add_argument("--patrol", type=int, metavar="ID")
    p.add_argument("--sortie", type=int, metavar="ID")
    p.add_argument("--assigned-to", metavar="NAME")
    p.add_argument(
        "--since", metavar="ISO", help="last seen at or after, e.g. 2026-07-01T08:00+08:00"
    )
    p.add_argument("--until", metavar="ISO", help="last seen at or before")
    p.add_argument("--limit", type=int, default=200, metavar="N")
    p.add_argument("--db", metavar="URL", help="SQLAlchemy URL (default: SQLite in data dir)")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("flags", help="list, export or show detection flags")
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = sub.add_parser("list", help="flags, newest sighting first")
    _filters(listing)
    listing.add_argument("--json", action="store_true", help="GeoJSON on stdout")
    export = sub.add_parser("export", help="write flags to a .geojson or .csv file")
    _filters(export)
    export.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")
    show = sub.add_parser("show", help="one flag and its review history")
    show.add_argument("flag_id", type=int, metavar="ID")
    show.add_argument("--db", metavar="URL")
    parser.set_defaults(func=run)


def _flag_filter(args: argparse.Namespace):
    from patrol.errors import CommandError
    from patrol.option_parsing import parse_datetime
    from vision.flags import FlagFilter

    if args.limit < 1:
        raise CommandError("--limit must be at least 1")
    return FlagFilter(
        kind=args.kind,
        state=args.state,
        grid=args.grid,
        patrol_id=args.patrol,
        sortie_id=args.sortie,
        assigned_to=args.assigned_to,
        since=parse_datetime(args.since, "--since") if args.since else None,
        until=parse_datetime(args.until, "--until") if args.until else None,
    )


def run(args: argparse.Namespace) -> int:
    from patrol.detection import open_flag_store
    from patrol.errors import CommandError
    from vision.flags import FlagError, to_csv, to_geojson

    store = open_flag_store(args.db)
    if args.action == "show":
        try:
            flag = store.get(args.flag_id)
        except FlagError as exc:
            raise CommandError(str(exc)) from None
        _print_flag(flag)
        for e in store.history(flag.id):
            assignee = f" to {e.assignee}" if e.assignee else ""
            note = f": {e.note}" if e.note else ""
            print(
                f"  {e.at:%Y-%m-%d %H:%M} {e.by} {e.action}{assignee} "
                f"({e.from_state} -> {e.to_state}){note}"
            )
        return 0
    flt = _flag_filter(args)
    flags = store.list(flt, limit=args.limit)
    if args.action == "export":
        suffix = args.output.suffix.lower()
        if suffix not in (".geojson", ".json", ".csv"):
            raise CommandError(f"-o {args.output}: give a .geojson or .csv file")
        text = (
            to_csv(flags)
            if suffix == ".csv"
            else json.dumps(to_geojson(flags), ensure_ascii=False, indent=1)
        )
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"-o {args.output}: {exc.strerror or exc}") from None
        print(f"wrote {len(flags)} flag(s) to {args.output}")
        return 0
    if args.json:
        print(json.dumps(to_geojson(flags), ensure_ascii=False, indent=1))
        return 0
    total = store.count(flt)
    if not flags:
        print("no flags")
    for flag in flags:
        _print_flag(flag)
    if total > len(flags):
        print(f"({len(flags)} of {total}; --limit to see more)")
    return 0


def _print_flag(f) -> None:
    where = f" in {f.grid}" if f.grid else ""
    tag = (
        f" patrol {f.patrol_id}" + (f" sortie {f.sortie_id}" if f.sortie_id else "")
        if (f.patrol_id)
        else ""
    )
    assigned = f" -> {f.assigned_to}" if f.assigned_to else ""
    print(
        f"{f.id:5d}  {f.last_seen:%Y-%m-%d %H:%M:%S}  {f.kind:9s} {f.state:9s}{assigned}  "
        f"{f.count:2d} people  {f.lat:.6f},{f.lon:.6f} ±{f.error_m:.1f} m{where}{tag}"
    )
