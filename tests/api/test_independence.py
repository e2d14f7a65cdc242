"""The api package stays free of Home Assistant: stdlib, aiohttp, itself."""

from __future__ import annotations

import ast
from pathlib import Path
import sys

import pytest

API_DIR = Path(__file__).parents[2] / "custom_components" / "iem_dcr" / "api"
ALLOWED_THIRD_PARTY = {"aiohttp"}


def _imports(path: Path) -> list[tuple[str, int]]:
    """List (module, relative level) of every import in a source file."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend((alias.name, 0) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", node.level))
    return found


def test_the_package_has_modules() -> None:
    assert {path.name for path in API_DIR.glob("*.py")} >= {
        "__init__.py",
        "client.py",
        "errors.py",
        "meter_time.py",
        "models.py",
    }


@pytest.mark.parametrize(
    "path", sorted(API_DIR.glob("*.py")), ids=lambda path: path.name
)
def test_imports_only_stdlib_aiohttp_and_itself(path: Path) -> None:
    for module, level in _imports(path):
        if level:
            # Relative imports must stay inside the package, not reach the integration.
            assert level == 1, f"{path.name} imports {'.' * level}{module}"
            continue
        top = module.split(".")[0]
        assert top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY, (
            f"{path.name} imports {module}"
        )
