"""Keeps every signed tuple the meter hands out: store first, judge after, announce once.

This is the only writer of the meter's ledger. Whatever text the meter answers
with as signed data is appended verbatim; reading it as OCMF and checking its
signature can only add to what is stored, never keep it out. A tuple that the
ledger cannot take (full disk) stays in memory and is written as soon as the
disk allows. Each stored tuple is announced once (event, entities, repair
issues) and only after it is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
import re
from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_call_later

from .api import IemDcrError, IemDcrRefusedError, MeterValue
from .const import DOMAIN, EVENT_TRANSACTION_STOPPED, LOGGER
from .device import meter_device
from .drivers import DriverDirectory
from .ledger import AppendResult, Ledger, LedgerEntry, LedgerError, PaginationGap
from .ocmf import OcmfError, OcmfRecord, parse, verify_signature
from .session_costs import CostTracker
from .signed_tuple import SignedTuple

if TYPE_CHECKING:
    from . import IemDcrConfigEntry
    from .coordinator import IemDcrCoordinator
    from .meter_resources import MeterResources

_PAGINATION = re.compile(r"[TF][0-9]+")

REASON_STOPPED = "stopped"
REASON_SUPERSEDED = "superseded"
REASON_ENDED_EXTERNALLY = "ended_externally"
REASON_RECOVERED = "recovered"
REASON_VERIFIED_COPY = "verified_copy"
REASON_READABLE_COPY = "readable_copy"

# Back-off for writing held tuples to a ledger that refused them.
WRITE_RETRY_FIRST = 10.0
WRITE_RETRY_MAX = 300.0
# How often the meter is asked again for a readable copy of an unreadable tuple.
UNREADABLE_REREAD_INTERVAL = timedelta(minutes=1)
# How often the meter's last tuple is compared with the ledger while all looks
# idle: a transaction another controller runs between two polls shows nowhere else.
COMPARE_INTERVAL = timedelta(minutes=5)


def signal_transaction(entry_id: str) -> str:
    """Return the dispatcher signal for transaction news of one entry."""
    return f"{DOMAIN}_transaction_{entry_id}"


def is_refusal(status: int) -> bool:
    """Tell a refusal (4xx: the meter will not, in its state) from a failure (5xx)."""
    return 400 <= status < 500


@dataclass(frozen=True, kw_only=True)
class Judgement:
    """What could be read of a signed text; never refuses one."""

    record: OcmfRecord | None
    parse_error: str | None
    signature_valid: bool | None
    signature_problem: str | None


def judge(text: str, public_key: str) -> Judgement:
    """Read and check a signed text; any failure becomes part of the verdict."""
    record: OcmfRecord | None = None
    parse_error: str | None = None
    try:
        record = parse(text)
    except OcmfError as err:
        parse_error = str(err)
    except Exception as err:  # noqa: BLE001 - a bug here must never cost a tuple
        parse_error = f"unexpected error while reading: {type(err).__name__}"
    if not public_key:
        return Judgement(
            record=record,
            parse_error=parse_error,
            signature_valid=None,
            signature_problem="the meter's public key is not known",
        )
    try:
        valid = verify_signature(record if record is not None else text, public_key)
    except OcmfError as err:
        # With a readable record and a known key, a signature that cannot be
        # read does not verify; without a record there may be no signature.
        return Judgement(
            record=record,
            parse_error=parse_error,
            signature_valid=False if record is not None else None,
            signature_problem=str(err),
        )
    except Exception as err:  # noqa: BLE001 - as above
        return Judgement(
            record=record,
            parse_error=parse_error,
            signature_valid=None,
            signature_problem=f"unexpected error while checking: {type(err).__name__}",
        )
    return Judgement(
        record=record,
        parse_error=parse_error,
        signature_valid=valid,
        signature_problem=None if valid else "the signature does not match the key",
    )


@dataclass(frozen=True, kw_only=True)
class Kept:
    """A tuple that is in the ledger now."""

    signed: SignedTuple
    new: bool  # False: the ledger already held it


@dataclass(kw_only=True)
class _Held:
    """A tuple read from the meter that the ledger has not taken yet."""

    text: str
    reason: str
    received_at: datetime


class TupleKeeper:
    """Stores, judges, announces and recovers the signed tuples of one meter."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: IemDcrConfigEntry,
        coordinator: IemDcrCoordinator,
        resources: MeterResources,
    ) -> None:
        """Use the meter's shared ledger; call `async_load` before use."""
        self._hass = hass
        self._entry = entry
        self._coordinator = coordinator
        self._client = coordinator.client
        self._resources = resources
        self._ledger = resources.ledger
        # Prices each stored tuple's session once, right after it is stored.
        self.costs = CostTracker(
            hass,
            entry,
            resources.costs,
            coordinator.now,
            coordinator.settings.poll_interval,
        )
        self.last: SignedTuple | None = None
        # A transaction ran whose tuple may exist only on the meter.
        self.tuple_expected = False
        # The meter ended a transaction but its tuple could not be read.
        self.receipt_missing = False
        # Polling came back after failures: compare the meter's last tuple once.
        self._collect_requested = False
        self._held: list[_Held] = []
        self._write_retry_delay = WRITE_RETRY_FIRST
        self._write_retry_cancel: CALLBACK_TYPE | None = None
        self._ledger_failing = False
        # Unreadable tuples still waiting for a readable copy or an acknowledgement.
        self._unreadable: dict[int, LedgerEntry] = {}
        # Acknowledged ones: starts go on, but a readable copy is still welcome.
        self._awaiting_copy: set[int] = set()
        self._unreadable_reread_at: datetime | None = None
        self._compare_at: datetime | None = None
        self._collecting = False

    # -- state -----------------------------------------------------------------

    @property
    def ledger_size(self) -> int:
        """Return the number of stored tuples."""
        return len(self._ledger)

    @property
    def ledger(self) -> Ledger:
        """Return the ledger (read-only use: exports and diagnostics)."""
        return self._ledger

    @property
    def held(self) -> int:
        """Return how many read tuples wait for the ledger."""
        return len(self._held)

    @property
    def unreadable_pending(self) -> list[int]:
        """Return the ledger sequences of unreadable tuples that block starts."""
        return sorted(self._unreadable)

    @property
    def recovery_pending(self) -> bool:
        """Tell whether a tuple is still to be fetched from the meter or written."""
        return self.receipt_missing or bool(self._held)

    async def async_load(self) -> None:
        """Take what the shared ledger holds; report what loading it found."""
        report = self._resources.load_report
        if report is not None:
            self._resources.load_report = None
            if report.skipped_torn or report.skipped_corrupt:
                LOGGER.warning(
                    "Ledger %s: skipped %s torn and %s corrupt record(s);"
                    " the others are intact",
                    self._ledger.path,
                    report.skipped_torn,
                    report.skipped_corrupt,
                )
        for gap in self._ledger.gaps():
            self._report_gap(gap)
        acknowledged = self._resources.acknowledgements.sequences
        for entry in self._ledger.entries():
            if entry.parse_error is None:
                # A readable tuple stored later is the readable copy.
                self._unreadable.clear()
            elif entry.sequence not in acknowledged:
                self._unreadable[entry.sequence] = entry
        for entry in self._unreadable.values():
            self._raise_unreadable_issue(entry)
        if (last := self._ledger.last()) is not None:
            self.last = self.describe(last)

    @callback
    def async_shutdown(self) -> None:
        """Stop the write retry timer (held tuples stay on the meter)."""
        if self._write_retry_cancel is not None:
            self._write_retry_cancel()
            self._write_retry_cancel = None
        if self._held:
            LOGGER.warning(
                "%s signed tuple(s) could not be written to the ledger before"
                " unloading; the meter still holds the last one",
                len(self._held),
            )

    # -- storing ---------------------------------------------------------------

    async def async_keep(self, text: str, reason: str) -> Kept:
        """Store a signed text first, then judge and announce it.

        Raises HomeAssistantError (ledger_write_failed) when the ledger cannot take
        it; the tuple is then held and written as soon as possible.
        """
        received_at = self._coordinator.now()
        if self._held:
            # Older tuples first, so the ledger keeps the meter's order.
            await self._async_flush_held()
        if self._held:
            if all(held.text.strip() != text.strip() for held in self._held):
                self._held.append(
                    _Held(text=text, reason=reason, received_at=received_at)
                )
            raise self._write_failed(LedgerError("earlier tuples are still waiting"))
        try:
            kept = await self._async_store(text, reason, received_at)
        except (LedgerError, ValueError, TypeError) as err:
            # Whatever keeps it out of the ledger, the tuple is held, not dropped.
            failure = err if isinstance(err, LedgerError) else LedgerError(str(err))
            self._hold(
                _Held(text=text, reason=reason, received_at=received_at), failure
            )
            raise self._write_failed(failure) from err
        if kept.new and (
            kept.signed.parse_error is not None or kept.signed.signature_valid is False
        ):
            # The copy may have been damaged on the way: the meter's may be good.
            return await self._async_seek_better_copy(kept.signed) or kept
        return kept

    async def _async_store(self, text: str, reason: str, received_at: datetime) -> Kept:
        public_key = await self._async_public_key()
        verdict = judge(text, public_key)
        described = self._describe_verdict(text, verdict, public_key, reason)
        result: AppendResult = await self._hass.async_add_executor_job(
            lambda: self._ledger.append(
                meter_serial=described.meter_serial,
                pagination=_pagination(verdict.record),
                ocmf=text,
                public_key=public_key,
                signature_valid=verdict.signature_valid,
                reason=reason,
                recorded_at=received_at,
                parse_error=verdict.parse_error,
            )
        )
        self._ledger_works()
        if result.duplicate:
            return Kept(signed=self.describe(result.entry), new=False)
        self._announce(result, described, verdict)
        return Kept(signed=described, new=True)

    def _describe_verdict(
        self, text: str, verdict: Judgement, public_key: str, reason: str
    ) -> SignedTuple:
        problem = verdict.parse_error
        if verdict.record is not None:
            try:
                return self._named(
                    SignedTuple.from_record(
                        verdict.record,
                        public_key=public_key,
                        signature_valid=verdict.signature_valid,
                        reason=reason,
                        meter_serial=self._serial,
                    ),
                    verdict.record,
                )
            except Exception as err:  # noqa: BLE001 - describing must not cost a tuple
                problem = f"unexpected error while describing: {type(err).__name__}"
        return SignedTuple.unreadable(
            text,
            public_key=public_key,
            signature_valid=verdict.signature_valid,
            reason=reason,
            meter_serial=self._serial,
            parse_error=problem or "unreadable",
        )

    def describe(self, entry: LedgerEntry) -> SignedTuple:
        """Describe a stored entry (what entities and responses show)."""
        record: OcmfRecord | None = None
        parse_error = entry.parse_error
        if parse_error is None:
            try:
                record = parse(entry.ocmf)
            except OcmfError as err:
                parse_error = str(err)
        if record is None:
            return SignedTuple.unreadable(
                entry.ocmf,
                public_key=entry.public_key,
                signature_valid=entry.signature_valid,
                reason=entry.reason,
                meter_serial=entry.meter_serial,
                parse_error=parse_error or "unreadable",
            )
        return self._named(
            SignedTuple.from_record(
                record,
                public_key=entry.public_key,
                signature_valid=entry.signature_valid,
                reason=entry.reason,
                meter_serial=entry.meter_serial,
            ),
            record,
        )

    def _named(self, signed: SignedTuple, record: OcmfRecord) -> SignedTuple:
        """Add the driver's name (tags, then options); the UID stays in the OCMF text."""
        name = DriverDirectory(self._hass, self._entry.options).name(
            record.payload.identification_data
        )
        return replace(signed, driver=name) if name else signed

    def _announce(
        self, result: AppendResult, described: SignedTuple, verdict: Judgement
    ) -> None:
        entry = result.entry
        if verdict.parse_error is not None:
            LOGGER.warning(
                "The meter handed out signed data that cannot be read as OCMF"
                " (ledger record %s): %s; it is stored as it is",
                entry.sequence,
                verdict.parse_error,
            )
            self._unreadable[entry.sequence] = entry
            self._raise_unreadable_issue(entry)
        elif self._unreadable or self._awaiting_copy:
            LOGGER.info("A readable copy of the unreadable signed data is stored")
            self._resolve_unreadable()
            self._awaiting_copy.clear()
        if verdict.signature_valid is False:
            LOGGER.error(
                "The signature of tuple %s does not verify against the meter's key"
                " (%s)",
                described.ocmf_id,
                verdict.signature_problem,
            )
            self._raise_signature_issue(entry, described)
        if result.gap is not None:
            self._report_gap(result.gap)
        self._settle_cost(entry)
        self.last = described
        self._update_device(described)
        self._hass.bus.async_fire(
            EVENT_TRANSACTION_STOPPED, {**self.event_base(), **described.as_dict()}
        )
        async_dispatcher_send(
            self._hass, signal_transaction(self._entry.entry_id), "stopped", described
        )

    def _settle_cost(self, entry: LedgerEntry) -> None:
        """Fix the session's cost; the tuple is stored already, whatever happens here."""
        try:
            self.costs.async_settle(entry)
        except Exception:  # noqa: BLE001 - pricing must never cost a tuple
            LOGGER.exception(
                "Could not fix the cost of ledger record %s; it is priced with the"
                " current options instead",
                entry.sequence,
            )

    async def _async_public_key(self) -> str:
        if self._coordinator.public_key is None:
            try:
                self._coordinator.public_key = await self._client.get_public_key()
            except IemDcrError as err:
                LOGGER.warning("Could not read the meter's public key: %s", err)
                return ""
        return self._coordinator.public_key.key

    async def _async_seek_better_copy(self, damaged: SignedTuple) -> Kept | None:
        """Read the meter's last tuple once more; keep it if it is a better copy.

        Returns the copy when it is new and readable (for an unreadable tuple) or
        verifies (for one whose signature did not).
        """
        try:
            signed = await self._client.get_last_transaction()
        except IemDcrError as err:
            LOGGER.debug("No second copy of the tuple: %s", err)
            return None
        if signed.text.strip() == damaged.ocmf.strip():
            return None
        reason = (
            REASON_READABLE_COPY
            if damaged.parse_error is not None
            else REASON_VERIFIED_COPY
        )
        try:
            copy = await self.async_keep(signed.text, reason)
        except HomeAssistantError as err:
            LOGGER.debug("The second copy could not be kept yet: %s", err)
            return None
        better = (
            copy.signed.parse_error is None
            if damaged.parse_error is not None
            else copy.signed.signature_valid is True
        )
        if copy.new and better:
            LOGGER.info("The meter's own copy of the tuple is good; both are kept")
            return copy
        return None

    # -- a ledger that cannot be written -----------------------------------------

    def _hold(self, held: _Held, err: LedgerError) -> None:
        self._held.append(held)
        if not self._ledger_failing:
            self._ledger_failing = True
            LOGGER.error(
                "Could not write a signed tuple to the ledger (%s); it is kept in"
                " memory and written as soon as possible",
                err,
            )
            ir.async_create_issue(
                self._hass,
                DOMAIN,
                self._ledger_issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="ledger_unwritable",
                translation_placeholders={
                    "title": self._entry.title,
                    "path": str(self._ledger.path),
                    "error": str(err),
                },
            )
        self._schedule_write_retry()

    def _ledger_works(self) -> None:
        if not self._ledger_failing:
            return
        self._ledger_failing = False
        self._write_retry_delay = WRITE_RETRY_FIRST
        LOGGER.info("The ledger can be written again")
        ir.async_delete_issue(self._hass, DOMAIN, self._ledger_issue_id)

    def _schedule_write_retry(self) -> None:
        if self._write_retry_cancel is not None:
            return
        delay = self._write_retry_delay
        self._write_retry_delay = min(delay * 2, WRITE_RETRY_MAX)
        self._write_retry_cancel = async_call_later(
            self._hass, delay, self._write_retry_due
        )

    @callback
    def _write_retry_due(self, _now: datetime) -> None:
        self._write_retry_cancel = None
        self._entry.async_create_background_task(
            self._hass, self._async_flush_held(), name=f"{DOMAIN} ledger retry"
        )

    async def _async_flush_held(self) -> None:
        """Write held tuples in order; on failure keep the rest and retry later."""
        while self._held:
            held = self._held[0]
            try:
                await self._async_store(held.text, held.reason, held.received_at)
            except (LedgerError, ValueError, TypeError) as err:
                LOGGER.debug("The ledger still cannot be written: %s", err)
                self._schedule_write_retry()
                return
            self._held.pop(0)

    def _write_failed(self, err: LedgerError) -> HomeAssistantError:
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="ledger_write_failed",
            translation_placeholders={
                "path": str(self._ledger.path),
                "error": str(err),
            },
        )

    @property
    def _ledger_issue_id(self) -> str:
        return f"ledger_unwritable_{self._entry.entry_id}"

    # -- unreadable tuples ----------------------------------------------------

    def _unreadable_issue_id(self, sequence: int) -> str:
        return f"unreadable_tuple_{self._entry.entry_id}_{sequence}"

    def _raise_unreadable_issue(self, entry: LedgerEntry) -> None:
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            self._unreadable_issue_id(entry.sequence),
            is_fixable=True,
            severity=ir.IssueSeverity.ERROR,
            translation_key="unreadable_tuple",
            translation_placeholders={
                "title": self._entry.title,
                "sequence": str(entry.sequence),
                "path": str(self._ledger.path),
                "error": entry.parse_error or "",
            },
            data={"entry_id": self._entry.entry_id, "sequence": entry.sequence},
        )

    def _resolve_unreadable(self) -> None:
        for sequence in self._unreadable:
            ir.async_delete_issue(
                self._hass, DOMAIN, self._unreadable_issue_id(sequence)
            )
        self._unreadable.clear()

    async def async_acknowledge_unreadable(self, sequence: int) -> None:
        """Let starts go on: the user has seen this unreadable tuple."""
        await self._resources.acknowledgements.async_add(sequence)
        if self._unreadable.pop(sequence, None) is not None:
            self._awaiting_copy.add(sequence)
        ir.async_delete_issue(self._hass, DOMAIN, self._unreadable_issue_id(sequence))
        LOGGER.info("Unreadable signed data (ledger record %s) acknowledged", sequence)

    # -- signature and pagination problems -----------------------------------------

    def _raise_signature_issue(self, entry: LedgerEntry, signed: SignedTuple) -> None:
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            f"signature_invalid_{self._entry.entry_id}_{entry.sequence}",
            is_fixable=False,
            is_persistent=True,
            severity=ir.IssueSeverity.ERROR,
            translation_key="signature_invalid",
            translation_placeholders={
                "title": self._entry.title,
                "ocmf_id": signed.ocmf_id,
                "sequence": str(entry.sequence),
            },
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

    # -- the meter's last tuple ------------------------------------------------

    async def async_collect_last(self, reason: str | None = None) -> Kept | None:
        """Fetch the meter's last tuple and keep it if the ledger lacks it.

        Returns None when the meter has never signed one. Raises the client's
        errors and HomeAssistantError (ledger_write_failed). The caller holds the
        meter lock.
        """
        try:
            signed = await self._client.get_last_transaction()
        except IemDcrRefusedError as err:
            if not is_refusal(err.status):
                raise
            if self.receipt_missing or self.tuple_expected:
                LOGGER.warning(
                    "A transaction ran on the meter but the meter has no signed data"
                    " of it (power cycle?); its measurement is lost"
                )
            self.tuple_expected = self.receipt_missing = False
            self._collect_requested = False
            return None
        if reason is None:
            reason = (
                REASON_RECOVERED
                if self.receipt_missing
                else REASON_READABLE_COPY
                if self._unreadable or self._awaiting_copy
                else REASON_ENDED_EXTERNALLY
            )
        if (
            reason == REASON_ENDED_EXTERNALLY
            and self.tuple_expected
            and self._ledger.contains(signed.text)
        ):
            LOGGER.warning(
                "A transaction ended on the meter without a new signed tuple"
                " (for example by a power failure); its measurement is lost"
            )
        try:
            kept = await self.async_keep(signed.text, reason)
        finally:
            # Kept, or held in memory and written with back-off: it was read.
            self.tuple_expected = self.receipt_missing = False
            self._collect_requested = False
        return kept

    async def async_ready_for_begin(self) -> None:
        """Refuse a start while a tuple is not safe in the ledger (meter lock held)."""
        if self._held:
            await self._async_flush_held()
            if self._held:
                raise self._write_failed(LedgerError("the ledger is still unwritable"))
        if self.receipt_missing:
            try:
                await self.async_collect_last()
            except IemDcrError as err:
                LOGGER.debug("Pending tuple still not readable: %s", err)
            if self.receipt_missing:
                raise ServiceValidationError(
                    translation_domain=DOMAIN, translation_key="receipt_pending"
                )
        self._refuse_if_unreadable()

    async def async_collect_before_begin(self) -> None:
        """Keep the meter's last tuple before a new one can replace it (lock held)."""
        try:
            await self.async_collect_last()
        except IemDcrError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="last_tuple_unreadable",
                translation_placeholders={"error": str(err)},
            ) from err
        self._refuse_if_unreadable()

    def _refuse_if_unreadable(self) -> None:
        if self._unreadable:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unreadable_tuple_pending",
                translation_placeholders={
                    "sequence": str(min(self._unreadable)),
                    "path": str(self._ledger.path),
                },
            )

    # -- polls -------------------------------------------------------------------

    @callback
    def async_handle_poll(self, meter: MeterValue, recovered: bool) -> None:
        """Note a running transaction; collect the meter's tuple when one may wait."""
        if recovered:
            self._collect_requested = True
        if meter.transaction_active:
            self.tuple_expected = True
            return
        now = self._coordinator.now()
        reread = bool(self._unreadable) and (
            self._unreadable_reread_at is None or now >= self._unreadable_reread_at
        )
        if self._compare_at is None:
            self._compare_at = now + COMPARE_INTERVAL
        compare = now >= self._compare_at
        if not (
            self.tuple_expected
            or self.receipt_missing
            or self._collect_requested
            or reread
            or compare
        ):
            return
        if self._collecting or self._resources.lock.locked():
            return
        if reread:
            self._unreadable_reread_at = now + UNREADABLE_REREAD_INTERVAL
        self._compare_at = now + COMPARE_INTERVAL
        self._collecting = True
        self._entry.async_create_background_task(
            self._hass, self._async_collect_in_background(), name=f"{DOMAIN} collect"
        )

    async def _async_collect_in_background(self) -> None:
        try:
            async with self._resources.lock:
                await self.async_collect_last()
        except IemDcrError as err:
            LOGGER.debug("The meter's last tuple is not readable yet: %s", err)
        except HomeAssistantError as err:
            LOGGER.debug("The meter's last tuple could not be kept yet: %s", err)
        finally:
            self._collecting = False

    # -- announcing ----------------------------------------------------------------

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

    def event_base(self) -> dict[str, Any]:
        """Return what every event of this meter carries."""
        device = meter_device(self._hass, self._entry.entry_id, self._serial)
        return {
            "device_id": device.id if device else None,
            "config_entry_id": self._entry.entry_id,
        }


def _pagination(record: OcmfRecord | None) -> str | None:
    """Return the record's pagination in the form the ledger indexes, else None."""
    if record is None:
        return None
    pagination = record.payload.pagination
    if isinstance(pagination, str) and _PAGINATION.fullmatch(pagination):
        return pagination
    return None
