"""The curves OCMF names in `SA`, and which code checks signatures on each."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec

from .errors import OcmfError, quoted
from .weierstrass import SECP192K1, WeierstrassCurve


@dataclass(frozen=True)
class Curve:
    """A curve by its OCMF name; OpenSSL checks it, or else pure Python does."""

    name: str
    key_size: int
    openssl: ec.EllipticCurve | None = None
    weierstrass: WeierstrassCurve | None = None

    @property
    def coordinate_size(self) -> int:
        """Return the length in bytes of one coordinate (and of r or s)."""
        return (self.key_size + 7) // 8


def _openssl(curve: ec.EllipticCurve) -> Curve:
    return Curve(name=curve.name, key_size=curve.key_size, openssl=curve)


_SECP192K1 = Curve(
    name=SECP192K1.name, key_size=SECP192K1.key_size, weierstrass=SECP192K1
)
# Keyed by the curve part of SA, lower case; the spec writes "brainpool256r1",
# OpenSSL and meters "brainpoolP256r1".
_CURVES: dict[str, Curve] = {
    "secp256r1": _openssl(ec.SECP256R1()),
    "secp384r1": _openssl(ec.SECP384R1()),
    "secp256k1": _openssl(ec.SECP256K1()),
    "secp192r1": _openssl(ec.SECP192R1()),
    "secp192k1": _SECP192K1,
    "brainpool256r1": _openssl(ec.BrainpoolP256R1()),
    "brainpoolp256r1": _openssl(ec.BrainpoolP256R1()),
    "brainpool384r1": _openssl(ec.BrainpoolP384R1()),
    "brainpoolp384r1": _openssl(ec.BrainpoolP384R1()),
}
PURE_PYTHON_CURVES = (_SECP192K1,)


def curve_for_algorithm(algorithm: str) -> Curve:
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
    return curve
