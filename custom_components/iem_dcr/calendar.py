"""The "Charging sessions" calendar: one event per stored signed tuple."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .drivers import DriverDirectory
from .entity import IemDcrTransactionEntity
from .sessions import Session, SessionIndex, build_sessions
from .statement.wording import Wording

if TYPE_CHECKING:
    from . import IemDcrConfigEntry
    from .signed_tuple import SignedTuple

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
    async_add_entities([ChargingSessionsCalendar(entry)])


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

    def __init__(self, entry: IemDcrConfigEntry) -> None:
        """Index the sessions stored so far."""
        super().__init__(entry, SESSIONS)
        self._options = entry.options
        self._index: SessionIndex | None = None
        self._indexed = -1

    def _sessions(self) -> SessionIndex:
        # Rebuilt only when the ledger grew: a calendar view asks often.
        size = self._keeper.ledger_size
        if self._index is None or size != self._indexed:
            directory = DriverDirectory(self.hass, self._options)
            self._index = SessionIndex(
                build_sessions(
                    self._keeper.ledger.entries(),
                    resolve_driver=directory.name,
                    tariff=directory.tariff(self._options),
                )
            )
            self._indexed = size
        return self._index

    def _wording(self) -> Wording:
        language = "de" if self.hass.config.language.startswith("de") else "en"
        zone = dt_util.get_time_zone(self.hass.config.time_zone) or dt_util.UTC
        return Wording(language, self.hass.config.currency, zone)

    @property
    def event(self) -> CalendarEvent | None:
        """Return the latest session (the calendar's state shows it)."""
        sessions = list(self._sessions())
        return event_of(sessions[-1], self._wording()) if sessions else None

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """Return the sessions overlapping the range."""
        wording = self._wording()
        return [
            event_of(session, wording)
            for session in self._sessions().overlapping(start_date, end_date)
        ]

    @callback
    def _handle_news(self, kind: str, signed: SignedTuple | None) -> None:
        """Show a stored tuple at once."""
        if kind == "stopped":
            self._index = None
        super()._handle_news(kind, signed)
