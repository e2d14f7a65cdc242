"""The meter's key and its fixed-width DER signature quirk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
import pytest

from iem_dcr_simulator import MeterState, SignatureShape, signing
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


LOW = 1 << 247
HIGH = (1 << 256) - (1 << 247)


def integers_as_written(signature: bytes) -> tuple[bytes, bytes]:
    return signature[4:36], signature[38:70]


@pytest.mark.parametrize(
    ("shape", "holds"),
    [
        (SignatureShape.LEADING_ZERO, lambda b: b[0] == 0x00 and b[1] < 0x80),
        (SignatureShape.LEADING_FF, lambda b: b[0] == 0xFF and b[1] >= 0x80),
    ],
)
def test_signature_shape_on_demand(
    shape: SignatureShape, holds: Callable[[bytes], bool]
) -> None:
    key = generate_private_key()
    for n in range(3):
        payload = f'{{"n":{n}}}'
        signature = bytes.fromhex(sign_payload(key, payload, shape))
        r, s = read_unsigned_der_signature(signature)
        assert any(holds(value) for value in integers_as_written(signature))
        assert shape.holds(r, s)
        key.public_key().verify(
            encode_dss_signature(r, s), payload.encode(), ec.ECDSA(hashes.SHA256())
        )


def test_signature_shape_neither() -> None:
    key = generate_private_key()
    for n in range(20):
        signature = bytes.fromhex(sign_payload(key, str(n), SignatureShape.NEITHER))
        r, s = read_unsigned_der_signature(signature)
        assert LOW <= r < HIGH and LOW <= s < HIGH
        for value in integers_as_written(signature):
            assert not (value[0] == 0x00 and value[1] < 0x80)
            assert not (value[0] == 0xFF and value[1] >= 0x80)


def test_shapes_partition_the_values() -> None:
    for r, s, shapes in (
        (LOW - 1, LOW, {"any", "leading_zero"}),
        (LOW, HIGH - 1, {"any", "neither"}),
        (HIGH, LOW, {"any", "leading_ff"}),
        (1, HIGH, {"any", "leading_zero", "leading_ff"}),
    ):
        assert {str(shape) for shape in SignatureShape if shape.holds(r, s)} == shapes


def test_a_shape_that_never_holds_gives_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signing, "_MAX_ATTEMPTS", 3)
    monkeypatch.setattr(SignatureShape, "holds", lambda self, r, s: False)
    with pytest.raises(RuntimeError, match="no signature of shape leading_zero"):
        sign_payload(generate_private_key(), "{}", SignatureShape.LEADING_ZERO)


def test_meter_signs_the_next_records_with_a_shape(clock: FakeClock) -> None:
    meter = MeterState(clock=clock)
    public_key = meter.public_key()["PK"]
    assert meter.signature_shape is SignatureShape.ANY
    meter.shape_signatures(SignatureShape.LEADING_ZERO, count=2)
    records = []
    for _ in range(3):
        meter.begin_transaction()
        records.append(meter.end_transaction())
    assert meter.signature_shape is SignatureShape.ANY
    assert meter.signature_shape_count is None
    for record in records:
        assert signature_verifies(record, public_key)
    for record in records[:2]:
        r, s = read_unsigned_der_signature(
            bytes.fromhex(str(split_record(record)[1]["SD"]))
        )
        assert r < LOW or s < LOW
    meter.shape_signatures("neither", count=None)
    meter.power_cycle()  # a test knob, not meter state
    for _ in range(3):
        meter.begin_transaction()
        meter.end_transaction()
    assert (meter.signature_shape, meter.signature_shape_count) == ("neither", None)
    meter.shape_signatures(SignatureShape.ANY, count=5)
    assert meter.signature_shape_count is None


@pytest.mark.parametrize(
    ("shape", "count"), [("round", 1), ("neither", 0), ("neither", -1), ("any", True)]
)
def test_meter_refuses_a_bad_shape_request(
    clock: FakeClock, shape: str, count: int
) -> None:
    with pytest.raises(ValueError):
        MeterState(clock=clock).shape_signatures(shape, count)
