from datetime import UTC, datetime, timedelta

import pytest

from patrol.errors import CommandError
from patrol.option_parsing import parse_datetime


def test_iso_time_with_an_offset():
    got = parse_datetime("2026-07-01T09:00+08:00", "--start-time")
    assert got == datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
    assert got.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("9am", "--start-time '9am' is not an ISO date-time"),
        ("2026-07-01T09:00", "--start-time '2026-07-01T09:00' needs a UTC offset, e.g. +08:00"),
    ],
)
def test_bad_times_name_the_option(text, message):
    with pytest.raises(CommandError) as err:
        parse_datetime(text, "--start-time")
    assert str(err.value) == message
