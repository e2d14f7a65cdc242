"""The Transparenzsoftware XML container: OCMF text byte for byte, keys that load."""

from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from hypothesis import given, settings, strategies as st
import pytest

from custom_components.iem_dcr.ocmf import (
    MissingPublicKeyError,
    OcmfError,
    TransparencyEntry,
    tps_compatibility,
    transparency_xml,
    verify_signature,
)
from custom_components.iem_dcr.ocmf.transparency import _replace_signature_data
from tests.test_ocmf_samples import BY_NUMBER, SAMPLES, Sample
from tests.test_ocmf_verify import PAYLOAD, key_forms, sign


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


def test_unreadable_keys_are_still_handed_over() -> None:
    ocmf = BY_NUMBER[4].ocmf
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
            TransparencyEntry(end_only, BY_NUMBER[1].public_key, "17"),
            TransparencyEntry(both.ocmf, both.public_key),
        ]
    )
    first, second, third = read_back(xml)
    assert first.attrib == {"transactionId": "17", "context": "Transaction.Begin"}
    assert second.attrib == {"transactionId": "17", "context": "Transaction.End"}
    assert third.attrib == {}


@pytest.mark.parametrize("transaction_id", ["", "abc", "-1", "1.5", "12 ", "١٢"])
def test_transaction_id_must_be_digits(transaction_id: str) -> None:
    entry = TransparencyEntry(BY_NUMBER[4].ocmf, "abcd", transaction_id)
    with pytest.raises(
        OcmfError, match="entry 1: transaction id must be decimal digits"
    ):
        transparency_xml([entry])


def test_text_without_ocmf_sections_goes_in_as_it_came() -> None:
    good = TransparencyEntry(BY_NUMBER[4].ocmf, BY_NUMBER[4].public_key)
    cut = BY_NUMBER[4].ocmf[:60]
    root = ET.fromstring(
        transparency_xml([good, TransparencyEntry(cut, BY_NUMBER[4].public_key)])
    )
    second = root.findall("value")[1]
    assert second.findtext("signedData") == cut
    assert second.get("context") is None
    assert second.findtext("publicKey")


def test_text_without_ocmf_sections_and_key_names_its_entry() -> None:
    good = TransparencyEntry(BY_NUMBER[4].ocmf, BY_NUMBER[4].public_key)
    with pytest.raises(OcmfError, match=re.escape("entry 2: no public key")):
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
        transparency_xml([TransparencyEntry(f"\n  {sample.ocmf}\n", "abcd")])
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


def sections(text: str) -> list[str]:
    return text.split("|")


def exported(entry: TransparencyEntry, **options: bool) -> str:
    (value,) = read_back(transparency_xml([entry], **options))
    return signed_data(value)


def test_every_signed_record_goes_in_even_when_its_content_cannot_be_read() -> None:
    for payload in ("not json", '{"PG":"T1"', "[1,2,3]", ""):
        signed = sign(payload=payload)
        (value,) = read_back(
            transparency_xml([TransparencyEntry(signed.text, signed.key_hex)])
        )
        assert signed_data(value) == signed.text
        assert value.attrib == {}  # no context without readings
        assert key_of(value) == ("hex", signed.key_hex)
        assert verify_signature(signed_data(value), signed.key_hex) is True


def test_records_with_odd_content_keep_their_context() -> None:
    payload = PAYLOAD.replace('"TX":"E",', "").replace("12:00:00,000+0100 S", "soon")
    signed = sign(payload=payload)
    (value,) = read_back(
        transparency_xml([TransparencyEntry(signed.text, signed.key_hex, "3")])
    )
    assert value.attrib == {"transactionId": "3", "context": "Transaction.Begin"}


def test_the_embedded_key_is_used_when_none_is_given() -> None:
    signed = sign()
    for no_key in ("", " \n"):
        (value,) = read_back(
            transparency_xml(
                [TransparencyEntry(f"{signed.text}|{signed.key_hex}", no_key)]
            )
        )
        assert key_of(value) == ("hex", signed.key_hex)
        assert signed_data(value) == f"{signed.text}|{signed.key_hex}"
    raw = key_forms(signed.private_key)["raw_xy"]
    (value,) = read_back(transparency_xml([TransparencyEntry(f"{signed.text}|{raw}")]))
    key = key_of(value)
    assert key is not None and key[0] == "hex"
    assert bytes.fromhex(key[1]) == bytes.fromhex(signed.key_hex)


def test_a_record_without_any_key_is_refused_by_its_entry() -> None:
    good = TransparencyEntry(BY_NUMBER[4].ocmf, BY_NUMBER[4].public_key)
    for missing in ("", "  "):
        with pytest.raises(MissingPublicKeyError) as caught:
            transparency_xml([good, TransparencyEntry(BY_NUMBER[7].ocmf, missing)])
        assert caught.value.entry == 2
        assert str(caught.value).startswith("entry 2: no public key")
        assert isinstance(caught.value, OcmfError)


def test_a_record_with_an_unreadable_signature_still_goes_in() -> None:
    signed = sign()
    text = signed.text.rsplit("|", 1)[0] + '|{"SD":}'
    assert exported(TransparencyEntry(text, signed.key_hex)) == text
    assert (
        exported(TransparencyEntry(text, signed.key_hex), canonical_signatures=True)
        == text
    )


@pytest.mark.parametrize("number", [5, 10])
def test_canonical_signatures_for_what_the_tps_cannot_read(number: int) -> None:
    sample = BY_NUMBER[number]
    entry = TransparencyEntry(sample.ocmf, sample.public_key)
    assert exported(entry) == sample.ocmf  # off by default: verbatim
    rewritten = exported(entry, canonical_signatures=True)
    before, after = sections(sample.ocmf), sections(rewritten)
    assert after[:2] == before[:2]  # header and signed payload, byte for byte
    assert after[3:] == before[3:]
    assert after[2] != before[2]
    old, new = json.loads(before[2]), json.loads(after[2])
    assert {k: v for k, v in new.items() if k != "SD"} == {
        k: v for k, v in old.items() if k != "SD"
    }
    blob = bytes.fromhex(new["SD"])
    assert blob == encode_dss_signature(*decode_dss_signature(blob))  # canonical
    # The same r and s as before, read the lenient way.
    curve = {5: 32, 10: 24}[number]
    old_blob = bytes.fromhex(old["SD"])
    if number == 5:  # raw r||s
        old_values = (
            int.from_bytes(old_blob[:curve]),
            int.from_bytes(old_blob[curve:]),
        )
    else:
        old_values = read_unsigned_der(old_blob)
    assert decode_dss_signature(blob) == old_values
    assert verify_signature(rewritten, sample.public_key) is True
    assert tps_compatibility(rewritten, sample.public_key).issues == tuple(
        issue
        for issue in tps_compatibility(sample.ocmf, sample.public_key).issues
        if issue.code == "public_key_not_der"
    )


def read_unsigned_der(blob: bytes) -> tuple[int, int]:
    """(r, s) of `30 L 02 L r 02 L s`, the INTEGERs read as unsigned."""
    assert blob[0] == 0x30 and blob[1] == len(blob) - 2
    r_length = blob[3]
    r = blob[4 : 4 + r_length]
    assert blob[4 + r_length] == 0x02
    s = blob[6 + r_length :]
    assert blob[5 + r_length] == len(s)
    return int.from_bytes(r), int.from_bytes(s)


def test_canonical_signatures_leave_readable_records_alone() -> None:
    for number in (1, 3, 4, 6, 7, 8, 9, 11):
        sample = BY_NUMBER[number]
        entry = TransparencyEntry(sample.ocmf, sample.public_key)
        assert exported(entry, canonical_signatures=True) == sample.ocmf, number


def test_canonical_signatures_never_touch_a_signature_that_does_not_verify() -> None:
    signed = sign(form="fixed_width_der", shape=lambda r, s, _: r < 1 << 247)
    other = sign(payload=PAYLOAD.replace("T42", "T43"))
    # The superfluous-zero signature of one payload on another one.
    swapped = other.text.rsplit("|", 1)[0] + "|" + signed.text.rsplit("|", 1)[1]
    assert verify_signature(swapped, signed.key_hex) is False
    entry = TransparencyEntry(swapped, signed.key_hex)
    assert exported(entry, canonical_signatures=True) == swapped
    # A key that cannot be read on the record's curve: left alone too.
    wrong_curve = TransparencyEntry(signed.text, BY_NUMBER[8].public_key)
    assert exported(wrong_curve, canonical_signatures=True) == signed.text


@pytest.mark.parametrize("encoding", [None, "base64"])
def test_canonical_signature_keeps_the_sections_shape(encoding: str | None) -> None:
    signed = sign(
        form="fixed_width_der", encoding=encoding, shape=lambda r, s, _: s < 1 << 247
    )
    payload, section = sections(signed.text)[1:]
    # Whitespace, other keys, an "SD" inside another value and a nested SD stay.
    fields = json.loads(section)
    sd = json.dumps(fields.pop("SD"))
    odd = (
        '{ "XV" : "\\"SD\\":\\"00\\"", "A1": {"SD": "nested"}, "SD" : '
        + sd
        + ', "SA":"ECDSA-secp256r1-SHA256"'
        + (', "SE":"base64"' if encoding else "")
        + " }"
    )
    text = f"OCMF|{payload}|{odd}|{signed.key_hex}"
    rewritten = exported(TransparencyEntry(text), canonical_signatures=True)
    new_section = sections(rewritten)[2]
    canonical = encode_dss_signature(signed.r, signed.s)
    written = (
        base64.b64encode(canonical).decode() if encoding else canonical.hex().upper()
    )
    assert new_section == odd.replace(sd, json.dumps(written))
    assert sections(rewritten)[1] == payload
    assert verify_signature(rewritten) is True
    assert tps_compatibility(rewritten).compatible


def test_canonical_signature_replaces_the_sd_that_counts() -> None:
    signed = sign(form="fixed_width_der", shape=lambda r, s, _: r < 1 << 247)
    payload, section = sections(signed.text)[1:]
    sd = json.loads(section)["SD"]
    twice = f'{{"SD":"00","SD":"{sd}"}}'
    rewritten = exported(
        TransparencyEntry(f"OCMF|{payload}|{twice}", signed.key_hex),
        canonical_signatures=True,
    )
    first, second = json.loads(
        sections(rewritten)[2], object_pairs_hook=lambda pairs: pairs
    )
    assert first == ("SD", "00")
    assert second[1] == encode_dss_signature(signed.r, signed.s).hex().upper()


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ('{"SA":"x"}', '{"SA":"x"}'),  # no SD: unchanged
        ('{"SD": 3044 , "SA":"x"}', '{"SD": "AB" , "SA":"x"}'),
        ('{"X":{"SD":"1"},"SD":"2"}', '{"X":{"SD":"1"},"SD":"AB"}'),
        ('{"X":["SD",":","3"],"SD":"2"}', '{"X":["SD",":","3"],"SD":"AB"}'),
    ],
)
def test_only_the_top_level_sd_is_replaced(section: str, expected: str) -> None:
    assert _replace_signature_data(section, "AB") == expected
