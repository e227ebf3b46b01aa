"""Report parameters: bad values stop `cchc report` with a clear message and a non-zero exit,
before any notebook runs; parameter values are data, never code."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from cchc_analysis import cli, params, paths, report
from cchc_analysis.params import ParameterError

INJECTION = "__import__('os').system('touch {marker}')"


@pytest.fixture
def no_notebook_runs(monkeypatch):
    """Fail the test if the runner starts a worker pool or executes a notebook."""
    calls = []

    def refuse(*a, **k):
        calls.append((a, k))
        raise AssertionError("a notebook was about to run")
    monkeypatch.setattr(report.cf, "ProcessPoolExecutor", refuse)
    monkeypatch.setattr(report, "_execute", refuse)
    return calls


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    rc = cli.main(args)
    out = capsys.readouterr()
    return rc, out.out + out.err


@pytest.mark.parametrize("args, says", [
    (["--province", "6x"], "unknown province code '6x'"),                      # wrong type: not a code
    (["--province", "99"], "unknown province code '99'"),                      # no such province
    (["--years", "2031"], "no data for year(s) 2031 in ranking_trends; years with data: 2005–"),
    (["--years", "1999,2019"], "no data for year(s) 1999"),
    (["--notebooks", "ranking_trend"], "unknown notebook 'ranking_trend'"),    # unknown name
])
def test_bad_parameter_exits_non_zero_without_running(args, says, tmp_path, capsys, built, no_notebook_runs):
    base = ["report", "--years", "2019", "--notebooks", "ranking_trends", "--out", str(tmp_path)]
    rc, text = run_cli(base + args, capsys)
    assert rc == 2
    assert says in text, text
    assert "error" in text
    assert no_notebook_runs == []
    assert list(tmp_path.iterdir()) == []                   # not even an index page


def test_year_that_is_not_a_number_is_an_argument_error(tmp_path, capsys, no_notebook_runs):
    with pytest.raises(SystemExit) as e:
        cli.main(["report", "--years", "twenty", "--out", str(tmp_path)])
    assert e.value.code == 2
    assert "--years" in capsys.readouterr().err
    assert no_notebook_runs == []


def test_code_in_a_parameter_is_rejected_and_never_run(tmp_path, capsys, built, no_notebook_runs):
    marker = tmp_path / "pwned"
    evil = INJECTION.format(marker=marker)
    rc, text = run_cli(["report", "--years", "2019", "--notebooks", "ranking_trends", "--province", evil,
                        "--out", str(tmp_path / "out")], capsys)
    assert rc == 2 and "unknown province code" in text
    for check in (lambda: params.as_province(evil), lambda: params.as_year(evil),
                  lambda: params.as_indices(evil, ["pci", "papi"]), lambda: params.as_int("window", evil, 1, 20)):
        with pytest.raises(ParameterError):
            check()
    assert not marker.exists()
    assert no_notebook_runs == []


def test_injected_parameters_are_literals():
    """papermill writes each parameter as a Python literal (repr), so a string is only ever a string."""
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    marker = "/nonexistent/pwned"
    nb = load_notebook_node(str(paths.NOTEBOOKS / "ranking_trends.ipynb"))
    evil = INJECTION.format(marker=marker)
    nb = parameterize_notebook(nb, {"year": 2019, "province": evil, "output_dir": "x"}, kernel_name="python3")
    cell = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    tree = ast.parse(cell.source)
    values = {}
    for stmt in tree.body:
        assert isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant), ast.dump(stmt)
        values[stmt.targets[0].id] = ast.literal_eval(stmt.value)
    assert values["province"] == evil


def test_no_eval_or_exec_in_the_package():
    for path in sorted((paths.ROOT / "src" / "cchc_analysis").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in ("eval", "exec", "compile"), f"{path.name}:{node.lineno}"


@pytest.mark.parametrize("value", [2019.5, True, None, [2019], "19", "2019; rm -rf /"])
def test_year_of_the_wrong_type(value):
    with pytest.raises(ParameterError, match="year must be a whole number"):
        params.as_year(value)


def test_year_without_data_names_the_years_with_data():
    with pytest.raises(ParameterError, match=r"no data for year 2031; years with data: 2005–2024"):
        params.as_year(2031, list(range(2005, 2025)))
    assert params.as_year("2019", [2019]) == 2019


@pytest.mark.parametrize("value, says", [
    (67.0, "province must be a code"), (True, "province must be a code"), ("Đắk Nôngg", "unknown province code"),
    ("100", "unknown province code"), ("6 7", "unknown province code"), ("Median", "unknown province code"),
])
def test_province_of_the_wrong_type_or_unknown(value, says):
    with pytest.raises(ParameterError, match=says):
        params.as_province(value)
    assert params.as_province(67) == params.as_province("67") == "67"
    assert params.as_province("Đắk Nông") == "67"           # names are accepted too (test_params_forgive)


def test_other_parameter_types():
    with pytest.raises(ParameterError, match="window must be a whole number from 1 to 20"):
        params.as_int("window", "5", 1, 20)
    with pytest.raises(ParameterError, match="no data for sipas"):
        params.as_indices(["pci", "sipas"], ["pci", "papi"])
    with pytest.raises(ParameterError, match="indices must be a list"):
        params.as_indices([1, 2], ["pci"])


def test_unknown_parameter_name_is_an_error():
    nb = paths.NOTEBOOKS / "ranking_trends.ipynb"
    with pytest.raises(ParameterError,
                       match="unknown parameter.*colour.*declares: indices, output_dir, province, window, year"):
        params.check_names(nb, {"year": 2019, "colour": "red"})
    assert set(params.check_names(nb, {"year": 2019, "province": "67"})) >= {"year", "province"}


def test_unknown_parameter_name_stops_the_plan(monkeypatch, tmp_path, built, no_notebook_runs):
    """If the runner ever passed a name a notebook does not declare, the plan fails before any run."""
    original = report.check_names
    monkeypatch.setattr(report, "check_names", lambda nb, given: original(nb, {**given, "colour": "red"}))
    lines: list[str] = []
    rc = report.run_reports(years=[2019], notebooks=["ranking_trends"], out_dir=tmp_path, log=lines.append)
    assert rc == 2 and "unknown parameter(s) colour" in "\n".join(lines)
    assert no_notebook_runs == [] and list(tmp_path.iterdir()) == []


def test_output_dir_parameter_is_checked_by_the_notebook_library(tmp_path):
    """The notebooks resolve output_dir through params.safe_dir (see test_safe_output for more)."""
    with pytest.raises(ParameterError, match="outside the project"):
        params.safe_dir("../../etc", Path("reports"))
    assert json.dumps(str(params.safe_dir("", paths.REPORTS))) == json.dumps(str(paths.REPORTS))
