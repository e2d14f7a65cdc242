"""The wall-clock time Home Assistant hands to the meter.

The meter signs its readings with the time it was last given, so the offset printed
behind that time must be the one really in force. The reference driver labels a
daylight-saving wall clock with the standard-time offset (its bug B8); we print the
offset that belongs to the wall clock we send.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
import re

from .const import TIME_ZONE_MODE_FIXED, TIME_ZONE_MODE_HOME_ASSISTANT

_OFFSET = re.compile(r"^([+-])(\d{2})(\d{2})$")
_MAX_OFFSET = timedelta(hours=14)

# Why an offset text is unusable (`OffsetError.problem`).
OFFSET_FORMAT = "format"
OFFSET_MINUTES = "minutes"
OFFSET_RANGE = "range"


class OffsetError(ValueError):
    """A `±hhmm` text that is no usable offset; `problem` says why."""

    def __init__(self, problem: str, text: str) -> None:
        """Name the problem and the offending text."""
        super().__init__(f"{problem}: {text!r}")
        self.problem = problem


def parse_offset(text: str) -> timedelta:
    """Return the offset of a `±hhmm` text; OffsetError when it is not one."""
    match = _OFFSET.match(text)
    if match is None:
        raise OffsetError(OFFSET_FORMAT, text)
    sign, hours, minutes = match.groups()
    if int(minutes) >= 60:
        raise OffsetError(OFFSET_MINUTES, text)
    offset = timedelta(hours=int(hours), minutes=int(minutes))
    if offset > _MAX_OFFSET:
        raise OffsetError(OFFSET_RANGE, text)
    return -offset if sign == "-" else offset


def offset_problem(text: str) -> str | None:
    """Return why text is no usable `±hhmm` offset, or None when it is one."""
    try:
        parse_offset(text)
    except OffsetError as err:
        return err.problem
    return None


@dataclass(frozen=True, kw_only=True)
class ClockPolicy:
    """How the meter's wall clock relates to UTC.

    `home_assistant` follows Home Assistant's time zone, daylight saving time
    included. `fixed` is the reference driver's `timezone` (standard-time offset)
    plus `timezone_handle_DST`, where daylight saving time follows Home
    Assistant's time zone.
    """

    mode: str
    fixed_offset: str
    handle_dst: bool

    def local_time(self, now: datetime, home_zone: tzinfo) -> datetime:
        """Return `now` as the aware wall-clock time the meter should show."""
        if self.mode == TIME_ZONE_MODE_HOME_ASSISTANT:
            return now.astimezone(home_zone)
        if self.mode != TIME_ZONE_MODE_FIXED:
            raise ValueError(f"unknown time zone mode: {self.mode!r}")
        offset = parse_offset(self.fixed_offset)
        if self.handle_dst and now.astimezone(home_zone).dst():
            offset += timedelta(hours=1)
        return now.astimezone(timezone(offset))
