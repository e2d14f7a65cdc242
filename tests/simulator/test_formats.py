"""Energy and time text formats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given, settings, strategies as st
import pytest

from iem_dcr_simulator.formats import (
    format_energy,
    format_meter_time,
    parse_posted_time,
)


@pytest.mark.parametrize(
    ("kwh", "text"),
    [
        (Decimal(0), "00000000.000"),
        (Decimal("446.54"), "00000446.540"),
        (Decimal("1.04"), "00000001.040"),
        (Decimal("0.0009999"), "00000000.000"),
        (Decimal("2.5039"), "00000002.503"),
        (Decimal("12345678.9"), "12345678.900"),
        (Decimal("123456789"), "123456789.000"),
    ],
)
def test_format_energy(kwh: Decimal, text: str) -> None:
    assert format_energy(kwh) == text


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=0, max_value=Decimal("9999999.999999"), places=6))
def test_energy_text_survives_the_drivers_first_character_cut(kwh: Decimal) -> None:
    # The EVerest driver drops the first character and parses the rest (bug B4):
    # harmless while the padding leaves a leading zero, i.e. below 10 GWh.
    text = format_energy(kwh)
    assert len(text) == 12
    assert Decimal(text[1:]) == Decimal(text)
    assert Decimal(0) <= kwh - Decimal(text) < Decimal("0.001")


def test_format_meter_time() -> None:
    moment = datetime(
        2025, 6, 6, 9, 26, 24, 999_000, tzinfo=timezone(timedelta(hours=2))
    )
    assert format_meter_time(moment, "I") == "2025-06-06T09:26:24,000+0200 I"
    west = timezone(-timedelta(hours=3, minutes=30))
    assert (
        format_meter_time(datetime(2025, 1, 2, 3, 4, 5, tzinfo=west), "S")
        == "2025-01-02T03:04:05,000-0330 S"
    )
    assert (
        format_meter_time(datetime(2025, 1, 2, tzinfo=UTC), "U")
        == "2025-01-02T00:00:00,000+0000 U"
    )
    with pytest.raises(ValueError):
        format_meter_time(datetime(2025, 1, 2), "U")  # noqa: DTZ001


def test_parse_posted_time() -> None:
    parsed = parse_posted_time("2025-06-06T09:26:24,000+0100")
    assert parsed == datetime(2025, 6, 6, 8, 26, 24, tzinfo=UTC)
    assert parsed.utcoffset() == timedelta(hours=1)
    assert parse_posted_time("2025-12-31T23:59:59,250-0930").utcoffset() == -timedelta(
        hours=9, minutes=30
    )


@pytest.mark.parametrize(
    "text",
    [
        "2025-06-06T09:26:24,000+01:00",
        "2025-06-06T09:26:24.000+0100",
        "2025-06-06T09:26:24+0100",
        "2025-06-06T09:26:24,000+0100 I",
        "2025-06-06T09:26:24,000",
        "2025-02-30T09:26:24,000+0100",
        "2025-06-06T24:00:00,000+0100",
        "2025-06-06T09:26:24,000+0160",
        "2025-06-06T09:26:24,000+2400",
        "",
    ],
)
def test_parse_posted_time_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_posted_time(text)


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 (hypothesis wants naive bounds)
        max_value=datetime(2099, 12, 31),  # noqa: DTZ001
    ),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_posted_time_round_trips(wall: datetime, offset_minutes: int) -> None:
    moment = wall.replace(
        microsecond=0, tzinfo=timezone(timedelta(minutes=offset_minutes))
    )
    text = format_meter_time(moment, "I").removesuffix(" I")
    parsed = parse_posted_time(text)
    assert parsed == moment
    assert parsed.utcoffset() == moment.utcoffset()
