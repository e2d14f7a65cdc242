"""Start and stop transactions, and keep every signed tuple the meter hands out.

The sequences follow the meter's reference driver (EVerest `IsabellenhuetteIemDcr`,
§3.4 and §3.5 of docs/iem-dcr-api.md) with its losses removed: a transaction that a
start supersedes is read and kept, a receipt that could not be read after the
meter ended the transaction is fetched again later, and polling never stalls.
Every tuple is verified and appended to the ledger before anyone else sees it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import (
    ConfigEntryNotReady,
    HomeAssistantError,
    ServiceValidationError,
)
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send

from .api import IemDcrError, IemDcrRefusedError, MeterValue, SignedData, UserData
from .const import DOMAIN, EVENT_TRANSACTION_STARTED, EVENT_TRANSACTION_STOPPED, LOGGER
from .device import meter_device
from .ledger import Ledger, LedgerEntry, LedgerError, PaginationGap
from .ocmf import OcmfError, parse, verify_signature
from .signed_tuple import SignedTuple

if TYPE_CHECKING:
    from . import IemDcrConfigEntry
    from .coordinator import IemDcrCoordinator

# The reference driver waits this long after ending a transaction ("wait for
# being surely in idle mode") and before reading the receipt ("wait for signature
# calculation").
SETTLE_DELAY = 0.25
RECEIPT_DELAY = 0.25

REASON_STOPPED = "stopped"
REASON_SUPERSEDED = "superseded"
REASON_ENDED_EXTERNALLY = "ended_externally"
REASON_RECOVERED = "recovered"


class StaleReceiptError(IemDcrError):
    """The receipt after an end is the previous tuple: the signature is not ready."""


def signal_transaction(entry_id: str) -> str:
    """Return the dispatcher signal for transaction news of one entry."""
    return f"{DOMAIN}_transaction_{entry_id}"


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


class TransactionManager:
    """Runs transactions on one meter and owns its ledger."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: IemDcrConfigEntry,
        coordinator: IemDcrCoordinator,
        ledger: Ledger,
    ) -> None:
        """Set up the manager; call `async_load` before use."""
        self._hass = hass
        self._entry = entry
        self._coordinator = coordinator
        self._client = coordinator.client
        self._ledger = ledger
        # A transaction ran on the meter whose tuple is not in the ledger yet.
        self._tuple_expected = False
        # The meter ended a transaction but its tuple could not be read.
        self._recovery_pending = False
        self.last: SignedTuple | None = None

    @property
    def ledger_size(self) -> int:
        """Return the number of stored tuples."""
        return len(self._ledger)

    @property
    def ledger(self) -> Ledger:
        """Return the ledger (read-only use: exports and diagnostics)."""
        return self._ledger

    @property
    def recovery_pending(self) -> bool:
        """Tell whether a tuple is still to be fetched from the meter."""
        return self._recovery_pending

    async def async_load(self) -> None:
        """Read the ledger from disk."""
        try:
            report = await self._hass.async_add_executor_job(self._ledger.load)
        except LedgerError as err:
            # Usually permissions or a full disk: set-up is retried once fixed.
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key="ledger_unreadable",
                translation_placeholders={
                    "path": str(self._ledger.path),
                    "error": str(err),
                },
            ) from err
        if report.skipped_torn or report.skipped_corrupt:
            LOGGER.warning(
                "Ledger %s: skipped %s torn and %s corrupt record(s); the others are intact",
                self._ledger.path,
                report.skipped_torn,
                report.skipped_corrupt,
            )
        if (entry := self._ledger.last()) is not None:
            self.last = self._describe_entry(entry)

    # -- start ---------------------------------------------------------------

    async def async_start(self, request: StartRequest) -> TransactionStarted:
        """Begin a transaction, ending and keeping whatever runs first."""
        async with self._coordinator.meter_lock:
            started = await self._guard(self._async_start_locked(request))
        self._hass.bus.async_fire(
            EVENT_TRANSACTION_STARTED,
            {
                **self._event_base(),
                "meter_serial": started.meter_serial,
                "transaction_id": started.transaction_id,
                "start_time": (
                    started.start_time.isoformat() if started.start_time else None
                ),
                "start_register_kwh": _kwh(started.start_register),
            },
        )
        async_dispatcher_send(
            self._hass, signal_transaction(self._entry.entry_id), "started", None
        )
        await self._coordinator.async_refresh()
        return started

    async def _async_start_locked(self, request: StartRequest) -> TransactionStarted:
        client = self._client
        if self._recovery_pending:
            await self._async_collect_last()
            if self._recovery_pending:
                raise HomeAssistantError(
                    translation_domain=DOMAIN, translation_key="receipt_pending"
                )
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
        meter = await client.get_meter_value()
        if not meter.healthy:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="meter_error_state",
                translation_placeholders={"error_code": meter.error_code},
            )
        superseded = await self._async_end_running(meter)
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
        with _refusal_as("begin_refused"):
            await self._retry(client.begin_transaction)
        self._tuple_expected = True
        after = await self._read_meter_quietly()
        return TransactionStarted(
            transaction_id=request.transaction_id,
            identification=request.ocmf_id_field,
            meter_serial=after.meter_serial if after else meter.meter_serial,
            start_time=after.time.value if after else None,
            start_register=after.energy_import_total if after is not None else None,
            superseded=superseded,
        )

    async def _async_end_running(self, meter: MeterValue) -> SignedTuple | None:
        """End a transaction before a start, keeping its tuple (reason superseded)."""
        if meter.transaction_active:
            await self._end_with_retries()
            return await self._async_read_receipt(REASON_SUPERSEDED)
        # The reference driver sends one unconditional end before every start. If
        # the meter accepts it, a transaction ran that the last poll did not show:
        # its tuple is kept, where the reference driver dropped it.
        try:
            await self._client.end_transaction()
        except IemDcrError:
            return None
        return await self._async_read_receipt(REASON_SUPERSEDED)

    # -- stop ----------------------------------------------------------------

    async def async_stop(self) -> SignedTuple:
        """End the running transaction, or return the meter's last tuple."""
        async with self._coordinator.meter_lock:
            result = await self._guard(self._async_stop_locked())
        await self._coordinator.async_refresh()
        return result

    async def _async_stop_locked(self) -> SignedTuple:
        if self._recovery_pending:
            await self._async_collect_last()
        meter = await self._client.get_meter_value()
        if meter.transaction_active:
            await self._end_with_retries()
            return await self._async_read_receipt(REASON_STOPPED)
        with _refusal_as("no_transaction"):
            signed = await self._retry(self._client.get_last_transaction)
        stored = await self._async_store(signed.text, REASON_ENDED_EXTERNALLY)
        self._tuple_expected = False
        return stored

    async def _end_with_retries(self) -> None:
        with _refusal_as("end_refused"):
            await self._retry(self._client.end_transaction)

    async def _async_read_receipt(self, reason: str) -> SignedTuple:
        """Read the tuple of a transaction the meter has just ended."""
        # From here on the meter holds a tuple that only exists there.
        self._tuple_expected = True
        await pause(RECEIPT_DELAY)
        try:
            signed = await self._retry(self._fresh_receipt)
        except IemDcrError as err:
            self._recovery_pending = True
            LOGGER.warning(
                "The meter ended the transaction but its signed data could not be"
                " read (%s); it is fetched as soon as the meter answers",
                err,
            )
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="receipt_pending"
            ) from err
        stored = await self._async_store(signed.text, reason)
        self._tuple_expected = False
        return stored

    async def _fresh_receipt(self) -> SignedData:
        """Read the receipt; one already in the ledger means it is not signed yet."""
        signed = await self._client.get_receipt()
        if self._ledger.contains(signed.text):
            raise StaleReceiptError("the meter still shows the previous tuple")
        return signed

    # -- tuples that arrive outside a service call ---------------------------

    async def async_handle_poll(self, meter: MeterValue) -> None:
        """Collect the tuple of a transaction that ended without us."""
        if meter.transaction_active:
            self._tuple_expected = True
            return
        if not self._tuple_expected or self._coordinator.meter_lock.locked():
            return
        async with self._coordinator.meter_lock:
            try:
                await self._async_collect_last()
            except HomeAssistantError as err:
                LOGGER.warning("Could not collect the last signed tuple: %s", err)

    async def async_reconcile(self) -> None:
        """Store the meter's last tuple if the ledger lacks it (after start-up)."""
        async with self._coordinator.meter_lock:
            self._tuple_expected = True
            try:
                await self._async_collect_last(REASON_RECOVERED)
            except HomeAssistantError as err:
                LOGGER.warning("Could not compare the meter's last tuple: %s", err)

    async def _async_collect_last(self, reason: str | None = None) -> None:
        """Fetch the meter's last tuple; store it when it is new."""
        if reason is None:
            reason = (
                REASON_RECOVERED if self._recovery_pending else REASON_ENDED_EXTERNALLY
            )
        try:
            signed = await self._client.get_last_transaction()
        except IemDcrRefusedError:
            # The meter never signed anything: nothing to collect.
            self._tuple_expected = self._recovery_pending = False
            return
        except IemDcrError as err:
            LOGGER.debug("Last tuple not readable yet: %s", err)
            return
        if reason == REASON_ENDED_EXTERNALLY and self._ledger.contains(signed.text):
            LOGGER.warning(
                "A transaction ended on the meter without a new signed tuple"
                " (for example by a power failure); its measurement is lost"
            )
        await self._async_store(signed.text, reason)
        self._tuple_expected = self._recovery_pending = False

    # -- storing -------------------------------------------------------------

    async def _async_store(self, text: str, reason: str) -> SignedTuple:
        """Verify, append to the ledger, then announce. Returns what was stored."""
        try:
            record = parse(text)
        except OcmfError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="unreadable_signed_data",
                translation_placeholders={"error": str(err)},
            ) from err
        public_key = await self._async_public_key()
        signature_valid: bool | None = None
        if public_key:
            try:
                signature_valid = verify_signature(record, public_key)
            except OcmfError as err:
                LOGGER.warning("The signature could not be checked: %s", err)
        described = SignedTuple.from_record(
            record,
            public_key=public_key,
            signature_valid=signature_valid,
            reason=reason,
            meter_serial=self._serial,
        )
        try:
            result = await self._hass.async_add_executor_job(
                lambda: self._ledger.append(
                    meter_serial=described.meter_serial,
                    pagination=described.pagination,
                    ocmf=record.text,
                    public_key=public_key,
                    signature_valid=signature_valid,
                    reason=reason,
                    recorded_at=self._coordinator.now(),
                )
            )
        except (LedgerError, ValueError) as err:
            # The meter still holds the tuple: fetch it again on the next poll.
            self._tuple_expected = self._recovery_pending = True
            LOGGER.error("Could not write the signed tuple to the ledger: %s", err)
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="ledger_write_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        if result.duplicate:
            return self._describe_entry(result.entry)
        if signature_valid is False:
            LOGGER.error(
                "The signature of tuple %s does not verify against the meter's key",
                described.ocmf_id,
            )
        if result.gap is not None:
            self._report_gap(result.gap)
        self.last = described
        self._update_device(described)
        self._hass.bus.async_fire(
            EVENT_TRANSACTION_STOPPED, {**self._event_base(), **described.as_dict()}
        )
        async_dispatcher_send(
            self._hass, signal_transaction(self._entry.entry_id), "stopped", described
        )
        return described

    async def _async_public_key(self) -> str:
        if self._coordinator.public_key is None:
            try:
                self._coordinator.public_key = await self._client.get_public_key()
            except IemDcrError as err:
                LOGGER.warning("Could not read the meter's public key: %s", err)
                return ""
        return self._coordinator.public_key.key

    def _describe_entry(self, entry: LedgerEntry) -> SignedTuple:
        return SignedTuple.from_record(
            parse(entry.ocmf),
            public_key=entry.public_key,
            signature_valid=entry.signature_valid,
            reason=entry.reason,
            meter_serial=entry.meter_serial,
        )

    def _report_gap(self, gap: PaginationGap) -> None:
        LOGGER.warning(
            "Pagination gap in the signed tuples: %s follows %s (%s missing)",
            gap.current,
            gap.previous,
            gap.missing,
        )
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            f"pagination_gap_{self._entry.entry_id}_{gap.current}",
            is_fixable=False,
            is_persistent=True,
            severity=ir.IssueSeverity.WARNING,
            translation_key="pagination_gap",
            translation_placeholders={
                "title": self._entry.title,
                "previous": gap.previous,
                "current": gap.current,
                "missing": str(gap.missing),
            },
        )

    def _update_device(self, signed: SignedTuple) -> None:
        device = meter_device(self._hass, self._entry.entry_id, self._serial)
        if device is None:
            return
        dr.async_get(self._hass).async_update_device(
            device.id,
            model=signed.model or device.model,
            sw_version=signed.firmware or device.sw_version,
        )

    @property
    def _serial(self) -> str:
        return self._entry.unique_id or ""

    def _event_base(self) -> dict[str, Any]:
        device = meter_device(self._hass, self._entry.entry_id, self._serial)
        return {
            "device_id": device.id if device else None,
            "config_entry_id": self._entry.entry_id,
        }

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
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="communication_error",
                translation_placeholders={"error": str(err)},
            ) from err


@contextmanager
def _refusal_as(translation_key: str) -> Iterator[None]:
    """Turn the meter's refusal (non-200) into the translated error that explains it."""
    try:
        yield
    except IemDcrRefusedError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=translation_key,
            translation_placeholders={"status": str(err.status)},
        ) from err


def _kwh(value: Decimal | None) -> float | None:
    """Return a register as a number, as the stop response has it."""
    return float(value) if value is not None else None
