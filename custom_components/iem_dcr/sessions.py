"""Charging sessions, computed from the stored signed tuples.

Every stored tuple is one session. Everything a session says comes from the
tuple's signed data (times, registers, identification), from what the ledger
recorded (signature verdict, public key) or from the caller (driver names,
prices, Transparenzsoftware compatibility): nothing is stored here.

No Home Assistant in here, and no import of the ledger: anything with the
attributes of `StoredTuple` will do. A tuple whose OCMF text does not parse is
still a session (its times are then those of the ledger, its energy unknown).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
import logging
from typing import Protocol

from .ocmf import (
    OcmfError,
    OcmfReading,
    OcmfRecord,
    eichrecht_issues,
    parse,
    verify_signature,
)
from .pricing import (
    CostAccumulator,
    RegisterKind,
    SessionCost,
    Tariff,
    priced_at,
    unpriced,
)

_LOGGER = logging.getLogger(__name__)

_NO_TIME = timedelta(0)


class StoredTuple(Protocol):
    """What a session reads from a ledger entry."""

    @property
    def sequence(self) -> int:
        """Position in the ledger; unique per meter and never reused."""

    @property
    def recorded_at(self) -> datetime:
        """When Home Assistant stored the tuple (timezone-aware)."""

    @property
    def ocmf(self) -> str:
        """The signed tuple, verbatim."""

    @property
    def public_key(self) -> str:
        """The meter's public key the tuple was stored with ("" if unknown)."""

    @property
    def signature_valid(self) -> bool | None:
        """The verdict when stored; None when no key was available."""


@dataclass(frozen=True)
class TpsVerdict:
    """Whether the S.A.F.E. Transparenzsoftware can check a tuple, and why not."""

    compatible: bool | None
    reason: str | None = None


type TpsCheck = Callable[[OcmfRecord, str], TpsVerdict]
type DriverResolver = Callable[[str], str | None]

UNKNOWN_TPS = TpsVerdict(None)


class Verdict(StrEnum):
    """What a reader of a statement learns about a session's signed data."""

    VALID = "valid"  # signature matches, no calibration-law finding
    FINDINGS = "findings"  # signature matches, but a calibration-law finding
    INVALID = "invalid"  # signature does not match the key (tampered or wrong key)
    UNCHECKED = "unchecked"  # no public key to check with
    UNREADABLE = "unreadable"  # the OCMF text cannot be read


@dataclass(frozen=True)
class Finding:
    """A reason why a session's signed data must not be billed as is."""

    code: str
    message: str


@dataclass(frozen=True, kw_only=True)
class Session:
    """One charging session: one stored signed tuple, read.

    `begin` and `end` are meter times from the signed readings (with the
    meter's offset). `energy_kwh` is end minus begin register, exact.
    `identification_data` is personal data (an RFID UID, usually): it is kept
    out of the repr so that logging a session never shows it.
    """

    sequence: int
    recorded_at: datetime
    ocmf: str = field(repr=False)
    public_key: str = field(repr=False)
    pagination: str | None
    meter_serial: str | None
    begin: datetime | None
    end: datetime | None
    begin_register_kwh: Decimal | None
    end_register_kwh: Decimal | None
    energy_kwh: Decimal | None
    identification_type: str | None
    identification_data: str | None = field(repr=False)
    driver: str | None
    signature_valid: bool | None
    tps: TpsVerdict
    findings: tuple[Finding, ...]
    parse_error: str | None
    cost: SessionCost | None = None

    @property
    def label(self) -> str:
        """Return how a reader finds this session in the signed data (e.g. "T7")."""
        return self.pagination or f"#{self.sequence}"

    @property
    def starts_at(self) -> datetime:
        """Return the begin, or when it was stored if the tuple has no begin time."""
        return self.begin or self.end or self.recorded_at

    @property
    def ends_at(self) -> datetime:
        """Return the end (never before `starts_at`)."""
        end = self.end or self.starts_at
        return max(end, self.starts_at)

    @property
    def verdict(self) -> Verdict:
        """Return the verdict a reader sees."""
        if self.parse_error is not None:
            return Verdict.UNREADABLE
        if self.signature_valid is None:
            return Verdict.UNCHECKED
        if not self.signature_valid:
            return Verdict.INVALID
        return Verdict.FINDINGS if self.findings else Verdict.VALID


def session_from_tuple(
    entry: StoredTuple,
    *,
    resolve_driver: DriverResolver | None = None,
    tps_check: TpsCheck | None = None,
    verify: bool = False,
) -> Session:
    """Read one stored tuple.

    `resolve_driver` maps identification data (ID) to a driver's name.
    `tps_check` tells whether the Transparenzsoftware can check the record.
    With `verify`, the signature is checked again now; otherwise the stored
    verdict is used, and checked now only when none was stored.
    """
    try:
        record = parse(entry.ocmf)
    except OcmfError as err:
        return _unreadable(entry, str(err))

    payload = record.payload
    begin, end = payload.begin, payload.end
    begin_register, begin_findings = _register(begin, "begin")
    end_register, end_findings = _register(end, "end")
    findings = _eichrecht_issues(record) + begin_findings + end_findings
    energy = None
    if begin_register is not None and end_register is not None:
        energy = end_register - begin_register
        if energy < 0:
            findings.append(
                Finding(
                    "negative_energy",
                    "the end register is lower than the begin register",
                )
            )
            energy = None
    identification = payload.identification_data or None
    return Session(
        sequence=entry.sequence,
        recorded_at=entry.recorded_at,
        ocmf=entry.ocmf,
        public_key=entry.public_key,
        pagination=payload.pagination,
        meter_serial=payload.meter_serial or payload.gateway_serial,
        begin=begin.time if begin is not None else None,
        end=end.time if end is not None else None,
        begin_register_kwh=begin_register,
        end_register_kwh=end_register,
        energy_kwh=energy,
        identification_type=payload.identification_type,
        identification_data=identification,
        driver=(
            resolve_driver(identification)
            if resolve_driver is not None and identification is not None
            else None
        ),
        signature_valid=_signature_verdict(entry, record, verify=verify),
        tps=tps_check(record, entry.public_key) if tps_check else UNKNOWN_TPS,
        findings=tuple(findings),
        parse_error=None,
    )


def build_sessions(
    entries: Iterable[StoredTuple],
    *,
    resolve_driver: DriverResolver | None = None,
    tps_check: TpsCheck | None = None,
    tariff: Tariff | None = None,
    costs: Mapping[int, SessionCost] | None = None,
    verify: bool = False,
) -> list[Session]:
    """Read stored tuples into priced sessions, in ledger order.

    `costs` maps a ledger sequence to the cost settled when that session
    ended (see `settle`); a session without one is priced with `tariff` as it
    is now (`SessionCost.settled` is then False).
    """
    return [
        with_cost(
            session_from_tuple(
                entry,
                resolve_driver=resolve_driver,
                tps_check=tps_check,
                verify=verify,
            ),
            tariff=tariff,
            costs=costs or {},
        )
        for entry in entries
    ]


def with_cost(
    session: Session,
    *,
    tariff: Tariff | None,
    costs: Mapping[int, SessionCost],
) -> Session:
    """Return the session with its settled cost, or priced with today's tariff."""
    settled = costs.get(session.sequence)
    if settled is not None and settled.energy_kwh == session.energy_kwh:
        return replace(session, cost=settled)
    if settled is not None:
        # Cannot happen unless the stored costs belong to another ledger.
        _LOGGER.warning(
            "Stored cost of session %s is for %s kWh, but its tuple signs %s kWh; "
            "priced with the current tariff instead",
            session.label,
            settled.energy_kwh,
            session.energy_kwh,
        )
    price = tariff.price_for(session.driver) if tariff is not None else None
    if price is None:
        return replace(session, cost=unpriced(session.energy_kwh))
    method, per_kwh = price
    return replace(
        session, cost=priced_at(session.energy_kwh, per_kwh, method, settled=False)
    )


def settle(
    session: Session,
    *,
    tariff: Tariff,
    accumulator: CostAccumulator | None,
    finished_at: datetime,
    price_at_end: Decimal | None,
) -> SessionCost:
    """Fix the cost of a session that just ended; keep it under its `sequence`.

    A driver's own price or the meter's fixed price wins; otherwise the
    accumulator of the transaction this tuple ended (None when there was
    none: then all energy is priced at `price_at_end`).
    """
    price = tariff.price_for(session.driver)
    if price is not None:
        method, per_kwh = price
        return priced_at(session.energy_kwh, per_kwh, method, settled=True)
    if accumulator is None:
        accumulator = CostAccumulator(register_kind=RegisterKind.TRANSACTION)
    return accumulator.finish(
        energy_kwh=session.energy_kwh,
        begin_register_kwh=session.begin_register_kwh,
        begin_time=session.begin,
        finished_at=finished_at,
        price_at_end=price_at_end,
    )


class SessionIndex:
    """Sessions ordered by begin, for cheap range queries (a calendar's).

    A query looks only at sessions that begin between the query's start minus
    the longest session and its end: O(log n + k), k the sessions returned
    (plus the few that began shortly before).
    """

    def __init__(self, sessions: Iterable[Session] = ()) -> None:
        """Index `sessions`."""
        self._sessions = sorted(sessions, key=_order)
        self._starts = [session.starts_at for session in self._sessions]
        self._longest = max(
            (_duration(session) for session in self._sessions), default=_NO_TIME
        )

    def add(self, session: Session) -> None:
        """Add a session (usually the newest, which is cheap)."""
        index = bisect_right(self._sessions, _order(session), key=_order)
        self._sessions.insert(index, session)
        self._starts.insert(index, session.starts_at)
        self._longest = max(self._longest, _duration(session))

    def overlapping(self, start: datetime, end: datetime) -> list[Session]:
        """Return sessions that overlap [start, end), ordered by begin.

        A session of no duration overlaps when it lies in [start, end).
        """
        low = bisect_left(self._starts, start - self._longest)
        high = bisect_left(self._starts, end)
        return [
            session
            for session in self._sessions[low:high]
            if session.ends_at > start
            or (session.ends_at == session.starts_at and session.starts_at >= start)
        ]

    def starting_in(self, start: datetime, end: datetime) -> list[Session]:
        """Return sessions that begin in [start, end), ordered by begin."""
        low = bisect_left(self._starts, start)
        high = bisect_left(self._starts, end)
        return self._sessions[low:high]

    def __iter__(self) -> Iterator[Session]:
        """Iterate over the sessions, ordered by begin."""
        return iter(self._sessions)

    def __len__(self) -> int:
        """Return the number of sessions."""
        return len(self._sessions)


# --- helpers ----------------------------------------------------------------------


def _order(session: Session) -> tuple[datetime, int]:
    return session.starts_at, session.sequence


def _duration(session: Session) -> timedelta:
    return session.ends_at - session.starts_at


def _unreadable(entry: StoredTuple, error: str) -> Session:
    return Session(
        sequence=entry.sequence,
        recorded_at=entry.recorded_at,
        ocmf=entry.ocmf,
        public_key=entry.public_key,
        pagination=None,
        meter_serial=None,
        begin=None,
        end=None,
        begin_register_kwh=None,
        end_register_kwh=None,
        energy_kwh=None,
        identification_type=None,
        identification_data=None,
        driver=None,
        signature_valid=entry.signature_valid,
        tps=TpsVerdict(False, "the OCMF text cannot be read"),
        findings=(Finding("unreadable", f"the OCMF text cannot be read: {error}"),),
        parse_error=error,
    )


def _eichrecht_issues(record: OcmfRecord) -> list[Finding]:
    try:
        issues = eichrecht_issues(record)
    except OcmfError as err:
        return [Finding("check_failed", f"the calibration-law check failed: {err}")]
    return [Finding(issue.code, issue.message) for issue in issues]


def _register(
    reading: OcmfReading | None, which: str
) -> tuple[Decimal | None, list[Finding]]:
    """Return the reading's register in kWh, exact, or why there is none."""
    if reading is None:
        return None, []  # eichrecht_issues reports the missing begin or end
    value, unit = reading.value, (reading.unit or "").strip()
    if value is None:
        return None, []  # eichrecht_issues reports the missing value
    if unit.lower() == "kwh":
        return value, []
    if unit.lower() == "wh":
        return value.scaleb(-3), []
    return None, [
        Finding(
            "energy_unit",
            f"the {which} reading's unit {unit or 'none'!r} is not kWh or Wh",
        )
    ]


def _signature_verdict(
    entry: StoredTuple, record: OcmfRecord, *, verify: bool
) -> bool | None:
    stored = entry.signature_valid
    if (stored is not None and not verify) or not entry.public_key:
        return stored
    try:
        return verify_signature(record, entry.public_key)
    except OcmfError:
        return stored
