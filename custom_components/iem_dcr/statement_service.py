"""The `iem_dcr.create_statement` action: a month's (or days') statement as files."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
import re
from typing import Any

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import (
    HomeAssistantError,
    ServiceValidationError,
    Unauthorized,
)
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util

from .const import DEFAULT_MODEL, DOMAIN, EXPORT_DIRECTORY, MANUFACTURER
from .drivers import DriverDirectory
from .services import ATTR_CONFIG_ENTRY_ID, _loaded_entry
from .sessions import session_from_tuple, with_cost
from .statement import (
    MeterInfo,
    Period,
    StatementBundle,
    StatementError,
    StatementPricing,
    write_statement,
)
from .validation import vol

SERVICE_CREATE_STATEMENT = "create_statement"
ATTR_MONTH = "month"
ATTR_START_DATE = "start_date"
ATTR_END_DATE = "end_date"
ATTR_DRIVER = "driver"
ATTR_FLAT_RATE = "flat_rate"

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_MONTH): cv.string,
        vol.Optional(ATTR_START_DATE): cv.date,
        vol.Optional(ATTR_END_DATE): cv.date,
        vol.Optional(ATTR_DRIVER): cv.string,
        vol.Optional(ATTR_FLAT_RATE): vol.All(vol.Coerce(float), vol.Range(min=0)),
    }
)


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


def _period(data: dict[str, Any], zone: Any) -> Period:
    """Read the month (YYYY-MM) or the first and last day."""
    month: str | None = data.get(ATTR_MONTH)
    first: date | None = data.get(ATTR_START_DATE)
    last: date | None = data.get(ATTR_END_DATE)
    if month is not None:
        if first is not None or last is not None:
            raise _invalid("statement_period_twice")
        match = _MONTH.match(month.strip())
        if match is None or not 1 <= int(match[2]) <= 12:
            raise _invalid("statement_month_invalid", month=month)
        return Period.month(int(match[1]), int(match[2]), zone)
    if first is None or last is None:
        raise _invalid("statement_period_missing")
    if first > last:
        raise _invalid("statement_range_invalid")
    return Period.days(first, last, zone)


async def _async_create_statement(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    if call.context.user_id is not None:
        # Statements name drivers and their sessions: administrators only.
        user = await hass.auth.async_get_user(call.context.user_id)
        if user is None or not user.is_admin:
            raise Unauthorized(context=call.context)
    entry = _loaded_entry(hass, call)
    data = dict(call.data)
    zone = dt_util.get_time_zone(hass.config.time_zone) or dt_util.UTC
    period = _period(data, zone)
    runtime = entry.runtime_data
    public_key = runtime.coordinator.public_key
    last = runtime.keeper.last
    directory = DriverDirectory(hass, entry.options)
    tariff = directory.tariff(entry.options)
    entries = runtime.keeper.ledger.entries()
    # Parsing the whole ledger takes a while: in the executor; names in the loop.
    parsed = await hass.async_add_executor_job(
        lambda: [session_from_tuple(item) for item in entries]
    )
    sessions = [
        with_cost(
            replace(session, driver=directory.name(session.identification_data)),
            tariff=tariff,
            costs=runtime.keeper.costs.settled,
        )
        for session in parsed
    ]
    flat_rate = data.get(ATTR_FLAT_RATE)
    pricing = StatementPricing(
        flat_rate=None if flat_rate is None else Decimal(str(flat_rate))
    )
    meter = MeterInfo(
        make=MANUFACTURER,
        model=(last.model if last and last.model else DEFAULT_MODEL),
        serial=entry.unique_id or "",
        public_key=public_key.key if public_key is not None else "",
    )
    language = "de" if hass.config.language.startswith("de") else "en"
    folder = Path(hass.config.path(EXPORT_DIRECTORY))

    def write() -> StatementBundle:
        return write_statement(
            folder,
            sessions,
            meter=meter,
            period=period,
            currency=hass.config.currency,
            language=language,
            zone=zone,
            driver=data.get(ATTR_DRIVER),
            pricing=pricing,
        )

    try:
        bundle = await hass.async_add_executor_job(write)
    except StatementError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="statement_failed",
            translation_placeholders={"error": str(err)},
        ) from err
    except OSError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="statement_write_failed",
            translation_placeholders={"path": str(folder), "error": str(err)},
        ) from err
    return bundle.as_dict() if call.return_response else None


@callback
def async_setup_statement_service(hass: HomeAssistant) -> None:
    """Register `iem_dcr.create_statement`."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_CREATE_STATEMENT,
        _async_create_statement,
        schema=SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
