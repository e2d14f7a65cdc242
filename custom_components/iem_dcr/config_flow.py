"""Config flow for the Isabellenhütte IEM-DCR: set-up, reconfigure and options."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.const import CONF_HOST, CONF_PORT, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.selector import (
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
)

from .api import Gateway, IemDcrClient, IemDcrConnectionError, IemDcrError
from .const import (
    CONF_CI,
    CONF_CLOCK_SYNC_INTERVAL,
    CONF_CT,
    CONF_DRIVERS,
    CONF_FIXED_OFFSET,
    CONF_HANDLE_DST,
    CONF_POLL_INTERVAL,
    CONF_PRICE_ENTITY,
    CONF_PRICE_PER_KWH,
    CONF_REQUEST_TIMEOUT,
    CONF_RETRY_DELAY,
    CONF_SHOW_USER_ID,
    CONF_TARIFF_TEXT,
    CONF_TIME_ZONE_MODE,
    CONF_TRANSACTION_RETRIES,
    CONFIG_FLOW_TIMEOUT,
    DEFAULT_CT,
    DEFAULT_PORT,
    DOMAIN,
    LOGGER,
    OPTION_DEFAULTS,
    TIME_ZONE_MODE_FIXED,
    TIME_ZONE_MODE_HOME_ASSISTANT,
)
from .drivers import DriverTextError, drivers_text, parse_drivers, parse_price
from .meter_clock import OFFSET_MINUTES, OFFSET_RANGE, offset_problem
from .session_costs import parse_number
from .signed_text import (
    MAX_CI_LENGTH,
    MAX_CT_LENGTH,
    MAX_TARIFF_TEXT_LENGTH,
    TextProblem,
    text_problem,
)
from .validation import vol

if TYPE_CHECKING:
    from . import IemDcrConfigEntry

PORT_SELECTOR = NumberSelector(
    NumberSelectorConfig(min=1, max=65535, step=1, mode=NumberSelectorMode.BOX)
)


def _number(minimum: float, maximum: float, step: float, unit: str) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=step,
            mode=NumberSelectorMode.BOX,
            unit_of_measurement=unit,
        )
    )


CONNECTION_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_HOST): TextSelector(),
        vol.Required(CONF_PORT, default=DEFAULT_PORT): PORT_SELECTOR,
    }
)


_MAX_LENGTHS = {
    CONF_CT: MAX_CT_LENGTH,
    CONF_CI: MAX_CI_LENGTH,
    CONF_TARIFF_TEXT: MAX_TARIFF_TEXT_LENGTH,
}
_ERRORS = {
    TextProblem.TOO_LONG: "too_long",
    TextProblem.CONTROL_CHARACTER: "control_character",
    TextProblem.SEPARATOR: "forbidden_character",
}
_REQUIRED_ERRORS = {CONF_CT: "ct_required", CONF_CI: "ci_required"}


def _text_errors(values: dict[str, Any], *keys: str) -> dict[str, str]:
    """Check texts that end up in the signed OCMF data (CT, CI, tariff text)."""
    errors: dict[str, str] = {}
    for key in keys:
        problem = text_problem(
            str(values.get(key, "")),
            max_length=_MAX_LENGTHS[key],
            required=key in _REQUIRED_ERRORS,
        )
        if problem is TextProblem.REQUIRED:
            errors[key] = _REQUIRED_ERRORS[key]
        elif problem is not None:
            errors[key] = _ERRORS[problem]
    return errors


def _identity_errors(values: dict[str, Any], *text_keys: str) -> dict[str, str]:
    """Check CT and CI (both required) and the other texts signed with them."""
    return _text_errors(values, CONF_CT, CONF_CI, *text_keys)


class IemDcrConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a meter: where it is, then what it signs."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing known."""
        self._connection: dict[str, Any] = {}
        self._serial = ""
        self._gateway: Gateway | None = None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: IemDcrConfigEntry) -> IemDcrOptionsFlow:
        """Return the options flow."""
        return IemDcrOptionsFlow()

    async def _async_probe(self, host: str, port: int) -> tuple[str, Gateway]:
        """Ask the meter who it is; raises the client's errors."""
        async with IemDcrClient(
            host, port, request_timeout=CONFIG_FLOW_TIMEOUT
        ) as client:
            gateway = await client.get_gateway()
            meter = await client.get_meter_value()
        return meter.meter_serial, gateway

    async def _async_probe_errors(self, user_input: dict[str, Any]) -> dict[str, str]:
        """Probe the meter and return form errors (empty on success)."""
        try:
            self._serial, self._gateway = await self._async_probe(
                user_input[CONF_HOST], int(user_input[CONF_PORT])
            )
        except IemDcrConnectionError:
            return {"base": "cannot_connect"}
        except IemDcrError:
            return {"base": "not_iem_dcr"}
        except Exception:  # noqa: BLE001 - the form must show something
            LOGGER.exception("Unexpected error while probing the meter")
            return {"base": "unknown"}
        return {}

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask where the meter is and check that it answers."""
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input = {
                CONF_HOST: user_input[CONF_HOST].strip(),
                CONF_PORT: int(user_input[CONF_PORT]),
            }
            errors = await self._async_probe_errors(user_input)
            if not errors:
                # An abandoned set-up of the same meter must not block this one.
                await self.async_set_unique_id(self._serial, raise_on_progress=False)
                self._connection = user_input
                self._abort_if_known_meter()
                return await self.async_step_identity()
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                CONNECTION_SCHEMA, user_input or {}
            ),
            errors=errors,
        )

    def _abort_if_known_meter(self) -> None:
        """Abort when the meter is configured; a new address is taken over.

        The entry's update listener reloads it at the new address.
        """
        self._abort_if_unique_id_configured(
            updates=self._connection, reload_on_update=False
        )

    async def async_step_identity(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask what the meter writes into every signed tuple."""
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input = {
                CONF_CT: user_input.get(CONF_CT, "").strip(),
                CONF_CI: user_input.get(CONF_CI, "").strip(),
                CONF_TARIFF_TEXT: user_input.get(CONF_TARIFF_TEXT, ""),
                CONF_SHOW_USER_ID: bool(user_input.get(CONF_SHOW_USER_ID, False)),
            }
            errors = _identity_errors(user_input, CONF_TARIFF_TEXT)
            if not errors:
                # Another flow may have added the meter while this form was open.
                self._abort_if_known_meter()
                return self.async_create_entry(
                    title=f"IEM-DCR {self._serial}",
                    data={
                        **self._connection,
                        CONF_CT: user_input[CONF_CT],
                        CONF_CI: user_input[CONF_CI],
                    },
                    options={
                        CONF_TARIFF_TEXT: user_input[CONF_TARIFF_TEXT],
                        CONF_SHOW_USER_ID: user_input[CONF_SHOW_USER_ID],
                    },
                )
        suggested: dict[str, Any] = {CONF_CT: DEFAULT_CT}
        if self._gateway is not None and self._gateway.is_configured:
            # The meter already holds an identity since power-up: offer it.
            suggested = {
                CONF_CT: self._gateway.charge_point_id_type,
                CONF_CI: self._gateway.charge_point_id,
            }
        schema = vol.Schema(
            {
                vol.Required(CONF_CT): TextSelector(),
                vol.Required(CONF_CI): TextSelector(),
                vol.Optional(CONF_TARIFF_TEXT): TextSelector(),
                vol.Optional(CONF_SHOW_USER_ID, default=False): bool,
            }
        )
        return self.async_show_form(
            step_id="identity",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or suggested
            ),
            errors=errors,
            description_placeholders={"serial": self._serial},
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change where the meter is, or its CT/CI."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input = {
                CONF_HOST: user_input[CONF_HOST].strip(),
                CONF_PORT: int(user_input[CONF_PORT]),
                CONF_CT: user_input.get(CONF_CT, "").strip(),
                CONF_CI: user_input.get(CONF_CI, "").strip(),
            }
            errors = _identity_errors(user_input)
            if not errors:
                errors = await self._async_probe_errors(user_input)
            if not errors:
                await self.async_set_unique_id(self._serial)
                self._abort_if_unique_id_mismatch(reason="different_meter")
                return self._async_apply_reconfigure(entry, user_input)
        schema = vol.Schema(
            {
                vol.Required(CONF_HOST): TextSelector(),
                vol.Required(CONF_PORT): PORT_SELECTOR,
                vol.Required(CONF_CT): TextSelector(),
                vol.Required(CONF_CI): TextSelector(),
            }
        )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or dict(entry.data)
            ),
            errors=errors,
        )

    def _async_apply_reconfigure(
        self, entry: IemDcrConfigEntry, user_input: dict[str, Any]
    ) -> ConfigFlowResult:
        """Save the new values and say what happens to the meter."""
        data = {**entry.data, **user_input}
        if data == dict(entry.data):
            return self.async_abort(reason="reconfigure_unchanged")
        # The entry's update listener reloads it (Home Assistant 2026.12 and
        # later refuse a reload helper next to an update listener).
        self.hass.config_entries.async_update_entry(entry, data=data)
        gateway = self._gateway
        if gateway is not None and gateway.is_configured:
            held = (gateway.charge_point_id_type, gateway.charge_point_id)
            if held != (data[CONF_CT], data[CONF_CI]):
                # The meter takes CT and CI once per power-up.
                return self.async_abort(
                    reason="reconfigure_needs_power_cycle",
                    description_placeholders={
                        "meter_ct": held[0],
                        "meter_ci": held[1],
                    },
                )
        return self.async_abort(reason="reconfigure_successful")


# The options form: the everyday options first, the technical ones in sections.
SECTION_CLOCK = "clock"
SECTION_CONNECTION = "connection"
SECTION_TRANSACTIONS = "transactions"
OPTION_SECTIONS: dict[str, tuple[str, ...]] = {
    SECTION_CLOCK: (CONF_CLOCK_SYNC_INTERVAL, CONF_TIME_ZONE_MODE),
    SECTION_CONNECTION: (CONF_POLL_INTERVAL, CONF_REQUEST_TIMEOUT),
    SECTION_TRANSACTIONS: (CONF_TRANSACTION_RETRIES, CONF_RETRY_DELAY),
}
COLLAPSED_SECTIONS = frozenset({SECTION_CONNECTION, SECTION_TRANSACTIONS})
OFFSET_ERRORS = {
    OFFSET_MINUTES: "offset_minutes",
    OFFSET_RANGE: "offset_out_of_range",
}


SECTION_PRICES = "prices_and_drivers"
PRICE_ENTITY_DOMAINS = ("sensor", "input_number")


def _prices_schema() -> vol.Schema:
    return vol.Schema(
        {
            vol.Optional(CONF_PRICE_PER_KWH): TextSelector(),
            vol.Optional(CONF_PRICE_ENTITY): EntitySelector(
                EntitySelectorConfig(domain=list(PRICE_ENTITY_DOMAINS))
            ),
            vol.Optional(CONF_DRIVERS): TextSelector(
                TextSelectorConfig(multiline=True)
            ),
        }
    )


def _price_entity_error(hass: HomeAssistant, entity_id: str) -> str | None:
    """Tell why an entity cannot hold the price, or None when it can.

    An entity that is unavailable or unknown just now is accepted: while it has
    no number, the price is unknown (a gap), never 0.
    """
    state = hass.states.get(entity_id)
    if state is None:
        if er.async_get(hass).async_get(entity_id) is None:
            return "price_entity_missing"
        return None
    if state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return None
    if parse_number(state.state) is None:
        return "price_entity_not_numeric"
    return None


def _read_prices(
    hass: HomeAssistant, values: dict[str, Any], options: dict[str, Any]
) -> dict[str, str]:
    """Put the price source and the drivers into `options`; return the errors."""
    try:
        price = parse_price(str(values.get(CONF_PRICE_PER_KWH) or ""))
    except DriverTextError as err:
        return {"base": err.key}
    entity_id = str(values.get(CONF_PRICE_ENTITY) or "").strip()
    if entity_id and price is not None:
        return {"base": "price_source_conflict"}
    if entity_id and (problem := _price_entity_error(hass, entity_id)):
        return {"base": problem}
    try:
        drivers = parse_drivers(str(values.get(CONF_DRIVERS) or ""))
    except DriverTextError as err:
        return {"base": err.key}
    # Left out when unset, so entries without prices keep their options as they were.
    if price is not None:
        options[CONF_PRICE_PER_KWH] = str(price)
    if entity_id:
        options[CONF_PRICE_ENTITY] = entity_id
    if drivers:
        options[CONF_DRIVERS] = drivers
    return {}


def _options_schema() -> vol.Schema:
    fields: dict[str, Any] = {
        CONF_POLL_INTERVAL: _number(1, 60, 1, "s"),
        CONF_REQUEST_TIMEOUT: _number(1, 30, 1, "s"),
        CONF_CLOCK_SYNC_INTERVAL: _number(1, 24, 1, "h"),
        CONF_TIME_ZONE_MODE: SelectSelector(
            SelectSelectorConfig(
                options=[TIME_ZONE_MODE_HOME_ASSISTANT, TIME_ZONE_MODE_FIXED],
                mode=SelectSelectorMode.LIST,
                translation_key=CONF_TIME_ZONE_MODE,
            )
        ),
        CONF_TRANSACTION_RETRIES: _number(0, 5, 1, ""),
        CONF_RETRY_DELAY: _number(200, 1000, 50, "ms"),
    }
    schema: dict[Any, Any] = {
        vol.Optional(CONF_TARIFF_TEXT): TextSelector(),
        vol.Required(CONF_SHOW_USER_ID): bool,
    }
    for name, keys in OPTION_SECTIONS.items():
        schema[vol.Required(name)] = section(
            vol.Schema({vol.Required(key): fields[key] for key in keys}),
            {"collapsed": name in COLLAPSED_SECTIONS},
        )
    schema[vol.Optional(SECTION_PRICES, default={})] = section(
        _prices_schema(), {"collapsed": True}
    )
    return vol.Schema(schema)


def _fixed_offset_errors(options: dict[str, Any]) -> dict[str, str]:
    problem = offset_problem(options[CONF_FIXED_OFFSET])
    if problem is None:
        return {}
    return {CONF_FIXED_OFFSET: OFFSET_ERRORS.get(problem, "invalid_offset")}


class IemDcrOptionsFlow(OptionsFlow):
    """Tariff, clock, polling and resilience options; the fixed offset on its own step."""

    def __init__(self) -> None:
        """Start with nothing entered."""
        self._options: dict[str, Any] = {}

    def _current(self) -> dict[str, Any]:
        return {**OPTION_DEFAULTS, **self.config_entry.options}

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show and check the options; ask for the offset when it is fixed."""
        errors: dict[str, str] = {}
        if user_input is not None:
            options = {
                CONF_TARIFF_TEXT: user_input.get(CONF_TARIFF_TEXT, ""),
                CONF_SHOW_USER_ID: bool(user_input[CONF_SHOW_USER_ID]),
            }
            for name, keys in OPTION_SECTIONS.items():
                options.update({key: user_input[name][key] for key in keys})
            for key in (
                CONF_POLL_INTERVAL,
                CONF_CLOCK_SYNC_INTERVAL,
                CONF_REQUEST_TIMEOUT,
                CONF_TRANSACTION_RETRIES,
                CONF_RETRY_DELAY,
            ):
                options[key] = int(options[key])
            errors = _text_errors(options, CONF_TARIFF_TEXT) | _read_prices(
                self.hass, user_input.get(SECTION_PRICES, {}), options
            )
            if not errors:
                current = self._current()
                # Kept as they are while the time zone follows Home Assistant.
                self._options = {
                    **options,
                    CONF_FIXED_OFFSET: current[CONF_FIXED_OFFSET],
                    CONF_HANDLE_DST: current[CONF_HANDLE_DST],
                }
                if options[CONF_TIME_ZONE_MODE] == TIME_ZONE_MODE_FIXED:
                    return await self.async_step_fixed_offset()
                return self.async_create_entry(data=self._options)
        current = self._current()
        suggested: dict[str, Any] = {
            CONF_TARIFF_TEXT: current[CONF_TARIFF_TEXT],
            CONF_SHOW_USER_ID: current[CONF_SHOW_USER_ID],
        }
        for name, keys in OPTION_SECTIONS.items():
            suggested[name] = {key: current[key] for key in keys}
        suggested[SECTION_PRICES] = {
            CONF_PRICE_PER_KWH: current.get(CONF_PRICE_PER_KWH, ""),
            CONF_DRIVERS: drivers_text(current.get(CONF_DRIVERS) or {}),
        }
        if current.get(CONF_PRICE_ENTITY):
            suggested[SECTION_PRICES][CONF_PRICE_ENTITY] = current[CONF_PRICE_ENTITY]
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                _options_schema(), user_input or suggested
            ),
            errors=errors,
        )

    async def async_step_fixed_offset(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the fixed standard-time offset and daylight saving time."""
        errors: dict[str, str] = {}
        if user_input is not None:
            offset = {
                CONF_FIXED_OFFSET: str(user_input[CONF_FIXED_OFFSET]).strip(),
                CONF_HANDLE_DST: bool(user_input[CONF_HANDLE_DST]),
            }
            errors = _fixed_offset_errors(offset)
            if not errors:
                return self.async_create_entry(data={**self._options, **offset})
        schema = vol.Schema(
            {
                vol.Required(CONF_FIXED_OFFSET): TextSelector(),
                vol.Required(CONF_HANDLE_DST): bool,
            }
        )
        return self.async_show_form(
            step_id="fixed_offset",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or self._options
            ),
            errors=errors,
        )
