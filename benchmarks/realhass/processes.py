"""Start and stop the stand-in meters and Home Assistant; read a process's CPU time."""

from __future__ import annotations

import json
import os
from pathlib import Path
import socket
import subprocess
import sys
import time
from typing import BinaryIO
import urllib.request

from .ha_config import REPO

TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """CPU time of the threads of `pid`, to the nanosecond where Linux tells it.

    /proc/PID/task/*/schedstat counts nanoseconds on the CPU per thread; the
    user and system times of /proc/PID/stat count 10 ms ticks, too coarse for
    one meter (a tick is 0.2 ms per poll over 45 polls) and only used where
    schedstat is missing. A thread that ends inside a window takes its time
    with it; Home Assistant's threads (executor, loop) live as long as it does.
    """
    try:
        return (
            sum(
                int((task / "schedstat").read_text().split()[0])
                for task in Path(f"/proc/{pid}/task").iterdir()
            )
            / 1e9
        )
    except (OSError, IndexError, ValueError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / TICKS


def _get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.loads(answer.read())


def _wait(check: object, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():  # type: ignore[operator]
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout} s")
        time.sleep(0.2)


class Meters:
    """The stand-in meter process."""

    def __init__(self, count: int) -> None:
        """Prepare `count` meters."""
        self.count = count
        self.control_port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self.ports: list[dict[str, object]] = []

    def start(self) -> None:
        """Start the process and learn the meter ports."""
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.realhass.meters",
                "--count",
                str(self.count),
                "--control-port",
                str(self.control_port),
            ],
            cwd=REPO,
        )
        url = f"http://127.0.0.1:{self.control_port}/ports"
        _wait(lambda: _get_json(url), "stand-in meters", 60)
        self.ports = list(_get_json(url))  # type: ignore[call-overload]

    def served(self) -> int:
        """Return the /metervalue answers served so far."""
        answer = _get_json(f"http://127.0.0.1:{self.control_port}/count")
        return int(answer["served"])  # type: ignore[index]

    def stop(self) -> None:
        """Stop the process."""
        if self._process is not None:
            self._process.terminate()
            self._process.wait(30)
            self._process = None


class HomeAssistant:
    """A real `python -m homeassistant` process on a prepared config folder."""

    def __init__(self, config_dir: Path, http_port: int) -> None:
        """Remember where it lives."""
        self.config_dir = config_dir
        self.http_port = http_port
        self._process: subprocess.Popen[bytes] | None = None
        self._log: BinaryIO | None = None

    @property
    def pid(self) -> int:
        """Return the process id."""
        assert self._process is not None
        return self._process.pid

    def start(self, timeout: float = 180) -> None:
        """Start it and wait until its HTTP server answers."""
        self._log = (self.config_dir / "bench_stdout.log").open("wb")
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "homeassistant",
                "--config",
                str(self.config_dir),
                "--skip-pip",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Not the repository: its custom_components package would hide the
            # config folder's (the probe).
            cwd=self.config_dir,
        )

        def answers() -> bool:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"Home Assistant exited; see {self.config_dir}/bench_stdout.log"
                )
            try:
                urllib.request.urlopen(
                    f"http://127.0.0.1:{self.http_port}/api/", timeout=2
                )
            except urllib.error.HTTPError:
                return True  # 401: up, without a token
            return True

        _wait(answers, "Home Assistant", timeout)

    def stop(self) -> None:
        """SIGTERM, and wait."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(90)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None
