"""Configuration folders for the two contenders: `rest` + templates, or `iem_dcr`."""

from __future__ import annotations

from datetime import UTC, datetime
import json
from pathlib import Path
import uuid

from . import probe

REPO = Path(__file__).resolve().parents[2]

# Recorder settings of a run: none, SQLite with its defaults, or the defaults with
# the live values (power, voltage, current) excluded, as the README suggests.
RECORDER_OFF = "off"
RECORDER_ON = "on"
RECORDER_LIVE_EXCLUDED = "on, live values excluded"
RECORDER_MODES = (RECORDER_OFF, RECORDER_ON, RECORDER_LIVE_EXCLUDED)
# The README's exclusion; the globs also match the rest contender's sensor names.
LIVE_VALUE_GLOBS = ("sensor.*_power", "sensor.*_voltage", "sensor.*_current")

# What a user would write to get the values of iem_dcr's 11 sensors and its
# transaction binary sensor from /metervalue with the `rest` integration.
_REST_SENSORS = (
    ("power", "{{ value_json.P }}", "W"),
    ("voltage", "{{ value_json.U2 }}", "V"),
    ("current", "{{ value_json.I }}", "A"),
    ("energy_import_total", "{{ value_json.RD[0].RV | float }}", "kWh"),
    ("energy_export_total", "{{ value_json.RD[1].RV | float }}", "kWh"),
    ("energy_import_transaction", "{{ value_json.RD[2].WV | float }}", "kWh"),
    ("energy_export_transaction", "{{ value_json.RD[3].WV | float }}", "kWh"),
    ("meter_status", "{{ value_json.ST }}", None),
    ("meter_time", "{{ value_json.TM }}", None),
    ("error_code", "{{ value_json.XC }}", None),
    ("status_word", "{{ value_json.XS }}", None),
)


def _rest_yaml(ports: list[int]) -> str:
    lines = ["rest:"]
    for number, port in enumerate(ports):
        lines += [
            f"  - resource: http://127.0.0.1:{port}/counter/v1/ocmf/metervalue",
            "    scan_interval: 1",
            "    sensor:",
        ]
        for key, template, unit in _REST_SENSORS:
            lines += [
                f"      - name: meter{number} {key}",
                f'        value_template: "{template}"',
            ]
            if unit:
                lines.append(f"        unit_of_measurement: {unit}")
        lines += [
            "    binary_sensor:",
            f"      - name: meter{number} transaction_active",
            '        value_template: "{{ value_json.XT }}"',
        ]
    return "\n".join(lines) + "\n"


def _iem_dcr_entries(meters: list[dict[str, object]]) -> dict[str, object]:
    now = datetime.now(UTC).isoformat()
    entries = [
        {
            "created_at": now,
            "data": {
                "host": "127.0.0.1",
                "port": meter["port"],
                "ct": "EVSEID",
                "ci": f"DE*BEN*E{number}",
            },
            "discovery_keys": {},
            "disabled_by": None,
            "domain": "iem_dcr",
            "entry_id": uuid.uuid4().hex,
            "minor_version": 1,
            "modified_at": now,
            "options": {"tariff_text": "", "show_user_id": False},
            "pref_disable_new_entities": False,
            "pref_disable_polling": False,
            "source": "user",
            "subentries": [],
            "title": f"IEM-DCR {meter['serial']}",
            "unique_id": meter["serial"],
            "version": 1,
        }
        for number, meter in enumerate(meters)
    ]
    return {
        "version": 1,
        "minor_version": 5,
        "key": "core.config_entries",
        "data": {"entries": entries},
    }


def write(
    config_dir: Path,
    *,
    contender: str,
    meters: list[dict[str, object]],
    http_port: int,
    recorder: str,
    lag_probe: bool = False,
) -> None:
    """Write a fresh config folder: nothing but what the contender needs."""
    config_dir.mkdir(parents=True, exist_ok=True)
    yaml = [
        "homeassistant:",
        "  name: bench",
        "  time_zone: Europe/Berlin",
        "  latitude: 52.5",
        "  longitude: 13.4",
        "  elevation: 0",
        "  unit_system: metric",
        "http:",
        "  server_host: 127.0.0.1",
        f"  server_port: {http_port}",
        "logger:",
        "  default: warning",
    ]
    if lag_probe:
        # Its 100 timers a second cost CPU: only in the runs that measure lag.
        yaml.append("bench_probe:")
    if recorder not in RECORDER_MODES:
        raise ValueError(f"unknown recorder mode {recorder!r}")
    if recorder != RECORDER_OFF:
        yaml.append("recorder:")  # SQLite, its defaults
    if recorder == RECORDER_LIVE_EXCLUDED:
        yaml += ["  exclude:", "    entity_globs:"]
        yaml += [f'      - "{glob}"' for glob in LIVE_VALUE_GLOBS]
    text = "\n".join(yaml) + "\n"
    if contender == "rest":
        text += _rest_yaml([int(str(meter["port"])) for meter in meters])
    else:
        storage = config_dir / ".storage"
        storage.mkdir(exist_ok=True)
        (storage / "core.config_entries").write_text(
            json.dumps(_iem_dcr_entries(meters), indent=1)
        )
        custom = config_dir / "custom_components"
        custom.mkdir(exist_ok=True)
        link = custom / "iem_dcr"
        if not link.exists():
            link.symlink_to(REPO / "custom_components" / "iem_dcr")
    (config_dir / "configuration.yaml").write_text(text)
    if lag_probe:
        probe.install(config_dir)
