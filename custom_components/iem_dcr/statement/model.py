"""What a statement says, before it is worded in a language or rendered."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
import hashlib
import re
from typing import Any

from custom_components.iem_dcr.pricing import (
    GapKind,
    PriceMethod,
    Reconciliation,
    SessionCost,
    priced_at,
    unpriced,
)
from custom_components.iem_dcr.sessions import Session, Verdict

from .texts import LANGUAGES

_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})+")
_ZERO = Decimal(0)
_OUTAGES = frozenset(
    {GapKind.MISSED_POLLS, GapKind.BEFORE_FIRST_POLL, GapKind.AFTER_LAST_POLL}
)


class StatementError(ValueError):
    """The statement cannot be made from this input; nothing was written."""


@dataclass(frozen=True)
class Period:
    """The half-open time range [start, end) whose sessions (by begin) count."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        """Refuse naive times and empty ranges."""
        if self.start.utcoffset() is None or self.end.utcoffset() is None:
            raise StatementError("the period needs timezone-aware start and end")
        if self.end <= self.start:
            raise StatementError("the period must end after it starts")

    @classmethod
    def month(cls, year: int, month: int, zone: tzinfo) -> Period:
        """Return a calendar month in `zone`."""
        try:
            first = date(year, month, 1)
        except ValueError as err:
            raise StatementError(f"no such month: {year}-{month}") from err
        following = date(year + month // 12, month % 12 + 1, 1)
        return cls.days(first, following - timedelta(days=1), zone)

    @classmethod
    def days(cls, first: date, last: date, zone: tzinfo) -> Period:
        """Return the days `first` to `last` (both included) in `zone`."""
        if last < first:
            raise StatementError("the last day is before the first")
        return cls(
            datetime.combine(first, time(), zone),
            datetime.combine(last + timedelta(days=1), time(), zone),
        )

    def contains(self, moment: datetime) -> bool:
        """Return whether `moment` lies in [start, end)."""
        return self.start <= moment < self.end

    def calendar_month(self, zone: tzinfo) -> tuple[int, int] | None:
        """Return (year, month) when the period is exactly one month in `zone`."""
        start = self.start.astimezone(zone)
        if start.time() != time() or start.day != 1:
            return None
        if Period.month(start.year, start.month, zone) != self:
            return None
        return start.year, start.month

    def days_in(self, zone: tzinfo) -> tuple[date, date]:
        """Return the first and the last day the period touches in `zone`."""
        last = (self.end - timedelta(microseconds=1)).astimezone(zone).date()
        return self.start.astimezone(zone).date(), last


@dataclass(frozen=True)
class MeterInfo:
    """The meter that signed the sessions, as the statement names it."""

    make: str
    model: str
    serial: str
    public_key: str
    fingerprint: str = ""

    def __post_init__(self) -> None:
        """Fill in the fingerprint when it was not given."""
        if not self.fingerprint:
            object.__setattr__(self, "fingerprint", key_fingerprint(self.public_key))


@dataclass(frozen=True)
class StatementPricing:
    """How the statement prices its sessions.

    `flat_rate` None: each session's own price and cost (as settled when it
    ended). A flat rate (per kWh, e.g. the yearly rate for tax-free refunds)
    prices every session at that rate instead.
    """

    flat_rate: Decimal | None = None

    def __post_init__(self) -> None:
        """Refuse a rate that is not a finite number."""
        if self.flat_rate is not None and not (
            isinstance(self.flat_rate, Decimal) and self.flat_rate.is_finite()
        ):
            raise StatementError("the flat rate must be a finite number")


class RemarkKind(StrEnum):
    """Something a reader must know about one session."""

    INVALID = "invalid"
    UNCHECKED = "unchecked"
    UNREADABLE = "unreadable"
    FINDING = "finding"
    TPS = "tps"
    NO_PRICE = "no_price"
    NOT_SETTLED = "not_settled"
    GAP = "gap"
    PRICE_UNAVAILABLE = "price_unavailable"
    UNMATCHED = "unmatched"
    SCALED = "scaled"
    NOT_IN_XML = "not_in_xml"


@dataclass(frozen=True)
class Remark:
    """A remark and its values (numbers stay Decimal until worded)."""

    kind: RemarkKind
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StatementRow:
    """One session as the statement shows it."""

    session: Session
    cost: SessionCost
    remarks: tuple[Remark, ...]

    @property
    def energy_kwh(self) -> Decimal | None:
        """Return the signed energy."""
        return self.session.energy_kwh


@dataclass(frozen=True)
class StatementTotals:
    """The sums of a statement; costs add the sessions' rounded costs."""

    sessions: int
    energy_kwh: Decimal
    cost: Decimal
    verified_sessions: int
    verified_energy_kwh: Decimal
    verified_cost: Decimal
    unpriced_sessions: int
    currency: str

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable copy (amounts as exact text)."""
        return {
            "sessions": self.sessions,
            "energy_kwh": str(self.energy_kwh),
            "cost": str(self.cost),
            "verified_sessions": self.verified_sessions,
            "verified_energy_kwh": str(self.verified_energy_kwh),
            "verified_cost": str(self.verified_cost),
            "unpriced_sessions": self.unpriced_sessions,
            "currency": self.currency,
        }


@dataclass(frozen=True, kw_only=True)
class Statement:
    """Everything a statement shows, in no particular language yet."""

    meter: MeterInfo
    period: Period
    driver: str | None
    pricing: StatementPricing
    rows: tuple[StatementRow, ...]
    totals: StatementTotals
    currency: str
    language: str
    zone: tzinfo
    note: str
    created_at: datetime
    xml_name: str

    @property
    def per_driver_column(self) -> bool:
        """Return whether the rows need a driver column (not one driver's)."""
        return self.driver is None


def build_statement(
    sessions: Iterable[Session],
    *,
    meter: MeterInfo,
    period: Period,
    driver: str | None,
    pricing: StatementPricing,
    currency: str,
    language: str,
    zone: tzinfo,
    note: str,
    created_at: datetime,
    xml_name: str,
    not_in_xml: frozenset[int] = frozenset(),
) -> Statement:
    """Select the period's sessions (by begin) of `driver` (None: all) and sum up.

    `not_in_xml` holds the sequences of sessions the XML could not take.
    """
    if language not in LANGUAGES:
        raise StatementError(
            f"unsupported language {language!r}; use one of {', '.join(LANGUAGES)}"
        )
    if not currency.strip():
        raise StatementError("the currency is missing")
    if created_at.utcoffset() is None:
        raise StatementError("the creation time must be timezone-aware")
    chosen = select_sessions(sessions, period=period, driver=driver)
    rows = tuple(
        _row(session, pricing, in_xml=session.sequence not in not_in_xml)
        for session in chosen
    )
    return Statement(
        meter=meter,
        period=period,
        driver=driver,
        pricing=pricing,
        rows=rows,
        totals=_totals(rows, currency),
        currency=currency,
        language=language,
        zone=zone,
        note=note.strip(),
        created_at=created_at,
        xml_name=xml_name,
    )


def select_sessions(
    sessions: Iterable[Session], *, period: Period, driver: str | None
) -> list[Session]:
    """Return the sessions that begin in the period, of one driver or all."""
    chosen = [
        session
        for session in sessions
        if period.contains(session.starts_at)
        and (driver is None or session.driver == driver)
    ]
    chosen.sort(key=lambda session: (session.starts_at, session.sequence))
    return chosen


def key_fingerprint(public_key: str) -> str:
    """Return the SHA-256 of the key (its DER bytes when hex), in groups of four."""
    compact = "".join(public_key.split())
    if not compact:
        return ""
    data = (
        bytes.fromhex(compact) if _HEX.fullmatch(compact) else compact.encode("utf-8")
    )
    digest = hashlib.sha256(data).hexdigest().upper()
    return " ".join(digest[index : index + 4] for index in range(0, len(digest), 4))


# --- rows and totals --------------------------------------------------------------


def _row(session: Session, pricing: StatementPricing, *, in_xml: bool) -> StatementRow:
    if pricing.flat_rate is not None:
        cost = priced_at(
            session.energy_kwh, pricing.flat_rate, PriceMethod.FLAT_RATE, settled=True
        )
    else:
        cost = session.cost or unpriced(session.energy_kwh)
    remarks = _verdict_remarks(session)
    if pricing.flat_rate is None:
        remarks.extend(_price_remarks(session, cost))
    if not in_xml:
        remarks.append(Remark(RemarkKind.NOT_IN_XML))
    return StatementRow(session=session, cost=cost, remarks=tuple(remarks))


def _verdict_remarks(session: Session) -> list[Remark]:
    remarks = []
    verdict = session.verdict
    if verdict is Verdict.UNREADABLE:
        return [Remark(RemarkKind.UNREADABLE, {"error": session.parse_error})]
    if verdict is Verdict.INVALID:
        remarks.append(Remark(RemarkKind.INVALID))
    elif verdict is Verdict.UNCHECKED:
        remarks.append(Remark(RemarkKind.UNCHECKED))
    remarks.extend(
        Remark(RemarkKind.FINDING, {"code": finding.code, "message": finding.message})
        for finding in session.findings
    )
    if session.tps.compatible is False:
        remarks.append(
            Remark(RemarkKind.TPS, {"reason": session.tps.reason or "unknown reason"})
        )
    return remarks


def _price_remarks(session: Session, cost: SessionCost) -> list[Remark]:
    if session.energy_kwh is None:
        return []
    if cost.cost is None:
        return [Remark(RemarkKind.NO_PRICE)]
    remarks = []
    if not cost.settled:
        remarks.append(Remark(RemarkKind.NOT_SETTLED))
    for gap in cost.gaps:
        values = {"energy": gap.energy_kwh, "price": gap.price_per_kwh}
        if gap.kind in _OUTAGES:
            remarks.append(Remark(RemarkKind.GAP, values))
        elif gap.kind is GapKind.PRICE_UNAVAILABLE:
            remarks.append(Remark(RemarkKind.PRICE_UNAVAILABLE, values))
        else:
            remarks.append(Remark(RemarkKind.UNMATCHED, values))
    if cost.reconciliation is Reconciliation.SCALED:
        remarks.append(
            Remark(
                RemarkKind.SCALED,
                {"polled": cost.polled_energy_kwh, "signed": cost.energy_kwh},
            )
        )
    return remarks


def _totals(rows: tuple[StatementRow, ...], currency: str) -> StatementTotals:
    energy = cost = verified_energy = verified_cost = _ZERO
    verified = unpriced_count = 0
    for row in rows:
        row_energy = row.energy_kwh or _ZERO
        row_cost = row.cost.cost
        energy += row_energy
        if row_cost is None:
            unpriced_count += 1
        else:
            cost += row_cost
        if row.session.verdict is Verdict.VALID:
            verified += 1
            verified_energy += row_energy
            verified_cost += row_cost or _ZERO
    return StatementTotals(
        sessions=len(rows),
        energy_kwh=energy,
        cost=cost,
        verified_sessions=verified,
        verified_energy_kwh=verified_energy,
        verified_cost=verified_cost,
        unpriced_sessions=unpriced_count,
        currency=currency,
    )
