"""The floor: a bare GET plus json parse outside Home Assistant, new connection per request.

In a tight loop (warm caches) and once a second (cold, as at one meter). Two transports: the integration's own (`api/http1.py`) and aiohttp's client, as the
integration used before it spoke HTTP/1.1 itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import json
import time

import aiohttp

from custom_components.iem_dcr.api.http1 import build_request, exchange

from .processes import Meters

PATH = "/counter/v1/ocmf/metervalue"


async def _aiohttp_get(host: str, port: int) -> bytes:
    # A new connection per request, as the integration's transport makes.
    async with (
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(force_close=True)
        ) as session,
        session.get(f"http://{host}:{port}{PATH}") as answer,
    ):
        return await answer.read()


async def _own_get(host: str, port: int) -> bytes:
    answer = await exchange(host, port, build_request("GET", f"{host}:{port}", PATH))
    return answer.body


TRANSPORTS: dict[str, Callable[[str, int], Awaitable[bytes]]] = {
    "own HTTP/1.1": _own_get,
    "aiohttp": _aiohttp_get,
}


async def _poll(
    get: Callable[[str, int], Awaitable[bytes]], port: int, count: int
) -> float:
    for _ in range(10):  # warm up
        json.loads(await get("127.0.0.1", port))
    began = time.process_time()
    for _ in range(count):
        json.loads(await get("127.0.0.1", port))
    return (time.process_time() - began) * 1000 / count


async def _once_a_second(port: int, seconds: int, *, request: bool) -> float:
    """CPU ms per wake-up of a process that sleeps a second between polls.

    A process that wakes once a second finds its caches cold, as Home Assistant
    does at one meter: this, not the tight loop above, is the floor there.
    """
    began = time.process_time()
    for _ in range(seconds):
        await asyncio.sleep(1)
        if request:
            json.loads(await _own_get("127.0.0.1", port))
    return (time.process_time() - began) * 1000 / seconds


def measure(count: int = 500, seconds: int = 20) -> list[tuple[str, float]]:
    """Return the floor rows: CPU ms per request of this process, one stand-in meter.

    Each transport in a tight loop, then the own transport and a timer alone once
    a second.
    """
    meters = Meters(1)
    meters.start()
    try:
        port = int(str(meters.ports[0]["port"]))
        rows = [
            (
                f"floor: {name} GET + json, new connection",
                asyncio.run(_poll(get, port, count)),
            )
            for name, get in TRANSPORTS.items()
        ]
        rows += [
            (
                f"floor, once a second: {name}",
                asyncio.run(_once_a_second(port, seconds, request=request)),
            )
            for name, request in (
                ("a timer alone", False),
                ("own GET + json, new connection", True),
            )
        ]
        return rows
    finally:
        meters.stop()
