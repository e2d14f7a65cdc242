"""Translations: German mirrors English, and every key the code uses exists."""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

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


def test_every_translation_key_used_exists() -> None:
    english = _load("en")
    known = (
        set(english["exceptions"])
        | set(english["issues"])
        | set(english["selector"])
        | {key for platform in english["entity"].values() for key in platform}
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
    icons = json.loads((PACKAGE / "icons.json").read_text(encoding="utf-8"))
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
