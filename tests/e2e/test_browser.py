"""Home Assistant in a real browser: what a person sees and does with the integration.

`scripts/e2e` runs it: Playwright for Python drives Debian's chromium (never a
downloaded browser) against a real `python -m homeassistant` and the meter simulator,
each in its own process (tests/realhass/harness.py). One Home Assistant for the module;
the steps run in order, each on what the one before left, and after a failed step the
rest are not tried. Every step saves screenshots to tests/e2e/artifacts/NN-name.png (a
failed step NN-name-failed.png), and Home Assistant's log goes there at the end.

The texts the test looks for are read from our translations, so a changed text does not
break the test, but a text that does not reach the page does.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import re
from typing import Any

from homeassistant.util.yaml import parse_yaml
from playwright.sync_api import Locator, Page, ViewportSize, expect, sync_playwright
import pytest

from tests.realhass.harness import (
    REPO,
    USER,
    HassClient,
    HomeAssistantProcess,
    SimulatorProcess,
    free_port,
    wait_until,
)

pytestmark = pytest.mark.realhass

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Loopback only here: without these chromium keeps dialling Google's services.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The machine is slow and shared: wait long for anything to show, never sleep.
TIMEOUT_MS = 60_000
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
# The device page at full length.
DEVICE_PAGE_HEIGHT = 1500
VOLTAGE = 400
CI = "DE*ABC*E1234"
TARIFF = "0,35 EUR/kWh"
XC_ERROR = "0x0001, 0x00000000, 0x00, 0x00"


def _translations(language: str) -> dict[str, Any]:
    path = REPO / "custom_components" / "iem_dcr" / "translations" / f"{language}.json"
    return dict(json.loads(path.read_text("utf-8")))


EN = _translations("en")
DE = _translations("de")


@dataclass
class Browser:
    """The page a person looks at, the processes behind it, and what the steps learnt."""

    page: Page
    hass: HomeAssistantProcess
    simulator: SimulatorProcess
    found: dict[str, str] = field(default_factory=dict)

    @property
    def client(self) -> HassClient:
        return self.hass.client()

    def goto(self, path: str) -> None:
        self.page.goto(self.hass.url + path)

    def shot(self, name: str, height: int = VIEWPORT["height"]) -> None:
        """Save a screenshot; `height` shows more of a long page (it scrolls inside)."""
        if height != VIEWPORT["height"]:
            self.page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
        self.page.screenshot(path=ARTIFACTS / f"{name}.png")
        if height != VIEWPORT["height"]:
            self.page.set_viewport_size(VIEWPORT)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Generator[Browser]:
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not os.access(chromium, os.X_OK):
        pytest.fail(f"no browser at {chromium}: scripts/e2e installs Debian's chromium")
    ARTIFACTS.mkdir(exist_ok=True)
    simulator = SimulatorProcess(
        args=("--voltage", str(VOLTAGE)), log_dir=tmp_path_factory.mktemp("sim")
    )
    hass = HomeAssistantProcess(tmp_path_factory.mktemp("config"))
    try:
        simulator.start()
        # Left new: the browser onboards it.
        hass.start(onboard=False)
        with sync_playwright() as playwright:
            chrome = playwright.chromium.launch(
                executable_path=chromium, args=CHROMIUM_ARGS
            )
            context = chrome.new_context(
                viewport=VIEWPORT,
                locale="en-US",
                timezone_id="Europe/Berlin",
            )
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            try:
                yield Browser(page, hass, simulator)
            finally:
                chrome.close()
    finally:
        hass.terminate()
        simulator.stop()
        # Beside the screenshots, for a failure in CI.
        (ARTIFACTS / "home-assistant.log").write_text(hass.log_text(), "utf-8")


@pytest.fixture(autouse=True)
def step(browser: Browser, request: pytest.FixtureRequest) -> Generator[None]:
    """A screenshot of a failed step."""
    yield
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        number, _, name = request.node.name.removeprefix("test_").partition("_")
        browser.shot(f"{number}-{name.replace('_', '-')}-failed")


expect.set_options(timeout=TIMEOUT_MS)


def test_01_onboarding(browser: Browser) -> None:
    page = browser.page
    browser.goto("/")
    page.get_by_role("button", name="Create my smart home").click()
    page.locator("input[name=name]").fill(USER["name"])
    page.locator("input[name=username]").fill(USER["username"])
    page.locator("input[name=password]").fill(USER["password"])
    page.locator("input[name=password_confirm]").fill(USER["password"])
    browser.shot("01-onboarding-user")
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_text("Home location")).to_be_visible()
    page.get_by_role("button", name="Next").click()
    # A person in Germany: euro and metric units.
    page.locator("ha-country-picker").click()
    countries = page.get_by_role("dialog", name="Country")
    countries.get_by_role("textbox").fill("Germany")
    countries.get_by_text("Germany", exact=True).click()
    expect(countries).to_be_hidden()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("switch", name="Basic analytics")).to_be_visible()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Finish").click()

    # The owner is logged in: the frontend keeps their tokens in the browser.
    expect(page).not_to_have_url(re.compile("onboarding|auth_callback"))
    # Home Assistant 2026.x then asks, once, to confirm the HTTP settings it took from
    # configuration.yaml, and restarts with its defaults five minutes later if nobody does.
    confirm = page.locator("dialog-http-pending-config").get_by_role(
        "button", name="Confirm"
    )
    confirm.click()
    expect(confirm).to_be_hidden()
    expect(page.get_by_role("link", name="Overview")).to_be_visible()
    tokens = page.wait_for_function("localStorage.getItem('hassTokens')").json_value()
    browser.hass.keep_token(json.loads(tokens)["access_token"])
    browser.hass.wait_running()
    _, steps = browser.client.get("/api/onboarding")
    assert steps and all(step["done"] for step in steps), steps
    _, config = browser.client.get("/api/config")
    assert config["country"] == "DE"
    assert config["currency"] == "EUR"
    browser.shot("01-onboarding-done")


def test_02_config_flow_with_an_error(browser: Browser) -> None:
    page, simulator = browser.page, browser.simulator
    browser.goto("/config/integrations/dashboard")
    page.get_by_role("button", name="Add integration").click()
    page.locator("dialog-add-integration").get_by_role("textbox").fill("IEM-DCR")
    page.get_by_role("button", name="Isabellenhütte IEM-DCR").click()

    # First a port nothing listens on: the form stays and says why.
    user_step = EN["config"]["step"]["user"]
    expect(page.get_by_text(user_step["title"])).to_be_visible()
    page.get_by_role("textbox", name="Host").fill(simulator.host)
    page.get_by_role("spinbutton", name="Port").fill(str(free_port()))
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text(EN["config"]["error"]["cannot_connect"])).to_be_visible()
    browser.shot("02-config-flow-error")

    page.get_by_role("spinbutton", name="Port").fill(str(simulator.port))
    page.get_by_role("button", name="Submit").click()
    identity = EN["config"]["step"]["identity"]
    expect(page.get_by_text(identity["title"])).to_be_visible()
    page.get_by_role("textbox", name=identity["data"]["ci"]).fill(CI)
    page.get_by_role("textbox", name=identity["data"]["tariff_text"]).fill(TARIFF)
    browser.shot("02-config-flow-identity")
    page.get_by_role("button", name="Submit").click()
    page.get_by_role("button", name=re.compile("finish", re.IGNORECASE)).click()

    _, entries = browser.client.get("/api/config/config_entries/entry?domain=iem_dcr")
    [entry] = entries
    assert entry["state"] == "loaded"
    serial = simulator.state()["serial"]
    assert entry["title"] == f"IEM-DCR {serial}"
    assert simulator.state()["charge_point_id"] == CI
    [devices] = browser.client.ws([{"type": "config/device_registry/list"}])
    [device] = [
        device
        for device in devices["result"]
        if entry["entry_id"] in device["config_entries"]
    ]
    browser.found.update(
        entry_id=entry["entry_id"],
        title=entry["title"],
        device_id=device["id"],
        serial=serial,
    )


def _entity_row(page: Page, kind: str, name: str) -> Locator:
    """The row of the device page that shows one entity."""
    return page.locator(f"hui-{kind}-entity-row").filter(
        has=page.get_by_text(name, exact=True)
    )


def test_03_device_page_shows_the_meter(browser: Browser) -> None:
    page = browser.page
    browser.goto(f"/config/devices/device/{browser.found['device_id']}")
    expect(page.get_by_text(browser.found["title"], exact=True)).to_be_visible()
    voltage = browser.simulator.state()["voltage"]
    assert voltage == VOLTAGE
    # The voltage sensor has Home Assistant's own name (its device class).
    expect(_entity_row(page, "sensor", "Voltage")).to_contain_text(f"{voltage:.0f} V")
    expect(
        page.get_by_text(f"Serial number: {browser.found['serial']}")
    ).to_be_visible()
    browser.shot("03-device", DEVICE_PAGE_HEIGHT)


def _perform_action(page: Page, action_yaml: str, expect_key: str) -> dict[str, Any]:
    """Perform an action from Developer tools → Actions in YAML mode; return its response."""
    editor = page.locator("ha-code-editor").first.locator(".cm-content")
    editor.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.insert_text(action_yaml)
    page.get_by_role("button", name="Perform action").click()
    # Until the new response is there, the page shows the one before.
    response = page.locator("ha-code-editor").nth(1)
    expect(response).to_contain_text(f"{expect_key}:")
    # The page shows the response as YAML, long strings folded over lines.
    text = response.evaluate("editor => editor.value")
    response_data = parse_yaml(text)
    assert isinstance(response_data, dict), text
    return response_data


def test_04_start_and_stop_from_developer_tools(browser: Browser) -> None:
    page, simulator = browser.page, browser.simulator
    entry_id = browser.found["entry_id"]
    browser.goto("/developer-tools/action")
    page.get_by_role("button", name="YAML mode").click()

    started = _perform_action(
        page,
        "action: iem_dcr.start_transaction\n"
        f"data:\n  config_entry_id: {entry_id}\n  transaction_id: e2e-1\n",
        "transaction_id",
    )
    assert started["status"] == "OK"
    assert started["transaction_id"] == "e2e-1"
    assert started["meter_serial"] == browser.found["serial"]
    assert simulator.state()["transaction_active"] is True
    expect(page.get_by_text("status: OK")).to_be_visible()
    browser.shot("04-action-start")

    simulator.control("POST", "energy", {"import_kwh": "7.25"})
    stopped = _perform_action(
        page,
        f"action: iem_dcr.stop_transaction\ndata:\n  config_entry_id: {entry_id}\n",
        "already_stored",
    )
    assert stopped["status"] == "OK"
    assert stopped["ocmf"] == simulator.issued()[-1]
    assert stopped["signature_valid"] is True
    assert stopped["energy_kwh"] == 7.25
    assert simulator.state()["transaction_active"] is False
    response = page.locator("ha-code-editor").nth(1)
    response.scroll_into_view_if_needed()
    expect(response).to_contain_text("OCMF|")
    browser.shot("04-action-stop")


def test_05_stop_button(browser: Browser) -> None:
    page, simulator, client = browser.page, browser.simulator, browser.client
    status, body = client.call_service(
        "iem_dcr",
        "start_transaction",
        {"config_entry_id": browser.found["entry_id"], "transaction_id": "e2e-2"},
        return_response=True,
    )
    assert status == 200, body
    issued = len(simulator.issued())
    transaction = EN["entity"]["binary_sensor"]["transaction_active"]

    browser.goto(f"/config/devices/device/{browser.found['device_id']}")
    row = _entity_row(page, "simple", transaction["name"])
    expect(row).to_contain_text(transaction["state"]["on"])
    browser.shot("05-stop-button-running", DEVICE_PAGE_HEIGHT)
    button = _entity_row(
        page, "button", EN["entity"]["button"]["stop_transaction"]["name"]
    )
    button.get_by_role("button", name="Press").click()

    wait_until(
        lambda: simulator.state()["transaction_active"] is False,
        60,
        "the meter to end the transaction",
    )
    assert len(simulator.issued()) == issued + 1
    expect(row).to_contain_text(transaction["state"]["off"])
    serial = browser.found["serial"].lower()
    state = client.state(f"binary_sensor.iem_dcr_{serial}_transaction")
    assert state is not None and state["state"] == "off"
    browser.shot("05-stop-button-done", DEVICE_PAGE_HEIGHT)


def test_06_repair_issue(browser: Browser) -> None:
    page, title = browser.page, browser.found["title"]
    browser.simulator.control("POST", "error", {"xc": XC_ERROR})
    issue = EN["issues"]["meter_error"]

    browser.goto("/config/repairs")
    page.get_by_text(issue["title"].format(title=title)).click()
    description = issue["description"].format(error_code=XC_ERROR)
    expect(page.get_by_text(description.split("`")[0].strip())).to_be_visible()
    expect(page.get_by_text(XC_ERROR)).to_be_visible()
    [issues] = browser.client.ws([{"type": "repairs/list_issues"}])
    assert f"meter_error_{browser.found['entry_id']}" in {
        issue["issue_id"] for issue in issues["result"]["issues"]
    }
    browser.shot("06-repair")
    page.keyboard.press("Escape")
    # The frontend closes a dialog by going back in the history (its opening pushed
    # a state); a navigation started before that lands is aborted by it.
    expect(page.get_by_text(XC_ERROR)).to_be_hidden()
    page.wait_for_function("() => !(history.state && history.state.dialog)")


def test_07_german(browser: Browser) -> None:
    page, title = browser.page, browser.found["title"]
    # What the profile page's language picker saves.
    browser.client.ws(
        [
            {
                "type": "frontend/set_user_data",
                "key": "language",
                "value": {"language": "de", "number_format": "language"},
            }
        ]
    )
    browser.goto("/config/repairs")
    expect(
        page.get_by_text(DE["issues"]["meter_error"]["title"].format(title=title))
    ).to_be_visible()
    browser.shot("07-german-repairs")

    browser.goto(f"/config/devices/device/{browser.found['device_id']}")
    # Entity names come from the server's language (English so far); their states are
    # translated in the browser, in the person's language.
    transaction = DE["entity"]["binary_sensor"]["transaction_active"]
    english_name = EN["entity"]["binary_sensor"]["transaction_active"]["name"]
    expect(_entity_row(page, "simple", english_name)).to_contain_text(
        transaction["state"]["off"]
    )

    # A German household's server speaks German too (Settings → System → General);
    # the meter's entities take their names in it when its entry loads again.
    [updated] = browser.client.ws([{"type": "config/core/update", "language": "de"}])
    assert updated["success"], updated
    status, _ = browser.client.post(
        f"/api/config/config_entries/entry/{browser.found['entry_id']}/reload"
    )
    assert status == 200
    browser.goto(f"/config/devices/device/{browser.found['device_id']}")
    expect(_entity_row(page, "simple", transaction["name"])).to_contain_text(
        transaction["state"]["off"]
    )
    stop_name = DE["entity"]["button"]["stop_transaction"]["name"]
    expect(_entity_row(page, "button", stop_name)).to_be_visible()
    browser.shot("07-german-device", DEVICE_PAGE_HEIGHT)
