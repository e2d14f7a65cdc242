"""Polling, the meter's initialization handshake and its clock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
import time
from typing import TYPE_CHECKING, Any

from homeassistant.core import HomeAssistant
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
from .const import CLOCK_SYNC_RETRY, DOMAIN, LOGGER
from .settings import MeterSettings

if TYPE_CHECKING:
    from . import IemDcrConfigEntry

type PollHook = Callable[[MeterValue], Awaitable[None]]


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
class _ClockState:
    synced_at: datetime | None = None
    retry_at: datetime | None = None


class IemDcrCoordinator(DataUpdateCoordinator[IemDcrData]):
    """Polls `/metervalue` and keeps the meter initialised and on time.

    `meter_lock` serialises everything that changes the meter's state (handshake,
    clock sync, start and stop); reading `/metervalue` needs no lock.
    """

    config_entry: IemDcrConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: IemDcrConfigEntry,
        client: IemDcrClient,
        settings: MeterSettings,
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
        self.meter_lock = asyncio.Lock()
        self.statistics = PollStatistics()
        self.gateway: Gateway | None = None
        self.public_key: PublicKey | None = None
        self._clock = _ClockState()
        self._poll_hooks: list[PollHook] = []

    @property
    def identity_issue_id(self) -> str:
        """Return the repair issue id for a CT/CI mismatch of this meter."""
        return f"identity_mismatch_{self.config_entry.entry_id}"

    def add_poll_hook(self, hook: PollHook) -> None:
        """Run `hook` after every successful poll (outside the meter lock)."""
        self._poll_hooks.append(hook)

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
        """Run the handshake; the caller holds `meter_lock`."""
        settings = self.settings
        await self.client.get_gateway()
        sent_at = self.now()
        try:
            await self.client.set_gateway(
                settings.charge_point_id_type,
                settings.charge_point_id,
                self.meter_time_text(),
            )
        except IemDcrRefusedError:
            # The meter takes CT/CI once per power-up: compare what it holds.
            gateway = await self.client.get_gateway()
            self.gateway = gateway
            self._check_identity(gateway)
            try:
                await self._async_set_clock_locked()
            except IemDcrRefusedError as err:
                # The meter keeps its clock during a transaction; set it afterwards.
                LOGGER.info(
                    "The meter did not take the time now (%s); retrying later", err
                )
        else:
            self.gateway = Gateway(
                charge_point_id_type=settings.charge_point_id_type,
                charge_point_id=settings.charge_point_id,
                time=None,
            )
            ir.async_delete_issue(self.hass, DOMAIN, self.identity_issue_id)
            self._clock_synced(sent_at)
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
        try:
            await self.client.set_datetime(self.meter_time_text())
        except IemDcrError:
            self._clock.retry_at = sent_at + CLOCK_SYNC_RETRY
            raise
        self._clock_synced(sent_at)

    def _clock_synced(self, at: datetime) -> None:
        self._clock.synced_at = at
        self._clock.retry_at = None
        self.statistics.clock_syncs += 1
        self.statistics.last_clock_sync = at

    def _clock_sync_due(self, meter: MeterValue) -> bool:
        """Tell whether the clock should be set now (never during a transaction)."""
        if meter.transaction_active:
            return False
        now = self.now()
        if self._clock.retry_at is not None and now < self._clock.retry_at:
            return False
        if meter.time.status is TimeStatus.UNSYNCHRONIZED:
            return True
        synced_at = self._clock.synced_at
        return synced_at is None or now - synced_at >= self.settings.clock_sync_interval

    async def _async_maintain(self, meter: MeterValue) -> None:
        """Re-initialise a power-cycled meter and keep its clock set."""
        if not self._clock_sync_due(meter) or self.meter_lock.locked():
            return
        async with self.meter_lock:
            try:
                gateway = await self.client.get_gateway()
                if not gateway.is_configured:
                    LOGGER.info(
                        "The meter lost its configuration; initialising it again"
                    )
                    await self.async_handshake_locked()
                else:
                    await self._async_set_clock_locked()
            except IemDcrError as err:
                LOGGER.warning("Could not set the meter's clock: %s", err)

    async def _async_update_data(self) -> IemDcrData:
        """Poll the meter once."""
        started = time.monotonic()
        self.statistics.polls += 1
        try:
            meter = await self.client.get_meter_value()
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
        await self._async_maintain(meter)
        for hook in self._poll_hooks:
            await hook(meter)
        return IemDcrData(meter=meter, public_key=self.public_key)
