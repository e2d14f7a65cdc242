"""The floor: a bare aiohttp GET plus json parse, new connection per request."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp

from .processes import Meters


async def _poll(url: str, count: int) -> float:
    began = time.process_time()
    for _ in range(count):
        # A new connection per request, as our transport does.
        async with (
            aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(force_close=True)
            ) as session,
            session.get(url) as answer,
        ):
            json.loads(await answer.read())
    return (time.process_time() - began) * 1000 / count


def measure(count: int = 300) -> float:
    """Return CPU ms per request of this process against a stand-in meter."""
    meters = Meters(1)
    meters.start()
    try:
        url = f"http://127.0.0.1:{meters.ports[0]['port']}/counter/v1/ocmf/metervalue"
        return asyncio.run(_poll(url, count))
    finally:
        meters.stop()
