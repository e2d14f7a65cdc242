"""Async HTTP client for the IEM-DCR's REST API (``/counter/v1/ocmf``)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

import aiohttp

from .errors import (
    IemDcrConnectionError,
    IemDcrError,
    IemDcrRefusedError,
    IemDcrResponseError,
    IemDcrTimeoutError,
)
from .models import (
    Gateway,
    MeterValue,
    PublicKey,
    SignedData,
    UserData,
    meter_time_from_json,
)

if TYPE_CHECKING:
    from .meter_time import MeterTime

_LOGGER = logging.getLogger(__name__)

_V1 = "/counter/v1/ocmf"
_V2 = "/counter/v2/ocmf"

# The manufacturer's driver sends this header on GET as well, and a fresh
# connection per request (CURLOPT_FORBID_REUSE); the meter's small HTTP server is
# only known to work that way, and a pooled connection the meter has dropped
# would otherwise surface as a spurious connection error.
_HEADERS = {"Content-Type": "application/json", "Connection": "close"}


class IemDcrClient:
    """One coroutine per endpoint of one meter.

    The aiohttp session is injected and never closed here. Every request has a
    total timeout: the manufacturer's driver has none and hangs forever on a
    meter that accepts a connection but never answers (bug B6). The client never
    retries; note that aiohttp itself resends a GET once when the connection
    drops before the answer (safe: every GET here only reads).
    """

    def __init__(
        self,
        host: str,
        port: int = 80,
        *,
        session: aiohttp.ClientSession,
        request_timeout: float = 5.0,
    ) -> None:
        """Store where the meter is; no I/O happens here."""
        self.host = host
        self.port = port
        self._session = session
        self._request_timeout = request_timeout
        # An IPv6 literal needs brackets in a URL.
        url_host = f"[{host}]" if ":" in host and not host.startswith("[") else host
        self._origin = f"http://{url_host}:{port}"
        self.base_url = f"{self._origin}{_V1}"

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
        if self._session.closed:
            # aiohttp raises RuntimeError here; during shutdown that is no bug of ours.
            raise IemDcrConnectionError(f"{endpoint}: the HTTP session is closed")
        try:
            async with asyncio.timeout(self._request_timeout):
                async with self._session.request(
                    method,
                    f"{self._origin}{path}",
                    data=payload,
                    headers=_HEADERS,
                    allow_redirects=False,
                ) as response:
                    if response.status != 200:
                        _LOGGER.debug(
                            "%s %s refused: %s", method, endpoint, response.status
                        )
                        raise IemDcrRefusedError(response.status, endpoint)
                    body = await response.read()
        except IemDcrError:
            raise
        except TimeoutError as err:
            raise IemDcrTimeoutError(
                f"{endpoint}: no answer within {self._request_timeout} s"
            ) from err
        except (aiohttp.ClientError, OSError) as err:
            raise IemDcrConnectionError(
                f"{endpoint}: {type(err).__name__}: {err}"
            ) from err
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as err:
            raise IemDcrResponseError(
                f"body is not UTF-8: {err}", endpoint=endpoint
            ) from None
