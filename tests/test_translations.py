"""Translations: German mirrors English, and every key the code uses exists."""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

from homeassistant.util.yaml import load_yaml_dict
import pytest

from custom_components.iem_dcr.identification import (
    IDENTIFICATION_FLAGS,
    IDENTIFICATION_LEVELS,
    IDENTIFICATION_TYPES,
)
from custom_components.iem_dcr.signed_text import TextProblem

PACKAGE = Path(__file__).parents[1] / "custom_components" / "iem_dcr"


def _load(language: str) -> dict[str, Any]:
    text = (PACKAGE / "translations" / f"{language}.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _paths(tree: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(tree, dict):
        found: dict[str, str] = {}
        for key, value in tree.items():
            found |= _paths(value, f"{prefix}{key}.")
        return found
    return {prefix.rstrip("."): tree}


def test_german_has_every_english_text_with_the_same_placeholders() -> None:
    english, german = _paths(_load("en")), _paths(_load("de"))
    assert set(german) == set(english)
    for key, text in english.items():
        assert set(re.findall(r"{\w+}", german[key])) == set(
            re.findall(r"{\w+}", text)
        ), key


def _source() -> str:
    return "\n".join(
        path.read_text(encoding="utf-8") for path in sorted(PACKAGE.glob("*.py"))
    )


def _icons() -> dict[str, Any]:
    icons: dict[str, Any] = json.loads(
        (PACKAGE / "icons.json").read_text(encoding="utf-8")
    )
    return icons


def test_every_translation_key_used_exists() -> None:
    english = _load("en")
    known = (
        set(english["exceptions"])
        | set(english["issues"])
        | set(english["selector"])
        | {key for platform in english["entity"].values() for key in platform}
        # Entities named by their device class have a key only for their icon.
        | {key for platform in _icons()["entity"].values() for key in platform}
    )
    source = _source()
    used = set(re.findall(r'(?:translation|refused)_key="(\w+)"', source))
    # Keys chosen at run time: `key = "a" if ... else "b"`.
    for first, second in re.findall(
        r'key = \(?\s*"(\w+)"\s+if .+?\s+else "(\w+)"', source, flags=re.DOTALL
    ):
        used |= {first, second}
    used |= set(re.findall(r'_key or "(\w+)"', source))
    used |= {f"invalid_text_{problem}" for problem in TextProblem}
    assert {
        "begin_refused",
        "end_refused",
        "end_refused_before_begin",
        "no_transaction",
        "communication_error",
        "unexpected_response",
        "meter_failed",
        "request_refused",
    } <= used
    assert used
    assert used <= known, used - known


def test_every_service_is_translated_and_described() -> None:
    services_yaml = (PACKAGE / "services.yaml").read_text(encoding="utf-8")
    names = re.findall(r"^(\w+):$", services_yaml, flags=re.MULTILINE)
    icons = _icons()
    for language in ("en", "de"):
        services = _load(language)["services"]
        assert set(services) == set(names)
        for name in names:
            fields = set(
                re.findall(
                    r"^    (\w+):$",
                    services_yaml.split(f"{name}:\n", 1)[1].split("\n\n", 1)[0],
                    flags=re.MULTILINE,
                )
            )
            assert set(services[name]["fields"]) == fields, (language, name)
    assert set(icons["services"]) == set(names)


# Placeholders that carry an identity (CT, CI, EVSE ID, serial, pagination): in
# Markdown, `DE*ABC*E1234567*1` would lose its asterisks and turn italic.
IDENTITY_PLACEHOLDERS = {
    "serial",
    "meter_ct",
    "meter_ci",
    "configured_ct",
    "configured_ci",
    "evse_id",
    "previous",
    "current",
}


@pytest.mark.parametrize("language", ["en", "de"])
def test_identity_placeholders_are_quoted_as_code(language: str) -> None:
    checked = 0
    for key, text in _paths(_load(language)).items():
        for name in set(re.findall(r"{(\w+)}", text)) & IDENTITY_PLACEHOLDERS:
            assert f"{{{name}}}" not in text.replace(f"`{{{name}}}`", ""), (key, name)
            checked += 1
    assert checked >= 10
    # What the user sees: the identity stays one code span, asterisks included.
    issue = _load(language)["issues"]["identity_mismatch"]["description"]
    shown = issue.format(
        meter_ct="EVSEID",
        meter_ci="DE*ABC*E1234567*1",
        configured_ct="EVSEID",
        configured_ci="DE*ABC*E7654321*1",
    )
    assert "`DE*ABC*E1234567*1`" in shown
    assert "`DE*ABC*E7654321*1`" in shown


def _selector_options() -> dict[str, list[str]]:
    """Return {translation_key: [option, ...]} of the select selectors."""
    found: dict[str, list[str]] = {}
    services: dict[str, Any] = load_yaml_dict(PACKAGE / "services.yaml")
    for service in services.values():
        for field in service.get("fields", {}).values():
            select = (field.get("selector") or {}).get("select")
            if select and "translation_key" in select:
                found[select["translation_key"]] = select["options"]
    return found


def test_ocmf_codes_have_labels_in_both_languages() -> None:
    options = _selector_options()
    assert options == {
        "identification_level": [code.lower() for code in IDENTIFICATION_LEVELS],
        "identification_flag": [code.lower() for code in IDENTIFICATION_FLAGS],
        "identification_type": [code.lower() for code in IDENTIFICATION_TYPES],
    }
    for language in ("en", "de"):
        selectors = _load(language)["selector"]
        for name, values in options.items():
            labels = selectors[name]["options"]
            assert list(labels) == values, (language, name)
            # The label starts with the code that gets signed.
            for value, label in labels.items():
                assert label.startswith(f"{value.upper()}: "), (language, label)
    english = _load("en")["services"]["start_transaction"]["fields"]
    assert "4" in english["identification_flags"]["name"]


def test_running_binary_sensor_states_are_translated() -> None:
    for language, running, idle in (
        ("en", "Running", "Idle"),
        ("de", "Läuft", "Keiner"),
    ):
        states = _load(language)["entity"]["binary_sensor"]["transaction_active"]
        assert states["state"] == {"on": running, "off": idle}


def test_entity_names_are_short() -> None:
    # The device page cuts longer names ("Transaction energy imp...").
    for language in ("en", "de"):
        for platform in _load(language)["entity"].values():
            for key, entity in platform.items():
                # A driver's name comes in front of a per-driver sensor's name.
                name = entity.get("name", "").replace("{driver}", "")
                assert len(name) <= 22, (language, key)
