"""Benchmark of the dossier KPI engines on synthetic data (not a test).

    PYTHONPATH=src python benchmarks/bench_dossiers.py [--rows N] [--repeat R] [--by level]

Writes a synthetic Parquet export (cchc_analysis.synthetic, labelled SYNTHETIC) to a temporary
folder, then runs, each in a fresh subprocess and alternating, ``dossier_kpis(path,
engine="pandas")`` (reading, validation and KPIs) and ``dossier_kpis(path, engine="duckdb")``
(the same validation and KPIs as SQL over the file). Times are wall-clock seconds of the call
(imports excluded), best of --repeat runs; the median ratio of runs made one after the other and
the CPU seconds (all threads) are printed too, as the machine may be shared. Peak memory is the pandas subprocess's ru_maxrss
(it includes the interpreter and imported libraries, reported separately as baseline) over the
Arrow size of the whole file (pyarrow.parquet.read_table(path).nbytes). Prints ``name: value``
lines; goals: ratio <= 1.5, memory <= 3.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time


def peak_rss():
    # VmHWM: peak resident set of this process image (ru_maxrss would include the parent's
    # peak, which Linux carries over fork and exec)
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


import pandas as pd
from cchc_analysis.dossiers import dossier_kpis
path, engine, by, validate, out = sys.argv[1], sys.argv[2], tuple(filter(None, sys.argv[3].split(","))), sys.argv[4] == "1", sys.argv[5]
baseline = peak_rss()


def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)      # all threads of this process
    return usage.ru_utime + usage.ru_stime


start, start_cpu = time.perf_counter(), cpu()
kpis = dossier_kpis(path, by=by, engine=engine, validate=validate)
seconds, cpu_seconds = time.perf_counter() - start, cpu() - start_cpu
peak = peak_rss()
kpis.to_pickle(out)
print(json.dumps({"seconds": seconds, "cpu": cpu_seconds, "peak_rss": peak, "baseline_rss": baseline}))
"""

WRITE = r"""
import json, sys, time
import pyarrow.parquet as pq
from cchc_analysis.synthetic import synthetic_dossiers, write_frame
start = time.perf_counter()
frame = synthetic_dossiers(int(sys.argv[2]), int(sys.argv[3]), 2024)
generated = time.perf_counter()
write_frame(frame, sys.argv[1])
written = time.perf_counter()
del frame
print(json.dumps({"generate": generated - start, "write": written - generated,
                  "arrow_bytes": pq.read_table(sys.argv[1]).nbytes}))
"""


def _python(code: str, *args) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", code, *map(str, args)], check=True,
                          capture_output=True, text=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_child(path: Path, engine: str, by: str, validate: bool, out: Path) -> dict:
    return _python(CHILD, path, engine, by, "1" if validate else "0", out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--by", default="level", help="comma-separated keys, '' for none")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    # the parent stays small: data are written and measured in subprocesses
    with tempfile.TemporaryDirectory(prefix="bench_dossiers_") as tmp:
        path = Path(tmp) / "synthetic_dossiers.parquet"
        written = _python(WRITE, path, args.rows, args.seed)
        arrow_bytes = written["arrow_bytes"]

        runs: dict[tuple[str, bool], list[dict]] = {}
        results = {}
        for _ in range(args.repeat):
            for validate in (True, False):
                for engine in ("pandas", "duckdb"):
                    out = Path(tmp) / f"kpis_{engine}.pkl"
                    runs.setdefault((engine, validate), []).append(run_child(path, engine, args.by, validate, out))
                    results[engine] = out.read_bytes()
        identical = results["pandas"] == results["duckdb"]      # the pickled frames, byte for byte

        def best(engine: str, validate: bool = True, field: str = "seconds") -> float:
            return min(r[field] for r in runs[(engine, validate)])

        def median_pair_ratio(validate: bool) -> float:
            """Median over repeats of pandas/duckdb wall time of runs made one after the other."""
            pairs = zip(runs[("pandas", validate)], runs[("duckdb", validate)])
            return statistics.median(p["seconds"] / d["seconds"] for p, d in pairs)

        pandas_runs = runs[("pandas", True)]
        peak = max(r["peak_rss"] for r in pandas_runs)
        baseline = max(r["baseline_rss"] for r in pandas_runs)
        lines = {
            "dossier_rows": args.rows,
            "dossier_by": args.by or "()",
            "dossier_synthetic_generate_s": round(written["generate"], 3),
            "dossier_synthetic_parquet_write_s": round(written["write"], 3),
            "dossier_parquet_file_bytes": path.stat().st_size,
            "dossier_arrow_bytes": arrow_bytes,
            "dossier_kpi_pandas_s": round(best("pandas"), 3),
            "dossier_kpi_duckdb_s": round(best("duckdb"), 3),
            "dossier_kpi_ratio_pandas_over_duckdb": round(best("pandas") / best("duckdb"), 3),
            "dossier_kpi_ratio_median_of_pairs": round(median_pair_ratio(True), 3),
            "dossier_kpi_pandas_cpu_s": round(best("pandas", field="cpu"), 3),
            "dossier_kpi_duckdb_cpu_s": round(best("duckdb", field="cpu"), 3),
            "dossier_kpi_pandas_novalidate_s": round(best("pandas", False), 3),
            "dossier_kpi_duckdb_novalidate_s": round(best("duckdb", False), 3),
            "dossier_kpi_ratio_novalidate": round(best("pandas", False) / best("duckdb", False), 3),
            "dossier_kpi_ratio_novalidate_median_of_pairs": round(median_pair_ratio(False), 3),
            "dossier_pandas_peak_rss_bytes": peak,
            "dossier_pandas_baseline_rss_bytes": baseline,
            "dossier_peak_mem_over_arrow_size": round(peak / arrow_bytes, 3),
            "dossier_peak_mem_above_baseline_over_arrow_size": round((peak - baseline) / arrow_bytes, 3),
            "dossier_engines_identical": identical,
            "dossier_pandas_runs_s": " ".join(f"{r['seconds']:.2f}" for r in pandas_runs),
            "dossier_duckdb_runs_s": " ".join(f"{r['seconds']:.2f}" for r in runs[("duckdb", True)]),
        }
        for name, value in lines.items():
            print(f"{name}: {value}")


if __name__ == "__main__":
    main()
