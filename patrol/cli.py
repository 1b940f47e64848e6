"""The ``patrol`` command: one entry point, one module per subcommand under ``patrol.commands``."""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence

import patrol.commands
from patrol.datadir import ENV_VAR
from patrol.errors import CommandError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="patrol", description="Gridpatrol: drone patrol and broadcast controller."
    )
    parser.add_argument(
        "--data-dir",
        help=f"where everything is stored (default: ${ENV_VAR} or ~/.local/share/gridpatrol)",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # Each module in patrol.commands exposes register(subparsers); its parser sets ``func``.
    for module in sorted(pkgutil.iter_modules(patrol.commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"patrol.commands.{module.name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.data_dir:
        os.environ[ENV_VAR] = args.data_dir
    try:
        return int(args.func(args) or 0)
    except CommandError as exc:
        print(f"patrol {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
