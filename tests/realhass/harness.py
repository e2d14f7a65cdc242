"""A real Home Assistant process and a simulated meter in another, driven over HTTP.

The pytest harness runs Home Assistant inside the test's own event loop, where a
kill -9, a SIGTERM or a restart cannot happen. These classes start `hass` and the
simulator as separate processes, as a user runs them, and talk to both only over
their HTTP APIs (REST and WebSocket), so a test can kill either at any moment.

Synchronous on purpose: the test drives; the processes run on their own. Waiting
for an outside process is polling with a deadline, never a fixed sleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
import concurrent.futures
import contextlib
import json
import os
from pathlib import Path
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any, Self
import urllib.error
import urllib.parse
import urllib.request

import aiohttp

REPO = Path(__file__).resolve().parents[2]
CLIENT_ID = "http://127.0.0.1/"
USER = {"name": "Test Owner", "username": "owner", "password": "correct horse battery"}
METER_PREFIX = "/counter/v1/ocmf/"
CONTROL_PREFIX = "/_sim/"
REQUEST_TIMEOUT = 30.0

CONFIGURATION = """\
homeassistant:
  name: Harness
  latitude: 52.52
  longitude: 13.40
  elevation: 34
  unit_system: metric
  time_zone: Europe/Berlin
  currency: EUR
  country: DE
  language: en
http:
  server_host: 127.0.0.1
  server_port: {port}
api:
config:
onboarding:
websocket_api:
logger:
  default: warning
{logs}{extra}"""
# The integration's debug log, for tests that read it; a measurement goes without.
DEBUG_LOGS = """  logs:
    custom_components.iem_dcr: debug
"""


class HarnessError(AssertionError):
    """A process did not do what the test waited for."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until[T](
    probe: Callable[[], T | None], timeout: float, what: str, every: float = 0.2
) -> T:
    """Call `probe` until it returns something other than None or False."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            result = probe()
        except (OSError, ValueError, HarnessError) as err:
            last_error, result = err, None
        if result is not None and result is not False:
            return result
        if time.monotonic() > deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise HarnessError(
                f"timed out after {timeout:g} s waiting for {what}{detail}"
            )
        time.sleep(every)


def http_json(
    method: str,
    url: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = REQUEST_TIMEOUT,
    form: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """Send one request; return the status and the decoded JSON answer (or text)."""
    data = None
    all_headers = dict(headers or {})
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        all_headers["Content-Type"] = "application/json"
    if not url.startswith("http://"):
        raise HarnessError(f"not an http URL: {url}")
    request = urllib.request.Request(  # noqa: S310 (http only, checked above)
        url, data=data, method=method, headers=all_headers
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    text = raw.decode("utf-8", "replace")
    try:
        return status, json.loads(text) if text else None
    except ValueError:
        return status, text


class _Process:
    """A child process with its output in a file."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def _spawn(self, command: Sequence[str], cwd: Path) -> None:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env["PYTHONUNBUFFERED"] = "1"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603
                list(command),
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise HarnessError(
                f"process exited with {self.process.returncode}:\n{self.output_tail()}"
            )

    def output_tail(self, lines: int = 60) -> str:
        """Return the last lines the process wrote."""
        if not self.log_path.exists():
            return ""
        return "\n".join(
            self.log_path.read_text("utf-8", "replace").splitlines()[-lines:]
        )

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a power cut or the OOM killer."""
        if self.running and self.process is not None:
            self.process.send_signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=30)

    def terminate(self, timeout: float = 90) -> int:
        """SIGTERM, as systemd or docker stop; wait for the exit and return its code."""
        if self.process is None:
            return 0
        if self.running:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise HarnessError(f"no exit {timeout:g} s after SIGTERM") from None


class SimulatorProcess(_Process):
    """`python -m iem_dcr_simulator` in its own process."""

    def __init__(
        self,
        port: int | None = None,
        args: Sequence[str] = (),
        python: str = sys.executable,
        cwd: Path = REPO,
        log_dir: Path | None = None,
    ) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.args = list(args)
        self.python = python
        self.cwd = cwd
        super().__init__((log_dir or cwd) / f"simulator-{self.port}.log")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30) -> None:
        """Start the meter and wait until it answers `/metervalue`."""
        command = [self.python, "-m", "iem_dcr_simulator", "--host", self.host]
        self._spawn([*command, "--port", str(self.port), *self.args], self.cwd)

        def answers() -> bool:
            self._check_alive()
            status, _ = http_json(
                "GET", self.url + METER_PREFIX + "metervalue", timeout=2
            )
            return status == 200

        wait_until(answers, timeout, "the simulator to answer")

    def stop(self) -> None:
        """End the simulator cleanly."""
        self.terminate(timeout=30)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call the simulator's control API (`/_sim/<path>`); return its JSON answer."""
        status, answer = http_json(method, self.url + CONTROL_PREFIX + path, body)
        if status != 200:
            raise HarnessError(f"control {method} {path}: {status} {answer}")
        return answer

    def state(self) -> dict[str, Any]:
        """The simulator's state document."""
        return dict(self.control("GET", "state"))

    def issued(self) -> list[str]:
        """Every signed tuple the meter issued, in order."""
        return list(self.state()["issued"])


class HomeAssistantProcess(_Process):
    """`python -m homeassistant` with the integration linked into its config folder."""

    def __init__(
        self,
        config_dir: Path,
        port: int | None = None,
        python: str = sys.executable,
        extra_yaml: str = "",
        debug_log: bool = True,
    ) -> None:
        self.config_dir = config_dir
        self.port = port or free_port()
        self.python = python
        self.extra_yaml = extra_yaml
        self.debug_log = debug_log
        self.token: str | None = None
        config_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(config_dir / "hass-process.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def _token_file(self) -> Path:
        return self.config_dir / ".harness-token"

    def _prepare(self) -> None:
        configuration = self.config_dir / "configuration.yaml"
        if not configuration.exists():
            configuration.write_text(
                CONFIGURATION.format(
                    port=self.port,
                    logs=DEBUG_LOGS if self.debug_log else "",
                    extra=self.extra_yaml,
                ),
                "utf-8",
            )
        components = self.config_dir / "custom_components"
        components.mkdir(exist_ok=True)
        link = components / "iem_dcr"
        if not link.exists():
            link.symlink_to(REPO / "custom_components" / "iem_dcr")
        if self._token_file.exists():
            self.token = self._token_file.read_text("utf-8").strip()

    def start(self, timeout: float = 180, onboard: bool = True) -> None:
        """Start Home Assistant and wait until it runs (onboarding it if it is new).

        With `onboard=False` a new Home Assistant is left for someone else to onboard
        (a browser): this returns once its HTTP server answers; call `keep_token` and
        `wait_running` after the onboarding.
        """
        self._prepare()
        command = [self.python, "-m", "homeassistant", "--config", str(self.config_dir)]
        self._spawn([*command, "--skip-pip"], self.config_dir)

        def listening() -> bool:
            self._check_alive()
            status, _ = http_json("GET", self.url + "/api/onboarding", timeout=2)
            return status == 200

        wait_until(listening, timeout, "Home Assistant's HTTP server")
        if self.token is None:
            if not onboard:
                return
            self.onboard()
        self.wait_running(timeout)

    def wait_running(self, timeout: float = 180) -> None:
        """Wait until Home Assistant reports that it has started."""
        client = self.client()

        def running() -> bool:
            self._check_alive()
            status, config = client.get("/api/config")
            return status == 200 and config.get("state") == "RUNNING"

        wait_until(running, timeout, "Home Assistant to start")

    def onboard(self) -> str:
        """Create the owner, then a long-lived token; remember it across restarts."""
        if self.token is not None:
            return self.token
        body = {"client_id": CLIENT_ID, "language": "en", **USER}
        status, answer = http_json("POST", self.url + "/api/onboarding/users", body)
        if status != 200:
            raise HarnessError(f"onboarding refused: {status} {answer}")
        status, tokens = http_json(
            "POST",
            self.url + "/auth/token",
            form={
                "grant_type": "authorization_code",
                "code": answer["auth_code"],
                "client_id": CLIENT_ID,
            },
        )
        if status != 200:
            raise HarnessError(f"no access token: {status} {tokens}")
        return self.keep_token(str(tokens["access_token"]))

    def keep_token(self, access_token: str) -> str:
        """Make a long-lived token with an owner's access token; remember it across restarts."""
        short = HassClient(self.url, access_token)
        [result] = short.ws(
            [
                {
                    "type": "auth/long_lived_access_token",
                    "client_name": "harness",
                    "lifespan": 365,
                }
            ]
        )
        self.token = str(result["result"])
        self._token_file.write_text(self.token, "utf-8")
        return self.token

    def client(self) -> HassClient:
        """A client with the owner's token."""
        if self.token is None:
            raise HarnessError("Home Assistant is not onboarded yet")
        return HassClient(self.url, self.token)

    def restart(self, timeout: float = 180) -> None:
        """Stop cleanly (SIGTERM), then start again."""
        self.terminate()
        self.start(timeout)

    def log_text(self) -> str:
        """Everything Home Assistant logged (its log file and its console)."""
        paths = (self.config_dir / "home-assistant.log", self.log_path)
        return "\n".join(
            path.read_text("utf-8", "replace") for path in paths if path.exists()
        )


class HassClient:
    """Home Assistant's REST and WebSocket API with one token."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, timeout: float = REQUEST_TIMEOUT) -> tuple[int, Any]:
        return http_json("GET", self.url + path, headers=self._headers, timeout=timeout)

    def post(
        self, path: str, body: Any = None, timeout: float = REQUEST_TIMEOUT
    ) -> tuple[int, Any]:
        return http_json(
            "POST", self.url + path, body or {}, headers=self._headers, timeout=timeout
        )

    def state(self, entity_id: str) -> dict[str, Any] | None:
        """An entity's state object, or None if Home Assistant has none."""
        status, answer = self.get(f"/api/states/{entity_id}")
        return answer if status == 200 else None

    def states(self) -> list[dict[str, Any]]:
        status, answer = self.get("/api/states")
        if status != 200:
            raise HarnessError(f"states: {status} {answer}")
        return list(answer)

    def call_service(
        self,
        domain: str,
        service: str,
        data: dict[str, Any] | None = None,
        return_response: bool = False,
        timeout: float = 120,
    ) -> tuple[int, Any]:
        """Call an action over REST (with its response where asked)."""
        path = f"/api/services/{domain}/{service}"
        if return_response:
            path += "?return_response"
        return self.post(path, data or {}, timeout=timeout)

    def add_iem_dcr(
        self, host: str, port: int, ct: str, ci: str, tariff: str = ""
    ) -> str:
        """Add a meter through the config flow; return the new entry's id."""
        status, flow = self.post(
            "/api/config/config_entries/flow", {"handler": "iem_dcr"}
        )
        if status != 200:
            raise HarnessError(f"config flow: {status} {flow}")
        step = f"/api/config/config_entries/flow/{flow['flow_id']}"
        status, flow = self.post(step, {"host": host, "port": port})
        if status != 200 or flow.get("step_id") != "identity":
            raise HarnessError(f"config flow, meter step: {status} {flow}")
        identity: dict[str, Any] = {"ct": ct, "ci": ci}
        if tariff:
            identity["tariff_text"] = tariff
        status, flow = self.post(step, identity)
        if status != 200 or flow.get("type") != "create_entry":
            raise HarnessError(f"config flow, identity step: {status} {flow}")
        return str(flow["result"]["entry_id"])

    def wait_for[T](
        self, probe: Callable[[], T | None], timeout: float, what: str
    ) -> T:
        """Poll `probe` (which may use this client) until it gives a result."""
        return wait_until(probe, timeout, what)

    def ws(self, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send WebSocket commands one after the other; return their results."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self._ws(commands))
        # Called where an event loop runs (Playwright's synchronous API): in a thread.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, self._ws(commands)).result()

    async def _ws(self, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results = []
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(self.url + "/api/websocket") as socket_,
        ):
            await _authenticate(socket_, self.token)
            for number, command in enumerate(commands, start=1):
                await socket_.send_json({"id": number, **command})
                while True:
                    message = await socket_.receive_json(timeout=REQUEST_TIMEOUT)
                    if message.get("id") == number and message["type"] == "result":
                        results.append(message)
                        break
        return results


async def _authenticate(socket_: aiohttp.ClientWebSocketResponse, token: str) -> None:
    message = await socket_.receive_json(timeout=REQUEST_TIMEOUT)
    if message["type"] != "auth_required":
        raise HarnessError(f"unexpected WebSocket greeting: {message}")
    await socket_.send_json({"type": "auth", "access_token": token})
    message = await socket_.receive_json(timeout=REQUEST_TIMEOUT)
    if message["type"] != "auth_ok":
        raise HarnessError(f"WebSocket authentication failed: {message}")


class EventRecorder:
    """Records events of one type over the WebSocket API, reconnecting across restarts.

    Runs in a thread of its own with its own event loop, so it keeps listening
    while the test blocks on a service call or kills Home Assistant.
    """

    def __init__(self, hass: HomeAssistantProcess, event_type: str) -> None:
        self.hass = hass
        self.event_type = event_type
        self.events: list[dict[str, Any]] = []
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="event-recorder")

    def __enter__(self) -> Self:
        self._thread.start()
        wait_until(lambda: self.connections > 0, 60, "the event subscription")
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def wait_connected(self, connections: int, timeout: float = 60) -> None:
        """Wait until the recorder has subscribed `connections` times in all."""
        wait_until(
            lambda: self.connections >= connections, timeout, "a new subscription"
        )

    def _run(self) -> None:
        asyncio.run(self._listen_forever())

    async def _listen_forever(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(
                aiohttp.ClientError, OSError, TimeoutError, HarnessError
            ):
                await self._listen()
            await asyncio.sleep(0.2)

    async def _listen(self) -> None:
        token = self.hass.token
        if token is None:
            return
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(
                self.hass.url + "/api/websocket", heartbeat=5
            ) as socket_,
        ):
            await _authenticate(socket_, token)
            await socket_.send_json(
                {"id": 1, "type": "subscribe_events", "event_type": self.event_type}
            )
            subscribed = False
            while not self._stop.is_set():
                try:
                    message = await socket_.receive(timeout=0.5)
                except TimeoutError:
                    continue
                if message.type != aiohttp.WSMsgType.TEXT:
                    return  # closed: Home Assistant went away
                data = json.loads(message.data)
                if data.get("type") == "result" and not subscribed:
                    subscribed = True
                    self.connections += 1
                elif data.get("type") == "event":
                    self.events.append(data["event"]["data"])
