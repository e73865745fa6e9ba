"""Tests of the compiled side of the model: sim/compiled.py and the pieces kernels share.

* `constants` turns a scenario section into the one-row record array kernels read: every numeric
  field, typed as the schema types it, nothing else.
* `cache_dir` keys compiled code by the model's source, so changing any module recompiles.
* The random draws kernels make one at a time (`uniform_at`, `pair_uniform_at`) are the numbers
  the array methods of `Streams` give, and both equal an independent pure-Python SplitMix64.
* Kernels append events through `record` into `EventLog.buffers`; they come out in order, survive
  the buffers growing, and vanish when the log is disabled.
* `AllianceTable.copy_rows` (what `compact` and the archive use) moves every column.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import compiled, load_scenario
from sim.compiled import constants, kernel
from sim.events import EVENT_CODE, EventLog, record
from sim.mechanisms import meetings
from sim.randomness import STREAMS, Streams, pair_uniform_at, uniform_at
from sim.state import COLUMN_NAMES, AllianceTable

MASK = (1 << 64) - 1


def _mix(x: int) -> int:
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & MASK
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def reference_uniform(key: int, entity: int, week: int, draw: int) -> float:
    """The documented generator in plain Python integers (sim/randomness.py module docstring)."""
    counter = ((((week + 1) << 12) | draw) * 0xD6E8FEB86659FD93) & MASK
    x = _mix(((entity & MASK) * 0x9E3779B97F4A7C15 & MASK) ^ counter)
    x = _mix(x ^ key)
    return (x >> 11) / float(1 << 53)


def reference_pair_uniform(key: int, first: int, second: int) -> float:
    x = _mix(((first & MASK) * 0x9E3779B97F4A7C15 & MASK) ^ ((second & MASK) * 0xD6E8FEB86659FD93 & MASK))
    return (_mix(x ^ key) >> 11) / float(1 << 53)


# =========================================================================== constants


def test_constants_hold_every_numeric_field_typed_as_the_schema_says():
    scenario = load_scenario("configs/baseline.yaml")
    gov = constants(scenario.governance)
    assert gov.shape == (1,)
    row = gov[0]
    assert row["meeting_interval_weeks"] == 4 and gov.dtype["meeting_interval_weeks"] == np.int64
    assert gov.dtype["steering_committee"] == np.bool_ and not row["steering_committee"]
    assert gov.dtype["role_clarity"] == np.float64 and row["role_clarity"] == 0.5
    assert "meeting_mode" not in gov.dtype.names  # strings are the kernels' callers' business
    c = scenario.coefficients.friction
    frozen = constants(c)
    assert frozen.dtype.names == tuple(
        name for name, value in c.model_dump().items() if isinstance(value, (int, float))
    )
    assert all(frozen[0][name] == getattr(c, name) for name in frozen.dtype.names)


def test_constants_of_one_section_class_share_one_dtype():
    a = constants(load_scenario("configs/baseline.yaml").governance)
    b = constants(load_scenario("configs/designs/best_practice.yaml").governance)
    assert a.dtype == b.dtype
    assert a.tobytes() != b.tobytes()


@kernel
def _read_constants(c):
    c = c[0]
    return c.meeting_interval_weeks * c.role_clarity + c.steering_committee


def test_kernels_read_constants_by_name_as_python_reads_the_section():
    gov = load_scenario("configs/designs/best_practice.yaml").governance
    expected = gov.meeting_interval_weeks * gov.role_clarity + gov.steering_committee
    assert _read_constants(c=constants(gov)) == expected


def test_a_fresh_process_finds_the_compiled_kernels_on_disk(tmp_path):
    """The cache is keyed by types that are the same in every process, so nothing recompiles."""
    script = (
        "from sim import AllianceModel\n"
        "from sim.mechanisms import friction\n"
        "AllianceModel(rng=1, formation__n_alliances=20, firms__count=40,\n"
        "              simulation__horizon_weeks=60).run()\n"
        "stats = friction._weekly.stats\n"
        "print(sum(stats.cache_hits.values()), sum(stats.cache_misses.values()))\n"
    )
    env = {**os.environ, "ALLIANCE_SIM_CACHE": str(tmp_path)}
    env.pop("NUMBA_CACHE_DIR", None)
    run = [sys.executable, "-c", script]
    first = subprocess.run(run, env=env, capture_output=True, text=True, check=True).stdout.split()
    second = subprocess.run(run, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert first == ["0", "1"]  # compiled and saved
    assert second == ["1", "0"]  # loaded, not compiled


# =========================================================================== cache folder


def test_cache_dir_follows_the_source(tmp_path, monkeypatch):
    monkeypatch.setenv("ALLIANCE_SIM_CACHE", str(tmp_path))
    first = compiled.cache_dir()
    assert first.parent == tmp_path and first.name.startswith("kernels-")
    assert compiled.cache_dir() == first  # stable while nothing changes
    module = tmp_path / "fake_module.py"
    monkeypatch.setattr(compiled, "__file__", str(tmp_path / "compiled.py"))
    module.write_text("x = 1\n")
    before = compiled.cache_dir()
    module.write_text("x = 2\n")
    assert compiled.cache_dir() != before


# =========================================================================== random draws


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**63 - 1),
    entity=st.integers(-(2**63), 2**63 - 1),
    week=st.integers(-1, 2**20 - 2),
    draw=st.integers(0, 4095),
)
def test_uniform_at_is_the_documented_generator_and_the_array_method(seed, entity, week, draw):
    streams = Streams(seed)
    key = streams.key("shocks")
    expected = reference_uniform(int(key), entity, week, draw)
    assert uniform_at(key=key, entity=entity, week=week, draw=draw) == expected
    assert streams.uniform("shocks", np.array([entity]), week, draw)[0] == expected
    assert streams.uniform_block("shocks", np.array([entity]), week, (draw,))[0, 0] == expected


@settings(max_examples=100, deadline=None)
@given(
    seed=st.integers(0, 2**63 - 1),
    first=st.integers(-(2**63), 2**63 - 1),
    second=st.integers(-(2**63), 2**63 - 1),
)
def test_pair_uniform_at_is_the_documented_generator_and_the_array_method(seed, first, second):
    streams = Streams(seed)
    key = streams.key("pairs")
    expected = reference_pair_uniform(int(key), first, second)
    assert pair_uniform_at(key=key, first=first, second=second) == expected
    assert streams.pair_uniform("pairs", np.array([first]), np.array([second]))[0] == expected


def test_stream_keys_differ_and_depend_on_the_seed():
    a, b = Streams(1), Streams(2)
    keys = [int(a.key(s)) for s in STREAMS]
    assert len(set(keys)) == len(keys)
    assert all(int(a.key(s)) != int(b.key(s)) for s in STREAMS)


# =========================================================================== events from kernels


@kernel
def _write_events(buffers, at, n, code):
    for i in range(n):
        at = record(buffers, at, 7, i, code, i % 3 - 1, 0.5 * i)
    return at


def test_kernel_events_come_out_in_order_and_survive_growth():
    log = EventLog(capacity=4)
    log.log(6, [5, 9], "shock", value=[0.1, 0.2])
    code = EVENT_CODE["issue_erupted"]
    log.commit(_write_events(buffers=log.buffers(10), at=log.count, n=10, code=code))
    assert len(log) == 12
    log.commit(_write_events(buffers=log.buffers(3), at=log.count, n=3, code=code))
    frame = log.to_frame()
    assert len(frame) == 15
    assert frame["week"].tolist() == [6, 6] + [7] * 13
    week7 = frame[frame["week"] == 7]
    assert (week7["event"] == "issue_erupted").all()
    # stable sort by alliance id keeps the order written: ids 0, 0 (first call, second call), ...
    assert week7["alliance_id"].tolist() == sorted([*range(10), *range(3)])
    assert frame.loc[frame["alliance_id"] == 9, "value"].tolist() == [0.2, 4.5]


def test_disabled_log_drops_kernel_events():
    log = EventLog(enabled=False)
    log.commit(_write_events(buffers=log.buffers(5), at=log.count, n=5, code=EVENT_CODE["shock"]))
    log.log(1, [1], "shock")
    assert len(log) == 0 and log.to_frame().empty


# =========================================================================== moving rows


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_copy_rows_moves_every_column(data):
    slots = data.draw(st.integers(2, 4))
    n = data.draw(st.integers(1, 12))
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    table = AllianceTable(slots, capacity=4)
    table.add(n)
    for name in COLUMN_NAMES:
        arr = getattr(table, name)
        arr[...] = rng.integers(0, 100, arr.shape).astype(arr.dtype)
    source = table.archive
    source._reserve(n)
    source.copy_rows(table, np.arange(n), np.arange(n))
    moves = data.draw(st.permutations(range(n)))
    target = AllianceTable(slots, capacity=1)
    target.add(n)
    target.copy_rows(source, np.arange(n), np.asarray(moves, dtype=np.int64))
    for name in COLUMN_NAMES:
        np.testing.assert_array_equal(getattr(target, name)[np.asarray(moves)], getattr(table, name)[:n])


@pytest.mark.parametrize("mode", ["cohort", "ongoing"])
def test_compaction_keeps_every_alliance_once(mode, run_small):
    model = run_small(3, formation__mode=mode)
    al = model.world.alliances
    ids = np.concatenate([al.alliance_id[: al.n], al.archive.alliance_id[: al.archive.n]])
    assert sorted(ids.tolist()) == list(range(al.formed))
    assert al.active[: al.n].all() and not al.archive.active[: al.archive.n].any()


def test_a_kernel_that_writes_more_events_than_it_reserved_is_caught():
    log = EventLog(capacity=64)
    with pytest.raises(RuntimeError, match="room"):
        log.commit(_write_events(buffers=log.buffers(3), at=log.count, n=5, code=EVENT_CODE["shock"]))
    assert len(log) == 0


def test_cache_dir_nests_the_digest_in_a_numba_cache_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("ALLIANCE_SIM_CACHE", raising=False)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    folder = compiled.cache_dir()
    assert folder.parent == tmp_path and folder.name.startswith("kernels-")


@pytest.mark.parametrize(
    ("cond", "expected"), [(True, 1.5), (False, -2.0), (np.array([True, False]), np.array([1.5, -2.0]))]
)
def test_pick_is_np_where_with_scalars_kept_scalar(cond, expected):
    out = compiled.pick(cond, 1.5, -2.0)
    np.testing.assert_array_equal(out, expected)
    assert np.ndim(out) == np.ndim(expected)


@kernel
def _pick_in_kernel(flag):
    return compiled.pick(flag, 1.5, -2.0)


def test_pick_in_kernels():
    assert _pick_in_kernel(flag=True) == 1.5 and _pick_in_kernel(flag=False) == -2.0


def test_meeting_flags_must_cover_the_running_rows(run_small):
    model = run_small(2, simulation__horizon_weeks=30)
    world = copy.deepcopy(model.world)
    world.meeting_today = np.zeros(0, dtype=bool)
    world.meeting_surface = np.zeros(0)
    assert world.n > 0
    with pytest.raises(RuntimeError, match="begin_week"):
        meetings.apply(world)
    world.begin_week()
    assert world.meeting_flags()[0].shape[0] >= world.n
