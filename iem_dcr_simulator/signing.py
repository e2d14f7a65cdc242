"""The meter's P-256 key: generation, PEM storage, public key export and signing.

The IEM-DCR writes its ECDSA signature as DER with both INTEGERs fixed at 32 bytes
(`30 44 02 20 <r> 02 20 <s>`): no 0x00 sign pad when the top bit is set and no
stripping of leading zero bytes. About three quarters of its signatures are
therefore not canonical DER. The simulator reproduces that on purpose.

A value below 2^247 comes out as `00` and a byte below 0x80, one of at least
2^256 - 2^247 as `FF` and a byte from 0x80: both are a leading byte that BER's
minimal-length rule forbids, and some verifiers refuse them. Each happens to
about one signature in 256; `SignatureShape` asks for one on purpose (or for
neither), by signing again with a fresh nonce until the shape holds.
"""

from __future__ import annotations

from enum import StrEnum
import os
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

if TYPE_CHECKING:
    from pathlib import Path

SIGNATURE_ALGORITHM = "ECDSA-secp256r1-SHA256"

_COORDINATE_BYTES = 32
_POINT_BYTES = 2 * _COORDINATE_BYTES
_LEADING_ZERO_BELOW = 1 << 247
_LEADING_FF_FROM = (1 << 256) - (1 << 247)
# Each shape holds for about one signature in 256: this bound is never reached.
_MAX_ATTEMPTS = 100_000


class SignatureShape(StrEnum):
    """Which fixed-width INTEGERs a signature should have."""

    ANY = "any"  # whatever the nonce gives, as the meter does
    LEADING_ZERO = "leading_zero"  # r or s below 2^247: 00, then a byte < 0x80
    LEADING_FF = "leading_ff"  # r or s >= 2^256 - 2^247: FF, then a byte >= 0x80
    NEITHER = "neither"  # neither r nor s begins like that

    def holds(self, r: int, s: int) -> bool:
        """Tell whether (r, s) has this shape."""
        zero = r < _LEADING_ZERO_BELOW or s < _LEADING_ZERO_BELOW
        ff = r >= _LEADING_FF_FROM or s >= _LEADING_FF_FROM
        if self is SignatureShape.LEADING_ZERO:
            return zero
        if self is SignatureShape.LEADING_FF:
            return ff
        if self is SignatureShape.NEITHER:
            return not (zero or ff)
        return True


def generate_private_key() -> ec.EllipticCurvePrivateKey:
    """Create a fresh secp256r1 (P-256) key."""
    return ec.generate_private_key(ec.SECP256R1())


def require_p256(key: ec.EllipticCurvePrivateKey) -> ec.EllipticCurvePrivateKey:
    """Return `key` if it is on secp256r1, the only curve the meter uses."""
    if not isinstance(key.curve, ec.SECP256R1):
        raise TypeError(f"the IEM-DCR signs with secp256r1, not {key.curve.name}")
    return key


def load_or_create_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """Load a PEM private key from `path`, creating and saving a new one if missing.

    Keeping the key in a file lets a demo meter keep its identity across restarts,
    as a real meter does.
    """
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{path} does not hold an EC private key")
        return require_p256(key)
    key = generate_private_key()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # O_EXCL: never overwrite a key someone created in the meantime; 0o600: it is secret.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as key_file:
        key_file.write(pem)
    return key


def public_key_hex(key: ec.EllipticCurvePrivateKey) -> str:
    """Hex of the DER SubjectPublicKeyInfo, as GET /publickey shows it.

    The meter prints the DER header (up to and including the 04 point marker) in
    lowercase and the X and Y coordinates in uppercase.
    """
    der = key.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    header, point = der[:-_POINT_BYTES], der[-_POINT_BYTES:]
    return header.hex() + point.hex().upper()


def encode_fixed_width_signature(r: int, s: int) -> bytes:
    """Encode (r, s) exactly as the meter does: `30 44 02 20 <r> 02 20 <s>`."""
    return (
        b"\x30\x44\x02\x20"
        + r.to_bytes(_COORDINATE_BYTES, "big")
        + b"\x02\x20"
        + s.to_bytes(_COORDINATE_BYTES, "big")
    )


def sign_payload(
    key: ec.EllipticCurvePrivateKey,
    payload: str,
    shape: SignatureShape = SignatureShape.ANY,
) -> str:
    """Sign the UTF-8 bytes of an OCMF payload; return SD as uppercase hex.

    ECDSA takes a fresh random nonce each time, so signing again until (r, s)
    has `shape` gives an equally valid signature of that shape.
    """
    for _ in range(_MAX_ATTEMPTS):
        canonical_der = key.sign(payload.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(canonical_der)
        if shape.holds(r, s):
            return encode_fixed_width_signature(r, s).hex().upper()
    raise RuntimeError(f"no signature of shape {shape} after {_MAX_ATTEMPTS} tries")
