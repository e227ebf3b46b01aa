"""Parameters that forgive and say what they did: provinces as codes or names, misspelt papermill
names stop the notebook, outside output folders accepted (system ones refused), clear CLI messages,
one-line package errors, quiet kernels."""
from __future__ import annotations

import concurrent.futures as cf
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from cchc_analysis import cli, params, paths, provinces, report
from cchc_analysis.errors import UnknownProvinceError
from cchc_analysis.params import ParameterError

PAPERMILL = [sys.executable, "-m", "papermill", "-k", report.KERNEL]


# ------------------------------------------------------------------------------ provinces

@pytest.mark.parametrize("given, code", [
    ("67", "67"), (67, "67"), ("01", "01"), (1, "01"), ("1", "01"), (" 79 ", "79"), ("28", "28"),
    ("Hà Nội", "01"), ("Ha Noi", "01"), ("TP.HCM", "79"), ("Đắk Nông", "67"), ("Dak Nong", "67"),
])
def test_to_code_accepts_codes_and_names(given, code):
    assert provinces.to_code(given) == code


@pytest.mark.parametrize("given", ["99", "00", 100, "Median", "6 7", True])
def test_to_code_still_refuses_what_is_no_province(given):
    with pytest.raises(UnknownProvinceError):
        provinces.to_code(given)


@pytest.mark.parametrize("given, code", [("Hà Nội", "01"), ("Ha Noi", "01"), ("TP.HCM", "79"), (1, "01"),
                                         ("1", "01")])
def test_as_province_accepts_names_and_short_codes(given, code):
    assert params.as_province(given) == code


def test_unknown_province_name_names_the_closest(built):
    with pytest.raises(ParameterError, match=r"unknown province code 'Dak Nongg'.*closest names: .*Đắk Nông"):
        params.as_province("Dak Nongg")


def test_cli_report_takes_a_province_name(tmp_path, built):
    jobs = report.plan([2020], ["ranking_trends"], "Đắk Nông", tmp_path, 60)
    assert [j.parameters["province"] for j in jobs] == ["67"]


def test_notebook_setup_takes_a_province_name_and_an_outside_folder(tmp_path, built, monkeypatch):
    from cchc_analysis import ranking_report
    monkeypatch.delenv("CCHC_OUTPUT_ROOT", raising=False)
    ctx = ranking_report.setup(2020, "Ha Noi", None, 5, str(tmp_path / "mine"))
    assert ctx.province == "01" and ctx.focal == "Hà Nội"
    assert ctx.output_dir == (tmp_path / "mine").resolve()


# ------------------------------------------------------------------------------ output folders

@pytest.mark.parametrize("value", ["/etc", "/etc/cchc", "/usr/local/share/x", "/", "/var/lib/x", "/proc/1"])
def test_system_folders_stay_refused(value, monkeypatch):
    monkeypatch.delenv("CCHC_OUTPUT_ROOT", raising=False)
    with pytest.raises(ParameterError, match="outside the project .* in a system folder"):
        params.safe_dir(value, paths.REPORTS)


def test_a_named_folder_outside_the_project_is_accepted(tmp_path, monkeypatch):
    monkeypatch.delenv("CCHC_OUTPUT_ROOT", raising=False)
    assert params.safe_dir(str(tmp_path / "out"), paths.REPORTS) == (tmp_path / "out").resolve()
    assert params.safe_dir("/var/tmp/cchc-x", paths.REPORTS) == Path("/var/tmp/cchc-x")


# ------------------------------------------------------------------------------ misspelt papermill names

def test_injected_names_are_read_from_the_history():
    history = ["", "# Parameters: papermill overrides these.\nyear = 2020\n",
               '# Parameters\nprovnce = 1\nyear = 2019\n', "from x import y"]
    assert params.injected_names(history) == ["provnce", "year"]
    with pytest.raises(ParameterError, match=r"unknown parameter\(s\) provnce; valid parameters: province, year"):
        params.check_injected(["year", "province"], history=history)
    params.check_injected(["year", "provnce"], history=history)          # no error
    assert params.injected_names([]) == [] and params.injected_names() == []   # outside a kernel
    # a reused site kernel keeps earlier notebooks' cells in its history: only the latest injection counts
    reused = ['# Parameters\nprovince = "67"\nunits = "63"\nsite_dir = "x"\n', "pp.setup()", *history]
    assert params.injected_names(reused) == ["provnce", "year"]


def _papermill(tmp_path, nb, *args):
    out = tmp_path / "out.ipynb"
    r = subprocess.run(PAPERMILL + [str(nb), str(out), *args], capture_output=True, text=True, timeout=300,
                       cwd=tmp_path)
    return r, out


def test_misspelt_papermill_parameter_stops_with_the_valid_names(tmp_path, built):
    r, out = _papermill(tmp_path, paths.NOTEBOOKS / "ranking_trends.ipynb", "-p", "provnce", "01",
                        "-p", "output_dir", str(tmp_path / "t"))
    assert r.returncode != 0
    text = r.stdout + r.stderr
    assert "unknown parameter(s) provnce; valid parameters: indices, output_dir, province, window, year" in text
    assert "without encryption" not in text                         # quiet kernel (make install's config)
    assert not (tmp_path / "t").exists()                            # no report was built


def test_package_error_in_a_later_cell_is_one_message(tmp_path, built):
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": report.KERNEL, "language": "python",
                                                           "display_name": "x"}})
    nb.cells = [nbformat.v4.new_code_cell("from cchc_analysis.reporting import install_error_display\n"
                                          "install_error_display()"),
                nbformat.v4.new_code_cell("from cchc_analysis.errors import SourceError\n"
                                          "raise SourceError('export.csv', 'no column received_at', row=3)")]
    src = tmp_path / "nb.ipynb"
    nbformat.write(nb, src)
    r, out = _papermill(tmp_path, src)
    assert r.returncode != 0
    errors = [o for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert len(errors) == 1
    assert errors[0].traceback == ["SourceError: file export.csv, row 3: no column received_at"]
    assert "site-packages" not in json.dumps(errors[0]) and "cchc_analysis/" not in json.dumps(errors[0])


# ------------------------------------------------------------------------------ the CLI

@pytest.mark.parametrize("args, says", [
    (["--years", "2024-2006"], "the range '2024-2006' is reversed; write 2006-2024"),
    (["--years", "20x0"], "'20x0' is not a year or a range of years"),
    (["--years", "2019-2020-2021"], "is not a year or a range"),
    (["--jobs", "0"], "'0': give a whole number of 1 or more"),
    (["--jobs", "-2"], "give a whole number of 1 or more"),
])
def test_cli_argument_messages(args, says, capsys, tmp_path):
    with pytest.raises(SystemExit) as e:
        cli.main(["report", "--out", str(tmp_path), *args])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert says in err
    assert "_years" not in err and "_jobs" not in err and "Traceback" not in err


def test_cli_province_error_is_one_line(capsys, tmp_path, built):
    assert cli.main(["report", "--years", "2019", "--province", "Median", "--out", str(tmp_path)]) == 2
    text = capsys.readouterr()
    lines = [x for x in (text.out + text.err).splitlines() if x.strip()]
    assert len(lines) == 1 and "unknown province code 'Median'" in lines[0]


class _InlinePool(cf.ThreadPoolExecutor):
    def __init__(self, max_workers=None, mp_context=None, initializer=None, initargs=()):
        super().__init__(max_workers=1)  # the initializer only tunes a worker process


def test_years_without_data_are_listed_as_skipped(monkeypatch, tmp_path, built):
    def fake(job):
        job.status = "ok"
        return job
    monkeypatch.setattr(report.cf, "ProcessPoolExecutor", _InlinePool)
    monkeypatch.setattr(report, "_execute", fake)
    jobs = report.plan([2020, 2025], None, "67", tmp_path, 60)
    proc_years = set(report.years_for("procedure_simplification"))
    assert 2025 in proc_years and 2025 not in report.years_for("ranking_trends")   # TTHC facts only
    assert jobs.skipped == {"ranking_trends": [2025]}
    lines: list[str] = []
    rc = report.run_reports(years=[2020, 2025], out_dir=tmp_path, log=lines.append)
    assert rc == 0
    assert "  skipped ranking_trends 2025: no data for those years" in lines
    page = (tmp_path / "index.html").read_text(encoding="utf-8")      # the research panel is on the index
    assert 'href="downloads/panel.dta"' in page and 'href="downloads/panel.codebook.csv"' in page
    assert (tmp_path / "downloads" / "panel.csv").stat().st_size > 50_000


def test_coverage_columns_match_the_readme(capsys, built):
    assert cli.main(["coverage"]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    readme = (paths.ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- coverage:start", 1)[1].split("-->", 1)[1].strip().splitlines()[0]
    names = [c.strip() for c in table.strip("|").split("|")]
    assert names == cli.COVERAGE_HEADERS
    pos = [header.index(n) for n in names]
    assert pos == sorted(pos)
    assert cli.coverage_table().iloc[0].tolist() == ["pci", 2005, "42 / 64", 42, 42, 10, "full"]
