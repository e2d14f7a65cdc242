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
    DEFAULT_CLOCK_SYNC_INTERVAL,
    DEFAULT_CT,
    DEFAULT_FIXED_OFFSET,
    DEFAULT_HANDLE_DST,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_PORT,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_RETRY_DELAY,
    DEFAULT_TRANSACTION_RETRIES,
    TIME_ZONE_MODE_HOME_ASSISTANT,
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
        data, options = entry.data, entry.options
        return cls(
            host=data[CONF_HOST],
            port=int(data.get(CONF_PORT, DEFAULT_PORT)),
            charge_point_id_type=data.get(CONF_CT, DEFAULT_CT),
            charge_point_id=data[CONF_CI],
            tariff_text=options.get(CONF_TARIFF_TEXT, ""),
            show_user_id=bool(options.get(CONF_SHOW_USER_ID, False)),
            poll_interval=timedelta(
                seconds=options.get(CONF_POLL_INTERVAL, DEFAULT_POLL_INTERVAL)
            ),
            clock_sync_interval=timedelta(
                hours=options.get(CONF_CLOCK_SYNC_INTERVAL, DEFAULT_CLOCK_SYNC_INTERVAL)
            ),
            clock_policy=ClockPolicy(
                mode=options.get(CONF_TIME_ZONE_MODE, TIME_ZONE_MODE_HOME_ASSISTANT),
                fixed_offset=options.get(CONF_FIXED_OFFSET, DEFAULT_FIXED_OFFSET),
                handle_dst=bool(options.get(CONF_HANDLE_DST, DEFAULT_HANDLE_DST)),
            ),
            request_timeout=float(
                options.get(CONF_REQUEST_TIMEOUT, DEFAULT_REQUEST_TIMEOUT)
            ),
            transaction_retries=int(
                options.get(CONF_TRANSACTION_RETRIES, DEFAULT_TRANSACTION_RETRIES)
            ),
            retry_delay=options.get(CONF_RETRY_DELAY, DEFAULT_RETRY_DELAY) / 1000,
        )
