"""``patrol users``: console accounts (there is no default password: the first admin is made
here)."""

from __future__ import annotations

import argparse
import getpass
import sys

from patrol.errors import CommandError

ROLES = ("admin", "operator", "reviewer", "staff")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "users",
        help="console accounts: add, list, change password or role, disable, remove",
        description="Accounts for the operator console (patrol serve). Roles: admin (users, "
        "settings, the audit log), operator (grids, plans, flights, messages), reviewer "
        "(flags), staff (their assigned follow-ups).",
    )
    p.add_argument("--db", metavar="URL", help="SQLAlchemy URL (default: SQLite in data dir)")
    sub = p.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = sub.add_parser("add", help="add a user (the password is prompted for)")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", required=True, choices=ROLES)
    _password_option(add)
    add.set_defaults(func=run_add)
    ls = sub.add_parser("list", help="list users")
    ls.set_defaults(func=run_list)
    pw = sub.add_parser("passwd", help="set a user's password (ends their sessions)")
    pw.add_argument("name", metavar="NAME")
    _password_option(pw)
    pw.set_defaults(func=run_passwd)
    role = sub.add_parser("role", help="change a user's role (ends their sessions)")
    role.add_argument("name", metavar="NAME")
    role.add_argument("role", choices=ROLES)
    role.set_defaults(func=run_role)
    for action, text in (("disable", "stop a user signing in"), ("enable", "allow it again")):
        d = sub.add_parser(action, help=text)
        d.add_argument("name", metavar="NAME")
        d.set_defaults(func=run_disable, disabled=action == "disable")
    rm = sub.add_parser("remove", help="remove a user")
    rm.add_argument("name", metavar="NAME")
    rm.set_defaults(func=run_remove)


def _password_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input instead of prompting",
    )


def _accounts(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from patrol.store import open_engine
    from patrol.store.accounts import Accounts

    return Accounts(open_engine(args.db))


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        if not password:
            raise CommandError("no password on standard input")
        return password
    if not sys.stdin.isatty():
        raise CommandError("no terminal to ask for the password on: use --password-stdin")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise CommandError("the two passwords differ")
    return first


def _do(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    from patrol.store.accounts import AccountError

    try:
        return fn(*args, **kwargs)
    except AccountError as exc:
        raise CommandError(str(exc)) from None


def run_add(args: argparse.Namespace) -> int:
    accounts = _accounts(args)
    if accounts.get_user(args.name.strip()) is not None:
        raise CommandError(f"a user named {args.name.strip()!r} already exists")
    user = _do(accounts.add_user, args.name, args.role, _password(args))
    accounts.audit("(command line)", "user-add", user.name, f"role {user.role}")
    print(f"user {user.name!r} added with role {user.role}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    users = _accounts(args).users()
    if not users:
        print("no users yet: add the first with: patrol users add NAME --role admin")
    for u in users:
        state = "  (disabled)" if u.disabled else ""
        print(f"{u.name}\t{u.role}\t{u.created_at:%Y-%m-%d %H:%M}{state}")
    return 0


def run_passwd(args: argparse.Namespace) -> int:
    accounts = _accounts(args)
    _do(accounts.update_user, args.name, password=_password(args))
    accounts.audit("(command line)", "user-change", args.name, "password")
    print(f"password of {args.name!r} changed; their sessions are closed")
    return 0


def run_role(args: argparse.Namespace) -> int:
    accounts = _accounts(args)
    _do(accounts.update_user, args.name, role=args.role)
    accounts.audit("(command line)", "user-change", args.name, f"role {args.role}")
    print(f"{args.name!r} is now {args.role}")
    return 0


def run_disable(args: argparse.Namespace) -> int:
    accounts = _accounts(args)
    _do(accounts.update_user, args.name, disabled=args.disabled)
    word = "disabled" if args.disabled else "enabled"
    accounts.audit("(command line)", "user-change", args.name, word)
    print(f"{args.name!r} {word}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    accounts = _accounts(args)
    _do(accounts.remove_user, args.name)
    accounts.audit("(command line)", "user-remove", args.name)
    print(f"{args.name!r} removed")
    return 0
