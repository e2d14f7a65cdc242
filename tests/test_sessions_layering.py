"""Sessions, pricing and statements stay free of Home Assistant and of the ledger."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "custom_components" / "iem_dcr"
MODULES = [
    PACKAGE / "sessions.py",
    PACKAGE / "pricing.py",
    *sorted((PACKAGE / "statement").glob("*.py")),
]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_no_home_assistant_and_no_ledger(path: Path) -> None:
    imported = _imports(path)

    assert not {name for name in imported if name.split(".")[0] == "homeassistant"}
    # Sessions are read through a Protocol; only the transaction manager stores.
    assert not {name for name in imported if name.rsplit(".", 1)[-1] == "ledger"}


def test_pricing_knows_nothing_of_sessions() -> None:
    assert not {name for name in _imports(PACKAGE / "pricing.py") if "sessions" in name}
