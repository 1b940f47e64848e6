"""Command-line options shared by the commands that talk to vehicles (fly, resume)."""

from __future__ import annotations

import argparse
from pathlib import Path

from patrol.errors import CommandError


def add_link_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--speedup",
        type=float,
        metavar="K",
        help="the vehicle runs K× real time: every controller interval is divided by K. By "
        "default each vehicle's own SIM_SPEEDUP parameter (SITL, patrol sim) is used, 1 for a "
        "real aircraft (no such parameter); a K that differs from it is reported",
    )
    parser.add_argument(
        "--signing-key",
        action="append",
        default=[],
        metavar="KEY",
        help="MAVLink 2 signing key: 64 hex digits or a passphrase (SHA-256). Give it once for "
        "all vehicles or once per --connect, in the same order",
    )
    parser.add_argument(
        "--require-signing",
        action="store_true",
        help="refuse unsigned or badly signed packets (needs --signing-key)",
    )
    parser.add_argument("--db", metavar="URL", help="SQLAlchemy URL (default: SQLite in data dir)")
    parser.add_argument(
        "--profile", type=Path, metavar="FILE", help="site profile (.toml or .json)"
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds to wait for each vehicle's heartbeat (default 30)",
    )


def keys_for(args: argparse.Namespace, count: int) -> list[bytes | None]:
    """One signing key (or None) per connection."""
    from patrol.link import LinkError, signing_key

    given = args.signing_key
    if args.require_signing and not given:
        raise CommandError("--require-signing needs --signing-key")
    if len(given) not in (0, 1, count):
        raise CommandError(
            f"{len(given)} --signing-key for {count} --connect: give one, or one per --connect"
        )
    try:
        keys = [signing_key(k) for k in given]
    except LinkError as exc:
        raise CommandError(str(exc)) from None
    if not keys:
        return [None] * count
    return keys * count if len(keys) == 1 else keys
