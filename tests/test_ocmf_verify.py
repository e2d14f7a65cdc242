"""Signature checks against records signed here, with fresh keys on every curve."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, replace
import json
import re
from typing import Literal, Protocol

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from hypothesis import event, given, settings, strategies as st
import pytest

from custom_components.iem_dcr.ocmf import OcmfError, parse, verify_signature
from tests.ecdsa_signer import SECP192K1, PurePythonKey

# What meters write in SA, and the curve it stands for.
ALGORITHMS: dict[str, str] = {
    "ECDSA-secp256r1-SHA256": "secp256r1",
    "ECDSA-secp384r1-SHA256": "secp384r1",
    "ECDSA-secp256k1-SHA256": "secp256k1",
    "ECDSA-secp192r1-SHA256": "secp192r1",
    "ECDSA-secp192k1-SHA256": "secp192k1",
    "ECDSA-brainpool256r1-SHA256": "brainpoolP256r1",
    "ECDSA-brainpoolP256r1-SHA256": "brainpoolP256r1",
    "ECDSA-brainpool384r1-SHA256": "brainpoolP384r1",
    "ECDSA-brainpoolP384r1-SHA256": "brainpoolP384r1",
}
OPENSSL_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "secp256r1": ec.SECP256R1,
    "secp384r1": ec.SECP384R1,
    "secp256k1": ec.SECP256K1,
    "secp192r1": ec.SECP192R1,
    "brainpoolP256r1": ec.BrainpoolP256R1,
    "brainpoolP384r1": ec.BrainpoolP384R1,
}
DEFAULT_ALGORITHM = "ECDSA-secp256r1-SHA256"


class SigningKey(Protocol):
    """A private key on some curve, as far as the tests need one."""

    @property
    def bits(self) -> int: ...

    def sign_values(self, message: bytes) -> tuple[int, int]: ...

    def der(self) -> bytes: ...

    def uncompressed(self) -> bytes: ...

    def compressed(self) -> bytes: ...


@dataclass(frozen=True)
class OpenSslKey:
    """A key `cryptography` signs with."""

    key: ec.EllipticCurvePrivateKey

    @property
    def bits(self) -> int:
        return self.key.curve.key_size

    def sign_values(self, message: bytes) -> tuple[int, int]:
        return decode_dss_signature(self.key.sign(message, ec.ECDSA(hashes.SHA256())))

    def der(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.DER,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )

    def uncompressed(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    def compressed(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
        )


@dataclass(frozen=True)
class PureKey:
    """A secp192k1 key, which only the test's own signer can sign with."""

    key: PurePythonKey

    @property
    def bits(self) -> int:
        return self.key.curve.p.bit_length()

    def sign_values(self, message: bytes) -> tuple[int, int]:
        return self.key.sign(message)

    def der(self) -> bytes:
        return self.key.spki_der()

    def uncompressed(self) -> bytes:
        return self.key.uncompressed_point()

    def compressed(self) -> bytes:
        return self.key.compressed_point()


def new_key(curve: str) -> SigningKey:
    if curve == "secp192k1":
        return PureKey(PurePythonKey.generate(SECP192K1))
    return OpenSslKey(ec.generate_private_key(OPENSSL_CURVES[curve]()))


# One fresh key per curve for this test run.
KEYS: dict[str, SigningKey] = {
    curve: new_key(curve) for curve in dict.fromkeys(ALGORITHMS.values())
}

PAYLOAD = (
    '{"FV":"1.0","GI":"Isabellenhuette IEM-DCR","GS":"1ISA0200001132","PG":"T42",'
    '"MV":"Isabellenhuette","MS":"1ISA0200001132","IS":true,"IL":"TRUSTED",'
    '"IF":["RFID_PLAIN"],"IT":"ISO14443","ID":"04A1B2C3D4E5F6","CT":"EVSEID",'
    '"CI":"DE*ABC*E123456*1","TT":"0,30 EUR/kWh \\u20ac","RD":[{"TM":'
    '"2025-01-01T12:00:00,000+0100 S","TX":"B","RV":"00001234.560","RI":"1-b:1.8.e",'
    '"RU":"kWh","RT":"DC","EF":"","ST":"G"},{"TM":"2025-01-01T12:45:10,500+0100 S",'
    '"TX":"E","RV":1264.120,"ST":"G"}]}'
)

SignatureForm = Literal["der", "raw", "fixed_width_der", "padded_der"]
FORMS: tuple[SignatureForm, ...] = ("der", "raw", "fixed_width_der", "padded_der")


@dataclass(frozen=True)
class Signed:
    """A record signed here, and its public key as a meter shows it (DER hex)."""

    text: str
    key_hex: str
    private_key: SigningKey
    r: int
    s: int


def encode_signature(r: int, s: int, size: int, form: SignatureForm) -> bytes:
    """Write (r, s) as canonical DER, raw r||s, or the non-canonical DER of meters."""
    if form == "der":
        return encode_dss_signature(r, s)
    fixed = [r.to_bytes(size), s.to_bytes(size)]
    if form == "raw":
        return fixed[0] + fixed[1]
    if form == "padded_der":  # a 0x00 before every INTEGER, needed or not (eBZ)
        fixed = [b"\x00" + value for value in fixed]
    body = b"".join(b"\x02" + bytes([len(value)]) + value for value in fixed)
    return b"\x30" + bytes([len(body)]) + body


def sign(
    algorithm: str | None = DEFAULT_ALGORITHM,
    *,
    payload: str = PAYLOAD,
    form: SignatureForm = "der",
    encoding: str | None = None,
    high_s: bool = False,
    shape: Callable[[int, int, int], bool] | None = None,
) -> Signed:
    """Sign `payload` as transmitted and build the record around it.

    `shape(r, s, bits)` picks a signature: ECDSA is randomised, so signing
    again until it holds gives one (`high_s` asks for s with its top bit set).
    """
    private_key = KEYS[ALGORITHMS[algorithm or DEFAULT_ALGORITHM]]
    bits = private_key.bits
    while True:
        r, s = private_key.sign_values(payload.encode())
        if (not high_s or s >> (bits - 1)) and (shape is None or shape(r, s, bits)):
            break
    blob = encode_signature(r, s, (bits + 7) // 8, form)
    section: dict[str, str] = {}
    if algorithm is not None:
        section["SA"] = algorithm
    if encoding is not None:
        section["SE"] = encoding
    section["SD"] = (
        base64.b64encode(blob).decode() if encoding == "base64" else blob.hex().upper()
    )
    key_hex = key_forms(private_key)["der_hex"]
    return Signed(f"OCMF|{payload}|{json.dumps(section)}", key_hex, private_key, r, s)


def key_forms(private_key: SigningKey) -> dict[str, str]:
    """The public key in every shape seen in the field."""
    der = private_key.der()
    point = private_key.uncompressed()
    body = base64.b64encode(der).decode()
    hex_upper = der.hex().upper()
    return {
        "der_hex": der.hex(),
        "der_hex_grouped": "\n".join(
            hex_upper[i : i + 32] for i in range(0, len(hex_upper), 32)
        ),
        "der_base64": body,
        "uncompressed_point": point.hex(),
        "raw_xy": point[1:].hex().upper(),
        "raw_xy_base64": base64.b64encode(point[1:]).decode(),
        "compressed_point": private_key.compressed().hex(),
        "pem": "-----BEGIN PUBLIC KEY-----\n"
        + "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
        + "\n-----END PUBLIC KEY-----\n",
    }


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("form", FORMS)
def test_every_curve_and_signature_form_verifies(
    algorithm: str, form: SignatureForm
) -> None:
    signed = sign(algorithm, form=form, high_s=True)
    assert verify_signature(signed.text, signed.key_hex) is True
    other_key = new_key(ALGORITHMS[algorithm])
    assert verify_signature(signed.text, key_forms(other_key)["der_hex"]) is False


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_every_key_shape_verifies(algorithm: str) -> None:
    signed = sign(algorithm)
    for shape, key in key_forms(signed.private_key).items():
        assert verify_signature(signed.text, key) is True, shape


@pytest.mark.parametrize("encoding", ["hex", "HEX", "base64"])
def test_signature_encodings(encoding: str) -> None:
    signed = sign(encoding=encoding)
    assert verify_signature(signed.text, signed.key_hex) is True


def test_missing_algorithm_means_secp256r1() -> None:
    signed = sign(None)
    signature = parse(signed.text).signature
    assert signature is not None and signature.algorithm == DEFAULT_ALGORITHM
    assert verify_signature(signed.text, signed.key_hex) is True


def test_record_object_and_text_give_the_same_answer() -> None:
    signed = sign()
    assert verify_signature(parse(signed.text), signed.key_hex) is True


def test_signature_of_another_payload_fails() -> None:
    signed = sign()
    other = sign(payload=PAYLOAD.replace("T42", "T43"))
    swapped = signed.text.rsplit("|", 1)[0] + "|" + other.text.rsplit("|", 1)[1]
    assert verify_signature(swapped, signed.key_hex) is False


def test_reformatted_payload_fails() -> None:
    signed = sign()
    for before, after in [('"PG":"T42"', '"PG": "T42"'), ("1264.120", "1264.12")]:
        assert (
            verify_signature(signed.text.replace(before, after), signed.key_hex)
            is False
        )


def test_embedded_key_is_used_only_without_a_given_key() -> None:
    signed = sign()
    stranger = key_forms(new_key("secp256r1"))["der_hex"]
    assert verify_signature(f"{signed.text}|{signed.key_hex}") is True
    assert verify_signature(f"{signed.text}|{stranger}") is False
    # A key travelling with the data vouches for nothing: the given key decides.
    assert verify_signature(f"{signed.text}|{stranger}", signed.key_hex) is True


def test_no_key_at_all_cannot_check() -> None:
    with pytest.raises(OcmfError, match="no public key"):
        verify_signature(sign().text)


@pytest.mark.parametrize(
    ("algorithm", "fragment"),
    [
        ("ECDSA-secp521r1-SHA256", "curve 'secp521r1'"),
        ("ECDSA-secp224r1-SHA256", "curve 'secp224r1'"),
        ("ECDSA-brainpoolP512r1-SHA256", "curve 'brainpoolP512r1'"),
        ("ECDSA-secp256r1-SHA512", "not supported"),
        ("RSA-2048-SHA256", "not supported"),
        ("ECDSA-secp256r1", "not supported"),
        ("", "not supported"),
    ],
)
def test_unknown_algorithm_cannot_check(algorithm: str, fragment: str) -> None:
    signed = sign()
    text = signed.text.replace(DEFAULT_ALGORITHM, algorithm)
    with pytest.raises(OcmfError, match=fragment):
        verify_signature(text, signed.key_hex)


def test_algorithm_names_are_case_insensitive() -> None:
    signed = sign("ECDSA-brainpoolP256r1-SHA256")
    text = signed.text.replace(
        "ECDSA-brainpoolP256r1-SHA256", "ecdsa-BRAINPOOLP256R1-sha256"
    )
    assert verify_signature(text, signed.key_hex) is True


@pytest.mark.parametrize(
    ("signing", "checking"),
    [
        ("ECDSA-secp256r1-SHA256", "ECDSA-secp384r1-SHA256"),
        ("ECDSA-secp256r1-SHA256", "ECDSA-secp256k1-SHA256"),
        ("ECDSA-brainpool256r1-SHA256", "ECDSA-secp256r1-SHA256"),
        ("ECDSA-brainpoolP384r1-SHA256", "ECDSA-secp384r1-SHA256"),
    ],
)
def test_der_key_on_another_curve_than_sa_cannot_check(
    signing: str, checking: str
) -> None:
    signed = sign(signing)
    key = key_forms(KEYS[ALGORITHMS[checking]])["der_hex"]
    with pytest.raises(OcmfError, match="curve"):
        verify_signature(signed.text, key)


def test_raw_point_of_another_curve_size_cannot_check() -> None:
    signed = sign()
    key = key_forms(KEYS["secp384r1"])["raw_xy"]
    with pytest.raises(
        OcmfError, match="neither a DER SubjectPublicKeyInfo nor a point"
    ):
        verify_signature(signed.text, key)


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        ("", "empty"),
        (" \n\t", "empty"),
        ("not a key!", "neither hex nor base64"),
        ("3059301306072A8648CE3D0201", "neither a DER"),
        ("00" * 64, "neither a DER"),  # (0, 0) is on no curve used here
        ("04" + "11" * 64, "neither a DER"),
        ("30" + "82" * 45, "neither a DER"),
        ("ÄÖÜ", "neither hex nor base64"),
        # An RSA SubjectPublicKeyInfo header with junk after it.
        ("30819F300D06092A864886F70D010101050003818D00", "neither a DER"),
    ],
)
def test_unreadable_key_cannot_check(key: str, fragment: str) -> None:
    with pytest.raises(OcmfError, match=fragment):
        verify_signature(sign().text, key)


def test_key_on_a_curve_without_support_cannot_check() -> None:
    # A DER key on secp160r1 (OID 1.3.132.0.8), which OCMF does not list.
    key = "303E301006072A8648CE3D020106052B81040008032A0004" + "11" * 40
    with pytest.raises(OcmfError, match="algorithm or curve that cannot be checked"):
        verify_signature(sign().text, key)


@pytest.mark.parametrize(
    ("signing", "checking"),
    [
        ("ECDSA-secp192k1-SHA256", "ECDSA-secp192r1-SHA256"),
        ("ECDSA-secp192r1-SHA256", "ECDSA-secp192k1-SHA256"),
        ("ECDSA-secp256k1-SHA256", "ECDSA-secp192k1-SHA256"),
    ],
)
def test_secp192k1_key_and_another_curve_cannot_check(
    signing: str, checking: str
) -> None:
    signed = sign(signing)
    key = key_forms(KEYS[ALGORITHMS[checking]])["der_hex"]
    with pytest.raises(OcmfError, match=r"public key is on curve \w+, but the"):
        verify_signature(signed.text, key)


def test_key_that_is_not_an_ec_key_cannot_check() -> None:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate().public_key()
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(OcmfError, match="not an elliptic curve key"):
        verify_signature(sign().text, der.hex())


@pytest.mark.parametrize(
    ("section", "fragment"),
    [
        ({"SD": "30zz"}, "not hex"),
        ({"SD": "304"}, "not hex"),
        ({"SE": "base64", "SD": "***"}, "not base64"),
        ({"SE": "base85", "SD": "00"}, "'base85' is not hex or base64"),
        ({"SM": "application/json", "SD": "00"}, "mime type"),
    ],
)
def test_unreadable_signature_encoding_cannot_check(
    section: dict[str, str], fragment: str
) -> None:
    text = f"OCMF|{PAYLOAD}|{json.dumps(section)}"
    with pytest.raises(OcmfError, match=fragment):
        verify_signature(text, sign().key_hex)


def test_malformed_signature_bytes_do_not_match() -> None:
    signed = sign()
    sd = json.loads(signed.text.rsplit("|", 1)[1])["SD"]
    malformed_der = [
        "30020200",  # an INTEGER without content
        "300402010102",  # the second INTEGER has no length
        "30050201010205",  # the second INTEGER is longer than the rest
        "300702010102010100",  # a byte after the two INTEGERs
        "3083000006020101020101",  # a length of three bytes
        "30020281",  # a long-form length without its bytes
    ]
    for bad in [
        "",
        "00",
        "3000",
        sd + "00",
        "30" + sd[2:-2],
        "31" + sd[2:],
        "00" * 64,
        *malformed_der,
    ]:
        text = signed.text.replace(sd, bad)
        assert verify_signature(text, signed.key_hex) is False, bad


def test_out_of_range_signature_values_do_not_match() -> None:
    signed = sign()
    sd = json.loads(signed.text.rsplit("|", 1)[1])["SD"]
    too_big = encode_signature(2**300, 1, 38, "der").hex()
    zero = encode_signature(0, 0, 32, "der").hex()
    for bad in (too_big, zero):
        assert verify_signature(signed.text.replace(sd, bad), signed.key_hex) is False


def test_verify_rejects_what_is_not_a_record() -> None:
    with pytest.raises(OcmfError, match="expected an OCMF record"):
        verify_signature(42, sign().key_hex)  # type: ignore[arg-type]
    with pytest.raises(OcmfError, match="public key must be text"):
        verify_signature(sign().text, b"3059")  # type: ignore[arg-type]


# A record per curve, signed once; hypothesis then changes its payload.
SIGNED = {algorithm: sign(algorithm) for algorithm in ALGORITHMS}


@st.composite
def changed_payload(draw: st.DrawFn) -> tuple[str, str]:
    """Pick a curve's record and change one character of its payload.

    A "|" is no payload character: it would move the section boundary (see
    test_separator_in_the_payload_leaves_no_signature_section).
    """
    algorithm = draw(st.sampled_from(sorted(SIGNED)))
    payload = parse(SIGNED[algorithm].text).payload_text
    index = draw(st.integers(0, len(payload) - 1))
    original = payload[index]
    replacement = draw(
        st.one_of(
            st.integers(0, 6).map(lambda bit: chr(ord(original) ^ (1 << bit))),
            st.characters(codec="utf-8"),
        ).filter(lambda c: c not in {original, "|"})
    )
    return algorithm, payload[:index] + replacement + payload[index + 1 :]


@settings(max_examples=300, deadline=None)
@given(changed_payload())
def test_any_changed_payload_byte_fails(change: tuple[str, str]) -> None:
    algorithm, tampered = change
    signed = SIGNED[algorithm]
    record = parse(signed.text)
    assert tampered != record.payload_text
    # Straight on the signed bytes.
    assert (
        verify_signature(replace(record, payload_text=tampered), signed.key_hex)
        is False
    )
    # And as text, the way a record arrives: whether or not the change still
    # parses, the answer is False, never an error.
    text = signed.text.replace(record.payload_text, tampered, 1)
    assert verify_signature(text, signed.key_hex) is False
    try:
        reparsed = parse(text)
    except OcmfError:
        event("tampered payload: no JSON object")
        return
    event("tampered payload: parses")
    assert verify_signature(reparsed, signed.key_hex) is False


def test_payload_that_is_no_json_still_gets_an_answer() -> None:
    for payload in ("not json at all", "", "{", '{"PG":"T1"} trailing', "[1,2]"):
        signed = sign(payload=payload)
        with pytest.raises(OcmfError):
            parse(signed.text)
        assert verify_signature(signed.text, signed.key_hex) is True
        other = sign(payload=payload + " ")
        swapped = signed.text.rsplit("|", 1)[0] + "|" + other.text.rsplit("|", 1)[1]
        assert verify_signature(swapped, signed.key_hex) is False


def test_separator_in_the_payload_leaves_no_signature_section() -> None:
    signed = sign()
    cut = signed.text.replace('"PG":"T42"', '"PG":"T|42"')
    with pytest.raises(OcmfError, match="signature section is not valid JSON"):
        verify_signature(cut, signed.key_hex)


@pytest.mark.parametrize(
    ("section", "fragment"),
    [
        ("", "signature section is not valid JSON"),
        ('"x"', "signature section is not a JSON object"),
        ('{"SA":"ECDSA-secp256r1-SHA256"}', "signature SD (signature data) is missing"),
        ('{"SD":null}', "SD (signature data) is missing"),
        ('{"SD":["00"]}', "signature SD must be a string"),
        ('{"SD":"00","SA":1}', None),
        ('{"SD":"00","SE":false}', "signature SE must be a string, not a boolean"),
    ],
)
def test_only_an_unreadable_signature_section_cannot_check(
    section: str, fragment: str | None
) -> None:
    signed = sign()
    text = signed.text.rsplit("|", 1)[0] + "|" + section
    record = parse(text)  # the payload is fine: the record still parses
    assert record.signature is None or fragment is None
    for subject in (text, record):
        expected = re.escape(fragment or "signature algorithm '1'")
        with pytest.raises(OcmfError, match=expected):
            verify_signature(subject, signed.key_hex)


def test_a_payload_that_is_not_unicode_cannot_be_checked() -> None:
    signed = sign()
    record = replace(parse(signed.text), payload_text='{"PG":"\ud800"}')
    with pytest.raises(OcmfError, match="payload is not valid Unicode"):
        verify_signature(record, signed.key_hex)
