"""Which records the Transparenzsoftware 1.4.1 can check as they are, and why not."""

from __future__ import annotations

import json

import pytest

from custom_components.iem_dcr.ocmf import (
    TpsCompatibility,
    parse,
    tps_compatibility,
    verify_signature,
)
from iem_dcr_simulator import MeterState, SignatureShape
from tests.test_ocmf_samples import BY_NUMBER, SAMPLES, Sample, sample_id
from tests.test_ocmf_verify import PAYLOAD, Signed, encode_signature, key_forms, sign

LOW = 1 << 247  # below: fixed-width 32 bytes begin 00, then a byte below 0x80
HIGH = (1 << 256) - (1 << 247)  # from here: they begin FF, then a byte from 0x80
TOP_BIT = 1 << 255


def codes(result: TpsCompatibility) -> list[str]:
    return [issue.code for issue in result.issues]


def fixed_width(test: str) -> Signed:
    """A P-256 record in the IEM-DCR's fixed-width DER whose (r, s) passes `test`."""
    shapes = {
        "r_low": lambda r, s, _: r < LOW <= s < HIGH,
        "s_low": lambda r, s, _: s < LOW <= r < HIGH,
        "r_high": lambda r, s, _: r >= HIGH and LOW <= s < HIGH,
        "s_high": lambda r, s, _: s >= HIGH and LOW <= r < HIGH,
        "unpadded": lambda r, s, _: TOP_BIT <= r < HIGH and TOP_BIT <= s < HIGH,
        "plain": lambda r, s, _: LOW <= r < TOP_BIT and LOW <= s < TOP_BIT,
    }
    return sign(form="fixed_width_der", shape=shapes[test])


EXPECTED_SAMPLE_CODES = {
    5: ["public_key_not_der", "raw_signature"],
    10: ["superfluous_zero"],
    11: ["public_key_not_der"],
}


@pytest.mark.parametrize("sample", SAMPLES, ids=sample_id)
def test_samples(sample: Sample) -> None:
    result = tps_compatibility(sample.ocmf, sample.public_key)
    expected = EXPECTED_SAMPLE_CODES.get(sample.number, [])
    assert codes(result) == expected
    assert result.compatible is (not expected)
    assert (result.reason is None) is (not expected)


def test_the_ebz_record_names_its_integer() -> None:
    result = tps_compatibility(BY_NUMBER[10].ocmf, BY_NUMBER[10].public_key)
    assert result.reason is not None
    assert "INTEGER s starts with a superfluous 00 byte" in result.reason
    assert "Transparenzsoftware 1.4.1" in result.reason


@pytest.mark.parametrize(
    ("test", "expected"),
    [
        ("r_low", ["superfluous_zero"]),
        ("s_low", ["superfluous_zero"]),
        ("r_high", ["superfluous_ff"]),
        ("s_high", ["superfluous_ff"]),
        ("unpadded", []),  # no sign pad: the Transparenzsoftware reads it
        ("plain", []),
    ],
)
def test_fixed_width_der(test: str, expected: list[str]) -> None:
    signed = fixed_width(test)
    assert verify_signature(signed.text, signed.key_hex) is True
    for key in (signed.key_hex, None):
        result = tps_compatibility(signed.text, key)
        assert codes(result) == expected
    if expected:
        name = "r" if test.startswith("r") else "s"
        assert f"INTEGER {name} starts with a superfluous" in (
            tps_compatibility(signed.text).reason or ""
        )


def test_both_integers_are_named() -> None:
    # Only the shape counts: without a key, nothing needs to verify.
    blob = encode_signature(5, HIGH + 5, 32, "fixed_width_der")
    text = f'OCMF|{PAYLOAD}|{{"SD":"{blob.hex()}"}}'
    result = tps_compatibility(text)
    assert codes(result) == ["superfluous_zero", "superfluous_ff"]
    assert result.reason is not None and result.reason.count(";") == 1


def test_canonical_der_and_a_zero_pad_before_a_high_byte_are_fine() -> None:
    for form in ("der", "padded_der"):
        signed = sign(form=form, shape=lambda r, s, _: r >= TOP_BIT and s >= TOP_BIT)
        assert tps_compatibility(signed.text, signed.key_hex).compatible, form


def test_a_zero_pad_before_a_low_byte_is_superfluous() -> None:
    signed = sign(form="padded_der", shape=lambda r, s, _: r < TOP_BIT <= s)
    assert codes(tps_compatibility(signed.text, signed.key_hex)) == ["superfluous_zero"]


def test_raw_signature() -> None:
    signed = sign(form="raw")
    result = tps_compatibility(signed.text, signed.key_hex)
    assert codes(result) == ["raw_signature"]
    assert "raw r||s" in (result.reason or "")
    assert codes(tps_compatibility(signed.text)) == ["raw_signature"]


@pytest.mark.parametrize(
    ("shape", "compatible"),
    [
        ("der_hex", True),
        ("der_hex_grouped", True),
        ("der_base64", True),
        ("pem", False),
        ("uncompressed_point", False),
        ("raw_xy", False),
        ("compressed_point", False),
    ],
)
def test_key_shapes(shape: str, compatible: bool) -> None:
    signed = sign()
    key = key_forms(signed.private_key)[shape]
    result = tps_compatibility(signed.text, key)
    assert result.compatible is compatible
    if not compatible:
        assert codes(result) == ["public_key_not_der"]
        assert "(the export writes it as DER)" in (result.reason or "")
    # The same key embedded in the record is judged the same way.
    embedded = tps_compatibility(f"{signed.text}|{key.strip()}")
    assert embedded.compatible is compatible


def test_unreadable_key_and_signature() -> None:
    signed = sign()
    assert codes(tps_compatibility(signed.text, "not a key")) == ["public_key_not_der"]
    unreadable = signed.text.rsplit("|", 1)[0] + '|{"SD":"zz"}'
    result = tps_compatibility(unreadable, signed.key_hex)
    assert codes(result) == ["signature_unreadable"]
    assert "not hex" in (result.reason or "")
    no_sd = signed.text.rsplit("|", 1)[0] + '|{"SA":"ECDSA-secp256r1-SHA256"}'
    assert codes(tps_compatibility(no_sd)) == ["signature_unreadable"]
    junk = signed.text.rsplit("|", 1)[0] + '|{"SD":"0102"}'
    assert codes(tps_compatibility(junk)) == ["signature_unreadable"]


def test_a_record_that_cannot_be_read() -> None:
    result = tps_compatibility("OCMF|not json|{}")
    assert codes(result) == ["payload_unreadable"]
    assert "payload section is not valid JSON" in (result.reason or "")


@pytest.mark.parametrize(
    ("version", "compatible"),
    [
        ('"1.0"', True),
        ("1.0", True),
        ('"0.1"', True),
        ('"1.3"', True),
        ('"1.4"', False),
        ('"0.05"', False),
        ('"1.0.1"', False),
        ('"one"', False),
        ('""', False),
    ],
)
def test_format_version(version: str, compatible: bool) -> None:
    payload = PAYLOAD.replace('"FV":"1.0"', f'"FV":{version}')
    signed = sign(payload=payload)
    result = tps_compatibility(signed.text, signed.key_hex)
    assert result.compatible is compatible
    if not compatible:
        assert codes(result) == ["format_version"]


def test_missing_format_version() -> None:
    signed = sign(payload=PAYLOAD.replace('"FV":"1.0",', ""))
    result = tps_compatibility(signed.text, signed.key_hex)
    assert codes(result) == ["format_version"]
    assert "no format version" in (result.reason or "")


def test_duplicate_key_at_the_top_of_the_payload() -> None:
    top = sign(payload=PAYLOAD.replace('"PG":"T42"', '"PG":"T42","PG":"T42"'))
    assert codes(tps_compatibility(top.text, top.key_hex)) == ["duplicate_key"]
    nested = sign(payload=PAYLOAD.replace('"ST":"G"}]', '"ST":"G","ST":"G"}]'))
    assert tps_compatibility(nested.text, nested.key_hex).compatible
    assert "duplicate_key" in [f.code for f in parse(nested.text).findings]


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        (SignatureShape.LEADING_ZERO, "superfluous_zero"),
        (SignatureShape.LEADING_FF, "superfluous_ff"),
        (SignatureShape.NEITHER, None),
    ],
)
def test_simulator_records_made_with_the_knob(
    shape: SignatureShape, expected: str | None
) -> None:
    meter = MeterState()
    key = meter.public_key()["PK"]
    meter.shape_signatures(shape, count=2)
    records = []
    for _ in range(2):
        meter.begin_transaction()
        records.append(meter.end_transaction())
    for record in records:
        assert verify_signature(record, key) is True
        result = tps_compatibility(record, key)
        if expected is None:
            assert result.compatible
        else:
            assert expected in codes(result)
            assert not result.compatible
    section = json.loads(records[0].rsplit("|", 1)[1])
    assert section["SD"].startswith("30440220")  # still the meter's own encoding


def test_one_byte_integers_are_fine() -> None:
    blob = encode_signature(5, 7, 1, "fixed_width_der")
    assert blob == bytes.fromhex("3006020105020107")
    assert tps_compatibility(f'OCMF|{PAYLOAD}|{{"SD":"{blob.hex()}"}}').compatible
