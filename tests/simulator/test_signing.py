"""The meter's key and its fixed-width DER signature quirk."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
import pytest

from iem_dcr_simulator import MeterState
from iem_dcr_simulator.signing import (
    encode_fixed_width_signature,
    generate_private_key,
    load_or_create_private_key,
    public_key_hex,
    sign_payload,
)

from .conftest import FakeClock
from .ocmf_check import read_unsigned_der_signature, signature_verifies, split_record


def has_top_bit(value: bytes) -> bool:
    return value[0] >= 0x80


def test_signatures_are_always_fixed_width() -> None:
    key = generate_private_key()
    public_key = key.public_key()
    signatures = [bytes.fromhex(sign_payload(key, f'{{"n":{n}}}')) for n in range(400)]
    for n, signature in enumerate(signatures):
        assert len(signature) == 70
        assert signature[:4] == bytes.fromhex("30440220")
        assert signature[36:38] == bytes.fromhex("0220")
        r, s = read_unsigned_der_signature(signature)
        public_key.verify(
            encode_dss_signature(r, s),
            f'{{"n":{n}}}'.encode(),
            ec.ECDSA(hashes.SHA256()),
        )
    # Canonical DER would pad an INTEGER whose top bit is set with 0x00; the meter
    # never does, so about 3 in 4 signatures are non-canonical (one of r, s high).
    non_canonical = [
        s for s in signatures if has_top_bit(s[4:36]) or has_top_bit(s[38:70])
    ]
    assert 0.6 < len(non_canonical) / len(signatures) < 0.9


def test_signature_hex_is_uppercase() -> None:
    sd = sign_payload(generate_private_key(), "{}")
    assert sd == sd.upper()
    assert len(sd) == 140


def test_fixed_width_keeps_leading_zero_bytes_and_high_bits() -> None:
    r = 0x05
    s = 0xFF << 248
    encoded = encode_fixed_width_signature(r, s)
    assert encoded == (
        bytes.fromhex("30440220")
        + bytes(31)
        + b"\x05"
        + bytes.fromhex("0220")
        + b"\xff"
        + bytes(31)
    )
    assert read_unsigned_der_signature(encoded) == (r, s)


def test_records_from_many_transactions_verify(clock: FakeClock) -> None:
    meter = MeterState(clock=clock)
    public_key = meter.public_key()["PK"]
    for _ in range(40):
        meter.begin_transaction()
        record = meter.end_transaction()
        sd = str(split_record(record)[1]["SD"])
        assert sd.startswith("30440220")
        assert sd[72:76] == "0220"
        assert signature_verifies(record, public_key)


def test_public_key_hex_is_der_spki_with_uppercase_point() -> None:
    key = generate_private_key()
    text = public_key_hex(key)
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert bytes.fromhex(text) == der
    assert text[:54] == text[:54].lower()
    assert text[54:] == text[54:].upper()


def test_key_file_is_created_once_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "meter.pem"
    created = load_or_create_private_key(path)
    assert path.stat().st_mode & 0o777 == 0o600
    loaded = load_or_create_private_key(path)
    assert public_key_hex(loaded) == public_key_hex(created)


def test_key_file_with_another_curve_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "p384.pem"
    path.write_bytes(
        ec.generate_private_key(ec.SECP384R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(TypeError):
        load_or_create_private_key(path)


def test_meter_uses_the_given_key(clock: FakeClock) -> None:
    key = generate_private_key()
    meter = MeterState(clock=clock, private_key=key)
    assert meter.public_key()["PK"] == public_key_hex(key)
    with pytest.raises(TypeError):
        MeterState(private_key=ec.generate_private_key(ec.SECP384R1()))
