"""Curves, public keys and signature values in the shapes meters really send.

The Transparenzsoftware needs a DER SubjectPublicKeyInfo and a DER signature.
Field data also has raw X||Y and 04||X||Y keys, raw r||s signatures and DER
INTEGERs without their sign byte (IEM-DCR): all are read here (ocmf.md 4, 5).
"""

from __future__ import annotations

import base64
import re

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .errors import OcmfError, quoted
from .model import OcmfSignature

# Keyed by the curve part of SA, lower case; the spec writes "brainpool256r1",
# OpenSSL and meters "brainpoolP256r1".
_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "secp256r1": ec.SECP256R1,
    "secp384r1": ec.SECP384R1,
    "secp256k1": ec.SECP256K1,
    "secp192r1": ec.SECP192R1,
    "brainpool256r1": ec.BrainpoolP256R1,
    "brainpoolp256r1": ec.BrainpoolP256R1,
    "brainpool384r1": ec.BrainpoolP384R1,
    "brainpoolp384r1": ec.BrainpoolP384R1,
}
_HEX = re.compile(r"[0-9A-Fa-f]*")
_PEM_ARMOUR = re.compile(r"-----(?:BEGIN|END) [A-Z ]*-----")
_DER_MIME_TYPE = "application/x-der"
_UNCOMPRESSED = 0x04
_COMPRESSED = (0x02, 0x03)
_SEQUENCE = 0x30
_INTEGER = 0x02


def curve_for_algorithm(algorithm: str) -> ec.EllipticCurve:
    """Return the curve that an `SA` value such as ECDSA-secp256r1-SHA256 names."""
    parts = algorithm.strip().split("-")
    if len(parts) != 3 or parts[0].upper() != "ECDSA" or parts[2].upper() != "SHA256":
        raise OcmfError(
            f"signature algorithm {quoted(algorithm)} is not supported; "
            "expected ECDSA-<curve>-SHA256"
        )
    curve = _CURVES.get(parts[1].lower())
    if curve is None:
        raise OcmfError(
            f"curve {quoted(parts[1])} of the signature algorithm is not supported"
        )
    return curve()


def coordinate_size(curve: ec.EllipticCurve) -> int:
    """Return the length in bytes of one coordinate (and of r or s)."""
    return (curve.key_size + 7) // 8


def load_public_key(text: str, curve: ec.EllipticCurve) -> ec.EllipticCurvePublicKey:
    """Read a DER SPKI or raw point key: hex (any case and whitespace), base64, PEM."""
    if not isinstance(text, str):
        raise OcmfError(f"public key must be text, not {type(text).__name__}")
    compact = "".join(_PEM_ARMOUR.sub("", text).split())
    if not compact:
        raise OcmfError("public key is empty")
    candidates = decode_hex_or_base64(compact)
    if not candidates:
        raise OcmfError("public key is neither hex nor base64")
    for data in candidates:
        key = _subject_public_key_info(data, curve) or _raw_point(data, curve)
        if key is not None:
            return key
    raise OcmfError(
        "public key is neither a DER SubjectPublicKeyInfo nor a point on "
        f"{curve.name} ({len(candidates[0])} bytes)"
    )


def decode_hex_or_base64(compact: str) -> list[bytes]:
    """Return every reading of whitespace-free text as hex and as base64."""
    readings = []
    if len(compact) % 2 == 0 and _HEX.fullmatch(compact):
        readings.append(bytes.fromhex(compact))
    try:
        padded = compact + "=" * (-len(compact) % 4)
        readings.append(base64.b64decode(padded, validate=True))
    except ValueError:  # binascii.Error, or text that is not ASCII
        pass
    return readings


def _subject_public_key_info(
    data: bytes, curve: ec.EllipticCurve
) -> ec.EllipticCurvePublicKey | None:
    try:
        key = serialization.load_der_public_key(data)
    except ValueError:
        return None
    except UnsupportedAlgorithm:
        raise OcmfError(
            "public key uses an algorithm or curve that cannot be checked here"
        ) from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise OcmfError("public key is not an elliptic curve key")
    if key.curve.name != curve.name:
        raise OcmfError(
            f"public key is on curve {key.curve.name}, but the signature "
            f"algorithm names {curve.name}"
        )
    return key


def _raw_point(
    data: bytes, curve: ec.EllipticCurve
) -> ec.EllipticCurvePublicKey | None:
    size = coordinate_size(curve)
    if len(data) == 2 * size:
        data = bytes([_UNCOMPRESSED]) + data
    elif not (
        (len(data) == 2 * size + 1 and data[0] == _UNCOMPRESSED)
        or (len(data) == size + 1 and data[0] in _COMPRESSED)
    ):
        return None
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(curve, data)
    except (ValueError, UnsupportedAlgorithm):  # not on the curve
        return None


def signature_values(
    signature: OcmfSignature, curve: ec.EllipticCurve
) -> list[tuple[int, int]]:
    """Return the (r, s) pairs that `SD` can stand for: DER and/or raw r||s."""
    if signature.mime_type.strip().lower() != _DER_MIME_TYPE:
        raise OcmfError(
            f"signature mime type (SM) {quoted(signature.mime_type)} is not supported"
        )
    blob = _signature_bytes(signature)
    pairs = []
    from_der = _lenient_der(blob)
    if from_der is not None:
        pairs.append(from_der)
    size = coordinate_size(curve)
    if len(blob) == 2 * size:  # raw r||s (older Isabellenhütte firmware)
        pairs.append((int.from_bytes(blob[:size]), int.from_bytes(blob[size:])))
    return pairs


def _signature_bytes(signature: OcmfSignature) -> bytes:
    encoding = signature.encoding.strip().lower()
    compact = "".join(signature.data.split())
    if encoding == "hex":
        if len(compact) % 2 or not _HEX.fullmatch(compact):
            raise OcmfError("signature data (SD) is not hex")
        return bytes.fromhex(compact)
    if encoding == "base64":
        try:
            return base64.b64decode(compact, validate=True)
        except ValueError:
            raise OcmfError("signature data (SD) is not base64") from None
    raise OcmfError(
        f"signature encoding (SE) {quoted(signature.encoding)} is not hex or base64"
    )


def _lenient_der(blob: bytes) -> tuple[int, int] | None:
    """Read SEQUENCE { INTEGER r, INTEGER s } with the INTEGERs taken as unsigned.

    Meters write fixed-width INTEGERs, without the 0x00 that DER puts before a
    high bit or with one too many; the Transparenzsoftware (BouncyCastle's
    getPositiveValue) reads them the same way.
    """
    if not blob or blob[0] != _SEQUENCE:
        return None
    header = _length(blob, 1)
    if header is None or header[0] + header[1] != len(blob):
        return None
    position = header[1]
    values = []
    for _ in range(2):
        if position >= len(blob) or blob[position] != _INTEGER:
            return None
        field = _length(blob, position + 1)
        if field is None or field[0] == 0 or sum(field) > len(blob):
            return None
        length, position = field
        values.append(int.from_bytes(blob[position : position + length]))
        position += length
    if position != len(blob):
        return None
    return values[0], values[1]


def _length(blob: bytes, position: int) -> tuple[int, int] | None:
    """Read a DER length at `position`; return it and where the content starts."""
    if position >= len(blob):
        return None
    first = blob[position]
    if first < 0x80:
        return first, position + 1
    count = first & 0x7F
    if not 1 <= count <= 2 or position + 1 + count > len(blob):
        return None
    end = position + 1 + count
    return int.from_bytes(blob[position + 1 : end]), end
