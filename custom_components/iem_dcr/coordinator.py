"""Polling, the meter's initialization handshake and its clock.

A poll only reads `/metervalue`. Keeping the meter initialised and on time
(the handshake after a power cycle, the clock sync) runs beside the polls in a
task of its own and backs off after a failure, so a meter that hangs on those
requests never slows the live values down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
import time
from typing import TYPE_CHECKING, Any

from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .api import (
    Gateway,
    IemDcrClient,
    IemDcrConnectionError,
    IemDcrError,
    IemDcrRefusedError,
    MeterValue,
    PublicKey,
    TimeStatus,
    format_meter_time,
)
from .const import DOMAIN, LOGGER
from .settings import MeterSettings

if TYPE_CHECKING:
    from . import IemDcrConfigEntry

# Called after every successful poll with the values and whether the poll before
# it had failed; runs in the event loop and must not wait for anything.
type PollHook = Callable[[MeterValue, bool], None]

# Back-off after a failed handshake or clock sync: doubles up to the maximum.
MAINTENANCE_RETRY_FIRST = timedelta(seconds=10)
MAINTENANCE_RETRY_MAX = timedelta(minutes=5)


@dataclass(frozen=True, kw_only=True)
class IemDcrData:
    """What one poll found."""

    meter: MeterValue
    public_key: PublicKey | None


@dataclass(kw_only=True)
class PollStatistics:
    """Counters for diagnostics."""

    polls: int = 0
    failures: int = 0
    last_error: str | None = None
    last_duration: float | None = None
    handshakes: int = 0
    clock_syncs: int = 0
    last_clock_sync: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the counters in a JSON-able form."""
        return {
            "polls": self.polls,
            "failures": self.failures,
            "last_error": self.last_error,
            "last_poll_duration_s": self.last_duration,
            "handshakes": self.handshakes,
            "clock_syncs": self.clock_syncs,
            "last_clock_sync": (
                self.last_clock_sync.isoformat() if self.last_clock_sync else None
            ),
        }


@dataclass
class _Maintenance:
    """When the meter was last set up and when to try again after a failure."""

    synced_at: datetime | None = None
    retry_at: datetime | None = None
    retry_delay: timedelta = MAINTENANCE_RETRY_FIRST
    handshake_due: bool = False
    task: asyncio.Task[None] | None = None


class IemDcrCoordinator(DataUpdateCoordinator[IemDcrData]):
    """Polls `/metervalue` and keeps the meter initialised and on time.

    `meter_lock` serialises everything that changes the meter's state (handshake,
    clock sync, start and stop); it is shared by every set-up of the same meter.
    Reading `/metervalue` needs no lock.
    """

    config_entry: IemDcrConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: IemDcrConfigEntry,
        client: IemDcrClient,
        settings: MeterSettings,
        meter_lock: asyncio.Lock,
    ) -> None:
        """Set up the coordinator for one meter."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.unique_id}",
            update_interval=settings.poll_interval,
            always_update=False,
        )
        self.client = client
        self.settings = settings
        self.meter_lock = meter_lock
        self.statistics = PollStatistics()
        self.gateway: Gateway | None = None
        self.public_key: PublicKey | None = None
        self._maintenance = _Maintenance()
        self._poll_hooks: list[PollHook] = []
        # Counts finished starts and stops: a poll answer sent before one of them
        # finished describes the meter as it was before.
        self._transaction_epoch = 0
        self._meter_error_code: str | None = None
        self._poll_context: Context | None = None

    @property
    def identity_issue_id(self) -> str:
        """Return the repair issue id for a CT/CI mismatch of this meter."""
        return f"identity_mismatch_{self.config_entry.entry_id}"

    @property
    def meter_error_issue_id(self) -> str:
        """Return the repair issue id for a meter in its error state."""
        return f"meter_error_{self.config_entry.entry_id}"

    @property
    def poll_context(self) -> Context:
        """Return the context of the states that the last poll changed.

        One per poll, made when the first entity writes: the changes of one poll
        have one cause, and a context of its own for each costs time at every poll.
        """
        if self._poll_context is None:
            self._poll_context = Context()
        return self._poll_context

    def add_poll_hook(self, hook: PollHook) -> None:
        """Run `hook` after every successful poll (outside the meter lock)."""
        self._poll_hooks.append(hook)

    def note_transaction_change(self) -> None:
        """Mark answers of polls begun before this finished start or stop as stale."""
        self._transaction_epoch += 1

    def now(self) -> datetime:
        """Return the current time (UTC); one place so tests can control it."""
        return dt_util.utcnow()

    def meter_time_text(self) -> str:
        """Return now as the wall-clock time string the meter expects."""
        local = self.settings.clock_policy.local_time(
            self.now(), dt_util.get_default_time_zone()
        )
        return format_meter_time(local)

    async def async_handshake(self) -> None:
        """Initialise the meter: identity, clock, tariff text and public key.

        Raises the client's errors when the meter cannot be reached; a refused
        identity write is expected after the first handshake since power-up.
        """
        async with self.meter_lock:
            await self.async_handshake_locked()

    async def async_handshake_locked(self) -> None:
        """Run the handshake; the caller holds `meter_lock`.

        Only a refusal of the identity write followed by a gateway that holds an
        identity means "already set since power-up"; an empty gateway is written
        again, so a failed write never leaves the meter signing an empty CI.
        """
        settings = self.settings
        await self.client.get_gateway()
        sent_at = self.now()
        try:
            await self._async_write_identity()
        except IemDcrRefusedError:
            # The meter takes CT/CI once per power-up: compare what it holds.
            gateway = await self.client.get_gateway()
            if not gateway.is_configured:
                LOGGER.info(
                    "The meter refused the identity but holds none; writing it again"
                )
                await self._async_write_identity()
                self._identity_written(sent_at)
            else:
                self.gateway = gateway
                self._check_identity(gateway)
                try:
                    await self._async_set_clock_locked()
                except IemDcrRefusedError as err:
                    # The meter keeps its clock during a transaction; set it later.
                    LOGGER.info(
                        "The meter did not take the time now (%s); retrying later", err
                    )
        else:
            self._identity_written(sent_at)
        self._maintenance.handshake_due = False
        if settings.tariff_text:
            try:
                await self.client.set_tariff(settings.tariff_text)
            except IemDcrRefusedError as err:
                LOGGER.warning("The meter refused the tariff text: %s", err)
        try:
            self.public_key = await self.client.get_public_key()
        except IemDcrError as err:
            # Not fatal: the key is fetched again before a signed tuple is checked.
            LOGGER.warning("Could not read the meter's public key: %s", err)
        self.statistics.handshakes += 1

    async def _async_write_identity(self) -> None:
        settings = self.settings
        await self.client.set_gateway(
            settings.charge_point_id_type,
            settings.charge_point_id,
            self.meter_time_text(),
        )

    def _identity_written(self, at: datetime) -> None:
        settings = self.settings
        self.gateway = Gateway(
            charge_point_id_type=settings.charge_point_id_type,
            charge_point_id=settings.charge_point_id,
            time=None,
        )
        ir.async_delete_issue(self.hass, DOMAIN, self.identity_issue_id)
        self._clock_synced(at)

    def _check_identity(self, gateway: Gateway) -> None:
        settings = self.settings
        if (
            gateway.charge_point_id_type == settings.charge_point_id_type
            and gateway.charge_point_id == settings.charge_point_id
        ):
            LOGGER.info("The meter already holds the configured CT and CI")
            ir.async_delete_issue(self.hass, DOMAIN, self.identity_issue_id)
            return
        LOGGER.warning(
            "The meter holds CT/CI %s/%s, configured are %s/%s; power-cycle the meter",
            gateway.charge_point_id_type,
            gateway.charge_point_id,
            settings.charge_point_id_type,
            settings.charge_point_id,
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self.identity_issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="identity_mismatch",
            translation_placeholders={
                "title": self.config_entry.title,
                "meter_ct": gateway.charge_point_id_type or "-",
                "meter_ci": gateway.charge_point_id or "-",
                "configured_ct": settings.charge_point_id_type,
                "configured_ci": settings.charge_point_id,
            },
        )

    async def _async_set_clock_locked(self) -> None:
        sent_at = self.now()
        await self.client.set_datetime(self.meter_time_text())
        self._clock_synced(sent_at)

    def _clock_synced(self, at: datetime) -> None:
        self._maintenance.synced_at = at
        self.statistics.clock_syncs += 1
        self.statistics.last_clock_sync = at

    def _maintenance_due(self, meter: MeterValue) -> bool:
        """Tell whether the meter needs initialising or its clock set now.

        Never during a transaction, never while a failure's back-off lasts.
        """
        maintenance = self._maintenance
        if meter.transaction_active or maintenance.task is not None:
            return False
        now = self.now()
        if maintenance.retry_at is not None and now < maintenance.retry_at:
            return False
        if maintenance.handshake_due or meter.time.status is TimeStatus.UNSYNCHRONIZED:
            return True
        synced_at = maintenance.synced_at
        return synced_at is None or now - synced_at >= self.settings.clock_sync_interval

    def _start_maintenance(self, meter: MeterValue) -> None:
        if not self._maintenance_due(meter) or self.meter_lock.locked():
            return
        self._maintenance.task = self.config_entry.async_create_background_task(
            self.hass, self._async_maintain(), name=f"{DOMAIN} maintenance"
        )

    async def _async_maintain(self) -> None:
        """Re-initialise a power-cycled meter and keep its clock set."""
        maintenance = self._maintenance
        try:
            async with self.meter_lock:
                gateway = await self.client.get_gateway()
                if maintenance.handshake_due or not gateway.is_configured:
                    LOGGER.info(
                        "The meter lost its configuration; initialising it again"
                    )
                    maintenance.handshake_due = True
                    await self.async_handshake_locked()
                else:
                    await self._async_set_clock_locked()
        except IemDcrError as err:
            delay = maintenance.retry_delay
            maintenance.retry_at = self.now() + delay
            maintenance.retry_delay = min(delay * 2, MAINTENANCE_RETRY_MAX)
            LOGGER.warning(
                "Could not %s (%s); trying again in %s s",
                "initialise the meter"
                if maintenance.handshake_due
                else "set the meter's clock",
                err,
                int(delay.total_seconds()),
            )
        else:
            maintenance.retry_at = None
            maintenance.retry_delay = MAINTENANCE_RETRY_FIRST
        finally:
            maintenance.task = None

    async def async_stop_maintenance(self) -> None:
        """Cancel a running handshake or clock sync (entry unload)."""
        task = self._maintenance.task
        if task is not None:
            task.cancel()
            await asyncio.wait([task])

    def _report_meter_error(self, meter: MeterValue) -> None:
        """Tell the user when the meter is in its error state (starts are refused)."""
        code = None if meter.healthy else meter.error_code
        if code == self._meter_error_code:
            return
        self._meter_error_code = code
        if code is None:
            LOGGER.info("The meter left its error state")
            ir.async_delete_issue(self.hass, DOMAIN, self.meter_error_issue_id)
            return
        LOGGER.warning("The meter reports the error state %s; starts are refused", code)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self.meter_error_issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="meter_error",
            translation_placeholders={
                "title": self.config_entry.title,
                "error_code": code,
            },
        )

    async def _async_update_data(self) -> IemDcrData:
        """Poll the meter once."""
        started = time.monotonic()
        self._poll_context = None
        self.statistics.polls += 1
        recovered = not self.last_update_success
        try:
            meter = await self._async_read_fresh()
        except IemDcrError as err:
            self.statistics.failures += 1
            self.statistics.last_error = str(err)
            key = (
                "communication_error"
                if isinstance(err, IemDcrConnectionError)
                else "unexpected_response"
            )
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key=key,
                translation_placeholders={"error": str(err)},
            ) from err
        finally:
            self.statistics.last_duration = time.monotonic() - started
        self._report_meter_error(meter)
        self._start_maintenance(meter)
        for hook in self._poll_hooks:
            hook(meter, recovered)
        return IemDcrData(meter=meter, public_key=self.public_key)

    async def _async_read_fresh(self) -> MeterValue:
        """Read `/metervalue`; read again if a start or stop finished meanwhile."""
        for _ in range(2):
            epoch = self._transaction_epoch
            meter = await self.client.get_meter_value()
            if epoch == self._transaction_epoch:
                return meter
        return meter
