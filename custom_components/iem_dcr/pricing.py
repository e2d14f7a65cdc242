"""What a charging session costs: fixed prices, driver prices and price entities.

No Home Assistant in here: the caller reads the price entity and the meter, and
persists what `CostAccumulator.to_dict` and `SessionCost.to_dict` return.

How a session is priced, in order:
1. The driver has a price of their own: signed energy x that price.
2. The meter has a fixed price: signed energy x that price.
3. The meter's price comes from an entity: while the transaction runs, the
   caller feeds each poll (time, register, price) to a `CostAccumulator`; the
   energy between two polls is priced at the price in force at the first of
   them. When the signed tuple of that transaction is stored, the caller
   finishes the accumulator with that tuple's session: the tuple is matched by
   the caller, who knows which transaction it just ended. The signed energy is
   what is billed; see `CostAccumulator.finish` for how the polled energy is
   reconciled to it.

Money is `Decimal` and rounded once per session to the cent, half up (the
commercial rule in Germany); totals add the rounded session costs, so a
statement adds up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Self

COST_FORMAT_VERSION = 1
ACCUMULATOR_FORMAT_VERSION = 1

CENT = Decimal("0.01")
# Enough places that the average price reproduces the cost to the cent.
_PRICE_PLACES = Decimal("0.000001")
# Default longest pause between two polls that is still a poll and not a gap;
# the caller sets it from its poll interval.
DEFAULT_MAX_POLL_INTERVAL = timedelta(seconds=30)
# The meter's clock and Home Assistant's may differ by this much.
CLOCK_TOLERANCE = timedelta(seconds=60)
# A polled register and a signed one may differ by rounding: two steps of the
# meter's 1 Wh resolution (the transaction register and the difference of two
# truncated total registers round differently).
REGISTER_TOLERANCE = Decimal("0.002")
_ZERO = Decimal(0)


class PriceMethod(StrEnum):
    """How a session's price per kWh was found."""

    DRIVER = "driver"  # the driver's own price
    FIXED = "fixed"  # the meter's fixed price
    ENTITY = "entity"  # energy-weighted from a price entity's values
    FLAT_RATE = "flat_rate"  # one rate for a whole statement (e.g. a tax flat rate)
    NONE = "none"  # no price is known


class GapKind(StrEnum):
    """Why part of a session's energy was not priced poll by poll."""

    MISSED_POLLS = "missed_polls"  # no poll for longer than the poll interval
    PRICE_UNAVAILABLE = "price_unavailable"  # the price entity had no value
    BEFORE_FIRST_POLL = "before_first_poll"  # began before polling saw it
    AFTER_LAST_POLL = "after_last_poll"  # ended while polling was stopped
    UNOBSERVED = "unobserved"  # no poll during the whole session


class RegisterKind(StrEnum):
    """Which register the accumulator is fed with."""

    TRANSACTION = "transaction"  # starts at 0 when the transaction begins
    TOTAL = "total"  # the lifetime import register the begin reading signs


class Reconciliation(StrEnum):
    """How the polled energy was brought to the signed energy."""

    EXACT = "exact"  # polled energy plus the edges before/after is the signed energy
    SCALED = (
        "scaled"  # polls and signed data disagree: cost scaled to the signed energy
    )
    UNMATCHED = "unmatched"  # no usable polls: all energy at the price at the end


class PricingError(ValueError):
    """A sample, a price or stored pricing data that cannot be used."""


@dataclass(frozen=True, kw_only=True)
class PriceGap:
    """Energy priced at one price because polls or prices were missing."""

    kind: GapKind
    start: datetime | None
    end: datetime | None
    energy_kwh: Decimal
    price_per_kwh: Decimal | None  # None while no price is known yet

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable copy."""
        return {
            "kind": self.kind.value,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "energy_kwh": str(self.energy_kwh),
            "price_per_kwh": _text(self.price_per_kwh),
        }

    @classmethod
    def from_dict(cls, data: Any) -> PriceGap:
        """Read what `to_dict` wrote; raise PricingError for anything else."""
        record = _mapping(data, "gap")
        return cls(
            kind=_enum(GapKind, record.get("kind"), "gap kind"),
            start=_optional_time(record.get("start"), "gap start"),
            end=_optional_time(record.get("end"), "gap end"),
            energy_kwh=_decimal(record.get("energy_kwh"), "gap energy"),
            price_per_kwh=_optional_decimal(record.get("price_per_kwh"), "gap price"),
        )


@dataclass(frozen=True, kw_only=True)
class SessionCost:
    """The price and cost of one session.

    `settled` is True when the cost was fixed as the session ended (with the
    price in force then); False when it is computed now, with today's tariff.
    `price_per_kwh` is the price used, or for an entity the average price
    (cost / energy, unrounded cost). `cost` is rounded to the cent.
    """

    method: PriceMethod
    energy_kwh: Decimal | None
    price_per_kwh: Decimal | None
    cost: Decimal | None
    settled: bool
    gaps: tuple[PriceGap, ...] = ()
    reconciliation: Reconciliation | None = None
    polled_energy_kwh: Decimal | None = None  # entity: energy the polls saw

    @property
    def gap_energy_kwh(self) -> Decimal:
        """Return the energy priced through gaps (Home Assistant was not polling)."""
        return sum((gap.energy_kwh for gap in self.gaps if _is_outage(gap)), _ZERO)

    @property
    def has_gap(self) -> bool:
        """Return whether part of the energy was priced without polls."""
        return any(_is_outage(gap) for gap in self.gaps)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable copy (Decimals as text, exact)."""
        return {
            "format": COST_FORMAT_VERSION,
            "method": self.method.value,
            "energy_kwh": _text(self.energy_kwh),
            "price_per_kwh": _text(self.price_per_kwh),
            "cost": _text(self.cost),
            "settled": self.settled,
            "gaps": [gap.to_dict() for gap in self.gaps],
            "reconciliation": (
                self.reconciliation.value if self.reconciliation is not None else None
            ),
            "polled_energy_kwh": _text(self.polled_energy_kwh),
        }

    @classmethod
    def from_dict(cls, data: Any) -> SessionCost:
        """Read what `to_dict` wrote; raise PricingError for anything else."""
        record = _mapping(data, "session cost")
        _check_format(record, COST_FORMAT_VERSION, "session cost")
        settled = record.get("settled")
        if not isinstance(settled, bool):
            raise PricingError("session cost: 'settled' must be true or false")
        gaps = record.get("gaps", [])
        if not isinstance(gaps, list):
            raise PricingError("session cost: 'gaps' must be a list")
        reconciliation = record.get("reconciliation")
        return cls(
            method=_enum(PriceMethod, record.get("method"), "price method"),
            energy_kwh=_optional_decimal(record.get("energy_kwh"), "energy"),
            price_per_kwh=_optional_decimal(record.get("price_per_kwh"), "price"),
            cost=_optional_decimal(record.get("cost"), "cost"),
            settled=settled,
            gaps=tuple(PriceGap.from_dict(gap) for gap in gaps),
            reconciliation=(
                None
                if reconciliation is None
                else _enum(Reconciliation, reconciliation, "reconciliation")
            ),
            polled_energy_kwh=_optional_decimal(
                record.get("polled_energy_kwh"), "polled energy"
            ),
        )


@dataclass(frozen=True)
class Tariff:
    """A meter's price settings.

    `fixed_price` per kWh, or None when the price comes from an entity (then
    the session needs a `CostAccumulator`). `driver_prices` maps a driver's
    name to their own price per kWh, which overrides the meter's price.
    """

    fixed_price: Decimal | None = None
    driver_prices: Mapping[str, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Refuse prices that are not finite numbers."""
        if self.fixed_price is not None:
            _check_price(self.fixed_price, "fixed price")
        for name, price in self.driver_prices.items():
            _check_price(price, f"price of driver {name!r}")

    def price_for(self, driver: str | None) -> tuple[PriceMethod, Decimal] | None:
        """Return the price that applies without polls, or None (entity price)."""
        if driver is not None and driver in self.driver_prices:
            return PriceMethod.DRIVER, self.driver_prices[driver]
        if self.fixed_price is not None:
            return PriceMethod.FIXED, self.fixed_price
        return None


def round_cost(amount: Decimal) -> Decimal:
    """Round an amount to the cent, half up (0.005 -> 0.01, -0.005 -> -0.01)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def priced_at(
    energy_kwh: Decimal | None,
    price_per_kwh: Decimal,
    method: PriceMethod,
    *,
    settled: bool,
) -> SessionCost:
    """Price the energy at one price per kWh."""
    _check_price(price_per_kwh, "price")
    cost = None if energy_kwh is None else round_cost(energy_kwh * price_per_kwh)
    return SessionCost(
        method=method,
        energy_kwh=energy_kwh,
        price_per_kwh=price_per_kwh,
        cost=cost,
        settled=settled,
    )


def unpriced(energy_kwh: Decimal | None, *, settled: bool = False) -> SessionCost:
    """Return the cost of a session whose price is not known."""
    return SessionCost(
        method=PriceMethod.NONE,
        energy_kwh=energy_kwh,
        price_per_kwh=None,
        cost=None,
        settled=settled,
    )


@dataclass(kw_only=True)
class _Poll:
    time: datetime
    register: Decimal
    price: Decimal | None


class CostAccumulator:
    """Energy-weighted cost of one running transaction, from its polls.

    Feed `add` with every poll while the transaction runs. Energy between two
    polls is priced at the price of the first one (the price in force while it
    flowed). After a pause longer than `max_poll_interval` (Home Assistant was
    not running), the energy of the pause is priced at the price at its end
    and kept as a gap. Energy while the price is unknown waits for the next
    known price, and is kept as a gap too.
    """

    def __init__(
        self,
        *,
        register_kind: RegisterKind,
        max_poll_interval: timedelta = DEFAULT_MAX_POLL_INTERVAL,
    ) -> None:
        """Start an empty accumulator."""
        if max_poll_interval <= timedelta(0):
            raise PricingError("the longest poll interval must be positive")
        self.register_kind = register_kind
        self.max_poll_interval = max_poll_interval
        self._first: _Poll | None = None
        self._last: _Poll | None = None
        self._polled_energy = _ZERO  # energy between the first and the last poll
        self._cost = _ZERO  # exact cost of the energy already priced
        self._gaps: list[PriceGap] = []

    @property
    def samples_seen(self) -> bool:
        """Return whether any poll was added."""
        return self._first is not None

    @property
    def polled_span(self) -> tuple[datetime, datetime] | None:
        """Return the times of the first and the last poll (None before any)."""
        if self._first is None or self._last is None:
            return None
        return self._first.time, self._last.time

    @property
    def polled_energy_kwh(self) -> Decimal:
        """Return the energy between the first and the last poll."""
        return self._polled_energy

    @property
    def gaps(self) -> tuple[PriceGap, ...]:
        """Return the gaps so far (a gap's price is None until one is known)."""
        return tuple(self._gaps)

    def add(self, time: datetime, register_kwh: Decimal, price: Decimal | None) -> None:
        """Add one poll: its time, the register in kWh and the price in force.

        Raises PricingError, and changes nothing, for a poll older than the last
        one, a register that went down (a new transaction: finish this one
        first), or a value that is not a finite number.
        """
        if time.utcoffset() is None:
            raise PricingError("the poll time must be timezone-aware")
        register = _finite(register_kwh, "register")
        if register < 0:
            raise PricingError("the register must not be negative")
        if price is not None:
            price = _check_price(price, "price")
        poll = _Poll(time=time, register=register, price=price)
        last = self._last
        if last is None:
            self._first = self._last = poll
            return
        if time < last.time:
            raise PricingError(
                f"poll at {time.isoformat()} is older than the last one "
                f"({last.time.isoformat()})"
            )
        if register < last.register:
            raise PricingError(
                f"register went down from {last.register} to {register} kWh: "
                "a new transaction began; finish this one first"
            )
        energy = register - last.register
        self._polled_energy += energy
        if time - last.time > self.max_poll_interval:
            if energy:
                self._gaps.append(
                    PriceGap(
                        kind=GapKind.MISSED_POLLS,
                        start=last.time,
                        end=time,
                        energy_kwh=energy,
                        price_per_kwh=None,
                    )
                )
        elif energy and last.price is not None:
            self._cost += energy * last.price
        elif energy:
            self._note_unknown_price(last.time, time, energy)
        self._last = poll
        if price is not None:
            self._price_open_gaps(price)

    def finish(
        self,
        *,
        energy_kwh: Decimal | None,
        begin_register_kwh: Decimal | None,
        begin_time: datetime | None,
        finished_at: datetime,
        price_at_end: Decimal | None,
    ) -> SessionCost:
        """Price the signed energy of the transaction these polls belong to.

        `energy_kwh`, `begin_register_kwh` and `begin_time` come from the signed
        tuple; `finished_at` is when the tuple was stored and `price_at_end` the
        price then. The signed energy is what is billed:

        - exact: signed energy = energy before the first poll (priced at the
          first known price) + polled energy + energy after the last poll
          (priced at the last poll's price, or at `price_at_end` when the last
          poll is longer ago than the poll interval: a gap). Polled and signed
          registers may differ by rounding (`REGISTER_TOLERANCE`).
        - scaled: when polls and signed data disagree (an edge would be
          negative, or the begin register is unknown for a total register),
          the polled cost is scaled to the signed energy.
        - unmatched: no poll saw energy; everything at `price_at_end`.

        Without `price_at_end` (the entity has no value), the last polled price
        is used; with no price at all the cost is unknown (method NONE).

        The accumulator is not changed and can be finished again.
        """
        if energy_kwh is None:
            return unpriced(None, settled=True)
        energy = _finite(energy_kwh, "signed energy")
        end_price = price_at_end if price_at_end is not None else self._last_price()
        first, last = self._first, self._last
        if first is None or last is None:
            return self._all_at_end(energy, finished_at, end_price)
        head = self._head_energy(first, begin_register_kwh)
        tail = None if head is None else energy - head - self._polled_energy
        if head is None or tail is None or min(head, tail) < -REGISTER_TOLERANCE:
            if self._polled_energy <= 0:
                return self._all_at_end(energy, finished_at, end_price)
            return self._scaled(energy, end_price)

        # An edge of a few Wh below zero is rounding between the polled and the
        # signed register; it is priced like any edge, so the sum stays exact.
        cost = self._cost
        gaps = list(self._gaps)
        if head:
            late = head > 0 and (
                begin_time is None
                or first.time - begin_time > self.max_poll_interval + CLOCK_TOLERANCE
            )
            price = self._first_known_price()
            if price is not None:
                cost += head * price
            if late or price is None:
                kind = GapKind.BEFORE_FIRST_POLL if late else GapKind.PRICE_UNAVAILABLE
                gaps.insert(0, _gap(kind, begin_time, first.time, head, price))
        if tail:
            late = tail > 0 and finished_at - last.time > self.max_poll_interval
            price = None if late else last.price
            if price is not None:
                cost += tail * price
            else:
                kind = GapKind.AFTER_LAST_POLL if late else GapKind.PRICE_UNAVAILABLE
                gaps.append(_gap(kind, last.time, finished_at, tail, None))
        return self._settle(energy, cost, gaps, end_price)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable copy, to persist across restarts."""
        return {
            "format": ACCUMULATOR_FORMAT_VERSION,
            "register_kind": self.register_kind.value,
            "max_poll_interval": self.max_poll_interval.total_seconds(),
            "first": _poll_dict(self._first),
            "last": _poll_dict(self._last),
            "polled_energy_kwh": str(self._polled_energy),
            "cost": str(self._cost),
            "gaps": [gap.to_dict() for gap in self._gaps],
        }

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Read what `to_dict` wrote; raise PricingError for anything else."""
        record = _mapping(data, "cost accumulator")
        _check_format(record, ACCUMULATOR_FORMAT_VERSION, "cost accumulator")
        interval = record.get("max_poll_interval")
        if isinstance(interval, bool) or not isinstance(interval, int | float):
            raise PricingError("cost accumulator: invalid 'max_poll_interval'")
        try:
            max_poll_interval = timedelta(seconds=interval)
        except (ValueError, OverflowError):
            raise PricingError(
                "cost accumulator: invalid 'max_poll_interval'"
            ) from None
        accumulator = cls(
            register_kind=_enum(
                RegisterKind, record.get("register_kind"), "register kind"
            ),
            max_poll_interval=max_poll_interval,
        )
        first = _read_poll(record.get("first"), "first poll")
        last = _read_poll(record.get("last"), "last poll")
        if (first is None) != (last is None):
            raise PricingError("cost accumulator: first and last poll go together")
        gaps = record.get("gaps")
        if not isinstance(gaps, list):
            raise PricingError("cost accumulator: 'gaps' must be a list")
        accumulator._first, accumulator._last = first, last
        accumulator._polled_energy = _decimal(
            record.get("polled_energy_kwh"), "polled energy"
        )
        accumulator._cost = _decimal(record.get("cost"), "cost")
        accumulator._gaps = [PriceGap.from_dict(gap) for gap in gaps]
        return accumulator

    # --- internals ------------------------------------------------------------------

    def _note_unknown_price(
        self, start: datetime, end: datetime, energy: Decimal
    ) -> None:
        previous = self._gaps[-1] if self._gaps else None
        if (
            previous is not None
            and previous.kind is GapKind.PRICE_UNAVAILABLE
            and previous.price_per_kwh is None
            and previous.end == start
        ):
            self._gaps[-1] = PriceGap(
                kind=GapKind.PRICE_UNAVAILABLE,
                start=previous.start,
                end=end,
                energy_kwh=previous.energy_kwh + energy,
                price_per_kwh=None,
            )
            return
        self._gaps.append(
            PriceGap(
                kind=GapKind.PRICE_UNAVAILABLE,
                start=start,
                end=end,
                energy_kwh=energy,
                price_per_kwh=None,
            )
        )

    def _price_open_gaps(self, price: Decimal) -> None:
        for index, gap in enumerate(self._gaps):
            if gap.price_per_kwh is None:
                self._gaps[index] = _priced(gap, price)
                self._cost += gap.energy_kwh * price

    def _first_known_price(self) -> Decimal | None:
        if self._first is not None and self._first.price is not None:
            return self._first.price
        return next(
            (gap.price_per_kwh for gap in self._gaps if gap.price_per_kwh is not None),
            None,
        )

    def _last_price(self) -> Decimal | None:
        return self._last.price if self._last is not None else None

    def _head_energy(
        self, first: _Poll, begin_register: Decimal | None
    ) -> Decimal | None:
        if self.register_kind is RegisterKind.TRANSACTION:
            return first.register
        if begin_register is None:
            return None
        return first.register - begin_register

    def _scaled(self, energy: Decimal, end_price: Decimal | None) -> SessionCost:
        """Scale the polled cost to the signed energy (polls and tuple disagree)."""
        cost = self._cost
        gaps = []
        for gap in self._gaps:
            if gap.price_per_kwh is None:
                if end_price is None:
                    return self._unknown(energy, self._gaps, Reconciliation.SCALED)
                gap = _priced(gap, end_price)
                cost += gap.energy_kwh * end_price
            gaps.append(gap)
        exact = cost * energy / self._polled_energy
        return self._cost_of(energy, exact, gaps, Reconciliation.SCALED)

    def _all_at_end(
        self, energy: Decimal, finished_at: datetime, end_price: Decimal | None
    ) -> SessionCost:
        """No poll saw energy of this session: all of it at the price at the end."""
        gaps = [_gap(GapKind.UNOBSERVED, None, finished_at, energy, end_price)]
        if not energy:
            gaps = []
        if end_price is None:
            return self._unknown(energy, gaps, Reconciliation.UNMATCHED)
        return self._cost_of(energy, energy * end_price, gaps, Reconciliation.UNMATCHED)

    def _settle(
        self,
        energy: Decimal,
        cost: Decimal,
        gaps: list[PriceGap],
        end_price: Decimal | None,
    ) -> SessionCost:
        """Price the gaps still open at the price at the end."""
        priced = []
        for gap in gaps:
            if gap.price_per_kwh is None:
                if end_price is None:
                    return self._unknown(energy, gaps, Reconciliation.EXACT)
                gap = _priced(gap, end_price)
                cost += gap.energy_kwh * end_price
            priced.append(gap)
        return self._cost_of(energy, cost, priced, Reconciliation.EXACT)

    def _cost_of(
        self,
        energy: Decimal,
        exact_cost: Decimal,
        gaps: list[PriceGap],
        reconciliation: Reconciliation,
    ) -> SessionCost:
        return SessionCost(
            method=PriceMethod.ENTITY,
            energy_kwh=energy,
            price_per_kwh=_average(exact_cost, energy),
            cost=round_cost(exact_cost),
            settled=True,
            gaps=tuple(gaps),
            reconciliation=reconciliation,
            polled_energy_kwh=self._polled_energy if self._first else None,
        )

    def _unknown(
        self,
        energy: Decimal,
        gaps: list[PriceGap] | tuple[PriceGap, ...],
        reconciliation: Reconciliation,
    ) -> SessionCost:
        return SessionCost(
            method=PriceMethod.NONE,
            energy_kwh=energy,
            price_per_kwh=None,
            cost=None,
            settled=True,
            gaps=tuple(gaps),
            reconciliation=reconciliation,
            polled_energy_kwh=self._polled_energy if self._first else None,
        )


# --- helpers ----------------------------------------------------------------------


def _is_outage(gap: PriceGap) -> bool:
    return gap.kind is not GapKind.PRICE_UNAVAILABLE


def _gap(
    kind: GapKind,
    start: datetime | None,
    end: datetime | None,
    energy: Decimal,
    price: Decimal | None,
) -> PriceGap:
    return PriceGap(
        kind=kind, start=start, end=end, energy_kwh=energy, price_per_kwh=price
    )


def _priced(gap: PriceGap, price: Decimal | None) -> PriceGap:
    return PriceGap(
        kind=gap.kind,
        start=gap.start,
        end=gap.end,
        energy_kwh=gap.energy_kwh,
        price_per_kwh=price,
    )


def _average(cost: Decimal, energy: Decimal) -> Decimal | None:
    if not energy:
        return None
    return (cost / energy).quantize(_PRICE_PLACES, rounding=ROUND_HALF_UP)


def _finite(value: Any, name: str) -> Decimal:
    if not isinstance(value, Decimal):
        raise PricingError(f"the {name} must be a Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise PricingError(f"the {name} must be a finite number")
    return value


def _check_price(value: Any, name: str) -> Decimal:
    # Negative prices are real (dynamic tariffs in hours of surplus).
    return _finite(value, name)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _mapping(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise PricingError(f"{what} must be an object")
    return data


def _check_format(record: Mapping[str, Any], version: int, what: str) -> None:
    found = record.get("format")
    if found != version or isinstance(found, bool):
        raise PricingError(f"{what}: unsupported format {found!r} (expected {version})")


def _enum[E: StrEnum](kind: type[E], value: Any, what: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise PricingError(f"invalid {what} {value!r}") from None


def _decimal(value: Any, what: str) -> Decimal:
    if not isinstance(value, str):
        raise PricingError(f"invalid {what}: expected a number as text")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise PricingError(f"invalid {what} {value[:40]!r}") from None
    if not number.is_finite():
        raise PricingError(f"invalid {what} {value[:40]!r}")
    return number


def _optional_decimal(value: Any, what: str) -> Decimal | None:
    return None if value is None else _decimal(value, what)


def _optional_time(value: Any, what: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise PricingError(f"invalid {what}: expected ISO 8601 text")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise PricingError(f"invalid {what} {value[:40]!r}") from None
    if moment.utcoffset() is None:
        raise PricingError(f"invalid {what}: no time zone")
    return moment


def _poll_dict(poll: _Poll | None) -> dict[str, Any] | None:
    if poll is None:
        return None
    return {
        "time": poll.time.isoformat(),
        "register_kwh": str(poll.register),
        "price_per_kwh": _text(poll.price),
    }


def _read_poll(data: Any, what: str) -> _Poll | None:
    if data is None:
        return None
    record = _mapping(data, what)
    time = _optional_time(record.get("time"), f"{what} time")
    if time is None:
        raise PricingError(f"{what}: the time is missing")
    return _Poll(
        time=time,
        register=_decimal(record.get("register_kwh"), f"{what} register"),
        price=_optional_decimal(record.get("price_per_kwh"), f"{what} price"),
    )
