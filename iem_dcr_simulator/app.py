"""The aiohttp application: meter API under /counter/, control API under /_sim/."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from aiohttp import web

from .control_api import CONTROL_PREFIX, SimulatorControl, control_routes
from .meter_api import meter_middleware, meter_routes

if TYPE_CHECKING:
    from aiohttp.typedefs import Handler, Middleware


class Simulator(SimulatorControl, Protocol):
    """The running simulator as the application sees it."""

    connections_in_use: set[object]  # aiohttp protocols handling a request now


def build_app(simulator: Simulator) -> web.Application:
    """Build the application serving both APIs."""
    app = web.Application(
        middlewares=[
            _connection_tracker(simulator.connections_in_use),
            meter_middleware(simulator, is_meter_path),
        ]
    )
    app.add_routes(meter_routes(simulator.state))
    app.add_routes(control_routes(simulator))
    return app


def is_meter_path(path: str) -> bool:
    """Whether a request path belongs to the meter API (not the control API)."""
    return not path.startswith(CONTROL_PREFIX)


def _connection_tracker(in_use: set[object]) -> Middleware:
    # Lets the server tell idle keep-alive connections from busy ones when it
    # stops listening.
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        in_use.add(request.protocol)
        try:
            return await handler(request)
        finally:
            in_use.discard(request.protocol)

    return middleware
