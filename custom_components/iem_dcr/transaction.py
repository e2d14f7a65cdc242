"""Start and stop transactions with the steps of the meter's reference driver.

The sequences follow the reference driver (EVerest `IsabellenhuetteIemDcr`,
§3.4 and §3.5 of docs/iem-dcr-api.md) with its losses removed. Every tuple the
meter hands out goes to the tuple keeper before anyone else sees it; the meter's
last tuple is compared with the ledger before each begin, so that nothing a new
transaction replaces on the meter is lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.dispatcher import async_dispatcher_send

from .api import (
    IemDcrConnectionError,
    IemDcrError,
    IemDcrRefusedError,
    MeterValue,
    SignedData,
    UserData,
)
from .const import DOMAIN, EVENT_TRANSACTION_STARTED, LOGGER
from .tuple_keeper import (
    REASON_ENDED_EXTERNALLY,
    REASON_STOPPED,
    REASON_SUPERSEDED,
    Kept,
    TupleKeeper,
    is_refusal,
    signal_transaction,
)

if TYPE_CHECKING:
    from . import IemDcrConfigEntry
    from .coordinator import IemDcrCoordinator
    from .signed_tuple import SignedTuple

# The reference driver waits this long after ending a transaction ("wait for
# being surely in idle mode") and before reading the receipt ("wait for signature
# calculation").
SETTLE_DELAY = 0.25
RECEIPT_DELAY = 0.25


class StaleReceiptError(IemDcrError):
    """The receipt after an end is the previous tuple: the signature is not ready."""


async def pause(seconds: float) -> None:
    """Wait for the meter; a module function so tests can control time."""
    await asyncio.sleep(seconds)


@dataclass(frozen=True, kw_only=True)
class StartRequest:
    """What `start_transaction` was asked to do."""

    transaction_id: str
    evse_id: str | None
    identification_status: bool
    identification_level: str | None
    identification_flags: tuple[str, ...]
    identification_type: str
    identification_data: str | None
    tariff_text: str | None

    @property
    def ocmf_id_field(self) -> str:
        """Return the OCMF `ID`: the identification data, else the transaction id."""
        return self.identification_data or self.transaction_id


@dataclass(frozen=True, kw_only=True)
class TransactionStarted:
    """The result of a successful start."""

    transaction_id: str
    identification: str
    meter_serial: str
    start_time: datetime | None
    start_register: Decimal | None
    superseded: SignedTuple | None


@dataclass(frozen=True, kw_only=True)
class TransactionStopped:
    """The result of a stop: the tuple, and whether the ledger already had it."""

    signed: SignedTuple
    already_stored: bool


class TransactionManager:
    """Runs the start and stop sequences on one meter."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: IemDcrConfigEntry,
        coordinator: IemDcrCoordinator,
        keeper: TupleKeeper,
    ) -> None:
        """Set up the sequences of one meter."""
        self._hass = hass
        self._entry = entry
        self._coordinator = coordinator
        self._client = coordinator.client
        self._keeper = keeper

    # -- start ---------------------------------------------------------------

    async def async_start(self, request: StartRequest) -> TransactionStarted:
        """Begin a transaction, ending and keeping whatever runs first."""
        async with self._coordinator.meter_lock:
            try:
                started = await self._guard(self._async_start_locked(request))
            finally:
                self._coordinator.note_transaction_change()
        self._hass.bus.async_fire(
            EVENT_TRANSACTION_STARTED,
            {
                **self._keeper.event_base(),
                "meter_serial": started.meter_serial,
                "transaction_id": started.transaction_id,
                "start_time": (
                    started.start_time.isoformat() if started.start_time else None
                ),
                "start_register_kwh": _float(started.start_register),
            },
        )
        async_dispatcher_send(
            self._hass, signal_transaction(self._entry.entry_id), "started", None
        )
        await self._coordinator.async_refresh()
        return started

    async def _async_start_locked(self, request: StartRequest) -> TransactionStarted:
        client = self._client
        keeper = self._keeper
        await keeper.async_ready_for_begin()
        gateway = await client.get_gateway()
        if not gateway.is_configured:
            # Power-cycled since the handshake: initialise again instead of failing.
            await self._coordinator.async_handshake_locked()
            gateway = await client.get_gateway()
        if request.evse_id and request.evse_id != gateway.charge_point_id:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="evse_id_mismatch",
                translation_placeholders={
                    "evse_id": request.evse_id,
                    "meter_ci": gateway.charge_point_id,
                },
            )
        meter = await self._retry(client.get_meter_value)
        if not meter.healthy:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="meter_error_state",
                translation_placeholders={"error_code": meter.error_code},
            )
        superseded = await self._async_end_running(meter)
        # A transaction that ran without Home Assistant (another controller, a
        # network split) is replaced on the meter by the next one: keep it now.
        await keeper.async_collect_before_begin()
        await pause(SETTLE_DELAY)
        settings = self._coordinator.settings
        user = UserData(
            identification_status=request.identification_status,
            identification_level=request.identification_level,
            identification_flags=request.identification_flags,
            identification_type=request.identification_type,
            identification_data=request.ocmf_id_field,
            show_user_id=settings.show_user_id,
            tariff_text=request.tariff_text or None,
        )
        await self._retry(lambda: client.set_user(user))
        await self._async_begin()
        after = await self._read_meter_quietly()
        return TransactionStarted(
            transaction_id=request.transaction_id,
            identification=request.ocmf_id_field,
            meter_serial=after.meter_serial if after else meter.meter_serial,
            start_time=after.time.value if after else None,
            start_register=after.energy_import_total if after else None,
            superseded=superseded.signed if superseded else None,
        )

    async def _async_end_running(self, meter: MeterValue) -> Kept | None:
        """End a transaction before a start, keeping its tuple (reason superseded)."""
        if meter.transaction_active:
            await self._async_end(before_begin=True)
            return await self._async_read_receipt(REASON_SUPERSEDED)
        # The reference driver sends one unconditional end before every start. If
        # the meter accepts it, a transaction ran that the last poll did not show:
        # its tuple is kept, where the reference driver dropped it.
        try:
            await self._client.end_transaction()
        except IemDcrError:
            # Refused: nothing ran. Lost answer: the comparison before the begin
            # finds out.
            return None
        self._keeper.tuple_expected = True
        return await self._async_read_receipt(REASON_SUPERSEDED)

    async def _async_begin(self) -> None:
        """Send the begin; a lost answer is settled by what the meter shows."""
        try:
            await self._retry(self._client.begin_transaction)
        except IemDcrError as err:
            meter = await self._read_meter_quietly()
            if meter is not None and meter.transaction_active:
                LOGGER.info(
                    "The meter began the transaction although the answer to the"
                    " begin was lost or refused on a retry"
                )
            else:
                raise _failure(err, refused_key="begin_refused") from err
        self._keeper.tuple_expected = True

    # -- stop ----------------------------------------------------------------

    async def async_stop(self) -> TransactionStopped:
        """End the running transaction, or return the meter's last tuple."""
        async with self._coordinator.meter_lock:
            try:
                result = await self._guard(self._async_stop_locked())
            finally:
                self._coordinator.note_transaction_change()
        await self._coordinator.async_refresh()
        return result

    async def _async_stop_locked(self) -> TransactionStopped:
        meter = await self._retry(self._client.get_meter_value)
        if meter.transaction_active:
            await self._async_end(before_begin=False)
            kept = await self._async_read_receipt(REASON_STOPPED)
            return TransactionStopped(signed=kept.signed, already_stored=not kept.new)
        try:
            signed = await self._retry(self._client.get_last_transaction)
        except IemDcrRefusedError as err:
            if not is_refusal(err.status):
                raise
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="no_transaction"
            ) from err
        try:
            kept = await self._keeper.async_keep(signed.text, REASON_ENDED_EXTERNALLY)
        finally:
            self._keeper.tuple_expected = self._keeper.receipt_missing = False
        return TransactionStopped(signed=kept.signed, already_stored=not kept.new)

    async def _async_end(self, *, before_begin: bool) -> None:
        """End the running transaction; a lost answer is settled by the meter's state."""
        self._keeper.tuple_expected = True
        try:
            await self._retry(self._client.end_transaction)
        except IemDcrError as err:
            meter = await self._read_meter_quietly()
            if meter is not None and not meter.transaction_active:
                LOGGER.info(
                    "The meter ended the transaction although the answer to the end"
                    " was lost or refused on a retry"
                )
                return
            key = "end_refused_before_begin" if before_begin else "end_refused"
            raise _failure(err, refused_key=key) from err

    async def _async_read_receipt(self, reason: str) -> Kept:
        """Read and keep the tuple of a transaction the meter has just ended."""
        await pause(RECEIPT_DELAY)
        try:
            signed = await self._retry(self._fresh_receipt)
        except IemDcrError as err:
            self._keeper.receipt_missing = True
            LOGGER.warning(
                "The meter ended the transaction but its signed data could not be"
                " read (%s); it is fetched as soon as the meter answers",
                err,
            )
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="receipt_not_read",
                translation_placeholders={"error": str(err)},
            ) from err
        try:
            return await self._keeper.async_keep(signed.text, reason)
        finally:
            # Stored, or held and written with back-off: it has been read.
            self._keeper.tuple_expected = False

    async def _fresh_receipt(self) -> SignedData:
        """Read the receipt; one already in the ledger means it is not signed yet."""
        signed = await self._client.get_receipt()
        if self._keeper.ledger.contains(signed.text):
            raise StaleReceiptError("the meter still shows the previous tuple")
        return signed

    # -- helpers -------------------------------------------------------------

    async def _retry[T](self, call: Callable[[], Awaitable[T]]) -> T:
        """Call with the configured retries, as the reference driver's call_with_retry."""
        settings = self._coordinator.settings
        attempts = 1 + settings.transaction_retries
        for attempt in range(1, attempts + 1):
            try:
                return await call()
            except IemDcrError:
                if attempt == attempts:
                    raise
                await pause(settings.retry_delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _read_meter_quietly(self) -> MeterValue | None:
        try:
            return await self._client.get_meter_value()
        except IemDcrError:
            return None

    async def _guard[T](self, work: Awaitable[T]) -> T:
        """Turn client errors that escaped a sequence into a translated error."""
        try:
            return await work
        except IemDcrError as err:
            raise _failure(err) from err


def _failure(err: IemDcrError, *, refused_key: str | None = None) -> HomeAssistantError:
    """Explain a client error: each cause gets its own text.

    A refusal (4xx) is the meter declining in its current state, so the request
    or the state is to blame (ServiceValidationError: Home Assistant answers 400
    and logs no error); anything else is a fault of the meter or the network.
    """
    if isinstance(err, IemDcrRefusedError):
        placeholders = {"status": str(err.status), "endpoint": err.endpoint or "?"}
        if not is_refusal(err.status):
            return HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="meter_failed",
                translation_placeholders=placeholders,
            )
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=refused_key or "request_refused",
            translation_placeholders=placeholders,
        )
    key = (
        "communication_error"
        if isinstance(err, IemDcrConnectionError)
        else "unexpected_response"
    )
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"error": str(err)},
    )


def _float(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None
