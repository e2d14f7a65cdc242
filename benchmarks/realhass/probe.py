"""A tiny custom integration that measures event-loop lag inside Home Assistant.

It schedules a 10 ms timer again and again and appends how late each one fired
(monotonic time and lateness in ms) to `bench_probe_lag.txt` in the config
folder, once a second, so the driver can take the samples of its window.
"""

from __future__ import annotations

from pathlib import Path

MANIFEST = """{
  "domain": "bench_probe",
  "name": "Benchmark probe",
  "codeowners": [],
  "dependencies": [],
  "documentation": "https://example.invalid",
  "iot_class": "calculated",
  "requirements": [],
  "version": "0.0.1"
}
"""

CODE = '''"""Event-loop lag probe of scripts/bench."""
import time
from pathlib import Path

TICK = 0.010
FILE = "bench_probe_lag.txt"


async def async_setup(hass, config):
    loop = hass.loop
    path = Path(hass.config.path(FILE))
    samples = []
    state = {"due": time.monotonic() + TICK, "flushed": time.monotonic()}

    def tick():
        now = time.monotonic()
        samples.append(f"{now:.4f} {(now - state['due']) * 1000:.3f}\\n")
        if now - state["flushed"] >= 1.0:
            with path.open("a") as out:
                out.writelines(samples)
            samples.clear()
            state["flushed"] = now
        state["due"] = now + TICK
        loop.call_at(state["due"], tick)

    loop.call_at(state["due"], tick)
    return True
'''

LAG_FILE = "bench_probe_lag.txt"


def install(config_dir: Path) -> None:
    """Write the probe into `config_dir/custom_components/bench_probe`."""
    folder = config_dir / "custom_components" / "bench_probe"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(MANIFEST)
    (folder / "__init__.py").write_text(CODE)


def lag_samples(config_dir: Path, since: float, until: float) -> list[float]:
    """Return the lateness (ms) of the timers that fired between `since` and `until`."""
    path = config_dir / LAG_FILE
    if not path.exists():
        return []
    found = []
    for line in path.read_text().splitlines():
        moment, lateness = line.split()
        if since <= float(moment) <= until:
            found.append(float(lateness))
    return found
