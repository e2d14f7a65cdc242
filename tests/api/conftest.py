"""Fixtures for the client tests: the simulated meter and clients pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

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


@pytest.fixture
async def client(simulator: MeterSimulator) -> AsyncIterator[IemDcrClient]:
    """Point the client under test at the simulator, with a session of its own."""
    async with IemDcrClient(simulator.host, simulator.port) as meter_client:
        yield meter_client
