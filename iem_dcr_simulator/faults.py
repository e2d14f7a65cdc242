"""Fault injection: which request misbehaves, how, and how often.

Connection refusal is a property of the listener and lives in the server; every
other fault is decided per request here.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from enum import StrEnum
import threading
from typing import Any


class FaultKind(StrEnum):
    """The ways the simulated meter can misbehave."""

    REFUSE = "refuse"  # stop listening: connection refused
    HANG = "hang"  # accept, never answer until released
    HTTP_ERROR = "http_error"  # answer with a status code and an empty body
    DISCONNECT = "disconnect"  # close the connection without any response
    MALFORMED_JSON = "malformed_json"  # 200 with a truncated JSON body
    WRONG_TYPES = "wrong_types"  # 200, JSON with wrong field types
    MISSING_FIELDS = "missing_fields"  # 200, JSON with a required field dropped
    GW_NULL_CT = "gw_null_ct"  # GET /gw answers "CT": null (EVerest bug B3)
    # The request takes effect, then the connection drops before the answer.
    LOST_ANSWER = "lost_answer"
    # The answer is made at once but sent only when released (or after seconds):
    # it arrives describing the meter as it was.
    HOLD_ANSWER = "hold_answer"
    # Signed data (GET /receipt, /transaction) damaged on its way:
    MALFORMED_OCMF = "malformed_ocmf"  # cut in half: no longer readable as OCMF
    BAD_SIGNATURE = "bad_signature"  # one digit of SD changed: does not verify
    UNDECODABLE_SIGNATURE = "undecodable_signature"  # SD is not hex at all


# Endpoints (name after /counter/v1/ocmf/) whose GET answer is a JSON object.
JSON_ENDPOINTS = frozenset({"gw", "metervalue", "publickey", "datetime"})
METER_ENDPOINTS = frozenset(
    {
        "gw",
        "tariff",
        "metervalue",
        "publickey",
        "datetime",
        "user",
        "receipt",
        "transaction",
    }
)
BODY_FAULTS = frozenset(
    {FaultKind.MALFORMED_JSON, FaultKind.WRONG_TYPES, FaultKind.MISSING_FIELDS}
)
# Endpoints whose GET answer is signed data, and the faults that damage it.
SIGNED_ENDPOINTS = frozenset({"receipt", "transaction"})
SIGNED_DATA_FAULTS = frozenset(
    {
        FaultKind.MALFORMED_OCMF,
        FaultKind.BAD_SIGNATURE,
        FaultKind.UNDECODABLE_SIGNATURE,
    }
)
# Field each body fault breaks, per endpoint.
_REQUIRED_FIELD = {"gw": "CT", "metervalue": "XT", "publickey": "PK", "datetime": "TM"}


@dataclass(slots=True)
class Fault:
    """One injected fault; `remaining` None means until cleared."""

    kind: FaultKind
    path: str | None = None
    remaining: int | None = None
    status: int = 500
    seconds: float | None = None
    method: str | None = None  # "GET" or "POST"; None for both
    skip: int = 0  # let this many matching requests pass first

    def applies_to(self, method: str, endpoint: str) -> bool:
        """Whether a request to `endpoint` is one this fault can act on."""
        if self.path is not None and self.path != endpoint:
            return False
        if self.method is not None and self.method != method:
            return False
        if self.kind in BODY_FAULTS:
            return method == "GET" and endpoint in JSON_ENDPOINTS
        if self.kind in SIGNED_DATA_FAULTS:
            return method == "GET" and endpoint in SIGNED_ENDPOINTS
        if self.kind is FaultKind.GW_NULL_CT:
            return method == "GET" and endpoint == "gw"
        return True


def endpoint_name(path: str) -> str | None:
    """Return the meter endpoint a URL path addresses, or None for anything else."""
    for prefix in ("/counter/v1/ocmf/", "/counter/v2/ocmf/"):
        if path.startswith(prefix):
            name = path.removeprefix(prefix)
            if prefix.startswith("/counter/v2/") and name != "transaction":
                return None
            return name if name in METER_ENDPOINTS else None
    return None


class FaultPlan:
    """The active faults, consumed in injection order, and the gate hung requests wait at."""

    def __init__(self) -> None:
        """Start with a healthy meter."""
        self._faults: list[Fault] = []
        self._release = asyncio.Event()
        self.hanging = 0  # requests waiting in hang() right now
        self._hanging_changed = asyncio.Condition()

    @property
    def active(self) -> list[Fault]:
        """The faults still waiting to act."""
        return list(self._faults)

    def add(self, fault: Fault) -> None:
        """Queue a fault behind those already injected."""
        self._faults.append(fault)

    def clear(self) -> None:
        """Drop every fault (hung requests stay hung until released)."""
        self._faults.clear()

    def take(self, method: str, endpoint: str) -> Fault | None:
        """Return the first fault matching this request, counting it as used once."""
        for fault in self._faults:
            if not fault.applies_to(method, endpoint):
                continue
            if fault.skip > 0:
                fault.skip -= 1
                continue
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
            return fault
        return None

    async def hang(self, seconds: float | None) -> None:
        """Wait until release_hangs() or, if given, `seconds` have passed."""
        release = self._release
        await self._count_hanging(+1)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(release.wait(), seconds)
        finally:
            await self._count_hanging(-1)

    async def hold(self, seconds: float) -> None:
        """Wait like hang(), but for `seconds` of real time.

        A thread measures the time: a test that freezes the event loop's clock
        (Home Assistant's do) must not hold an answer forever.
        """
        release = self._release
        elapsed = threading.Event()
        timer: asyncio.Future[bool] = asyncio.get_running_loop().run_in_executor(
            None, elapsed.wait, seconds
        )
        released: asyncio.Future[bool] = asyncio.ensure_future(release.wait())
        await self._count_hanging(+1)
        try:
            await asyncio.wait([timer, released], return_when=asyncio.FIRST_COMPLETED)
        finally:
            elapsed.set()  # ends the thread at once
            released.cancel()
            await self._count_hanging(-1)

    async def wait_for_hanging(self, count: int = 1) -> None:
        """Wait until at least `count` requests hang."""
        async with self._hanging_changed:
            await self._hanging_changed.wait_for(lambda: self.hanging >= count)

    async def _count_hanging(self, change: int) -> None:
        async with self._hanging_changed:
            self.hanging += change
            self._hanging_changed.notify_all()

    def release_hangs(self) -> None:
        """Let every request hanging now go on; later ones hang again."""
        self._release.set()
        self._release = asyncio.Event()


def truncate(body: str) -> str:
    """Cut a JSON text in half, so that it never parses."""
    return body[: max(1, len(body) // 2)]


def with_wrong_types(endpoint: str, document: dict[str, Any]) -> dict[str, Any]:
    """Give fields the wrong JSON type (a strict parser must reject the result)."""
    broken = dict(document)
    if endpoint == "metervalue":
        broken["XT"] = "true" if document["XT"] else "false"
        broken["I"] = str(document["I"])
        readings = [dict(reading) for reading in document["RD"]]
        readings[0]["RV"] = float(readings[0]["RV"])
        broken["RD"] = readings
    elif endpoint == "gw":
        broken["CT"] = 0
        broken["CI"] = 0
    elif endpoint == "publickey":
        broken["PK"] = [document["PK"]]
    elif endpoint == "datetime":
        broken["TM"] = 0
    return broken


def without_required_field(endpoint: str, document: dict[str, Any]) -> dict[str, Any]:
    """Drop the field a client needs most from this endpoint."""
    return {
        key: value
        for key, value in document.items()
        if key != _REQUIRED_FIELD.get(endpoint)
    }


def with_changed_signature(record: str) -> str:
    """Change the last digit of the signature data (SD), so that it no longer verifies."""
    head, separator, signature = record.rpartition("|")
    start = signature.find('"SD":"')
    end = signature.find('"', start + 6) if start >= 0 else -1
    if end <= start + 6:
        return record + "0"  # no SD to change: the record is damaged anyway
    digit = signature[end - 1]
    changed = "0" if digit != "0" else "1"
    return head + separator + signature[: end - 1] + changed + signature[end:]


def with_undecodable_signature(record: str) -> str:
    """Replace the signature data (SD) by text that is not hex."""
    head, separator, signature = record.rpartition("|")
    start = signature.find('"SD":"')
    end = signature.find('"', start + 6) if start >= 0 else -1
    if start < 0 or end < 0:
        return record
    return head + separator + signature[: start + 6] + "not-hex" + signature[end:]


def with_null_charge_point_type(document: dict[str, Any]) -> dict[str, Any]:
    """Answer GET /gw with `"CT": null`, the only empty CT the EVerest driver notices."""
    return {**document, "CT": None}
