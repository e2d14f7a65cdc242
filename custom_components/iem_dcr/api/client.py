"""Async HTTP client for the IEM-DCR's REST API (``/counter/v1/ocmf``)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any, Self

import aiohttp

from .errors import (
    IemDcrConnectionError,
    IemDcrRefusedError,
    IemDcrResponseError,
    IemDcrTimeoutError,
)
from .http1 import HttpError, build_request, exchange
from .models import (
    Gateway,
    MeterValue,
    PublicKey,
    SignedData,
    UserData,
    meter_time_from_json,
)

if TYPE_CHECKING:
    from types import TracebackType

    from .meter_time import MeterTime

_LOGGER = logging.getLogger(__name__)

_V1 = "/counter/v1/ocmf"
_V2 = "/counter/v2/ocmf"

# The manufacturer's driver sends Content-Type on GET as well. "Connection: close"
# tells the meter that the connection ends with its answer, which it does anyway
# (see create_session).
_HEADERS = {"Content-Type": "application/json", "Connection": "close"}


def create_session() -> aiohttp.ClientSession:
    """Return a session that opens a new connection for every request, and never resends.

    The manufacturer's driver does the same (libcurl with CURLOPT_FORBID_REUSE), and
    the meter's HTTP server is only known to work that way. A pooled connection
    breaks at servers that close after an answer without saying so (RFC 9112 allows
    it after a request that says "Connection: close") or that drop idle
    connections: the next request goes out on a dead socket. aiohttp resends a
    GET, once, whose connection dropped before the answer; that is switched off,
    as aiohttp's own test client does, so that every request reaches the meter at
    most once and only the caller, which knows what a repeat means, repeats one.
    """
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))
    session._retry_connection = False
    return session


class IemDcrClient:
    """One coroutine per endpoint of one meter.

    Every request goes out on a new connection that is closed after its answer,
    and is sent once: the client never retries and neither does its HTTP layer.
    Without a `session` the client speaks HTTP/1.1 itself (`http1.py`: the whole
    request in one write, the answer read strictly, a fraction of aiohttp's cost
    per request). An injected aiohttp session must not pool connections
    (`aiohttp.TCPConnector(force_close=True)`, refused otherwise) and is never
    closed here; only one from create_session() also never resends a GET. Every
    request has a total timeout: the manufacturer's driver has none and hangs
    forever on a meter that accepts a connection but never answers (bug B6).
    """

    def __init__(
        self,
        host: str,
        port: int = 80,
        *,
        session: aiohttp.ClientSession | None = None,
        request_timeout: float = 5.0,
    ) -> None:
        """Store where the meter is; no I/O happens here.

        Raises ValueError for an injected session that pools connections.
        """
        if session is not None and _pools_connections(session):
            raise ValueError(
                "the session pools connections; use create_session() or a "
                "TCPConnector(force_close=True)"
            )
        self.host = host
        self.port = port
        self._session = session
        self._closed = False
        self._request_timeout = request_timeout
        # An IPv6 literal needs brackets in a URL.
        url_host = f"[{host}]" if ":" in host and not host.startswith("[") else host
        self._origin = f"http://{url_host}:{port}"
        # As curl and aiohttp write it: no port when it is HTTP's own.
        self._host_header = url_host if port == 80 else f"{url_host}:{port}"
        self.base_url = f"{self._origin}{_V1}"
        self._connect_host = host.strip("[]")
        self._bodiless_requests: dict[tuple[str, str], bytes] = {}

    async def __aenter__(self) -> Self:
        """Use the client in `async with`; close() runs at the end."""
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the client's own session."""
        await self.close()

    async def close(self) -> None:
        """End the client's use; later requests fail at once.

        An injected session stays open: it belongs to whoever passed it in. The
        client's own transport holds no connection between requests.
        """
        self._closed = True
        self._session = None

    async def get_gateway(self) -> Gateway:
        """Read CT/CI; both are empty after a power cycle."""
        return Gateway.from_json(await self._get_json("gw"))

    async def set_gateway(
        self, charge_point_id_type: str, charge_point_id: str, time: str
    ) -> None:
        """Write CT/CI and the clock.

        The meter accepts this once per power-up; afterwards it refuses
        (IemDcrRefusedError, 428 in the manufacturer's tests) and keeps the old
        values until the next power cycle.
        """
        await self._post(
            "gw", {"CT": charge_point_id_type, "CI": charge_point_id, "TM": time}
        )

    async def set_tariff(self, text: str) -> None:
        """Set the tariff text shown before a transaction and signed into it."""
        await self._post("tariff", {"TT": text})

    async def get_meter_value(self) -> MeterValue:
        """Read the live values and registers."""
        return MeterValue.from_json(await self._get_json("metervalue"))

    async def get_public_key(self) -> PublicKey:
        """Read the key that verifies the meter's signed data."""
        return PublicKey.from_json(await self._get_json("publickey"))

    async def get_datetime(self) -> MeterTime:
        """Read the meter clock with its sync status."""
        return meter_time_from_json(await self._get_json("datetime"))

    async def set_datetime(self, time: str) -> None:
        """Set the meter clock (see ``format_meter_time``)."""
        await self._post("datetime", {"TM": time})

    async def set_user(self, user: UserData) -> None:
        """Stage identification (and tariff) for the next transaction."""
        await self._post("user", user.to_json())

    async def begin_transaction(self) -> None:
        """Begin a transaction; refused while one runs or current flows."""
        await self._post("receipt", {"TX": "B"})

    async def end_transaction(self) -> None:
        """End the running transaction; refused on an idle meter."""
        await self._post("receipt", {"TX": "E"})

    async def get_receipt(self) -> SignedData:
        """Read the signed data of the transaction just ended.

        Per the manufacturer, a meter with a running transaction ends it first
        and then answers with its record.
        """
        return await self._get_signed("receipt", f"{_V1}/receipt")

    async def get_transaction(self) -> SignedData:
        """Read the signed data of the last transaction (v1 path)."""
        return await self._get_signed("transaction", f"{_V1}/transaction")

    async def get_transaction_v2(self) -> SignedData:
        """Read the signed data of the last transaction (newer firmware path)."""
        return await self._get_signed("v2/transaction", f"{_V2}/transaction")

    async def get_last_transaction(self) -> SignedData:
        """Read the last transaction, falling back to v2 if v1 is refused.

        Only a refusal falls back, as in the manufacturer's driver: a meter that
        cannot be reached on v1 will not be reachable on v2 either. Both refused
        usually means there has been no transaction since power-up.
        """
        try:
            return await self.get_transaction()
        except IemDcrRefusedError:
            return await self.get_transaction_v2()

    async def _get_json(self, endpoint: str) -> object:
        """GET a v1 endpoint and decode its JSON, whatever its Content-Type says."""
        text = await self._request("GET", endpoint, f"{_V1}/{endpoint}")
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as err:
            raise IemDcrResponseError(
                f"invalid JSON: {err}", endpoint=endpoint
            ) from None

    async def _get_signed(self, endpoint: str, path: str) -> SignedData:
        """GET signed data; the body is the OCMF string itself, kept verbatim."""
        text = await self._request("GET", endpoint, path)
        if not text:
            raise IemDcrResponseError("empty signed data", endpoint=endpoint)
        return SignedData(text=text)

    async def _post(self, endpoint: str, body: dict[str, Any]) -> None:
        """POST compact JSON the way the manufacturer's driver serialises it."""
        payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        await self._request("POST", endpoint, f"{_V1}/{endpoint}", payload.encode())

    async def _request(
        self, method: str, endpoint: str, path: str, payload: bytes | None = None
    ) -> str:
        """Send one request and return the body of a 200 answer as text."""
        if self._closed or (self._session is not None and self._session.closed):
            # aiohttp raises RuntimeError here; during shutdown that is no bug of ours.
            raise IemDcrConnectionError(f"{endpoint}: the HTTP session is closed")
        try:
            async with asyncio.timeout(self._request_timeout):
                if self._session is None:
                    status, body = await self._exchange(method, path, payload)
                else:
                    status, body = await self._aiohttp_request(
                        self._session, method, path, payload
                    )
        except TimeoutError as err:
            raise IemDcrTimeoutError(
                f"{endpoint}: no answer within {self._request_timeout} s"
            ) from err
        except (HttpError, aiohttp.ClientError, OSError) as err:
            raise IemDcrConnectionError(
                f"{endpoint}: {type(err).__name__}: {err}"
            ) from err
        if status != 200:
            _LOGGER.debug("%s %s refused: %s", method, endpoint, status)
            raise IemDcrRefusedError(status, endpoint)
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as err:
            raise IemDcrResponseError(
                f"body is not UTF-8: {err}", endpoint=endpoint
            ) from None

    async def _exchange(
        self, method: str, path: str, payload: bytes | None
    ) -> tuple[int, bytes]:
        """Send the request on a new connection of the client's own transport."""
        if payload is None:
            # A poll sends the same bytes every second: made once.
            request = self._bodiless_requests.get((method, path))
            if request is None:
                request = build_request(method, self._host_header, path)
                self._bodiless_requests[method, path] = request
        else:
            request = build_request(method, self._host_header, path, payload)
        answer = await exchange(self._connect_host, self.port, request)
        return answer.status, answer.body

    async def _aiohttp_request(
        self,
        session: aiohttp.ClientSession,
        method: str,
        path: str,
        payload: bytes | None,
    ) -> tuple[int, bytes]:
        """Send the request through an injected session."""
        async with session.request(
            method,
            f"{self._origin}{path}",
            data=payload,
            headers=_HEADERS,
            allow_redirects=False,
        ) as response:
            if response.status != 200:
                return response.status, b""
            return response.status, await response.read()


def _pools_connections(session: aiohttp.ClientSession) -> bool:
    # A closed session has no connector; its requests fail with a clear error.
    connector = session.connector
    return connector is not None and not connector.force_close
