"""Fixtures for the simulator tests: a controllable clock, a running meter, a client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from iem_dcr_simulator import MeterSimulator


class FakeClock:
    """An aware UTC clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(autouse=True)
def _loopback_sockets(socket_enabled: None) -> None:
    """Allow sockets; the plugin still restricts connections to 127.0.0.1."""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC))


@pytest.fixture
async def simulator(clock: FakeClock) -> AsyncIterator[MeterSimulator]:
    async with MeterSimulator(clock=clock) as sim:
        yield sim


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    # A new connection per request, like the EVerest driver (CURLOPT_FORBID_REUSE).
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(force_close=True),
        timeout=aiohttp.ClientTimeout(total=5),
    ) as client:
        yield client
