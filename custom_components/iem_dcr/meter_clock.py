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


def parse_offset(text: str) -> timedelta:
    """Return the offset of a `±hhmm` text; ValueError when it is not one."""
    match = _OFFSET.match(text)
    if match is None:
        raise ValueError(f"not a ±hhmm offset: {text!r}")
    sign, hours, minutes = match.groups()
    if int(minutes) >= 60:
        raise ValueError(f"minutes out of range: {text!r}")
    offset = timedelta(hours=int(hours), minutes=int(minutes))
    if offset > _MAX_OFFSET:
        raise ValueError(f"offset out of range: {text!r}")
    return -offset if sign == "-" else offset


def is_valid_offset(text: str) -> bool:
    """Tell whether text is a usable `±hhmm` offset."""
    try:
        parse_offset(text)
    except ValueError:
        return False
    return True


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
