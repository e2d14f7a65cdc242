"""The meter's OCMF time format, parsed and formatted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, strategies as st
import pytest

from custom_components.iem_dcr.api import (
    TimeStatus,
    format_meter_time,
    parse_meter_time,
)


@pytest.mark.parametrize(
    ("text", "expected", "status"),
    [
        (
            "2024-12-15T22:42:28,000+0200 U",
            datetime(2024, 12, 15, 20, 42, 28, tzinfo=UTC),
            TimeStatus.UNSYNCHRONIZED,
        ),
        (
            "2025-06-06T09:26:24,000+0200 I",
            datetime(2025, 6, 6, 7, 26, 24, tzinfo=UTC),
            TimeStatus.INFORMATIVE,
        ),
        (
            "2023-01-01T12:45:10,500+0100 S",
            datetime(2023, 1, 1, 11, 45, 10, 500_000, tzinfo=UTC),
            TimeStatus.SYNCHRONIZED,
        ),
        (
            "2020-02-29T00:00:00,001-0530 R",
            datetime(2020, 2, 29, 5, 30, 0, 1_000, tzinfo=UTC),
            TimeStatus.RELATIVE,
        ),
        (
            "1999-12-31T23:59:59,999+0000 U",
            datetime(1999, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC),
            TimeStatus.UNSYNCHRONIZED,
        ),
    ],
)
def test_parse_reads_instant_status_and_keeps_text(
    text: str, expected: datetime, status: TimeStatus
) -> None:
    parsed = parse_meter_time(text)

    assert parsed.value == expected
    assert parsed.status is status
    assert parsed.text == text


def test_parse_keeps_the_printed_offset() -> None:
    parsed = parse_meter_time("2024-12-15T22:42:28,000+0200 U")

    assert parsed.value.utcoffset() == timedelta(hours=2)
    assert (parsed.value.hour, parsed.value.minute) == (22, 42)


def test_parse_negative_offset_with_minutes() -> None:
    parsed = parse_meter_time("2024-03-10T01:15:00,000-0930 S")

    assert parsed.value.utcoffset() == -timedelta(hours=9, minutes=30)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2024-12-15T22:42:28,000+0200",  # no status
        "2024-12-15T22:42:28,000+0200 X",  # unknown status
        "2024-12-15T22:42:28,000+0200 u",  # status is upper case
        "2024-12-15T22:42:28,000+0200  U",  # two spaces
        "2024-12-15T22:42:28,000+0200 U ",  # trailing space
        " 2024-12-15T22:42:28,000+0200 U",  # leading space
        "2024-12-15T22:42:28,000+0200 U\n",  # trailing newline
        "2024-12-15T22:42:28.000+0200 U",  # dot instead of comma
        "2024-12-15T22:42:28,00+0200 U",  # two digit milliseconds
        "2024-12-15T22:42:28+0200 U",  # no milliseconds
        "2024-12-15T22:42:28,000+02:00 U",  # colon in the offset
        "2024-12-15T22:42:28,000Z U",  # Z instead of an offset
        "2024-12-15 22:42:28,000+0200 U",  # space instead of T
        "2024-13-15T22:42:28,000+0200 U",  # month 13
        "2023-02-29T22:42:28,000+0200 U",  # no leap day in 2023
        "2024-12-15T24:00:00,000+0200 U",  # hour 24
        "2024-12-15T22:60:28,000+0200 U",  # minute 60
        "2024-12-15T22:42:60,000+0200 U",  # leap second
        "2024-12-15T22:42:28,000+2400 U",  # offset of a day
        "2024-12-15T22:42:28,000+0260 U",  # offset minute 60
        "0000-12-15T22:42:28,000+0200 U",  # year 0
        "\uff12\uff10\uff12\uff14-12-15T22:42:28,000+0200 U",  # non-ASCII digits
    ],
)
def test_parse_rejects_junk(text: str) -> None:
    with pytest.raises(ValueError):
        parse_meter_time(text)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # The API doc's POST /gw example.
        (
            datetime(2025, 6, 6, 9, 26, 24, tzinfo=timezone(timedelta(hours=1))),
            "2025-06-06T09:26:24,000+0100",
        ),
        # Milliseconds are never sent, the manufacturer's driver truncates.
        (
            datetime(2025, 6, 6, 9, 26, 24, 999_999, tzinfo=UTC),
            "2025-06-06T09:26:24,000+0000",
        ),
        (
            datetime(
                2024, 1, 2, 3, 4, 5, tzinfo=timezone(-timedelta(hours=3, minutes=30))
            ),
            "2024-01-02T03:04:05,000-0330",
        ),
        # A zone prints the offset valid at that moment: summer time in Berlin.
        (
            datetime(2025, 7, 1, 12, 0, 0, tzinfo=ZoneInfo("Europe/Berlin")),
            "2025-07-01T12:00:00,000+0200",
        ),
        (
            datetime(2025, 1, 1, 12, 0, 0, tzinfo=ZoneInfo("Europe/Berlin")),
            "2025-01-01T12:00:00,000+0100",
        ),
        # Four digit year even for small years (strftime would not pad).
        (datetime(999, 1, 1, tzinfo=UTC), "0999-01-01T00:00:00,000+0000"),
    ],
)
def test_format(moment: datetime, expected: str) -> None:
    assert format_meter_time(moment) == expected


def test_format_refuses_naive_datetime() -> None:
    with pytest.raises(ValueError):
        format_meter_time(datetime(2025, 1, 1))  # noqa: DTZ001


def test_format_refuses_offset_with_seconds() -> None:
    odd = timezone(timedelta(hours=1, seconds=30))
    with pytest.raises(ValueError):
        format_meter_time(datetime(2025, 1, 1, tzinfo=odd))


offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
moments = st.datetimes(
    min_value=datetime(1, 1, 2),  # noqa: DTZ001
    max_value=datetime(9999, 12, 30),  # noqa: DTZ001
    timezones=offsets,
)


@given(moment=moments, status=st.sampled_from(TimeStatus))
def test_format_then_parse_round_trip(moment: datetime, status: TimeStatus) -> None:
    text = f"{format_meter_time(moment)} {status}"

    parsed = parse_meter_time(text)

    assert parsed.value == moment.replace(microsecond=0)
    assert parsed.value.utcoffset() == moment.utcoffset()
    assert parsed.status is status
    assert parsed.text == text


@given(moment=moments)
def test_parse_then_format_round_trip(moment: datetime) -> None:
    text = format_meter_time(moment)

    assert format_meter_time(parse_meter_time(f"{text} I").value) == text
