"""Print the fault matrix's results as one table: `python -m tests.reliability.report FILE`."""

from __future__ import annotations

import json
from pathlib import Path
import sys

COLUMNS = (
    ("scenario", "scenario"),
    ("issued", "issued"),
    ("stored", "stored"),
    ("announced", "announced"),
    ("lost", "lost"),
    ("damaged", "stored damaged"),
    ("duplicated", "duplicated"),
    ("recovery_s", "recovery"),
)


def _cell(line: dict[str, object], key: str) -> str:
    value = line.get(key)
    if value is None:
        return "-"
    if key == "recovery_s":
        return f"{value:g} s" if isinstance(value, int | float) else str(value)
    return str(value)


def render(lines: list[dict[str, object]]) -> str:
    """Return the Markdown table, one row per scenario, and a total."""
    header = [title for _, title in COLUMNS] + ["verdict"]
    rows = [
        [_cell(line, key) for key, _ in COLUMNS] + ["pass" if _clean(line) else "FAIL"]
        for line in lines
    ]
    total = (
        ["**total**"]
        + [
            str(sum(int(line.get(key) or 0) for line in lines))  # type: ignore[call-overload]
            for key, _ in COLUMNS[1:-1]
        ]
    )
    total += ["", "pass" if all(_clean(line) for line in lines) else "FAIL"]
    table = [header, ["---"] * len(header), *rows, total]
    return "\n".join("| " + " | ".join(row) + " |" for row in table)


def _clean(line: dict[str, object]) -> bool:
    return bool(line["passed"]) and not line.get("lost") and not line.get("duplicated")


def main(argv: list[str]) -> int:
    """Print the table; exit 1 when any scenario failed, lost or doubled a tuple."""
    lines = [
        json.loads(text)
        for text in Path(argv[1]).read_text(encoding="utf-8").splitlines()
        if text.strip()
    ]
    if not lines:
        print("no scenario ran")  # noqa: T201
        return 1
    print(render(lines))  # noqa: T201
    return 0 if all(_clean(line) for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
