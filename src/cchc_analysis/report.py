"""Run every report notebook for every year: papermill (project kernel), content-hash cache,
bounded parallelism with one progress bar, in-process HTML export, site index."""
from __future__ import annotations

import concurrent.futures as cf
import hashlib
import html
import json
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import digest, paths
from .atomic import atomic_write_text
from .params import ParameterError, check_names

KERNEL = "cchc-analysis"
NOTEBOOKS = ["ranking_trends", "procedure_simplification"]
TITLES = {"ranking_trends": "Xếp hạng và xu hướng / Ranking trends",
          "procedure_simplification": "Đơn giản hoá thủ tục hành chính / Procedure simplification"}


@dataclass
class Job:
    notebook: str
    year: int
    parameters: dict
    out_dir: Path
    timeout: int
    digest: str = ""
    status: str = "pending"  # ok | cached | failed
    error: str = ""
    seconds: float = 0.0
    html: Path | None = None
    tables: list[str] = field(default_factory=list)

    @property
    def executed(self) -> Path:
        return self.out_dir / "_executed" / f"{self.notebook}_{self.year}.ipynb"

    @property
    def html_path(self) -> Path:
        return self.out_dir / str(self.year) / f"{self.notebook}.html"

    @property
    def stamp(self) -> Path:
        return self.out_dir / "_executed" / f"{self.notebook}_{self.year}.json"


def years_for(notebook: str) -> list[int]:
    """Years a notebook has data for (from the processed tables)."""
    if notebook == "ranking_trends":
        from .ranking_report import available_years
    elif notebook == "procedure_simplification":
        from .procedure_report import available_years
    else:
        raise ParameterError(f"unknown notebook {notebook!r}; notebooks: {', '.join(NOTEBOOKS)}")
    return available_years()


REPORT_MODULES = ["report", "ranking_report", "procedure_report", "reporting", "plots"]


def report_code_files() -> list[Path]:
    """The report and plot modules a report runs, and templates: what they import, except the data
    build (the processed data stamp stands for it)."""
    files = digest.module_closure(REPORT_MODULES, stop=frozenset({"data"}))
    templates = digest.PACKAGE / "templates"
    return files + (sorted(p for p in templates.rglob("*") if p.is_file()) if templates.is_dir() else [])


def code_digest() -> str:
    """Hash of the report/plot code, templates and the processed data's build key (what a report depends on)."""
    stamp = paths.PROCESSED / ".build.json"
    data_key = json.loads(stamp.read_text()).get("inputs", "") if stamp.exists() else "no data"
    return digest.files_digest(report_code_files(), hashlib.sha256(str(data_key).encode()))


def job_digest(job: Job, base: str) -> str:
    h = hashlib.sha256(base.encode())
    h.update((paths.NOTEBOOKS / f"{job.notebook}.ipynb").read_bytes())
    h.update(json.dumps(job.parameters, sort_keys=True, default=str).encode())
    return h.hexdigest()


_EXPORTER = None


def _to_html(executed: Path) -> str:
    """HTML with code cells hidden, converted in-process (one exporter per worker: its templates load once)."""
    global _EXPORTER
    import nbformat
    from nbconvert import HTMLExporter

    if _EXPORTER is None:
        _EXPORTER = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    nb = nbformat.read(executed, as_version=4)
    body, _ = _EXPORTER.from_notebook_node(nb)
    return body


_KM = None


def _kernel_manager():
    """This worker's kernel (the project's), started on first use and reused for its next notebooks.

    Reuse saves the kernel start and the library imports (~3 s a notebook); between notebooks
    the user namespace is reset (`%reset -f`) so no variable leaks from one report to the next.
    """
    global _KM
    if _KM is None:
        import atexit

        from jupyter_client.manager import AsyncKernelManager

        _KM = AsyncKernelManager(kernel_name=KERNEL)
        atexit.register(_shutdown_kernel)
    return _KM


def _reset_kernel() -> None:
    """Clear the reused kernel's namespace and figures; on any trouble, drop the kernel."""
    from jupyter_client import BlockingKernelClient

    if _KM is None or not _KM.has_kernel:
        return
    kc = BlockingKernelClient()
    kc.load_connection_info(_KM.get_connection_info())
    kc.start_channels()
    try:
        reply = kc.execute_interactive("%reset -f\nimport matplotlib.pyplot as _plt\n_plt.close('all')\ndel _plt",
                                       timeout=30, store_history=False, output_hook=lambda msg: None)
        if reply["content"]["status"] != "ok":
            _shutdown_kernel()
    except Exception:
        _shutdown_kernel()
    finally:
        kc.stop_channels()


def _shutdown_kernel() -> None:
    global _KM
    if _KM is not None and _KM.has_kernel:
        from jupyter_core.utils import run_sync
        try:
            run_sync(_KM.shutdown_kernel)(now=True)
        except Exception:
            pass
    _KM = None


def injected_cell_id(job: Job) -> str:
    """The id of the injected-parameters cell: derived from the notebook-year, the same on every run
    (whatever the output folder: the parameters' output_dir is not part of it)."""
    params = {k: v for k, v in job.parameters.items() if k != "output_dir"}
    h = hashlib.sha256(json.dumps([job.notebook, job.year, params], sort_keys=True, default=str).encode())
    return f"injected-parameters-{h.hexdigest()[:12]}"


def stable_injected_cell_id(executed: Path, job: Job) -> None:
    """Replace papermill's random id of the injected-parameters cell by :func:`injected_cell_id`."""
    nb = json.loads(Path(executed).read_text(encoding="utf-8"))
    changed = False
    for cell in nb.get("cells", []):
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell["id"], changed = injected_cell_id(job), True
    if changed:
        Path(executed).write_text(json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _execute(job: Job) -> Job:
    """Run one notebook-year in this process (a worker): papermill → executed notebook → HTML."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    t0 = time.perf_counter()
    os.environ["CCHC_OUTPUT_ROOT"] = str(job.out_dir)  # the directory the user named may take outputs
    job.executed.parent.mkdir(parents=True, exist_ok=True)
    tmp = job.executed.with_name(f".running-{job.executed.name}")
    try:
        papermill.execute_notebook(
            str(paths.NOTEBOOKS / f"{job.notebook}.ipynb"), str(tmp), parameters=job.parameters,
            kernel_name=KERNEL, execution_timeout=job.timeout, progress_bar=False, log_output=False,
            cwd=str(paths.NOTEBOOKS), report_mode=False, km=_kernel_manager(),
            extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no TCP-encryption warning per kernel
        )
        stable_injected_cell_id(tmp, job)
        os.replace(tmp, job.executed)
        atomic_write_text(job.html_path, _to_html(job.executed))
        job.status = "ok"
        job.html = job.html_path
        _reset_kernel()
        atomic_write_text(job.stamp, json.dumps({"digest": job.digest, "parameters": job.parameters}, sort_keys=True))
    except PapermillExecutionError as e:
        if tmp.exists():
            os.replace(tmp, job.executed)  # the failed executed notebook is kept
        job.status = "failed"
        job.error = f"cell {e.cell_index} (execution count {e.exec_count}): {e.ename}: {e.evalue}".strip()
        job.stamp.unlink(missing_ok=True)
        _reset_kernel()
    except Exception as e:  # kernel died, timeout, missing kernel …
        _shutdown_kernel()
        if tmp.exists():
            os.replace(tmp, job.executed)
        job.status = "failed"
        job.error = f"{type(e).__name__}: {e}"
        job.stamp.unlink(missing_ok=True)
    job.seconds = time.perf_counter() - t0
    return job


class Plan(list):
    """The jobs of a batch (a list of Job), with `skipped`: notebook → asked-for years it has no data for."""

    def __init__(self, jobs=(), skipped: dict[str, list[int]] | None = None):
        super().__init__(jobs)
        self.skipped = skipped or {}


def plan(years: list[int] | None, notebooks: list[str] | None, province: str, out_dir: Path, timeout: int) -> Plan:
    """The notebook-years to run, with parameters checked against each notebook's parameters cell.

    Asked-for years one notebook has no data for (but another has) are listed in `.skipped`."""
    from .params import _ranges, as_province, as_year

    province = as_province(province)
    if years is not None:
        years = [as_year(y) for y in years]
    jobs = []
    skipped: dict[str, list[int]] = {}
    with_data: set[int] = set()
    for nb in notebooks or NOTEBOOKS:
        if nb not in NOTEBOOKS:
            raise ParameterError(f"unknown notebook {nb!r}; notebooks: {', '.join(NOTEBOOKS)}")
        have = years_for(nb)
        with_data |= set(have)
        if years is not None and sorted(set(years) - set(have)):
            skipped[nb] = sorted(set(years) - set(have))
        checked = False
        for y in sorted(have if years is None else [y for y in years if y in have]):
            params = {"year": y, "province": province, "output_dir": str(out_dir / str(y) / nb)}
            if not checked:  # every year passes the same names: inspect the notebook once
                check_names(paths.NOTEBOOKS / f"{nb}.ipynb", params)
                checked = True
            jobs.append(Job(nb, y, params, out_dir, timeout))
    missing = sorted(set(years or []) - with_data)
    if missing:
        raise ParameterError(f"no data for year(s) {', '.join(map(str, missing))} in "
                             f"{', '.join(notebooks or NOTEBOOKS)}; years with data: {_ranges(sorted(with_data))}")
    return Plan(jobs, skipped)


def run_reports(years=None, notebooks=None, jobs=None, province="67", out_dir: Path = paths.REPORTS,
                force=False, timeout=600, log=print) -> int:
    """Run the batch; return 0 when every notebook-year succeeded, 1 otherwise."""
    from tqdm import tqdm

    t0 = time.perf_counter()
    out_dir = Path(out_dir).resolve()
    try:
        todo = plan(years, notebooks, province, out_dir, timeout)
    except ParameterError as e:
        log(f"cchc report: error: {e}")
        return 2
    if not todo:
        log("cchc report: nothing to run (no notebook has data for those years)")
        return 2
    from .data import remove_stale_temporaries

    if out_dir.exists():
        remove_stale_temporaries(out_dir)  # left by a run that was killed
    base = code_digest()
    run = []
    for j in todo:
        j.digest = job_digest(j, base)
        if not force and j.html_path.exists() and j.stamp.exists() and \
                json.loads(j.stamp.read_text()).get("digest") == j.digest:
            j.status, j.html = "cached", j.html_path
        else:
            run.append(j)
    n_jobs = max(1, jobs or os.cpu_count() or 1)
    if run:
        ctx = multiprocessing.get_context("forkserver")
        with cf.ProcessPoolExecutor(max_workers=min(n_jobs, len(run)), mp_context=ctx) as pool, \
                tqdm(total=len(run), desc="reports", unit="nb", file=sys.stderr, disable=None) as bar:
            futures = {pool.submit(_execute, j): j for j in run}
            for f in cf.as_completed(futures):
                done = f.result()
                orig = futures[f]
                orig.__dict__.update(done.__dict__)
                bar.set_postfix_str(f"{done.notebook} {done.year} {done.status}")
                bar.update(1)
    from .export import site_downloads
    site_downloads(out_dir)  # the research panel, linked from the index
    write_index(out_dir, todo)
    failed = [j for j in todo if j.status == "failed"]
    cached = sum(j.status == "cached" for j in todo)
    log(f"reports: {len(todo) - len(failed)} of {len(todo)} notebook-years ok ({cached} unchanged, "
        f"{len(run)} run) in {time.perf_counter() - t0:.1f} s → {out_dir / 'index.html'}")
    for nb, ys in getattr(todo, "skipped", {}).items():
        from .params import _ranges
        log(f"  skipped {nb} {_ranges(ys)}: no data for those years")
    for j in failed:
        log(f"  FAILED {j.notebook} {j.year}: {j.error}\n         executed notebook kept: {j.executed}")
    return 1 if failed else 0


def _downloads(out_dir: Path) -> str:
    """The research-panel downloads section of the index (only files that exist)."""
    names = [("panel.csv", "CSV"), ("panel.parquet", "Parquet"), ("panel.dta", "Stata 118"),
             ("panel.codebook.csv", "codebook / sổ mã")]
    have = [(n, label) for n, label in names if (out_dir / "downloads" / n).exists()]
    if not have:
        return ""
    links = " · ".join(f'<a href="downloads/{html.escape(n)}">{html.escape(label)}</a>' for n, label in have)
    return ("<h2>Tải dữ liệu / Downloads</h2><p>Bảng tỉnh × năm các chỉ số (điểm tổng hợp, năm đầy đủ) / "
            f"province × year panel of the headline scores, full years: {links}. "
            "PAPI: 6–60 to 2017, 10–80 from 2018 — see <code>papi_overall_group</code>.</p>")


def write_index(out_dir: Path, jobs: list[Job]) -> Path:
    """reports/index.html: every report by year, and the data coverage table."""
    from .data import coverage

    e = html.escape
    cov = coverage()
    have = {y: " · ".join(f"{r.index_id.upper()}{'' if r.coverage == 'full' else '*'}" for r in g.itertuples())
            for y, g in cov.groupby("year")}
    years = sorted({j.year for j in jobs})
    by = {(j.notebook, j.year): j for j in jobs}
    nbs = [n for n in NOTEBOOKS if any(j.notebook == n for j in jobs)]
    rows = []
    for y in years:
        cells = []
        for n in nbs:
            j = by.get((n, y))
            if j is None:
                cells.append("<td>–</td>")
            elif j.status in ("ok", "cached"):
                extra = f' <small>({e(have[y])})</small>' if n == "ranking_trends" and y in have else ""
                cells.append(f'<td><a href="{y}/{e(n)}.html">{e(TITLES[n].split(" / ")[0])}</a>{extra}</td>')
            else:
                cells.append(f'<td class="fail">lỗi / failed: {e(j.error[:200])}</td>')
        rows.append(f"<tr><th>{y}</th>{''.join(cells)}</tr>")
    cov_rows = "".join(
        f"<tr><td>{e(str(r.index_id)).upper()}</td><td>{r.year}</td><td>{r.provinces} / {r.expected}</td>"
        f"<td>{r.with_overall}</td><td>{r.indicators}</td><td>{'đầy đủ / full' if r.coverage == 'full' else 'một phần / partial'}</td></tr>"
        for r in cov.itertuples())
    page = f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>CCHC analysis — báo cáo / reports</title>
<style>body{{font-family:"DejaVu Sans",Arial,sans-serif;margin:2em;max-width:70em}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}.fail{{color:#b00}}</style></head><body>
<h1>Phân tích cải cách hành chính / Public-administration reform analysis</h1>
<p>Báo cáo theo năm cho tỉnh trọng tâm / reports by year for the focal province. Built by <code>make report</code>.
In brackets: the indices with data that year; * = một phần / partial.</p>
<table><tr><th>Năm / year</th>{''.join(f'<th>{e(TITLES[n])}</th>' for n in nbs)}</tr>{''.join(rows)}</table>
{_downloads(out_dir)}
<h2>Độ phủ dữ liệu / Data coverage</h2>
<p>"một phần / partial" = only some provinces are published for that year: never read it as a full ranking.</p>
<table><tr><th>Chỉ số / index</th><th>Năm / year</th><th>Tỉnh có dữ liệu / provinces present</th><th>with headline score</th>
<th>indicators</th><th>bảng / table</th></tr>{cov_rows}</table>
</body></html>"""
    path = out_dir / "index.html"
    atomic_write_text(path, page)
    return path
