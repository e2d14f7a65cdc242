"""The meter API over real loopback HTTP: every endpoint, status and body shape."""

from __future__ import annotations

from decimal import Decimal
import json

import aiohttp
import pytest

from iem_dcr_simulator import MeterSimulator

from .conftest import FakeClock

V1 = "/counter/v1/ocmf/"
POSTED = "2025-06-06T09:26:24,000+0100"
USER = {
    "IS": True,
    "IL": "UNKNOWN",
    "IF": [],
    "IT": "ISO14443",
    "ID": "04A1B2C3D4E5F6",
    "US": False,
}


async def get(
    session: aiohttp.ClientSession, sim: MeterSimulator, path: str
) -> tuple[int, str]:
    async with session.get(sim.url + path) as response:
        return response.status, await response.text()


async def post(
    session: aiohttp.ClientSession, sim: MeterSimulator, path: str, body: object
) -> tuple[int, str]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with session.post(
        sim.url + path, data=data, headers={"Content-Type": "application/json"}
    ) as response:
        return response.status, await response.text()


async def test_gw_after_power_up(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    status, body = await get(session, simulator, V1 + "gw")
    assert status == 200
    assert json.loads(body) == {
        "CT": "",
        "CI": "",
        "TM": "2026-03-01T12:00:00,000+0000 U",
    }


async def test_post_gw_once_then_428(
    simulator: MeterSimulator, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    gw = {"CT": "EVSEID", "CI": "1234", "TM": POSTED}
    assert await post(session, simulator, V1 + "gw", gw) == (200, "")
    clock.advance(seconds=5)
    assert await post(session, simulator, V1 + "gw", gw) == (428, "")
    status, body = await get(session, simulator, V1 + "gw")
    assert status == 200
    assert json.loads(body) == {
        "CT": "EVSEID",
        "CI": "1234",
        "TM": "2025-06-06T09:26:29,000+0100 I",
    }


async def test_post_gw_allowed_again_after_power_cycle(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    gw = {"CT": "EVSEID", "CI": "1234", "TM": POSTED}
    assert (await post(session, simulator, V1 + "gw", gw))[0] == 200
    simulator.state.power_cycle()
    assert json.loads((await get(session, simulator, V1 + "gw"))[1])["CT"] == ""
    assert (await post(session, simulator, V1 + "gw", gw))[0] == 200


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"[]",
        b'"CT"',
        b"\xff\xfe",
        {"CT": "EVSEID", "CI": "1234"},
        {"CT": 1, "CI": "1234", "TM": POSTED},
        {"CT": "EVSEID", "CI": "1234", "TM": "2025-06-06T09:26:24+0100"},
        {"CT": "EVSEID", "CI": "1234", "TM": "2025-13-06T09:26:24,000+0100"},
        {"CT": "EVSEID", "CI": "12|34", "TM": POSTED},
    ],
)
async def test_post_gw_rejects_malformed_bodies(
    simulator: MeterSimulator, session: aiohttp.ClientSession, body: object
) -> None:
    assert await post(session, simulator, V1 + "gw", body) == (400, "")
    assert not simulator.state.gateway_set


async def test_datetime(
    simulator: MeterSimulator, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    assert json.loads((await get(session, simulator, V1 + "datetime"))[1]) == {
        "TM": "2026-03-01T12:00:00,000+0000 U"
    }
    assert await post(session, simulator, V1 + "datetime", {"TM": POSTED}) == (200, "")
    clock.advance(minutes=2)
    assert json.loads((await get(session, simulator, V1 + "datetime"))[1]) == {
        "TM": "2025-06-06T09:28:24,000+0100 I"
    }
    assert (await post(session, simulator, V1 + "datetime", {"TM": 5}))[0] == 400


async def test_datetime_refused_during_transaction(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    assert (await post(session, simulator, V1 + "receipt", {"TX": "B"}))[0] == 200
    assert await post(session, simulator, V1 + "datetime", {"TM": POSTED}) == (428, "")
    assert not simulator.state.time_set


async def test_tariff(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    assert await post(session, simulator, V1 + "tariff", {"TT": "0,20 EUR/kWh"}) == (
        200,
        "",
    )
    assert simulator.state.tariff_text == "0,20 EUR/kWh"
    assert (await post(session, simulator, V1 + "tariff", {"TT": None}))[0] == 400
    assert (await post(session, simulator, V1 + "tariff", {}))[0] == 400
    assert simulator.state.tariff_text == "0,20 EUR/kWh"


async def test_user_is_staged(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    body = {**USER, "IF": ["RFID_PLAIN", "OCPP_AUTH"], "TT": "0,59 EUR/kWh"}
    assert await post(session, simulator, V1 + "user", body) == (200, "")
    staged = simulator.state.staged_user
    assert staged is not None
    assert staged.identification_status is True
    assert staged.identification_level == "UNKNOWN"
    assert staged.identification_flags == ("RFID_PLAIN", "OCPP_AUTH")
    assert staged.identification_type == "ISO14443"
    assert staged.identification_data == "04A1B2C3D4E5F6"
    assert staged.show_user_id is False
    assert staged.tariff_text == "0,59 EUR/kWh"


@pytest.mark.parametrize(
    "change",
    [
        {"IS": "true"},
        {"IS": 1},
        {"IL": None},
        {"IF": "RFID_PLAIN"},
        {"IF": [1]},
        {"IT": 14443},
        {"ID": 1234},
        {"US": "false"},
        {"TT": 20},
    ],
)
async def test_user_rejects_wrong_types(
    simulator: MeterSimulator, session: aiohttp.ClientSession, change: dict[str, object]
) -> None:
    assert await post(session, simulator, V1 + "user", {**USER, **change}) == (400, "")
    assert simulator.state.staged_user is None


@pytest.mark.parametrize("missing", ["IS", "IL", "IF", "IT", "ID", "US"])
async def test_user_rejects_missing_fields(
    simulator: MeterSimulator, session: aiohttp.ClientSession, missing: str
) -> None:
    body = {key: value for key, value in USER.items() if key != missing}
    assert (await post(session, simulator, V1 + "user", body))[0] == 400


async def test_receipt_begin_and_end(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    assert await post(session, simulator, V1 + "receipt", {"TX": "E"}) == (428, "")
    assert await post(session, simulator, V1 + "receipt", {"TX": "B"}) == (200, "")
    assert simulator.state.transaction_active
    assert await post(session, simulator, V1 + "receipt", {"TX": "B"}) == (428, "")
    assert await post(session, simulator, V1 + "receipt", {"TX": "E"}) == (200, "")
    assert simulator.state.meter_value()["XT"] is False
    assert simulator.state.pagination == 1


@pytest.mark.parametrize("body", [{"TX": "X"}, {"TX": "b"}, {}, {"TX": None}])
async def test_receipt_rejects_unknown_tx(
    simulator: MeterSimulator, session: aiohttp.ClientSession, body: object
) -> None:
    assert await post(session, simulator, V1 + "receipt", body) == (400, "")


async def test_receipt_refused_above_activation_threshold(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.state.set_measurements(voltage=400.0, current=1.0)
    assert await post(session, simulator, V1 + "receipt", {"TX": "B"}) == (428, "")
    simulator.state.set_measurements(current=0.0)
    assert (await post(session, simulator, V1 + "receipt", {"TX": "B"}))[0] == 200
    simulator.state.set_measurements(current=-20.0)
    assert await post(session, simulator, V1 + "receipt", {"TX": "E"}) == (428, "")
    assert await get(session, simulator, V1 + "receipt") == (428, "")
    assert simulator.state.transaction_active


async def test_get_receipt_ends_a_running_transaction(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    assert (await post(session, simulator, V1 + "receipt", {"TX": "B"}))[0] == 200
    async with session.get(simulator.url + V1 + "receipt") as response:
        assert response.status == 200
        assert response.content_type == "text/plain"
        body = await response.text()
    assert not simulator.state.transaction_active
    assert body == simulator.state.last_ocmf
    assert body.startswith("OCMF|{")


async def test_receipt_and_transaction_before_any_record(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    assert await get(session, simulator, V1 + "receipt") == (428, "")
    assert await get(session, simulator, V1 + "transaction") == (428, "")
    assert await get(session, simulator, "/counter/v2/ocmf/transaction") == (428, "")


async def test_transaction_returns_the_last_record_on_v1_and_v2(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    for _ in range(2):
        assert (await post(session, simulator, V1 + "receipt", {"TX": "B"}))[0] == 200
        assert (await post(session, simulator, V1 + "receipt", {"TX": "E"}))[0] == 200
    last = simulator.state.issued[-1]
    assert await get(session, simulator, V1 + "transaction") == (200, last)
    assert await get(session, simulator, "/counter/v2/ocmf/transaction") == (200, last)
    assert await get(session, simulator, V1 + "receipt") == (200, last)


async def test_publickey(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    status, body = await get(session, simulator, V1 + "publickey")
    assert status == 200
    document = json.loads(body)
    assert list(document) == ["SA", "PK"]
    assert document["SA"] == "ECDSA-secp256r1-SHA256"
    pk = document["PK"]
    # DER SPKI of a P-256 key: 91 bytes, header lowercase, point uppercase.
    assert pk[:54] == "3059301306072a8648ce3d020106082a8648ce3d03010703420004"
    assert len(pk) == 182
    assert pk[54:] == pk[54:].upper()


async def test_metervalue_shape(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.state.add_energy(Decimal("446.54"), Decimal("4.881"))
    simulator.state.set_measurements(voltage=60.1, current=5.0)
    async with session.get(simulator.url + V1 + "metervalue") as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        document = await response.json()
    assert list(document) == [
        "MS", "TM", "EF", "ST", "XT", "RD",
        "U1", "U2", "U3", "U4", "I", "P", "XS", "XC",
    ]  # fmt: skip
    assert document["MS"] == "1ISA0200001132"
    assert document["TM"] == "2026-03-01T12:00:00,000+0000 U"
    assert document["EF"] == "t"
    assert document["ST"] == "G"
    assert document["XT"] is False
    assert document["RD"] == [
        {"RV": "00000446.540", "RI": "1-b:1.8.e", "RU": "kWh", "RT": "DC"},
        {"RV": "00000004.881", "RI": "1-b:2.8.e", "RU": "kWh", "RT": "DC"},
        {"WV": "00000000.000", "WI": "transaction_1-b:1.8.e", "WU": "kWh", "WT": "DC"},
        {"WV": "00000000.000", "WI": "transaction_1-b:2.8.e", "WU": "kWh", "WT": "DC"},
    ]
    for key in ("U1", "U2", "U3", "U4", "I", "P"):
        assert isinstance(document[key], int | float)
        assert not isinstance(document[key], bool)
    assert document["U2"] == 60.1
    assert document["I"] == 5.0
    assert document["P"] == pytest.approx(300.5)
    assert isinstance(document["XS"], str)
    assert document["XC"] == "0x0000, 0x00000000, 0x00, 0x00"


async def test_metervalue_follows_transaction_and_clock(
    simulator: MeterSimulator, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    assert (await post(session, simulator, V1 + "datetime", {"TM": POSTED}))[0] == 200
    assert (await post(session, simulator, V1 + "receipt", {"TX": "B"}))[0] == 200
    simulator.state.set_measurements(voltage=400.0, current=-10.0)
    clock.advance(minutes=3)
    document = json.loads((await get(session, simulator, V1 + "metervalue"))[1])
    assert document["XT"] is True
    assert document["EF"] == ""
    assert document["TM"] == "2025-06-06T09:29:24,000+0100 I"
    # 4 kW exported for 3 minutes: 0.2 kWh.
    assert document["RD"][1]["RV"] == "00000000.200"
    assert document["RD"][3]["WV"] == "00000000.200"
    assert document["I"] == -10.0
    assert document["P"] == -4000.0


async def test_metervalue_reports_the_error_code(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.state.set_error_code("0x0002, 0x00000010, 0x00, 0x01")
    document = json.loads((await get(session, simulator, V1 + "metervalue"))[1])
    assert document["XC"] == "0x0002, 0x00000010, 0x00, 0x01"


async def test_unknown_paths_and_methods(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    assert (await get(session, simulator, V1 + "nothing"))[0] == 404
    assert (await get(session, simulator, "/counter/v2/ocmf/metervalue"))[0] == 404
    assert (await get(session, simulator, V1 + "user"))[0] == 405
    assert (await post(session, simulator, V1 + "metervalue", {}))[0] == 405


async def test_requests_are_recorded(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    await get(session, simulator, V1 + "metervalue")
    await post(session, simulator, V1 + "tariff", {"TT": "x"})
    await get(session, simulator, "/_sim/state")
    assert [(r.method, r.path, r.body) for r in simulator.requests] == [
        ("GET", V1 + "metervalue", ""),
        ("POST", V1 + "tariff", '{"TT": "x"}'),
    ]
    assert simulator.requests[1].headers["content-type"] == "application/json"
