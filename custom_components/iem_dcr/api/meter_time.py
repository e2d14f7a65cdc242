"""The meter's time format: OCMF ``YYYY-MM-DDThh:mm:ss,fff+hhmm S``.

It is not RFC 3339 (comma before the milliseconds, no colon in the offset, a
status letter after a space), so ``datetime.fromisoformat`` cannot be used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
import functools
import re

_METER_TIME = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
    r"T(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})"
    r",(?P<millisecond>[0-9]{3})"
    r"(?P<sign>[+-])(?P<offset_hours>[0-9]{2})(?P<offset_minutes>[0-9]{2})"
    r" (?P<status>[UISR])"
)


class TimeStatus(StrEnum):
    """How far the meter trusts its clock (OCMF time status)."""

    UNSYNCHRONIZED = "U"
    INFORMATIVE = "I"
    SYNCHRONIZED = "S"
    RELATIVE = "R"


_STATUS = {status.value: status for status in TimeStatus}


@dataclass(frozen=True)
class MeterTime:
    """A meter timestamp with its status; ``text`` keeps the original string."""

    value: datetime
    status: TimeStatus
    text: str


def parse_meter_time(text: str) -> MeterTime:
    """Parse ``2024-12-15T22:42:28,000+0200 U``; raise ValueError on anything else.

    The offset printed by the meter is kept as the datetime's tzinfo, because the
    meter's offset may be a "normal time" label that differs from the wall clock
    of the host (see bug B8 in the API notes).
    """
    match = _METER_TIME.fullmatch(text)
    if match is None:
        raise ValueError(f"not a meter time: {text!r}")
    (
        year,
        month,
        day,
        hour,
        minute,
        second,
        millisecond,
        sign,
        hours,
        minutes,
        status,
    ) = match.groups()
    zone = _zone(sign, hours, minutes)
    if zone is None:
        raise ValueError(f"meter time has an impossible offset: {text!r}")
    value = datetime(
        int(year),
        int(month),
        int(day),
        int(hour),
        int(minute),
        int(second),
        int(millisecond) * 1000,
        tzinfo=zone,
    )
    return MeterTime(value=value, status=_STATUS[status], text=text)


@functools.lru_cache(maxsize=64)
def _zone(sign: str, hours: str, minutes: str) -> timezone | None:
    """Return the fixed zone of a printed offset, None for an impossible one.

    Cached: a meter prints the same offset every second.
    """
    if int(hours) > 23 or int(minutes) > 59:
        return None
    offset = timedelta(hours=int(hours), minutes=int(minutes))
    return timezone(-offset if sign == "-" else offset)


def format_meter_time(moment: datetime) -> str:
    """Format an aware datetime as the meter expects it in ``TM`` of a POST.

    Milliseconds are always ``,000`` and no status letter is appended, exactly as
    the manufacturer's driver does. The datetime's own UTC offset is printed, so
    the caller decides which offset the meter gets.
    """
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("meter time needs an aware datetime")
    offset_seconds = int(offset.total_seconds())
    if offset_seconds % 60 or offset.microseconds:
        raise ValueError(f"the meter cannot express the offset {offset}")
    sign = "-" if offset_seconds < 0 else "+"
    offset_hours, offset_minutes = divmod(abs(offset_seconds) // 60, 60)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d},000"
        f"{sign}{offset_hours:02d}{offset_minutes:02d}"
    )
