"""A whole charging transaction through the client, down to a verified signature."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import load_der_public_key
import pytest

from custom_components.iem_dcr.api import (
    IemDcrClient,
    IemDcrRefusedError,
    UserData,
    format_meter_time,
)
from iem_dcr_simulator import MeterSimulator


def _der_length(data: bytes, at: int) -> tuple[int, int]:
    """Read a DER length at `at`; return (length, offset after it)."""
    first = data[at]
    if first < 0x80:
        return first, at + 1
    size = first & 0x7F
    return int.from_bytes(data[at + 1 : at + 1 + size], "big"), at + 1 + size


def _der_unsigned_integer(data: bytes, at: int) -> tuple[int, int]:
    assert data[at] == 0x02, "expected an INTEGER"
    length, start = _der_length(data, at + 1)
    end = start + length
    # Unsigned on purpose: the meter writes fixed 32-byte integers without the
    # 0x00 pad, so a strict DER reader would see negative numbers.
    return int.from_bytes(data[start:end], "big", signed=False), end


def ecdsa_signature_from_meter(signature_hex: str) -> bytes:
    """Turn the meter's SD (hex DER, maybe not canonical) into canonical DER."""
    data = bytes.fromhex(signature_hex)
    assert data[0] == 0x30, "expected a SEQUENCE"
    length, at = _der_length(data, 1)
    assert at + length == len(data)
    r, at = _der_unsigned_integer(data, at)
    s, at = _der_unsigned_integer(data, at)
    assert at == len(data)
    return encode_dss_signature(r, s)


def split_ocmf(text: str) -> tuple[str, dict[str, Any]]:
    """Return the payload section verbatim and the parsed signature section."""
    assert text.startswith("OCMF|")
    payload, _, signature = text.removeprefix("OCMF|").rpartition("|")
    return payload, json.loads(signature)


def verify(public_key_hex: str, payload: str, signature_hex: str) -> None:
    """Raise InvalidSignature unless the meter signed exactly these payload bytes."""
    key = load_der_public_key(bytes.fromhex(public_key_hex))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(
        ecdsa_signature_from_meter(signature_hex),
        payload.encode("utf-8"),
        ec.ECDSA(hashes.SHA256()),
    )


def test_der_reader_reads_integers_unsigned() -> None:
    top_bit_set = "3044" + "0220" + "80" + "00" * 31 + "0220" + "FF" * 32
    expected = encode_dss_signature(2**255, 2**256 - 1)

    assert ecdsa_signature_from_meter(top_bit_set) == expected


async def test_full_transaction(
    client: IemDcrClient, simulator: MeterSimulator
) -> None:
    now = datetime.now(UTC)
    await client.set_gateway("EVSEID", "DE*ISA*E4711", format_meter_time(now))

    # EVerest sends a stray end before every start; an idle meter refuses it.
    with pytest.raises(IemDcrRefusedError) as stray_end:
        await client.end_transaction()
    assert stray_end.value.status == 428

    user = UserData(
        identification_status=True,
        identification_level="VERIFIED",
        identification_flags=("RFID_PLAIN", "OCPP_RS_TLS"),
        identification_type="ISO14443",
        identification_data="04A1B2C3D4E5F6",
        show_user_id=False,
        tariff_text="0,39 €/kWh",
    )
    await client.set_user(user)
    await client.begin_transaction()
    before = await client.get_meter_value()
    assert before.transaction_active

    simulator.state.add_energy(import_kwh=Decimal("7.125"))
    during = await client.get_meter_value()
    assert during.energy_import_transaction == Decimal("7.125")
    assert during.energy_import_total == before.energy_import_total + Decimal("7.125")

    await client.end_transaction()
    assert not (await client.get_meter_value()).transaction_active
    receipt = await client.get_receipt()
    public_key = await client.get_public_key()

    payload, signature = split_ocmf(receipt.text)
    verify(public_key.key, payload, signature["SD"])
    assert signature["SA"] == public_key.algorithm

    record = json.loads(payload)
    assert (record["CT"], record["CI"]) == ("EVSEID", "DE*ISA*E4711")
    assert (record["IS"], record["IL"], record["IF"], record["IT"], record["ID"]) == (
        True,
        "VERIFIED",
        ["RFID_PLAIN", "OCPP_RS_TLS"],
        "ISO14443",
        "04A1B2C3D4E5F6",
    )
    assert record["TT"] == "0,39 €/kWh"
    begin, end = record["RD"]
    assert (begin["TX"], end["TX"]) == ("B", "E")
    assert Decimal(end["RV"]) - Decimal(begin["RV"]) == Decimal("7.125")
    assert record["MS"] == during.meter_serial

    assert (await client.get_last_transaction()).text == receipt.text


async def test_tampered_record_does_not_verify(
    client: IemDcrClient, simulator: MeterSimulator
) -> None:
    """The check above can fail: one changed byte and the signature is wrong."""
    await client.begin_transaction()
    simulator.state.add_energy(import_kwh=Decimal("1"))
    await client.end_transaction()
    receipt = await client.get_receipt()
    public_key = await client.get_public_key()
    payload, signature = split_ocmf(receipt.text)

    verify(public_key.key, payload, signature["SD"])
    with pytest.raises(InvalidSignature):
        verify(public_key.key, payload.replace('"TX":"E"', '"TX":"X"'), signature["SD"])
