"""Time the client against the simulator over loopback: a poll and a full transaction.

The poll is also timed on a kept-alive connection, to show what a new connection
per request costs.

Run from the repository root:
    ../shared/ci/py314 .venv/bin/python -m benchmarks.bench_client
"""

from __future__ import annotations

import asyncio
import statistics
import time

import aiohttp

from custom_components.iem_dcr.api import IemDcrClient, UserData
from custom_components.iem_dcr.ocmf import parse, verify_signature
from iem_dcr_simulator import MeterSimulator

POLLS = 500
TRANSACTIONS = 50


def _report(name: str, seconds: list[float]) -> None:
    ordered = sorted(seconds)
    print(
        f"{name:<34} median {statistics.median(ordered) * 1000:7.2f} ms"
        f"   p95 {ordered[int(len(ordered) * 0.95)] * 1000:7.2f} ms   n={len(ordered)}"
    )


async def _pooled_polls(sim: MeterSimulator) -> list[float]:
    """Time the same GET on one kept-alive connection, which the client never does."""
    url = f"{sim.url}/counter/v1/ocmf/metervalue"
    seconds: list[float] = []
    async with aiohttp.ClientSession() as pooled:
        for _ in range(POLLS):
            started = time.perf_counter()
            async with pooled.get(url) as response:
                await response.read()
            seconds.append(time.perf_counter() - started)
    return seconds


async def main() -> None:
    """Measure and print."""
    async with MeterSimulator() as sim, IemDcrClient(sim.host, sim.port) as client:
        await client.set_gateway("EVSEID", "CP-1", "2026-11-26T10:00:00,000+0100")
        key = (await client.get_public_key()).key

        polls: list[float] = []
        for _ in range(POLLS):
            started = time.perf_counter()
            await client.get_meter_value()
            polls.append(time.perf_counter() - started)
        _report("GET /metervalue (poll)", polls)
        pooled = await _pooled_polls(sim)
        _report("  same, reused connection (aiohttp)", pooled)
        print(
            "  a new connection per request costs "
            f"{(statistics.median(polls) - statistics.median(pooled)) * 1000:.2f} ms"
        )

        rounds: list[float] = []
        user = UserData(
            identification_status=True,
            identification_level="VERIFIED",
            identification_flags=("RFID_PLAIN",),
            identification_type="ISO14443",
            identification_data="04A1B2C3D4E5F6",
            show_user_id=False,
        )
        for _ in range(TRANSACTIONS):
            started = time.perf_counter()
            await client.set_user(user)
            await client.begin_transaction()
            await client.end_transaction()
            receipt = await client.get_receipt()
            assert verify_signature(parse(receipt.text), key)
            rounds.append(time.perf_counter() - started)
        _report("user+B+E+receipt+verify (no waits)", rounds)


if __name__ == "__main__":
    asyncio.run(main())
