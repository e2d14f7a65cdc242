"""Text formats the IEM-DCR uses for energy registers and meter time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import ROUND_DOWN, Decimal
import re

_ENERGY_QUANTUM = Decimal("0.001")

# What the EVerest driver posts: strftime("%FT%T,000") followed by "+hhmm".
_POSTED_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2}),(\d{3})([+-])(\d{2})(\d{2})"
)


def format_energy(kwh: Decimal) -> str:
    """Format a kWh register the meter's way: zero-padded, 3 decimals ("00000446.540").

    The register is truncated, not rounded: a meter never shows energy it has not
    measured yet.
    """
    return f"{kwh.quantize(_ENERGY_QUANTUM, rounding=ROUND_DOWN):012.3f}"


def format_meter_time(moment: datetime, status: str) -> str:
    """Format an aware time as OCMF TM: "2025-06-06T09:26:24,000+0100 I".

    The meter prints whole seconds only, with the offset of `moment`'s tzinfo.
    """
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("meter time must be timezone-aware")
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    return (
        f"{moment:%Y-%m-%dT%H:%M:%S},000"
        f"{sign}{minutes // 60:02d}{minutes % 60:02d} {status}"
    )


def parse_posted_time(text: str) -> datetime:
    """Parse a TM posted to /gw or /datetime ("2025-06-06T09:26:24,000+0100").

    Returns an aware datetime carrying the posted offset. Raises ValueError when the
    text is not in that exact shape or names an impossible time.
    """
    match = _POSTED_TIME.fullmatch(text)
    if match is None:
        raise ValueError(f"not a meter time: {text!r}")
    year, month, day, hour, minute, second, millis = (
        int(part) for part in match.group(1, 2, 3, 4, 5, 6, 7)
    )
    offset_hours, offset_minutes = int(match.group(9)), int(match.group(10))
    if offset_minutes >= 60:
        raise ValueError(f"not a UTC offset: {text!r}")
    offset = timedelta(hours=offset_hours, minutes=offset_minutes)
    if match.group(8) == "-":
        offset = -offset
    return datetime(
        year,
        month,
        day,
        hour,
        minute,
        second,
        millis * 1000,
        tzinfo=timezone(offset),
    )
