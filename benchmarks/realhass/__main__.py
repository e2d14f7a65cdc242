"""Driver of scripts/bench: alternate the contenders, then print one table."""

from __future__ import annotations

import argparse
import platform
import sys

from . import floor, ha_config, latency, ledger_numbers, scenario, table

CONTENDERS = ("rest", "iem_dcr")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="scripts/bench")
    parser.add_argument("--window", type=float, default=45.0, help="seconds per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--meters", default="1,10,50", help="comma-separated counts")
    parser.add_argument("--quick", action="store_true", help="short windows, one run")
    parser.add_argument(
        "--no-recorder", action="store_true", help="skip the recorder runs"
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print the README table"
    )
    parser.add_argument(
        "--skip-poll",
        action="store_true",
        help="only the floor, ledger and start/stop rows (about 1 min)",
    )
    parser.add_argument(
        "--latency-runs", type=int, default=latency.RUNS, help="starts and stops"
    )
    parser.add_argument(
        "--recorder-only",
        action="store_true",
        help="only the recorder runs (database growth), at the first meter count",
    )
    arguments = parser.parse_args(argv)
    arguments.meter_counts = [int(part) for part in arguments.meters.split(",") if part]
    if arguments.quick:
        arguments.window, arguments.runs = 10.0, 1
    return arguments


def machine() -> str:
    """Cores, CPU model, Python and Home Assistant version."""
    from homeassistant.const import __version__

    model = "unknown CPU"
    cores = 0
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                cores += 1
    return f"{cores} cores, {model}, Python {platform.python_version()}, Home Assistant {__version__}"


def run_plans(arguments: argparse.Namespace) -> list[tuple[int, str]]:
    """Return the (meters, recorder mode) cells to measure, each rest vs iem_dcr."""
    first = arguments.meter_counts[0]
    recorder_plans = (
        []
        if arguments.no_recorder
        else [(first, ha_config.RECORDER_ON), (first, ha_config.RECORDER_LIVE_EXCLUDED)]
    )
    if arguments.skip_poll:
        return []
    if arguments.recorder_only:
        return recorder_plans
    off = [(count, ha_config.RECORDER_OFF) for count in arguments.meter_counts]
    return off + recorder_plans


def main(argv: list[str] | None = None) -> None:
    """Run every measurement and print the table."""
    arguments = parse(argv)
    results = []
    plans = run_plans(arguments)
    for count, recorder in plans:
        for number in range(arguments.runs):
            # Alternate the contenders so drift on a shared machine hits both.
            order = CONTENDERS if number % 2 == 0 else CONTENDERS[::-1]
            for contender in order:
                print(
                    f"run {number + 1}: {contender}, {count} meters, recorder {recorder}",
                    file=sys.stderr,
                )
                results.append(
                    scenario.run(contender, count, arguments.window, recorder=recorder)
                )
    if arguments.recorder_only:
        print(machine())
        print(table.render(table.rows(results, []), markdown=arguments.markdown))
        return
    for count in [] if arguments.skip_poll else arguments.meter_counts:
        # Event-loop lag in runs of their own: the probe's timers cost CPU.
        print(f"lag: iem_dcr, {count} meters", file=sys.stderr)
        results.append(
            scenario.run(
                "iem_dcr",
                count,
                arguments.window,
                recorder=ha_config.RECORDER_OFF,
                lag_probe=True,
            )
        )
    extra = [(label, f"{cost:.2f} ms") for label, cost in floor.measure()]
    if not arguments.skip_poll:
        print("idle: Home Assistant with nothing configured", file=sys.stderr)
        extra.append(
            (
                "Home Assistant alone, nothing configured, per second",
                f"{scenario.idle(arguments.window):.2f} ms",
            )
        )
    print("ledger: append, load, memory", file=sys.stderr)
    extra += ledger_numbers.rows(ledger_numbers.measure())
    print(f"start/stop: {arguments.latency_runs} of each", file=sys.stderr)
    extra += latency.measure(arguments.latency_runs)
    print(machine())
    print(table.render(table.rows(results, extra), markdown=arguments.markdown))


if __name__ == "__main__":
    main()
