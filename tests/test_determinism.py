"""Determinism: clean builds and notebook runs give the same bytes.

The two runs of each pair are separate processes with different PYTHONHASHSEED values, so
any dependence on set or dict order of strings (hash randomisation) shows up as a difference.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cchc_analysis import paths
from cchc_analysis.data import STAMP, TABLES

pytestmark = pytest.mark.slow


def cchc(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("cchc")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "cchc_analysis.cli", *args]


def run_pair(commands: list[list[str]], seeds=("1", "2024")) -> None:
    """Run the commands side by side (each with its hash seed); all must succeed."""
    procs = [subprocess.Popen(c, cwd=paths.ROOT, env={**os.environ, "PYTHONHASHSEED": s},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for c, s in zip(commands, seeds)]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    for p, out in zip(procs, outputs):
        assert p.returncode == 0, out[-3000:]


def files(folder: Path, pattern: str = "*") -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob(pattern)) if p.is_file()}


def test_two_clean_builds_are_byte_identical(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    run_pair([cchc("build-data", "--force", "--out", str(d)) for d in (a, b)])
    fa, fb = files(a), files(b)
    assert set(fa) == {f"{t}.{e}" for t in TABLES for e in ("parquet", "csv")} | {"README.md", STAMP}
    different = sorted(k for k in fa if fa[k] != fb[k])
    assert different == [], f"differ between two clean builds: {different}"
    assert len(fa["scores.csv"]) > 1_000_000                # a real build, not two empty ones


def test_two_runs_of_the_ranking_notebook_give_identical_tables(tmp_path, built):
    a, b = tmp_path / "a", tmp_path / "b"
    run_pair([cchc("report", "--years", "2006", "--notebooks", "ranking_trends", "--jobs", "1", "--out", str(d))
              for d in (a, b)])
    ta, tb = files(a / "2006" / "ranking_trends", "*.csv"), files(b / "2006" / "ranking_trends", "*.csv")
    assert {"league_pci.csv", "movers_pci.csv", "components_pci.csv", "regions_pci.csv"} <= set(ta)
    assert set(ta) == set(tb)
    different = sorted(k for k in ta if ta[k] != tb[k])
    assert different == [], f"tables differ between two runs: {different}"
    # The pages (figures included) and the injected cell's id are identical: the id is derived from the job.
    ha, hb = ((d / "2006" / "ranking_trends.html").read_bytes() for d in (a, b))
    assert ha == hb
    assert re.search(rb'id="cell-id=injected-parameters-[0-9a-f]{12}"', ha)
    na, nb = (json.loads((d / "_executed" / "ranking_trends_2006.ipynb").read_text()) for d in (a, b))
    ids = [[c["id"] for c in n["cells"]] for n in (na, nb)]
    assert ids[0] == ids[1] and any(i.startswith("injected-parameters-") for i in ids[0])
