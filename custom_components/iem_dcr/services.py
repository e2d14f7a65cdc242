"""Service actions: start and stop transactions, export signed tuples."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryState
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

from .const import DOMAIN, EXPORT_DIRECTORY
from .identification import (
    IDENTIFICATION_FLAGS,
    IDENTIFICATION_LEVELS,
    IDENTIFICATION_TYPES,
    default_identification_level,
)
from .ocmf import MissingPublicKeyError, OcmfError, TransparencyEntry, transparency_xml
from .signed_text import MAX_ID_LENGTH, MAX_TARIFF_TEXT_LENGTH, text_problem
from .transaction import StartRequest
from .validation import vol

if TYPE_CHECKING:
    from . import IemDcrConfigEntry

SERVICE_START_TRANSACTION = "start_transaction"
SERVICE_STOP_TRANSACTION = "stop_transaction"
SERVICE_EXPORT_TRANSACTIONS = "export_transactions"

ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_TRANSACTION_ID = "transaction_id"
ATTR_EVSE_ID = "evse_id"
ATTR_IDENTIFICATION_STATUS = "identification_status"
ATTR_IDENTIFICATION_LEVEL = "identification_level"
ATTR_IDENTIFICATION_FLAGS = "identification_flags"
ATTR_IDENTIFICATION_TYPE = "identification_type"
ATTR_IDENTIFICATION_DATA = "identification_data"
ATTR_TARIFF_TEXT = "tariff_text"
ATTR_START = "start"
ATTR_END = "end"
ATTR_WRITE_FILE = "write_file"
ATTR_CANONICAL_SIGNATURES = "canonical_signatures"


# Texts that the meter signs into the tuple: their rules are checked in the
# handler, so that each problem gets a translated message.
_SIGNED_TEXTS: dict[str, tuple[int, bool]] = {
    ATTR_TRANSACTION_ID: (MAX_ID_LENGTH, True),
    ATTR_EVSE_ID: (MAX_ID_LENGTH, False),
    ATTR_IDENTIFICATION_DATA: (MAX_ID_LENGTH, False),
    ATTR_TARIFF_TEXT: (MAX_TARIFF_TEXT_LENGTH, False),
}


def _ocmf_code(codes: tuple[str, ...]) -> vol.All[str]:
    """Validate an OCMF code; the action form sends it in lower case."""
    return vol.All(cv.string, vol.Upper, vol.In(codes))


START_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_TRANSACTION_ID): cv.string,
        vol.Optional(ATTR_EVSE_ID): cv.string,
        vol.Optional(ATTR_IDENTIFICATION_STATUS, default=True): cv.boolean,
        vol.Optional(ATTR_IDENTIFICATION_LEVEL): vol.Any(
            None, "", _ocmf_code(IDENTIFICATION_LEVELS)
        ),
        vol.Optional(ATTR_IDENTIFICATION_FLAGS, default=list): vol.All(
            cv.ensure_list, [_ocmf_code(IDENTIFICATION_FLAGS)], vol.Length(max=4)
        ),
        vol.Optional(ATTR_IDENTIFICATION_TYPE, default="NONE"): _ocmf_code(
            IDENTIFICATION_TYPES
        ),
        vol.Optional(ATTR_IDENTIFICATION_DATA): cv.string,
        vol.Optional(ATTR_TARIFF_TEXT): cv.string,
    }
)


def _check_signed_texts(data: dict[str, Any]) -> None:
    """Refuse a text the meter would sign that does not belong in a legal record."""
    for field, (max_length, required) in _SIGNED_TEXTS.items():
        if field not in data:
            continue
        problem = text_problem(data[field], max_length=max_length, required=required)
        if problem is not None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key=f"invalid_text_{problem}",
                translation_placeholders={
                    "field": field,
                    "max_length": str(max_length),
                },
            )


STOP_SCHEMA = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string})
EXPORT_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_START): cv.datetime,
        vol.Optional(ATTR_END): cv.datetime,
        vol.Optional(ATTR_WRITE_FILE, default=False): cv.boolean,
        vol.Optional(ATTR_CANONICAL_SIGNATURES, default=False): cv.boolean,
    }
)


def _loaded_entry(hass: HomeAssistant, call: ServiceCall) -> IemDcrConfigEntry:
    """Return the loaded config entry a call names (works on HA 2025.4 too)."""
    entry_id = call.data[ATTR_CONFIG_ENTRY_ID]
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"title": entry.title},
        )
    return entry


async def _async_start(call: ServiceCall) -> ServiceResponse:
    data = call.data
    _check_signed_texts(dict(data))
    entry = _loaded_entry(call.hass, call)
    identification_data = data.get(ATTR_IDENTIFICATION_DATA) or None
    request = StartRequest(
        transaction_id=data[ATTR_TRANSACTION_ID],
        evse_id=data.get(ATTR_EVSE_ID) or None,
        identification_status=data[ATTR_IDENTIFICATION_STATUS],
        identification_level=(
            data.get(ATTR_IDENTIFICATION_LEVEL)
            or default_identification_level(identification_data)
        ),
        identification_flags=tuple(data[ATTR_IDENTIFICATION_FLAGS]),
        identification_type=data[ATTR_IDENTIFICATION_TYPE],
        identification_data=identification_data,
        tariff_text=data.get(ATTR_TARIFF_TEXT) or None,
    )
    started = await entry.runtime_data.transactions.async_start(request)
    if not call.return_response:
        return None
    return {
        "status": "OK",
        "transaction_id": started.transaction_id,
        "ocmf_id_field": started.identification,
        "meter_serial": started.meter_serial,
        "start_time": started.start_time.isoformat() if started.start_time else None,
        "start_register_kwh": (
            float(started.start_register)
            if started.start_register is not None
            else None
        ),
        "superseded": started.superseded.as_dict() if started.superseded else None,
    }


async def _async_stop(call: ServiceCall) -> ServiceResponse:
    entry = _loaded_entry(call.hass, call)
    stopped = await entry.runtime_data.transactions.async_stop()
    if not call.return_response:
        return None
    # already_stored: no transaction ran; this is the meter's last tuple, which
    # the ledger held before (for example one that ended without Home Assistant).
    return {
        "status": "OK",
        "already_stored": stopped.already_stored,
        **stopped.signed.as_dict(),
    }


async def _async_export(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    if call.context.user_id is not None:
        # The tuples carry identification data: administrators only.
        user = await hass.auth.async_get_user(call.context.user_id)
        if user is None or not user.is_admin:
            raise Unauthorized(context=call.context)
    entry = _loaded_entry(hass, call)
    start: datetime | None = call.data.get(ATTR_START)
    end: datetime | None = call.data.get(ATTR_END)
    start, end = _aware(start), _aware(end)
    if start is not None and end is not None and start > end:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="export_range_invalid"
        )
    ledger = entry.runtime_data.keeper.ledger
    entries = ledger.entries(start=start, end=end)
    response: dict[str, Any] = {
        "count": len(entries),
        "transactions": [ledger_entry.to_dict() for ledger_entry in entries],
        "file": None,
    }
    if call.data[ATTR_WRITE_FILE]:
        # A tuple stored while the key was unreadable gets the meter's key now.
        meter_key = entry.runtime_data.coordinator.public_key
        fallback_key = meter_key.key if meter_key is not None else ""
        try:
            xml = transparency_xml(
                (
                    TransparencyEntry(
                        ocmf=item.ocmf, public_key=item.public_key or fallback_key
                    )
                    for item in entries
                ),
                canonical_signatures=call.data[ATTR_CANONICAL_SIGNATURES],
            )
        except MissingPublicKeyError as err:
            stored = entries[err.entry - 1] if err.entry else None
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="export_public_key_missing",
                translation_placeholders={
                    "pagination": (stored.pagination if stored else None) or "?"
                },
            ) from err
        except OcmfError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="export_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        stamp = dt_util.utcnow().strftime("%Y%m%dT%H%M%SZ")
        path = Path(
            hass.config.path(EXPORT_DIRECTORY, f"{entry.unique_id}_{stamp}.xml")
        )
        try:
            await hass.async_add_executor_job(_write_text, path, xml)
        except OSError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="export_write_failed",
                translation_placeholders={"path": str(path), "error": str(err)},
            ) from err
        response["file"] = str(path)
    return response if call.return_response else None


def _aware(moment: datetime | None) -> datetime | None:
    """Read a naive date-time from a form as Home Assistant's local time."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt_util.get_default_time_zone())


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's service actions."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_START_TRANSACTION,
        _async_start,
        schema=START_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_STOP_TRANSACTION,
        _async_stop,
        schema=STOP_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_EXPORT_TRANSACTIONS,
        _async_export,
        schema=EXPORT_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
