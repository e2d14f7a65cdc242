"""The meter's P-256 key: generation, PEM storage, public key export and signing.

The IEM-DCR writes its ECDSA signature as DER with both INTEGERs fixed at 32 bytes
(`30 44 02 20 <r> 02 20 <s>`): no 0x00 sign pad when the top bit is set and no
stripping of leading zero bytes. About three quarters of its signatures are
therefore not canonical DER. The simulator reproduces that on purpose.
"""

from __future__ import annotations

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


def sign_payload(key: ec.EllipticCurvePrivateKey, payload: str) -> str:
    """Sign the UTF-8 bytes of an OCMF payload; return SD as uppercase hex."""
    canonical_der = key.sign(payload.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(canonical_der)
    return encode_fixed_width_signature(r, s).hex().upper()
