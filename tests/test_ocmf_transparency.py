"""The Transparenzsoftware XML container: OCMF text byte for byte, keys that load."""

from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings, strategies as st
import pytest

from custom_components.iem_dcr.ocmf import (
    OcmfError,
    TransparencyEntry,
    transparency_xml,
    verify_signature,
)
from tests.test_ocmf_samples import BY_NUMBER, SAMPLES, Sample
from tests.test_ocmf_verify import PAYLOAD, sign


def read_back(xml: str) -> list[ET.Element]:
    """Parse the document as a file would hold it (UTF-8 bytes)."""
    root = ET.fromstring(xml.encode("utf-8"))
    assert root.tag == "values"
    assert all(child.tag == "value" for child in root)
    return list(root)


def signed_data(value: ET.Element) -> str:
    element = value.find("signedData")
    assert element is not None
    assert element.attrib == {"format": "OCMF", "encoding": "plain"}
    return element.text or ""


def key_of(value: ET.Element) -> tuple[str | None, str] | None:
    element = value.find("publicKey")
    if element is None:
        return None
    return element.get("encoding"), element.text or ""


def key_bytes(encoding: str | None, text: str) -> bytes:
    assert encoding in {"hex", "base64"}
    return bytes.fromhex(text) if encoding == "hex" else base64.b64decode(text)


def test_all_samples_round_trip() -> None:
    xml = transparency_xml(TransparencyEntry(s.ocmf, s.public_key) for s in SAMPLES)
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<values>')
    values = read_back(xml)
    assert [signed_data(value) for value in values] == [s.ocmf for s in SAMPLES]
    for sample, value in zip(SAMPLES, values, strict=True):
        key = key_of(value)
        assert key is not None
        if sample.der_key is not None:  # written as given, without whitespace
            assert key[1] == sample.public_key
            assert key_bytes(*key) == sample.der_key
        # Whatever the key was written as, the container still checks the record.
        assert verify_signature(signed_data(value), key[1]) is sample.valid


@pytest.mark.parametrize("number", [5, 11])
def test_raw_point_keys_become_der_the_transparenzsoftware_reads(number: int) -> None:
    sample = BY_NUMBER[number]
    (value,) = read_back(
        transparency_xml([TransparencyEntry(sample.ocmf, sample.public_key)])
    )
    key = key_of(value)
    assert key is not None and key[0] == "hex"
    loaded = serialization.load_der_public_key(bytes.fromhex(key[1]))
    assert isinstance(loaded, ec.EllipticCurvePublicKey)
    point = loaded.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    raw = bytes.fromhex(sample.public_key)  # X||Y (sample 5) or 04||X||Y (11)
    assert point[1:] == raw[-(len(point) - 1) :]


def test_pem_key_becomes_der_hex() -> None:
    sample = BY_NUMBER[1]
    der = bytes.fromhex(sample.public_key)
    body = base64.b64encode(der).decode()
    pem = f"-----BEGIN PUBLIC KEY-----\n{body[:64]}\n{body[64:]}\n-----END PUBLIC KEY-----\n"
    (value,) = read_back(transparency_xml([TransparencyEntry(sample.ocmf, pem)]))
    assert key_of(value) == ("hex", sample.public_key.upper())


def test_key_whitespace_is_removed_and_encoding_named() -> None:
    sample = BY_NUMBER[1]
    grouped = "\n".join(
        sample.public_key[i : i + 16] for i in range(0, len(sample.public_key), 16)
    )
    (value,) = read_back(transparency_xml([TransparencyEntry(sample.ocmf, grouped)]))
    assert key_of(value) == ("hex", sample.public_key)
    b64 = BY_NUMBER[6]
    (value,) = read_back(
        transparency_xml([TransparencyEntry(b64.ocmf, b64.public_key)])
    )
    assert key_of(value) == ("base64", b64.public_key)


def test_unknown_or_unreadable_keys() -> None:
    ocmf = BY_NUMBER[4].ocmf
    (value,) = read_back(transparency_xml([TransparencyEntry(ocmf, "")]))
    assert key_of(value) is None
    # A key that does not load is still handed over; the user can compare it.
    (value,) = read_back(
        transparency_xml([TransparencyEntry(ocmf, "not a key & <more>")])
    )
    assert key_of(value) == (None, "notakey&<more>")
    (value,) = read_back(transparency_xml([TransparencyEntry(ocmf, "abcd")]))
    assert key_of(value) == ("hex", "abcd")


def test_transaction_id_and_context() -> None:
    begin_only, both = BY_NUMBER[7], BY_NUMBER[4]
    end_only = sign(
        payload=PAYLOAD.replace('"TX":"B",', "")
    ).text  # the first reading loses its begin: only an end is left
    xml = transparency_xml(
        [
            TransparencyEntry(begin_only.ocmf, begin_only.public_key, "17"),
            TransparencyEntry(end_only, "", "17"),
            TransparencyEntry(both.ocmf, both.public_key),
        ]
    )
    first, second, third = read_back(xml)
    assert first.attrib == {"transactionId": "17", "context": "Transaction.Begin"}
    assert second.attrib == {"transactionId": "17", "context": "Transaction.End"}
    assert third.attrib == {}


@pytest.mark.parametrize("transaction_id", ["", "abc", "-1", "1.5", "12 ", "١٢"])
def test_transaction_id_must_be_digits(transaction_id: str) -> None:
    entry = TransparencyEntry(BY_NUMBER[4].ocmf, "", transaction_id)
    with pytest.raises(
        OcmfError, match="entry 1: transaction id must be decimal digits"
    ):
        transparency_xml([entry])


def test_unparsable_record_names_its_entry() -> None:
    good = TransparencyEntry(BY_NUMBER[4].ocmf, "")
    with pytest.raises(
        OcmfError, match=re.escape("entry 2: record does not start with 'OCMF|'")
    ):
        transparency_xml([good, TransparencyEntry("garbage", "")])


def test_characters_xml_cannot_carry_are_refused() -> None:
    payload = PAYLOAD.replace("0,30 EUR/kWh", "bad \ufffe char")
    with pytest.raises(OcmfError, match="character XML cannot carry"):
        transparency_xml([TransparencyEntry(sign(payload=payload).text, "")])
    with pytest.raises(OcmfError, match="public key holds a character"):
        transparency_xml([TransparencyEntry(BY_NUMBER[4].ocmf, "30\x0159")])


def test_no_entries() -> None:
    assert read_back(transparency_xml([])) == []


def test_surrounding_whitespace_is_left_out() -> None:
    sample: Sample = BY_NUMBER[4]
    (value,) = read_back(
        transparency_xml([TransparencyEntry(f"\n  {sample.ocmf}\n", "")])
    )
    assert signed_data(value) == sample.ocmf


# Tariff texts with anything JSON can carry, and whitespace (CR included) between
# tokens: the text read back from the XML must be the signed text, and verify.
json_whitespace = st.text(alphabet=" \t\r\n", max_size=3)


@settings(max_examples=150, deadline=None)
@given(
    tariff=st.text(
        st.characters(codec="utf-8", exclude_characters="|\ufffe\uffff"), max_size=40
    ),
    spacing=st.lists(json_whitespace, min_size=3, max_size=3),
    ensure_ascii=st.booleans(),
    transaction_id=st.none() | st.integers(0, 10**30).map(str),
)
def test_exported_records_read_back_verbatim_and_verify(
    tariff: str, spacing: list[str], ensure_ascii: bool, transaction_id: str | None
) -> None:
    tariff_json = json.dumps(tariff, ensure_ascii=ensure_ascii)
    payload = PAYLOAD.replace(
        '"TT":"0,30 EUR/kWh \\u20ac"', f'"TT":{spacing[0]}{tariff_json}'
    )
    payload = payload.replace(',"RD":', f',{spacing[1]}"RD"{spacing[2]}:')
    signed = sign(payload=payload)
    entry = TransparencyEntry(signed.text, signed.key_hex, transaction_id)
    xml = transparency_xml([entry])
    (value,) = read_back(xml)
    assert signed_data(value) == signed.text
    key = key_of(value)
    assert key == ("hex", signed.key_hex)
    assert verify_signature(signed_data(value), key[1]) is True
    if transaction_id is not None:
        assert value.get("transactionId") == transaction_id
