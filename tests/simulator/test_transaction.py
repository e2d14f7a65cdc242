"""A full transaction over HTTP, as the EVerest driver runs it, and its signed record."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
import json

import aiohttp

from iem_dcr_simulator import MeterSimulator

from .conftest import FakeClock
from .ocmf_check import signature_verifies, split_record

V1 = "/counter/v1/ocmf/"

# A record from a real IEM-DCR (EVerest test fixture, see ocmf-samples.txt sample 4).
REAL_RECORD = (
    'OCMF|{"FV":"1.0","GI":"Isabellenhuette IEM-DCR-125-1000-32-00-006-B_000",'
    '"GS":"1ISA0200001132","GV":"DU-02.00.12_SU-02.00.08","MV":"Isabellenhuette",'
    '"MM":"IEM-DCR-125-1000-32-00-006-B_000","MS":"1ISA0200001132",'
    '"CT":"DC-Test-Charger","CI":"CP-DE-4711","IS":true,"IL":"CERTIFIED",'
    '"IF":["RFID_PSK","OCPP_CERTIFIED","ISO15118_NONE","PLMN_NONE"],"IT":"ISO15693",'
    '"ID":"9109543224","PG":"T4","TT":"0,20 EUR/kWh","RD":[{"TM":"2025-06-06T09:26:24,'
    '000+0200 I","TX":"B","EF":"","ST":"G","RV":"00000446.540","RI":"1-b:1.8.e",'
    '"RU":"kWh","RT":"DC"},{"TM":"2025-06-06T09:26:45,000+0200 I","TX":"E","EF":"",'
    '"ST":"G","RV":"00000446.540","RI":"1-b:1.8.e","RU":"kWh","RT":"DC"}]}|'
    '{"SA":"ECDSA-secp256r1-SHA256","SD":"304402203DE5BF9E3A596093547AAEDA8CCEAFD88CA'
    "B59AC65FE616BD33158F2002545960220B3ED5B4A32EF8028577EF0E4F823DACF30DE75CA744C9F"
    'F9560FAE0134D19ABF"}'
)
REAL_PUBLIC_KEY = (
    "3059301306072a8648ce3d020106082a8648ce3d03010703420004A97A28BE22DEDF619A497288FF"
    "F217832B37E44B8B1F8918C48EB5FBF5CB8B5FBB717D32CD2211534D968CA4425B9FCBF5A93E60F2"
    "CE97BCD63F9CAD287F5E08"
)


async def call(
    session: aiohttp.ClientSession,
    sim: MeterSimulator,
    method: str,
    name: str,
    body: Mapping[str, object] | None = None,
) -> tuple[int, bytes]:
    data = None
    if body is not None:
        # Compact, raw UTF-8: what nlohmann::ordered_json::dump() sends.
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    async with session.request(
        method,
        sim.url + V1 + name,
        data=data,
        headers={"Content-Type": "application/json"},
    ) as response:
        return response.status, await response.read()


async def test_full_transaction_as_the_driver_runs_it(
    simulator: MeterSimulator, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    simulator.state.add_energy(Decimal("446.54"))
    assert (await call(session, simulator, "GET", "gw"))[0] == 200
    gw = {"CT": "EVSEID", "CI": "DE*ISA*E4711", "TM": "2025-06-06T09:26:24,000+0200"}
    assert (await call(session, simulator, "POST", "gw", gw))[0] == 200
    tariff = {"TT": "0,49 €/kWh Ladepunkt Süd, Straße 5"}
    assert (await call(session, simulator, "POST", "tariff", tariff))[0] == 200
    status, body = await call(session, simulator, "GET", "publickey")
    assert status == 200
    public_key = json.loads(body)["PK"]

    # Start: a stray E on the idle meter first, then user and B.
    assert (await call(session, simulator, "POST", "receipt", {"TX": "E"}))[0] == 428
    user = {
        "IS": True,
        "IL": "UNKNOWN",
        "IF": [],
        "IT": "ISO14443",
        "ID": "04A1B2C3D4E5F6",
        "US": False,
    }
    assert (await call(session, simulator, "POST", "user", user))[0] == 200
    assert (await call(session, simulator, "POST", "receipt", {"TX": "B"}))[0] == 200

    # Charge 11 kW for 30 minutes, then the current drops below the threshold.
    simulator.state.set_measurements(voltage=440.0, current=25.0)
    clock.advance(minutes=30)
    metervalue = json.loads((await call(session, simulator, "GET", "metervalue"))[1])
    assert metervalue["XT"] is True
    assert metervalue["RD"][2]["WV"] == "00000005.500"
    simulator.state.set_measurements(current=0.0)
    clock.advance(seconds=20)

    assert (await call(session, simulator, "POST", "receipt", {"TX": "E"}))[0] == 200
    status, receipt = await call(session, simulator, "GET", "receipt")
    assert status == 200
    record = receipt.decode("utf-8")
    assert record == simulator.state.last_ocmf

    assert signature_verifies(record, public_key)
    tampered = record.replace("00000452.040", "00000453.040")
    assert tampered != record
    assert not signature_verifies(tampered, public_key)

    payload_text, signature = split_record(record)
    # Compact JSON with non-ASCII as raw UTF-8, not \u escapes.
    assert "€/kWh Ladepunkt Süd, Straße 5" in payload_text
    compact = json.dumps(
        json.loads(payload_text), separators=(",", ":"), ensure_ascii=False
    )
    assert payload_text == compact
    assert list(signature) == ["SA", "SD"]
    assert signature["SA"] == "ECDSA-secp256r1-SHA256"
    payload = json.loads(payload_text)
    assert payload == {
        "FV": "1.0",
        "GI": "Isabellenhuette IEM-DCR-125-1000-32-00-006-B_000",
        "GS": "1ISA0200001132",
        "GV": "DU-02.00.12_SU-02.00.08",
        "MV": "Isabellenhuette",
        "MM": "IEM-DCR-125-1000-32-00-006-B_000",
        "MS": "1ISA0200001132",
        "CT": "EVSEID",
        "CI": "DE*ISA*E4711",
        "IS": True,
        "IL": "UNKNOWN",
        "IF": [],
        "IT": "ISO14443",
        "ID": "04A1B2C3D4E5F6",
        "PG": "T1",
        "TT": "0,49 €/kWh Ladepunkt Süd, Straße 5",
        "RD": [
            {
                "TM": "2025-06-06T09:26:24,000+0200 I",
                "TX": "B",
                "EF": "",
                "ST": "G",
                "RV": "00000446.540",
                "RI": "1-b:1.8.e",
                "RU": "kWh",
                "RT": "DC",
            },
            {
                "TM": "2025-06-06T09:56:44,000+0200 I",
                "TX": "E",
                "EF": "",
                "ST": "G",
                "RV": "00000452.040",
                "RI": "1-b:1.8.e",
                "RU": "kWh",
                "RT": "DC",
            },
        ],
    }


def key_order(document: object) -> object:
    """The structure of a JSON document: key order and value types, not values."""
    if isinstance(document, dict):
        return [(key, key_order(value)) for key, value in document.items()]
    if isinstance(document, list):
        return [key_order(value) for value in document]
    return type(document).__name__


async def test_record_has_the_real_meters_key_order_and_types(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    gw = {"CT": "EVSEID", "CI": "1234", "TM": "2025-06-06T09:26:24,000+0200"}
    assert (await call(session, simulator, "POST", "gw", gw))[0] == 200
    user = {
        "IS": True,
        "IL": "CERTIFIED",
        "IF": ["RFID_PSK", "OCPP_CERTIFIED", "ISO15118_NONE", "PLMN_NONE"],
        "IT": "ISO15693",
        "ID": "9109543224",
        "US": True,
        "TT": "0,20 EUR/kWh",
    }
    assert (await call(session, simulator, "POST", "user", user))[0] == 200
    assert (await call(session, simulator, "POST", "receipt", {"TX": "B"}))[0] == 200
    record = (await call(session, simulator, "GET", "receipt"))[1].decode()

    ours, our_signature = split_record(record)
    real, real_signature = split_record(REAL_RECORD)
    assert key_order(json.loads(ours)) == key_order(json.loads(real))
    assert list(our_signature) == list(real_signature)
    assert list(json.loads(ours)) == [
        "FV", "GI", "GS", "GV", "MV", "MM", "MS", "CT", "CI",
        "IS", "IL", "IF", "IT", "ID", "PG", "TT", "RD",
    ]  # fmt: skip
    assert [list(reading) for reading in json.loads(ours)["RD"]] == [
        ["TM", "TX", "EF", "ST", "RV", "RI", "RU", "RT"]
    ] * 2


def test_the_test_verifier_accepts_the_real_meters_record() -> None:
    # Guards the checker itself: a genuine, non-canonical IEM-DCR signature passes,
    # a one-character change fails.
    assert signature_verifies(REAL_RECORD, REAL_PUBLIC_KEY)
    assert not signature_verifies(REAL_RECORD.replace('"T4"', '"T5"'), REAL_PUBLIC_KEY)


async def test_pagination_continues_across_transactions(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    records = []
    for _ in range(2):
        assert (await call(session, simulator, "POST", "receipt", {"TX": "B"}))[
            0
        ] == 200
        assert (await call(session, simulator, "POST", "receipt", {"TX": "E"}))[
            0
        ] == 200
        records.append((await call(session, simulator, "GET", "receipt"))[1].decode())
    pages = [json.loads(split_record(record)[0])["PG"] for record in records]
    assert pages == ["T1", "T2"]
    assert simulator.state.issued == records
    public_key = simulator.state.public_key()["PK"]
    assert all(signature_verifies(record, public_key) for record in records)


async def test_user_is_used_once(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    user = {"IS": True, "IL": "NONE", "IF": [], "IT": "LOCAL", "ID": "A1", "US": False}
    assert (await call(session, simulator, "POST", "user", user))[0] == 200
    for _ in range(2):
        assert (await call(session, simulator, "POST", "receipt", {"TX": "B"}))[
            0
        ] == 200
        assert (await call(session, simulator, "POST", "receipt", {"TX": "E"}))[
            0
        ] == 200
    first, second = (json.loads(split_record(r)[0]) for r in simulator.state.issued)
    assert (first["IT"], first["ID"]) == ("LOCAL", "A1")
    assert (second["IS"], second["IT"], second["ID"]) == (False, "NONE", "")
