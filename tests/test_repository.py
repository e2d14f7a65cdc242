"""Repository checks that HACS and hassfest make, offline, so a push never fails them first."""

from __future__ import annotations

import json
from pathlib import Path
import re
import struct
from typing import Any

from homeassistant.util.yaml import load_yaml_dict
import pytest

REPO = Path(__file__).parents[1]
PACKAGE = REPO / "custom_components" / "iem_dcr"
REPOSITORY_URL = "https://github.com/iem-dcr-ha/iem_dcr"

# The keys HACS reads from hacs.json (https://hacs.xyz/docs/publish/start).
HACS_KEYS = {
    "name",
    "content_in_root",
    "zip_release",
    "filename",
    "hide_default_branch",
    "country",
    "homeassistant",
    "hacs",
    "persistent_directory",
    "render_readme",
}
MANIFEST_REQUIRED = {"domain", "name", "codeowners", "documentation", "integration_type",
                     "iot_class", "requirements", "version"}  # fmt: skip


def manifest_order_problem(keys: list[str]) -> str | None:
    """Hassfest wants domain, name, then the other keys alphabetically."""
    wanted = ["domain", "name", *sorted(k for k in keys if k not in ("domain", "name"))]
    if keys != wanted:
        return f"manifest keys must be ordered {wanted}, are {keys}"
    return None


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk; refuses a file that is no PNG."""
    head = path.read_bytes()[:24]
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise ValueError(f"{path.name} is not a PNG")
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def oldest_tested_version() -> str:
    """The Home Assistant version requirements_test_oldest.txt says it pins."""
    text = (REPO / "requirements_test_oldest.txt").read_text(encoding="utf-8")
    found = re.search(r"Home Assistant (\d{4}\.\d+\.\d+)", text)
    assert found, (
        "requirements_test_oldest.txt must name the Home Assistant version it pins"
    )
    return found.group(1)


def _json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_license_is_the_apache_license_pyproject_names() -> None:
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text
    assert "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text  # the full text, not a stub
    assert 'license = "Apache-2.0"' in (REPO / "pyproject.toml").read_text(
        encoding="utf-8"
    )


def test_hacs_json_has_only_known_keys_and_the_oldest_tested_version() -> None:
    hacs = _json(REPO / "hacs.json")
    assert set(hacs) <= HACS_KEYS, set(hacs) - HACS_KEYS
    assert hacs["name"] == _json(PACKAGE / "manifest.json")["name"]
    assert hacs["homeassistant"] == oldest_tested_version()
    assert all(re.fullmatch(r"[A-Z]{2}", code) for code in hacs.get("country", []))


def test_oldest_tested_version_matches_the_pinned_test_package() -> None:
    # pytest-homeassistant-custom-component 0.13.236 is the release built for 2025.4.4.
    pins = (REPO / "requirements_test_oldest.txt").read_text(encoding="utf-8")
    assert "pytest-homeassistant-custom-component==0.13.236" in pins
    assert oldest_tested_version() == "2025.4.4"


def test_manifest_is_ordered_and_complete_as_hassfest_wants() -> None:
    text = (PACKAGE / "manifest.json").read_text(encoding="utf-8")
    manifest = json.loads(text)
    assert manifest_order_problem(list(manifest)) is None
    assert set(manifest) >= MANIFEST_REQUIRED, MANIFEST_REQUIRED - set(manifest)
    assert manifest["domain"] == PACKAGE.name
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    assert manifest["documentation"] == REPOSITORY_URL
    assert manifest["issue_tracker"] == f"{REPOSITORY_URL}/issues"
    assert all(
        re.fullmatch(r"[\w.\-\[\],]+==[\w.]+", req) for req in manifest["requirements"]
    )


@pytest.mark.parametrize(
    ("keys", "ok"),
    [
        (["domain", "name", "codeowners", "version"], True),
        (["name", "domain", "codeowners"], False),
        (["domain", "name", "version", "codeowners"], False),
    ],
)
def test_manifest_order_check_catches_misordered_keys(
    keys: list[str], ok: bool
) -> None:
    assert (manifest_order_problem(keys) is None) is ok


def test_brand_icons_are_pngs_of_the_sizes_the_brands_repository_wants() -> None:
    assert png_size(PACKAGE / "brand" / "icon.png") == (256, 256)
    assert png_size(PACKAGE / "brand" / "icon@2x.png") == (512, 512)


def test_png_size_refuses_a_file_that_is_no_png(tmp_path: Path) -> None:
    fake = tmp_path / "icon.png"
    fake.write_bytes(b"GIF89a" + bytes(30))
    with pytest.raises(ValueError, match="not a PNG"):
        png_size(fake)


@pytest.mark.parametrize("language", ["en", "de"])
def test_every_service_and_field_has_a_translated_name_and_description(
    language: str,
) -> None:
    services = load_yaml_dict(str(PACKAGE / "services.yaml"))
    texts = _json(PACKAGE / "translations" / f"{language}.json")["services"]
    assert set(texts) == set(services)
    for service, spec in services.items():
        assert texts[service]["name"] and texts[service]["description"], service
        for field in (spec or {}).get("fields", {}):
            field_texts = texts[service]["fields"][field]
            assert field_texts["name"] and field_texts["description"], (
                f"{service}.{field}"
            )


def _workflow(name: str) -> dict[Any, Any]:
    data: dict[Any, Any] = load_yaml_dict(str(REPO / ".github" / "workflows" / name))
    return data


def _steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_workflows_parse_and_name_the_right_actions() -> None:
    hassfest = _steps(_workflow("hassfest.yaml"))
    assert any(
        s.get("uses") == "home-assistant/actions/hassfest@master" for s in hassfest
    )
    hacs = [
        s for s in _steps(_workflow("hacs.yaml")) if s.get("uses") == "hacs/action@main"
    ]
    assert hacs and hacs[0]["with"]["category"] == "integration"
    # YAML reads the bare key `on` as True.
    assert all(
        True in _workflow(n) for n in ("hassfest.yaml", "hacs.yaml", "tests.yaml")
    )


def test_tests_workflow_runs_the_readme_command_on_both_targets() -> None:
    jobs = _workflow("tests.yaml")["jobs"]
    ran = {
        step["run"]: next(
            s["with"]["python-version"] for s in job["steps"] if "with" in s
        )
        for job in jobs.values()
        for step in job["steps"]
        if "run" in step
    }
    assert ran == {"scripts/test": "3.14", "scripts/test --oldest": "3.13"}
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "scripts/test --oldest" in readme
    assert REPOSITORY_URL in readme
