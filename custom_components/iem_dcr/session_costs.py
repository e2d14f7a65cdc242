"""Costs fixed when a session ends: the running transaction's polls and the settled costs.

While a transaction runs, every poll (time, transaction register, the price
entity's value) goes into a `CostAccumulator`, which is saved a few seconds
later (and when Home Assistant stops), so a restart loses nothing but the time
Home Assistant was away: that is a gap, priced at the price when it is back.

When the tuple keeper has stored the tuple that ends the transaction, the
session is priced once (driver price, fixed price, or the accumulator) and the
`SessionCost` is kept under the tuple's ledger sequence. Sessions read it from
then on, so a later change of the price options does not rewrite history.

The ledger always comes first: pricing runs after the tuple is stored, and a
failure here only logs (the session is then priced from the options as now).
Nothing here logs identification data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store

from .const import CONF_PRICE_ENTITY, LOGGER
from .drivers import DriverDirectory
from .pricing import (
    CLOCK_TOLERANCE,
    DEFAULT_MAX_POLL_INTERVAL,
    CostAccumulator,
    PricingError,
    RegisterKind,
    SessionCost,
)
from .sessions import Session, session_from_tuple, settle

if TYPE_CHECKING:
    from . import IemDcrConfigEntry
    from .api import MeterValue
    from .ledger import LedgerEntry

_STORAGE_VERSION = 1
# The running accumulator is written this long after a poll changed it (and
# when Home Assistant stops): a crash loses at most these seconds of polls,
# which are then priced as a gap.
RUNNING_SAVE_DELAY = 5.0
# How many poll intervals may pass before the time between two polls is a gap.
POLLS_PER_GAP = 3


def price_of(hass: HomeAssistant, entity_id: str | None) -> Decimal | None:
    """Return the entity's state as a price per kWh; None when it has no number."""
    if not entity_id:
        return None
    state = hass.states.get(entity_id)
    if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return None
    return parse_number(state.state)


def parse_number(text: str) -> Decimal | None:
    """Return a finite number read from a state, or None."""
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def max_poll_interval(poll_interval: timedelta) -> timedelta:
    """Return the longest pause between two polls that is not yet a gap."""
    return max(DEFAULT_MAX_POLL_INTERVAL, poll_interval * POLLS_PER_GAP)


@dataclass(frozen=True)
class _Finished:
    """The last finished transaction: a readable copy of its tuple costs the same."""

    accumulator: CostAccumulator
    sequence: int


class CostBook:
    """One meter's running accumulator and settled session costs (shared by reloads)."""

    def __init__(self, hass: HomeAssistant, name: str) -> None:
        """Use the stores `iem_dcr.cost.<name>` and `iem_dcr.session_costs.<name>`."""
        self._hass = hass
        self._running_store: Store[dict[str, Any]] = Store(
            hass, _STORAGE_VERSION, f"iem_dcr.cost.{name}"
        )
        self._settled_store: Store[dict[str, Any]] = Store(
            hass, _STORAGE_VERSION, f"iem_dcr.session_costs.{name}"
        )
        self.accumulator: CostAccumulator | None = None
        self._settled: dict[int, SessionCost] = {}
        self._paginations: dict[int, str | None] = {}
        self._finished: _Finished | None = None
        self._running_save_due = False

    @property
    def settled(self) -> Mapping[int, SessionCost]:
        """Return the costs fixed when their sessions ended, by ledger sequence."""
        return self._settled

    async def async_load(self) -> None:
        """Read both stores; what cannot be read is logged and left out."""
        running = await self._running_store.async_load() or {}
        if running.get("accumulator") is not None:
            try:
                self.accumulator = CostAccumulator.from_dict(running["accumulator"])
            except PricingError as err:
                LOGGER.warning(
                    "The running transaction's stored costs cannot be read (%s);"
                    " its energy so far is priced as a gap",
                    err,
                )
        settled = await self._settled_store.async_load() or {}
        for key, record in (settled.get("sessions") or {}).items():
            try:
                sequence = int(key)
                self._settled[sequence] = SessionCost.from_dict(record.get("cost"))
            except (PricingError, ValueError, AttributeError) as err:
                LOGGER.warning(
                    "The stored cost of ledger record %s cannot be read (%s);"
                    " that session is priced with the current options",
                    key,
                    err,
                )
                continue
            self._paginations[sequence] = record.get("pagination")

    # -- the running transaction -------------------------------------------------

    def add_poll(
        self,
        time: datetime,
        register_kwh: Decimal,
        price: Decimal | None,
        gap_after: timedelta,
    ) -> None:
        """Feed one poll of a running transaction."""
        accumulator = self.accumulator
        if accumulator is None:
            accumulator = CostAccumulator(
                register_kind=RegisterKind.TRANSACTION, max_poll_interval=gap_after
            )
        else:
            # The poll interval option may have changed: keep the polls.
            accumulator.max_poll_interval = gap_after
        try:
            accumulator.add(time, register_kwh, price)
        except PricingError:
            # The register went down: a new transaction whose predecessor's
            # tuple never came (the meter lost it). Start again.
            LOGGER.debug("A new transaction began; its costs start from zero")
            accumulator = CostAccumulator(
                register_kind=RegisterKind.TRANSACTION, max_poll_interval=gap_after
            )
            accumulator.add(time, register_kwh, price)
        self.accumulator = accumulator
        if not self._running_save_due:
            # Not again with every poll: that would put the write off for ever.
            self._running_save_due = True
            self._running_store.async_delay_save(self._running_data, RUNNING_SAVE_DELAY)

    def _running_data(self) -> dict[str, Any]:
        self._running_save_due = False
        return {
            "accumulator": (
                self.accumulator.to_dict() if self.accumulator is not None else None
            )
        }

    # -- the end of a session ------------------------------------------------------

    def accumulator_for(self, session: Session) -> CostAccumulator | None:
        """Return the polls of the transaction this session's tuple ended, if any.

        A tuple that ended before the first poll is an older one (stored late):
        the running polls stay. One that began after the last poll belongs to a
        later transaction: the polls are of a transaction whose tuple was lost.
        A readable copy of the tuple just priced gets that tuple's polls.
        """
        finished = self._finished
        if finished is not None and self._same_tuple(finished.sequence, session):
            return finished.accumulator
        accumulator = self.accumulator
        span = accumulator.polled_span if accumulator is not None else None
        if accumulator is None or span is None:
            return None
        first_time, last_time = span
        slack = accumulator.max_poll_interval + CLOCK_TOLERANCE
        if session.end is not None and session.end < first_time - slack:
            return None
        if session.begin is not None and session.begin > last_time + slack:
            LOGGER.debug(
                "The polled transaction's tuple was lost; its polls are dropped"
            )
            self.accumulator = None
            return None
        return accumulator

    def _same_tuple(self, sequence: int, session: Session) -> bool:
        settled = self._settled.get(sequence)
        return (
            settled is not None
            and session.pagination is not None
            and self._paginations.get(sequence) == session.pagination
            and settled.energy_kwh == session.energy_kwh
        )

    def keep(
        self,
        session: Session,
        cost: SessionCost,
        accumulator: CostAccumulator | None,
    ) -> None:
        """Keep a session's settled cost; its polls are done."""
        self._settled[session.sequence] = cost
        self._paginations[session.sequence] = session.pagination
        if accumulator is not None:
            self._finished = _Finished(accumulator, session.sequence)
            if accumulator is self.accumulator:
                self.accumulator = None
                self._running_store.async_delay_save(self._running_data, 0)
        self._settled_store.async_delay_save(self._settled_data, 0)

    def _settled_data(self) -> dict[str, Any]:
        return {
            "sessions": {
                str(sequence): {
                    "pagination": self._paginations.get(sequence),
                    "cost": cost.to_dict(),
                }
                for sequence, cost in self._settled.items()
            }
        }


class CostTracker:
    """One loaded entry's pricing: feeds polls and settles stored tuples."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: IemDcrConfigEntry,
        book: CostBook,
        now: Callable[[], datetime],
        poll_interval: timedelta,
    ) -> None:
        """Price with the entry's options (a reload brings new options)."""
        self._hass = hass
        self._now = now
        self._options = entry.options
        self._book = book
        self._entity_id: str | None = entry.options.get(CONF_PRICE_ENTITY) or None
        self._gap_after = max_poll_interval(poll_interval)

    @property
    def settled(self) -> Mapping[int, SessionCost]:
        """Return the costs fixed when their sessions ended, by ledger sequence."""
        return self._book.settled

    def price_now(self) -> Decimal | None:
        """Return the price entity's value now (None without entity or number)."""
        return price_of(self._hass, self._entity_id)

    @callback
    def async_handle_poll(self, meter: MeterValue, recovered: bool) -> None:
        """Feed a poll of a running transaction to the accumulator (entity price)."""
        if not meter.transaction_active or self._entity_id is None:
            return
        try:
            self._book.add_poll(
                self._now(),
                meter.energy_import_transaction,
                self.price_now(),
                self._gap_after,
            )
        except PricingError as err:
            LOGGER.warning("A poll could not be priced: %s", err)

    @callback
    def async_settle(self, entry: LedgerEntry) -> SessionCost | None:
        """Fix the cost of the session a newly stored tuple ends.

        Returns None when no price applies (no price option, no driver price):
        such a session is priced with the options whenever it is read.
        """
        directory = DriverDirectory(self._hass, self._options)
        tariff = directory.tariff(self._options)
        session = session_from_tuple(entry, resolve_driver=directory.name)
        if session.parse_error is not None:
            # Nothing to price; the polls wait for a readable copy.
            return None
        accumulator = self._book.accumulator_for(session)
        if (
            tariff.price_for(session.driver) is None
            and self._entity_id is None
            and accumulator is None
        ):
            return None
        cost = settle(
            session,
            tariff=tariff,
            accumulator=accumulator,
            finished_at=self._now(),
            price_at_end=self.price_now(),
        )
        self._book.keep(session, cost, accumulator)
        return cost
