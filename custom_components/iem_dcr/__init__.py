"""The Isabellenhütte IEM-DCR integration."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady, HomeAssistantError
from homeassistant.helpers import config_validation as cv, issue_registry as ir
from homeassistant.helpers.typing import ConfigType

from .api import IemDcrClient, IemDcrError
from .const import DOMAIN, LOGGER
from .coordinator import IemDcrCoordinator
from .ledger import LedgerError
from .meter_resources import async_meter_resources, ledger_path
from .services import async_setup_services
from .settings import MeterSettings
from .statement_service import async_setup_statement_service
from .transaction import TransactionManager
from .tuple_keeper import REASON_RECOVERED, TupleKeeper

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CALENDAR,
    Platform.EVENT,
    Platform.SENSOR,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

# How long an unload waits for a start or stop still talking to the meter; a
# sequence with every retry timing out takes about half of this.
UNLOAD_WAIT = 60.0

__all__ = ["IemDcrConfigEntry", "IemDcrRuntimeData", "ledger_path"]


@dataclass(kw_only=True)
class IemDcrRuntimeData:
    """What a loaded config entry holds."""

    client: IemDcrClient
    coordinator: IemDcrCoordinator
    keeper: TupleKeeper
    transactions: TransactionManager
    settings: MeterSettings


type IemDcrConfigEntry = ConfigEntry[IemDcrRuntimeData]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the service actions once for all meters."""
    async_setup_services(hass)
    async_setup_statement_service(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: IemDcrConfigEntry) -> bool:
    """Connect to a meter, initialise it and start polling."""
    settings = MeterSettings.from_entry(entry)
    serial = entry.unique_id or ""
    try:
        resources = await async_meter_resources(hass, serial)
    except LedgerError as err:
        # Usually permissions or a full disk: set-up is retried once fixed.
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="ledger_unreadable",
            translation_placeholders={
                "path": str(ledger_path(hass, serial)),
                "error": str(err),
            },
        ) from err
    # The client's own session: Home Assistant's shared one pools connections,
    # and the meter gets a new connection for every request.
    client = IemDcrClient(
        settings.host, settings.port, request_timeout=settings.request_timeout
    )
    entry.async_on_unload(client.close)
    coordinator = IemDcrCoordinator(hass, entry, client, settings, resources.lock)
    try:
        await coordinator.async_handshake()
    except IemDcrError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={
                "host": f"{settings.host}:{settings.port}",
                "error": str(err),
            },
        ) from err
    keeper = TupleKeeper(hass, entry, coordinator, resources)
    await keeper.async_load()
    transactions = TransactionManager(hass, entry, coordinator, keeper)
    coordinator.add_poll_hook(keeper.async_handle_poll)
    coordinator.add_poll_hook(keeper.costs.async_handle_poll)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = IemDcrRuntimeData(
        client=client,
        coordinator=coordinator,
        keeper=keeper,
        transactions=transactions,
        settings=settings,
    )
    await _async_reconcile(keeper, resources.lock)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    return True


async def _async_reconcile(keeper: TupleKeeper, lock: asyncio.Lock) -> None:
    """Store the meter's last tuple if the ledger lacks it (after start-up)."""
    async with lock:
        try:
            await keeper.async_collect_last(REASON_RECOVERED)
        except (IemDcrError, HomeAssistantError) as err:
            LOGGER.warning("Could not compare the meter's last tuple: %s", err)


async def _async_options_updated(hass: HomeAssistant, entry: IemDcrConfigEntry) -> None:
    """Apply changed options, or data from a reconfigure, by reloading the entry."""
    await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: IemDcrConfigEntry) -> bool:
    """Let running work on the meter finish, then stop polling and remove entities."""
    runtime = entry.runtime_data
    await runtime.coordinator.async_stop_maintenance()
    try:
        # A stop still waiting for its receipt finishes (and stores it) first.
        async with asyncio.timeout(UNLOAD_WAIT), runtime.coordinator.meter_lock:
            pass
    except TimeoutError:
        LOGGER.warning(
            "A transaction step was still running after %s s; unloading anyway",
            UNLOAD_WAIT,
        )
    runtime.keeper.async_shutdown()
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: IemDcrConfigEntry) -> None:
    """Clean up repair issues; the ledger stays: signed tuples are legal records."""
    registry = ir.async_get(hass)
    for (domain, issue_id), _issue in list(registry.issues.items()):
        if domain == DOMAIN and entry.entry_id in issue_id:
            ir.async_delete_issue(hass, DOMAIN, issue_id)
