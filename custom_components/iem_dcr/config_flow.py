"""Config flow for the Isabellenhütte IEM-DCR: set-up, reconfigure and options."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)

from .api import Gateway, IemDcrClient, IemDcrConnectionError, IemDcrError
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
    CONFIG_FLOW_TIMEOUT,
    DEFAULT_CT,
    DEFAULT_FIXED_OFFSET,
    DEFAULT_PORT,
    DOMAIN,
    LOGGER,
    OPTION_DEFAULTS,
    TIME_ZONE_MODE_FIXED,
    TIME_ZONE_MODE_HOME_ASSISTANT,
)
from .meter_clock import is_valid_offset
from .signed_text import (
    MAX_CI_LENGTH,
    MAX_CT_LENGTH,
    MAX_TARIFF_TEXT_LENGTH,
    TextProblem,
    text_problem,
)
from .validation import vol

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
    def async_get_options_flow(config_entry: ConfigEntry) -> IemDcrOptionsFlow:
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
                await self.async_set_unique_id(self._serial)
                # A known meter at a new address: the update listener reloads it.
                self._abort_if_unique_id_configured(
                    updates=user_input, reload_on_update=False
                )
                self._connection = user_input
                return await self.async_step_identity()
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                CONNECTION_SCHEMA, user_input or {}
            ),
            errors=errors,
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
                # The entry's update listener reloads it (Home Assistant 2026.12 and
                # later refuse a reload helper next to an update listener).
                self.hass.config_entries.async_update_entry(
                    entry, data={**entry.data, **user_input}
                )
                return self.async_abort(reason="reconfigure_successful")
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


class IemDcrOptionsFlow(OptionsFlow):
    """Polling, clock, resilience and tariff options."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show and check the options."""
        errors: dict[str, str] = {}
        if user_input is not None:
            options = {
                CONF_POLL_INTERVAL: int(user_input[CONF_POLL_INTERVAL]),
                CONF_CLOCK_SYNC_INTERVAL: int(user_input[CONF_CLOCK_SYNC_INTERVAL]),
                CONF_TIME_ZONE_MODE: user_input[CONF_TIME_ZONE_MODE],
                CONF_FIXED_OFFSET: user_input.get(
                    CONF_FIXED_OFFSET, DEFAULT_FIXED_OFFSET
                ).strip(),
                CONF_HANDLE_DST: bool(user_input[CONF_HANDLE_DST]),
                CONF_REQUEST_TIMEOUT: int(user_input[CONF_REQUEST_TIMEOUT]),
                CONF_TRANSACTION_RETRIES: int(user_input[CONF_TRANSACTION_RETRIES]),
                CONF_RETRY_DELAY: int(user_input[CONF_RETRY_DELAY]),
                CONF_TARIFF_TEXT: user_input.get(CONF_TARIFF_TEXT, ""),
                CONF_SHOW_USER_ID: bool(user_input[CONF_SHOW_USER_ID]),
            }
            if not is_valid_offset(options[CONF_FIXED_OFFSET]):
                errors[CONF_FIXED_OFFSET] = "invalid_offset"
            errors.update(_text_errors(options, CONF_TARIFF_TEXT))
            if not errors:
                return self.async_create_entry(data=options)
        current = {**OPTION_DEFAULTS, **self.config_entry.options}
        schema = vol.Schema(
            {
                vol.Required(CONF_POLL_INTERVAL): _number(1, 60, 1, "s"),
                vol.Required(CONF_CLOCK_SYNC_INTERVAL): _number(1, 24, 1, "h"),
                vol.Required(CONF_TIME_ZONE_MODE): SelectSelector(
                    SelectSelectorConfig(
                        options=[TIME_ZONE_MODE_HOME_ASSISTANT, TIME_ZONE_MODE_FIXED],
                        mode=SelectSelectorMode.LIST,
                        translation_key=CONF_TIME_ZONE_MODE,
                    )
                ),
                vol.Required(CONF_FIXED_OFFSET): TextSelector(),
                vol.Required(CONF_HANDLE_DST): bool,
                vol.Required(CONF_REQUEST_TIMEOUT): _number(1, 30, 1, "s"),
                vol.Required(CONF_TRANSACTION_RETRIES): _number(0, 5, 1, ""),
                vol.Required(CONF_RETRY_DELAY): _number(200, 1000, 50, "ms"),
                vol.Optional(CONF_TARIFF_TEXT): TextSelector(),
                vol.Required(CONF_SHOW_USER_ID): bool,
            }
        )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or current
            ),
            errors=errors,
        )
