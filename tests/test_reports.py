"""Report notebooks run through the batch runner: CSV tables with real values, HTML without code, cache."""
import json
import re

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
    import time
    t0 = time.perf_counter()
    rc = report.run_reports(years=[2019, 2022, 2024], notebooks=["ranking_trends", "procedure_simplification"],
                            jobs=2, out_dir=site, log=lambda *_: None)
    assert rc == 0
    assert time.perf_counter() - t0 < 15
    stamps = list((site / "_executed").glob("*.json"))
    assert len(stamps) == 6


def test_failure_is_reported_and_kept(tmp_path, built, monkeypatch):
    """A notebook-year that fails does not stop the others; the summary names the cell; exit status 1."""
    lines = []
    monkeypatch.setattr(report, "years_for", lambda nb: [2019, 2031] if nb == "ranking_trends" else [])
    rc = report.run_reports(years=[2019, 2031], notebooks=["ranking_trends"], jobs=2, out_dir=tmp_path, log=lines.append)
    assert rc == 1
    text = "\n".join(lines)
    assert "FAILED ranking_trends 2031" in text and "no data for year 2031" in text and "cell" in text
    assert (tmp_path / "_executed" / "ranking_trends_2031.ipynb").exists()
    assert (tmp_path / "2019" / "ranking_trends.html").exists()
