"""`alliance-sim dashboard`: the live workshop dashboard (dashboard/app.py) served on this machine.

    alliance-sim dashboard                                  # the baseline on http://127.0.0.1:8765/
    alliance-sim dashboard configs/baseline.yaml --port 9000 --seed 3

The command checks its input (scenario, seed, host and port) before anything starts, runs
`solara run experiments/dashboard/app.py --host H --port P --production --no-open` as a child process with the
resolved scenario in its environment, waits until the page answers, prints its address and keeps
serving until Ctrl-C (or SIGTERM), when it stops the server and returns 0.

The page's scripts, styles and fonts come from Solara's CDN through the server, which caches
them; on a machine without internet access `alliance-sim dashboard --fetch-assets` puts them in
that cache first (with `npm pack`, from the npm registry).

It listens on 127.0.0.1 unless --host says otherwise: any other address makes the dashboard
reachable from other machines, without a password, so the command warns when it is not a loopback
address.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from experiments.studies.base import PROG, CliError, Subparsers, add_set_argument, checked_seed
from sim import Scenario, load_scenario, parse_assignment
from sim.scenario import build_scenario

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
MAX_PORT = 65535
#: The page in the package the command serves.
APP = Path(__file__).resolve().with_name("app.py")
#: How long the server may take to answer before the command gives up, seconds.
READY_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.25
#: How long the server gets to stop after Ctrl-C before it is killed, seconds.
STOP_TIMEOUT_SECONDS = 10.0
WILDCARD_HOSTS = ("0.0.0.0", "::")
#: Environment variables through which the command hands the page its scenario (JSON) and first seed.
SCENARIO_ENV = "ALLIANCE_SIM_DASHBOARD_SCENARIO"
SEED_ENV = "ALLIANCE_SIM_DASHBOARD_SEED"
#: Largest seed the page's seed slider offers.
MAX_SEED = 999
#: The npm packages ('name@version') the page loads from Solara's CDN (this Solara version's
#: template and its Font Awesome setting); `--fetch-assets` puts them in Solara's asset cache.
FRONTEND_ASSETS = ("@widgetti/solara-vuetify3-app@5.2.0", "requirejs@2.3.6", "font-awesome@4.5.0")
#: An npm package tarball holds its files under this folder, with this manifest.
NPM_PACKAGE_ROOT = "package"
NPM_MANIFEST = "package.json"
#: Solara settings of the server: no usage statistics sent anywhere (Solara sends them by default).
SERVER_SETTINGS = {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false"}
#: Solara warns at every page load over plain http that its cookie falls back to SameSite=lax,
#: which is what a dashboard on this machine wants: not shown.
QUIET_WARNINGS = "ignore:Cookies with samesite:UserWarning"


def add_dashboard_command(subparsers: Subparsers) -> None:
    """Declare `alliance-sim dashboard`."""
    parser = subparsers.add_parser(
        "dashboard",
        allow_abbrev=False,
        help="serve the live workshop dashboard (Mesa's SolaraViz) in a browser",
        description="Serve the workshop dashboard: sliders for the main levers (meetings, incentives, "
        "alliance function, risk clinic, conflict resolution, culture, turnover, seed), live plots of "
        "active alliances, trust and outcomes, a network of firms and alliances coloured by trust, and "
        "a side-by-side mode that runs a second setting on the same seed. Open the printed address in a "
        "browser; Ctrl-C stops the server.",
        epilog="Sliders take effect when Reset is pressed; Step and the play button advance one week at "
        f"a time. The server listens on {DEFAULT_HOST} (this machine only) unless --host says otherwise: "
        "any other address lets everyone who can reach this machine use the dashboard, with no password. "
        "Guide: docs/how-to/run-a-workshop-dashboard.md.",
    )
    parser.add_argument(
        "scenario",
        metavar="SCENARIO",
        type=Path,
        nargs="?",
        help="scenario YAML file the sliders start from, e.g. configs/baseline.yaml (default: the "
        "baseline defaults)",
    )
    add_set_argument(
        parser,
        "override one scenario value by its dotted path, e.g. --set formation.n_alliances=100; "
        "VALUE is read as YAML; repeatable",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        metavar="P",
        help=f"TCP port to serve on, 1 to {MAX_PORT} and free (default: {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        metavar="H",
        help=f"address to listen on (default: {DEFAULT_HOST}, reachable from this machine only); "
        "another address exposes the dashboard to the network without a password",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="N",
        help=f"seed the seed slider starts at, 0 to {MAX_SEED} (default: 0)",
    )
    parser.add_argument(
        "--fetch-assets",
        action="store_true",
        help="download the page's scripts, styles and fonts from the npm registry (with npm) into "
        "Solara's asset cache, so that the dashboard works without internet access, then exit",
    )
    parser.set_defaults(handler=dashboard_command)


def dashboard_command(args: argparse.Namespace) -> int:
    """`alliance-sim dashboard`: check the input, serve the page until Ctrl-C, stop cleanly."""
    if args.fetch_assets:
        return fetch_assets_command()
    seed = checked_seed(args.seed)
    if seed > MAX_SEED:
        raise CliError(
            f"--seed must be an integer from 0 to {MAX_SEED} (the seed slider's range), got {seed}"
        )
    port = checked_port(args.port)
    host = checked_host(args.host, port)
    scenario = dashboard_scenario(args.scenario, args.assignments)
    if not is_loopback(host):
        print(
            f"{PROG}: warning: --host {host} makes the dashboard reachable from other machines; anyone "
            "who can reach it can use it (there is no password). Use it only on a network you trust.",
            file=sys.stderr,
        )
    missing = missing_assets(asset_cache_dir())
    if missing:
        print(
            f"note: {', '.join(missing)} not in Solara's asset cache ({asset_cache_dir()}): the page will "
            f"fetch them from Solara's CDN, which needs internet access. Offline, run `{PROG} dashboard "
            "--fetch-assets` once.",
            file=sys.stderr,
        )
    environment = {
        **os.environ,
        **SERVER_SETTINGS,
        "PYTHONWARNINGS": ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"), QUIET_WARNINGS])),
        SCENARIO_ENV: scenario.model_dump_json(),
        SEED_ENV: str(seed),
    }
    return serve(solara_command(host, port), environment, dashboard_url(host, port))


# --------------------------------------------------------------------------- the page's front-end assets


def asset_cache_dir() -> Path:
    """The folder from which the Solara server serves the front-end assets it would otherwise proxy
    from its CDN (SOLARA_ASSETS_PROXY_CACHE_DIR, by default <environment>/share/solara/cdn)."""
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def asset_folder(cache: Path, spec: str) -> Path:
    """Where Solara looks for the npm package `spec` ('name@version') in `cache`."""
    return cache / spec


def missing_assets(cache: Path, specs: tuple[str, ...] = FRONTEND_ASSETS) -> list[str]:
    """The packages of `specs` that are not (completely) in `cache`."""
    return [spec for spec in specs if not (asset_folder(cache, spec) / NPM_MANIFEST).is_file()]


def fetch_assets(cache: Path, specs: list[str], npm: str = "npm") -> None:
    """Download each npm package of `specs` with `npm pack` and unpack it into `cache`.

    Each package is unpacked into a temporary folder beside its final place and renamed into it,
    so an interrupted download leaves no half package behind. Raises CliError when npm is missing
    or fails.
    """
    if shutil.which(npm) is None:
        raise CliError(
            f"{npm} is not installed; it downloads the dashboard's assets (Debian: apt-get install npm)"
        )
    cache.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        with tempfile.TemporaryDirectory(dir=cache) as scratch:
            scratch_path = Path(scratch)
            done = subprocess.run(
                [npm, "pack", spec, "--silent", "--pack-destination", str(scratch_path)],
                capture_output=True,
                text=True,
                check=False,
            )
            tarballs = sorted(scratch_path.glob("*.tgz"))
            if done.returncode != 0 or len(tarballs) != 1:
                detail = done.stderr.strip().splitlines()[-1:] or ["no package file"]
                raise CliError(f"npm could not download {spec}: {detail[0]}")
            unpacked = scratch_path / "unpacked"
            with tarfile.open(tarballs[0]) as archive:
                archive.extractall(unpacked, filter="data")
            target = asset_folder(cache, spec)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                shutil.rmtree(target)
            (unpacked / NPM_PACKAGE_ROOT).rename(target)


def fetch_assets_command() -> int:
    """`alliance-sim dashboard --fetch-assets`: fetch what is missing from the cache, say what was done."""
    cache = asset_cache_dir()
    missing = missing_assets(cache)
    if not missing:
        print(f"The dashboard's assets are already in {cache}: {', '.join(FRONTEND_ASSETS)}")
        return True
    fetch_assets(cache, missing)
    print(f"Fetched into {cache}: {', '.join(missing)}")
    return True


# --------------------------------------------------------------------------- checks and serving


def checked_port(port: int) -> int:
    """`port` if it is a TCP port number a server can listen on; CliError otherwise."""
    if not 1 <= port <= MAX_PORT:
        raise CliError(f"--port must be an integer from 1 to {MAX_PORT}, got {port}")
    return port


def checked_host(host: str, port: int) -> str:
    """`host` if this machine can listen on it at `port` now; CliError naming the problem otherwise."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError):
        raise CliError(
            f"--host {host!r} is neither an IP address nor a name this machine can resolve; "
            f"use {DEFAULT_HOST} (this machine only) or one of its addresses"
        ) from None
    with socket.socket(family, kind, proto) as probe:
        # as the server will: a port whose last connections are still closing (TIME_WAIT) is free
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise CliError(bind_problem(host, port, exc)) from None
    return host


def bind_problem(host: str, port: int, exc: OSError) -> str:
    """What went wrong listening on host:port, in words, with what to do about it."""
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is already in use; choose another with --port"
    if exc.errno == errno.EACCES:
        return f"no permission to listen on port {port}; choose a port above 1023 with --port"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"--host {host} is not an address of this machine; use {DEFAULT_HOST} or one of its addresses"
    return f"cannot listen on {host} port {port}: {exc.strerror or exc}"


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or a name) only listens for this machine."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror:
        return False
    return all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)


def dashboard_scenario(path: Path | None, assignments: list[str]) -> Scenario:
    """The scenario the sliders start from: the file (or the defaults) with the --set overrides."""
    overrides = dict(parse_assignment(text) for text in assignments)
    if path is None:
        return build_scenario(None, overrides)
    return load_scenario(path, overrides)


def dashboard_url(host: str, port: int) -> str:
    """The address to open in a browser (a wildcard host is reached through 127.0.0.1)."""
    shown = DEFAULT_HOST if host in WILDCARD_HOSTS else host
    if ":" in shown:  # an IPv6 address goes in brackets
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def solara_command(host: str, port: int) -> list[str]:
    """The command line of the server: solara in production mode, no browser opened."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(APP),
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--log-level",
        "warning",
    ]


def serve(command: list[str], environment: dict[str, str], url: str) -> int:
    """Run the server `command` until it answers at `url`, then until Ctrl-C or SIGTERM; stop it."""
    server = subprocess.Popen(command, env=environment)
    # Ctrl-C and SIGTERM both stop the server, even where the shell started us ignoring SIGINT
    previous = {number: signal.signal(number, _interrupt) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"Starting the dashboard at {url} ...", flush=True)
        if not wait_until_answering(url, server):
            return _server_failed(server)
        print(f"Dashboard ready: open {url} in a browser. Ctrl-C stops it.", flush=True)
        status = server.wait()
        print(f"{PROG}: the dashboard server stopped by itself (exit status {status})", file=sys.stderr)
        return False
    except KeyboardInterrupt:
        print("\nStopping the dashboard.", flush=True)
        return True
    finally:
        stop(server)
        for number, handler in previous.items():
            signal.signal(number, handler)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _server_failed(server: subprocess.Popen) -> int:
    if server.poll() is None:
        print(
            f"{PROG}: the dashboard did not answer within {READY_TIMEOUT_SECONDS:g} seconds",
            file=sys.stderr,
        )
    else:
        print(
            f"{PROG}: the dashboard server failed to start (exit status {server.returncode})", file=sys.stderr
        )
    return False


def wait_until_answering(url: str, server: subprocess.Popen, timeout: float = READY_TIMEOUT_SECONDS) -> bool:
    """Whether the page at `url` answered before `timeout` seconds passed or `server` exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=POLL_SECONDS * 4) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(POLL_SECONDS)
    return False


def stop(server: subprocess.Popen) -> None:
    """Ask the server to stop (SIGINT, as Ctrl-C would), and kill it if it has not within the timeout."""
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
