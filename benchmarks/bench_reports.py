"""Benchmark of the report build (not a test): prints `name: value` lines.

* report_full_build_s      – `cchc report --force` for every notebook-year, into a temporary folder
* report_floor_s           – the same library calls for the same years and figures (every code cell
                             of each notebook, parameters injected, figures rendered to PNG), one after another
                             in this one Python process: no kernels, no papermill, no HTML
* report_full_over_floor   – the ratio (goal ≤ 1.0)
* report_nochange_s        – a second `cchc report` with nothing changed
* report_nochange_over_full – that as a fraction of the full build (goal ≤ 0.05)

Site lines (the whole site: every year page and every province / 2025-unit page, ~140 notebooks):

* site_pages               – pages built
* site_data_s              – `build_data(force=True)` (the site from clean includes the data)
* site_full_build_s        – data + `cchc report --force` for the whole site, into a temporary folder
* site_floor_s             – the same library calls for every page, one after another in this process
                             (no kernels, no HTML)
* site_full_over_floor     – ratio (goal ≤ 0.6 on 2 cores: the floor over two cores is 0.5)
* site_floor_2proc_s       – the floor's pages split between two processes running at once (balanced by
                             their sequential times): what two cores really give, sharing caches and memory
* site_full_over_floor_2proc – the full build against that
* site_nochange_over_full  – a second build with nothing changed, as a fraction of the full build (goal ≤ 0.01)

Usage: python benchmarks/bench_reports.py [--years 2006-2024] [--jobs N] [--site-only | --no-site]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from cchc_analysis import paths, report  # noqa: E402
from cchc_analysis.cli import _years  # noqa: E402


def floor(jobs: list[report.Job], out: Path, times: dict | None = None) -> float:
    """Run each notebook's code cells in-process with its parameters; display is a no-op. `times` receives
    each page's seconds by label."""
    import IPython.display as disp
    import matplotlib.pyplot as plt

    os.environ["CCHC_OUTPUT_ROOT"] = str(out)
    saved = disp.display

    def render(*objs, **_):  # the figures and tables are still produced, as the kernel would
        for o in objs:
            if hasattr(o, "savefig"):
                o.savefig(io.BytesIO(), format="png")
            elif hasattr(o, "_repr_html_") or hasattr(o, "_repr_markdown_"):
                (getattr(o, "_repr_html_", None) or o._repr_markdown_)()

    disp.display = render
    t0 = time.perf_counter()
    try:
        for job in jobs:
            t_job = time.perf_counter()
            nb = json.loads((paths.NOTEBOOKS / f"{job.notebook}.ipynb").read_text(encoding="utf-8"))
            ns: dict = {}
            for cell in nb["cells"]:
                if cell["cell_type"] != "code":
                    continue
                src = "".join(cell["source"])
                if "parameters" in cell.get("metadata", {}).get("tags", []):
                    exec(src, ns)
                    ns.update({k: v for k, v in job.parameters.items()})
                    ns["output_dir"] = str(out / "floor" / (job.subject or f"{job.year}/{job.notebook}"))
                    if "site_dir" in ns:
                        ns["site_dir"] = str(out / "floor")  # shared figures drawn once, as in the site
                    continue
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(compile(src, f"{job.notebook}-{job.subject or job.year}", "exec"), ns)
                plt.close("all")
            if times is not None:
                times[job.label] = time.perf_counter() - t_job
    finally:
        disp.display = saved
    return time.perf_counter() - t0


def site(jobs_n: int | None) -> None:
    """The whole site from clean (data included), a no-change rebuild, then the floor (lines printed as measured)."""
    from cchc_analysis.data import build_data

    def say(line: str) -> None:
        print(line, flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        os.environ["CCHC_OUTPUT_ROOT"] = str(out)
        t0 = time.perf_counter()
        build_data(force=True, log=lambda *_: None)
        data_s = time.perf_counter() - t0
        rc = report.run_reports(province=None, jobs=jobs_n, out_dir=out / "site", force=True, log=lambda *_: None)
        full = time.perf_counter() - t0
        jobs = report.plan(None, None, None, out / "site", 600)
        sizes = [j.html_path.stat().st_size for j in jobs if j.html_path.exists()]
        say(f"site_pages: {len(jobs)}")
        say(f"site_exit_status: {rc}")
        say(f"site_largest_page_mb: {max(sizes) / 1e6:.2f}")
        say(f"site_data_s: {data_s:.1f}")
        say(f"site_full_build_s: {full:.1f}")
        t0 = time.perf_counter()
        report.run_reports(province=None, jobs=jobs_n, out_dir=out / "site", log=lambda *_: None)
        nochange = time.perf_counter() - t0
        say(f"site_nochange_s: {nochange:.2f}")
        say(f"site_nochange_over_full: {nochange / full:.4f}")
        times: dict = {}
        fl = floor(jobs, out, times)
        say(f"site_floor_s: {fl:.1f}")
        say(f"site_full_over_floor: {full / fl:.2f}")
        fl2 = floor_two_processes(jobs, out, times)
    say(f"site_floor_2proc_s: {fl2:.1f}")
    say(f"site_full_over_floor_2proc: {full / fl2:.2f}")


def floor_two_processes(jobs: list[report.Job], out: Path, times: dict) -> float:
    """The floor's pages in two forked processes at once, longest first to the less loaded one; wall seconds."""
    import multiprocessing

    halves: tuple[list, list] = ([], [])
    load = [0.0, 0.0]
    for job in sorted(jobs, key=lambda j: -times.get(j.label, 0.0)):
        k = load.index(min(load))
        halves[k].append(job)
        load[k] += times.get(job.label, 0.0)
    ctx = multiprocessing.get_context("fork")
    t0 = time.perf_counter()
    procs = [ctx.Process(target=floor, args=(half, out / f"floor2-{k}")) for k, half in enumerate(halves)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--years", type=_years, default=None)
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--site-only", action="store_true", help="only the whole-site lines")
    ap.add_argument("--no-site", action="store_true", help="skip the whole-site lines")
    a = ap.parse_args()
    if not a.no_site:
        site(a.jobs)
    if a.site_only:
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        jobs = report.plan(a.years, report.NOTEBOOKS, "67", out / "site", 600)
        # papermill/nbclient import cost is part of the notebook path; the floor pays only for the library
        t0 = time.perf_counter()
        rc = report.run_reports(years=a.years, notebooks=report.NOTEBOOKS, jobs=a.jobs, out_dir=out / "site",
                                force=True, log=lambda *_: None)
        full = time.perf_counter() - t0
        t0 = time.perf_counter()
        report.run_reports(years=a.years, notebooks=report.NOTEBOOKS, jobs=a.jobs, out_dir=out / "site",
                           log=lambda *_: None)
        nochange = time.perf_counter() - t0
        fl = floor(jobs, out)
    print(f"report_notebook_years: {len(jobs)}")
    print(f"report_exit_status: {rc}")
    print(f"report_full_build_s: {full:.1f}")
    print(f"report_floor_s: {fl:.1f}")
    print(f"report_full_over_floor: {full / fl:.2f}")
    print(f"report_nochange_s: {nochange:.2f}")
    print(f"report_nochange_over_full: {nochange / full:.3f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
