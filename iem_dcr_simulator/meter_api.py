"""The IEM-DCR REST API under /counter/, as the EVerest driver uses it."""

from __future__ import annotations

from dataclasses import dataclass
import json
import logging
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from .faults import (
    Fault,
    FaultKind,
    FaultPlan,
    endpoint_name,
    truncate,
    with_changed_signature,
    with_null_charge_point_type,
    with_undecodable_signature,
    with_wrong_types,
    without_required_field,
)
from .formats import parse_posted_time
from .state import MeterRefusedError, MeterState, UserIdentification

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from aiohttp.typedefs import Handler, Middleware

_LOGGER = logging.getLogger(__name__)

_V1 = "/counter/v1/ocmf/"
_REFUSED = 428  # the status the EVerest test fixtures use for every refusal


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """A meter-API request as it arrived (chunked bodies already decoded)."""

    method: str
    path: str
    body: str
    headers: Mapping[str, str]


class RequestRecorder(Protocol):
    """Where the meter API records requests and finds faults to apply."""

    requests: list[RecordedRequest]
    faults: FaultPlan


class _BadRequestError(Exception):
    """The request body is not what the endpoint accepts (HTTP 400)."""


def meter_routes(state: MeterState) -> list[web.RouteDef]:
    """Routes of the meter API."""
    meter = _MeterRoutes(state)
    return [
        web.get(_V1 + "gw", meter.get_gateway),
        web.post(_V1 + "gw", meter.post_gateway),
        web.post(_V1 + "tariff", meter.post_tariff),
        web.get(_V1 + "metervalue", meter.get_meter_value),
        web.get(_V1 + "publickey", meter.get_public_key),
        web.get(_V1 + "datetime", meter.get_datetime),
        web.post(_V1 + "datetime", meter.post_datetime),
        web.post(_V1 + "user", meter.post_user),
        web.post(_V1 + "receipt", meter.post_receipt),
        web.get(_V1 + "receipt", meter.get_receipt),
        web.get(_V1 + "transaction", meter.get_transaction),
        web.get("/counter/v2/ocmf/transaction", meter.get_transaction),
    ]


def meter_middleware(
    recorder: RequestRecorder, is_meter_path: Callable[[str], bool]
) -> Middleware:
    """Record meter-API requests and apply injected faults to them."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not is_meter_path(request.path):
            return await handler(request)
        return await _meter_request(recorder, request, handler)

    return middleware


async def _meter_request(
    recorder: RequestRecorder, request: web.Request, handler: Handler
) -> web.StreamResponse:
    body = await request.read()
    recorder.requests.append(
        RecordedRequest(
            method=request.method,
            path=request.path,
            body=body.decode("utf-8", errors="replace"),
            headers=request.headers,
        )
    )
    _LOGGER.debug("meter request %s %s", request.method, request.path)
    endpoint = endpoint_name(request.path)
    fault = None if endpoint is None else recorder.faults.take(request.method, endpoint)
    if fault is None:
        return await _answer(request, handler)
    return await _answer_with_fault(request, handler, fault, recorder.faults)


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except _BadRequestError:
        return web.Response(status=400)
    except MeterRefusedError:
        return web.Response(status=_REFUSED)


async def _answer_with_fault(
    request: web.Request, handler: Handler, fault: Fault, faults: FaultPlan
) -> web.StreamResponse:
    match fault.kind:
        case FaultKind.HANG:
            await faults.hang(fault.seconds)
            return await _answer(request, handler)
        case FaultKind.HTTP_ERROR:
            return web.Response(status=fault.status)
        case FaultKind.DISCONNECT:
            if request.transport is not None:
                request.transport.close()
            # Writing this fails quietly: the transport is already closing.
            return web.Response()
    response = await _answer(request, handler)
    match fault.kind:
        case FaultKind.LOST_ANSWER:
            if request.transport is not None:
                request.transport.close()
            return response
        case FaultKind.HOLD_ANSWER:
            await faults.hang(fault.seconds)
            return response
    if response.status != 200 or not isinstance(response, web.Response):
        return response
    text = response.text or ""
    match fault.kind:
        case FaultKind.MALFORMED_JSON:
            return _json_text_response(truncate(text))
        case FaultKind.MALFORMED_OCMF:
            return _ocmf_response(truncate(text))
        case FaultKind.BAD_SIGNATURE:
            return _ocmf_response(with_changed_signature(text))
        case FaultKind.UNDECODABLE_SIGNATURE:
            return _ocmf_response(with_undecodable_signature(text))
    endpoint = endpoint_name(request.path) or ""
    document: dict[str, Any] = json.loads(text)
    match fault.kind:
        case FaultKind.WRONG_TYPES:
            return _json_response(with_wrong_types(endpoint, document))
        case FaultKind.MISSING_FIELDS:
            return _json_response(without_required_field(endpoint, document))
        case FaultKind.GW_NULL_CT:
            return _json_response(with_null_charge_point_type(document))
    return response


class _MeterRoutes:
    """The IEM-DCR REST API as the EVerest driver uses it."""

    def __init__(self, state: MeterState) -> None:
        self._state = state

    async def get_gateway(self, request: web.Request) -> web.Response:
        return _json_response(self._state.gateway())

    async def post_gateway(self, request: web.Request) -> web.Response:
        document = await _request_object(request)
        self._state.set_gateway(
            _text(document, "CT"), _text(document, "CI"), _posted_time(document)
        )
        return web.Response()

    async def post_tariff(self, request: web.Request) -> web.Response:
        document = await _request_object(request)
        self._state.set_tariff(_text(document, "TT"))
        return web.Response()

    async def get_meter_value(self, request: web.Request) -> web.Response:
        return _json_response(self._state.meter_value())

    async def get_public_key(self, request: web.Request) -> web.Response:
        return _json_response(self._state.public_key())

    async def get_datetime(self, request: web.Request) -> web.Response:
        return _json_response({"TM": self._state.meter_time()})

    async def post_datetime(self, request: web.Request) -> web.Response:
        document = await _request_object(request)
        self._state.set_datetime(_posted_time(document))
        return web.Response()

    async def post_user(self, request: web.Request) -> web.Response:
        document = await _request_object(request)
        self._state.stage_user(
            UserIdentification(
                identification_status=_flag(document, "IS"),
                identification_level=_text(document, "IL"),
                identification_flags=_texts(document, "IF"),
                identification_type=_text(document, "IT"),
                identification_data=_text(document, "ID"),
                show_user_id=_flag(document, "US"),
                tariff_text=_text(document, "TT") if "TT" in document else None,
            )
        )
        return web.Response()

    async def post_receipt(self, request: web.Request) -> web.Response:
        document = await _request_object(request)
        match document.get("TX"):
            case "B":
                self._state.begin_transaction()
            case "E":
                self._state.end_transaction()
            case _:
                raise _BadRequestError
        return web.Response()

    async def get_receipt(self, request: web.Request) -> web.Response:
        return _ocmf_response(self._state.read_receipt())

    async def get_transaction(self, request: web.Request) -> web.Response:
        return _ocmf_response(self._state.last_transaction_record())


async def _request_object(request: web.Request) -> dict[str, Any]:
    try:
        document = json.loads((await request.read()).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise _BadRequestError from err
    if not isinstance(document, dict):
        raise _BadRequestError
    return document


def _text(document: Mapping[str, Any], key: str) -> str:
    value = document.get(key)
    if not isinstance(value, str) or not _storable(value):
        raise _BadRequestError
    return value


def _storable(text: str) -> bool:
    # The record must stay valid UTF-8 and splittable at "|"; what the real meter
    # does with such text is unknown, so the simulator refuses it.
    if "|" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _flag(document: Mapping[str, Any], key: str) -> bool:
    value = document.get(key)
    if not isinstance(value, bool):
        raise _BadRequestError
    return value


def _texts(document: Mapping[str, Any], key: str) -> tuple[str, ...]:
    values = document.get(key)
    if not isinstance(values, list):
        raise _BadRequestError
    return tuple(_text({key: value}, key) for value in values)


def _posted_time(document: Mapping[str, Any]) -> str:
    text = _text(document, "TM")
    try:
        parse_posted_time(text)
    except ValueError as err:
        raise _BadRequestError from err
    return text


def _meter_json(document: object) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def _json_text_response(text: str) -> web.Response:
    return web.Response(text=text, content_type="application/json")


def _json_response(document: object) -> web.Response:
    return _json_text_response(_meter_json(document))


def _ocmf_response(record: str) -> web.Response:
    return web.Response(text=record, content_type="text/plain")
