"""The /_sim/ control API."""

from __future__ import annotations

import asyncio
from decimal import Decimal
import json
from typing import Any

import aiohttp
import pytest

from iem_dcr_simulator import MeterSimulator

from .conftest import FakeClock
from .ocmf_check import signature_verifies

V1 = "/counter/v1/ocmf/"


async def control(
    session: aiohttp.ClientSession,
    sim: MeterSimulator,
    method: str,
    name: str,
    body: object = None,
) -> tuple[int, Any]:
    async with session.request(
        method, sim.url + "/_sim/" + name, json=body
    ) as response:
        return response.status, await response.json()


async def test_state_document(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.state.set_tariff("0,20 EUR/kWh")
    simulator.state.begin_transaction()
    record = simulator.state.end_transaction()
    status, state = await control(session, simulator, "GET", "state")
    assert status == 200
    assert state["serial"] == "1ISA0200001132"
    assert state["charge_point_id_type"] == ""
    assert state["charge_point_id"] == ""
    assert state["gateway_set"] is False
    assert state["tariff_text"] == "0,20 EUR/kWh"
    assert state["time_set"] is False
    assert state["meter_time"] == "2026-03-01T12:00:00,000+0000 U"
    assert state["transaction_active"] is False
    assert state["error_code"] == "0x0000, 0x00000000, 0x00, 0x00"
    assert (state["voltage"], state["current"], state["power"]) == (0.0, 0.0, 0.0)
    assert state["activation_threshold"] == 0.5
    assert state["energy_import_total"] == "0"
    assert state["pagination"] == 1
    assert state["issued"] == [record]
    assert state["last_ocmf"] == record
    assert state["staged_user"] is None
    assert signature_verifies(record, state["public_key"])
    assert state["listening"] is True
    assert state["faults"] == []
    assert state["hanging"] == 0


async def test_power_cycle(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.state.set_gateway("EVSEID", "1234", "2025-06-06T09:26:24,000+0100")
    simulator.state.begin_transaction()
    status, state = await control(session, simulator, "POST", "power_cycle")
    assert status == 200
    assert state["gateway_set"] is False
    assert state["time_set"] is False
    assert state["transaction_active"] is False
    assert state["pagination"] == 0


async def test_measurements_and_energy_accumulation(
    simulator: MeterSimulator, session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    status, state = await control(
        session, simulator, "POST", "measurements", {"voltage": 400, "current": 2.5}
    )
    assert status == 200
    assert (state["voltage"], state["current"], state["power"]) == (400, 2.5, 1000)
    clock.advance(minutes=6)
    _, state = await control(
        session, simulator, "POST", "measurements", {"current": -1.25}
    )
    assert state["voltage"] == 400
    assert Decimal(state["energy_import_total"]) == Decimal("0.1")
    clock.advance(minutes=12)
    _, state = await control(session, simulator, "GET", "state")
    assert Decimal(state["energy_export_total"]) == Decimal("0.1")


@pytest.mark.parametrize(
    "body",
    [{"voltage": "400"}, {"current": True}, {"voltage": -1}, [1], "x"],
)
async def test_measurements_reject_bad_values(
    simulator: MeterSimulator, session: aiohttp.ClientSession, body: object
) -> None:
    status, answer = await control(session, simulator, "POST", "measurements", body)
    assert status == 400
    assert "error" in answer
    assert (simulator.state.voltage, simulator.state.current) == (0.0, 0.0)


async def test_energy_accepts_strings_and_numbers(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.state.begin_transaction()
    status, state = await control(
        session, simulator, "POST", "energy", {"import_kwh": "446.54", "export_kwh": 2}
    )
    assert status == 200
    assert Decimal(state["energy_import_total"]) == Decimal("446.54")
    assert Decimal(state["energy_export_total"]) == Decimal(2)
    assert Decimal(state["energy_import_transaction"]) == Decimal("446.54")
    _, state = await control(session, simulator, "POST", "energy", {"import_kwh": 0.5})
    assert Decimal(state["energy_import_total"]) == Decimal("447.04")


@pytest.mark.parametrize(
    "body", [{"import_kwh": "lots"}, {"import_kwh": -1}, {"export_kwh": None}]
)
async def test_energy_rejects_bad_values(
    simulator: MeterSimulator, session: aiohttp.ClientSession, body: object
) -> None:
    assert (await control(session, simulator, "POST", "energy", body))[0] == 400
    assert simulator.state.energy_import_total == Decimal(0)


async def test_error_code(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    xc = "0x0001, 0x00000000, 0x00, 0x00"
    status, state = await control(session, simulator, "POST", "error", {"xc": xc})
    assert status == 200
    assert state["error_code"] == xc
    _, state = await control(session, simulator, "POST", "error", {"xc": None})
    assert state["error_code"] == "0x0000, 0x00000000, 0x00, 0x00"
    assert (await control(session, simulator, "POST", "error", {}))[0] == 400
    assert (await control(session, simulator, "POST", "error", {"xc": 1}))[0] == 400


async def test_faults_add_list_and_clear(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    status, state = await control(
        session,
        simulator,
        "POST",
        "faults",
        {"kind": "http_error", "path": "metervalue", "count": 2, "status": 503},
    )
    assert status == 200
    assert state["faults"] == [
        {
            "kind": "http_error",
            "path": "metervalue",
            "count": 2,
            "status": 503,
            "seconds": None,
            "method": None,
            "skip": 0,
        }
    ]
    async with session.get(simulator.url + V1 + "metervalue") as response:
        assert response.status == 503
    status, state = await control(session, simulator, "DELETE", "faults")
    assert status == 200
    assert state["faults"] == []
    async with session.get(simulator.url + V1 + "metervalue") as response:
        assert response.status == 200


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "refuse"},
        {"kind": "nonsense"},
        {"kind": ["hang"]},
        {"kind": "hang", "count": "1"},
        {"kind": "hang", "path": 5},
        {"kind": "hang", "path": "nowhere"},
        {"kind": "http_error", "status": "500"},
        {"kind": "hang", "seconds": "1"},
        {"kind": "hang", "method": "PUT"},
        {"kind": "hang", "method": 1},
        {"kind": "hang", "skip": -1},
        {"kind": "hang", "skip": "1"},
    ],
)
async def test_faults_reject_bad_requests(
    simulator: MeterSimulator, session: aiohttp.ClientSession, body: object
) -> None:
    status, answer = await control(session, simulator, "POST", "faults", body)
    assert status == 400
    assert answer["error"]
    assert simulator.faults.active == []
    assert simulator.listening


async def test_refuse_over_http_reopens_by_itself(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    status, _ = await control(
        session, simulator, "POST", "faults", {"kind": "refuse", "seconds": 0.05}
    )
    assert status == 200
    with pytest.raises(aiohttp.ClientConnectorError):
        await control(session, simulator, "GET", "state")
    await simulator.wait_until_listening()
    status, state = await control(session, simulator, "GET", "state")
    assert status == 200
    assert state["listening"] is True


async def test_release(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    await control(session, simulator, "POST", "faults", {"kind": "hang"})
    hanging = asyncio.create_task(session.get(simulator.url + V1 + "metervalue"))
    await simulator.wait_for_hanging()
    _, state = await control(session, simulator, "GET", "state")
    assert state["hanging"] == 1
    status, _ = await control(session, simulator, "POST", "release")
    assert status == 200
    async with await hanging as response:
        assert response.status == 200
    await control(session, simulator, "DELETE", "faults")


async def test_end_transaction(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    status, answer = await control(session, simulator, "POST", "end_transaction")
    assert status == 409
    assert answer["error"]
    simulator.state.begin_transaction()
    status, answer = await control(session, simulator, "POST", "end_transaction")
    assert status == 200
    assert answer["ocmf"] == simulator.state.last_ocmf
    assert not simulator.state.transaction_active
    async with session.get(simulator.url + V1 + "transaction") as response:
        assert await response.text() == answer["ocmf"]


async def test_control_requests_are_not_recorded(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    await control(session, simulator, "GET", "state")
    await control(session, simulator, "POST", "power_cycle")
    assert simulator.requests == []


async def test_malformed_control_body(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    async with session.post(
        simulator.url + "/_sim/measurements", data=b"{nope"
    ) as response:
        assert response.status == 400
        assert "error" in json.loads(await response.text())


async def test_signature_shape(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    status, state = await control(session, simulator, "GET", "state")
    assert state["signature_shape"] == {"shape": "any", "count": None}
    status, state = await control(
        session, simulator, "POST", "signature_shape", {"shape": "leading_zero"}
    )
    assert status == 200
    assert state["signature_shape"] == {"shape": "leading_zero", "count": 1}
    simulator.state.begin_transaction()
    status, ended = await control(session, simulator, "POST", "end_transaction")
    sd = bytes.fromhex(json.loads(ended["ocmf"].rsplit("|", 1)[1])["SD"])
    assert (sd[4] == 0x00 and sd[5] < 0x80) or (sd[38] == 0x00 and sd[39] < 0x80)
    assert signature_verifies(ended["ocmf"], state["public_key"])
    status, state = await control(session, simulator, "GET", "state")
    assert state["signature_shape"] == {"shape": "any", "count": None}
    status, state = await control(
        session,
        simulator,
        "POST",
        "signature_shape",
        {"shape": "neither", "count": None},
    )
    assert state["signature_shape"] == {"shape": "neither", "count": None}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, '"shape" must be one of any, leading_zero, leading_ff, neither'),
        ({"shape": "round"}, '"shape" must be one of'),
        ({"shape": 1}, '"shape" must be one of'),
        ({"shape": "neither", "count": 0}, '"count" must be a positive integer'),
        ({"shape": "neither", "count": "2"}, '"count" must be a positive integer'),
        ({"shape": "neither", "count": True}, '"count" must be a positive integer'),
    ],
)
async def test_signature_shape_refuses_bad_input(
    simulator: MeterSimulator,
    session: aiohttp.ClientSession,
    body: dict[str, Any],
    fragment: str,
) -> None:
    status, answer = await control(session, simulator, "POST", "signature_shape", body)
    assert status == 400
    assert fragment in answer["error"]
    assert simulator.state.signature_shape == "any"
