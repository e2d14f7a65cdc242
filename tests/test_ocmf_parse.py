"""Parsing OCMF text: typed fields, inheritance, numbers as written, clear errors."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
import json
import re
from typing import Any

import pytest

from custom_components.iem_dcr.ocmf import (
    OcmfError,
    OcmfFinding,
    OcmfPayload,
    OcmfRecord,
    TimeStatus,
    parse,
    parse_signature,
)

SIGNATURE = '{"SD":"3044"}'
BEGIN = {
    "TM": "2025-01-01T12:00:00,000+0100 S",
    "TX": "B",
    "RV": "00001234.560",
    "RI": "1-b:1.8.e",
    "RU": "kWh",
    "RT": "DC",
    "EF": "",
    "ST": "G",
}


def record_text(payload: dict[str, Any] | str, signature: str = SIGNATURE) -> str:
    if not isinstance(payload, str):
        payload = json.dumps(payload)
    return f"OCMF|{payload}|{signature}"


def payload_with(*readings: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"FV": "1.0", "PG": "T7", **fields, "RD": list(readings or [BEGIN])}


def parsed(*readings: dict[str, Any], **fields: Any) -> OcmfPayload:
    return parse(record_text(payload_with(*readings, **fields))).payload


def test_surrounding_whitespace_is_dropped_and_nothing_else() -> None:
    payload = '{ "PG" : "T7",\r\n "RD" : [ {"TM":"2025-01-01T12:00:00,000+0100 S"} ] }'
    text = record_text(payload)
    record = parse(f" \t\n{text}\r\n ")
    assert record.text == text
    assert record.payload_text == payload
    assert record.signature_text == SIGNATURE


def test_fourth_section_is_the_embedded_key() -> None:
    record = parse(record_text(payload_with()) + "| 3059 3013 ")
    assert record.embedded_public_key == "3059 3013"
    assert parse(record_text(payload_with())).embedded_public_key is None


def test_every_payload_field() -> None:
    payload = parsed(
        FV="1.4",
        GI="Gateway",
        GS="GS1",
        GV="2.0",
        MV="Vendor",
        MM="Model",
        MS="MS1",
        MF="FW1",
        IS=False,
        IL="VERIFIED",
        IF=["RFID_PLAIN", "OCPP_RS_TLS", 7],
        IT="ISO14443",
        ID="04A1B2C3D4E5F6",
        TT="0,30 EUR/kWh",
        CF="CC 1.2",
        LC={"LN": "cable", "LI": 1, "LR": 1.5, "LU": "mOhm"},
        CT="EVSEID",
        CI="DE*ABC*E1*1",
        XA={"nested": [1, 2.50, "x"]},
        ZZ=None,
    )
    assert payload.format_version == "1.4"
    assert (payload.gateway_id, payload.gateway_serial, payload.gateway_version) == (
        "Gateway",
        "GS1",
        "2.0",
    )
    assert (payload.meter_vendor, payload.meter_model) == ("Vendor", "Model")
    assert (payload.meter_serial, payload.meter_firmware) == ("MS1", "FW1")
    assert payload.identification_status is False
    assert payload.identification_level == "VERIFIED"
    assert payload.identification_flags == ("RFID_PLAIN", "OCPP_RS_TLS", "7")
    assert payload.identification_type == "ISO14443"
    assert payload.identification_data == "04A1B2C3D4E5F6"
    assert payload.tariff_text == "0,30 EUR/kWh"
    assert payload.charge_controller_version == "CC 1.2"
    assert payload.loss_compensation == {
        "LN": "cable",
        "LI": 1,
        "LR": Decimal("1.5"),
        "LU": "mOhm",
    }
    assert (payload.charge_point_id_type, payload.charge_point_id) == (
        "EVSEID",
        "DE*ABC*E1*1",
    )
    assert payload.extra == {"XA": {"nested": (1, Decimal("2.5"), "x")}, "ZZ": None}
    assert str(payload.extra["XA"]["nested"][1]) == "2.5"


def test_absent_fields_are_none_or_empty() -> None:
    payload = parse(record_text({"PG": "F0", "RD": [{"TM": BEGIN["TM"]}]})).payload
    assert payload.format_version is None
    assert payload.meter_serial is None
    assert payload.identification_status is None
    assert payload.identification_flags == ()
    assert payload.loss_compensation is None
    assert payload.extra == {}
    (reading,) = payload.readings
    assert reading.reason is None
    assert reading.value is None and reading.value_text is None
    assert reading.error_flags == ""
    assert reading.status is None
    assert (payload.begin, payload.end) == (None, None)


def test_numbers_where_text_is_expected_keep_their_literal() -> None:
    text = record_text(
        '{"FV":1.0,"CT":0,"GS":17619300,"PG":"T1","RD":[{"TM":"2025-01-01T12:00:00,000+0100 S"}]}'
    )
    payload = parse(text).payload
    assert (
        payload.format_version,
        payload.charge_point_id_type,
        payload.gateway_serial,
    ) == (
        "1.0",
        "0",
        "17619300",
    )


@pytest.mark.parametrize(
    ("written", "text", "value"),
    [
        ("1264.120", "1264.120", Decimal("1264.120")),
        ("0.2596", "0.2596", Decimal("0.2596")),
        ("1.606848e7", "1.606848e7", Decimal("16068480")),
        ("-2E-3", "-2E-3", Decimal("-0.002")),
        ("0", "0", Decimal(0)),
        ('"00000446.540"', "00000446.540", Decimal("446.540")),
        ('"       9.038"', "       9.038", Decimal("9.038")),
        ('"12"', "12", Decimal(12)),
    ],
)
def test_reading_value_is_kept_as_written(
    written: str, text: str, value: Decimal
) -> None:
    payload = f'{{"PG":"T1","RD":[{{"TM":"{BEGIN["TM"]}","RV":{written}}}]}}'
    reading = parse(record_text(payload)).payload.readings[0]
    assert reading.value_text == text
    assert reading.value == value


def test_cumulated_loss() -> None:
    payload = '{"PG":"T1","RD":[{"TM":"' + BEGIN["TM"] + '","RV":1.5,"CL":0.120}]}'
    reading = parse(record_text(payload)).payload.readings[0]
    assert reading.cumulated_loss == Decimal("0.120")
    assert str(reading.cumulated_loss) == "0.120"


def test_readings_inherit_omitted_fields_but_not_the_reason() -> None:
    payload = parsed(
        BEGIN,
        {"RV": "00001240.000", "TX": "C"},
        {
            "TM": "2025-01-01T12:30:00,000+0100 S",
            "RV": "00001250.000",
            "ST": "E",
            "EF": "E",
        },
        {
            "TM": "2025-01-01T12:45:00,000+0100 S",
            "TX": "E",
            "RV": "00001260.000",
            "RI": None,
        },
    )
    first, second, third, fourth = payload.readings
    assert second.time == first.time and second.time_status is first.time_status
    for reading in (second, third, fourth):
        assert (reading.obis, reading.unit, reading.current_type) == (
            "1-b:1.8.e",
            "kWh",
            "DC",
        )
    assert (second.status, second.error_flags) == ("G", "")
    assert (third.status, third.error_flags) == ("E", "E")
    assert (fourth.status, fourth.error_flags) == ("E", "E")
    assert [r.reason for r in payload.readings] == ["B", "C", None, "E"]
    assert [r.value_text for r in payload.readings] == [
        "00001234.560",
        "00001240.000",
        "00001250.000",
        "00001260.000",
    ]


def test_begin_and_end() -> None:
    def reading(reason: str) -> dict[str, Any]:
        return {**BEGIN, "TX": reason}

    payload = parsed(
        reading("B"),
        reading("C"),
        reading("L"),
        reading("T"),
        reading("P"),
        reading("S"),
    )
    assert payload.begin is payload.readings[0]
    assert payload.end is payload.readings[4]
    for reason in "ELRAP":
        assert parsed(reading("B"), reading(reason)).end is not None
    for reason in "BCXST":
        assert parsed(reading(reason)).end is None
    assert parsed(reading("C")).begin is None


@pytest.mark.parametrize(
    ("pagination", "context", "number"),
    [("T0", "T", 0), ("T42", "T", 42), ("F7", "F", 7), ("T0012", "T", 12)],
)
def test_pagination(pagination: str, context: str, number: int) -> None:
    payload = parsed(PG=pagination)
    assert payload.pagination == pagination
    assert (payload.pagination_context, payload.pagination_number) == (context, number)


@pytest.mark.parametrize(
    ("written", "moment", "status"),
    [
        (
            "2023-01-01T12:00:00,000+0100 S",
            datetime(2023, 1, 1, 11, 0, tzinfo=UTC),
            TimeStatus.SYNCHRONIZED,
        ),
        (
            "2023-01-01T12:00:00,123-0530 I",
            datetime(2023, 1, 1, 17, 30, 0, 123000, tzinfo=UTC),
            TimeStatus.INFORMATIVE,
        ),
        (
            "2023-06-30T23:59:59,999+0000 U",
            datetime(2023, 6, 30, 23, 59, 59, 999000, tzinfo=UTC),
            TimeStatus.UNKNOWN,
        ),
        (
            "2023-06-30T23:59:59.5+02:00 R",
            datetime(2023, 6, 30, 21, 59, 59, 500000, tzinfo=UTC),
            TimeStatus.RELATIVE,
        ),
        (
            "2023-06-30T23:59:59Z S",
            datetime(2023, 6, 30, 23, 59, 59, tzinfo=UTC),
            TimeStatus.SYNCHRONIZED,
        ),
        (
            "2023-06-30T23:59:59,123456789+0000 S",
            datetime(2023, 6, 30, 23, 59, 59, 123456, tzinfo=UTC),
            TimeStatus.SYNCHRONIZED,
        ),
    ],
)
def test_time_and_its_status(
    written: str, moment: datetime, status: TimeStatus
) -> None:
    reading = parsed({"TM": written}).readings[0]
    assert reading.time == moment
    assert reading.time.utcoffset() is not None
    assert reading.time_status is status


def test_time_keeps_its_offset() -> None:
    reading = parsed({"TM": "2023-01-01T12:00:00,000-0530 I"}).readings[0]
    assert reading.time is not None
    assert reading.time.utcoffset() == -timedelta(hours=5, minutes=30)
    assert reading.time.tzinfo == timezone(-timedelta(hours=5, minutes=30))
    assert reading.time_text == "2023-01-01T12:00:00,000-0530 I"


def test_signature_section() -> None:
    record = parse(
        record_text(
            payload_with(),
            '{"SA":"ECDSA-secp384r1-SHA256","SE":"base64","SM":"application/x-der","SD":"MEUC","XV":1,"A1":"later"}',
        )
    )
    signature = record.signature
    assert signature is not None
    assert signature.algorithm == "ECDSA-secp384r1-SHA256"
    assert (signature.encoding, signature.mime_type, signature.data) == (
        "base64",
        "application/x-der",
        "MEUC",
    )
    assert signature.extra == {"XV": 1, "A1": "later"}
    defaults = parse(record_text(payload_with(), '{"SD":"00"}')).signature
    assert defaults is not None
    assert (defaults.algorithm, defaults.encoding, defaults.mime_type) == (
        "ECDSA-secp256r1-SHA256",
        "hex",
        "application/x-der",
    )
    assert parse_signature('{"SD":"00"}') == defaults


def test_parsed_objects_cannot_be_changed() -> None:
    record = parse(record_text(payload_with(XA={"k": [1]})))
    with pytest.raises(FrozenInstanceError):
        record.text = "x"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        record.payload.readings[0].value = None  # type: ignore[misc]
    with pytest.raises(TypeError):
        record.payload.extra["XA"] = 1  # type: ignore[index]
    with pytest.raises(TypeError):
        record.payload.extra["XA"]["k"] = 2


def test_a_clean_record_has_no_finding() -> None:
    assert parse(record_text(payload_with(BEGIN))).findings == ()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "does not start with 'OCMF|'"),
        ("ocmf|{}|{}", "does not start with 'OCMF|'"),
        ("OCMF {}", "does not start with 'OCMF|'"),
        ("OCMF|{}", "2 '|'-separated sections"),
        ("OCMF|{}|{}|key|more", "5 '|'-separated sections"),
        ('OCMF|{"PG":"T1",}|{}', "payload section is not valid JSON"),
        ("OCMF|[]|{}", "payload section is not a JSON object"),
        ('OCMF|"x"|{}', "payload section is not a JSON object"),
        ("OCMF|not json|{}", "payload section is not valid JSON: Expecting value at"),
        ("OCMF||{}", "payload section is not valid JSON"),
        ('OCMF|{"PG":"T1"} x|{}', "Extra data at character 13"),
        (
            'OCMF|{"PG":"T1","RD":[{"TM":"2025-01-01T12:00:00,000+0100 S","RV":NaN}]}|{}',
            "payload section is not valid JSON: Expecting value at character 62",
        ),
        ('OCMF|{"RV":-Infinity}|{}', "Expecting value"),
        ('OCMF|{"PG" "T1"}|{}', "Expecting ':' delimiter"),
        ('OCMF|{"PG":"T1" "RD":[]}|{}', "Expecting ',' delimiter"),
        ('OCMF|{"RD":[1 2]}|{}', "Expecting ',' delimiter"),
        ("OCMF|{PG:1}|{}", "Expecting property name enclosed in double quotes"),
        ('OCMF|{"PG":"T1\\x"}|{}', r"Invalid \\escape"),
        ('OCMF|{"RD":[01 x]}|{}', "not valid JSON"),
        ('OCMF|{"PG":|{}', "Expecting value"),
    ],
)
def test_what_leaves_no_payload_object_is_refused(text: str, fragment: str) -> None:
    with pytest.raises(OcmfError) as caught:
        parse(text)
    assert re.search(fragment, str(caught.value)), str(caught.value)


def codes_of(record: OcmfRecord) -> list[str]:
    return [finding.code for finding in record.findings]


def finding(record: OcmfRecord, code: str) -> OcmfFinding:
    (found,) = [item for item in record.findings if item.code == code]
    return found


@pytest.mark.parametrize(
    ("text", "code", "fragment", "affects_billing"),
    [
        ("OCMF|{}|{}| ", "embedded_key_empty", "public key section", False),
        (
            'OCMF|{"PG":"T1","RD":[]}|{"SD":}',
            "signature_unreadable",
            "signature section is not valid JSON",
            False,
        ),
        (
            'OCMF|{"PG":"T1","RD":[]}|"x"',
            "signature_unreadable",
            "signature section is not a JSON object",
            False,
        ),
        (
            'OCMF|{"PG":"T1","RD":[]}|{"SA":"x"}',
            "signature_unreadable",
            "signature SD (signature data) is missing",
            False,
        ),
        (
            'OCMF|{"PG":"T1","RD":[]}|{"SD":["00"]}',
            "signature_unreadable",
            "signature SD must be a string, not an array",
            False,
        ),
        (
            'OCMF|{"PG":"T1","RD":[]}|{"SD":"00","SA":true}',
            "signature_unreadable",
            "signature SA must be a string, not a boolean",
            False,
        ),
        (
            'OCMF|{"PG":"T1","PG":"T2","RD":[]}|{}',
            "duplicate_key",
            "payload: key 'PG' appears twice; the last value counts",
            True,
        ),
        (
            'OCMF|{"PG":"T1","RD":[{"TM":"x","TM":"y"}]}|{}',
            "duplicate_key",
            "payload RD[0]: key 'TM' appears twice",
            True,
        ),
        (
            'OCMF|{"PG":"T1","RD":[]}|{"SD":"00","SD":"01"}',
            "duplicate_key",
            "signature: key 'SD' appears twice",
            False,
        ),
        (
            'OCMF|{"PG":"T1","RD":[{"RV":0100.000}]}|{}',
            "leading_zero",
            "payload RD[0] RV: number written with a leading zero",
            False,
        ),
        (
            'OCMF|{"PG":"T1","XA":{"b c":[-00]}}|{}',
            "leading_zero",
            "payload XA 'b c'[0]: number written with a leading zero",
            False,
        ),
        ('OCMF|{"RD":[]}|{}', "pagination_missing", "payload PG (pagination)", True),
        ('OCMF|{"PG":null}|{}', "pagination_missing", "payload PG", True),
        (
            'OCMF|{"PG":"X1","RD":[]}|{}',
            "pagination_invalid",
            "payload PG 'X1' is not T or F followed by digits",
            True,
        ),
        ('OCMF|{"PG":"T-1"}|{}', "pagination_invalid", "PG 'T-1'", True),
        ('OCMF|{"PG":"T1 "}|{}', "pagination_invalid", "PG 'T1 '", True),
        ('OCMF|{"PG":"T\\u0661"}|{}', "pagination_invalid", "not T or F", True),
        (
            'OCMF|{"PG":true}|{}',
            "field_type",
            "payload PG must be a string, not a boolean; it is left out",
            True,
        ),
        ('OCMF|{"PG":"T1"}|{}', "readings_missing", "payload RD (readings)", True),
        (
            'OCMF|{"PG":"T1","RD":{}}|{}',
            "readings_missing",
            "payload RD must be an array, not an object",
            True,
        ),
        ('OCMF|{"PG":"T1","RD":[]}|{}', "readings_missing", "holds no reading", True),
        (
            'OCMF|{"PG":"T1","RD":[1]}|{}',
            "reading_invalid",
            "payload RD[0] must be an object, not a number; it is left out",
            True,
        ),
        (
            'OCMF|{"PG":"T1","RD":[{"RV":1}]}|{}',
            "time_missing",
            "payload RD[0] TM (time) is missing",
            True,
        ),
        (
            'OCMF|{"PG":"T1","XB":1e9999999999999999999999999}|{}',
            "number_out_of_range",
            "payload XB: number 1e9999999999999999999999999 is out of range",
            False,
        ),
    ],
)
def test_deviations_become_findings(
    text: str, code: str, fragment: str, affects_billing: bool
) -> None:
    record = parse(text)
    found = finding(record, code)
    assert fragment in found.message
    assert found.affects_billing is affects_billing
    assert record.text == text.strip()


def test_what_could_not_be_read_is_none() -> None:
    record = parse('OCMF|{"PG":true,"RD":{}}|{"SD":1}')
    assert record.payload.pagination is None
    assert record.payload.pagination_context is None
    assert record.payload.pagination_number is None
    assert record.payload.readings == ()
    assert record.signature is not None and record.signature.data == "1"
    invalid = parse('OCMF|{"PG":"X1","RD":[1,{"TM":"x"}]}|{"SD":"00","SE":[]}')
    assert invalid.payload.pagination == "X1"
    assert invalid.payload.pagination_number is None
    assert len(invalid.payload.readings) == 1
    assert invalid.signature is None


def test_duplicate_keys_keep_the_last_value() -> None:
    record = parse(
        'OCMF|{"PG":"T1","PG":"T2","RD":[{"TM":"'
        + BEGIN["TM"]
        + '","RV":1,"RV":2}]}|{"SD":"00","SD":"01"}'
    )
    assert record.payload.pagination == "T2"
    assert record.payload.readings[0].value == 2
    assert record.signature is not None and record.signature.data == "01"
    assert codes_of(record) == ["duplicate_key"] * 3


def test_number_with_leading_zeros_keeps_its_text() -> None:
    payload = '{"PG":"T1","RD":[{"TM":"' + BEGIN["TM"] + '","RV":0100.000,"CL":-007}]}'
    reading = parse(record_text(payload)).payload.readings[0]
    assert reading.value_text == "0100.000"
    assert reading.value == Decimal("100.000")
    assert reading.cumulated_loss == Decimal(-7)
    # Written as a string, as the IEM-DCR does, it is no deviation at all.
    quoted = payload.replace("0100.000", '"0100.000"').replace("-007", '"-007"')
    assert parse(record_text(quoted)).findings == ()


@pytest.mark.parametrize(
    ("reading", "code", "fragment"),
    [
        (
            {"TM": "2025-01-01 12:00:00,000+0100 S"},
            "time_unreadable",
            "RD[1] TM '2025-01-01 12:00:00,000+0100 S' is not of the form",
        ),
        (
            {"TM": "2025-02-30T12:00:00,000+0100 S"},
            "time_unreadable",
            "RD[1] TM '2025-02-30T12:00:00,000+0100 S' is not a valid date",
        ),
        ({"TM": "2025-01-01T24:00:00,000+0100 S"}, "time_unreadable", "valid date"),
        (
            {"TM": "2025-01-01T12:00:00,000+2400 S"},
            "time_unreadable",
            "RD[1] TM offset '+2400' is out of range",
        ),
        ({"TM": "2025-01-01T12:00:00,000+0160 S"}, "time_unreadable", "'+0160'"),
        ({"TM": 20250101}, "time_unreadable", "TM '20250101' is not of the form"),
    ],
)
def test_unreadable_time_is_kept_as_text(
    reading: dict[str, Any], code: str, fragment: str
) -> None:
    record = parse(record_text(payload_with(BEGIN, reading)))
    found = finding(record, code)
    assert fragment in found.message and found.affects_billing
    parsed_reading = record.payload.readings[1]
    assert parsed_reading.time is None
    assert parsed_reading.time_text == str(reading["TM"])
    # The status letter is read whenever the text has the right shape.
    shaped = "is not of the form" not in fragment
    assert parsed_reading.time_status is (TimeStatus.SYNCHRONIZED if shaped else None)
    assert record.payload.readings[0].time is not None


@pytest.mark.parametrize(
    ("written", "code", "fragment"),
    [
        ("2025-01-01T12:00:00,000+0100", "time_status_missing", "has no time status"),
        ("2025-01-01T12:00:00,000+0100 ", "time_status_missing", "no time status"),
        ("2025-01-01T12:00:00,000+0100 Q", "time_status_unknown", "status 'Q' is"),
        ("2025-01-01T12:00:00,000+0100 s", "time_status_unknown", "status 's' is"),
        ("2025-01-01T12:00:00,000+0100 SS", "time_status_unknown", "'SS'"),
    ],
)
def test_time_without_a_known_status_keeps_its_time(
    written: str, code: str, fragment: str
) -> None:
    record = parse(record_text(payload_with({**BEGIN, "TM": written})))
    found = finding(record, code)
    assert fragment in found.message and not found.affects_billing
    reading = record.payload.readings[0]
    assert reading.time == datetime(2025, 1, 1, 11, 0, tzinfo=UTC)
    assert reading.time_status is None
    assert reading.time_text == written


@pytest.mark.parametrize(
    ("reading", "code", "fragment", "value_text"),
    [
        ({"RV": "12,5"}, "value_unreadable", "RD[1] RV '12,5' is not a number", "12,5"),
        ({"RV": "NaN"}, "value_unreadable", "RD[1] RV 'NaN' is not a number", "NaN"),
        ({"RV": "1_000"}, "value_unreadable", "is not a number", "1_000"),
        ({"RV": ""}, "value_unreadable", "RD[1] RV '' is not a number", ""),
        (
            {"RV": True},
            "field_type",
            "RD[1] RV must be a number, not a boolean; it is left out",
            None,
        ),
        ({"CL": [1]}, "field_type", "RD[1] CL must be a number, not an array", None),
        ({"ST": ["G"]}, "field_type", "RD[1] ST must be a string, not an array", None),
        ({"EF": {}}, "field_type", "RD[1] EF must be a string, not an object", None),
    ],
)
def test_unreadable_reading_fields_are_left_out(
    reading: dict[str, Any], code: str, fragment: str, value_text: str | None
) -> None:
    record = parse(record_text(payload_with(BEGIN, {"TM": BEGIN["TM"], **reading})))
    found = finding(record, code)
    assert fragment in found.message and found.affects_billing
    second = record.payload.readings[1]
    assert second.value is None and second.value_text == value_text
    if "ST" in reading:
        assert second.status is None
    if "EF" in reading:
        assert second.error_flags == ""


def test_number_for_a_text_field_is_its_literal() -> None:
    text = record_text(payload_with(BEGIN, {"TX": 1.5, "RV": 1}))
    record = parse(text)
    assert record.payload.readings[1].reason == "1.5"
    assert record.findings == ()


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"IS": "true"}, "payload IS must be true or false, not a string"),
        ({"IF": "RFID_NONE"}, "payload IF must be an array, not a string"),
        ({"IF": ["RFID_NONE", None]}, "payload IF[1] must be a string, not null"),
        ({"IF": [["x"]]}, "payload IF[0] must be a string, not an array"),
        ({"LC": [1]}, "payload LC must be an object, not an array"),
        ({"ID": ["secret"]}, "payload ID must be a string, not an array"),
        ({"GI": False}, "payload GI must be a string, not a boolean"),
    ],
)
def test_payload_field_of_another_type_is_left_out(
    fields: dict[str, Any], fragment: str
) -> None:
    record = parse(record_text(payload_with(**fields)))
    found = finding(record, "field_type")
    assert fragment in found.message and found.affects_billing
    payload = record.payload
    left_out = {
        "IS": payload.identification_status,
        "LC": payload.loss_compensation,
        "ID": payload.identification_data,
        "GI": payload.gateway_id,
    }
    (key,) = fields
    if key == "IF":
        flags = fields["IF"] if isinstance(fields["IF"], list) else []
        assert payload.identification_flags == tuple(
            item for item in flags if isinstance(item, str)
        )
    else:
        assert left_out[key] is None


def test_findings_never_quote_identification_data() -> None:
    secret = "04A1B2C3D4E5F6"
    for reading in (
        {"TM": "bad"},
        {"RV": "bad"},
        {"TM": BEGIN["TM"], "ST": 1, "RI": []},
    ):
        record = parse(record_text(payload_with(BEGIN, reading, ID=secret)))
        assert record.findings
        assert all(secret not in item.message for item in record.findings)
    for value in ([secret], {"x": secret}, 7, True):
        record = parse(record_text(payload_with(ID=value)))
        assert all(secret not in item.message for item in record.findings)
    duplicated = '{"PG":"T1","ID":"' + secret + '","ID":"' + secret + '"}'
    assert secret not in str(parse(record_text(duplicated)).findings)
    with pytest.raises(OcmfError) as caught:
        parse(record_text('{"ID":"' + secret + '",x}'))
    assert secret not in str(caught.value)


def test_long_values_are_cut_short_in_messages() -> None:
    record = parse(record_text(payload_with({"TM": "x" * 500})))
    assert all(len(item.message) < 160 for item in record.findings)


@pytest.mark.parametrize(
    "value",
    [None, b"OCMF|{}|{}", 42, ["OCMF|{}|{}"]],
)
def test_only_text_is_parsed(value: object) -> None:
    with pytest.raises(OcmfError, match="must be text"):
        parse(value)  # type: ignore[arg-type]


def test_lone_surrogate_is_rejected() -> None:
    with pytest.raises(OcmfError, match="character 8 is not valid Unicode"):
        parse('OCMF|{"\ud800":1}|{}')


def test_escaped_lone_surrogate_is_replaced_and_pairs_are_fine() -> None:
    tm = BEGIN["TM"]
    for escaped in ("\\ud800", "x\\uDFFFx", "\\ude00\\ud83d"):
        text = f'OCMF|{{"PG":"T1","ID":"{escaped}","RD":[{{"TM":"{tm}"}}]}}|{{}}'
        record = parse(text)
        found = finding(record, "lone_surrogate")
        assert found.message.startswith("payload section escapes a lone")
        identification = record.payload.identification_data
        assert identification is not None and "\ufffd" in identification
        identification.encode("utf-8")
    text = (
        f'OCMF|{{"PG":"T1","ID":"\\ud83d\\ude00","RD":[{{"TM":"{tm}"}}]}}|{SIGNATURE}'
    )
    record = parse(text)
    assert record.payload.identification_data == "\U0001f600"
    assert record.findings == ()
    signature = '{"SD":"00","XS":["\\udbff"]}'
    record = parse(f'OCMF|{{"PG":"T1","RD":[{{"TM":"{tm}"}}]}}|{signature}')
    assert finding(record, "lone_surrogate").message.startswith("signature section")
    assert record.signature is not None
    assert record.signature.extra == {"XS": ("\ufffd",)}


def test_deep_nesting_is_rejected() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(OcmfError, match="nested too deeply"):
        parse(record_text(f'{{"PG":"T1","XA":{deep},"RD":[]}}'))
    with pytest.raises(OcmfError, match="signature section is nested too deeply"):
        parse_signature(f'{{"SD":"00","XA":{deep}}}')
    # A payload object is there: the record is read, its signature is not.
    record = parse(record_text(payload_with(), f'{{"SD":"00","XA":{deep}}}'))
    assert record.signature is None
    assert "signature section is nested too deeply" in str(record.findings)


def test_huge_numbers() -> None:
    digits = "9" * 5000
    payload = parse(
        record_text(
            f'{{"PG":"T1","XA":{digits},"XB":1e999999999999999999,"RD":[{{"TM":"{BEGIN["TM"]}","RV":{digits}}}]}}'
        )
    ).payload
    assert payload.extra["XA"] == Decimal(digits)
    assert payload.readings[0].value_text == digits
    record = parse(
        record_text(
            f'{{"PG":"T1","RD":[{{"TM":"{BEGIN["TM"]}","RV":1e9999999999999999999999}}]}}'
        )
    )
    found = finding(record, "value_unreadable")
    assert "RD[0] RV '1e9999999999999999999999' is out of range" in found.message
    assert record.payload.readings[0].value is None
    assert record.payload.readings[0].value_text == "1e9999999999999999999999"
    long_pagination = parse(record_text(payload_with(PG="T" + digits)))
    assert finding(long_pagination, "pagination_invalid")
    assert long_pagination.payload.pagination_number is None
