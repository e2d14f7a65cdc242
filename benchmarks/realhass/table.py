"""The one table scripts/bench prints, as text or Markdown."""

from __future__ import annotations

from collections.abc import Sequence
import statistics

from .scenario import RunResult


def _runs(results: Sequence[RunResult]) -> str:
    values = [r.cpu_ms_per_poll for r in results]
    median = statistics.median(values)
    runs = ", ".join(f"{v:.2f}" for v in values)
    return f"{median:.2f} ms ({runs})"


def _lag(results: Sequence[RunResult]) -> str:
    p50 = [r.lag_p50_ms for r in results if r.lag_p50_ms is not None]
    p99 = [r.lag_p99_ms for r in results if r.lag_p99_ms is not None]
    worst = [r.lag_max_ms for r in results if r.lag_max_ms is not None]
    if not p50:
        return "n/a"
    text = f"{statistics.median(p50):.1f} / {statistics.median(p99):.1f}"
    return f"{text} / {max(worst):.1f} ms" if worst else f"{text} ms"


def rows(
    results: Sequence[RunResult], extra: Sequence[tuple[str, str]]
) -> list[list[str]]:
    """Return the table rows: one per meter count and recorder setting, then extras."""
    table = [
        [
            "meters",
            "recorder",
            "`rest` + templates",
            "`iem_dcr`",
            "ratio",
            "loop lag p50/p99/max (iem_dcr)",
            "DB MB/h rest / iem_dcr",
            "state rows/h rest / iem_dcr",
        ]
    ]
    keys = sorted({(r.meters, r.recorder) for r in results})
    for meters, recorder in keys:
        rest = [
            r
            for r in results
            if (r.meters, r.recorder, r.contender) == (meters, recorder, "rest")
        ]
        ours = [
            r
            for r in results
            if (r.meters, r.recorder, r.contender) == (meters, recorder, "iem_dcr")
        ]
        probed = [
            r
            for r in results
            if (r.meters, r.recorder, r.contender)
            == (meters, recorder, "iem_dcr+probe")
        ]
        if not rest or not ours:
            continue
        ratio = statistics.median(r.cpu_ms_per_poll for r in ours) / statistics.median(
            r.cpu_ms_per_poll for r in rest
        )
        database = rows_written = "-"
        if recorder != "off":
            database = (
                f"{statistics.median(r.db_mb_per_hour or 0 for r in rest):.1f} / "
                f"{statistics.median(r.db_mb_per_hour or 0 for r in ours):.1f}"
            )
            rows_written = (
                f"{statistics.median(r.db_rows_per_hour or 0 for r in rest):,.0f} / "
                f"{statistics.median(r.db_rows_per_hour or 0 for r in ours):,.0f}"
            )
        table.append(
            [
                str(meters),
                recorder,
                _runs(rest),
                _runs(ours),
                f"{ratio:.2f}",
                _lag(probed),
                database,
                rows_written,
            ]
        )
    for name, value in extra:
        table.append([name, "", "", value, "", "", "", ""])
    return table


def render(table: list[list[str]], *, markdown: bool) -> str:
    """Format rows as aligned text or as a Markdown table."""
    if markdown:
        lines = ["| " + " | ".join(table[0]) + " |", "|" + " --- |" * len(table[0])]
        lines += ["| " + " | ".join(row) + " |" for row in table[1:]]
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in table
    )
