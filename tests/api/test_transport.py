"""One connection per request: the client against servers unlike our simulator."""

from __future__ import annotations

import aiohttp
import pytest

from custom_components.iem_dcr.api import IemDcrClient
from iem_dcr_simulator import MeterSimulator

from .reference_sequence import EXPECTED, run_reference_sequence
from .stdlib_meter import stdlib_meter

REQUESTS_PER_SEQUENCE = len(EXPECTED) + 2  # two steps ask v1, then v2


@pytest.mark.xfail(
    strict=True, reason="issue 8: a pooled connection the server has closed is reused"
)
async def test_reference_sequence_through_stdlib_http_server(
    simulator: MeterSimulator, session: aiohttp.ClientSession
) -> None:
    async with stdlib_meter(simulator) as meter:
        client = IemDcrClient(meter.host, meter.port, session=session)
        run = await run_reference_sequence(client, simulator)

    assert not run.failed, run.report()
    assert run.requests == REQUESTS_PER_SEQUENCE
