"""Public keys and signature values in the shapes meters really send.

The Transparenzsoftware needs a DER SubjectPublicKeyInfo and a DER signature.
Field data also has raw X||Y and 04||X||Y keys, raw r||s signatures and DER
INTEGERs written at a fixed width: without the 0x00 that DER puts before a high
bit, or with a 0x00 that DER would leave out (IEM-DCR, eBZ). All are read here
(ocmf.md 4, 5). The Transparenzsoftware 1.4.1 reads only some of them: it takes
an INTEGER without its sign byte, but BouncyCastle refuses one with a
superfluous leading byte (ocmf.md 0.2); see `tps.py`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from enum import StrEnum
import re

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    encode_dss_signature,
)

from .curves import PURE_PYTHON_CURVES, Curve
from .errors import OcmfError, quoted
from .model import OcmfSignature

_HEX = re.compile(r"[0-9A-Fa-f]*")
_PEM_ARMOUR = re.compile(r"-----(?:BEGIN|END) [A-Z ]*-----")
_DER_MIME_TYPE = "application/x-der"
_UNCOMPRESSED = 0x04
_COMPRESSED = (0x02, 0x03)
_SEQUENCE = 0x30
_INTEGER = 0x02
_BIT_STRING = 0x03
_OBJECT_IDENTIFIER = 0x06
_EC_PUBLIC_KEY_OID = bytes.fromhex("2A8648CE3D0201")  # 1.2.840.10045.2.1
# Curves only this package checks, by their OID (1.3.132.0.31 = secp192k1).
_PURE_PYTHON_OIDS = {"secp192k1": bytes.fromhex("2B8104001F")}
_PREHASHED_SHA256 = ec.ECDSA(Prehashed(hashes.SHA256()))


class KeyForm(StrEnum):
    """How a public key was written."""

    DER = (
        "der"  # SubjectPublicKeyInfo, hex or base64: what the Transparenzsoftware reads
    )
    PEM = "pem"
    RAW_POINT = "raw_point"  # X||Y, 04||X||Y or a compressed point


@dataclass(frozen=True)
class PublicKey:
    """A point on a curve, ready to check signatures."""

    curve: Curve
    x: int
    y: int
    form: KeyForm
    _openssl: ec.EllipticCurvePublicKey | None = field(
        default=None, compare=False, repr=False
    )

    def verify(self, r: int, s: int, digest: bytes) -> bool:
        """Check the ECDSA signature (r, s) of a SHA-256 digest."""
        if self._openssl is not None:
            bound = 1 << self.curve.key_size
            if not (0 < r < bound and 0 < s < bound):
                return False
            try:
                self._openssl.verify(
                    encode_dss_signature(r, s), digest, _PREHASHED_SHA256
                )
            except InvalidSignature:
                return False
            return True
        assert self.curve.weierstrass is not None
        return self.curve.weierstrass.verify((self.x, self.y), r, s, digest)

    def der(self) -> bytes:
        """Return the key as DER SubjectPublicKeyInfo (uncompressed point)."""
        if self._openssl is not None:
            return self._openssl.public_bytes(
                serialization.Encoding.DER,
                serialization.PublicFormat.SubjectPublicKeyInfo,
            )
        size = self.curve.coordinate_size
        point = bytes([_UNCOMPRESSED]) + self.x.to_bytes(size) + self.y.to_bytes(size)
        algorithm = _der(
            _SEQUENCE,
            _der(_OBJECT_IDENTIFIER, _EC_PUBLIC_KEY_OID)
            + _der(_OBJECT_IDENTIFIER, _PURE_PYTHON_OIDS[self.curve.name]),
        )
        return _der(_SEQUENCE, algorithm + _der(_BIT_STRING, b"\x00" + point))


def load_public_key(text: str, curve: Curve) -> PublicKey:
    """Read a DER SPKI or raw point key: hex (any case and whitespace), base64, PEM."""
    if not isinstance(text, str):
        raise OcmfError(f"public key must be text, not {type(text).__name__}")
    armoured = _PEM_ARMOUR.search(text) is not None
    compact = "".join(_PEM_ARMOUR.sub("", text).split())
    if not compact:
        raise OcmfError("public key is empty")
    candidates = decode_hex_or_base64(compact)
    if not candidates:
        raise OcmfError("public key is neither hex nor base64")
    for data in candidates:
        key = _subject_public_key_info(data, curve, armoured) or _raw_point(data, curve)
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
    data: bytes, curve: Curve, armoured: bool
) -> PublicKey | None:
    form = KeyForm.PEM if armoured else KeyForm.DER
    for pure in PURE_PYTHON_CURVES:
        point = _pure_python_spki_point(data, pure.name)
        if point is None:
            continue
        if pure.name != curve.name:
            raise _curve_mismatch(pure.name, curve)
        return _raw_point(point, curve, form)
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
    if curve.openssl is None or key.curve.name != curve.openssl.name:
        raise _curve_mismatch(key.curve.name, curve)
    numbers = key.public_numbers()
    return PublicKey(curve, numbers.x, numbers.y, form, key)


def _curve_mismatch(key_curve: str, curve: Curve) -> OcmfError:
    return OcmfError(
        f"public key is on curve {key_curve}, but the signature "
        f"algorithm names {curve.name}"
    )


def _pure_python_spki_point(data: bytes, curve_name: str) -> bytes | None:
    """Return the point of an SPKI on a curve OpenSSL lacks, None if it is not one.

    An SPKI that names the curve but holds no proper BIT STRING gives b"",
    which is no point: it must not be handed to OpenSSL, whose versions
    differ in what they say about a curve they lack.
    """
    algorithm = _der(
        _SEQUENCE,
        _der(_OBJECT_IDENTIFIER, _EC_PUBLIC_KEY_OID)
        + _der(_OBJECT_IDENTIFIER, _PURE_PYTHON_OIDS[curve_name]),
    )
    content = _der_content(data, _SEQUENCE)
    if content is None or not content.startswith(algorithm):
        return None
    bits = _der_content(content[len(algorithm) :], _BIT_STRING)
    if bits is None or bits[:1] != b"\x00":
        return b""
    return bits[1:]


def _raw_point(
    data: bytes, curve: Curve, form: KeyForm = KeyForm.RAW_POINT
) -> PublicKey | None:
    size = curve.coordinate_size
    if len(data) == 2 * size:
        data = bytes([_UNCOMPRESSED]) + data
    if len(data) == 2 * size + 1 and data[0] == _UNCOMPRESSED:
        x, y = int.from_bytes(data[1 : 1 + size]), int.from_bytes(data[1 + size :])
    elif len(data) == size + 1 and data[0] in _COMPRESSED:
        x, y = int.from_bytes(data[1:]), -1
    else:
        return None
    if curve.openssl is not None:
        try:
            key = ec.EllipticCurvePublicKey.from_encoded_point(curve.openssl, data)
        except (ValueError, UnsupportedAlgorithm):  # not on the curve
            return None
        numbers = key.public_numbers()
        return PublicKey(curve, numbers.x, numbers.y, form, key)
    weierstrass = curve.weierstrass
    assert weierstrass is not None
    if y < 0:
        found = weierstrass.y_for(x, odd=data[0] == 0x03)
        if found is None:
            return None
        y = found
    if not weierstrass.contains(x, y):
        return None
    return PublicKey(curve, x, y, form)


# --- signature values ---------------------------------------------------------


@dataclass(frozen=True)
class SignatureValue:
    """What `SD` can stand for: a DER SEQUENCE of two INTEGERs and/or raw r||s.

    `der_integers` are the INTEGERs' content bytes exactly as written, for
    telling canonical DER from the meters' fixed-width kind.
    """

    der: tuple[int, int] | None
    der_integers: tuple[bytes, bytes] | None
    raw: tuple[int, int] | None

    def candidates(self) -> list[tuple[int, int]]:
        """Return the (r, s) pairs to try, DER first."""
        return [pair for pair in (self.der, self.raw) if pair is not None]


def signature_bytes(signature: OcmfSignature) -> bytes:
    """Decode `SD` as `SE` says; raises OcmfError when it cannot be decoded."""
    if signature.mime_type.strip().lower() != _DER_MIME_TYPE:
        raise OcmfError(
            f"signature mime type (SM) {quoted(signature.mime_type)} is not supported"
        )
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


def signature_value(signature: OcmfSignature, curve: Curve) -> SignatureValue:
    """Read `SD`; raises OcmfError only when it cannot be decoded at all."""
    blob = signature_bytes(signature)
    integers = _lenient_der(blob)
    der = None
    if integers is not None:
        der = (int.from_bytes(integers[0]), int.from_bytes(integers[1]))
    size = curve.coordinate_size
    raw = None
    if len(blob) == 2 * size:  # raw r||s (older Isabellenhütte firmware)
        raw = (int.from_bytes(blob[:size]), int.from_bytes(blob[size:]))
    return SignatureValue(der=der, der_integers=integers, raw=raw)


def canonical_der(r: int, s: int) -> bytes:
    """Return (r, s) as canonical DER: minimal INTEGERs, a 0x00 before a high bit."""
    return encode_dss_signature(r, s)


def _lenient_der(blob: bytes) -> tuple[bytes, bytes] | None:
    """Read SEQUENCE { INTEGER r, INTEGER s }; return the INTEGERs' content bytes.

    The INTEGERs are taken as unsigned, whatever their width: meters write
    them fixed-width, without the 0x00 DER puts before a high bit or with one
    too many (BouncyCastle's getPositiveValue reads the first kind the same way).
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
        item = _length(blob, position + 1)
        if item is None or item[0] == 0 or sum(item) > len(blob):
            return None
        length, position = item
        values.append(blob[position : position + length])
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


def _der(tag: int, content: bytes) -> bytes:
    # Short-form length: every structure built here is below 128 bytes.
    return bytes([tag, len(content)]) + content


def _der_content(data: bytes, tag: int) -> bytes | None:
    """Return the content of `data` if it is exactly one DER element with `tag`."""
    if not data or data[0] != tag:
        return None
    header = _length(data, 1)
    if header is None or header[0] + header[1] != len(data):
        return None
    return data[header[1] :]
