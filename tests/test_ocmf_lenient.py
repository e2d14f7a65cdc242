"""Genuine records with odd content: read leniently, reported, and still verified.

The signature covers the payload bytes as sent; what the content says is a
matter for the findings and the calibration-law issues, never for the verdict.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from custom_components.iem_dcr.ocmf import (
    eichrecht_issues,
    parse,
    tps_compatibility,
    verify_signature,
)
from tests.test_ocmf_verify import PAYLOAD, sign

BEGIN_TIME = '"TM":"2025-01-01T12:00:00,000+0100 S"'
END_TIME = '"TM":"2025-01-01T12:45:10,500+0100 S"'

# (name, edit of the payload, finding code, whether it keeps the record from billing)
DEVIATIONS = [
    (
        "impossible time",
        lambda p: p.replace(BEGIN_TIME, '"TM":"2025-02-30T12:00:00,000+0100 S"'),
        "time_unreadable",
        True,
    ),
    (
        "time of another form",
        lambda p: p.replace(BEGIN_TIME, '"TM":"01.01.2025 12:00"'),
        "time_unreadable",
        True,
    ),
    (
        "time without its status letter",
        lambda p: p.replace(END_TIME, '"TM":"2025-01-01T12:45:10,500+0100"'),
        "time_status_missing",
        False,
    ),
    ("missing PG", lambda p: p.replace('"PG":"T42",', ""), "pagination_missing", True),
    (
        "duplicate key",
        lambda p: p.replace('"PG":"T42"', '"PG":"T41","PG":"T42"'),
        "duplicate_key",
        True,
    ),
    (
        "number with a leading zero",
        lambda p: p.replace('"RV":1264.120', '"RV":01264.120'),
        "leading_zero",
        False,
    ),
    (
        "reading value that is no number",
        lambda p: p.replace('"RV":1264.120', '"RV":"1264,120"'),
        "value_unreadable",
        True,
    ),
    (
        "field of another type",
        lambda p: p.replace('"IS":true', '"IS":"yes"'),
        "field_type",
        True,
    ),
]


@pytest.mark.parametrize(
    ("edit", "code", "affects_billing"),
    [pytest.param(*case[1:], id=case[0]) for case in DEVIATIONS],
)
def test_deviation_is_a_finding_and_the_record_still_verifies(
    edit: Callable[[str], str], code: str, affects_billing: bool
) -> None:
    payload = edit(PAYLOAD)
    assert payload != PAYLOAD
    signed = sign(payload=payload)
    record = parse(signed.text)
    assert code in [finding.code for finding in record.findings]
    assert record.text == signed.text
    assert verify_signature(record, signed.key_hex) is True
    assert verify_signature(signed.text, signed.key_hex) is True
    tampered = signed.text.replace('"CI":"DE*ABC*E123456*1"', '"CI":"DE*ABC*E123456*2"')
    assert verify_signature(tampered, signed.key_hex) is False
    law_codes = [issue.code for issue in eichrecht_issues(record)]
    assert (code in law_codes) is affects_billing


def test_the_same_record_without_deviation_has_no_finding() -> None:
    signed = sign()
    record = parse(signed.text)
    assert record.findings == ()
    assert eichrecht_issues(record) == []
    assert tps_compatibility(record, signed.key_hex).compatible


def test_unreadable_times_are_left_out_of_the_order_check() -> None:
    payload = PAYLOAD.replace(BEGIN_TIME, '"TM":"later"')
    record = parse(sign(payload=payload).text)
    begin, end = record.payload.readings
    assert begin.time is None and begin.time_text == "later"
    assert end.time is not None
    codes = [issue.code for issue in eichrecht_issues(record)]
    assert codes == ["time_unreadable"]


def test_a_record_without_readings_is_still_a_record() -> None:
    payload = '{"FV":"1.0","PG":"T7","RD":"none"}'
    signed = sign(payload=payload)
    record = parse(signed.text)
    assert record.payload.readings == ()
    assert record.payload.begin is None and record.payload.end is None
    codes = [issue.code for issue in eichrecht_issues(record)]
    assert codes == ["readings_missing", "no_begin", "no_end"]
    assert verify_signature(record, signed.key_hex) is True
