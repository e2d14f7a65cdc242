"""HA-free client for the Isabellenhütte IEM-DCR DC energy meter's HTTP API.

Imports only the standard library and aiohttp, so it can be used (and tested)
without Home Assistant.
"""

from __future__ import annotations

from .client import IemDcrClient, create_session
from .errors import (
    IemDcrConnectionError,
    IemDcrError,
    IemDcrRefusedError,
    IemDcrResponseError,
    IemDcrTimeoutError,
)
from .meter_time import MeterTime, TimeStatus, format_meter_time, parse_meter_time
from .models import (
    HEALTHY_ERROR_CODE,
    Gateway,
    MeterValue,
    PublicKey,
    SignedData,
    UserData,
)

__all__ = [
    "HEALTHY_ERROR_CODE",
    "Gateway",
    "IemDcrClient",
    "IemDcrConnectionError",
    "IemDcrError",
    "IemDcrRefusedError",
    "IemDcrResponseError",
    "IemDcrTimeoutError",
    "MeterTime",
    "MeterValue",
    "PublicKey",
    "SignedData",
    "TimeStatus",
    "UserData",
    "create_session",
    "format_meter_time",
    "parse_meter_time",
]
