"""Build the site: every year page (each report notebook for each year) and every province page
(63 provinces, Hà Tây, the 34 units of 2025) with papermill (project kernel), a content-hash cache that
also notices outputs edited behind its back, bounded parallelism with one progress bar, in-process HTML
export wrapped in a Jinja2 navigation header, and the site index (Jinja2 template, autoescaped)."""
from __future__ import annotations

import concurrent.futures as cf
import hashlib
import html
import json
import multiprocessing
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import digest, paths
from .atomic import atomic_write_text
from .params import ParameterError, check_names

KERNEL = "cchc-analysis"
NOTEBOOKS = ["ranking_trends", "procedure_simplification"]  # year pages
PROFILE = "province_profile"  # one page per province or 2025 unit
TITLES = {"ranking_trends": "Xếp hạng và xu hướng / Ranking trends",
          "procedure_simplification": "Đơn giản hoá thủ tục hành chính / Procedure simplification",
          PROFILE: "Hồ sơ tỉnh / Province profile"}
TEMPLATE_SUFFIXES = (".py", ".j2", ".js", ".css", ".json")


@dataclass
class Job:
    """One page: a year page (notebook, year) or a profile page (notebook `province_profile`, subject
    "province/67" or "unit/68")."""
    notebook: str
    year: int | None
    parameters: dict
    out_dir: Path
    timeout: int
    digest: str = ""
    status: str = "pending"  # ok | cached | failed
    error: str = ""
    seconds: float = 0.0
    phases: dict = field(default_factory=dict)  # seconds per phase of the run (execute, slot_wait, html, reset)
    html: Path | None = None
    tables: list[str] = field(default_factory=list)
    subject: str = ""
    title: str = ""
    nav: str = ""
    tag: str = ""

    @property
    def slug(self) -> str:
        """File-name stem of the page's executed notebook and stamp."""
        return f"{self.notebook}_{self.subject.replace('/', '_')}" if self.subject else f"{self.notebook}_{self.year}"

    @property
    def label(self) -> str:
        """Short name of the page for progress and error lines."""
        return f"{self.notebook} {self.subject or self.year}"

    @property
    def executed(self) -> Path:
        """Where the executed notebook is kept."""
        return self.out_dir / "_executed" / f"{self.slug}.ipynb"

    @property
    def href(self) -> str:
        """The page's address relative to the site root."""
        return f"{self.subject}.html" if self.subject else f"{self.year}/{self.notebook}.html"

    @property
    def html_path(self) -> Path:
        """Where the page is written."""
        return self.out_dir / self.href

    @property
    def tables_dir(self) -> Path:
        """Folder of the page's CSV tables."""
        return self.out_dir / (self.subject if self.subject else f"{self.year}/{self.notebook}")

    @property
    def stamp(self) -> Path:
        """The cache stamp of the page (digest, parameters, navigation, outputs)."""
        return self.out_dir / "_executed" / f"{self.slug}.json"


def years_for(notebook: str) -> list[int]:
    """Years a notebook has data for (from the processed tables)."""
    if notebook == "ranking_trends":
        from .ranking_report import available_years
    elif notebook == "procedure_simplification":
        from .procedure_report import available_years
    else:
        raise ParameterError(f"unknown notebook {notebook!r}; notebooks: {', '.join(NOTEBOOKS)}")
    return available_years()


REPORT_MODULES = ["report", "ranking_report", "procedure_report", "profile_report", "figures", "reporting", "plots"]


def report_code_files() -> list[Path]:
    """The report and plot modules a page runs, and templates: what they import, except the data
    build (the processed data stamp stands for it)."""
    files = digest.module_closure(REPORT_MODULES, stop=frozenset({"data"}))
    templates = digest.PACKAGE / "templates"
    return files + (sorted(p for p in templates.rglob("*") if p.is_file() and p.suffix in TEMPLATE_SUFFIXES)
                    if templates.is_dir() else [])


def code_digest() -> str:
    """Hash of the report/plot code, templates and the processed data's build key (what a page depends on)."""
    stamp = paths.PROCESSED / ".build.json"
    data_key = json.loads(stamp.read_text()).get("inputs", "") if stamp.exists() else "no data"
    return digest.files_digest(report_code_files(), hashlib.sha256(str(data_key).encode()))


def job_digest(job: Job, base: str) -> str:
    """Hash of what a page depends on: code and data (`base`), its notebook and its parameters."""
    h = hashlib.sha256(base.encode())
    h.update((paths.NOTEBOOKS / f"{job.notebook}.ipynb").read_bytes())
    h.update(json.dumps(job.parameters, sort_keys=True, default=str).encode())
    return h.hexdigest()


def outputs_digest(job: Job) -> str:
    """Hash of what a page wrote: the HTML and its CSV tables, and which shared figures it links.

    The stamp keeps it, so a page whose outputs were changed behind the cache's back (a notebook run by
    hand into the site folder, an edited CSV, a deleted shared figure) is rebuilt."""
    from .figures import digest_files
    files = [job.html_path] + (sorted(p for p in job.tables_dir.iterdir() if p.is_file())
                               if job.tables_dir.is_dir() else [])
    h = hashlib.sha256(digest_files(files).encode())
    if job.html_path.exists():
        for src in sorted(set(re.findall(r'src="([^"]*_shared/[^"]+)"', job.html_path.read_text(encoding="utf-8")))):
            h.update(src.encode() + (b"1" if (job.html_path.parent / src).exists() else b"0"))
    return h.hexdigest()


_EXPORTER = None
_CHAR_REF = re.compile(r"&#(\d+);")  # &#7891; → ồ (code points above ASCII only: they never mean markup)
_OUTPUT_DIV = re.compile(r'(<div class="[^"]*\b(?:jp-OutputArea-output|jp-Cell-inputWrapper)\b[^"]*")')


def _exporter():
    """This worker's HTML exporter (its templates load once): code cells hidden, JupyterLab's look, no CDN
    scripts (template `cchc_site`)."""
    global _EXPORTER
    if _EXPORTER is None:
        from nbconvert import HTMLExporter
        from nbconvert.exporters.templateexporter import TemplateExporter
        from nbconvert.filters.highlight import Highlight2HTML
        from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

        class SiteExporter(HTMLExporter):
            """nbconvert's HTML export without its two whole-page passes: re-parsing the page with BeautifulSoup
            (it adds alt text, which every image of ours has; tabindex="0" to outputs and Markdown cells; and
            writes characters the Markdown renderer gave as numeric references as UTF-8 — the last two done
            here by substitutions) and re-validating the notebook after every preprocessor (papermill validated
            it when it wrote it). The rest is HTMLExporter.from_notebook_node as in nbconvert 7.17."""

            def from_notebook_node(self, nb, resources=None, **kw):
                info = nb.metadata.get("language_info", {})
                lexer = info.get("pygments_lexer", info.get("name", None))
                resources = self._init_resources(resources)
                self.register_filter("highlight_code", self.filters.get(
                    "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
                self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                    notebook_metadata=self._nb_metadata, parent=self, resources=resources))
                html_out, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
                html_out = _CHAR_REF.sub(lambda m: chr(int(m[1])) if int(m[1]) > 127 else m[0], html_out)
                return _OUTPUT_DIV.sub(r'\1 tabindex="0"', html_out), resources

            def _validate_preprocessor(self, nbc, preprocessor):
                return None

        _EXPORTER = SiteExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
                                 extra_template_basedirs=[str(Path(__file__).parent / "templates" / "nbconvert")],
                                 template_name="cchc_site")
    return _EXPORTER


def _to_html(executed) -> str:
    """The page body of an executed notebook (a path, or the notebook itself), converted in-process."""
    import nbformat

    nb = nbformat.read(executed, as_version=4) if isinstance(executed, (str, Path)) else executed
    body, _ = _exporter().from_notebook_node(nb)
    return body


_KM = None


def _kernel_manager():
    """This worker's kernel (the project's), started on first use and reused for its next notebooks.

    Reuse saves the kernel start and the library imports (~3 s a notebook); between notebooks
    the user namespace is cleared (:data:`RESET_CODE`) so no variable leaks from one report to the next.
    """
    global _KM
    if _KM is None:
        import atexit

        from jupyter_client.manager import AsyncKernelManager

        _KM = AsyncKernelManager(kernel_name=KERNEL)
        atexit.register(_shutdown_kernel)
    return _KM


# Between two notebooks in a reused kernel: every name the notebook defined (and the output history)
# is deleted and every figure closed. Like `%reset -f` but without its full garbage collection (~0.2 s a
# page); the library's module-level caches (processed tables, projected map paths) are kept on purpose.
RESET_CODE = """\
def _cchc_reset():
    import matplotlib.pyplot as plt
    plt.close("all")
    ip = get_ipython()
    for name in [n for n in ip.user_ns if n not in ip.user_ns_hidden]:
        del ip.user_ns[name]
    ip.user_ns["Out"].clear()
_cchc_reset()
"""


def _reset_kernel() -> None:
    """Clear the reused kernel's namespace and figures (:data:`RESET_CODE`); on any trouble, drop the kernel.

    The reply is awaited on the shell channel only: a fresh client's iopub subscription may join too late
    to see the kernel's 'idle' status, and waiting for it would hang until the timeout."""
    from jupyter_client import BlockingKernelClient

    if _KM is None or not _KM.has_kernel:
        return
    kc = BlockingKernelClient()
    kc.load_connection_info(_KM.get_connection_info())
    kc.start_channels(iopub=False, stdin=False, hb=False, control=False)
    try:
        msg_id = kc.execute(RESET_CODE, silent=True, store_history=False)
        while True:
            reply = kc.get_shell_msg(timeout=30)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
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


def _env():
    """The Jinja2 environment of the site templates (package data), autoescaping on."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
    return Environment(loader=PackageLoader("cchc_analysis", "templates"), undefined=StrictUndefined,
                       autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True))


def wrap_page(page: str, title: str, nav: str) -> str:
    """An exported notebook page with the site's `<title>` and navigation header."""
    page = re.sub(r"<title>.*?</title>",
                  lambda _: f'<title>{html.escape(title)}</title>\n<link rel="icon" href="data:,">',
                  page, count=1, flags=re.S)
    if nav:
        page = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + "\n" + nav, page, count=1)
    return page


def _write_page(job: Job, nb=None) -> None:
    """Write the page: the executed notebook (`nb`, else read from its file) as HTML in the site's frame."""
    atomic_write_text(job.html_path, wrap_page(_to_html(job.executed if nb is None else nb), job.title, job.nav))


def _stamp(job: Job) -> None:
    atomic_write_text(job.stamp, json.dumps({"digest": job.digest, "parameters": job.parameters,
                                             "nav": _nav_digest(job), "outputs": outputs_digest(job)}, sort_keys=True))


def _nav_digest(job: Job) -> str:
    return hashlib.sha256((job.title + job.nav).encode()).hexdigest()


def injected_cell_id(job: Job) -> str:
    """The id of the injected-parameters cell: derived from the notebook-year, the same on every run
    (whatever the output folder: the parameters' output_dir is not part of it)."""
    params = {k: v for k, v in job.parameters.items() if k not in ("output_dir", "site_dir")}
    key = [job.notebook, job.year, params] + ([job.subject] if job.subject else [])
    h = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode())
    return f"injected-parameters-{h.hexdigest()[:12]}"


def stable_injected_cell_id(nb, job: Job):
    """The executed notebook `nb` with papermill's random id of the injected-parameters cell replaced by
    :func:`injected_cell_id` (the same on every run)."""
    for cell in nb.get("cells", []):
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell["id"] = injected_cell_id(job)
    return nb


def _write_executed(nb, path: Path) -> None:
    """The executed notebook in nbformat's own JSON layout (sorted keys, one-space indent, lines split), without
    validating it again (papermill did when it wrote it)."""
    from nbformat.v4 import writes_json

    path.write_text(writes_json(nb) + "\n", encoding="utf-8")


def _execute(job: Job) -> Job:
    """Run one page in this process (a worker): papermill → executed notebook → HTML page."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    t0 = time.perf_counter()
    os.environ["CCHC_OUTPUT_ROOT"] = str(job.out_dir)  # the directory the user named may take outputs
    os.environ["CCHC_SITE_TAG"] = job.tag  # shared figures are named for the code version
    job.executed.parent.mkdir(parents=True, exist_ok=True)
    tmp = job.executed.with_name(f".running-{job.executed.name}")
    try:
        slot = _KernelSlot()  # at most one computing kernel per core
        try:
            nb = papermill.execute_notebook(
                str(paths.NOTEBOOKS / f"{job.notebook}.ipynb"), str(tmp), parameters=job.parameters,
                kernel_name=KERNEL, execution_timeout=job.timeout, progress_bar=False, log_output=False,
                cwd=str(paths.NOTEBOOKS), report_mode=False, km=_kernel_manager(),
                request_save_on_cell_execute=False,  # written once at the end (and on error): not after every cell
                extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no TCP-encryption warning per kernel
                **slot.hooks(),
            )
        finally:
            slot.give()
        t1 = time.perf_counter()
        _write_executed(stable_injected_cell_id(nb, job), tmp)
        os.replace(tmp, job.executed)
        _write_page(job, nb)  # from the notebook in memory: not read and validated again
        job.status = "ok"
        job.html = job.html_path
        t2 = time.perf_counter()
        _reset_kernel()
        t3 = time.perf_counter()
        _stamp(job)
        job.phases = {"execute": t1 - t0, "slot_wait": slot.waited, "html": t2 - t1, "reset": t3 - t2,
                      "stamp": time.perf_counter() - t3}
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


def subjects(province: str | None = None) -> list[tuple[str, str]]:
    """(code, units) of every profile page: the 63 provinces and Hà Tây ("63"), the 34 units of 2025 ("34");
    with `province`, only that province."""
    from .provinces import provinces, units_2025

    if province is not None:
        return [(province, "63")]
    return [(c, "63") for c in provinces().code] + [(c, "34") for c in units_2025().unit_code]


def subject_of(code: str, units: str) -> str:
    """The page subject of a unit: 'province/67' or, for a 2025 unit, 'unit/68'."""
    return f"{'unit' if units == '34' else 'province'}/{code}"


class Plan(list):
    """The jobs of a batch (a list of Job), with `skipped`: notebook → asked-for years it has no data for."""

    def __init__(self, jobs=(), skipped: dict[str, list[int]] | None = None):
        super().__init__(jobs)
        self.skipped = skipped or {}


def plan(years: list[int] | None, notebooks: list[str] | None, province: str | None, out_dir: Path, timeout: int,
         profiles: bool | None = None) -> Plan:
    """The pages to build, with parameters checked against each notebook's parameters cell.

    Year pages for each year with data; profile pages (`province_profile`) for every unit when
    `profiles` (default: when no years and no notebooks are named, or the notebook is named).
    `province=None` gives the national year pages. Asked-for years one notebook has no data for (but
    another has) are listed in `.skipped`."""
    from .params import _ranges, as_province, as_year

    if province is not None:
        province = as_province(province)
    if years is not None:
        years = [as_year(y) for y in years]
    chosen = notebooks or NOTEBOOKS + [PROFILE]
    for nb in chosen:
        if nb not in NOTEBOOKS + [PROFILE]:
            raise ParameterError(f"unknown notebook {nb!r}; notebooks: {', '.join(NOTEBOOKS + [PROFILE])}")
    if profiles is None:
        profiles = PROFILE in chosen and (years is None or bool(notebooks))
    jobs = []
    skipped: dict[str, list[int]] = {}
    with_data: set[int] = set()
    year_nbs = [nb for nb in chosen if nb in NOTEBOOKS]
    for nb in year_nbs:
        have = years_for(nb)
        with_data |= set(have)
        if years is not None and sorted(set(years) - set(have)):
            skipped[nb] = sorted(set(years) - set(have))
        checked = False
        for y in sorted(have if years is None else [y for y in years if y in have]):
            params = {"year": y, "province": province, "output_dir": str(out_dir / str(y) / nb)}  # None: national
            if not checked:  # every year passes the same names: inspect the notebook once
                check_names(paths.NOTEBOOKS / f"{nb}.ipynb", params)
                checked = True
            jobs.append(Job(nb, y, params, out_dir, timeout))
    missing = sorted(set(years or []) - with_data) if year_nbs else []
    if missing:
        raise ParameterError(f"no data for year(s) {', '.join(map(str, missing))} in "
                             f"{', '.join(year_nbs)}; years with data: {_ranges(sorted(with_data))}")
    if profiles:
        checked = False
        for code, units in subjects(province):
            subject = subject_of(code, units)
            params = {"province": code, "units": units, "output_dir": str(out_dir / subject), "site_dir": str(out_dir)}
            if not checked:
                check_names(paths.NOTEBOOKS / f"{PROFILE}.ipynb", params)
                checked = True
            jobs.append(Job(PROFILE, None, params, out_dir, timeout, subject=subject))
    navigate(jobs, province)
    return Plan(jobs, skipped)


# --------------------------------------------------------------------------- navigation

def _unit_names() -> dict[str, str]:
    """subject → display name for every profile page."""
    from .provinces import provinces, units_2025

    out = {subject_of(c, "63"): n for c, n in zip(provinces().code, provinces().name)}
    out.update({subject_of(c, "34"): f"{n} (2025)" for c, n in zip(units_2025().unit_code, units_2025().name)})
    return out


def navigate(jobs: list[Job], province: str | None = None) -> None:
    """Give every job its page title and navigation header (links only to pages in this build)."""
    from .provinces import merger_2025, provinces

    env = _env()
    tpl = env.get_template("nav.html.j2")
    names = _unit_names()
    p = provinces().set_index("code")
    pages = {j.href for j in jobs}
    by_nb: dict[str, list[Job]] = {}
    for j in jobs:
        if j.year is not None:
            by_nb.setdefault(j.notebook, []).append(j)
    profiles = [j for j in jobs if j.subject]
    focal = f" — {p.loc[province, 'name']}" if province else ""

    def link(href: str, label: str) -> dict:
        return {"href": "../" + href, "label": label}

    prov_group = {"title": f"Các tỉnh ({len(profiles)}) / provinces and units",
                  "links": [link(j.href, names[j.subject]) for j in profiles]} if profiles else None
    for j in jobs:
        links, groups, folded, prev, nxt = [], [], [], None, None
        if j.year is not None:
            seq = sorted(by_nb[j.notebook], key=lambda x: x.year)
            k = seq.index(j)
            if k:
                prev = link(seq[k - 1].href, str(seq[k - 1].year))
            if k + 1 < len(seq):
                nxt = link(seq[k + 1].href, str(seq[k + 1].year))
            for other in NOTEBOOKS:
                href = f"{j.year}/{other}.html"
                if other != j.notebook and href in pages:
                    links.append(link(href, f"{TITLES[other]} {j.year}"))
            if province and f"province/{province}.html" in pages:
                links.append(link(f"province/{province}.html", f"Hồ sơ / profile: {p.loc[province, 'name']}"))
            if prov_group:
                folded.append(prov_group)
            j.title = f"{TITLES[j.notebook]} {j.year}{focal} — CCHC"
        else:
            code = j.parameters["province"]
            if j.parameters["units"] == "34":
                members = list(merger_2025().query("unit_code == @code").old_code)
                groups.append({"title": "Tỉnh thành viên / member provinces",
                               "links": [link(f"province/{c}.html", p.loc[c, "name"]) for c in members
                                         if f"province/{c}.html" in pages]})
                units = [x for x in profiles if x.parameters["units"] == "34"]
                folded.append({"title": "34 đơn vị từ 1/7/2025 / the 34 units",
                               "links": [link(x.href, names[x.subject]) for x in units]})
                j.title = (f"{names[j.subject][:-7]} — đơn vị hành chính từ 1/7/2025 / provincial unit from 1 July 2025"
                           " — CCHC")
            else:
                reg = p.loc[code, "region_6"]
                peers = [c for c in p.index if p.loc[c, "region_6"] == reg]
                groups.append({"title": f"Vùng / region {reg}",
                               "links": [{"href": None, "label": p.loc[c, "name"]} if c == code else
                                         link(f"province/{c}.html", p.loc[c, "name"]) for c in peers
                                         if c == code or f"province/{c}.html" in pages]})
                u = "01" if code == "28" else p.loc[code, "unit_2025_code"]
                if f"unit/{u}.html" in pages:
                    links.append(link(f"unit/{u}.html", f"Từ 1/7/2025 / from 1 July 2025: {names['unit/' + u]}"))
                j.title = f"{p.loc[code, 'name']} — hồ sơ tỉnh / province profile — CCHC"
            for nb in NOTEBOOKS:
                ys = sorted(x.year for x in by_nb.get(nb, []))
                if ys:
                    groups.append({"title": TITLES[nb], "links": [link(f"{y}/{nb}.html", str(y)) for y in ys]})
            if prov_group:
                folded.append(prov_group)
        j.nav = tpl.render(home="../index.html", prev=prev, next=nxt, links=links, groups=groups, folded=folded,
                           heading=j.title.removesuffix(" — CCHC"))


# --------------------------------------------------------------------------- the run

_KERNEL_SLOTS = None  # in a worker: the semaphore shared by all workers, one slot per core


def _init_worker(kernel_slots) -> None:
    """A worker's setup: the shared kernel slots (while one worker exports its page to HTML, another's kernel
    computes, but never more kernels compute than there are cores: three kernels on two cores measured 10–25 %
    more CPU for the same pages) and no unused format checker."""
    global _KERNEL_SLOTS
    _KERNEL_SLOTS = kernel_slots
    skip_unused_format_checker()


class _KernelSlot:
    """One of the shared kernel slots, taken by nbclient's hook when the kernel is ready to run the notebook's
    cells (not while papermill reads and parameterises it) and given back when papermill returns."""

    def __init__(self):
        self.held = False
        self.waited: float | None = None  # seconds waited for the slot (None: never taken)

    def take(self, **_) -> None:
        t0 = time.perf_counter()
        _KERNEL_SLOTS.acquire()
        self.held, self.waited = True, time.perf_counter() - t0

    def give(self, **_) -> None:
        if self.held:
            self.held = False
            _KERNEL_SLOTS.release()

    def hooks(self) -> dict:
        return {} if _KERNEL_SLOTS is None else {"on_notebook_start": self.take}


def skip_unused_format_checker() -> None:
    """In the runner's own processes (the `cchc` command and its workers): leave out the rfc3987_syntax module.

    jsonschema imports it when it is installed (jupyter-events requires it) and it compiles 39 Lark grammars at
    import (~1.5 s of every papermill import) for IRI format checks that nbformat's schemas never use. Only
    done before jsonschema is imported; jsonschema then simply has no IRI checker in that process."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)


def default_jobs() -> int:
    """Workers when none are asked for: one more than the CPUs. A page alternates between its kernel (the
    notebook's code) and its worker (messages, the HTML export, the stamp); the extra worker keeps every core
    busy meanwhile, while no more kernels than cores compute at once (:func:`_init_worker`)."""
    return (os.cpu_count() or 1) + 1


def run_reports(years=None, notebooks=None, jobs=None, province="67", out_dir: Path = paths.REPORTS,
                force=False, timeout=600, log=print, profiles: bool | None = None) -> int:
    """Build the pages; return 0 when every page succeeded, 1 otherwise (2 for bad parameters)."""
    from tqdm import tqdm

    t0 = time.perf_counter()
    out_dir = Path(out_dir).resolve()
    try:
        todo = plan(years, notebooks, province, out_dir, timeout, profiles)
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
    run, rewrap = [], []
    for j in todo:
        j.digest, j.tag = job_digest(j, base), base
        stamp = json.loads(j.stamp.read_text()) if j.stamp.exists() else {}
        if not force and j.html_path.exists() and stamp.get("digest") == j.digest and j.executed.exists() \
                and stamp.get("outputs") == outputs_digest(j):
            j.status, j.html = "cached", j.html_path
            if stamp.get("nav") != _nav_digest(j):
                rewrap.append(j)  # only the navigation changed (pages added or removed): re-export, no re-run
        else:
            run.append(j)
    for j in rewrap:
        _write_page(j)
        _stamp(j)
    n_jobs = max(1, jobs or default_jobs())
    if run:
        run.sort(key=lambda j: j.subject != "")  # year pages first: they take longest
        ctx = multiprocessing.get_context("forkserver")
        slots = ctx.BoundedSemaphore(max(1, min(n_jobs, os.cpu_count() or 1)))
        with cf.ProcessPoolExecutor(max_workers=min(n_jobs, len(run)), mp_context=ctx,
                                    initializer=_init_worker, initargs=(slots,)) as pool, \
                tqdm(total=len(run), desc="pages", unit="nb", file=sys.stderr, disable=None) as bar:
            futures = {pool.submit(_execute, j): j for j in run}
            _site_extras(out_dir, todo)  # while the workers run: the panel downloads and the index map
            for f in cf.as_completed(futures):
                done = f.result()
                orig = futures[f]
                orig.__dict__.update(done.__dict__)
                bar.set_postfix_str(f"{done.label} {done.status}")
                bar.update(1)
    else:
        _site_extras(out_dir, todo)
    write_index(out_dir, todo)  # the map drawn above is reused; only the links follow the pages' status
    failed = [j for j in todo if j.status == "failed"]
    cached = sum(j.status == "cached" for j in todo)
    log(f"reports: {len(todo) - len(failed)} of {len(todo)} pages ok ({cached} unchanged, "
        f"{len(run)} run) in {time.perf_counter() - t0:.1f} s → {out_dir / 'index.html'}")
    for nb, ys in getattr(todo, "skipped", {}).items():
        from .params import _ranges
        log(f"  skipped {nb} {_ranges(ys)}: no data for those years")
    for j in failed:
        log(f"  FAILED {j.label}: {j.error}\n         executed notebook kept: {j.executed}")
    return 1 if failed else 0


def _site_extras(out_dir: Path, todo: list[Job]) -> None:
    """What the index links besides the pages: the research panel downloads, and the index map (drawn once per
    code version; the index is written after the pages, with a link for each page that succeeded)."""
    from .export import site_downloads

    site_downloads(out_dir)
    _index_map_or_note(out_dir, todo)


# --------------------------------------------------------------------------- the index

def write_index(out_dir: Path, jobs: list[Job]) -> Path:
    """index.html: the national map, the years, every province and 2025 unit (filter box), coverage,
    downloads and sources (Jinja2 template `index.html.j2`, autoescaped)."""
    from .data import coverage
    from .provinces import name_key, strip_diacritics

    out_dir = Path(out_dir)
    cov = coverage()
    have = {y: " · ".join(f"{r.index_id.upper()}{'' if r.coverage == 'full' else '*'}" for r in g.itertuples())
            for y, g in cov.groupby("year")}
    year_jobs = [j for j in jobs if j.year is not None]
    by = {(j.notebook, j.year): j for j in year_jobs}
    nbs = [n for n in NOTEBOOKS if any(j.notebook == n for j in year_jobs)]
    years = []
    for y in sorted({j.year for j in year_jobs}):
        cells = []
        for n in nbs:
            j = by.get((n, y))
            cell = {"href": None, "label": "", "extra": "", "error": None}  # every key: the template is strict
            if j is not None and j.status in ("ok", "cached"):
                cell.update(href=f"{y}/{n}.html", label=TITLES[n].split(" / ")[0],
                            extra=have.get(y, "") if n == "ranking_trends" else "")
            elif j is not None:
                cell.update(error=j.error[:200] or "failed")
            cells.append(cell)
        years.append({"year": y, "cells": cells})
    names = _unit_names()
    units = []
    for title, kind in (("63 tỉnh, thành phố và Hà Tây (đến 30/6/2025) / 63 provinces and Hà Tây (to 30 June 2025)",
                         "province/"), ("34 đơn vị từ 1/7/2025 / the 34 units from 1 July 2025", "unit/")):
        items = [{"href": j.href if j.status in ("ok", "cached") else None, "label": names[j.subject],
                  "error": j.status == "failed",
                  "key": strip_diacritics(names[j.subject]) + " " + name_key(names[j.subject])}
                 for j in jobs if j.subject.startswith(kind)]
        if items:
            units.append({"title": title, "entries": items})
    coverage_rows = [{"index": str(r.index_id).upper(), "year": r.year, "provinces": r.provinces,
                      "expected": r.expected, "with_overall": r.with_overall, "indicators": r.indicators,
                      "kind": "đầy đủ / full" if r.coverage == "full" else "một phần / partial"}
                     for r in cov.itertuples()]
    page = _env().get_template("index.html.j2").render(
        title="CCHC analysis — trang chủ: năm, tỉnh, dữ liệu / home: years, provinces, data",
        nav=_index_nav(), map=_index_map_or_note(out_dir, jobs), year_kinds=[TITLES[n] for n in nbs], years=years,
        units=units, coverage=coverage_rows, downloads=_downloads(out_dir), sources=_sources())
    atomic_write_text(out_dir / "assets" / "filter.js",
                      (Path(__file__).parent / "templates" / "filter.js").read_text(encoding="utf-8"))
    path = out_dir / "index.html"
    atomic_write_text(path, page)
    return path


def _index_nav() -> str:
    links = [{"href": "#years", "label": "Năm / years"}, {"href": "#provinces", "label": "Tỉnh / provinces"},
             {"href": "#coverage", "label": "Độ phủ / coverage"}, {"href": "#downloads", "label": "Tải về / downloads"},
             {"href": "#sources", "label": "Nguồn / sources"}]
    return _env().get_template("nav.html.j2").render(home="index.html", prev=None, next=None, links=links,
                                                     groups=[], folded=[], heading=None)


def _index_map_or_note(out_dir: Path, jobs: list[Job]) -> dict | None:
    """The index map, or (when drawing it fails) a caption that says so instead of a missing index page."""
    try:
        return _index_map(out_dir, jobs)
    except Exception as e:  # the index must still be written; the failure is stated on it
        return {"year": "", "src": "", "alt": "", "href": "#years",
                "caption": f"bản đồ lỗi / the map failed: {type(e).__name__}: {e}"[:300]}


def _index_map(out_dir: Path, jobs: list[Job]) -> dict | None:
    """The national map of the latest full year's headline, drawn once per code version (needs `maps`)."""
    try:
        from .maps import choropleth
    except ImportError:
        return None
    from . import indices
    from .atomic import atomic_write_bytes
    from .data import load
    from .figures import shared_path
    from .reporting import figure_png, num_vi

    s = load("scores")
    full = s[(s.indicator == "overall") & (s.coverage == "full") & s.value.notna()]
    if full.empty:
        return None
    year = int(full.year.max())
    idx = next(i for i in indices.ids() if ((full.index_id == i) & (full.year == year)).any())
    values = full[(full.index_id == idx) & (full.year == year)].set_index("province_code")["value"]
    if jobs and jobs[0].tag:
        os.environ["CCHC_SITE_TAG"] = jobs[0].tag
    path = shared_path(out_dir, f"index-map-{idx}-{year}")
    alt_file, shapes_file = path.with_suffix(".txt"), path.with_suffix(".json")
    if not path.exists() or not alt_file.exists() or not shapes_file.exists():
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from .maps import link_shapes
        fig, alt = choropleth(values, units="63", title_vi=f"{idx.upper()}: điểm tổng",
                              title_en=f"{idx.upper()}: headline score", legend_vi="Điểm", legend_en="score",
                              year=year, highlight=None, n_expected=63, cmap="viridis", ax=None)
        atomic_write_bytes(path, figure_png(fig))
        size, shapes = link_shapes(fig.axes[0], units="63")
        plt.close(fig)
        atomic_write_text(alt_file, alt)
        atomic_write_text(shapes_file, json.dumps({"size": size, "shapes": shapes}))
    alt = alt_file.read_text(encoding="utf-8")
    drawn = json.loads(shapes_file.read_text(encoding="utf-8"))
    pages = {j.subject.split("/", 1)[1]: j.href for j in jobs
             if j.subject.startswith("province/") and j.status in ("ok", "cached")}
    names, shown = _unit_names(), values.to_dict()
    links = [{"href": pages[c], "d": d,
              "title": f"{names.get(f'province/{c}', c)}: {idx.upper()} {year} = "
                       + (num_vi(shown[c]) if c in shown else "không có dữ liệu / no data")}
             for c, d in drawn["shapes"].items() if c in pages]
    href = f"{year}/ranking_trends.html" if any(j.notebook == "ranking_trends" and j.year == year for j in jobs) \
        else "#years"
    return {"year": year, "src": path.relative_to(out_dir).as_posix(), "alt": alt, "href": href,
            "width": drawn["size"][0], "height": drawn["size"][1], "links": links,
            "caption": f"{idx.upper()} {year}, năm đầy đủ gần nhất / latest full year. Bấm vào một tỉnh để mở trang "
                       "của tỉnh / click a province to open its page. Ranh giới / boundaries: geoBoundaries "
                       "(see data/raw/geo/SOURCES.md)."}


def _downloads(out_dir: Path) -> list[dict]:
    """The processed tables (and the panel, when it exists) copied into the site's data/ folder."""
    import shutil

    dest = out_dir / "data"
    out = []
    for src in sorted(paths.PROCESSED.glob("*.csv")):
        target = dest / src.name
        if not target.exists() or target.read_bytes() != src.read_bytes():
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
        note = "bảng panel / the panel" if src.stem.startswith("panel") else f"{src.stat().st_size // 1024 + 1} KB"
        out.append({"href": f"data/{src.name}", "label": f"{src.stem} (CSV)", "note": note})
    for n, label in [("panel.csv", "CSV"), ("panel.parquet", "Parquet"), ("panel.dta", "Stata 118"),
                     ("panel.codebook.csv", "codebook / sổ mã")]:
        if (out_dir / "downloads" / n).exists():
            out.append({"href": f"downloads/{n}", "label": f"Bảng panel tỉnh × năm / province × year panel ({label})",
                        "note": "điểm tổng hợp, năm đầy đủ / headline scores, full years; PAPI 6–60 to 2017, "
                                "10–80 from 2018 (papi_overall_group)"})
    readme = paths.PROCESSED / "README.md"
    if readme.exists():
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(readme, dest / "README.md")
        out.append({"href": "data/README.md", "label": "Từ điển dữ liệu / data dictionary", "note": "Markdown"})
    return out


def _sources() -> list[dict]:
    """One row per (publisher, licence statement) from data/raw/manifest.yaml."""
    import yaml

    path = paths.RAW / "manifest.yaml"
    if not path.exists():
        return []
    files = yaml.safe_load(path.read_text(encoding="utf-8")).get("files", [])
    rows: dict[tuple[str, str], dict] = {}
    for f in files:
        if str(f.get("licence", "")) == "project documentation":
            continue
        key = (str(f.get("publisher", "")), str(f.get("licence", "")))
        r = rows.setdefault(key, {"publisher": key[0], "licence": key[1], "urls": [], "files": 0})
        r["files"] += 1
        for u in f.get("source") or []:
            if str(u) not in r["urls"] and len(r["urls"]) < 3:
                r["urls"].append(str(u))
    return list(rows.values())
