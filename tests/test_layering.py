"""Architecture rules that keep the HA-free parts publishable on their own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "custom_components" / "iem_dcr"


def _python_files(*paths: Path) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


HA_FREE = _python_files(
    PACKAGE / "api",
    PACKAGE / "ocmf",
    PACKAGE / "ledger.py",
    PACKAGE / "key_fingerprint.py",
    ROOT / "iem_dcr_simulator",
)


@pytest.mark.parametrize("path", HA_FREE, ids=lambda path: str(path.relative_to(ROOT)))
def test_ha_free_modules_do_not_import_home_assistant(path: Path) -> None:
    imported = _imports(path)
    assert not {name for name in imported if name.split(".")[0] == "homeassistant"}


@pytest.mark.parametrize(
    "path",
    _python_files(ROOT / "iem_dcr_simulator"),
    ids=lambda path: str(path.relative_to(ROOT)),
)
def test_simulator_shares_no_code_with_the_integration(path: Path) -> None:
    assert not {name for name in _imports(path) if name.startswith("custom_components")}


@pytest.mark.parametrize(
    "path",
    _python_files(PACKAGE / "ocmf"),
    ids=lambda path: str(path.relative_to(ROOT)),
)
def test_ocmf_does_not_use_the_simulator(path: Path) -> None:
    assert not {name for name in _imports(path) if name.startswith("iem_dcr_simulator")}


def _calls(path: Path, method: str, *, on: str) -> bool:
    """Tell whether the module calls `<something named like on>.<method>(...)`."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        target = node.func.value
        name = (
            target.attr
            if isinstance(target, ast.Attribute)
            else target.id
            if isinstance(target, ast.Name)
            else ""
        )
        if node.func.attr == method and on in name.lower():
            return True
    return False


def test_only_the_tuple_keeper_writes_the_ledger() -> None:
    writers = {
        path.name
        for path in _python_files(PACKAGE)
        if _calls(path, "append", on="ledger")
    }
    assert writers == {"tuple_keeper.py"}


def test_one_ledger_object_per_file_comes_from_one_place() -> None:
    makers = {
        path.name
        for path in _python_files(PACKAGE)
        if any(
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "Ledger"
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        )
    }
    assert makers == {"meter_resources.py"}
