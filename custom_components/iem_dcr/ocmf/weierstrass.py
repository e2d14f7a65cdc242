"""ECDSA verification in pure Python, for a curve OpenSSL does not offer.

OCMF lists secp192k1 and the Transparenzsoftware verifies it, but `cryptography`
cannot. Verification handles only public data, so plain integer arithmetic
(with no care for timing) is enough. Curve: y^2 = x^3 + a*x + b over GF(p),
points in Jacobian coordinates (X, Y, Z) standing for (X/Z^2, Y/Z^3).
"""

from __future__ import annotations

from dataclasses import dataclass

type _Jacobian = tuple[int, int, int]

_INFINITY: _Jacobian = (1, 1, 0)


@dataclass(frozen=True)
class WeierstrassCurve:
    """A short Weierstrass curve of prime order `n` (cofactor 1)."""

    name: str
    p: int
    a: int
    b: int
    gx: int
    gy: int
    n: int

    @property
    def key_size(self) -> int:
        """Return the size of the field in bits."""
        return self.p.bit_length()

    def contains(self, x: int, y: int) -> bool:
        """Tell whether (x, y) is a point of the curve (not the point at infinity)."""
        p = self.p
        if not (0 <= x < p and 0 <= y < p):
            return False
        return (y * y - (x * x * x + self.a * x + self.b)) % p == 0

    def y_for(self, x: int, odd: bool) -> int | None:
        """Return the y with the given parity for x, or None if x is on no point.

        The square root is taken as a power, which needs p = 3 (mod 4), as for
        secp192k1. No point has y = 0 on a curve of odd prime order.
        """
        p = self.p
        if not 0 <= x < p:
            return None
        right = (x * x * x + self.a * x + self.b) % p
        y = pow(right, (p + 1) // 4, p)
        if y * y % p != right:
            return None
        return p - y if (y & 1) != odd else y

    def verify(self, point: tuple[int, int], r: int, s: int, digest: bytes) -> bool:
        """Check an ECDSA signature (r, s) of `digest` by the key `point` (SEC 1 4.1.4)."""
        n = self.n
        if not (0 < r < n and 0 < s < n) or not self.contains(*point):
            return False
        # The digest's leftmost bits, as many as n has (FIPS 186-4 6.4).
        e = int.from_bytes(digest) >> max(0, 8 * len(digest) - n.bit_length())
        w = pow(s, -1, n)
        total = self._sum_of_products(e * w % n, (r * w) % n, point)
        if total[2] == 0:
            return False
        x, _ = self._affine(total)
        return x % n == r

    def _sum_of_products(self, u1: int, u2: int, point: tuple[int, int]) -> _Jacobian:
        """Return u1*G + u2*point (Shamir's trick: one pass over the bits)."""
        generator: _Jacobian = (self.gx, self.gy, 1)
        key: _Jacobian = (point[0], point[1], 1)
        both = self._add(generator, key)
        total = _INFINITY
        for bit in range(max(u1.bit_length(), u2.bit_length()) - 1, -1, -1):
            total = self._double(total)
            pick = ((u1 >> bit) & 1, (u2 >> bit) & 1)
            if pick == (1, 1):
                total = self._add(total, both)
            elif pick == (1, 0):
                total = self._add(total, generator)
            elif pick == (0, 1):
                total = self._add(total, key)
        return total

    def _affine(self, point: _Jacobian) -> tuple[int, int]:
        x, y, z = point
        p = self.p
        inverse = pow(z, -1, p)
        squared = inverse * inverse % p
        return x * squared % p, y * squared * inverse % p

    def _double(self, point: _Jacobian) -> _Jacobian:
        x, y, z = point
        p = self.p
        if z == 0 or y == 0:
            return _INFINITY
        yy = y * y % p
        s = 4 * x * yy % p
        m = (3 * x * x + self.a * pow(z, 4, p)) % p
        x3 = (m * m - 2 * s) % p
        y3 = (m * (s - x3) - 8 * yy * yy) % p
        return x3, y3, 2 * y * z % p

    def _add(self, first: _Jacobian, second: _Jacobian) -> _Jacobian:
        x1, y1, z1 = first
        x2, y2, z2 = second
        if z1 == 0:
            return second
        if z2 == 0:
            return first
        p = self.p
        z1z1, z2z2 = z1 * z1 % p, z2 * z2 % p
        u1, u2 = x1 * z2z2 % p, x2 * z1z1 % p
        s1, s2 = y1 * z2 * z2z2 % p, y2 * z1 * z1z1 % p
        if u1 == u2:
            return self._double(first) if s1 == s2 else _INFINITY
        h, rise = (u2 - u1) % p, (s2 - s1) % p
        hh = h * h % p
        hhh = h * hh % p
        x3 = (rise * rise - hhh - 2 * u1 * hh) % p
        y3 = (rise * (u1 * hh - x3) - s1 * hhh) % p
        return x3, y3, h * z1 * z2 % p


# SEC 2 (version 2.0), section 2.2.1.
SECP192K1 = WeierstrassCurve(
    name="secp192k1",
    p=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFEE37,
    a=0,
    b=3,
    gx=0xDB4FF10EC057E9AE26B07D0280B7F4341DA5D1B1EAE06C7D,
    gy=0x9B2F2F6D9C5628A7844163D015BE86344082AA88D95E2F9D,
    n=0xFFFFFFFFFFFFFFFFFFFFFFFE26F2FC170F69466A74DEFD8D,
)
