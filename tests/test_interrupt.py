"""Interrupting `cchc build-data` and `cchc report` never leaves a half-written output.

A real subprocess is stopped part-way with SIGTERM or SIGINT (sent to its process group, as a
terminal or a job runner does). Afterwards every output file is either absent, the old
version, or a complete new version (byte-equal to a clean build; parquet, CSV, HTML, notebook
readable), and nothing partial exists except under hidden temporary names (``.tmp-*`` from
atomic.py, ``.running-*`` for papermill's notebook in progress). The next run completes.

The build is slowed by the test hook CCHC_TEST_SLOW_WRITE (atomic._test_pause: each finished
temporary file waits that many seconds before its rename), so the signal lands mid-write.
"""
from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from cchc_analysis import paths
from cchc_analysis.data import STAMP, TABLES

pytestmark = pytest.mark.slow

PARTIAL_PREFIXES = (".tmp-", ".running-")


def cchc(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("cchc")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "cchc_analysis.cli", *args]


def start(args: list[str], **env) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=paths.ROOT, env={**os.environ, **env}, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def interrupt(proc: subprocess.Popen, sig: int) -> int:
    """Send `sig` to the process group, wait for the whole tree (kernels too) to end."""
    tree = [proc.pid] + [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
    os.killpg(proc.pid, sig)
    rc = proc.wait(timeout=60)
    procs = []
    for pid in tree[1:]:
        try:
            procs.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(procs, timeout=15)
    for p in alive:                       # our own children that ignored the signal
        p.kill()
    psutil.wait_procs(alive, timeout=5)
    return rc


def wait_for(condition, proc: subprocess.Popen, timeout: float = 120) -> None:
    t0 = time.monotonic()
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"finished before it could be interrupted:\n{proc.stdout.read().decode()[-2000:]}")
        if time.monotonic() - t0 > timeout:
            proc.kill()
            pytest.fail("timed out waiting for the run to reach the point of interruption")
        time.sleep(0.02)


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def is_partial_name(rel: str) -> bool:
    return Path(rel).name.startswith(PARTIAL_PREFIXES)


def assert_complete(rel: str, data: bytes) -> None:
    """A finished file of its kind."""
    suffix = Path(rel).suffix
    if suffix == ".parquet":
        pd.read_parquet(io.BytesIO(data))
    elif suffix == ".csv":
        pd.read_csv(io.BytesIO(data))
        assert data.endswith(b"\n"), rel
    elif suffix == ".html":
        assert data.rstrip().endswith(b"</html>"), rel
    elif suffix in (".json", ".ipynb"):
        json.loads(data)
    elif suffix == ".md":
        assert data.endswith(b"\n"), rel


# ------------------------------------------------------------------------------ build-data

def old_version(new: dict[str, bytes]) -> dict[str, bytes]:
    """A complete, valid, different 'previous build': every table minus its last row."""
    old = {}
    for name in TABLES:
        df = pd.read_parquet(io.BytesIO(new[f"{name}.parquet"])).iloc[:-1]
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        old[f"{name}.parquet"] = buf.getvalue()
        old[f"{name}.csv"] = df.to_csv(index=False, lineterminator="\n").encode()
    old["README.md"] = b"# processed data (previous build)\n"
    old[STAMP] = json.dumps({"inputs": "previous", "rows": {}}).encode()
    return old


def check_build_dir(out: Path, old: dict[str, bytes], new: dict[str, bytes]) -> tuple[int, int]:
    """Every file old or new (and readable); partial content only under .tmp-* names."""
    n_new = n_old = 0
    for rel, data in files(out).items():
        if is_partial_name(rel):
            assert Path(rel).name.startswith(".tmp-"), rel
            continue
        assert rel in new, f"unexpected file {rel}"
        assert data in (old[rel], new[rel]), f"{rel} is neither the old nor the new version"
        assert_complete(rel, data)
        n_new += data == new[rel]
        n_old += data == old[rel]
    assert set(files(out)) >= set(new), "a file of the previous build disappeared"
    return n_new, n_old


def test_interrupted_build_leaves_old_or_new_files(tmp_path, built):
    new = {k: v for k, v in files(paths.PROCESSED).items() if not is_partial_name(k)}
    assert set(new) == {f"{t}.{e}" for t in TABLES for e in ("parquet", "csv")} | {"README.md", STAMP}
    old = old_version(new)
    out = tmp_path / "processed"
    out.mkdir()
    for rel, data in old.items():
        (out / rel).write_bytes(data)

    written = lambda k: lambda: sum((out / r).read_bytes() == new[r] for r in new if (out / r).exists()) >= k  # noqa: E731
    # 1. SIGTERM (no Python clean-up runs) while the 4th file waits in its temporary file
    proc = start(cchc("build-data", "--force", "--out", str(out)), CCHC_TEST_SLOW_WRITE="0.4")
    wait_for(lambda: written(3)() and any(p.name.startswith(".tmp-") for p in out.iterdir()), proc)
    assert interrupt(proc, signal.SIGTERM) != 0
    n_new, n_old = check_build_dir(out, old, new)
    assert n_new >= 3 and n_old >= 1
    assert json.loads((out / STAMP).read_bytes())["inputs"] == "previous"    # the stamp is written last

    # 2. SIGINT (KeyboardInterrupt: temporary files are removed) a few files later
    proc = start(cchc("build-data", "--out", str(out)), CCHC_TEST_SLOW_WRITE="0.4")
    wait_for(written(n_new + 2), proc)
    assert interrupt(proc, signal.SIGINT) != 0
    n_new2, n_old2 = check_build_dir(out, old, new)
    assert n_new2 > n_new and n_old2 >= 1

    # 3. the next run (not forced: the old stamp tells it to rebuild) completes
    done = subprocess.run(cchc("build-data", "--out", str(out)), cwd=paths.ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    visible = {k: v for k, v in files(out).items() if not is_partial_name(k)}
    assert visible == new
    leftovers = [k for k in files(out) if is_partial_name(k)]
    assert len(leftovers) <= 1                      # at most the one SIGTERM left, hidden and never read


# ------------------------------------------------------------------------------ report

def check_report_dir(out: Path) -> dict[str, bytes]:
    complete = {}
    for rel, data in files(out).items():
        if is_partial_name(rel):
            continue
        assert_complete(rel, data)
        complete[rel] = data
    return complete


def test_interrupted_report_leaves_complete_files(tmp_path, built):
    out = tmp_path / "reports"
    args = cchc("report", "--years", "2019", "--notebooks", "ranking_trends", "--out", str(out), "--jobs", "1")
    tables = out / "2019" / "ranking_trends"
    proc = start(args)
    wait_for(lambda: tables.is_dir() and len(list(tables.glob("*.csv"))) >= 3, proc)
    assert interrupt(proc, signal.SIGTERM) != 0
    before = check_report_dir(out)
    assert any(k.endswith(".csv") for k in before)
    assert not (out / "index.html").exists() and not (out / "2019" / "ranking_trends.html").exists()
    assert not (out / "_executed" / "ranking_trends_2019.json").exists()   # no stamp: the next run re-runs

    done = subprocess.run(args, cwd=paths.ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    after = check_report_dir(out)
    assert {"index.html", "2019/ranking_trends.html", "_executed/ranking_trends_2019.json"} <= set(after)
    for rel, data in before.items():                 # what the interrupted run finished is the new version
        if rel.endswith(".csv"):
            assert after[rel] == data, rel
