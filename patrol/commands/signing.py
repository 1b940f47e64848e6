"""``patrol signing setup|remove|new-key``: put a MAVLink 2 signing key on an aircraft, take it
off, or make a new key file."""

from __future__ import annotations

import argparse
from pathlib import Path

from patrol.errors import CommandError
from patrol.flight_options import add_key_options

EXIT_NOT_TAKEN = 4


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "signing",
        help="put a MAVLink 2 signing key on an aircraft, or take it off",
        description="Send SETUP_SIGNING as QGroundControl and MAVProxy do, over a local link "
        "(USB, SERIAL0: the one port ArduPilot keeps answering unsigned traffic on), then "
        "prove it took: the aircraft's packets come signed with the key, and with --check on "
        "a telemetry port, an unsigned request is ignored there and a signed one answered.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    setup = actions.add_parser("setup", help="install a key on the aircraft")
    remove = actions.add_parser("remove", help="take the key off the aircraft")
    for sub in (setup, remove):
        sub.add_argument(
            "--connect", required=True, metavar="URL", help="the aircraft's USB/SERIAL0 link"
        )
        sub.add_argument("--sysid", type=int, metavar="N", help="the aircraft (default: first)")
        sub.add_argument(
            "--check",
            metavar="URL",
            help="a telemetry port of the same aircraft (e.g. tcp:127.0.0.1:5762 on SITL) on "
            "which to prove that unsigned requests are now ignored (setup) or answered (remove)",
        )
        sub.add_argument(
            "--wait", type=float, default=10.0, metavar="S", help="seconds to find the aircraft"
        )
        add_key_options(sub)
        sub.set_defaults(func=run)
    new_key = actions.add_parser(
        "new-key", help="write a new random key to a file only you can read"
    )
    new_key.add_argument("file", type=Path, metavar="FILE")
    new_key.set_defaults(func=run_new_key)


def run_new_key(args: argparse.Namespace) -> int:
    from patrol.keyfile import write_new_key

    try:
        write_new_key(args.file)
    except FileExistsError:
        raise CommandError(
            f"{args.file}: already exists; a key file is never overwritten"
        ) from None
    except OSError as exc:
        raise CommandError(f"{args.file}: {exc.strerror}") from None
    print(f"new signing key in {args.file} (mode 0600)")
    return 0


def run(args: argparse.Namespace) -> int:
    from patrol.flight_options import key_from
    from patrol.link import Link, LinkError, parse_endpoint
    from patrol.vehicle import Vehicle
    from patrol.vehicle.signing import SigningError, install_key, remove_key

    key = key_from(args)
    if args.action == "setup" and key is None:
        raise CommandError("setup needs the key: --signing-key-file FILE")
    for url in (args.connect, args.check):
        if url is not None:
            try:
                parse_endpoint(url)
            except LinkError as exc:
                raise CommandError(str(exc)) from None
    with Link(args.connect, key=key) as link:
        sysid = link.wait_vehicle(args.wait, args.sysid)
        if sysid is None:
            detail = f" ({link.stats.last_error})" if link.stats.last_error else ""
            raise CommandError(f"no aircraft heard on {args.connect} in {args.wait:g} s{detail}")
        vehicle = Vehicle(link, sysid)
        try:
            if args.action == "setup":
                change = install_key(vehicle, key)
                done = "key installed: its packets now come signed with it"
            else:
                change = remove_key(vehicle)
                done = "key removed: its packets now come unsigned"
        except SigningError as exc:
            raise CommandError(str(exc), EXIT_NOT_TAKEN) from None
        finally:
            vehicle.close()
    print(f"vehicle {sysid} on {args.connect}: {done} ({change.tries} SETUP_SIGNING sent)")
    if args.check is None:
        print(
            "its USB/SERIAL0 port keeps accepting unsigned traffic; prove the key on a telemetry "
            "port with --check URL"
        )
        return 0
    return _check(args.check, sysid, key, signed=args.action == "setup", wait=args.wait)


def _check(url: str, sysid: int, key: bytes | None, signed: bool, wait: float) -> int:
    """On telemetry port ``url``: after setup an unsigned request is ignored and a signed one
    answered; after removal an unsigned one is answered."""
    from patrol.link import Link
    from patrol.vehicle import Vehicle
    from patrol.vehicle.signing import answers

    def answered(with_key: bytes | None) -> bool:
        with Link(url, key=with_key) as link:
            if link.wait_vehicle(wait, sysid) is None:
                raise CommandError(f"--check: vehicle {sysid} not heard on {url} in {wait:g} s")
            vehicle = Vehicle(link, sysid)
            try:
                return answers(vehicle)
            finally:
                vehicle.close()

    unsigned = answered(None)
    if not signed:
        if not unsigned:
            raise CommandError(
                f"--check {url}: an unsigned request is still ignored: the key is not off",
                EXIT_NOT_TAKEN,
            )
        print(f"{url}: an unsigned request is answered: signing is off")
        return 0
    with_key = answered(key)
    if unsigned or not with_key:
        heard = "answered" if unsigned else "ignored"
        raise CommandError(
            f"--check {url}: an unsigned request was {heard}, a signed one "
            f"{'answered' if with_key else 'ignored'}: signing does not hold on this port "
            "(is it the USB/SERIAL0 port, which always answers?)",
            EXIT_NOT_TAKEN,
        )
    print(f"{url}: an unsigned request is ignored, a signed one answered: signing holds")
    return 0
