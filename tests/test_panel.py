"""The research panel and its exports: real values, scales per period, comparability groups,
partial years marked, the 2025 units only with a stated method, Stata files read back with labels."""
from __future__ import annotations

import pandas as pd
import pytest

import cchc_analysis as ca
from cchc_analysis import cli, export
from cchc_analysis.panel_data import (PanelError, codebook, comparability_groups, short_label, year_scales)


@pytest.fixture(scope="module")
def pnl(built):
    return ca.panel()


def row(p, code, year):
    r = p[(p.province_code == code) & (p.year == year)]
    assert len(r) == 1
    return r.iloc[0]


def test_panel_keys_and_dak_nong_pci_2020(pnl):
    assert list(pnl.columns[:3]) == ["province_code", "province", "year"]
    assert not pnl.duplicated(["province_code", "year"]).any()
    assert pnl.province_code.map(lambda c: isinstance(c, str) and len(c) == 2).all()
    r = row(pnl, "67", 2020)
    assert r.province == "Đắk Nông"
    assert r.pci_overall == pytest.approx(61.96)
    assert r.pci_overall_rank == 60                          # as published
    assert (r.pci_overall_min, r.pci_overall_max) == (0, 100)
    assert r.pci_overall_table == "full" and r.pci_overall_sample == "full_table"


def test_papi_scale_and_group_change_in_2018(pnl):
    a, b = row(pnl, "67", 2017), row(pnl, "67", 2018)
    assert a.papi_overall == pytest.approx(34.569256, abs=1e-5)
    assert b.papi_overall == pytest.approx(44.587608, abs=1e-5)
    assert (a.papi_overall_min, a.papi_overall_max) == (6, 60)     # six dimensions of 1–10
    assert (b.papi_overall_min, b.papi_overall_max) == (10, 80)    # printed '10-80 điểm'
    assert a.papi_overall_group != b.papi_overall_group
    p = pnl[pnl.papi_overall.notna()]
    assert (p.papi_overall <= p.papi_overall_max).all() and (p.papi_overall >= p.papi_overall_min).all()
    assert set(p[p.year <= 2017].papi_overall_max) == {60} and set(p[p.year >= 2018].papi_overall_max) == {80}
    assert "6–60 (2011–2017); 10–80 (2018–2024)" in codebook(pnl).set_index("column").loc["papi_overall", "scale"]


def test_the_readme_scale_trap_figures(built):
    """README: Đắk Nông's 2017 → 2018 PAPI jump is mostly the two new dimensions."""
    d = ca.panel(indices="papi", indicators=["overall", "d7_environmental_governance", "d8_e_governance"])
    a, b = row(d, "67", 2017), row(d, "67", 2018)
    assert round(b.papi_overall - a.papi_overall, 2) == 10.02
    assert round(b.papi_d7_environmental_governance, 2) == 4.36 and round(b.papi_d8_e_governance, 2) == 3.18
    assert pd.isna(a.papi_d7_environmental_governance)


def test_pci_groups_follow_the_catalogue_breaks(pnl):
    g = pnl.drop_duplicates("year").set_index("year").pci_overall_group.dropna()
    assert g[2005] == 1 and g[2006] == g[2008] == 2 and g[2009] == g[2012] == 3
    assert g[2013] == g[2016] == 4 and g[2017] == g[2020] == 5


def test_partial_years_are_left_out_unless_asked(pnl, built):
    assert pnl[pnl.year >= 2021].pci_overall.isna().all()             # PCI 2021–2024: selected samples
    assert "pci 2021" in pnl.attrs["excluded_partial"]
    assert not any(c.startswith("par_") for c in pnl.columns)          # PAR has no full year
    full = ca.panel(indices="pci", include_partial=True)
    p21 = full[full.year == 2021]
    assert set(p21.pci_overall_table.dropna()) == {"partial"}
    assert "top_list" in set(p21.pci_overall_sample.dropna())
    assert set(full[full.year == 2023].pci_overall_sample.dropna()) <= {"province_profiles", "news_mentions"}
    assert row(full, "67", 2020).pci_overall == pytest.approx(61.96)
    assert full[full.year == 2021].pci_overall_group.dropna().eq(6).all()   # 2021 methodology revision


def test_codebook_in_attrs_and_as_a_table(pnl):
    book = ca.codebook(pnl)
    assert list(book.columns) == ["column", "name_vi", "name_en", "unit", "scale", "source", "methodology_notes",
                                  "label"]
    assert list(book.column) == list(pnl.columns)
    assert book.label.str.len().max() <= 80
    r = book.set_index("column").loc["pci_overall"]
    assert r.name_vi == "Chỉ số PCI có trọng số" and r.unit == "points"
    assert "data/raw/pci/pci_2020_scores.csv" in r.source and "2017" in r.methodology_notes
    assert "papi_overall_group" in pnl.attrs["scale_trap"]


def test_selection_errors(built):
    with pytest.raises(PanelError, match="unknown index 'pcii'"):
        ca.panel(indices="pcii")
    with pytest.raises(PanelError, match="unknown indicator 'overal'"):
        ca.panel(indicators=["overal"])
    with pytest.raises(PanelError, match="units must be"):
        ca.panel(units="34")


def test_units_2025_need_a_method_and_never_ranks(built):
    with pytest.raises(PanelError, match="say how with method="):
        ca.panel(units="2025")
    with pytest.raises(PanelError, match="ranks cannot be aggregated"):
        ca.panel(units="2025", method="rank")
    with pytest.raises(PanelError, match="needs weights"):
        ca.panel(units="2025", method="weighted_mean")
    u = ca.panel(indices="pci", units="2025", method="mean")
    assert not any("rank" in c for c in u.columns)
    assert u.unit_code.nunique() == 34
    r = u[(u.unit_code == "68") & (u.year == 2020)].iloc[0]          # Lâm Đồng = Lâm Đồng, Đắk Nông, Bình Thuận
    p = ca.panel(indices="pci")
    parts = p[(p.year == 2020) & p.province_code.isin(["67", "68", "60"])].pci_overall
    assert r.pci_overall == pytest.approx(parts.mean())
    assert r.pci_overall_n == 3 and r.pci_overall_n_constituents == 3 and bool(r.pci_overall_complete)
    assert "mean of the constituent" in ca.codebook(u).set_index("column").loc["pci_overall", "methodology_notes"]


def test_year_scales_and_groups_on_a_small_catalogue():
    cat = pd.DataFrame({"index_id": ["x", "x"], "indicator": ["overall", "sub"], "scale_min": [0.0, 1.0],
                        "scale_max": [100.0, 10.0], "method_breaks": ["2010", "2012"]})
    sc = year_scales("x", "sub", [2009, 2011], cat)
    assert sc.scale_max.tolist() == [10.0, 10.0]
    assert comparability_groups("x", "sub", [2008, 2009, 2010, 2011, 2012, 2014], cat) == \
        {2008: 1, 2009: 1, 2010: 2, 2011: 2, 2012: 3, 2014: 3}
    assert comparability_groups("x", "overall", [2011, 2013], cat) == {2011: 1, 2013: 1}
    assert short_label("a" * 100) == "a" * 79 + "…" and short_label("ok") == "ok"


# ------------------------------------------------------------------------------ exports

def test_stata_export_reads_back_with_labels(tmp_path, built):
    out = tmp_path / "panel.dta"
    assert cli.main(["export", "panel", "--format", "dta", "--out", str(out)]) == 0
    with pd.io.stata.StataReader(out) as r:
        d = r.read()
        var = r.variable_labels()
        val = r.value_labels()
    a = d[(d.province_code == "67") & (d.year == 2020)].iloc[0]
    assert a.province == "Đắk Nông" and a.pci_overall == pytest.approx(61.96)
    assert var["papi_overall"] == "PAPI aggregate score (unweighted)"
    assert var["province_code"].startswith("Province code")
    assert all(len(v) <= 80 for v in var.values())
    assert val["papi_overall_group"] == {1: "2011–2017", 2: "2018–2024"}
    assert d[(d.province_code == "67") & (d.year == 2017)].papi_overall_group.iloc[0] == "2011–2017"
    assert (tmp_path / "panel.codebook.csv").exists()


def test_csv_and_parquet_exports_with_codebook(tmp_path, built):
    written = export.export("panel", "csv", tmp_path / "p.csv", indices="papi")
    assert [w.name for w in written] == ["p.csv", "p.codebook.csv"]
    back = pd.read_csv(written[0], dtype={"province_code": str})
    assert back[(back.province_code == "67") & (back.year == 2018)].papi_overall_max.iloc[0] == 80
    book = pd.read_csv(written[1])
    assert {"column", "stata_name", "label", "scale"} <= set(book.columns)
    export.export("scores", "parquet", tmp_path / "s.parquet")
    s = pd.read_parquet(tmp_path / "s.parquet")
    assert len(s) == len(ca.load("scores"))
    with pytest.raises(export.ExportError, match="unknown table 'scorez'"):
        export.export("scorez", "csv", tmp_path / "x.csv")


def test_processed_table_as_stata_and_long_names(tmp_path, built):
    export.export("indicators", "dta", tmp_path / "ind.dta")
    with pd.io.stata.StataReader(tmp_path / "ind.dta") as r:
        d = r.read()
        var = r.variable_labels()
    assert "Chỉ số PCI có trọng số" in set(d.name_vi)                  # Vietnamese kept (UTF-8, version 118)
    assert var["scale_max"].startswith("Highest possible value")
    long = "papi_d4_2_limits_on_corruption_in_service_delivery_rank_computed"
    assert len(export.stata_name(long)) == 32 and export.stata_name("pci_overall") == "pci_overall"


def test_cli_export_errors_are_one_line(tmp_path, capsys, built):
    assert cli.main(["export", "panel", "--units", "2025", "--out", str(tmp_path / "u.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "say how with method=" in err[0] and err[0].startswith("cchc export: error:")
    assert cli.main(["export", "panel", "--out", str(tmp_path)]) == 2          # a folder, not a file
    assert "is a folder; name the file" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
