"""The "Charging sessions" calendar: one event per stored signed tuple."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .entity import IemDcrTransactionEntity
from .meter_sessions import MeterSessions
from .sessions import Session
from .statement.wording import Wording

if TYPE_CHECKING:
    from . import IemDcrConfigEntry

# Reads the ledger in memory; no requests to the meter.
PARALLEL_UPDATES = 0

SESSIONS = EntityDescription(
    key="charging_sessions", translation_key="charging_sessions"
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IemDcrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the meter's calendar of charging sessions."""
    async_add_entities([ChargingSessionsCalendar(entry, MeterSessions(hass, entry))])


def event_of(session: Session, wording: Wording) -> CalendarEvent:
    """Return the calendar event of one session (the driver's name, never the UID)."""
    parts = [f"{wording.energy(session.energy_kwh, grouped=False)} kWh"]
    if session.driver:
        parts.append(session.driver)
    if session.cost is not None and session.cost.cost is not None:
        parts.append(wording.money(session.cost.cost))
    lines = [f"OCMF: {session.label}", f"Signature: {session.verdict.value}"]
    if session.pagination is None:
        lines.append("Pagination: unknown")
    start, end = session.starts_at, session.ends_at
    return CalendarEvent(
        start=start,
        end=end if end > start else start,
        summary=" · ".join(parts),
        description="\n".join(lines),
        uid=f"{session.meter_serial or ''}-{session.sequence}",
    )


class ChargingSessionsCalendar(IemDcrTransactionEntity, CalendarEntity):
    """Every charging session of the meter, served from the ledger."""

    # Newer Home Assistant reads a colour from a CalendarEntityDescription,
    # which 2025.4 lacks: no colour of our own.
    _attr_initial_color = None

    def __init__(self, entry: IemDcrConfigEntry, sessions: MeterSessions) -> None:
        """Serve the meter's sessions."""
        super().__init__(entry, SESSIONS)
        self._sessions = sessions

    def _wording(self) -> Wording:
        language = "de" if self.hass.config.language.startswith("de") else "en"
        zone = dt_util.get_time_zone(self.hass.config.time_zone) or dt_util.UTC
        return Wording(language, self.hass.config.currency, zone)

    @property
    def event(self) -> CalendarEvent | None:
        """Return the latest session (the calendar's state shows it)."""
        latest = self._sessions.latest()
        return event_of(latest, self._wording()) if latest else None

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """Return the sessions overlapping the range."""
        wording = self._wording()
        return [
            event_of(session, wording)
            for session in self._sessions.overlapping(start_date, end_date)
        ]
