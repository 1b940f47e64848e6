"""The ``patrol`` command: one entry point, one module per subcommand under ``patrol.commands``.

What every command shares is settled here, once: values starting with a minus sign are values
(``--home -25.3,129.1``), float options are finite, integer options fit a database integer, a
refusal is one line on stderr with exit status 2, and a reader that stops reading
(``patrol status | head``) ends the command quietly.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import select
import sys
from collections.abc import Sequence
from typing import NoReturn

import patrol.commands
from patrol.datadir import ENV_VAR
from patrol.errors import CommandError
from patrol.option_parsing import NEGATIVE_VALUE, finite_float, whole_number

EXIT_READER_GONE = 128 + 13  # what a shell reports for a command ended by SIGPIPE
EXIT_INTERRUPTED = 128 + 2  # what a shell reports for a command ended by SIGINT


class PatrolArgumentParser(argparse.ArgumentParser):
    """argparse with negative coordinates taken as values and one-line refusals."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = NEGATIVE_VALUE

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = PatrolArgumentParser(
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
    _checked_numbers(parser)
    return parser


def _checked_numbers(parser: argparse.ArgumentParser) -> None:
    """Every ``type=float`` option of every command refuses nan and inf; every ``type=int``
    option refuses a number no database integer holds."""
    for action in parser._actions:
        if action.type is float:
            action.type = finite_float
        elif action.type is int:
            action.type = whole_number
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _checked_numbers(sub)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _run(argv)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        if not _stdout_reader_gone():
            raise
        # Nobody reads the rest (``patrol status | head``): stop quietly, as cat or ls do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_READER_GONE


def _run(argv: Sequence[str] | None) -> int:
    _tolerant_output()
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a refusal already printed
        return exc.code if isinstance(exc.code, int) else 2
    if args.data_dir:
        os.environ[ENV_VAR] = args.data_dir
    try:
        return int(args.func(args) or 0)
    except CommandError as exc:
        print(f"patrol {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:  # Ctrl-C where the command has nothing of its own to do
        print(f"patrol {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _tolerant_output() -> None:
    """Text that cannot be encoded (a lone surrogate from a file, a non-UTF-8 terminal) is
    printed escaped rather than ending the command."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def _stdout_reader_gone() -> bool:
    """Whether stdout is a pipe whose reader has closed it."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


if __name__ == "__main__":
    sys.exit(main())
