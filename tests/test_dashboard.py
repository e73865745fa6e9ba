"""Tests of the workshop dashboard: slider values -> Scenario, the side-by-side pairing, the checks of
`alliance-sim dashboard`, the asset download, and the live page in headless Chromium.

The browser test starts the command on a free localhost port, opens it in Debian's chromium through
selenium and chromedriver, moves the meeting-interval slider, resets, steps the model, checks that
the readout and the plots change, turns the side-by-side mode on, keeps a screenshot in
results/artifacts/ (or $ALLIANCE_SIM_ARTIFACTS) and stops the server with Ctrl-C (SIGINT).
"""

from __future__ import annotations

import inspect
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from experiments.cli import EXIT_OK, EXIT_USAGE, main
from experiments.dashboard import app
from experiments.dashboard import launcher as dashboard
from sim import Scenario, ScenarioError, build_scenario
from sim.scenario import kwargs_to_overrides

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL_HINT = (
    "the dashboard test needs Debian's chromium and chromedriver at /usr/bin: run scripts/bootstrap.sh "
    "(or, as root, apt-get install chromium chromium-driver)"
)
REPO = Path(__file__).resolve().parents[1]
ARTIFACTS_ENV = "ALLIANCE_SIM_ARTIFACTS"
SCREENSHOT = "dashboard.png"

#: A small scenario for the page and the pairing tests (the conftest sizes).
SMALL = {"formation__n_alliances": 60, "firms__count": 90, "simulation__horizon_weeks": 200}
SMALL_SETS = ["formation.n_alliances=30", "firms.count=45", "simulation.horizon_weeks=120"]
#: The server may take this long to answer on a loaded machine; the page this long to render.
SERVER_DEADLINE_SECONDS = 120
PAGE_WAIT_SECONDS = 60
STOP_WAIT_SECONDS = 20


def small_base(**overrides) -> Scenario:
    return build_scenario(None, kwargs_to_overrides({**SMALL, **overrides}))


# --------------------------------------------------------------------------- slider values -> Scenario


def test_workshop_scenario_sets_every_lever_at_its_path():
    base = small_base()
    levers = {
        "meeting_interval_weeks": 2,
        "meeting_mode": "in_person",
        "formal_incentives": 0.7,
        "informal_incentives": 0.2,
        "leadership_consistency": 0.9,
        "alliance_function": "center_of_excellence",
        "risk_clinic": "periodic",
        "conflict_resolution": "collaborative",
        "culture_dispersion": 0.3,
        "manager_turnover_per_year": 0.05,
    }
    scenario = app.workshop_scenario(base, **levers)
    assert app.lever_values(scenario) == levers
    assert scenario.governance.meeting_interval_weeks == 2
    assert scenario.firms.incentives.formal == 0.7
    assert scenario.managers.turnover_per_year == 0.05
    assert scenario.output.timeseries_interval_weeks == 1
    # what no lever touches stays as in the base
    assert scenario.governance.review_interval_weeks == base.governance.review_interval_weeks
    assert scenario.formation == base.formation


def test_workshop_scenario_without_levers_is_the_base_recorded_weekly():
    base = small_base(output__timeseries_interval_weeks=4)
    scenario = app.workshop_scenario(base, meeting_mode=None, risk_clinic=None)
    assert scenario.output.timeseries_interval_weeks == 1
    expected = base.model_copy(
        update={"output": base.output.model_copy(update={"timeseries_interval_weeks": 1})}
    )
    assert scenario.model_dump() == expected.model_dump()
    assert app.workshop_scenario().firms.count == Scenario().firms.count  # default base: the schema's


def test_slider_numbers_are_converted_to_the_schema_types():
    scenario = app.workshop_scenario(small_base(), formal_incentives=1, meeting_interval_weeks=3.0)
    assert scenario.firms.incentives.formal == 1.0
    assert isinstance(scenario.firms.incentives.formal, float)
    assert scenario.governance.meeting_interval_weeks == 3
    assert isinstance(scenario.governance.meeting_interval_weeks, int)


def test_unknown_lever_and_bad_values_raise_scenario_errors():
    with pytest.raises(ScenarioError, match="unknown lever 'meeting_weeks'; levers: meeting_interval_weeks"):
        app.workshop_scenario(small_base(), meeting_weeks=2)
    with pytest.raises(ScenarioError, match="governance.meeting_interval_weeks"):
        app.workshop_scenario(small_base(), meeting_interval_weeks=0)
    with pytest.raises(ScenarioError, match="governance.meeting_mode"):
        app.workshop_scenario(small_base(), meeting_mode="by_carrier_pigeon")
    with pytest.raises(ScenarioError, match="unknown second setting 'nothing'; choose one of: a central"):
        app.second_scenario(small_base(), "nothing")


def test_a_mix_of_alliance_functions_is_kept_as_in_the_scenario():
    mix = {"none": 0.5, "central_function": 0.5}
    base = small_base(firms__alliance_function=mix)
    assert app.lever_values(base)["alliance_function"] == app.SCENARIO_MIX
    assert app.workshop_scenario(base, alliance_function=app.SCENARIO_MIX).firms.alliance_function == mix
    assert app.workshop_scenario(base, alliance_function="none").firms.alliance_function == "none"
    params = app.model_params(base)
    assert params["alliance_function"]["value"] == app.SCENARIO_MIX
    assert app.SCENARIO_MIX in params["alliance_function"]["values"]
    assert app.SCENARIO_MIX not in app.model_params(small_base())["alliance_function"]["values"]


def test_model_params_start_at_the_base_and_match_the_model_keywords():
    base = small_base(governance__meeting_interval_weeks=6, governance__risk_clinic="launch")
    params = app.model_params(base, seed=5)
    keywords = set(inspect.signature(app.WorkshopModel.__init__).parameters) - {"self"}
    assert set(params) == keywords
    assert params["base"] is base
    assert params["seed"]["value"] == 5
    assert params["meeting_interval_weeks"]["value"] == 6
    assert params["risk_clinic"]["value"] == "launch"
    for name, widget in params.items():
        if isinstance(widget, dict) and widget["type"] == "Select":
            assert widget["value"] in widget["values"], name
        if isinstance(widget, dict) and widget["type"].startswith("Slider"):
            assert widget["min"] <= widget["value"] <= widget["max"], name


def test_solaraviz_reset_rebuilds_the_same_model_from_the_slider_values():
    # Mesa's Reset button builds kwargs with this function and calls type(model)(**kwargs)
    from mesa.visualization.solara_viz import _build_model_init_kwargs, _check_model_params

    params = app.model_params(small_base(), seed=2)
    model = app.initial_model(params)
    _check_model_params(model, params)
    values = {name: p["value"] if isinstance(p, dict) else p for name, p in params.items()}
    values["meeting_interval_weeks"] = 9
    kwargs = _build_model_init_kwargs(
        model, values, add_scenario_when_empty=True, require_model_accepts_scenario=True
    )
    rebuilt = type(model)(**kwargs)
    assert rebuilt.seed == model.seed == 2
    assert rebuilt.config.governance.meeting_interval_weeks == 9
    assert rebuilt.config.firms == model.config.firms


def test_environment_hands_over_scenario_and_seed():
    base = small_base(governance__meeting_mode="virtual")
    environ = {dashboard.SCENARIO_ENV: base.model_dump_json(), dashboard.SEED_ENV: "17"}
    assert app.base_from_environment(environ) == (base, 17)
    assert app.base_from_environment({}) == (Scenario(), 0)
    with pytest.raises(ScenarioError, match="ALLIANCE_SIM_DASHBOARD_SEED must be an integer from 0 to 999"):
        app.base_from_environment({dashboard.SEED_ENV: "1000"})
    with pytest.raises(ScenarioError, match="ALLIANCE_SIM_DASHBOARD_SCENARIO does not hold a valid scenario"):
        app.base_from_environment({dashboard.SCENARIO_ENV: '{"governance": {"meeting_mode": 3}}'})


# --------------------------------------------------------------------------- side by side


def test_side_by_side_runs_the_same_alliances_with_the_same_luck():
    model = app.WorkshopModel(
        base=small_base(), seed=4, side_by_side=True, second_setting="periodic risk clinics"
    )
    twin = model.twin
    assert twin is not None and twin.seed == model.seed == 4
    assert model.config.governance.risk_clinic == "none"
    assert twin.config.governance.risk_clinic == "periodic"
    for _ in range(8):
        model.step()
    assert model.week == twin.week == 8
    a_partners = model.outcomes()["partner_ids"].tolist()
    assert a_partners == twin.outcomes()["partner_ids"].tolist()
    shocks_a, shocks_b = (_shocks(m) for m in (model, twin))
    assert (shocks_a["week"] == 1).sum() == 1, "seed 4 hits one alliance in week 1"
    assert shocks_a.equals(shocks_b)
    # ... and they part: only B holds risk clinics
    assert _count(twin, "risk_clinic") > 0
    assert _count(model, "risk_clinic") == 0


def _shocks(model):
    events = model.events()
    return events[events["event"] == "shock"][["week", "alliance_id", "value"]].reset_index(drop=True)


def _count(model, event: str) -> int:
    return int((model.events()["event"] == event).sum())


def test_the_pair_steps_together_and_stops_at_the_horizon():
    model = app.WorkshopModel(base=small_base(simulation__horizon_weeks=3), seed=1, side_by_side=True)
    assert [label for label, _ in model.settings()] == [
        "A: your settings",
        "B: A with a central alliance function",
    ]
    assert model.twin.config.firms.alliance_function == "central_function"
    for _ in range(3):
        assert model.running
        model.step()
    assert not model.running
    assert (model.week, model.twin.week) == (3, 3)
    table = app.readout(model)
    assert list(table.columns) == ["A: your settings", "B: A with a central alliance function"]
    assert table.loc["week"].tolist() == ["3", "3"]
    assert len(model.timeseries()) == 4  # weeks 0..3: recorded every week


def test_alone_the_model_has_no_twin_and_one_readout_column():
    model = app.WorkshopModel(base=small_base(), seed=1, meeting_interval_weeks=2)
    assert model.twin is None
    model.step()
    table = app.readout(model)
    assert list(table.columns) == ["A: your settings"]
    assert table.loc["week", "A: your settings"] == "1"
    assert table.loc["active alliances", "A: your settings"] == "60"
    assert "meetings every 2 weeks (mixed)" in app.settings_text(model)
    assert app.settings_text(model).endswith("seed 1")


def test_network_segments_join_the_partners_of_every_running_alliance():
    model = app.WorkshopModel(base=small_base(), seed=4)
    segments, trust = app._alliance_segments(model, model.positions)
    members = app.alliance_members(model)
    assert len(segments) == len(trust) == len(members) == 60
    first = members[0]
    assert (segments[0] == model.positions[first]).all()
    assert ((trust >= 0) & (trust <= 1)).all()
    assert model.positions.shape == (90, 2)


def test_multi_partner_alliances_are_drawn_as_stars_from_their_centre():
    base = small_base(formation__multi_partner_share=1.0, formation__max_partners=3)
    model = app.WorkshopModel(base=base, seed=4)
    segments, trust = app._alliance_segments(model, model.positions)
    members = app.alliance_members(model)
    assert all(len(m) >= 3 for m in members)
    assert len(segments) == sum(len(m) for m in members)
    centre = model.positions[members[0]].mean(axis=0)
    assert all((segment[0] == centre).all() for segment in segments[: len(members[0])])


def test_figures_have_labelled_axes_and_one_line_per_series_and_setting():
    model = app.WorkshopModel(base=small_base(), seed=1, side_by_side=True)
    model.step()
    outcomes = app.outcomes_figure(model).axes[0]
    assert outcomes.get_xlabel() == "week"
    assert outcomes.get_ylabel() == "alliances ended (cumulative count)"
    assert len(outcomes.get_lines()) == 2 * 5  # successes and four failure reasons, A and B
    assert app.mean_trust_figure(model).axes[0].get_ylabel() == "organisational trust (0-1)"
    network = app.network_figure(model)
    assert [ax.get_title().splitlines()[0] for ax in network.axes[:2]] == [
        "A: your settings",
        "B: A with a central alliance function",
    ]


# --------------------------------------------------------------------------- the command's checks


@pytest.fixture
def no_server(monkeypatch):
    """Fail if the command would start a server (the input should have been refused first)."""

    def refuse(*args, **kwargs):
        raise AssertionError("the dashboard server was started")

    monkeypatch.setattr(dashboard, "serve", refuse)


def _error(capsys, argv: list[str]) -> str:
    assert main(["dashboard", *argv]) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("alliance-sim: error: ")
    return err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--port", "0"], "--port must be an integer from 1 to 65535, got 0"),
        (["--port", "70000"], "--port must be an integer from 1 to 65535, got 70000"),
        (["--host", "bad..name"], "--host 'bad..name' is neither an IP address nor a name"),
        (["--host", "192.0.2.1"], "--host 192.0.2.1 is not an address of this machine"),
        (["missing.yaml"], "scenario file not found: missing.yaml"),
        (["--seed", "1000"], "--seed must be an integer from 0 to 999 (the seed slider's range), got 1000"),
        (["--seed", "-1"], "--seed must be a non-negative integer, got -1"),
        (["--set", "governance.meeting_mode=pigeon"], "governance.meeting_mode"),
    ],
)
def test_bad_input_gets_one_message_and_exit_2(capsys, no_server, argv, message):
    assert message in _error(capsys, ["--port", str(free_port()), *argv] if "--port" not in argv else argv)


def test_a_port_in_use_is_refused(capsys, no_server):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert f"port {port} on 127.0.0.1 is already in use; choose another with --port" in _error(
            capsys, ["--port", str(port)]
        )


def test_good_input_starts_solara_with_the_resolved_scenario(monkeypatch, capsys, tmp_path):
    calls = []
    monkeypatch.setattr(dashboard, "serve", lambda *args: calls.append(args) or EXIT_OK)
    config = tmp_path / "workshop.yaml"
    config.write_text("name: workshop\ngovernance: {meeting_interval_weeks: 2}\n")
    port = free_port()
    argv = [
        "dashboard",
        str(config),
        "--port",
        str(port),
        "--seed",
        "4",
        "--set",
        "firms.count=80",
        "--set",
        "formation.n_alliances=40",
    ]
    assert main(argv) == EXIT_OK
    ((command, environment, url),) = calls
    assert command[1:4] == ["-m", "solara", "run"] and Path(command[4]).name == "app.py"
    assert command[5:] == [
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--log-level",
        "warning",
    ]
    scenario = Scenario.model_validate_json(environment[dashboard.SCENARIO_ENV])
    assert (scenario.name, scenario.governance.meeting_interval_weeks, scenario.firms.count) == (
        "workshop",
        2,
        80,
    )
    assert environment[dashboard.SEED_ENV] == "4"
    assert environment["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "false"
    assert url == f"http://127.0.0.1:{port}/"
    assert "warning" not in capsys.readouterr().err


def test_a_host_open_to_the_network_is_warned_about(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(dashboard, "serve", lambda *args: calls.append(args) or EXIT_OK)
    assert main(["dashboard", "--host", "0.0.0.0", "--port", str(free_port())]) == EXIT_OK
    assert "makes the dashboard reachable from other machines" in capsys.readouterr().err
    assert calls[0][2].startswith("http://127.0.0.1:")


def test_urls_and_loopback_detection():
    assert dashboard.dashboard_url("::1", 8000) == "http://[::1]:8000/"
    assert dashboard.dashboard_url("0.0.0.0", 8000) == "http://127.0.0.1:8000/"
    assert dashboard.is_loopback("127.0.0.1") and dashboard.is_loopback("localhost")
    assert not dashboard.is_loopback("0.0.0.0")


# --------------------------------------------------------------------------- front-end assets


def test_the_asset_list_matches_what_this_solara_loads():
    import solara
    from solara.server import settings

    template = (Path(solara.__file__).parent / "server" / "templates" / "solara.html.j2").read_text()
    loaded = [
        spec
        for spec in dashboard.FRONTEND_ASSETS
        if spec in template or spec in settings.assets.fontawesome_path
    ]
    assert loaded == list(dashboard.FRONTEND_ASSETS)


def fake_npm(folder: Path, fail: bool = False) -> str:
    """An `npm` that 'packs' a package holding package.json and dist/app.js, or fails."""
    script = folder / "npm"
    body = (
        "import sys, tarfile, io, pathlib\n"
        "args = sys.argv[1:]\n"
        f"if {fail!r}: sys.stderr.write('npm error 404 Not Found\\n'); sys.exit(1)\n"
        "spec, dest = args[1], pathlib.Path(args[args.index('--pack-destination') + 1])\n"
        "with tarfile.open(dest / 'pkg.tgz', 'w:gz') as t:\n"
        "    for name, text in [('package/package.json', '{}'), ('package/dist/app.js', spec)]:\n"
        "        data = text.encode(); info = tarfile.TarInfo(name); info.size = len(data)\n"
        "        t.addfile(info, io.BytesIO(data))\n"
    )
    script.write_text(f"#!{sys.executable}\n{body}")
    script.chmod(0o755)
    return str(script)


def test_fetch_assets_unpacks_each_package_where_solara_looks(tmp_path):
    cache = tmp_path / "cdn"
    specs = ["@scope/app@1.2.3", "plain@0.1.0"]
    assert dashboard.missing_assets(cache, tuple(specs)) == specs
    dashboard.fetch_assets(cache, specs, npm=fake_npm(tmp_path))
    assert dashboard.missing_assets(cache, tuple(specs)) == []
    assert (cache / "@scope" / "app@1.2.3" / "dist" / "app.js").read_text() == "@scope/app@1.2.3"
    assert sorted(p.name for p in cache.iterdir()) == ["@scope", "plain@0.1.0"]  # no scratch left


def test_fetch_assets_reports_npm_failures(tmp_path):
    with pytest.raises(
        dashboard.CliError, match="npm could not download plain@0.1.0: npm error 404 Not Found"
    ):
        dashboard.fetch_assets(tmp_path / "cdn", ["plain@0.1.0"], npm=fake_npm(tmp_path, fail=True))
    with pytest.raises(dashboard.CliError, match="no-such-npm is not installed"):
        dashboard.fetch_assets(tmp_path / "cdn", ["plain@0.1.0"], npm="no-such-npm")
    assert not (tmp_path / "cdn" / "plain@0.1.0").exists()


# --------------------------------------------------------------------------- the page in a browser


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def dashboard_server(tmp_path):
    """`alliance-sim dashboard` on a free port, in a process group of its own; killed at the end."""
    missing = dashboard.missing_assets(dashboard.asset_cache_dir())
    if missing:
        pytest.fail(
            f"the dashboard's front-end assets are not installed ({', '.join(missing)}): run "
            "`.venv/bin/alliance-sim dashboard --fetch-assets` once (it needs npm and the npm registry)"
        )
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    command = [sys.executable, "-m", "experiments.cli", "dashboard", "--port", str(port), "--seed", "2"]
    for assignment in SMALL_SETS:
        command += ["--set", assignment]
    server = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + SERVER_DEADLINE_SECONDS
        while not answers(url):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the dashboard did not start: {(tmp_path / 'server.log').read_text()}")
            time.sleep(0.3)
        yield server, url, port, tmp_path / "server.log"
    finally:
        _end_group(server)
        log.close()


def _end_group(process: subprocess.Popen) -> None:
    """SIGINT to the process group, then SIGKILL to what is left of it."""
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=STOP_WAIT_SECONDS)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


@pytest.fixture
def browser(tmp_path):
    """Headless Debian chromium driven by chromedriver, in a process group of its own."""
    if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
        pytest.fail(INSTALL_HINT)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1500,1500",
    ):
        options.add_argument(flag)
    service = Service(str(CHROMEDRIVER), popen_kw={"start_new_session": True})
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        try:
            driver.quit()
        finally:
            if service.process is not None and service.process.poll() is None:
                _end_group(service.process)


def test_the_page_steers_steps_and_redraws_in_chromium(dashboard_server, browser):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    server, url, port, log = dashboard_server
    # the page re-renders at every step: an element found a moment ago may have been replaced
    wait = WebDriverWait(browser, PAGE_WAIT_SECONDS, ignored_exceptions=(StaleElementReferenceException,))

    def body() -> str:
        return browser.find_element(By.TAG_NAME, "body").text

    def readout(row: str) -> list[str]:
        cells = browser.find_elements(By.XPATH, f"//tr[td[normalize-space()='{row}']]/td")
        return [cell.text for cell in cells[1:]]

    def button(label: str):
        return browser.find_element(By.XPATH, f"//button[normalize-space()='{label}']")

    def plot_pixels() -> list[bytes]:
        return [image.screenshot_as_png for image in browser.find_elements(By.TAG_NAME, "img")]

    browser.get(url)
    wait.until(lambda _: "Readout" in body() and readout("week") == ["0"])
    assert "meetings every 4 weeks" in body()
    assert readout("active alliances") == ["30"]

    # move the meeting interval slider one notch to the right, then Reset to apply it
    label = browser.find_element(By.XPATH, "//label[normalize-space()='Meeting interval (weeks)']")
    thumb = label.find_element(
        By.XPATH, "./ancestor::div[contains(@class, 'v-slider')][1]//*[@role='slider']"
    )
    assert thumb.get_attribute("aria-valuenow") == "4"
    thumb.send_keys(Keys.ARROW_RIGHT)
    wait.until(lambda _: thumb.get_attribute("aria-valuenow") == "5")
    button("Reset").click()
    wait.until(lambda _: "meetings every 5 weeks" in body())

    before = wait.until(lambda _: (pixels := plot_pixels()) and len(pixels) == 4 and pixels)
    trust_before = wait.until(lambda _: readout("mean trust"))
    for week in (1, 2, 3, 4, 5, 6):
        button("Step").click()
        wait.until(lambda _, week=week: readout("week") == [str(week)])
    wait.until(lambda _: all(a != b for a, b in zip(before[:3], plot_pixels()[:3])))
    assert wait.until(lambda _: readout("mean trust")) != trust_before

    # side by side: B starts on the same seed with the same alliances
    browser.find_element(By.XPATH, "//label[normalize-space()='Side by side: also run B']").click()
    button("Reset").click()
    wait.until(lambda _: "B: A with a central alliance function" in body() and readout("week") == ["0", "0"])
    for week in (1, 2, 3):
        button("Step").click()
        wait.until(lambda _, week=week: readout("week") == [str(week), str(week)])
    assert wait.until(lambda _: readout("active alliances")) == ["30", "30"]

    folder = Path(os.environ.get(ARTIFACTS_ENV) or REPO / "results" / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(folder / SCREENSHOT))
    assert (folder / SCREENSHOT).stat().st_size > 0

    # Ctrl-C stops the server cleanly and frees the port
    os.killpg(server.pid, signal.SIGINT)
    assert server.wait(timeout=STOP_WAIT_SECONDS) == EXIT_OK
    assert "Stopping the dashboard." in log.read_text()
    with socket.socket() as probe:  # nobody listens on the port any more
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
        probe.listen()
