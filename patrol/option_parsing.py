"""Parsing option values that several commands share."""

from __future__ import annotations

from datetime import datetime

from patrol.errors import CommandError


def parse_datetime(text: str, option: str) -> datetime:
    """An ISO date-time with a UTC offset, e.g. ``2026-07-01T21:30+08:00``."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option} {text!r} is not an ISO date-time") from None
    if value.tzinfo is None:
        raise CommandError(f"{option} {text!r} needs a UTC offset, e.g. +08:00")
    return value
