"""Fixtures for the client tests: the simulated meter and clients pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest

from custom_components.iem_dcr.api import IemDcrClient, create_session
from iem_dcr_simulator import MeterSimulator


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    """Give a test a session to inject, as create_session() makes them.

    Socket use is switched on for its tests; the plugin still only lets them
    connect to 127.0.0.1.
    """
    async with create_session() as client_session:
        yield client_session


@pytest.fixture
async def simulator(socket_enabled: None) -> AsyncIterator[MeterSimulator]:
    """Serve a freshly powered-up simulated meter on 127.0.0.1."""
    async with MeterSimulator() as sim:
        yield sim


type MakeClient = Callable[[str, int], IemDcrClient]

# The client's own HTTP/1.1 transport, and an injected aiohttp session.
TRANSPORTS = ("own", "aiohttp")


@pytest.fixture(params=TRANSPORTS)
async def make_client(
    request: pytest.FixtureRequest, socket_enabled: None
) -> AsyncIterator[MakeClient]:
    """Make clients for a host and port on one of the two transports."""
    if request.param == "own":
        yield IemDcrClient
        return
    async with create_session() as client_session:
        yield lambda host, port: IemDcrClient(host, port, session=client_session)


@pytest.fixture
async def client(
    simulator: MeterSimulator, make_client: MakeClient
) -> AsyncIterator[IemDcrClient]:
    """Point the client under test at the simulator, on each transport."""
    async with make_client(simulator.host, simulator.port) as meter_client:
        yield meter_client
