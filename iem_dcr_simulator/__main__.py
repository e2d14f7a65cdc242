"""Run the simulated meter: `python -m iem_dcr_simulator --port 8080`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path
import signal
from typing import TYPE_CHECKING

from . import persistence
from .server import DEFAULT_BODY_DELAY, DEFAULT_IDLE_TIMEOUT, MeterSimulator
from .signing import load_or_create_private_key
from .state import DEFAULT_SERIAL
from .transport import DESCRIPTIONS, Transport

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m iem_dcr_simulator",
        description="Simulated Isabellenhütte IEM-DCR meter: the meter's HTTP API "
        "plus a control API under /_sim/.",
        epilog="transport modes:\n"
        + "\n".join(f"  {mode.value:<16} {DESCRIPTIONS[mode]}" for mode in Transport),
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    parser.add_argument(
        "--state-file",
        type=Path,
        help="JSON file keeping registers, pagination, issued tuples and key across runs "
        "(loaded at start, written on every transaction and on exit)",
    )
    parser.add_argument("--voltage", type=float, default=0.0, help="DC voltage in V")
    parser.add_argument(
        "--current", type=float, default=0.0, help="DC current in A (negative: export)"
    )
    parser.add_argument(
        "--transport",
        choices=[mode.value for mode in Transport],
        default=Transport.AIOHTTP.value,
        metavar="MODE",
        help="how the meter speaks HTTP (default aiohttp; the modes are listed below)",
    )
    parser.add_argument(
        "--idle-timeout",
        type=_positive,
        default=DEFAULT_IDLE_TIMEOUT,
        help=f"seconds an idle connection lives in idle_drop (default {DEFAULT_IDLE_TIMEOUT})",
    )
    parser.add_argument(
        "--body-delay",
        type=_not_negative,
        default=DEFAULT_BODY_DELAY,
        help=f"seconds between head and body in slow_body (default {DEFAULT_BODY_DELAY})",
    )
    return parser.parse_args(argv)


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def _not_negative(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _announce(simulator: MeterSimulator) -> None:
    print(
        f"IEM-DCR simulator {simulator.state.serial} listening at {simulator.url}"
        f" (transport {simulator.transport})"
    )
    print(f"public key {simulator.state.public_key_hex}")
    print(f"control API {simulator.url}/_sim/state")


async def serve(
    arguments: argparse.Namespace,
    stop: asyncio.Event,
    announce: Callable[[MeterSimulator], None] = _announce,
) -> None:
    """Serve the meter described by `arguments` until `stop` is set."""
    saved = persistence.load(arguments.state_file) if arguments.state_file else None
    private_key = (
        saved.private_key
        if saved is not None
        else load_or_create_private_key(arguments.key_file)
        if arguments.key_file
        else None
    )
    simulator = MeterSimulator(
        host=arguments.host,
        port=arguments.port,
        serial=arguments.serial,
        private_key=private_key,
        transport=arguments.transport,
        idle_timeout=arguments.idle_timeout,
        body_delay=arguments.body_delay,
    )
    if saved is not None:
        persistence.restore(saved, simulator.state)
    state_file: Path | None = arguments.state_file
    if state_file is not None:
        simulator.state.on_change = lambda: persistence.save(
            state_file, simulator.state
        )
    simulator.state.set_measurements(
        voltage=arguments.voltage, current=arguments.current
    )
    async with simulator:
        announce(simulator)
        await stop.wait()
    if state_file is not None:
        persistence.save(state_file, simulator.state)


async def _serve_until_signalled(arguments: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signal_number, stop.set)
    await serve(arguments, stop)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve until SIGINT or SIGTERM."""
    try:
        asyncio.run(_serve_until_signalled(parse_arguments(argv)))
    except persistence.StateFileError as err:
        raise SystemExit(f"iem_dcr_simulator: {err}") from err


if __name__ == "__main__":
    main()
