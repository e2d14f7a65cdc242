"""Fixtures for the client tests: a real HTTP session and the simulated meter."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from custom_components.iem_dcr.api import IemDcrClient
from iem_dcr_simulator import MeterSimulator


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    """Give each test its own aiohttp session; the client never closes it.

    Socket use is switched on for its tests; the plugin still only lets them
    connect to 127.0.0.1.
    """
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
async def simulator(socket_enabled: None) -> AsyncIterator[MeterSimulator]:
    """Serve a freshly powered-up simulated meter on 127.0.0.1."""
    async with MeterSimulator() as sim:
        yield sim


@pytest.fixture
def client(simulator: MeterSimulator, session: aiohttp.ClientSession) -> IemDcrClient:
    """Point the client under test at the simulator."""
    return IemDcrClient(simulator.host, simulator.port, session=session)
