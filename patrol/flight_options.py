"""Command-line options shared by the commands that talk to vehicles: fly and resume, and the
signing key options of broadcast-agent, signing and sim."""

from __future__ import annotations

import argparse
import sys
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
    add_key_options(parser, several=True)
    parser.add_argument(
        "--require-signing",
        action="store_true",
        help="refuse unsigned or badly signed packets (needs a signing key)",
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


def add_key_options(parser: argparse.ArgumentParser, several: bool = False) -> None:
    """``--signing-key-file FILE`` (``-``: standard input) and the discouraged
    ``--signing-key KEY``; ``several``: once for all vehicles or once per --connect."""
    per = (
        ". Give it once for all vehicles or once per --connect, in the same order"
        if several
        else ""
    )
    parser.add_argument(
        "--signing-key-file",
        action="append" if several else "store",
        default=[] if several else None,
        metavar="FILE",
        help="MAVLink 2 signing key: a file only you can read (chmod 600) holding 64 hex "
        f"digits or a passphrase (SHA-256, as MAVProxy); '-' reads it from standard input{per}",
    )
    parser.add_argument(
        "--signing-key",
        action="append" if several else "store",
        default=[] if several else None,
        metavar="KEY",
        help="the key itself (discouraged: other users see it in the process list; use "
        "--signing-key-file)",
    )


def key_from(args: argparse.Namespace) -> bytes | None:
    """The one signing key of a command that takes ``add_key_options(several=False)``."""
    keys = _given_keys(_as_list(args.signing_key_file), _as_list(args.signing_key), args)
    return keys[0] if keys else None


def keys_for(args: argparse.Namespace, count: int) -> list[bytes | None]:
    """One signing key (or None) per connection."""
    given = _given_keys(args.signing_key_file, args.signing_key, args)
    if args.require_signing and not given:
        raise CommandError("--require-signing needs --signing-key-file (or --signing-key)")
    if len(given) not in (0, 1, count):
        raise CommandError(
            f"{len(given)} signing keys for {count} --connect: give one, or one per --connect"
        )
    if not given:
        return [None] * count
    return given * count if len(given) == 1 else given


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _given_keys(files: list[str], texts: list[str], args: argparse.Namespace) -> list[bytes]:
    from patrol.keyfile import ARGV_WARNING, KeyFileError, read_key_file
    from patrol.link import LinkError, signing_key

    if files and texts:
        raise CommandError("give --signing-key-file or --signing-key, not both")
    if files.count("-") > 1:
        raise CommandError("standard input holds one key: give --signing-key-file - once")
    try:
        if files:
            return [read_key_file(path) for path in files]
        keys = [signing_key(text) for text in texts]
    except (KeyFileError, LinkError) as exc:
        raise CommandError(str(exc)) from None
    if keys:
        command = getattr(args, "command", None)
        print(f"patrol {command}: warning: {ARGV_WARNING}", file=sys.stderr)
    return keys
