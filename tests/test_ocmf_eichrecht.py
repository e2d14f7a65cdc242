"""Calibration-law checks: what keeps a record from being billed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from typing import Any

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.iem_dcr.ocmf import (
    EichrechtIssue,
    OcmfRecord,
    eichrecht_issues,
    parse,
)

START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def tm(minutes: float) -> str:
    moment = START + timedelta(minutes=minutes)
    return (
        moment.strftime("%Y-%m-%dT%H:%M:%S,")
        + f"{moment.microsecond // 1000:03d}+0000 S"
    )


def reading(
    reason: str | None, minutes: float, value: str, **fields: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "TM": tm(minutes),
        "RV": value,
        "RI": "1-b:1.8.e",
        "RU": "kWh",
        "EF": "",
        "ST": "G",
    }
    if reason is not None:
        data["TX"] = reason
    data.update(fields)
    return {key: item for key, item in data.items() if item is not None}


def record(*readings: dict[str, Any], **fields: Any) -> OcmfRecord:
    payload = {
        "FV": "1.0",
        "PG": "T9",
        "MS": "1ISA0200001132",
        "IS": True,
        "IL": "VERIFIED",
        **fields,
        "RD": list(readings),
    }
    return parse(f'OCMF|{json.dumps(payload)}|{{"SD":"00"}}')


CLEAN = (reading("B", 0, "00000446.540"), reading("E", 30, "00000452.120"))


def codes(issues: list[EichrechtIssue]) -> list[str]:
    return [issue.code for issue in issues]


def test_clean_transaction_has_no_issue() -> None:
    assert eichrecht_issues(record(*CLEAN)) == []


def test_intermediate_readings_are_fine() -> None:
    readings = (
        CLEAN[0],
        reading("C", 10, "00000448.000"),
        reading("T", 15, "00000449.000"),
        reading("S", 20, "00000450.000"),
        reading(None, 25, "00000451.000"),
        CLEAN[1],
    )
    assert eichrecht_issues(record(*readings)) == []


@pytest.mark.parametrize(
    ("readings", "expected"),
    [
        ((CLEAN[1],), ["no_begin"]),
        ((CLEAN[0],), ["no_end"]),
        ((reading("C", 0, "1"),), ["no_begin", "no_end"]),
        ((CLEAN[0], reading("B", 10, "00000447.000"), CLEAN[1]), ["several_begins"]),
        ((CLEAN[0], reading("L", 10, "00000447.000"), CLEAN[1]), ["several_ends"]),
        ((reading("E", 0, "1"), reading("B", 0, "1")), ["end_before_begin"]),
        ((CLEAN[0], reading("E", 30, "00000446.000")), ["value_decreasing"]),
        ((CLEAN[0], reading("E", -1, "00000452.120")), ["time_decreasing"]),
        ((CLEAN[0], reading("E", 30, "00000452.120", ST="M")), ["meter_status"]),
        (
            (reading("B", 0, "1", ST="S"), reading("E", 1, "2", ST=None)),
            ["meter_status", "meter_status"],
        ),
        ((CLEAN[0], reading("X", 10, "00000447.000"), CLEAN[1]), ["exception_reading"]),
        ((CLEAN[0], reading("E", 30, "00000452.120", EF="E")), ["energy_unusable"]),
        (
            (reading("B", 0, "1", EF="tE"), reading("E", 1, "2", EF="")),
            ["energy_unusable", "time_unusable"],
        ),
        ((CLEAN[0], reading("E", 30, "00000452.120", RU="Wh")), ["unit_mismatch"]),
        (
            (CLEAN[0], reading("E", 30, "00000452.120", RI="1-b:2.8.e")),
            ["obis_mismatch"],
        ),
        ((CLEAN[0], {"TM": tm(30), "TX": "E", "ST": "G"}), ["missing_value"]),
    ],
)
def test_each_defect_is_reported(
    readings: tuple[dict[str, Any], ...], expected: list[str]
) -> None:
    assert codes(eichrecht_issues(record(*readings))) == expected


def test_messages_name_the_reading() -> None:
    readings = (CLEAN[0], reading("C", 10, "00000447.000", ST="M"), CLEAN[1])
    (issue,) = eichrecht_issues(record(*readings))
    assert issue.code == "meter_status"
    assert issue.message == "reading 2 has meter status M (manipulated)"
    (issue,) = eichrecht_issues(record(CLEAN[0], reading("E", 30, "00000446.000")))
    assert (
        issue.message
        == "reading 2 value 00000446.000 is lower than reading 1 value 00000446.540"
    )


def test_values_are_compared_per_register() -> None:
    # Import and export registers read at begin and end (LEM DCBM): an export
    # register lower than the import register is no decrease.
    readings = (
        CLEAN[0],
        reading(None, 0, "4.405", RI="1-b:2.8.e"),
        CLEAN[1],
        reading(None, 30, "4.405", RI="1-b:2.8.e"),
    )
    assert eichrecht_issues(record(*readings)) == []
    export_falls = (*readings, reading(None, 31, "4.400", RI="1-b:2.8.e"))
    assert codes(eichrecht_issues(record(*export_falls))) == ["value_decreasing"]


def test_values_compare_as_numbers_not_text() -> None:
    readings = (reading("B", 0, "9.5"), reading("E", 1, "10.25"))
    assert eichrecht_issues(record(*readings)) == []
    readings = (reading("B", 0, "       9.038"), reading("E", 1, "1.1e1"))
    assert eichrecht_issues(record(*readings)) == []


def test_times_compare_across_offsets() -> None:
    readings = (
        reading("B", 0, "1", TM="2025-03-01T10:00:00,000+0100 S"),
        reading("E", 1, "2", TM="2025-03-01T09:30:00,000+0000 S"),
    )
    assert eichrecht_issues(record(*readings)) == []
    readings = (
        reading("B", 0, "1", TM="2025-03-01T10:00:00,000+0000 S"),
        reading("E", 1, "2", TM="2025-03-01T10:30:00,000+0100 S"),
    )
    assert codes(eichrecht_issues(record(*readings))) == ["time_decreasing"]


@pytest.mark.parametrize(
    "level", ["MISMATCH", "INVALID", "OUTDATED", "UNKNOWN", " INVALID "]
)
def test_identification_error_levels(level: str) -> None:
    issues = eichrecht_issues(record(*CLEAN, IL=level))
    assert codes(issues) == ["identification_error"]
    assert level.strip() in issues[0].message


@pytest.mark.parametrize(
    "level", ["NONE", "HEARSAY", "TRUSTED", "VERIFIED", "CERTIFIED", "SECURE", None]
)
def test_identification_levels_that_are_fine(level: str | None) -> None:
    assert eichrecht_issues(record(*CLEAN, IL=level)) == []


def test_messages_never_carry_identification_data() -> None:
    secret = "04A1B2C3D4E5F6"
    bad = record(
        reading("C", 0, "2", ST="M", EF="Et", TX="X"),
        reading("A", -1, "1"),
        ID=secret,
        IL="INVALID",
    )
    issues = eichrecht_issues(bad)
    assert len(issues) >= 5
    assert all(secret not in issue.message for issue in issues)


def kwh(wh: int) -> str:
    return f"{wh // 1000:08d}.{wh % 1000:03d}"


# A transaction of random length, values and times, free of defects.
@st.composite
def clean_transaction(draw: st.DrawFn) -> list[dict[str, Any]]:
    steps = draw(
        st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 3600)), max_size=8)
    )
    reasons = draw(
        st.lists(
            st.sampled_from(["C", "S", "T", None]),
            min_size=len(steps),
            max_size=len(steps),
        )
    )
    value, minutes = draw(st.integers(0, 10**9)), 0.0
    readings = [reading("B", minutes, kwh(value))]
    for (energy, seconds), reason in zip(steps, reasons, strict=True):
        value, minutes = value + energy, minutes + seconds / 60
        readings.append(reading(reason, minutes, kwh(value)))
    value, minutes = (
        value + draw(st.integers(0, 10**6)),
        minutes + draw(st.integers(0, 3600)) / 60,
    )
    readings.append(reading(draw(st.sampled_from("ELRAP")), minutes, kwh(value)))
    return readings


@settings(max_examples=100, deadline=None)
@given(clean_transaction())
def test_clean_transactions_have_no_issue(readings: list[dict[str, Any]]) -> None:
    assert eichrecht_issues(record(*readings)) == []


DEFECTS: dict[str, tuple[str, Any]] = {
    "meter_status": ("ST", "E"),
    "energy_unusable": ("EF", "E"),
    "time_unusable": ("EF", "t"),
    "exception_reading": ("TX", "X"),
}


@settings(max_examples=100, deadline=None)
@given(clean_transaction(), st.sampled_from(sorted(DEFECTS)), st.data())
def test_a_planted_defect_is_found(
    readings: list[dict[str, Any]], code: str, data: st.DataObject
) -> None:
    key, value = DEFECTS[code]
    # The exception reason replaces a reading in the middle; flags may sit anywhere.
    first = 1 if key == "TX" else 0
    if first >= len(readings) - 1:
        readings.insert(
            1, reading("C", 0, readings[0]["RV"]) | {"TM": readings[0]["TM"]}
        )
    index = data.draw(st.integers(first, len(readings) - 1 - first))
    readings[index] = {**readings[index], key: value}
    found = eichrecht_issues(record(*readings))
    assert code in codes(found)
    assert f"reading {index + 1} " in next(i.message for i in found if i.code == code)
