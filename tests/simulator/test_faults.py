"""Fault injection: every kind, its scope, count and release."""

from __future__ import annotations

import asyncio
from decimal import Decimal
import json

import aiohttp
import pytest

from iem_dcr_simulator import FaultKind, MeterSimulator

V1 = "/counter/v1/ocmf/"
IO_TIMEOUT = 5  # safety net only


async def fetch(
    session: aiohttp.ClientSession, sim: MeterSimulator, path: str
) -> tuple[int, str]:
    async with session.get(sim.url + path) as response:
        return response.status, await response.text()


async def send(
    session: aiohttp.ClientSession, sim: MeterSimulator, path: str, body: object
) -> tuple[int, str]:
    async with session.post(sim.url + path, json=body) as response:
        return response.status, await response.text()


async def raw_get(sim: MeterSimulator, path: str) -> bytes:
    """Send one GET on a fresh connection and return everything until EOF."""
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    try:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        return await asyncio.wait_for(reader.read(), IO_TIMEOUT)
    finally:
        writer.close()
        await writer.wait_closed()


# --- refuse -----------------------------------------------------------------------------


async def test_refuse_and_accept_connections(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    port = simulator.port
    await simulator.refuse_connections()
    assert not simulator.listening
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)
    await simulator.accept_connections()
    assert simulator.port == port
    assert (await fetch(session, simulator, V1 + "metervalue"))[0] == 200


async def test_refuse_fault_until_cleared(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.inject_fault(FaultKind.REFUSE)
    with pytest.raises(aiohttp.ClientConnectorError):
        await fetch(session, simulator, V1 + "metervalue")
    simulator.clear_faults()
    await simulator.wait_until_listening()
    assert (await fetch(session, simulator, V1 + "metervalue"))[0] == 200


async def test_refuse_for_some_seconds_reopens_by_itself(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.inject_fault(FaultKind.REFUSE, seconds=0.05)
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", simulator.port)
    await simulator.wait_until_listening()
    assert simulator.listening
    assert (await fetch(session, simulator, V1 + "metervalue"))[0] == 200


async def test_refuse_also_drops_pooled_connections(
    simulator: MeterSimulator,
) -> None:
    async with aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=IO_TIMEOUT)
    ) as pooled:
        assert (await fetch(pooled, simulator, V1 + "metervalue"))[0] == 200
        await simulator.refuse_connections()
        with pytest.raises(aiohttp.ClientError):
            await fetch(pooled, simulator, V1 + "metervalue")
        await simulator.accept_connections()
        assert (await fetch(pooled, simulator, V1 + "metervalue"))[0] == 200


# --- hang -------------------------------------------------------------------------------


async def test_hang_until_released_then_answer_normally(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.inject_fault(FaultKind.HANG, path="receipt")
    request = asyncio.create_task(send(session, simulator, V1 + "receipt", {"TX": "B"}))
    await simulator.wait_for_hanging()
    assert not request.done()
    assert not simulator.state.transaction_active
    # Other endpoints still answer.
    assert (await fetch(session, simulator, V1 + "metervalue"))[0] == 200
    simulator.release_hangs()
    assert await request == (200, "")
    assert simulator.state.transaction_active


async def test_hang_outlasts_a_client_timeout(
    simulator: MeterSimulator,
) -> None:
    simulator.inject_fault(FaultKind.HANG, count=1)
    async with aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=0.05)
    ) as impatient:
        with pytest.raises(TimeoutError):
            await fetch(impatient, simulator, V1 + "metervalue")
    assert simulator.faults.hanging == 1
    simulator.release_hangs()


async def test_hang_with_seconds_answers_by_itself(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.inject_fault(FaultKind.HANG, seconds=0.05, count=1)
    assert (await fetch(session, simulator, V1 + "gw"))[0] == 200
    assert simulator.faults.hanging == 0


async def test_stop_releases_hanging_requests(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.inject_fault(FaultKind.HANG)
    request = asyncio.create_task(fetch(session, simulator, V1 + "metervalue"))
    await simulator.wait_for_hanging()
    await simulator.stop()
    assert not simulator.listening
    await asyncio.wait_for(asyncio.wait([request]), IO_TIMEOUT)
    assert request.done()
    if request.exception() is None:
        assert request.result()[0] == 200


async def test_hang_counts_every_waiting_request(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.inject_fault(FaultKind.HANG, path="gw")
    requests = [
        asyncio.create_task(fetch(session, simulator, V1 + "gw")) for _ in range(3)
    ]
    await simulator.wait_for_hanging(3)
    simulator.release_hangs()
    assert [status for status, _ in await asyncio.gather(*requests)] == [200] * 3


# --- http error and disconnect ----------------------------------------------------------


async def test_http_error_with_count(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.inject_fault(FaultKind.HTTP_ERROR, path="receipt", count=2, status=503)
    assert await send(session, simulator, V1 + "receipt", {"TX": "B"}) == (503, "")
    assert not simulator.state.transaction_active
    assert await send(session, simulator, V1 + "receipt", {"TX": "B"}) == (503, "")
    assert await send(session, simulator, V1 + "receipt", {"TX": "B"}) == (200, "")
    assert simulator.state.transaction_active


async def test_http_error_defaults_to_500_for_every_endpoint(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.inject_fault(FaultKind.HTTP_ERROR)
    for name in ("gw", "metervalue", "publickey", "datetime"):
        assert await fetch(session, simulator, V1 + name) == (500, "")
    assert (await send(session, simulator, V1 + "tariff", {"TT": "x"}))[0] == 500
    assert simulator.state.tariff_text == ""
    # The control API is never affected.
    assert (await fetch(session, simulator, "/_sim/state"))[0] == 200
    simulator.clear_faults()
    assert (await fetch(session, simulator, V1 + "gw"))[0] == 200


async def test_disconnect_closes_without_a_response(
    simulator: MeterSimulator,
) -> None:
    simulator.inject_fault(FaultKind.DISCONNECT, path="metervalue", count=1)
    assert await raw_get(simulator, V1 + "metervalue") == b""
    assert (await raw_get(simulator, V1 + "metervalue")).startswith(b"HTTP/1.1 200")


async def test_disconnect_leaves_the_meter_unchanged(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.inject_fault(FaultKind.DISCONNECT, path="receipt")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await send(session, simulator, V1 + "receipt", {"TX": "B"})
    assert not simulator.state.transaction_active
    assert len(simulator.requests) == 1


# --- bad bodies -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["gw", "metervalue", "publickey", "datetime"])
async def test_malformed_json(
    simulator: MeterSimulator, session: aiohttp.ClientSession, name: str
) -> None:
    intact = (await fetch(session, simulator, V1 + name))[1]
    simulator.inject_fault(FaultKind.MALFORMED_JSON, count=1)
    status, body = await fetch(session, simulator, V1 + name)
    assert status == 200
    assert body
    assert intact.startswith(body)
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)


async def test_body_faults_skip_answers_that_are_not_json(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.inject_fault(FaultKind.MALFORMED_JSON, count=1)
    assert await send(session, simulator, V1 + "tariff", {"TT": "x"}) == (200, "")
    assert await send(session, simulator, V1 + "receipt", {"TX": "B"}) == (200, "")
    assert (await fetch(session, simulator, V1 + "receipt"))[1].startswith("OCMF|")
    # Still pending: it acts on the next JSON answer.
    with pytest.raises(json.JSONDecodeError):
        json.loads((await fetch(session, simulator, V1 + "gw"))[1])
    json.loads((await fetch(session, simulator, V1 + "gw"))[1])


async def test_wrong_types_in_metervalue(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.state.add_energy(Decimal("446.54"))
    simulator.state.set_measurements(voltage=60.0, current=5.0)
    simulator.inject_fault(FaultKind.WRONG_TYPES, path="metervalue")
    status, body = await fetch(session, simulator, V1 + "metervalue")
    assert status == 200
    document = json.loads(body)
    assert document["XT"] == "false"
    assert document["I"] == "5.0"
    assert document["RD"][0]["RV"] == 446.54
    assert simulator.state.meter_value()["XT"] is False


@pytest.mark.parametrize(
    ("name", "field"),
    [("gw", "CT"), ("publickey", "PK"), ("datetime", "TM")],
)
async def test_wrong_types_elsewhere(
    simulator: MeterSimulator, session: aiohttp.ClientSession, name: str, field: str
) -> None:
    simulator.inject_fault(FaultKind.WRONG_TYPES, path=name)
    document = json.loads((await fetch(session, simulator, V1 + name))[1])
    assert not isinstance(document[field], str)


@pytest.mark.parametrize(
    ("name", "field"),
    [("metervalue", "XT"), ("publickey", "PK"), ("gw", "CT"), ("datetime", "TM")],
)
async def test_missing_fields(
    simulator: MeterSimulator, session: aiohttp.ClientSession, name: str, field: str
) -> None:
    assert field in json.loads((await fetch(session, simulator, V1 + name))[1])
    simulator.inject_fault(FaultKind.MISSING_FIELDS, count=1)
    status, body = await fetch(session, simulator, V1 + name)
    assert status == 200
    assert field not in json.loads(body)


async def test_gw_null_ct(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.inject_fault(FaultKind.GW_NULL_CT)
    assert (await fetch(session, simulator, V1 + "metervalue"))[0] == 200
    document = json.loads((await fetch(session, simulator, V1 + "gw"))[1])
    assert document["CT"] is None
    assert document["CI"] == ""
    assert document["TM"].endswith(" U")


# --- scope ------------------------------------------------------------------------------


async def test_transaction_path_covers_v1_and_v2(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.inject_fault(FaultKind.HTTP_ERROR, path="transaction", status=404)
    assert (await fetch(session, simulator, V1 + "transaction"))[0] == 404
    assert (await fetch(session, simulator, "/counter/v2/ocmf/transaction"))[0] == 404
    assert (await fetch(session, simulator, V1 + "receipt"))[0] == 428


async def test_faults_act_in_injection_order(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.inject_fault(FaultKind.HTTP_ERROR, path="gw", count=1, status=502)
    simulator.inject_fault(FaultKind.HTTP_ERROR, count=1, status=503)
    assert (await fetch(session, simulator, V1 + "gw"))[0] == 502
    assert (await fetch(session, simulator, V1 + "gw"))[0] == 503
    assert (await fetch(session, simulator, V1 + "gw"))[0] == 200
    assert simulator.faults.active == []


@pytest.mark.parametrize(
    "arguments",
    [
        {"kind": FaultKind.HTTP_ERROR, "path": "meter_value"},
        {"kind": FaultKind.HTTP_ERROR, "count": 0},
        {"kind": FaultKind.HTTP_ERROR, "status": 99},
        {"kind": FaultKind.HANG, "seconds": 0},
        {"kind": FaultKind.REFUSE, "path": "gw"},
        {"kind": FaultKind.REFUSE, "count": 1},
        {"kind": "explode"},
    ],
)
async def test_invalid_faults_are_rejected(
    simulator: MeterSimulator, arguments: dict[str, object]
) -> None:
    kind = arguments.pop("kind")
    with pytest.raises(ValueError):
        simulator.inject_fault(kind, **arguments)  # type: ignore[arg-type]
    assert simulator.faults.active == []
    assert simulator.listening


async def test_restart_keeps_port_and_meter(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    port = simulator.port
    simulator.state.begin_transaction()
    record = simulator.state.end_transaction()
    await simulator.stop()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)
    await simulator.start()
    assert simulator.port == port
    assert await fetch(session, simulator, V1 + "transaction") == (200, record)


# --- answers lost, held back or damaged (signed data) ---------------------------------


async def _begun(session: aiohttp.ClientSession, sim: MeterSimulator) -> None:
    assert (await send(session, sim, V1 + "receipt", {"TX": "B"}))[0] == 200


async def test_lost_answer_takes_effect_but_never_arrives(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    await _begun(session, simulator)
    simulator.inject_fault(FaultKind.LOST_ANSWER, path="receipt", count=1)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await send(session, simulator, V1 + "receipt", {"TX": "E"})
    # The end happened: the meter is idle and holds the new record.
    assert not simulator.state.transaction_active
    assert len(simulator.state.issued) == 1
    # A repeated end is refused, as on a meter that already ended.
    assert (await send(session, simulator, V1 + "receipt", {"TX": "E"}))[0] == 428


async def test_held_answer_describes_the_meter_as_it_was(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    await _begun(session, simulator)
    simulator.inject_fault(FaultKind.HOLD_ANSWER, path="metervalue", count=1)
    poll = asyncio.create_task(fetch(session, simulator, V1 + "metervalue"))
    await simulator.wait_for_hanging()
    simulator.state.end_transaction()
    simulator.release_hangs()
    status, body = await poll
    assert status == 200
    assert json.loads(body)["XT"] is True
    fresh = json.loads((await fetch(session, simulator, V1 + "metervalue"))[1])
    assert fresh["XT"] is False


@pytest.mark.parametrize("path", ["receipt", "transaction"])
async def test_malformed_ocmf_is_cut_in_half(
    simulator: MeterSimulator, session: aiohttp.ClientSession, path: str
) -> None:
    await _begun(session, simulator)
    record = simulator.state.end_transaction()
    simulator.inject_fault(FaultKind.MALFORMED_OCMF, path=path, count=1)
    status, body = await fetch(session, simulator, V1 + path)
    assert status == 200
    assert body == record[: len(record) // 2]
    # Only signed data is damaged, and only as often as asked.
    assert (await fetch(session, simulator, V1 + path))[1] == record


async def test_bad_signature_changes_one_digit_of_sd(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    await _begun(session, simulator)
    record = simulator.state.end_transaction()
    simulator.inject_fault(FaultKind.BAD_SIGNATURE, path="receipt", count=1)
    _, body = await fetch(session, simulator, V1 + "receipt")
    assert len(body) == len(record)
    differing = [
        index for index, (a, b) in enumerate(zip(body, record, strict=True)) if a != b
    ]
    assert len(differing) == 1
    assert differing[0] > record.rindex('"SD":"')
    # The signed payload is untouched.
    assert body.split("|")[1] == record.split("|")[1]


async def test_undecodable_signature_is_not_hex(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    await _begun(session, simulator)
    record = simulator.state.end_transaction()
    simulator.inject_fault(FaultKind.UNDECODABLE_SIGNATURE, path="transaction")
    _, body = await fetch(session, simulator, V1 + "transaction")
    assert body.split("|")[:2] == record.split("|")[:2]
    assert json.loads(body.split("|")[2])["SD"] == "not-hex"


async def test_signed_data_faults_leave_json_endpoints_alone(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    simulator.inject_fault(FaultKind.MALFORMED_OCMF)
    status, body = await fetch(session, simulator, V1 + "metervalue")
    assert status == 200
    assert json.loads(body)["XT"] is False


async def test_method_and_skip_pick_one_request(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    # The second POST /receipt fails, GETs of the same endpoint are left alone.
    simulator.inject_fault(
        FaultKind.HTTP_ERROR, path="receipt", method="POST", skip=1, count=1, status=503
    )
    assert (await send(session, simulator, V1 + "receipt", {"TX": "E"}))[0] == 428
    assert (await fetch(session, simulator, V1 + "receipt"))[0] == 428
    assert (await send(session, simulator, V1 + "receipt", {"TX": "B"}))[0] == 503
    assert not simulator.state.transaction_active
    assert simulator.faults.active == []
    assert (await send(session, simulator, V1 + "receipt", {"TX": "B"}))[0] == 200


@pytest.mark.parametrize("arguments", [{"method": "PUT"}, {"skip": -1}])
async def test_method_and_skip_are_checked(
    simulator: MeterSimulator, arguments: dict[str, object]
) -> None:
    with pytest.raises(ValueError):
        simulator.inject_fault(FaultKind.HANG, **arguments)  # type: ignore[arg-type]
    assert simulator.faults.active == []


async def test_refusing_connections_takes_no_request_filter(
    simulator: MeterSimulator,
) -> None:
    with pytest.raises(ValueError, match="listener"):
        simulator.inject_fault(FaultKind.REFUSE, method="GET")
    assert simulator.listening
