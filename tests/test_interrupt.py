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


def check_build_dir(out: Path, old: dict[str, bytes]) -> dict[str, bytes]:
    """Every file is the old version or a complete other one (kept, to compare with the final
    build); partial content exists only under .tmp-* names. Returns the files that changed."""
    changed = {}
    present = files(out)
    for rel, data in present.items():
        if is_partial_name(rel):
            assert Path(rel).name.startswith(".tmp-"), rel
            continue
        assert rel in old, f"unexpected file {rel}"
        assert_complete(rel, data)
        if data != old[rel]:
            changed[rel] = data
    assert set(present) >= set(old), "a file of the previous build disappeared"
    return changed


def test_interrupted_build_leaves_old_or_new_files(tmp_path, built):
    previous = {k: v for k, v in files(paths.PROCESSED).items() if not is_partial_name(k)}
    assert set(previous) == {f"{t}.{e}" for t in TABLES for e in ("parquet", "csv")} | {"README.md", STAMP}
    old = old_version(previous)
    out = tmp_path / "processed"
    out.mkdir()
    for rel, data in old.items():
        (out / rel).write_bytes(data)

    def written(k: int):
        return lambda: sum((out / r).read_bytes() != old[r] for r in old if (out / r).exists()) >= k

    # 1. SIGTERM (no Python clean-up runs) while a file waits in its temporary file
    proc = start(cchc("build-data", "--force", "--out", str(out)), CCHC_TEST_SLOW_WRITE="0.25")
    wait_for(lambda: written(3)() and any(p.name.startswith(".tmp-") for p in out.iterdir()), proc)
    assert interrupt(proc, signal.SIGTERM) != 0
    first = check_build_dir(out, old)
    assert 3 <= len(first) < len(old) and STAMP not in first            # the stamp is written last

    # 2. SIGINT (KeyboardInterrupt: the temporary file is removed) a few files later
    proc = start(cchc("build-data", "--out", str(out)), CCHC_TEST_SLOW_WRITE="0.25")
    wait_for(written(len(first) + 2), proc)
    assert interrupt(proc, signal.SIGINT) != 0
    second = check_build_dir(out, old)
    assert len(first) < len(second) < len(old) and STAMP not in second

    # 3. the next run (not forced: the old stamp makes it rebuild) completes
    done = subprocess.run(cchc("build-data", "--out", str(out)), cwd=paths.ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    final = {k: v for k, v in files(out).items() if not is_partial_name(k)}
    assert set(final) == set(old) and all(final[k] != old[k] for k in old)
    for seen in (first, second):                   # what the interrupted runs had written is the new version
        assert all(final[k] == v for k, v in seen.items())
    if final[STAMP] == previous[STAMP]:            # same code and raw data as data/processed: same bytes
        assert final == previous
    leftovers = [k for k in files(out) if is_partial_name(k)]
    assert leftovers == []                         # the next run removed what the killed ones left


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
    wait_for(lambda: tables.is_dir() and any(tables.glob("*.csv")), proc)
    assert interrupt(proc, signal.SIGINT) != 0
    before = check_report_dir(out)
    assert any(k.endswith(".csv") for k in before)
    assert not (out / "index.html").exists() and not (out / "2019" / "ranking_trends.html").exists()
    assert not (out / "_executed" / "ranking_trends_2019.json").exists()   # no stamp: the next run re-runs

    done = subprocess.run(args, cwd=paths.ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    after = check_report_dir(out)
    assert {"index.html", "2019/ranking_trends.html", "_executed/ranking_trends_2019.json"} <= set(after)
    assert [k for k in files(out) if is_partial_name(k)] == []   # temporaries of the killed run are gone
    for rel, data in before.items():                 # what the interrupted run finished is the new version
        if rel.endswith(".csv"):
            assert after[rel] == data, rel
