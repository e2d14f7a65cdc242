"""A tiny ECDSA signer in pure Python, written for the tests from SEC 1 and SEC 2.

It shares no code with `ocmf/weierstrass.py` (affine coordinates here, Jacobian
there; curve constants typed in again) and is checked against `cryptography`
on curves both know (see test_ocmf_secp192k1.py), so a signature it makes on
secp192k1 is an independent known answer for the verifier.
"""

from __future__ import annotations

from dataclasses import dataclass
import hashlib
import secrets

type Point = tuple[int, int] | None  # None is the point at infinity


@dataclass(frozen=True)
class CurveParameters:
    """y^2 = x^3 + a x + b over GF(p), generator (gx, gy) of prime order n."""

    name: str
    p: int
    a: int
    b: int
    gx: int
    gy: int
    n: int
    oid: bytes  # DER content of the curve's OBJECT IDENTIFIER

    @property
    def size(self) -> int:
        return (self.p.bit_length() + 7) // 8


# SEC 2 version 2.0, 2.2.1 and 2.4.1 / 2.5.1 (and FIPS 186-4 D.1.2.1 for P-192).
SECP192K1 = CurveParameters(
    name="secp192k1",
    p=int("FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFE FFFFEE37".replace(" ", ""), 16),
    a=0,
    b=3,
    gx=int(
        "DB4FF10E C057E9AE 26B07D02 80B7F434 1DA5D1B1 EAE06C7D".replace(" ", ""), 16
    ),
    gy=int(
        "9B2F2F6D 9C5628A7 844163D0 15BE8634 4082AA88 D95E2F9D".replace(" ", ""), 16
    ),
    n=int("FFFFFFFF FFFFFFFF FFFFFFFE 26F2FC17 0F69466A 74DEFD8D".replace(" ", ""), 16),
    oid=bytes.fromhex("2B8104001F"),
)
SECP256K1 = CurveParameters(
    name="secp256k1",
    p=2**256 - 2**32 - 977,
    a=0,
    b=7,
    gx=0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
    gy=0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8,
    n=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
    oid=bytes.fromhex("2B8104000A"),
)
SECP192R1 = CurveParameters(
    name="secp192r1",
    p=2**192 - 2**64 - 1,
    a=-3,
    b=0x64210519E59C80E70FA7E9AB72243049FEB8DEECC146B9B1,
    gx=0x188DA80EB03090F67CBF20EB43A18800F4FF0AFD82FF1012,
    gy=0x07192B95FFC8DA78631011ED6B24CDD573F977A11E794811,
    n=0xFFFFFFFFFFFFFFFFFFFFFFFF99DEF836146BC9B1B4D22831,
    oid=bytes.fromhex("2A8648CE3D030101"),
)


def add(curve: CurveParameters, first: Point, second: Point) -> Point:
    """Add two points (affine; one modular inverse per step)."""
    if first is None:
        return second
    if second is None:
        return first
    p = curve.p
    (x1, y1), (x2, y2) = first, second
    if x1 == x2 and (y1 + y2) % p == 0:
        return None
    if first == second:
        slope = (3 * x1 * x1 + curve.a) * pow(2 * y1, -1, p) % p
    else:
        slope = (y2 - y1) * pow(x2 - x1, -1, p) % p
    x3 = (slope * slope - x1 - x2) % p
    return x3, (slope * (x1 - x3) - y1) % p


def multiply(curve: CurveParameters, k: int, point: Point) -> Point:
    """Return k * point by double-and-add from the lowest bit."""
    result: Point = None
    addend = point
    while k:
        if k & 1:
            result = add(curve, result, addend)
        addend = add(curve, addend, addend)
        k >>= 1
    return result


@dataclass(frozen=True)
class PurePythonKey:
    """A private key d on `curve`, with its public point."""

    curve: CurveParameters
    d: int

    @classmethod
    def generate(cls, curve: CurveParameters) -> PurePythonKey:
        return cls(curve, 1 + secrets.randbelow(curve.n - 1))

    @property
    def point(self) -> tuple[int, int]:
        point = multiply(self.curve, self.d, (self.curve.gx, self.curve.gy))
        assert point is not None
        return point

    def sign(self, message: bytes, k: int | None = None) -> tuple[int, int]:
        """ECDSA with SHA-256 (SEC 1 4.1.3); a random nonce unless `k` is given."""
        n = self.curve.n
        digest = hashlib.sha256(message).digest()
        e = int.from_bytes(digest) >> max(0, 256 - n.bit_length())
        while True:
            nonce = k if k is not None else 1 + secrets.randbelow(n - 1)
            point = multiply(self.curve, nonce, (self.curve.gx, self.curve.gy))
            assert point is not None
            r = point[0] % n
            s = pow(nonce, -1, n) * (e + r * self.d) % n
            if r and s:
                return r, s
            assert k is None, "this k gives no signature"

    def uncompressed_point(self) -> bytes:
        x, y = self.point
        size = self.curve.size
        return b"\x04" + x.to_bytes(size) + y.to_bytes(size)

    def compressed_point(self) -> bytes:
        x, y = self.point
        return bytes([0x02 | (y & 1)]) + x.to_bytes(self.curve.size)

    def spki_der(self) -> bytes:
        """SubjectPublicKeyInfo { {id-ecPublicKey, curve}, BIT STRING point }."""
        algorithm = _tlv(
            0x30,
            _tlv(0x06, bytes.fromhex("2A8648CE3D0201")) + _tlv(0x06, self.curve.oid),
        )
        return _tlv(0x30, algorithm + _tlv(0x03, b"\x00" + self.uncompressed_point()))


def _tlv(tag: int, content: bytes) -> bytes:
    assert len(content) < 0x80
    return bytes([tag, len(content)]) + content
