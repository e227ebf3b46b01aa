"""Benchmark of the dossier KPIs on synthetic data (not a test).

    PYTHONPATH=src python benchmarks/bench_dossiers.py [--rows N] [--repeat R] [--by level]

Writes a synthetic Parquet export (cchc_analysis.synthetic, labelled SYNTHETIC) to a temporary
folder, then runs, each in a fresh subprocess and alternating, the package's
``dossier_kpis(path, by=...)`` (the SQL checks and the KPI SQL) and the same KPIs written as ONE plain
DuckDB query over the same file (no checks, no label mapping; default as_of as a scalar subquery), and
checks that both give the same values. Times are wall-clock seconds of the call (imports excluded), best
of --repeat runs; the median ratio of runs made one after the other and the CPU seconds (all threads)
are printed too, as the machine may be shared. Peak memory is the package subprocess's peak resident set
(VmHWM; it includes the interpreter and imported libraries, reported separately as baseline) over the
Arrow size of the whole file (pyarrow.parquet.read_table(path).nbytes). Prints ``name: value`` lines;
goals: dossier_kpi_over_duckdb_sql <= 1.15, dossier_peak_mem_over_arrow_size <= 2.
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


def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)      # all threads of this process
    return usage.ru_utime + usage.ru_stime


import duckdb
import pandas as pd
from cchc_analysis.dossiers import dossier_kpis
path, kind, out = sys.argv[1], sys.argv[2], sys.argv[5]
by, validate = tuple(filter(None, sys.argv[3].split(","))), sys.argv[4] == "1"
keys = ", ".join(by)
plain = f'''
SELECT {keys + "," if by else ""} received, resolved, 100 * resolved::DOUBLE / nullif(received, 0) AS resolution_rate,
       ahead, on_time, late, 100 * ahead::DOUBLE / nullif(resolved, 0) AS ahead_share,
       100 * on_time::DOUBLE / nullif(resolved, 0) AS on_time_share,
       100 * late::DOUBLE / nullif(resolved, 0) AS late_share,
       online, 100 * online::DOUBLE / nullif(received, 0) AS online_share, overdue_backlog,
       q[1]::DOUBLE / 86400000000 AS median_processing_days, q[2]::DOUBLE / 86400000000 AS p90_processing_days
FROM (
  SELECT {keys.replace("month", "strftime(received_at, '%Y-%m') AS month") + "," if by else ""}
         count(*) AS received, count(resolved_at) AS resolved,
         count(*) FILTER (WHERE resolved_at::DATE < due_at::DATE) AS ahead,
         count(*) FILTER (WHERE resolved_at::DATE = due_at::DATE) AS on_time,
         count(*) FILTER (WHERE resolved_at::DATE > due_at::DATE) AS late,
         count(*) FILTER (WHERE channel = 'online') AS online,
         count(*) FILTER (WHERE resolved_at IS NULL AND due_at::DATE < as_of::DATE) AS overdue_backlog,
         quantile_disc(epoch_us(resolved_at) - epoch_us(received_at), [0.5, 0.9]) AS q
  FROM read_parquet('{path}'),
       (SELECT max(greatest(received_at, coalesce(resolved_at, received_at))) AS as_of FROM read_parquet('{path}'))
  {"GROUP BY ALL ORDER BY " + keys if by else ""})
'''
baseline = peak_rss()
start, start_cpu = time.perf_counter(), cpu()
if kind == "package":
    kpis = dossier_kpis(path, by=by, validate=validate)
else:
    kpis = duckdb.connect().sql(plain).to_arrow_table().to_pandas(types_mapper=pd.ArrowDtype)
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


def main() -> None:
    import pandas as pd

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
        for _ in range(args.repeat):
            for kind, validate in (("package", True), ("plain_sql", True), ("package", False)):
                out = Path(tmp) / f"kpis_{kind}_{validate}.pkl"
                runs.setdefault((kind, validate), []).append(_python(CHILD, path, kind, args.by,
                                                                     "1" if validate else "0", out))
        package, plain = (pd.read_pickle(Path(tmp) / f"kpis_{k}_True.pkl") for k in ("package", "plain_sql"))
        try:
            pd.testing.assert_frame_equal(package, plain, check_exact=True)
            identical = True
        except AssertionError:
            identical = False

        def best(kind: str, validate: bool = True, field: str = "seconds") -> float:
            return min(r[field] for r in runs[(kind, validate)])

        pairs = zip(runs[("package", True)], runs[("plain_sql", True)])
        package_runs = runs[("package", True)]
        peak = max(r["peak_rss"] for r in package_runs)
        baseline = max(r["baseline_rss"] for r in package_runs)
        lines = {
            "dossier_rows": args.rows,
            "dossier_by": args.by or "()",
            "dossier_synthetic_generate_s": round(written["generate"], 3),
            "dossier_synthetic_parquet_write_s": round(written["write"], 3),
            "dossier_parquet_file_bytes": path.stat().st_size,
            "dossier_arrow_bytes": arrow_bytes,
            "dossier_kpi_package_s": round(best("package"), 3),
            "dossier_kpi_plain_sql_s": round(best("plain_sql"), 3),
            "dossier_kpi_over_duckdb_sql": round(best("package") / best("plain_sql"), 3),
            "dossier_kpi_over_duckdb_sql_median_of_pairs": round(statistics.median(
                p["seconds"] / d["seconds"] for p, d in pairs), 3),
            "dossier_kpi_package_cpu_s": round(best("package", field="cpu"), 3),
            "dossier_kpi_plain_sql_cpu_s": round(best("plain_sql", field="cpu"), 3),
            "dossier_kpi_package_novalidate_s": round(best("package", False), 3),
            "dossier_kpi_novalidate_over_duckdb_sql": round(best("package", False) / best("plain_sql"), 3),
            "dossier_package_peak_rss_bytes": peak,
            "dossier_package_baseline_rss_bytes": baseline,
            "dossier_peak_mem_over_arrow_size": round(peak / arrow_bytes, 3),
            "dossier_peak_mem_above_baseline_over_arrow_size": round((peak - baseline) / arrow_bytes, 3),
            "dossier_package_equals_plain_sql": identical,
            "dossier_package_runs_s": " ".join(f"{r['seconds']:.2f}" for r in package_runs),
            "dossier_plain_sql_runs_s": " ".join(f"{r['seconds']:.2f}" for r in runs[("plain_sql", True)]),
        }
        for name, value in lines.items():
            print(f"{name}: {value}")


if __name__ == "__main__":
    main()
