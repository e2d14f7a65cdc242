"""Poll cost of iem_dcr against the `rest` integration in real Home Assistant processes.

Run with `scripts/bench` (see `scripts/bench --help`).
"""
