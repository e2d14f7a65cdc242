"""The command line entry point."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from iem_dcr_simulator import MeterSimulator
from iem_dcr_simulator.__main__ import parse_arguments, serve


def test_defaults_listen_on_loopback() -> None:
    arguments = parse_arguments([])
    assert arguments.host == "127.0.0.1"
    assert arguments.port == 8080
    assert arguments.serial == "1ISA0200001132"
    assert arguments.key_file is None
    assert (arguments.voltage, arguments.current) == (0.0, 0.0)


async def test_serve_keeps_its_key_across_restarts(tmp_path: Path) -> None:
    key_file = tmp_path / "meter.pem"
    arguments = parse_arguments(
        [
            "--port", "0",
            "--serial", "1ISA0200009999",
            "--key-file", str(key_file),
            "--voltage", "400",
            "--current", "-2",
        ]
    )  # fmt: skip
    seen: list[tuple[str, str, float]] = []

    async def run_once() -> None:
        stop = asyncio.Event()

        def announce(simulator: MeterSimulator) -> None:
            asyncio.get_running_loop().create_task(read(simulator, stop))

        await serve(arguments, stop, announce)

    async def read(simulator: MeterSimulator, stop: asyncio.Event) -> None:
        base = simulator.url + "/counter/v1/ocmf/"
        try:
            async with aiohttp.ClientSession() as session:
                async with session.get(base + "metervalue") as response:
                    document = await response.json()
                async with session.get(base + "publickey") as response:
                    public_key = (await response.json())["PK"]
            seen.append((document["MS"], public_key, document["P"]))
        finally:
            stop.set()

    await asyncio.wait_for(run_once(), 5)
    assert key_file.exists()
    await asyncio.wait_for(run_once(), 5)
    assert len(seen) == 2
    assert seen[0] == seen[1]
    assert seen[0][0] == "1ISA0200009999"
    assert seen[0][2] == -800.0
