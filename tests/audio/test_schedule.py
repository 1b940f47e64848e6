from datetime import UTC, datetime

import pytest

from audio.schedule import QuietHours, parse_span, timezone


def test_span_over_midnight():
    quiet = QuietHours((parse_span("21:30-07:00"),), timezone("Asia/Shanghai"))
    # 22:00 and 06:59 in Shanghai (UTC+8) are quiet; 07:00 and 12:00 are not.
    assert quiet.is_quiet(datetime(2026, 7, 1, 14, 0, tzinfo=UTC))
    assert quiet.is_quiet(datetime(2026, 7, 1, 22, 59, tzinfo=UTC))
    assert not quiet.is_quiet(datetime(2026, 7, 1, 23, 0, tzinfo=UTC))
    assert not quiet.is_quiet(datetime(2026, 7, 1, 4, 0, tzinfo=UTC))


@pytest.mark.parametrize("text", ["9-10", "25:00-07:00", "12:00-12:00", "noon"])
def test_bad_spans_are_refused(text):
    with pytest.raises(ValueError, match="quiet hours"):
        parse_span(text)


def test_unknown_zone():
    with pytest.raises(ValueError, match="unknown time zone"):
        timezone("Mars/Olympus")
