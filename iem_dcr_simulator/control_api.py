"""The /_sim/ control API: knobs for tests and demos, never subject to faults."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
import json
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from .faults import Fault, FaultKind, FaultPlan
from .meter_api import RecordedRequest
from .signing import SignatureShape
from .state import MeterRefusedError, MeterState

if TYPE_CHECKING:
    from collections.abc import Mapping

CONTROL_PREFIX = "/_sim/"


class SimulatorControl(Protocol):
    """What the control API needs from the running simulator."""

    state: MeterState
    faults: FaultPlan
    requests: list[RecordedRequest]

    @property
    def listening(self) -> bool:
        """Whether the listener accepts connections."""

    def inject_fault(
        self,
        kind: FaultKind,
        *,
        path: str | None = None,
        count: int | None = None,
        status: int = 500,
        seconds: float | None = None,
        method: str | None = None,
        skip: int = 0,
    ) -> None:
        """Add a fault."""

    def clear_faults(self) -> None:
        """Remove every fault."""

    def release_hangs(self) -> None:
        """Let hanging requests go on."""


def control_routes(control: SimulatorControl) -> list[web.RouteDef]:
    """Routes of the control API."""
    sim = _ControlRoutes(control)
    return [
        web.get(CONTROL_PREFIX + "state", sim.get_state),
        web.post(CONTROL_PREFIX + "power_cycle", sim.power_cycle),
        web.post(CONTROL_PREFIX + "measurements", sim.measurements),
        web.post(CONTROL_PREFIX + "energy", sim.energy),
        web.post(CONTROL_PREFIX + "error", sim.error),
        web.post(CONTROL_PREFIX + "faults", sim.add_fault),
        web.delete(CONTROL_PREFIX + "faults", sim.clear_faults),
        web.post(CONTROL_PREFIX + "release", sim.release),
        web.post(CONTROL_PREFIX + "end_transaction", sim.end_transaction),
        web.post(CONTROL_PREFIX + "signature_shape", sim.signature_shape),
    ]


class _ControlError(Exception):
    """A control request the simulator cannot carry out."""


class _ControlRoutes:
    """Handlers of the control API."""

    def __init__(self, control: SimulatorControl) -> None:
        self._control = control

    async def get_state(self, request: web.Request) -> web.Response:
        return web.json_response(self._state_document())

    async def power_cycle(self, request: web.Request) -> web.Response:
        self._control.state.power_cycle()
        return web.json_response(self._state_document())

    async def measurements(self, request: web.Request) -> web.Response:
        document = await _control_object(request)
        try:
            voltage = _optional_number(document, "voltage")
            current = _optional_number(document, "current")
            self._control.state.set_measurements(voltage=voltage, current=current)
        except (_ControlError, ValueError) as err:
            return _control_error(err)
        return web.json_response(self._state_document())

    async def energy(self, request: web.Request) -> web.Response:
        document = await _control_object(request)
        try:
            self._control.state.add_energy(
                import_kwh=_kwh(document, "import_kwh"),
                export_kwh=_kwh(document, "export_kwh"),
            )
        except (_ControlError, ValueError) as err:
            return _control_error(err)
        return web.json_response(self._state_document())

    async def error(self, request: web.Request) -> web.Response:
        document = await _control_object(request)
        if "xc" not in document:
            return _control_error(_ControlError('"xc" (string or null) is required'))
        xc = document["xc"]
        if xc is not None and not isinstance(xc, str):
            return _control_error(_ControlError('"xc" must be a string or null'))
        self._control.state.set_error_code(xc)
        return web.json_response(self._state_document())

    async def add_fault(self, request: web.Request) -> web.Response:
        document = await _control_object(request)
        try:
            fault = _requested_fault(document)
            self._control.inject_fault(
                fault.kind,
                path=fault.path,
                count=fault.remaining,
                status=fault.status,
                seconds=fault.seconds,
                method=fault.method,
                skip=fault.skip,
            )
        except (_ControlError, ValueError) as err:
            return _control_error(err)
        return web.json_response(self._state_document())

    async def clear_faults(self, request: web.Request) -> web.Response:
        self._control.clear_faults()
        return web.json_response(self._state_document())

    async def release(self, request: web.Request) -> web.Response:
        self._control.release_hangs()
        return web.json_response(self._state_document())

    async def signature_shape(self, request: web.Request) -> web.Response:
        document = await _control_object(request)
        shape = document.get("shape")
        if not isinstance(shape, str) or shape not in set(SignatureShape):
            return _control_error(
                _ControlError(f'"shape" must be one of {", ".join(SignatureShape)}')
            )
        count = document.get("count", 1)
        if count is not None and (type(count) is not int or count < 1):
            return _control_error(
                _ControlError('"count" must be a positive integer or null')
            )
        self._control.state.shape_signatures(shape, count)
        return web.json_response(self._state_document())

    async def end_transaction(self, request: web.Request) -> web.Response:
        try:
            record = self._control.state.end_transaction_externally()
        except MeterRefusedError as err:
            return web.json_response({"error": str(err)}, status=409)
        return web.json_response({"ocmf": record})

    def _state_document(self) -> dict[str, Any]:
        state = self._control.state
        user = state.staged_user
        return {
            "serial": state.serial,
            "charge_point_id_type": state.charge_point_id_type,
            "charge_point_id": state.charge_point_id,
            "gateway_set": state.gateway_set,
            "tariff_text": state.tariff_text,
            "time_set": state.time_set,
            "meter_time": state.meter_time(),
            "transaction_active": state.transaction_active,
            "error_code": state.error_code,
            "voltage": state.voltage,
            "current": state.current,
            "power": state.power,
            "activation_threshold": state.activation_threshold,
            "energy_import_total": f"{state.energy_import_total:f}",
            "energy_export_total": f"{state.energy_export_total:f}",
            "energy_import_transaction": f"{state.energy_import_transaction:f}",
            "energy_export_transaction": f"{state.energy_export_transaction:f}",
            "pagination": state.pagination,
            "issued": list(state.issued),
            "last_ocmf": state.last_ocmf,
            "staged_user": None
            if user is None
            else {
                "identification_status": user.identification_status,
                "identification_level": user.identification_level,
                "identification_flags": list(user.identification_flags),
                "identification_type": user.identification_type,
                "identification_data": user.identification_data,
                "show_user_id": user.show_user_id,
                "tariff_text": user.tariff_text,
            },
            "public_key": state.public_key_hex,
            "signature_shape": {
                "shape": str(state.signature_shape),
                "count": state.signature_shape_count,
            },
            "listening": self._control.listening,
            "faults": [
                {
                    "kind": str(fault.kind),
                    "path": fault.path,
                    "count": fault.remaining,
                    "status": fault.status,
                    "seconds": fault.seconds,
                    "method": fault.method,
                    "skip": fault.skip,
                }
                for fault in self._control.faults.active
            ],
            "hanging": self._control.faults.hanging,
            "request_count": len(self._control.requests),
        }


async def _control_object(request: web.Request) -> dict[str, Any]:
    if not await request.read():
        return {}
    try:
        document = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "body must be JSON"}),
            content_type="application/json",
        ) from None
    if not isinstance(document, dict):
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "body must be a JSON object"}),
            content_type="application/json",
        )
    return document


def _requested_fault(document: Mapping[str, Any]) -> Fault:
    kind = document.get("kind")
    if not isinstance(kind, str) or kind not in {known.value for known in FaultKind}:
        raise _ControlError(f'"kind" must be one of {", ".join(FaultKind)}')
    seconds = _optional_number(document, "seconds")
    if kind == FaultKind.REFUSE and seconds is None:
        # The listener carries the control API too, so it must reopen by itself.
        raise _ControlError('"refuse" needs "seconds" over HTTP')
    path = document.get("path")
    count = document.get("count")
    status = document.get("status", 500)
    if path is not None and not isinstance(path, str):
        raise _ControlError('"path" must be a string or null')
    if count is not None and type(count) is not int:
        raise _ControlError('"count" must be an integer or null')
    if type(status) is not int:
        raise _ControlError('"status" must be an integer')
    method = document.get("method")
    skip = document.get("skip", 0)
    if method is not None and not isinstance(method, str):
        raise _ControlError('"method" must be "GET", "POST" or null')
    if type(skip) is not int:
        raise _ControlError('"skip" must be an integer')
    return Fault(
        kind=FaultKind(kind),
        path=path,
        remaining=count,
        status=status,
        seconds=seconds,
        method=method,
        skip=skip,
    )


def _control_error(err: Exception) -> web.Response:
    return web.json_response({"error": str(err)}, status=400)


def _optional_number(document: Mapping[str, Any], key: str) -> float | None:
    value = document.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _ControlError(f'"{key}" must be a number')
    return float(value)


def _kwh(document: Mapping[str, Any], key: str) -> Decimal:
    value = document.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _ControlError(f'"{key}" must be a number or a decimal string')
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise _ControlError(f'"{key}" is not a decimal number: {value!r}') from None
