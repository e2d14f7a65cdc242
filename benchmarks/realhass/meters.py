"""Stand-in meters: N simulators on N ports in one process, counting /metervalue.

    python -m benchmarks.realhass.meters --count 10 --control-port 8999

Every /metervalue answer differs from the one before (voltage and current move
a little, energy grows), as on a meter with a charging car. GET /count on the
control port returns the /metervalue answers served so far, GET /ports the
meter ports.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from typing import Any

from aiohttp import web

from iem_dcr_simulator.server import MeterSimulator


class CountingMeters:
    """The simulators and their shared /metervalue counter."""

    def __init__(self, count: int) -> None:
        """Prepare `count` meters with distinct serials."""
        self.served = 0
        self.simulators = [
            MeterSimulator(serial=f"1BENCH{number:08d}") for number in range(count)
        ]
        for simulator in self.simulators:
            self._count_and_move(simulator)

    def _count_and_move(self, simulator: MeterSimulator) -> None:
        state = simulator.state
        original = state.meter_value
        step = [0]

        def meter_value() -> dict[str, Any]:
            # A new value every request: nothing stays unchanged by accident.
            self.served += 1
            step[0] += 1
            wobble = (step[0] % 97) / 1000
            state.set_measurements(voltage=400.0 + wobble, current=31.5 + wobble)
            return original()

        state.meter_value = meter_value  # type: ignore[method-assign]

    async def start(self) -> None:
        """Listen on free ports."""
        for simulator in self.simulators:
            await simulator.start()

    async def stop(self) -> None:
        """Close every meter."""
        for simulator in self.simulators:
            await simulator.stop()


async def serve(count: int, control_port: int) -> None:
    """Serve the meters and the control port until SIGTERM."""
    meters = CountingMeters(count)
    await meters.start()

    async def get_count(_: web.Request) -> web.Response:
        return web.json_response({"served": meters.served})

    async def get_ports(_: web.Request) -> web.Response:
        return web.json_response(
            [
                {"port": sim.port, "serial": sim.state.serial}
                for sim in meters.simulators
            ]
        )

    app = web.Application()
    app.router.add_get("/count", get_count)
    app.router.add_get("/ports", get_ports)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", control_port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(number, stop.set)
    await stop.wait()
    await runner.cleanup()
    await meters.stop()


def main() -> None:
    """Read the command line and serve."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.realhass.meters")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--control-port", type=int, required=True)
    arguments = parser.parse_args()
    asyncio.run(serve(arguments.count, arguments.control_port))


if __name__ == "__main__":
    main()
