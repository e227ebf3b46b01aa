"""Report notebooks run through the batch runner: CSV tables with real values, HTML without code, cache."""

import pandas as pd
import pytest

from cchc_analysis import report

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory, built):
    out = tmp_path_factory.mktemp("reports")
    rc = report.run_reports(years=[2019, 2022, 2024], notebooks=["ranking_trends", "procedure_simplification"],
                            jobs=2, out_dir=out, log=lambda *_: None)
    assert rc == 0
    return out


def test_full_year_league_table_pci_2019(site):
    t = pd.read_csv(site / "2019" / "ranking_trends" / "league_pci.csv", dtype={"province_code": str})
    assert len(t) == 63
    top = t.iloc[0]
    assert (top.province_code, top.province, top["rank"], top.rank_source) == ("22", "Quảng Ninh", 1, "published")
    assert top.score == pytest.approx(73.396484375)
    dn = t.set_index("province_code").loc["67"]
    assert (dn["rank"], dn.rank_change) == (62, 1)


def test_partial_year_is_marked_and_not_ranked_by_us(site):
    t = pd.read_csv(site / "2022" / "ranking_trends" / "league_pci.csv", dtype={"province_code": str})
    assert set(t.coverage) == {"partial"}
    assert (t.rank_source != "computed").all()  # a partial list is never ranked by us
    assert t.set_index("province_code").loc["22", "rank"] == 1
    cov = pd.read_csv(site / "2022" / "ranking_trends" / "coverage.csv")
    assert cov.set_index("index").loc["PCI", "coverage"] == "một phần / partial"


def test_html_has_no_code_and_spells_the_province(site):
    for nb in ("ranking_trends", "procedure_simplification"):
        page = (site / "2019" / f"{nb}.html").read_text(encoding="utf-8")
        assert "Đắk Nông" in page
        assert "rr.setup" not in page and "pr.setup" not in page and "import " not in page
        assert len(page.encode()) < 2_000_000
    index = (site / "index.html").read_text(encoding="utf-8")
    for y in (2019, 2022, 2024):
        assert f'href="{y}/ranking_trends.html"' in index
    assert "Độ phủ dữ liệu" in index


def test_commentary_states_the_change(site):
    page = (site / "2019" / "ranking_trends.html").read_text(encoding="utf-8")
    assert "Đắk Nông xếp thứ 62/63 về PCI 2019" in page
    assert "up 1 places from 2018" in page or "up 1 place from 2018" in page


def test_second_run_is_cached(site):
    pages = sorted(site.glob("*/*.html"))
    before = {p: p.stat().st_mtime_ns for p in pages}
    lines = []
    rc = report.run_reports(years=[2019, 2022, 2024], notebooks=["ranking_trends", "procedure_simplification"],
                            jobs=2, out_dir=site, log=lines.append)
    assert rc == 0
    assert "(6 unchanged, 0 run)" in lines[0]
    assert {p: p.stat().st_mtime_ns for p in pages} == before
    stamps = list((site / "_executed").glob("*.json"))
    assert len(stamps) == 6


def test_failure_is_reported_and_kept(tmp_path, built, monkeypatch):
    """A notebook-year that fails does not stop the others; the summary names the cell; exit status 1."""
    lines = []
    monkeypatch.setattr(report, "years_for", lambda nb: [2019, 2031] if nb == "ranking_trends" else [])
    rc = report.run_reports(years=[2019, 2031], notebooks=["ranking_trends"], jobs=2, out_dir=tmp_path,
                            log=lines.append)
    assert rc == 1
    text = "\n".join(lines)
    assert "FAILED ranking_trends 2031" in text and "no data for year 2031" in text and "cell" in text
    assert (tmp_path / "_executed" / "ranking_trends_2031.ipynb").exists()
    assert (tmp_path / "2019" / "ranking_trends.html").exists()


def test_kernel_slot_is_taken_while_cells_run_and_given_back(tmp_path, built, monkeypatch):
    """At most one computing kernel per core: papermill calls the hook that takes a slot once the kernel is
    ready, and the slot is free again after a page that fails and after one that succeeds."""
    import threading

    slots = threading.BoundedSemaphore(1)
    monkeypatch.setattr(report, "_KERNEL_SLOTS", slots)
    monkeypatch.setattr(report, "years_for", lambda nb: [2031] if nb == "ranking_trends" else [2024])
    jobs = report.plan([2031], ["ranking_trends"], None, tmp_path, 120) + \
        report.plan([2024], ["procedure_simplification"], None, tmp_path, 120)
    try:
        for job in jobs:
            job.digest = job.tag = report.code_digest()
            report._execute(job)
            assert slots.acquire(blocking=False), job.label  # given back
            slots.release()
    finally:
        report._shutdown_kernel()
    assert [j.status for j in jobs] == ["failed", "ok"]
    assert jobs[1].phases["slot_wait"] is not None and jobs[1].phases["slot_wait"] < 1.0


def _kpis(site, year=2024):
    return pd.read_csv(site / str(year) / "procedure_simplification" / "procedure_kpis.csv")


def test_dak_nong_2024_reproduces_the_article(site):
    k = _kpis(site)
    stated = k[k.kind == "stated"].set_index("kpi").value
    computed = k[k.kind == "computed"].set_index("kpi").value
    assert stated["procedures_total"] == 2006
    assert (stated["procedures_provincial"], stated["procedures_district"],
            stated["procedures_commune"]) == (1675, 202, 129)
    assert (stated["dossiers_received"], stated["dossiers_resolved"],
            stated["dossiers_ahead_of_time"]) == (26131, 22567, 7072)
    assert round(computed["resolution_rate"], 1) == 86.4
    assert round(computed["ahead_share"], 1) == 31.3
    assert stated["on_time_rate"] == 97.4  # as stated
    assert (stated["plan_tasks_done"], stated["plan_tasks_total"]) == (65, 68)
    assert round(computed["plan_completion"], 1) == 95.6 and stated["plan_completion_rate"] == 95.6
    # "147 hồ sơ trực tuyến không sử dụng hồ sơ giấy (142 cấp tỉnh, 5 cấp huyện)": counted as the source words it
    assert (stated["online_paperless_dossiers"], stated["online_paperless_dossiers_provincial"],
            stated["online_paperless_dossiers_district"]) == (147, 142, 5)
    assert round(computed["share_provincial"], 1) == 83.5


def test_dak_nong_2024_consistency_checks(site):
    c = pd.read_csv(site / "2024" / "procedure_simplification" / "consistency_checks.csv")
    assert len(c) >= 5
    assert c.ok.astype(str).isin(["True"]).all(), c[c.ok.astype(str) != "True"]
    row = c[c.check.str.startswith("procedures_provincial + procedures_district + procedures_commune = "
                                   "procedures_total")].iloc[0]
    assert (row.stated, row.computed) == (2006, 2006)
    online = c[c.check.str.startswith("online_paperless_dossiers_provincial + "
                                      "online_paperless_dossiers_district")].iloc[0]
    assert (online.stated, online.computed, online.ok) == (147, 147, True)


def test_dak_nong_targets(site):
    t = pd.read_csv(site / "2024" / "procedure_simplification" / "targets.csv").set_index("index")
    assert t.loc["PAR", "latest"] == "51" or t.loc["PAR", "latest"] == 51
    assert float(t.loc["SIPAS", "latest"]) == 81.21 and t.loc["SIPAS", "gap"] == pytest.approx(8.79)


def test_year_without_province_facts_says_what_is_missing(site):
    page = (site / "2019" / "procedure_simplification.html").read_text(encoding="utf-8")
    assert "Không có số liệu TTHC nào của Đắk Nông cho năm 2019" in page
    wide = pd.read_csv(site / "2019" / "procedure_simplification" / "cross_province_measures.csv",
                       dtype={"province_code": str})
    assert len(wide) == 63 and "PCI time costs" in wide.columns


def test_procedure_notebook_with_a_dossier_export(tmp_path, built, monkeypatch):
    """papermill's own API with dossiers_path: KPIs by level and month, labelled synthetic."""
    import papermill

    from cchc_analysis import paths
    from cchc_analysis.synthetic import write_synthetic

    export = tmp_path / "export.parquet"
    write_synthetic(export, 5000, seed=7)
    monkeypatch.setenv("CCHC_OUTPUT_ROOT", str(tmp_path))
    papermill.execute_notebook(str(paths.NOTEBOOKS / "procedure_simplification.ipynb"), str(tmp_path / "out.ipynb"),
                               parameters={"year": 2024, "province": "67", "dossiers_path": str(export),
                                           "output_dir": str(tmp_path / "tables")},
                               kernel_name=report.KERNEL, progress_bar=False, cwd=str(paths.NOTEBOOKS))
    by_level = pd.read_csv(tmp_path / "tables" / "export_kpis_by_level.csv")
    assert by_level.received.sum() == 5000
    assert set(by_level.level) <= {"tinh", "huyen", "xa"}
    nb = (tmp_path / "out.ipynb").read_text(encoding="utf-8")
    assert "SYNTHETIC" in nb


def test_report_says_when_sources_conflict(site):
    """PAR 2022: Đắk Nông 84.66 ranked 37th while Bình Phước's lower 84.46 is 29th (sources/consistency.py)."""
    t = pd.read_csv(site / "2022" / "ranking_trends" / "conflicts_par.csv", dtype={"province_code": str})
    dn = t[(t.province_code == "67") & (t.field == "rank_order")].iloc[0]
    assert (dn.value_a, dn.value_b, dn.chosen) == (37.0, 29.0, "none")
    html = (site / "2022" / "ranking_trends.html").read_text(encoding="utf-8")
    assert "conflicting sources" in html and "conflicts_par.csv" in html
    assert not (site / "2019" / "ranking_trends" / "conflicts_pci.csv").exists()   # no conflict, no table


def test_procedure_notebook_with_a_bad_dossier_export_stops_with_one_message(tmp_path, built, monkeypatch):
    """A dossier export missing columns: the notebook stops at its export section with one message naming
    the file and the column, shown in the page, and no traceback through library source lines."""
    import json

    import papermill

    from cchc_analysis import paths

    export = tmp_path / "short_export.csv"
    export.write_text("dossier_id,procedure_code,level\nA,1.000001,tinh\n", encoding="utf-8")
    monkeypatch.setenv("CCHC_OUTPUT_ROOT", str(tmp_path))
    with pytest.raises(papermill.PapermillExecutionError) as err:
        papermill.execute_notebook(str(paths.NOTEBOOKS / "procedure_simplification.ipynb"), str(tmp_path / "out.ipynb"),
                                   parameters={"year": 2024, "province": "67", "dossiers_path": str(export),
                                               "output_dir": str(tmp_path / "tables")},
                                   kernel_name=report.KERNEL, progress_bar=False, cwd=str(paths.NOTEBOOKS))
    assert err.value.ename == "SystemExit"
    assert err.value.evalue.startswith("dossier export error: file ") and "short_export.csv" in err.value.evalue
    assert "column 'channel'" in err.value.evalue and err.value.evalue.count("missing column") == 1
    cells = json.loads((tmp_path / "out.ipynb").read_text(encoding="utf-8"))["cells"]
    failed = [c for c in cells if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    assert len(failed) == 1 and "pr.dossier_export(ctx)" in "".join(failed[0]["source"])
    text = json.dumps(failed[0]["outputs"])
    assert "dossier export error" in text and "missing column(s) channel" in text
    assert "dossiers.py" not in text and "procedure_report.py" not in text and "Traceback" not in text
    assert not (tmp_path / "tables" / "export_kpis_by_level.csv").exists()
