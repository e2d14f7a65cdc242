"""A meter's sessions for the calendar and the month sensors, parsed once each."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant

from .drivers import DriverDirectory
from .sessions import Session, SessionIndex, session_from_tuple, with_cost

if TYPE_CHECKING:
    from . import IemDcrConfigEntry
    from .tuple_keeper import TupleKeeper


class MeterSessions:
    """The meter's sessions, each tuple parsed once; names and prices applied per query.

    The ledger only grows, so a new tuple is one parse, not a re-read of all: the
    event loop never parses the whole ledger again. Driver names (tags can be
    renamed any time) are applied to the sessions a query returns, and each its
    cost: the one fixed when it ended, else (older sessions) today's prices.
    """

    def __init__(self, hass: HomeAssistant, entry: IemDcrConfigEntry) -> None:
        """Read sessions of one meter's ledger with its drivers and prices."""
        self._hass = hass
        self._options = entry.options
        self._keeper: TupleKeeper = entry.runtime_data.keeper
        self._parsed = SessionIndex()
        self._count = 0

    def _grow(self) -> None:
        entries = self._keeper.ledger.entries()
        for entry in entries[self._count :]:
            self._parsed.add(session_from_tuple(entry))
        self._count = len(entries)

    def _named(self, sessions: Iterable[Session]) -> list[Session]:
        directory = DriverDirectory(self._hass, self._options)
        tariff = directory.tariff(self._options)
        return [
            with_cost(
                replace(session, driver=directory.name(session.identification_data)),
                tariff=tariff,
                costs=self._keeper.costs.settled,
            )
            for session in sessions
        ]

    def overlapping(self, start: datetime, end: datetime) -> list[Session]:
        """Return the sessions overlapping [start, end), named and priced."""
        self._grow()
        return self._named(self._parsed.overlapping(start, end))

    def starting_in(self, start: datetime, end: datetime) -> list[Session]:
        """Return the sessions that begin in [start, end), named and priced."""
        self._grow()
        return self._named(self._parsed.starting_in(start, end))

    def latest(self) -> Session | None:
        """Return the session that began last, named and priced."""
        self._grow()
        if not len(self._parsed):
            return None
        return self._named([list(self._parsed)[-1]])[0]
