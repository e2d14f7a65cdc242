"""Constants for the Isabellenhütte IEM-DCR integration."""

from __future__ import annotations

import logging
from typing import Any, Final

DOMAIN: Final = "iem_dcr"
LOGGER = logging.getLogger(__package__)

MANUFACTURER: Final = "Isabellenhütte"
DEFAULT_MODEL: Final = "IEM-DCR"

# Config entry data
CONF_CT: Final = "ct"
CONF_CI: Final = "ci"

# Options
CONF_TARIFF_TEXT: Final = "tariff_text"
CONF_SHOW_USER_ID: Final = "show_user_id"
CONF_POLL_INTERVAL: Final = "poll_interval"
CONF_CLOCK_SYNC_INTERVAL: Final = "clock_sync_interval"
CONF_TIME_ZONE_MODE: Final = "time_zone_mode"
CONF_FIXED_OFFSET: Final = "fixed_offset"
CONF_HANDLE_DST: Final = "handle_dst"
CONF_REQUEST_TIMEOUT: Final = "request_timeout"
CONF_TRANSACTION_RETRIES: Final = "transaction_retries"
CONF_RETRY_DELAY: Final = "retry_delay"
CONF_DRIVERS: Final = "drivers"
CONF_PRICE_PER_KWH: Final = "price_per_kwh"
CONF_PRICE_ENTITY: Final = "price_entity"

TIME_ZONE_MODE_HOME_ASSISTANT: Final = "home_assistant"
TIME_ZONE_MODE_FIXED: Final = "fixed"

DEFAULT_PORT: Final = 80
DEFAULT_CT: Final = "EVSEID"
DEFAULT_POLL_INTERVAL: Final = 1  # seconds
DEFAULT_CLOCK_SYNC_INTERVAL: Final = 2  # hours
DEFAULT_FIXED_OFFSET: Final = "+0100"
DEFAULT_HANDLE_DST: Final = True
DEFAULT_REQUEST_TIMEOUT: Final = 5  # seconds
DEFAULT_TRANSACTION_RETRIES: Final = 3
DEFAULT_RETRY_DELAY: Final = 250  # milliseconds

# What an option is while the user has not set it (settings and the options form).
OPTION_DEFAULTS: Final[dict[str, Any]] = {
    CONF_POLL_INTERVAL: DEFAULT_POLL_INTERVAL,
    CONF_CLOCK_SYNC_INTERVAL: DEFAULT_CLOCK_SYNC_INTERVAL,
    CONF_TIME_ZONE_MODE: TIME_ZONE_MODE_HOME_ASSISTANT,
    CONF_FIXED_OFFSET: DEFAULT_FIXED_OFFSET,
    CONF_HANDLE_DST: DEFAULT_HANDLE_DST,
    CONF_REQUEST_TIMEOUT: DEFAULT_REQUEST_TIMEOUT,
    CONF_TRANSACTION_RETRIES: DEFAULT_TRANSACTION_RETRIES,
    CONF_RETRY_DELAY: DEFAULT_RETRY_DELAY,
    CONF_TARIFF_TEXT: "",
    CONF_SHOW_USER_ID: False,
}

# The config flow must answer within a few seconds, whatever the meter does.
CONFIG_FLOW_TIMEOUT: Final = 5.0

EVENT_TRANSACTION_STARTED: Final = "iem_dcr_transaction_started"
EVENT_TRANSACTION_STOPPED: Final = "iem_dcr_transaction_stopped"

# Folder below the Home Assistant configuration directory.
LEDGER_DIRECTORY: Final = "iem_dcr_ledger"
EXPORT_DIRECTORY: Final = "iem_dcr_exports"
