"""A results folder under stress: damaged run files, a second writer, full and read-only disks, odd
paths, symbolic links out of the folder, and workers whose parent is killed."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

import experiments.engine.store as store_module
from experiments import load_outcomes, load_runs, load_timeseries, run_sweep
from experiments.cli import main
from experiments.engine.integrity import QUARANTINE
from experiments.engine.locking import LOCK_FILE, FolderLock
from experiments.engine.provenance import atomic_write
from experiments.studies.sweep import summarize

ROOT = Path(__file__).resolve().parents[1]
TINY = {"formation": {"n_alliances": 12}, "firms": {"count": 20}, "simulation": {"horizon_weeks": 156}}


def write_spec(folder: Path, **changes) -> Path:
    """A small grid experiment: 4 points x 3 replications, outcomes and time series kept."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.yaml").write_text(yaml.safe_dump({"name": "tiny", **TINY}))
    data = {
        "name": "tiny_sweep",
        "scenario": "tiny.yaml",
        "factors": {
            "governance.meeting_interval_weeks": {"levels": [2, 8]},
            "governance.meeting_mode": {"levels": ["in_person", "virtual"]},
        },
        "replications": 3,
        "seed": 11,
        "keep": {"outcomes": True, "timeseries_every_weeks": 13, "events": False},
        **changes,
    }
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def tables(folder: Path) -> dict[str, pd.DataFrame]:
    return {
        "runs": load_runs(folder).drop(columns=["seconds"]),
        "outcomes": load_outcomes(folder),
        "timeseries": load_timeseries(folder),
    }


def assert_same_tables(folder: Path, reference: Path) -> None:
    ours, theirs = tables(folder), tables(reference)
    for name in ours:
        pd.testing.assert_frame_equal(ours[name], theirs[name], obj=name)
    for sub in ("runs", "outcomes", "timeseries"):
        names = sorted(p.name for p in (folder / sub).glob("*.parquet"))
        assert names == sorted(p.name for p in (reference / sub).glob("*.parquet"))
        if sub != "runs":  # a run row holds its seconds
            for name in names:
                assert (folder / sub / name).read_bytes() == (reference / sub / name).read_bytes()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The tiny experiment run once, uninterrupted: what every damaged-and-resumed folder must equal."""
    folder = tmp_path_factory.mktemp("reference")
    spec = write_spec(folder)
    run_sweep(spec, folder / "out", workers=1, progress=False)
    return spec, folder / "out"


def copy_of(reference_out: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(reference_out, out)
    return out


# --------------------------------------------------------------------------- damaged run files


@pytest.mark.parametrize(
    "table, damage",
    [
        ("runs", "truncate"),
        ("runs", "garbage"),
        ("runs", "other run"),
        ("outcomes", "truncate"),
        ("timeseries", "garbage"),
        ("outcomes", "other run"),
    ],
)
def test_a_damaged_run_file_is_quarantined_and_its_run_redone(reference, tmp_path, table, damage, capsys):
    spec, ref_out = reference
    out = copy_of(ref_out, tmp_path)
    victim = out / table / "p000001-r00002.parquet"
    if damage == "truncate":
        victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    elif damage == "garbage":
        victim.write_bytes(b"not parquet at all" * 10)
    else:
        victim.write_bytes((out / table / "p000002-r00000.parquet").read_bytes())
    # before the sweep: summarize reports the file and does not crash
    assert main(["summarize", str(out), "--no-figures"]) == 0
    err = capsys.readouterr().err
    if table == "runs" or (table == "outcomes" and damage != "other run"):  # the tables summarize reads
        assert "p000001-r00002.parquet" in err and "could not be read" in err
    # the sweep moves it aside with a note and redoes the run
    runs = run_sweep(spec, out, workers=1, progress=False)
    assert len(runs) == 12 and (runs["status"] == "ok").all()
    moved = out / QUARANTINE / table / "p000001-r00002.parquet"
    assert moved.exists() and (out / QUARANTINE / "notes.txt").read_text().count("p000001-r00002") >= 1
    if table != "runs":
        assert (out / QUARANTINE / "runs" / "p000001-r00002.parquet").exists()  # its row went with it
    assert "quarantine" in capsys.readouterr().err
    assert_same_tables(out, ref_out)


def test_a_truncated_outcomes_file_is_found_on_resume_and_by_summarize(reference, tmp_path, capsys):
    spec, ref_out = reference
    out = copy_of(ref_out, tmp_path)
    victim = out / "outcomes" / "p000003-r00001.parquet"
    victim.write_bytes(victim.read_bytes()[:-10])
    summary = summarize(out, figures=False)
    assert any("p000003-r00001" in item for item in summary.attrs["unreadable"])
    assert main(["sweep", str(spec), "--out", str(out), "--quiet"]) == 0
    assert (out / QUARANTINE / "outcomes" / "p000003-r00001.parquet").exists()
    assert_same_tables(out, ref_out)


def test_summarize_survives_a_folder_where_every_row_is_damaged(reference, tmp_path, capsys):
    _, ref_out = reference
    out = copy_of(ref_out, tmp_path)
    for path in (out / "runs").glob("*.parquet"):
        path.write_bytes(b"x")
    assert main(["summarize", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "could not be read" in err


# --------------------------------------------------------------------------- the lock

HOLD = """
import sys, time
from experiments.engine.locking import FolderLock
FolderLock(sys.argv[1], ["holder"]).acquire()
print("locked", flush=True)
time.sleep(120)
"""


def hold_lock(folder: Path) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_second_writer_is_refused_naming_the_process_and_a_killed_holder_leaves_no_lock(
    reference, tmp_path, capsys
):
    spec, ref_out = reference
    out = copy_of(ref_out, tmp_path)
    holder = hold_lock(out)
    try:
        before = {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()}
        manifest = (out / "manifest.json").read_text()
        assert main(["sweep", str(spec), "--out", str(out), "--quiet", "--replications", "4"]) == 2
        err = capsys.readouterr().err
        assert f"process {holder.pid}" in err and "being written" in err and err.count("\n") == 1
        assert (out / "manifest.json").read_text() == manifest  # nothing touched
        assert {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()} == before
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert (out / LOCK_FILE).exists()  # a killed holder leaves the file, but no lock on it
    assert main(["sweep", str(spec), "--out", str(out), "--quiet"]) == 0
    assert not (out / LOCK_FILE).exists()


def test_two_sweeps_into_one_folder_one_is_refused(tmp_path, capsys):
    spec = write_spec(tmp_path, replications=6)
    out = tmp_path / "out"
    first = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "experiments.cli",
            "sweep",
            str(spec),
            "--out",
            str(out),
            "--workers",
            "1",
            "--quiet",
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (out / LOCK_FILE).exists() or not list((out / "runs").glob("*.parquet")):
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.1)
        assert main(["sweep", str(spec), "--out", str(out), "--quiet"]) == 2
        assert f"process {first.pid}" in capsys.readouterr().err
    finally:
        first.wait(timeout=300)
    assert first.returncode == 0, first.stderr.read()


def test_the_lock_is_taken_and_released_in_process(tmp_path):
    with FolderLock(tmp_path, ["a"]):
        with pytest.raises(Exception, match=f"process {os.getpid()}"):
            FolderLock(tmp_path, ["b"]).acquire()
    with FolderLock(tmp_path, ["c"]):
        pass
    assert not (tmp_path / LOCK_FILE).exists()


# --------------------------------------------------------------------------- filesystem errors


def test_a_full_disk_mid_sweep_exits_2_and_a_resume_is_identical(reference, tmp_path, monkeypatch, capsys):
    spec, ref_out = reference
    out = tmp_path / "out"
    real = store_module._write_bytes
    calls = {"n": 0}

    def fill_up(path, data):
        calls["n"] += 1
        if calls["n"] > 14:  # some runs are written, then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(path, data)

    monkeypatch.setattr(store_module, "_write_bytes", fill_up)
    assert main(["sweep", str(spec), "--out", str(out), "--quiet", "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err and str(out) in err
    assert "run the same command again" in err
    assert len(list((out / "runs").glob("*.parquet"))) == 4  # 3 files per run: 4 runs complete
    assert not list(out.rglob(".*.tmp"))
    monkeypatch.setattr(store_module, "_write_bytes", real)
    assert main(["sweep", str(spec), "--out", str(out), "--quiet", "--workers", "1"]) == 0
    assert_same_tables(out, ref_out)


def test_atomic_write_names_the_target_and_its_cleanup_does_not_raise_again(tmp_path, monkeypatch):
    target = tmp_path / "file.bin"

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(os, "replace", read_only)
    monkeypatch.setattr(Path, "unlink", read_only)
    with pytest.raises(OSError) as info:
        with atomic_write(target) as handle:
            handle.write(b"data")
    assert info.value.errno == errno.EROFS and info.value.filename == str(target)
    assert not target.exists()


def test_summarize_on_a_read_only_folder_exits_2_with_one_line(reference, tmp_path, monkeypatch, capsys):
    _, ref_out = reference
    out = copy_of(ref_out, tmp_path)
    import experiments.engine.outputs as outputs

    def read_only(path, text):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    monkeypatch.setattr(outputs, "write_text_atomic", read_only)
    assert main(["summarize", str(out), "--no-figures"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Read-only file system" in err and "summary.csv" in err


def test_the_manifest_is_written_before_anything_it_describes(tmp_path, monkeypatch):
    import experiments.engine.provenance as provenance

    spec = write_spec(tmp_path, replications=1)
    written: list[str] = []
    real = provenance.atomic_write

    def recording(path):
        written.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(store_module, "atomic_write", recording)
    monkeypatch.setattr(provenance, "atomic_write", recording)
    import experiments.engine.outputs as outputs

    monkeypatch.setattr(outputs, "atomic_write", recording)
    run_sweep(spec, tmp_path / "out", workers=1, progress=False)
    assert written[0] == "manifest.json"
    assert written.index("manifest.json") < written.index("spec.yaml") < written.index("points.parquet")


@pytest.mark.parametrize("kind", ["long name", "not utf-8", "dangling link"])
def test_odd_output_paths_exit_2_with_one_message(reference, tmp_path, kind, capsys):
    spec, _ = reference
    if kind == "long name":
        out = tmp_path / ("x" * 256)
    elif kind == "not utf-8":
        out = Path(os.fsdecode(os.fsencode(str(tmp_path)) + b"/bad\xff"))
    else:
        out = tmp_path / "link"
        out.symlink_to(tmp_path / "nowhere")
    for command in (["sweep", str(spec)], ["run", str(spec.parent / "tiny.yaml")]):
        assert main([*command, "--out", str(out), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--out" in err, err
    assert not (tmp_path / "nowhere").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "link") == []


# --------------------------------------------------------------------------- symbolic links


def test_a_symlinked_subfolder_is_refused_and_nothing_is_written_outside(reference, tmp_path, capsys):
    spec, ref_out = reference
    out = copy_of(ref_out, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "runs").rename(tmp_path / "moved_runs")
    (out / "runs").symlink_to(elsewhere)
    assert main(["sweep", str(spec), "--out", str(out), "--quiet"]) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert main(["summarize", str(out)]) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert list(elsewhere.iterdir()) == []


def test_a_symlinked_run_file_is_quarantined_not_followed(reference, tmp_path):
    spec, ref_out = reference
    out = copy_of(ref_out, tmp_path)
    outside = tmp_path / "outside.parquet"
    victim = out / "outcomes" / "p000000-r00000.parquet"
    victim.rename(outside)
    victim.symlink_to(outside)
    run_sweep(spec, out, workers=1, progress=False)
    assert (out / QUARANTINE / "outcomes" / "p000000-r00000.parquet").is_symlink()
    assert outside.exists()
    assert_same_tables(out, ref_out)


# --------------------------------------------------------------------------- orphans


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to find the workers")
def test_workers_exit_within_seconds_when_their_parent_is_killed(tmp_path):
    spec = write_spec(tmp_path, replications=50)
    parent = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "experiments.cli",
            "sweep",
            str(spec),
            "--out",
            str(tmp_path / "out"),
            "--workers",
            "2",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while len(list((tmp_path / "out" / "runs").glob("*.parquet"))) < 2:
            assert time.monotonic() < deadline and parent.poll() is None
            time.sleep(0.1)
        workers = children_of(parent.pid)
        assert len(workers) >= 2  # the pool's workers (and the resource tracker)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [pid for pid in workers if alive(pid)] == []


# --------------------------------------------------------------------------- a real full disk


def mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True
    )
    return done.returncode == 0


def test_a_full_tmpfs_mid_sweep_exits_2_and_a_resume_after_freeing_space_is_identical(reference, tmp_path):
    spec, ref_out = reference
    disk = tmp_path / "disk"
    if not mount_tmpfs(disk, "2m"):
        pytest.skip("cannot mount a tmpfs here (needs root); the same property is tested with ENOSPC above")
    try:
        filler = disk / "filler"
        with open(filler, "wb") as handle:  # leave room for the folder's first files and a few runs
            handle.write(b"\0" * (2 * 2**20 - 120 * 1024))
        out = disk / "out"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "experiments.cli",
                "sweep",
                str(spec),
                "--out",
                str(out),
                "--workers",
                "1",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 2, done.stderr
        assert "No space left on device" in done.stderr and "Traceback" not in done.stderr
        saved = len(list((out / "runs").glob("*.parquet")))
        assert 0 < saved < 12
        filler.unlink()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "experiments.cli",
                "sweep",
                str(spec),
                "--out",
                str(out),
                "--workers",
                "1",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
        assert_same_tables(out, ref_out)
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)
