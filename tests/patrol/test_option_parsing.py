import argparse
from datetime import UTC, datetime, timedelta

import pytest

from patrol.errors import CommandError
from patrol.option_parsing import MAX_INTEGER, parse_datetime, whole_number


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


@pytest.mark.parametrize("text", ["0", "-5", str(MAX_INTEGER), str(-MAX_INTEGER), " 7 "])
def test_whole_numbers_a_database_holds(text):
    assert whole_number(text) == int(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (str(2**63), "9223372036854775808 is out of range (a whole number of magnitude at most"),
        ("9" * 5000, "9999999999999999999999999999999999999... is out of range"),
        ("1.5", "'1.5' is not a whole number"),
        ("nan", "'nan' is not a whole number"),
    ],
)
def test_whole_numbers_beyond_it_are_refused(text, message):
    with pytest.raises(argparse.ArgumentTypeError) as err:
        whole_number(text)
    assert str(err.value).startswith(message)
