"""The real-world records of ocmf-samples.txt: each gets the verdict of its REFERENCE line."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from decimal import Decimal
import json
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
import pytest

from custom_components.iem_dcr.ocmf import (
    OcmfError,
    TimeStatus,
    eichrecht_issues,
    parse,
    verify_signature,
)

SAMPLES_FILE = Path(__file__).parents[1].parent / "shared/data/ocmf-samples.txt"


@dataclass(frozen=True)
class Sample:
    """One block of the samples file."""

    number: int
    ocmf: str
    public_key: str
    valid: bool

    @property
    def der_key(self) -> bytes | None:
        """The key's bytes when it is a DER SubjectPublicKeyInfo (hex or base64)."""
        for decode in (bytes.fromhex, base64.b64decode):
            try:
                data = decode(self.public_key)
                serialization.load_der_public_key(data)
            except (ValueError, UnsupportedAlgorithm):
                continue
            return data
        return None


def load_samples() -> list[Sample]:
    """Read every `=== SAMPLE n` block with its OCMF, key and REFERENCE verdict."""
    samples = []
    blocks = SAMPLES_FILE.read_text(encoding="utf-8").split("\n=== SAMPLE ")[1:]
    for block in blocks:
        number, *lines = block.splitlines()
        fields = dict(line.split(": ", 1) for line in lines if ": " in line)
        verdict = fields["REFERENCE"].split()[0]
        assert verdict in {"VALID", "INVALID"}, fields["REFERENCE"]
        samples.append(
            Sample(
                number=int(number),
                ocmf=fields["OCMF"],
                public_key=fields["PUBLIC_KEY"],
                valid=verdict == "VALID",
            )
        )
    return samples


SAMPLES = load_samples()
BY_NUMBER = {sample.number: sample for sample in SAMPLES}
VALID = [sample for sample in SAMPLES if sample.valid]


def sample_id(sample: Sample) -> str:
    return f"sample{sample.number}"


def test_samples_file_is_read_completely() -> None:
    assert [s.number for s in SAMPLES] == list(range(1, len(SAMPLES) + 1))
    assert len(SAMPLES) >= 11
    assert any(not s.valid for s in SAMPLES)


@pytest.mark.parametrize("sample", SAMPLES, ids=sample_id)
def test_reference_verdict(sample: Sample) -> None:
    assert verify_signature(sample.ocmf, sample.public_key) is sample.valid


@pytest.mark.parametrize("sample", SAMPLES, ids=sample_id)
def test_real_records_need_no_lenient_reading(sample: Sample) -> None:
    assert parse(sample.ocmf).findings == ()


@pytest.mark.parametrize("sample", SAMPLES, ids=sample_id)
def test_record_keeps_the_text_it_was_given(sample: Sample) -> None:
    record = parse(f"\n  {sample.ocmf}\r\n")
    assert record.text == sample.ocmf
    header, rest = sample.ocmf.split("|", 1)
    assert header == "OCMF"
    assert rest.startswith(record.payload_text + "|" + record.signature_text)
    assert json.loads(record.payload_text) == json.loads(
        rest[: len(record.payload_text)]
    )
    assert record.embedded_public_key is None
    assert verify_signature(record, sample.public_key) is sample.valid


@pytest.mark.parametrize("sample", SAMPLES, ids=sample_id)
def test_verdict_holds_with_the_key_written_differently(sample: Sample) -> None:
    compact = sample.public_key
    if all(c in "0123456789abcdefABCDEF" for c in compact):
        data = bytes.fromhex(compact)
        grouped = " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
        variants = [
            compact.lower(),
            compact.upper(),
            grouped.replace(" ", "\n", 3),
            "\t" + grouped + " \n",
            base64.b64encode(data).decode(),
        ]
    else:
        data = base64.b64decode(compact)
        variants = [data.hex(), data.hex().upper(), compact[:20] + "\n" + compact[20:]]
    for variant in variants:
        assert verify_signature(sample.ocmf, variant) is sample.valid, variant


@pytest.mark.parametrize(
    "sample", [s for s in SAMPLES if s.der_key is not None], ids=sample_id
)
def test_verdict_holds_with_the_key_as_a_raw_point(sample: Sample) -> None:
    assert sample.der_key is not None
    key = serialization.load_der_public_key(sample.der_key)
    assert isinstance(key, ec.EllipticCurvePublicKey)
    point = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    compressed = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    for raw in (point, point[1:], compressed):
        assert verify_signature(sample.ocmf, raw.hex()) is sample.valid


@pytest.mark.parametrize("sample", SAMPLES, ids=sample_id)
def test_verdict_holds_with_the_key_embedded(sample: Sample) -> None:
    assert verify_signature(f"{sample.ocmf}|{sample.public_key}") is sample.valid


@pytest.mark.parametrize("sample", SAMPLES, ids=sample_id)
def test_verdict_holds_with_the_signature_in_base64(sample: Sample) -> None:
    # The signature section is not signed: rewriting it must not change the verdict.
    header, payload, signature_text = sample.ocmf.split("|")
    signature = json.loads(signature_text)
    signature["SD"] = base64.b64encode(bytes.fromhex(signature["SD"])).decode()
    signature["SE"] = "base64"
    rewritten = "|".join([header, payload, json.dumps(signature)])
    assert verify_signature(rewritten, sample.public_key) is sample.valid


@pytest.mark.parametrize("sample", VALID, ids=sample_id)
def test_valid_sample_fails_after_one_payload_change(sample: Sample) -> None:
    # One space more: the same JSON, other bytes (ocmf.md 1: whitespace is signed).
    tampered = sample.ocmf.replace('"PG"', ' "PG"', 1)
    assert parse(tampered).payload == parse(sample.ocmf).payload
    assert verify_signature(tampered, sample.public_key) is False


def test_wrong_key_of_another_sample_on_the_same_curve() -> None:
    # Samples 1 and 3 are both secp256r1 records from different meters.
    first, third = BY_NUMBER[1], BY_NUMBER[3]
    assert verify_signature(first.ocmf, third.public_key) is False
    assert verify_signature(third.ocmf, first.public_key) is False


def test_key_of_another_curve_cannot_check() -> None:
    # Sample 8 is secp384r1; sample 1 names the default secp256r1.
    with pytest.raises(OcmfError, match="curve"):
        verify_signature(BY_NUMBER[1].ocmf, BY_NUMBER[8].public_key)


def test_isabellenhuette_iem_dcr_record() -> None:
    record = parse(BY_NUMBER[4].ocmf)
    payload = record.payload
    assert payload.format_version == "1.0"
    assert payload.meter_serial == payload.gateway_serial == "1ISA0200001132"
    assert payload.meter_vendor == "Isabellenhuette"
    assert payload.pagination == "T4"
    assert (payload.pagination_context, payload.pagination_number) == ("T", 4)
    assert payload.identification_status is True
    assert payload.identification_level == "CERTIFIED"
    assert payload.identification_flags == (
        "RFID_PSK",
        "OCPP_CERTIFIED",
        "ISO15118_NONE",
        "PLMN_NONE",
    )
    assert payload.identification_type == "ISO15693"
    assert payload.tariff_text == "0,20 EUR/kWh"
    assert payload.charge_point_id_type == "DC-Test-Charger"
    assert payload.charge_point_id == "CP-DE-4711"
    begin, end = payload.readings
    assert payload.begin is begin and payload.end is end
    assert (begin.reason, end.reason) == ("B", "E")
    assert begin.value_text == "00000446.540"
    assert begin.value == Decimal("446.540")
    assert str(begin.value) == "446.540"
    assert begin.time is not None and end.time is not None
    assert begin.time.isoformat() == "2025-06-06T09:26:24+02:00"
    assert end.time.isoformat() == "2025-06-06T09:26:45+02:00"
    assert begin.time_text == "2025-06-06T09:26:24,000+0200 I"
    assert begin.time_status is TimeStatus.INFORMATIVE
    assert (begin.obis, begin.unit, begin.current_type) == ("1-b:1.8.e", "kWh", "DC")
    assert (begin.status, begin.error_flags) == ("G", "")
    assert record.findings == ()
    assert record.signature is not None
    assert record.signature.algorithm == "ECDSA-secp256r1-SHA256"
    assert record.signature.encoding == "hex"
    assert record.signature.mime_type == "application/x-der"
    assert eichrecht_issues(record) == []


def test_lem_dcbm_second_register_inherits_time_but_not_reason() -> None:
    readings = parse(BY_NUMBER[3].ocmf).payload.readings
    assert [r.obis for r in readings] == ["1-0:1.8.0", "1-0:2.8.0"] * 2
    assert [r.reason for r in readings] == ["B", None, "E", None]
    assert readings[1].time == readings[0].time
    assert readings[3].time == readings[2].time
    assert readings[1].time_status is TimeStatus.RELATIVE
    assert readings[1].current_type == "DC"  # inherited from the first reading
    assert readings[1].error_flags == ""
    assert readings[0].extra["UC"] == {"UN": "No_Comp", "UI": 2, "UR": 0}
    payload = parse(BY_NUMBER[3].ocmf).payload
    assert payload.begin is not None and payload.begin.value_text == "57.584"
    assert payload.end is not None and payload.end.value_text == "58.685"


def test_numbers_keep_their_written_form() -> None:
    enercharge = parse(BY_NUMBER[6].ocmf).payload
    assert [r.value_text for r in enercharge.readings] == [
        "1.606848e7",
        "1.606848e7",
        "1.6086276e7",
        "1.6086276e7",
    ]
    assert enercharge.readings[0].value == Decimal(16068480)
    assert enercharge.extra["VB"] == 3
    assert enercharge.extra["VC"] == Decimal("0.400000006")
    assert enercharge.extra["ZC"] == 2916178132
    assert enercharge.extra["YS"] == "09 01 49 53 41 00 01 12 e1 b9 "
    nano = parse(BY_NUMBER[9].ocmf).payload
    assert nano.readings[0].value_text == "       9.038"
    assert nano.readings[0].value == Decimal("9.038")
    nzr = parse(BY_NUMBER[8].ocmf).payload
    assert nzr.readings[0].value_text == "0"
    assert nzr.identification_flags == ()


def test_carlo_gavazzi_loss_compensation_and_reading_extras() -> None:
    record = parse(BY_NUMBER[11].ocmf)
    assert record.payload.format_version == "1.2"
    assert record.payload.loss_compensation == {
        "LN": "CABLE_LOSS",
        "LI": 99,
        "LR": 0,
        "LU": "mOhm",
    }
    assert record.payload.readings[0].extra == {"RM": ""}
    assert record.signature is not None
    assert record.signature.algorithm == "ECDSA-brainpoolP384r1-SHA256"


def test_error_state_record_is_not_billable() -> None:
    codes = [issue.code for issue in eichrecht_issues(parse(BY_NUMBER[5].ocmf))]
    assert codes.count("meter_status") == 3
    assert codes.count("energy_unusable") == 3


def test_begin_only_records_lack_an_end() -> None:
    for number in (7, 8, 9):
        issues = eichrecht_issues(parse(BY_NUMBER[number].ocmf))
        assert [issue.code for issue in issues] == ["no_end"]
