"""One connection per request, each sent once: the client against servers unlike ours."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
import pytest

from custom_components.iem_dcr.api import IemDcrClient, IemDcrConnectionError
from iem_dcr_simulator import MeterSimulator, Transport

from .reference_sequence import EXPECTED, run_reference_sequence
from .stdlib_meter import stdlib_meter

REQUESTS_PER_SEQUENCE = len(EXPECTED) + 2  # two steps ask v1, then v2


@pytest.mark.parametrize("transport", list(Transport))
async def test_reference_sequence_in_every_transport_mode(
    socket_enabled: None, transport: Transport
) -> None:
    async with (
        MeterSimulator(transport=transport) as simulator,
        IemDcrClient(simulator.host, simulator.port) as client,
    ):
        run = await run_reference_sequence(client, simulator)

    assert not run.failed, run.report()
    assert run.requests == REQUESTS_PER_SEQUENCE
    # A new connection for every request, even where the server offers to keep one.
    assert simulator.connections_accepted == REQUESTS_PER_SEQUENCE


async def test_reference_sequence_through_stdlib_http_server(
    simulator: MeterSimulator,
) -> None:
    # http.server closes after a request that says "Connection: close" without
    # echoing it: a pooled connection would be dead at the next request.
    async with (
        stdlib_meter(simulator) as meter,
        IemDcrClient(meter.host, meter.port) as client,
    ):
        run = await run_reference_sequence(client, simulator)

    assert not run.failed, run.report()
    assert run.requests == REQUESTS_PER_SEQUENCE


async def test_reference_sequence_with_an_injected_session(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    async with stdlib_meter(simulator) as meter:
        client = IemDcrClient(meter.host, meter.port, session=session)
        run = await run_reference_sequence(client, simulator)

    assert not run.failed, run.report()
    assert run.requests == REQUESTS_PER_SEQUENCE


# --- never resent behind our back ---------------------------------------------------


@dataclass
class DroppingServer:
    """Reads each request in full, then closes the connection without an answer."""

    port: int
    requests: list[bytes] = field(default_factory=list)
    connections: int = 0


@asynccontextmanager
async def dropping_server() -> AsyncIterator[DroppingServer]:
    server_state: DroppingServer | None = None

    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert server_state is not None
        server_state.connections += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            server_state.requests.append(head + await reader.readexactly(length))
        finally:
            writer.close()

    server = await asyncio.start_server(drop, "127.0.0.1", 0)
    server_state = DroppingServer(port=server.sockets[0].getsockname()[1])
    try:
        yield server_state
    finally:
        server.close()
        await server.wait_closed()


CALLS: dict[str, Callable[[IemDcrClient], Awaitable[object]]] = {
    "GET": lambda client: client.get_receipt(),
    "POST": lambda client: client.end_transaction(),
}


@pytest.mark.parametrize("method", CALLS)
async def test_a_dropped_request_is_sent_once(
    socket_enabled: None, method: str
) -> None:
    async with (
        dropping_server() as server,
        IemDcrClient("127.0.0.1", server.port) as client,
    ):
        with pytest.raises(IemDcrConnectionError):
            await CALLS[method](client)

    assert len(server.requests) == 1
    assert server.requests[0].startswith(f"{method} /counter/v1/ocmf/receipt ".encode())
    assert server.connections == 1


@pytest.mark.parametrize("method", CALLS)
async def test_a_dropped_request_is_sent_once_with_create_session(
    session: aiohttp.ClientSession, method: str
) -> None:
    async with dropping_server() as server:
        client = IemDcrClient("127.0.0.1", server.port, session=session)
        with pytest.raises(IemDcrConnectionError):
            await CALLS[method](client)

    assert len(server.requests) == 1


async def test_aiohttp_alone_resends_a_dropped_get(socket_enabled: None) -> None:
    # Why create_session() switches aiohttp's retry off: even on a connection of
    # its own, a GET whose answer never came is sent a second time.
    async with (
        dropping_server() as server,
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(force_close=True)
        ) as session,
    ):
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await session.get(f"http://127.0.0.1:{server.port}/counter/v1/ocmf/receipt")

    assert len(server.requests) == 2
