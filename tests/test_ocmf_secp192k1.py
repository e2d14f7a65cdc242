"""secp192k1, checked in pure Python: known answers from elsewhere, tamper tests.

Three independent sources vouch for the verifier: two records a meter (HTB)
signed, shipped with the Transparenzsoftware's tests; the test's own signer
(tests/ecdsa_signer.py), itself checked against `cryptography` on curves both
know; and `cryptography`'s signatures on those curves, fed to the same
pure-Python verifier code.
"""

from __future__ import annotations

import hashlib
import json

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from hypothesis import given, settings, strategies as st
import pytest

from custom_components.iem_dcr.ocmf import (
    OcmfError,
    TransparencyEntry,
    parse,
    transparency_xml,
    verify_signature,
)
from custom_components.iem_dcr.ocmf.weierstrass import (
    SECP192K1 as VERIFIER_CURVE,
    WeierstrassCurve,
)
from tests.ecdsa_signer import (
    SECP192K1,
    SECP192R1,
    SECP256K1,
    CurveParameters,
    PurePythonKey,
    multiply,
)
from tests.ocmf_vectors import HTB_BEGIN, HTB_END, HTB_KEY
from tests.test_ocmf_verify import PAYLOAD, encode_signature, key_forms, sign

HTB_RECORDS = (HTB_BEGIN, HTB_END)
OPENSSL = {"secp256k1": ec.SECP256K1(), "secp192r1": ec.SECP192R1()}


def verifier_for(curve: CurveParameters) -> WeierstrassCurve:
    """The package's pure-Python verifier, run on another curve's constants."""
    return WeierstrassCurve(
        name=curve.name,
        p=curve.p,
        a=curve.a % curve.p,
        b=curve.b,
        gx=curve.gx,
        gy=curve.gy,
        n=curve.n,
    )


def test_the_constants_typed_twice_agree_and_define_the_curve() -> None:
    assert (
        VERIFIER_CURVE.p,
        VERIFIER_CURVE.a,
        VERIFIER_CURVE.b,
        VERIFIER_CURVE.gx,
        VERIFIER_CURVE.gy,
        VERIFIER_CURVE.n,
    ) == (
        SECP192K1.p,
        SECP192K1.a,
        SECP192K1.b,
        SECP192K1.gx,
        SECP192K1.gy,
        SECP192K1.n,
    )
    generator = (SECP192K1.gx, SECP192K1.gy)
    assert VERIFIER_CURVE.contains(*generator)
    # The generator has order n: n*G is the point at infinity, (n-1)*G is -G.
    assert multiply(SECP192K1, SECP192K1.n, generator) is None
    assert multiply(SECP192K1, SECP192K1.n - 1, generator) == (
        SECP192K1.gx,
        SECP192K1.p - SECP192K1.gy,
    )


@pytest.mark.parametrize("record", HTB_RECORDS)
def test_records_a_meter_signed_verify(record: str) -> None:
    assert verify_signature(record, HTB_KEY) is True
    assert verify_signature(f"{record}|{HTB_KEY}") is True
    tampered = record.replace('"PG":"T12345"', '"PG":"T12346"')
    assert verify_signature(tampered, HTB_KEY) is False
    # The begin record's signature does not sign the end record.
    other = HTB_RECORDS[1] if record == HTB_RECORDS[0] else HTB_RECORDS[0]
    swapped = record.rsplit("|", 1)[0] + "|" + other.rsplit("|", 1)[1]
    assert verify_signature(swapped, HTB_KEY) is False
    stranger = key_forms(sign("ECDSA-secp192k1-SHA256").private_key)["der_hex"]
    assert verify_signature(record, stranger) is False


@pytest.mark.parametrize("curve", [SECP256K1, SECP192R1], ids=lambda c: c.name)
def test_the_test_signer_agrees_with_cryptography(curve: CurveParameters) -> None:
    key = PurePythonKey.generate(curve)
    x, y = key.point
    public = ec.EllipticCurvePublicNumbers(x, y, OPENSSL[curve.name]).public_key()
    for message in (b"", b"OCMF", PAYLOAD.encode()):
        r, s = key.sign(message)
        public.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize("curve", [SECP256K1, SECP192R1], ids=lambda c: c.name)
def test_the_pure_python_verifier_agrees_with_cryptography(
    curve: CurveParameters,
) -> None:
    private = ec.generate_private_key(OPENSSL[curve.name])
    numbers = private.public_key().public_numbers()
    point = (numbers.x, numbers.y)
    verifier = verifier_for(curve)
    for message in (b"", b"OCMF", PAYLOAD.encode()):
        r, s = decode_dss_signature(private.sign(message, ec.ECDSA(hashes.SHA256())))
        digest = hashlib.sha256(message).digest()
        assert verifier.verify(point, r, s, digest) is True
        assert verifier.verify(point, r, (s + 1) % curve.n, digest) is False
        assert verifier.verify(point, s, r, digest) is False
        assert (
            verifier.verify(point, r, s, hashlib.sha256(message + b" ").digest())
            is False
        )


def test_fixed_nonce_signatures_verify() -> None:
    # Edge scalars: the smallest and largest private key and nonce.
    digest = hashlib.sha256(b"OCMF").digest()
    for d in (1, 2, SECP192K1.n - 1):
        key = PurePythonKey(SECP192K1, d)
        for k in (1, 2, SECP192K1.n - 1):
            r, s = key.sign(b"OCMF", k=k)
            assert VERIFIER_CURVE.verify(key.point, r, s, digest) is True


def test_out_of_range_values_and_points_do_not_verify() -> None:
    key = PurePythonKey.generate(SECP192K1)
    digest = hashlib.sha256(b"x").digest()
    r, s = key.sign(b"x")
    n = SECP192K1.n
    for bad_r, bad_s in ((0, s), (r, 0), (r + n, s), (r, s + n), (n, s)):
        assert VERIFIER_CURVE.verify(key.point, bad_r, bad_s, digest) is False
    x, y = key.point
    assert VERIFIER_CURVE.verify((x, y + 1), r, s, digest) is False
    assert VERIFIER_CURVE.verify((x, SECP192K1.p + y), r, s, digest) is False


def test_keys_off_the_curve_are_refused() -> None:
    signed = sign("ECDSA-secp192k1-SHA256")
    point = signed.private_key.uncompressed()
    off_curve = point[:-1] + bytes([point[-1] ^ 1])
    prefix = signed.private_key.der()[: -len(point)]
    for key in (off_curve.hex(), (prefix + off_curve).hex(), "02" + "FF" * 24):
        with pytest.raises(OcmfError, match="neither a DER SubjectPublicKeyInfo"):
            verify_signature(signed.text, key)


def test_a_secp192k1_key_in_an_unsupported_spki_shape_is_refused() -> None:
    signed = sign("ECDSA-secp192k1-SHA256")
    der = signed.private_key.der()
    # A BIT STRING with unused bits is no key.
    broken = der[:22] + b"\x01" + der[23:]
    with pytest.raises(OcmfError, match="neither a DER SubjectPublicKeyInfo"):
        verify_signature(signed.text, broken.hex())


SIGNED_K1 = sign("ECDSA-secp192k1-SHA256")


@settings(max_examples=100, deadline=None)
@given(index=st.integers(0, len(PAYLOAD) - 1), bit=st.integers(0, 6))
def test_any_flipped_payload_bit_fails(index: int, bit: int) -> None:
    payload = parse(SIGNED_K1.text).payload_text
    flipped = chr(ord(payload[index]) ^ (1 << bit))
    if flipped == "|":
        return
    text = SIGNED_K1.text.replace(
        payload, payload[:index] + flipped + payload[index + 1 :], 1
    )
    assert verify_signature(text, SIGNED_K1.key_hex) is False


@settings(max_examples=60, deadline=None)
@given(byte=st.integers(0, 47), bit=st.integers(0, 7))
def test_any_flipped_signature_bit_fails(byte: int, bit: int) -> None:
    size = 24
    values = bytearray(SIGNED_K1.r.to_bytes(size) + SIGNED_K1.s.to_bytes(size))
    values[byte] ^= 1 << bit
    r, s = int.from_bytes(values[:size]), int.from_bytes(values[size:])
    section = {"SA": "ECDSA-secp192k1-SHA256"}
    section["SD"] = encode_signature(r, s, size, "der").hex()
    text = SIGNED_K1.text.rsplit("|", 1)[0] + "|" + json.dumps(section)
    assert verify_signature(text, SIGNED_K1.key_hex) is False


def test_a_compressed_x_on_no_point_is_refused() -> None:
    signed = sign("ECDSA-secp192k1-SHA256")
    p = SECP192K1.p
    # Euler's criterion: x^3 + 3 is no square, so no point has this x.
    x = next(x for x in range(1, 100) if pow(x**3 + 3, (p - 1) // 2, p) == p - 1)
    with pytest.raises(OcmfError, match="neither a DER SubjectPublicKeyInfo"):
        verify_signature(signed.text, "03" + x.to_bytes(24).hex())


def test_a_sum_at_infinity_does_not_verify() -> None:
    # With the generator as key, u1*G + u2*G = O when e + r = 0 (mod n).
    digest = hashlib.sha256(b"x").digest()
    n = SECP192K1.n
    e = int.from_bytes(digest) >> (256 - n.bit_length())
    generator = (SECP192K1.gx, SECP192K1.gy)
    assert VERIFIER_CURVE.verify(generator, (-e) % n, 12345, digest) is False


def test_raw_secp192k1_key_is_exported_as_der() -> None:
    signed = sign("ECDSA-secp192k1-SHA256")
    raw = key_forms(signed.private_key)["raw_xy"]
    xml = transparency_xml([TransparencyEntry(signed.text, raw)])
    key = xml.split('<publicKey encoding="hex">')[1].split("<")[0]
    assert bytes.fromhex(key) == signed.private_key.der()
    assert verify_signature(signed.text, key) is True
