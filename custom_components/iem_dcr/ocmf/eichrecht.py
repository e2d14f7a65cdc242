"""Calibration-law (Eichrecht) checks of one record, as the Transparenzsoftware does.

Sources: ocmf.md 1 (what a verifier must reject) and 8 (the Transparenzsoftware's
law checks). The signature is not checked here: see `verify_signature`. What the
lenient parser had to read past and that keeps a record from being billed (an
unreadable time, no pagination, a key written twice) comes first.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .model import BEGIN_REASON, END_REASONS, OcmfReading, OcmfRecord

_STATUS_OK = "G"
_ENERGY_UNUSABLE = "E"
_TIME_UNUSABLE = "t"
_EXCEPTION_REASON = "X"
_ERROR_LEVELS = frozenset({"MISMATCH", "INVALID", "OUTDATED", "UNKNOWN"})
_STATUS_MEANINGS = {
    "N": "not present",
    "T": "timeout",
    "D": "disconnected",
    "R": "not found",
    "M": "manipulated",
    "X": "exchanged",
    "I": "incompatible",
    "O": "out of range",
    "S": "substitute value",
    "E": "other error",
    "F": "read error",
}


@dataclass(frozen=True)
class EichrechtIssue:
    """A reason why a record must not be used for billing."""

    code: str
    message: str


def eichrecht_issues(record: OcmfRecord) -> list[EichrechtIssue]:
    """Return what keeps the record from being billed; empty when nothing does."""
    payload = record.payload
    readings = payload.readings
    issues = [
        EichrechtIssue(finding.code, finding.message)
        for finding in record.findings
        if finding.affects_billing
    ]
    issues.extend(_begin_and_end(readings))
    for index, reading in enumerate(readings):
        issues.extend(_reading_errors(index, reading))
    issues.extend(_decreases(readings))
    begin, end = payload.begin, payload.end
    if begin is not None and end is not None:
        issues.extend(_begin_end_mismatch(begin, end))
    level = (payload.identification_level or "").strip()
    if level in _ERROR_LEVELS:
        issues.append(
            EichrechtIssue(
                "identification_error",
                f"the identification level is {level}, an error level",
            )
        )
    return issues


def _begin_and_end(readings: tuple[OcmfReading, ...]) -> list[EichrechtIssue]:
    begins = [i for i, r in enumerate(readings) if r.reason == BEGIN_REASON]
    ends = [i for i, r in enumerate(readings) if r.reason in END_REASONS]
    issues = []
    if not begins:
        issues.append(EichrechtIssue("no_begin", "no reading begins a transaction"))
    elif len(begins) > 1:
        issues.append(
            EichrechtIssue(
                "several_begins",
                f"{len(begins)} readings begin a transaction: {_numbers(begins)}",
            )
        )
    if not ends:
        issues.append(EichrechtIssue("no_end", "no reading ends a transaction"))
    elif len(ends) > 1:
        issues.append(
            EichrechtIssue(
                "several_ends",
                f"{len(ends)} readings end a transaction: {_numbers(ends)}",
            )
        )
    if begins and ends and ends[-1] < begins[0]:
        issues.append(
            EichrechtIssue("end_before_begin", "the end reading precedes the begin")
        )
    return issues


def _reading_errors(index: int, reading: OcmfReading) -> list[EichrechtIssue]:
    name = _name(index)
    issues = []
    if reading.status != _STATUS_OK:
        meaning = _STATUS_MEANINGS.get(reading.status or "", "not OK")
        issues.append(
            EichrechtIssue(
                "meter_status",
                f"{name} has meter status {reading.status or 'none'} ({meaning})",
            )
        )
    if _ENERGY_UNUSABLE in reading.error_flags:
        issues.append(
            EichrechtIssue(
                "energy_unusable", f"{name} flags the energy as unusable (EF E)"
            )
        )
    if _TIME_UNUSABLE in reading.error_flags:
        issues.append(
            EichrechtIssue("time_unusable", f"{name} flags the time as unusable (EF t)")
        )
    if reading.reason == _EXCEPTION_REASON:
        issues.append(
            EichrechtIssue(
                "exception_reading",
                f"{name} reports an error during charging (TX X): time or energy "
                "are unusable from there on",
            )
        )
    return issues


def _decreases(readings: tuple[OcmfReading, ...]) -> list[EichrechtIssue]:
    issues = []
    last_values: dict[tuple[str | None, str | None], tuple[int, Decimal]] = {}
    for index, reading in enumerate(readings):
        time, previous_time = reading.time, readings[index - 1].time
        # A time that could not be read is already a finding of its own.
        if index and time and previous_time and time < previous_time:
            issues.append(
                EichrechtIssue(
                    "time_decreasing",
                    f"{_name(index)} is earlier than {_name(index - 1)}",
                )
            )
        if reading.value is None:
            continue
        register = (reading.obis, reading.unit)
        previous = last_values.get(register)
        if previous is not None and reading.value < previous[1]:
            issues.append(
                EichrechtIssue(
                    "value_decreasing",
                    f"{_name(index)} value {reading.value_text} is lower than "
                    f"{_name(previous[0])} value {readings[previous[0]].value_text}",
                )
            )
        last_values[register] = (index, reading.value)
    return issues


def _begin_end_mismatch(begin: OcmfReading, end: OcmfReading) -> list[EichrechtIssue]:
    issues = []
    for which, reading in (("begin", begin), ("end", end)):
        if reading.value is None:
            issues.append(
                EichrechtIssue("missing_value", f"the {which} reading has no value")
            )
    if begin.unit != end.unit:
        issues.append(
            EichrechtIssue(
                "unit_mismatch",
                f"begin unit {begin.unit} differs from end unit {end.unit}",
            )
        )
    if begin.obis != end.obis:
        issues.append(
            EichrechtIssue(
                "obis_mismatch",
                f"begin OBIS code {begin.obis} differs from end OBIS code {end.obis}",
            )
        )
    return issues


def _name(index: int) -> str:
    return f"reading {index + 1}"


def _numbers(indexes: list[int]) -> str:
    return ", ".join(str(i + 1) for i in indexes)
