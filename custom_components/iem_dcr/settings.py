"""The settings of one meter, read once from its config entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from homeassistant.const import CONF_HOST, CONF_PORT

from .const import (
    CONF_CI,
    CONF_CLOCK_SYNC_INTERVAL,
    CONF_CT,
    CONF_FIXED_OFFSET,
    CONF_HANDLE_DST,
    CONF_POLL_INTERVAL,
    CONF_REQUEST_TIMEOUT,
    CONF_RETRY_DELAY,
    CONF_SHOW_USER_ID,
    CONF_TARIFF_TEXT,
    CONF_TIME_ZONE_MODE,
    CONF_TRANSACTION_RETRIES,
    DEFAULT_CT,
    DEFAULT_PORT,
    OPTION_DEFAULTS,
)
from .meter_clock import ClockPolicy

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry


@dataclass(frozen=True, kw_only=True)
class MeterSettings:
    """Everything the coordinator and the transaction manager need to know."""

    host: str
    port: int
    charge_point_id_type: str
    charge_point_id: str
    tariff_text: str
    show_user_id: bool
    poll_interval: timedelta
    clock_sync_interval: timedelta
    clock_policy: ClockPolicy
    request_timeout: float
    transaction_retries: int
    retry_delay: float  # seconds

    @classmethod
    def from_entry(cls, entry: ConfigEntry) -> MeterSettings:
        """Read the entry's data and options, with defaults for what is unset."""
        data = entry.data
        options = {**OPTION_DEFAULTS, **entry.options}
        return cls(
            host=data[CONF_HOST],
            port=int(data.get(CONF_PORT, DEFAULT_PORT)),
            charge_point_id_type=data.get(CONF_CT, DEFAULT_CT),
            charge_point_id=data[CONF_CI],
            tariff_text=options[CONF_TARIFF_TEXT],
            show_user_id=bool(options[CONF_SHOW_USER_ID]),
            poll_interval=timedelta(seconds=options[CONF_POLL_INTERVAL]),
            clock_sync_interval=timedelta(hours=options[CONF_CLOCK_SYNC_INTERVAL]),
            clock_policy=ClockPolicy(
                mode=options[CONF_TIME_ZONE_MODE],
                fixed_offset=options[CONF_FIXED_OFFSET],
                handle_dst=bool(options[CONF_HANDLE_DST]),
            ),
            request_timeout=float(options[CONF_REQUEST_TIMEOUT]),
            transaction_retries=int(options[CONF_TRANSACTION_RETRIES]),
            retry_delay=options[CONF_RETRY_DELAY] / 1000,
        )
