"""Parsing option values that several commands share."""

from __future__ import annotations

import argparse
import math
import re
from datetime import datetime

from patrol.errors import CommandError

# A value that starts with a minus sign and a digit (``-25.3,129.1``, ``-.5``) or names a
# non-finite number (``-inf``, ``-nan``, caught later with a clear message) is a value, never an
# option: argparse's own test only accepts a bare negative number, so ``--home -25.3,129.1``
# failed with "expected one argument" for every southern or western user.
NEGATIVE_VALUE = re.compile(r"^-(\.?\d|inf|nan)", re.IGNORECASE)
# The largest integer SQLite and PostgreSQL store (signed 64-bit): an id or count beyond it can
# name nothing stored, and the database driver would fail on it rather than answer "none".
MAX_INTEGER = 2**63 - 1


def finite_float(text: str) -> float:
    """argparse ``type`` for every float option: a finite number (``nan`` and ``inf`` are
    refused here, before any command sees them)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a finite number")
    return value


def whole_number(text: str) -> int:
    """argparse ``type`` for every integer option: a whole number a database can hold
    (magnitude at most ``MAX_INTEGER``)."""
    digits = text.strip().removeprefix("-").removeprefix("+")
    if digits.isascii() and digits.isdigit() and len(digits.lstrip("0")) > 19:
        value = None  # more digits than any 64-bit integer (and than Python converts, past 4300)
    else:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number") from None
    if value is None or not -MAX_INTEGER <= value <= MAX_INTEGER:
        shown = text.strip() if len(text.strip()) <= 40 else text.strip()[:37] + "..."
        raise argparse.ArgumentTypeError(
            f"{shown} is out of range (a whole number of magnitude at most 2^63-1)"
        )
    return value


def parse_datetime(text: str, option: str) -> datetime:
    """An ISO date-time with a UTC offset, e.g. ``2026-07-01T21:30+08:00``."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option} {text!r} is not an ISO date-time") from None
    if value.tzinfo is None:
        raise CommandError(f"{option} {text!r} needs a UTC offset, e.g. +08:00")
    return value
