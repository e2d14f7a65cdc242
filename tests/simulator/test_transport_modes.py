"""Each transport mode behaves as named, asserted on the raw bytes on the wire."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from iem_dcr_simulator import FaultKind, MeterSimulator, Transport
from iem_dcr_simulator.faults import FaultPlan
from iem_dcr_simulator.front import (
    ADVERTISED_KEEP_ALIVE,
    CHUNK_SIZE,
    Front,
    FrontSettings,
)
from iem_dcr_simulator.transport import BEHAVIOURS

from .wire import IO_TIMEOUT, raw_connection, request

V1 = "/counter/v1/ocmf/"
METERVALUE = request("GET", V1 + "metervalue")
FRONT_MODES = [mode for mode in Transport if mode is not Transport.AIOHTTP]
# Modes that answer with a Content-Length.
LENGTH_MODES = [
    mode
    for mode in FRONT_MODES
    if mode not in {Transport.CLOSE_DELIMITED, Transport.CHUNKED}
]


def without_time(meter_value: dict[str, Any]) -> dict[str, Any]:
    """Drop the meter's clock: a second may tick between the answer and the check."""
    return {key: value for key, value in meter_value.items() if key != "TM"}


def libcurl_post(path: str) -> bytes:
    """A POST head as libcurl sends it with the EVerest driver's options."""
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n"
        "Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n"
        "Expect: 100-continue\r\n\r\n"
    ).encode()


BEGIN_CHUNKED = b'a\r\n{"TX":"B"}\r\n0\r\n\r\n'


def test_the_default_is_aiohttp() -> None:
    assert MeterSimulator().transport is Transport.AIOHTTP
    assert MeterSimulator(transport="chunked").transport is Transport.CHUNKED


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"transport": "http2"}, "http2"),
        ({"idle_timeout": 0}, "idle_timeout"),
        ({"body_delay": -1}, "body_delay"),
    ],
)
def test_invalid_transport_settings(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MeterSimulator(**arguments)  # type: ignore[arg-type]


# --- 2. close_silently ---------------------------------------------------------------


@pytest.mark.parametrize("connection", [(), ("Connection: keep-alive",)])
async def test_close_silently(connection: tuple[str, ...]) -> None:
    async with (
        MeterSimulator(transport="close_silently") as sim,
        raw_connection(sim) as wire,
    ):
        await wire.send(request("GET", V1 + "metervalue", headers=connection))
        head = await wire.head()
        body = await wire.exactly(int(head.get("content-length") or -1))
        assert await wire.closed_by_server()
    assert head.status_line == "HTTP/1.1 200 OK"
    assert "connection" not in head.names
    assert json.loads(body)["MS"] == sim.state.serial


async def test_close_silently_after_a_request_that_says_close() -> None:
    # What Python's http.server does too, and what broke pooled connections.
    async with (
        MeterSimulator(transport="close_silently") as sim,
        raw_connection(sim) as wire,
    ):
        await wire.send(
            request(
                "POST",
                V1 + "tariff",
                body=b'{"TT":"x"}',
                headers=("Connection: close",),
            )
        )
        head = await wire.head()
        assert await wire.closed_by_server()
    assert head.status_line == "HTTP/1.1 200 OK"
    assert head.get("content-length") == "0"
    assert "connection" not in head.names
    assert sim.state.tariff_text == "x"


# --- 3. idle_drop --------------------------------------------------------------------


async def test_idle_drop_advertises_keep_alive_and_keeps_it_for_a_while() -> None:
    async with (
        MeterSimulator(transport="idle_drop", idle_timeout=IO_TIMEOUT) as sim,
        raw_connection(sim) as wire,
    ):
        heads = []
        # Even a request that asks to close gets keep-alive promised.
        for connection in ("Connection: close", "Connection: keep-alive"):
            await wire.send(request("GET", V1 + "gw", headers=(connection,)))
            heads.append(await wire.head())
            await wire.exactly(int(heads[-1].get("content-length") or -1))
    for head in heads:
        assert head.status_line == "HTTP/1.1 200 OK"
        assert head.get("connection") == "keep-alive"
        assert head.get("keep-alive") == f"timeout={ADVERTISED_KEEP_ALIVE}"
    assert sim.connections_accepted == 1
    assert len(sim.requests) == 2


async def test_idle_drop_drops_an_idle_connection() -> None:
    async with (
        MeterSimulator(transport="idle_drop", idle_timeout=0.05) as sim,
        raw_connection(sim) as wire,
    ):
        await wire.send(METERVALUE)
        head = await wire.head()
        await wire.exactly(int(head.get("content-length") or -1))
        # Nothing more is sent: the server drops the connection by itself.
        assert await wire.closed_by_server()
        async with raw_connection(sim) as wire:
            assert await wire.closed_by_server()  # also before the first request
    assert head.get("connection") == "keep-alive"
    assert len(sim.requests) == 1


# --- 4. http10 -----------------------------------------------------------------------


async def test_http10_answers_as_http_1_0_and_closes() -> None:
    async with (
        MeterSimulator(transport="http10") as sim,
        raw_connection(sim) as wire,
    ):
        await wire.send(METERVALUE)
        head = await wire.head()
        body = await wire.exactly(int(head.get("content-length") or -1))
        assert await wire.closed_by_server()
    assert head.status_line == "HTTP/1.0 200 OK"
    assert "connection" not in head.names
    assert "transfer-encoding" not in head.names
    assert json.loads(body)["XT"] is False


async def test_http10_knows_no_100_continue() -> None:
    async with (
        MeterSimulator(transport="http10") as sim,
        raw_connection(sim) as wire,
    ):
        await wire.send(libcurl_post(V1 + "receipt") + BEGIN_CHUNKED)
        head = await wire.head()
    assert head.status_line == "HTTP/1.0 200 OK"
    assert sim.state.transaction_active


# --- 5. close_delimited --------------------------------------------------------------


async def test_close_delimited_body() -> None:
    async with (
        MeterSimulator(transport="close_delimited") as sim,
        raw_connection(sim) as wire,
    ):
        await wire.send(METERVALUE)
        head = await wire.head()
        body = await wire.until_closed()
    assert head.status_line == "HTTP/1.1 200 OK"
    assert "content-length" not in head.names
    assert "transfer-encoding" not in head.names
    assert head.get("connection") == "close"
    assert without_time(json.loads(body)) == without_time(sim.state.meter_value())


async def test_close_delimited_empty_body() -> None:
    async with (
        MeterSimulator(transport="close_delimited") as sim,
        raw_connection(sim) as wire,
    ):
        await wire.send(request("POST", V1 + "tariff", body=b'{"TT":"x"}'))
        head = await wire.head()
        assert await wire.closed_by_server()
    assert head.status_line == "HTTP/1.1 200 OK"
    assert "content-length" not in head.names


# --- 6. chunked ----------------------------------------------------------------------


async def test_chunked_answers_in_several_chunks_and_keeps_the_connection() -> None:
    async with (
        MeterSimulator(transport="chunked") as sim,
        raw_connection(sim) as wire,
    ):
        await wire.send(METERVALUE)
        head = await wire.head()
        chunks = await wire.chunks()
        # The connection stays usable: an empty answer is just the last chunk.
        await wire.send(request("POST", V1 + "tariff", body=b'{"TT":"x"}'))
        second = await wire.head()
        empty = await wire.chunks()
    assert head.status_line == "HTTP/1.1 200 OK"
    assert head.get("transfer-encoding") == "chunked"
    assert "content-length" not in head.names
    assert "connection" not in head.names
    assert len(chunks) > 2
    assert all(0 < len(chunk) <= CHUNK_SIZE for chunk in chunks[:-1])
    assert chunks[-1] == b""
    assert without_time(json.loads(b"".join(chunks))) == without_time(
        sim.state.meter_value()
    )
    assert second.get("transfer-encoding") == "chunked"
    assert empty == [b""]
    assert sim.connections_accepted == 1


async def test_chunked_says_close_when_asked_to() -> None:
    async with (
        MeterSimulator(transport="chunked") as sim,
        raw_connection(sim) as wire,
    ):
        await wire.send(request("GET", V1 + "gw", headers=("Connection: close",)))
        head = await wire.head()
        await wire.chunks()
        assert await wire.closed_by_server()
    assert head.get("connection") == "close"


# --- 7. text_plain -------------------------------------------------------------------


async def test_text_plain_serves_meter_json_as_text() -> None:
    async with (
        MeterSimulator(transport="text_plain") as sim,
        raw_connection(sim) as wire,
    ):
        await wire.send(METERVALUE)
        head = await wire.head()
        body = await wire.exactly(int(head.get("content-length") or -1))
        # The control API stays JSON, for the tools that drive the simulator.
        await wire.send(request("GET", "/_sim/state"))
        control = await wire.head()
        await wire.exactly(int(control.get("content-length") or -1))
    assert head.get("content-type") == "text/plain; charset=utf-8"
    assert json.loads(body)["MS"] == sim.state.serial
    assert (control.get("content-type") or "").startswith("application/json")


# --- 8. slow_body --------------------------------------------------------------------


async def test_slow_body_sends_the_head_first() -> None:
    async with (
        MeterSimulator(transport="slow_body", body_delay=IO_TIMEOUT * 10) as sim,
        raw_connection(sim) as wire,
    ):
        await wire.send(METERVALUE)
        await sim.wait_for_hanging()  # the head is out, the body held back
        head = await wire.head()
        assert sim.faults.hanging == 1
        sim.release_hangs()
        body = await wire.exactly(int(head.get("content-length") or -1))
    assert head.status_line == "HTTP/1.1 200 OK"
    assert json.loads(body)["MS"] == sim.state.serial
    assert sim.faults.hanging == 0


async def test_slow_body_follows_by_itself() -> None:
    async with (
        MeterSimulator(transport="slow_body", body_delay=0.01) as sim,
        raw_connection(sim) as wire,
    ):
        await wire.send(METERVALUE)
        head = await wire.head()
        body = await wire.exactly(int(head.get("content-length") or -1))
    assert json.loads(body)["MS"] == sim.state.serial


# --- 9. no_continue ------------------------------------------------------------------


async def test_no_continue_waits_for_the_body() -> None:
    async with (
        MeterSimulator(transport="no_continue") as sim,
        raw_connection(sim) as wire,
    ):
        await wire.send(libcurl_post(V1 + "receipt"))
        # libcurl gives up waiting after about a second and sends the body; the
        # first thing to arrive is then the final answer, not 100 Continue.
        await wire.send(BEGIN_CHUNKED)
        head = await wire.head()
    assert head.status_line == "HTTP/1.1 200 OK"
    assert sim.state.transaction_active
    assert sim.requests[-1].body == '{"TX":"B"}'


@pytest.mark.parametrize(
    "transport",
    [
        mode
        for mode in FRONT_MODES
        if mode not in {Transport.NO_CONTINUE, Transport.HTTP10}
    ],
)
async def test_other_modes_answer_100_continue(transport: Transport) -> None:
    async with (
        MeterSimulator(transport=transport) as sim,
        raw_connection(sim) as wire,
    ):
        await wire.send(libcurl_post(V1 + "receipt"))
        interim = await wire.head()
        began_before_the_body = sim.state.transaction_active
        await wire.send(BEGIN_CHUNKED)
        final = await wire.head()
    assert interim.status_line == "HTTP/1.1 100 Continue"
    assert not began_before_the_body
    assert final.status_line == "HTTP/1.1 200 OK"
    assert sim.state.transaction_active
    # Recorded as it arrived, chunked and all.
    assert sim.requests[-1].headers["Transfer-Encoding"] == "chunked"
    assert sim.requests[-1].headers["Expect"] == "100-continue"


# --- every front mode: faults, control API, listener --------------------------------


@pytest.mark.parametrize("transport", FRONT_MODES)
async def test_disconnect_fault_closes_without_an_answer(transport: Transport) -> None:
    async with MeterSimulator(transport=transport) as sim:
        sim.inject_fault(FaultKind.DISCONNECT, path="metervalue", count=1)
        async with raw_connection(sim) as wire:
            await wire.send(METERVALUE)
            assert await wire.closed_by_server()
        assert len(sim.requests) == 1


@pytest.mark.parametrize("transport", FRONT_MODES)
async def test_hang_fault_then_release(transport: Transport) -> None:
    async with MeterSimulator(transport=transport) as sim:
        sim.inject_fault(FaultKind.HANG, path="gw", count=1)
        async with raw_connection(sim) as wire:
            await wire.send(request("GET", V1 + "gw"))
            await sim.wait_for_hanging()
            sim.release_hangs()
            head = await wire.head()
    assert head.status_line.endswith(" 200 OK")


@pytest.mark.parametrize("transport", FRONT_MODES)
async def test_http_error_fault_in_the_modes_framing(transport: Transport) -> None:
    async with MeterSimulator(transport=transport) as sim:
        sim.inject_fault(FaultKind.HTTP_ERROR, path="metervalue", status=503)
        async with raw_connection(sim) as wire:
            await wire.send(METERVALUE)
            head = await wire.head()
    version = "HTTP/1.0" if transport is Transport.HTTP10 else "HTTP/1.1"
    assert head.status_line == f"{version} 503 Service Unavailable"


@pytest.mark.parametrize("transport", LENGTH_MODES)
async def test_body_faults_pass_through(transport: Transport) -> None:
    async with MeterSimulator(transport=transport, body_delay=0) as sim:
        sim.inject_fault(FaultKind.GW_NULL_CT, count=1)
        async with raw_connection(sim) as wire:
            await wire.send(request("GET", V1 + "gw"))
            head = await wire.head()
            body = await wire.exactly(int(head.get("content-length") or -1))
    assert json.loads(body)["CT"] is None


@pytest.mark.parametrize("transport", FRONT_MODES)
async def test_control_api_works(transport: Transport) -> None:
    async with MeterSimulator(transport=transport, body_delay=0) as sim:
        sim.state.begin_transaction()
        async with raw_connection(sim) as wire:
            await wire.send(request("POST", "/_sim/end_transaction"))
            head = await wire.head()
    assert head.status_line.endswith(" 200 OK")
    assert not sim.state.transaction_active
    assert sim.requests == []  # the control API is not recorded


@pytest.mark.parametrize("transport", FRONT_MODES)
async def test_refuse_closes_the_listener_and_idle_connections(
    transport: Transport,
) -> None:
    async with MeterSimulator(transport=transport, body_delay=0) as sim:
        port = sim.port
        async with raw_connection(sim) as idle:
            await sim.refuse_connections()
            with pytest.raises(ConnectionRefusedError):
                await asyncio.open_connection("127.0.0.1", port)
            assert await idle.closed_by_server()
        await sim.accept_connections()
        async with raw_connection(sim) as wire:
            await wire.send(METERVALUE)
            head = await wire.head()
    assert sim.port == port
    assert head.status_line.endswith(" 200 OK")


async def test_refuse_fault_over_the_control_api_answers_first() -> None:
    async with (
        MeterSimulator(transport="chunked") as sim,
        raw_connection(sim) as wire,
    ):
        await wire.send(
            request(
                "POST",
                "/_sim/faults",
                body=b'{"kind": "refuse", "seconds": 0.05}',
            )
        )
        head = await wire.head()
        state = json.loads(b"".join(await wire.chunks()))
        # The connection that asked is closed after its answer.
        assert await wire.closed_by_server()
        assert head.get("connection") == "close"
        assert state["listening"] is False
        await sim.wait_until_listening()
        assert sim.listening


@pytest.mark.parametrize("transport", FRONT_MODES)
async def test_stop_ends_a_hanging_request(transport: Transport) -> None:
    sim = MeterSimulator(transport=transport)
    await sim.start()
    sim.inject_fault(FaultKind.HANG)
    async with raw_connection(sim) as wire:
        await wire.send(METERVALUE)
        await sim.wait_for_hanging()
        await sim.stop()
        # The connection ends (this would time out otherwise), answered or not.
        await wire.until_closed()
    assert sim.faults.hanging == 0


@pytest.mark.parametrize("transport", FRONT_MODES)
async def test_restart_in_a_front_mode(transport: Transport) -> None:
    async with MeterSimulator(transport=transport, body_delay=0) as sim:
        port = sim.port
        await sim.stop()
        await sim.start()
        async with raw_connection(sim) as wire:
            await wire.send(METERVALUE)
            head = await wire.head()
    assert sim.port == port
    assert head.status_line.endswith(" 200 OK")


@pytest.mark.parametrize("transport", FRONT_MODES)
async def test_malformed_request_gets_400(transport: Transport) -> None:
    async with (
        MeterSimulator(transport=transport) as sim,
        raw_connection(sim) as wire,
    ):
        await wire.send(b"HELLO\r\n\r\n")
        head = await wire.head()
        assert await wire.closed_by_server()
    assert head.status_line.endswith(" 400 Bad Request")
    assert sim.requests == []


async def test_unknown_path_and_method_pass_through() -> None:
    async with (
        MeterSimulator(transport="close_silently") as sim,
        raw_connection(sim) as wire,
    ):
        await wire.send(request("GET", V1 + "nothing"))
        not_found = await wire.head()
        async with raw_connection(sim) as wire:
            await wire.send(request("GET", V1 + "user"))
            not_allowed = await wire.head()
    assert not_found.status_line == "HTTP/1.1 404 Not Found"
    assert not_allowed.status_line == "HTTP/1.1 405 Method Not Allowed"


# --- the front's own edges -------------------------------------------------------------


@pytest.mark.parametrize("transport", FRONT_MODES)
async def test_a_request_cut_off_by_the_client(transport: Transport) -> None:
    async with (
        MeterSimulator(transport=transport) as sim,
        raw_connection(sim) as wire,
    ):
        await wire.send(
            b"POST /counter/v1/ocmf/tariff HTTP/1.1\r\nContent-Length: 9\r\n\r\n{"
        )
        wire.writer.write_eof()
        assert await wire.closed_by_server()
    assert sim.requests == []


async def test_head_request_gets_the_length_without_a_body() -> None:
    async with (
        MeterSimulator(transport="close_silently") as sim,
        raw_connection(sim) as wire,
    ):
        await wire.send(request("HEAD", V1 + "metervalue"))
        head = await wire.head()
        assert await wire.closed_by_server()
    assert head.status_line == "HTTP/1.1 200 OK"
    assert int(head.get("content-length") or 0) > 100


async def test_an_answer_cut_off_by_the_application_is_not_passed_on() -> None:
    async def half_an_answer(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        await writer.drain()
        writer.close()

    backend = await asyncio.start_server(half_an_answer, "127.0.0.1", 0)
    front = Front(
        FrontSettings(
            behaviour=BEHAVIOURS[Transport.CHUNKED],
            idle_timeout=1,
            body_delay=0,
            is_meter_path=lambda path: True,
        ),
        FaultPlan(),
    )
    front.backend = ("127.0.0.1", backend.sockets[0].getsockname()[1])
    server = await asyncio.start_server(front.serve, "127.0.0.1", 0)
    try:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", server.sockets[0].getsockname()[1]
        )
        writer.write(METERVALUE)
        assert await asyncio.wait_for(reader.read(), IO_TIMEOUT) == b""
        writer.close()
    finally:
        await front.close()
        server.close()
        backend.close()
        await server.wait_closed()
        await backend.wait_closed()


async def test_start_fails_cleanly_on_a_port_in_use() -> None:
    blocker = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = blocker.sockets[0].getsockname()[1]
    sim = MeterSimulator(port=port, transport="chunked")
    try:
        with pytest.raises(OSError):
            await sim.start()
        assert not sim.listening
        await sim.stop()  # nothing to stop
    finally:
        blocker.close()
        await blocker.wait_closed()
