"""Speed benchmark: alliance-sim against Mesa's own Boltzmann wealth model, in one process.

    .venv/bin/python benchmarks/bench_model.py              # full: under a minute
    .venv/bin/python benchmarks/bench_model.py --quick      # smoke check: ~20 seconds
    .venv/bin/python benchmarks/bench_model.py --json benchmarks/bench.json

What is measured (see benchmarks/README.md for how to read it):

1. Yardstick - `mesa.examples...BoltzmannWealth`, 1,000 agents, 100 steps, Mesa's default
   10 x 10 grid (override with --boltzmann-grid). Rate = agent-steps / second of the 100
   `step()` calls; construction is timed and reported separately, never in the rate.
2. Our model - `AllianceModel(load_scenario(cfg), rng=seed).run()` for configs/baseline.yaml and
   configs/large.yaml. Rate = alliance-weeks / second of `.run()`, where alliance-weeks is
   `model.outcomes()["duration_weeks"].sum()` (weeks each alliance was active, censored ones up to
   the horizon). Construction (scenario already loaded; includes cohort formation at week 0) is
   timed separately; a rate including it is reported as well, for information.
3. Scaling - the baseline with formation.n_alliances in a ladder and firms.count = 1.5 x that,
   everything else unchanged; the slope of log(run seconds) against log(alliances) is fitted.

Yardstick and model runs are interleaved round by round, so both see the same machine load, and the
targets are ratios of rates measured in this run. Headline runs take the median over rounds (the
best is reported too); scaling points take the best of their repeats. The exit status is 0 whatever
the numbers are (this is a measurement, not a test); missed targets are printed as FAIL.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, sys.path[0] is benchmarks/; put the repository first so `import sim` finds the
# working tree (the editable install alone may resolve `sim` as an empty namespace package).
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from mesa.examples.basic.boltzmann_wealth_model.model import (  # noqa: E402
    BoltzmannScenario,
    BoltzmannWealth,
)

from sim import AllianceModel, load_scenario  # noqa: E402

BASELINE = ROOT / "configs" / "baseline.yaml"
LARGE = ROOT / "configs" / "large.yaml"

BOLTZMANN_AGENTS = 1_000
BOLTZMANN_STEPS = 100

TARGET_BASELINE_RATIO = 2.0  # baseline alliance-weeks/s / Boltzmann agent-steps/s
TARGET_LARGE_RATIO = 5.0  # large alliance-weeks/s / Boltzmann agent-steps/s
TARGET_SLOPE = 1.0  # d log(run seconds) / d log(alliances)
SLOPE_TOLERANCE = 0.1  # "<= ~1": slopes up to 1.1 pass

FULL = {"rounds": 5, "scaling": [100, 200, 400, 800, 1600], "scaling_repeats": 3}
QUICK = {"rounds": 3, "scaling": [100, 400, 1600], "scaling_repeats": 1}

PACKAGES = ("alliance-sim", "mesa", "numpy", "pandas", "scipy", "pydantic", "networkx", "pyyaml")


# ---------------------------------------------------------------------------------- one measurement


def _clock() -> float:
    return time.perf_counter()


def _timing(t0: float, t1: float, t2: float, work: int) -> dict:
    """Construction and run times of one model and its work rate (per second of run time)."""
    return {
        "construct_s": t1 - t0,
        "run_s": t2 - t1,
        "work": work,
        "rate": work / (t2 - t1),
        "rate_incl_construct": work / (t2 - t0),
    }


def run_boltzmann(seed: int, width: int, height: int) -> dict:
    """One Boltzmann run: construction and the 100 steps timed apart."""
    gc.collect()
    t0 = _clock()
    model = BoltzmannWealth(BoltzmannScenario(n=BOLTZMANN_AGENTS, width=width, height=height, rng=seed))
    t1 = _clock()
    for _ in range(BOLTZMANN_STEPS):
        model.step()
    t2 = _clock()
    agents = len(model.agents)
    return _timing(t0, t1, t2, agents * BOLTZMANN_STEPS)


def run_alliance(scenario, seed: int) -> dict:
    """One AllianceModel run on a loaded scenario: construction and `.run()` timed apart."""
    gc.collect()
    t0 = _clock()
    model = AllianceModel(scenario, rng=seed)
    t1 = _clock()
    model.run()
    t2 = _clock()
    out = model.outcomes()
    return {
        **_timing(t0, t1, t2, int(out["duration_weeks"].sum())),
        "steps": int(model.steps),
        "alliances": int(len(out)),
        "outcomes": {str(k): int(v) for k, v in out["outcome"].value_counts().items()},
    }


def summarise(runs: list[dict], pick: str) -> dict:
    """Collapse repeats: `pick` is "median" or "best" (the fastest run); both are recorded."""
    run_s = [r["run_s"] for r in runs]
    rates = [r["rate"] for r in runs]
    cons = [r["construct_s"] for r in runs]
    best = min(range(len(runs)), key=lambda i: run_s[i])
    summary = {
        "pick": pick,
        "repeats": len(runs),
        "run_s_median": statistics.median(run_s),
        "run_s_best": run_s[best],
        "run_s_spread": (max(run_s) - min(run_s)) / statistics.median(run_s),
        "construct_s_median": statistics.median(cons),
        "rate_median": statistics.median(rates),
        "rate_best": rates[best],
        "rate_incl_construct_median": statistics.median(r["rate_incl_construct"] for r in runs),
        "work": [r["work"] for r in runs],
        "runs": runs,
    }
    summary["run_s"] = summary["run_s_best"] if pick == "best" else summary["run_s_median"]
    summary["rate"] = summary["rate_best"] if pick == "best" else summary["rate_median"]
    return summary


# ------------------------------------------------------------------------------------- the stages


def measure_headline(rounds: int, seed: int, grid: tuple[int, int], log) -> dict:
    """Boltzmann, baseline and large, interleaved round by round (order rotated each round)."""
    scenarios = {"baseline": load_scenario(BASELINE), "large": load_scenario(LARGE)}
    jobs = {
        "boltzmann": lambda: run_boltzmann(seed, *grid),
        "baseline": lambda: run_alliance(scenarios["baseline"], seed),
        "large": lambda: run_alliance(scenarios["large"], seed),
    }
    names = list(jobs)
    log("warm-up (untimed): one run of each")
    for name in names:
        jobs[name]()
    runs: dict[str, list[dict]] = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            res = jobs[name]()
            runs[name].append(res)
            log(
                f"round {r + 1}/{rounds} {name:9s} run {res['run_s']:.3f}s "
                f"construct {res['construct_s']:.3f}s rate {res['rate']:,.0f}/s"
            )
    return {name: summarise(rs, "median") for name, rs in runs.items()}


def measure_scaling(sizes: list[int], repeats: int, seed: int, log) -> dict:
    """The baseline at several cohort sizes; firms.count = 1.5 x alliances; best of `repeats`."""
    scenarios = {
        n: load_scenario(BASELINE, {"formation.n_alliances": n, "firms.count": math.ceil(1.5 * n)})
        for n in sizes
    }
    run_alliance(scenarios[sizes[0]], seed)  # warm-up
    runs: dict[int, list[dict]] = {n: [] for n in sizes}
    for r in range(repeats):  # round by round, so load drift hits every size alike
        for n in sizes:
            res = run_alliance(scenarios[n], seed)
            runs[n].append(res)
            log(
                f"scaling rep {r + 1}/{repeats} n={n:5d} run {res['run_s']:.3f}s "
                f"construct {res['construct_s']:.3f}s rate {res['rate']:,.0f}/s"
            )
    points = {n: summarise(rs, "best") for n, rs in runs.items()}
    x = np.log(np.array(sizes, dtype=float))
    fit = {}
    for key in ("run_s", "construct_s_median"):
        y = np.log(np.array([points[n][key] for n in sizes]))
        fit[key] = float(np.polyfit(x, y, 1)[0]) if len(sizes) > 1 else float("nan")
    local = [
        float(math.log(points[b]["run_s"] / points[a]["run_s"]) / math.log(b / a))
        for a, b in zip(sizes, sizes[1:], strict=False)
    ]
    return {
        "sizes": sizes,
        "firms_per_alliance": 1.5,
        "points": {str(n): p for n, p in points.items()},
        "slope_run": fit["run_s"],
        "slope_construct": fit["construct_s_median"],
        "local_slopes_run": local,
    }


# ------------------------------------------------------------------------------------ reporting


def machine_info() -> dict:
    versions = {}
    for pkg in PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    info = {
        "when_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "executable": sys.executable,
        "packages": versions,
        "load_avg_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "git": _git_state(),
    }
    return info


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _git_state() -> dict | None:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "sim", "configs"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {"head": head, "sim_or_configs_modified": bool(dirty.strip())}


def per_round_ratios(head: dict, key: str) -> list[float]:
    """Model rate / Boltzmann rate within each round (runs seconds apart): a noise indicator."""
    return [m["rate"] / b["rate"] for m, b in zip(head[key]["runs"], head["boltzmann"]["runs"], strict=True)]


def verdicts(head: dict, scaling: dict) -> dict:
    boltz = head["boltzmann"]["rate"]
    base_ratio = head["baseline"]["rate"] / boltz
    large_ratio = head["large"]["rate"] / boltz
    slope = scaling["slope_run"]
    return {
        "baseline_ratio": {
            "value": base_ratio,
            "target": f">= {TARGET_BASELINE_RATIO:g}",
            "pass": base_ratio >= TARGET_BASELINE_RATIO,
            "per_round": per_round_ratios(head, "baseline"),
        },
        "large_ratio": {
            "value": large_ratio,
            "target": f">= {TARGET_LARGE_RATIO:g}",
            "pass": large_ratio >= TARGET_LARGE_RATIO,
            "per_round": per_round_ratios(head, "large"),
        },
        "scaling_slope": {
            "value": slope,
            "target": f"<= ~{TARGET_SLOPE:g} (pass <= {TARGET_SLOPE + SLOPE_TOLERANCE:g})",
            "pass": slope <= TARGET_SLOPE + SLOPE_TOLERANCE,
        },
    }


def print_report(info: dict, head: dict, scaling: dict, verdict: dict, grid, mode: str) -> None:
    p = print
    p()
    p(f"alliance-sim benchmark ({mode}) - {info['when_utc']}")
    pk = info["packages"]
    p(
        f"  {info['platform']} | {info['processor']} | {info['cpu_count']} CPUs | "
        f"Python {info['python']} | mesa {pk['mesa']} | numpy {pk['numpy']}"
    )
    if info.get("git"):
        g = info["git"]
        dirty = " (sim/ or configs/ modified)" if g["sim_or_configs_modified"] else ""
        p(f"  git {g['head'][:10]}{dirty}")
    p()
    rounds = head["boltzmann"]["repeats"]
    p(
        f"Headline runs: median of {rounds} interleaved rounds (best in brackets); "
        "rates use run time only, construction apart"
    )
    hdr = (
        f"  {'run':<44s} {'work/run':>12s} {'run s':>16s} {'construct s':>12s} "
        f"{'rate /s (run)':>22s} {'rate incl. constr.':>19s} {'spread':>7s}"
    )
    p(hdr)
    p("  " + "-" * (len(hdr) - 2))
    labels = {
        "boltzmann": (
            f"Boltzmann {BOLTZMANN_AGENTS} agents x {BOLTZMANN_STEPS} steps ({grid[0]}x{grid[1]})",
            "agent-steps",
        ),
        "baseline": ("baseline.yaml (alliance-weeks)", "alliance-weeks"),
        "large": ("large.yaml (alliance-weeks)", "alliance-weeks"),
    }
    for key in ("boltzmann", "baseline", "large"):
        s = head[key]
        label, _ = labels[key]
        work = statistics.median(s["work"])
        p(
            f"  {label:<44s} {work:>12,.0f} {s['run_s_median']:>7.3f} [{s['run_s_best']:.3f}]"
            f" {s['construct_s_median']:>12.3f} {s['rate_median']:>11,.0f} [{s['rate_best']:>9,.0f}]"
            f" {s['rate_incl_construct_median']:>19,.0f} {s['run_s_spread']:>6.0%}"
        )
    for key in ("baseline", "large"):
        r0 = head[key]["runs"][0]
        p(f"  {key}: {r0['alliances']} alliances, {r0['steps']} weeks stepped, outcomes {r0['outcomes']}")
    p()
    p(
        f"Scaling: baseline with firms.count = 1.5 x n_alliances; best of "
        f"{scaling['points'][str(scaling['sizes'][0])]['repeats']}"
    )
    hdr = (
        f"  {'n_alliances':>11s} {'firms':>6s} {'weeks':>6s} {'alliance-weeks':>15s} {'run s':>8s} "
        f"{'construct s':>12s} {'alliance-weeks/s':>17s} {'local slope':>12s}"
    )
    p(hdr)
    p("  " + "-" * (len(hdr) - 2))
    local = [None, *scaling["local_slopes_run"]]
    for i, n in enumerate(scaling["sizes"]):
        s = scaling["points"][str(n)]
        ls = "" if local[i] is None else f"{local[i]:.2f}"
        weeks = s["runs"][0]["steps"]
        p(
            f"  {n:>11d} {math.ceil(1.5 * n):>6d} {weeks:>6d} {min(s['work']):>15,d} {s['run_s']:>8.3f} "
            f"{s['construct_s_median']:>12.3f} {s['rate']:>17,.0f} {ls:>12s}"
        )
    p(
        f"  log-log slope, run time vs alliances: {scaling['slope_run']:.2f}"
        f"   (construction: {scaling['slope_construct']:.2f})"
    )
    p()
    p("Targets (ratios of rates measured in this run)")
    names = {
        "baseline_ratio": "baseline alliance-weeks/s / Boltzmann agent-steps/s",
        "large_ratio": "large alliance-weeks/s / Boltzmann agent-steps/s",
        "scaling_slope": "scaling slope (run time vs alliances)",
    }
    for key, v in verdict.items():
        spread = ""
        if "per_round" in v:
            spread = f"  per round {min(v['per_round']):.2f}..{max(v['per_round']):.2f}"
        p(
            f"  {'PASS' if v['pass'] else 'FAIL'}  {names[key]:<55s} {v['value']:>7.2f}  "
            f"(target {v['target']}){spread}"
        )
    p("  ratios = median model rate / median Boltzmann rate; slope from the best time per size")
    missed = [names[k] for k, v in verdict.items() if not v["pass"]]
    p()
    if missed:
        p(f"MISSED {len(missed)} of {len(verdict)} targets: " + "; ".join(missed))
    else:
        p("All targets met.")


# ----------------------------------------------------------------------------------------- main


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument(
        "--quick", action="store_true", help="fewer repeats and a smaller scaling ladder (smoke check)"
    )
    ap.add_argument("--json", metavar="PATH", help="also write every number and machine info here")
    ap.add_argument("--seed", type=int, default=1, help="seed for every run (default 1)")
    ap.add_argument(
        "--boltzmann-grid",
        metavar="WxH",
        default="10x10",
        help="grid of the yardstick (default 10x10, Mesa's default)",
    )
    ap.add_argument("--quiet", action="store_true", help="no per-run progress lines")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = QUICK if args.quick else FULL
    mode = "quick" if args.quick else "full"
    w, h = (int(v) for v in args.boltzmann_grid.lower().split("x"))

    def log(msg: str) -> None:
        if not args.quiet:
            print(f"  .. {msg}", file=sys.stderr, flush=True)

    info = machine_info()
    t0 = _clock()
    head = measure_headline(cfg["rounds"], args.seed, (w, h), log)
    scaling = measure_scaling(cfg["scaling"], cfg["scaling_repeats"], args.seed, log)
    info["wall_s"] = _clock() - t0
    info["load_avg_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    verdict = verdicts(head, scaling)
    print_report(info, head, scaling, verdict, (w, h), mode)

    if args.json:
        record = {
            "mode": mode,
            "seed": args.seed,
            "settings": {
                **cfg,
                "boltzmann": {"agents": BOLTZMANN_AGENTS, "steps": BOLTZMANN_STEPS, "width": w, "height": h},
            },
            "definitions": {
                "boltzmann_rate": "agents x steps / seconds of the step() calls (construction apart)",
                "alliance_rate": "sum of outcomes().duration_weeks / seconds of .run() (construction apart)",
                "headline_pick": "median over interleaved rounds",
                "scaling_pick": "best (fastest) of repeats",
            },
            "machine": info,
            "headline": head,
            "scaling": scaling,
            "targets": verdict,
        }
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=2, default=_json_default) + "\n")
        print(f"\nwrote {path}")
    return 0


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, tuple):
        return list(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


if __name__ == "__main__":
    sys.exit(main())
