"""Run the simulated meter: `python -m iem_dcr_simulator --port 8080`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path
import signal
from typing import TYPE_CHECKING

from .server import MeterSimulator
from .signing import load_or_create_private_key
from .state import DEFAULT_SERIAL

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m iem_dcr_simulator",
        description="Simulated Isabellenhütte IEM-DCR meter: the meter's HTTP API "
        "plus a control API under /_sim/.",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; the API has no authentication)",
    )
    parser.add_argument(
        "--port", type=int, default=8080, help="TCP port (default 8080)"
    )
    parser.add_argument(
        "--serial", default=DEFAULT_SERIAL, help="meter serial (MS, GS)"
    )
    parser.add_argument(
        "--key-file",
        type=Path,
        help="PEM file with the meter's P-256 key, created if missing so that the "
        "meter keeps its key across restarts",
    )
    parser.add_argument("--voltage", type=float, default=0.0, help="DC voltage in V")
    parser.add_argument(
        "--current", type=float, default=0.0, help="DC current in A (negative: export)"
    )
    return parser.parse_args(argv)


def _announce(simulator: MeterSimulator) -> None:
    print(f"IEM-DCR simulator {simulator.state.serial} listening at {simulator.url}")
    print(f"public key {simulator.state.public_key_hex}")
    print(f"control API {simulator.url}/_sim/state")


async def serve(
    arguments: argparse.Namespace,
    stop: asyncio.Event,
    announce: Callable[[MeterSimulator], None] = _announce,
) -> None:
    """Serve the meter described by `arguments` until `stop` is set."""
    private_key = (
        load_or_create_private_key(arguments.key_file) if arguments.key_file else None
    )
    simulator = MeterSimulator(
        host=arguments.host,
        port=arguments.port,
        serial=arguments.serial,
        private_key=private_key,
    )
    simulator.state.set_measurements(
        voltage=arguments.voltage, current=arguments.current
    )
    async with simulator:
        announce(simulator)
        await stop.wait()


async def _serve_until_signalled(arguments: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signal_number, stop.set)
    await serve(arguments, stop)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve until SIGINT or SIGTERM."""
    asyncio.run(_serve_until_signalled(parse_arguments(argv)))


if __name__ == "__main__":
    main()
