"""PCI workbooks 2005-2019 (data/raw/pci/vcci_excel): real values, ranks, layouts, errors."""
from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd
import pytest

from cchc_analysis import paths, schema
from cchc_analysis.data import check_scales, read_indicators
from cchc_analysis.errors import SourceError
from cchc_analysis.ranking import competition_rank
from cchc_analysis.sources import pci_excel
from cchc_analysis.sources.base import SCORE_COLUMNS
from cchc_analysis.sources.pci_excel import Layout, read_all, read_pci_workbook

WB_DIR = paths.RAW / "pci" / "vcci_excel"
SUB_2006 = {"entry_costs", "land_access", "transparency", "time_costs", "informal_charges", "soe_bias",
            "proactivity", "business_support", "labor_training", "legal_institutions"}
SUB_2009 = SUB_2006 - {"soe_bias"}
SUB_2013 = SUB_2009 | {"policy_bias"}
EXPECTED_INDICATORS = {
    2005: {"overall", "entry_costs", "land_access", "transparency", "time_costs", "informal_charges",
           "central_policy_implementation", "soe_bias", "proactivity", "business_support"},
    2006: {"overall"} | SUB_2006,
    2007: {"overall", "unweighted"} | SUB_2006,
    2008: {"overall", "unweighted"} | SUB_2006,
    2009: {"overall"} | SUB_2009,
    2010: {"overall", "unweighted"} | SUB_2009,
    2011: {"overall"} | SUB_2009,
    2012: {"overall"} | SUB_2009,
    **{y: {"overall"} | SUB_2013 for y in range(2013, 2020)},
}
PROVINCES = {2005: 42, 2006: 64, 2007: 64, 2008: 64, **{y: 63 for y in range(2009, 2020)}}


@pytest.fixture(scope="module")
def pci() -> pd.DataFrame:
    return read_all(paths.RAW)


def _one(df, year, code, indicator):
    rows = df[(df.year == year) & (df.province_code == code) & (df.indicator == indicator)]
    assert len(rows) == 1, (year, code, indicator, len(rows))
    return rows.iloc[0]


@functools.cache
def _sheet(year: int, sheet: str) -> pd.DataFrame:
    path = next(WB_DIR.glob(f"PCI_{year}.xls*"))
    return pd.read_excel(path, engine="calamine", sheet_name=sheet, header=None)


def _cell(year: int, sheet: str, ref: str):
    col = ord(ref[0]) - 65
    return _sheet(year, sheet).iloc[int(ref[1:]) - 1, col]


# ------------------------------------------------------------------ shape and provenance

def test_columns_schema_and_provenance(pci):
    assert list(pci.columns) == list(SCORE_COLUMNS)
    schema.validate("scores", pci)
    assert set(pci.index_id) == {"pci"} and set(pci.coverage) == {"full"} and set(pci.unit) == {"points"}
    assert set(pci.source_url) == {"https://pcivietnam.vn"}
    assert set(pci.source_file) == {f"data/raw/pci/vcci_excel/{p.name}" for p in WB_DIR.glob("PCI_*")}
    assert pci.value.notna().all()
    assert not pci.duplicated(["year", "province_code", "indicator"]).any()


def test_row_counts_per_year(pci):
    counts = pci.groupby("year").size().to_dict()
    assert counts == {y: PROVINCES[y] * len(EXPECTED_INDICATORS[y]) for y in range(2005, 2020)}
    assert counts[2019] == 693 and counts[2005] == 420


@pytest.mark.parametrize("year", range(2005, 2020))
def test_indicators_and_provinces_per_year(pci, year):
    g = pci[pci.year == year]
    assert set(g.indicator) == EXPECTED_INDICATORS[year]
    assert g.groupby("indicator").province_code.nunique().eq(PROVINCES[year]).all()


def test_ha_tay_in_2005_to_2008_only(pci):
    years = set(pci[pci.province_code == "28"].year)
    assert years == {2005, 2006, 2007, 2008}
    assert _one(pci, 2005, "28", "overall").published_rank == 42       # last of 42
    assert _one(pci, 2007, "28", "overall").published_tier == "Trung bình"


def test_2019_quang_ninh_first_of_63(pci):
    qn = _one(pci, 2019, "22", "overall")
    assert qn.value == 73.396484375 and qn.published_rank == 1
    assert qn.source_locator == "Summary!C49"
    assert _cell(2019, "Summary", "A49") == "Quang Ninh" and _cell(2019, "Summary", "C49") == qn.value
    assert pci[(pci.year == 2019) & (pci.indicator == "overall")].province_code.nunique() == 63


def test_full_precision_kept(pci):
    assert _one(pci, 2014, "45", "entry_costs").value == 9.21357822418213      # Quảng Trị, float as stored
    assert _one(pci, 2005, "82", "overall").value == 55.89                    # Tiền Giang, stored with 2 decimals
    assert _one(pci, 2011, "01", "overall").value == 58.28                    # 2011 stores PCI rounded


# ------------------------------------------------------------------ spot checks by cell

@pytest.mark.parametrize("year,code,indicator,sheet,ref,rank", [
    (2019, "22", "business_support", "Summary", "K49", None),
    (2019, "01", "policy_bias", "Summary", "I25", None),
    (2013, "84", "entry_costs", "Summary", "C2", 1),           # Trà Vinh, first pair sorted by its score
    (2013, "82", "legal_institutions", "Summary", "U2", 1),    # Tiền Giang
    (2008, "28", "land_access", "Tổng hợp", "E52", 50),        # Hà Tây, position 50 (A52)
    (2005, "28", "soe_bias", "Bảng tóm tắt chỉ số", "L10", None),
    (2005, "28", "central_policy_implementation", "Bảng tóm tắt chỉ số", "K10", None),
    (2007, "28", "unweighted", "Tóm tắt các chỉ số PCI ", "O42", None),
])
def test_sub_index_cells(pci, year, code, indicator, sheet, ref, rank):
    row = _one(pci, year, code, indicator)
    assert row.value == _cell(year, sheet, ref)
    assert row.source_locator == f"{sheet}!{ref}"
    assert (pd.isna(row.published_rank) if rank is None else row.published_rank == rank)


def test_specific_values(pci):
    assert _one(pci, 2005, "28", "soe_bias").value == 4.267811435023444
    assert _one(pci, 2013, "84", "entry_costs").value == 9.468455
    assert _one(pci, 2008, "48", "entry_costs").value == 9.360684          # Đà Nẵng, C3
    assert _one(pci, 2010, "48", "overall").published_tier == "Rất tốt"
    assert _one(pci, 2013, "48", "overall").published_tier == "Excellent"  # English sheet


def test_2005_tiers_from_merged_cells(pci):
    """The 2005 tier is written once per group in merged cells D2:D8, D9:D21, ..."""
    assert _one(pci, 2005, "48", "overall").published_tier == "Tốt"       # Đà Nẵng, rank 2 (D3 is blank)
    assert _one(pci, 2005, "34", "overall").published_tier == "Khá"       # Thái Bình, rank 8 (D9)
    assert _one(pci, 2005, "28", "overall").published_tier == "Thấp"      # Hà Tây, rank 42
    tiers = pci[(pci.year == 2005) & (pci.indicator == "overall")].published_tier
    assert tiers.value_counts().to_dict() == {"Khá": 13, "Trung bình": 8, "Tốt": 7,
                                              "Tương đối thấp": 7, "Thấp": 7}


# ------------------------------------------------------------------ ranks

def _competition_rank(values: pd.Series) -> pd.Series:
    return competition_rank(values, decimals=None)


@pytest.mark.parametrize("year", range(2005, 2020))
def test_printed_rank_is_competition_rank_of_stored_score(pci, year):
    """Ranking the stored (unrounded) weighted scores "1,2,2,4" gives the printed rank, except
    2011, whose workbook stores PCI rounded to 2 decimals: Bình Thuận and Hà Giang both read
    57.62 but are printed 40 and 41."""
    g = pci[(pci.year == year) & (pci.indicator == "overall")].set_index("province_code")
    assert g.published_rank.notna().all()
    differ = g.index[_competition_rank(g.value) != g.published_rank]
    if year == 2011:
        assert list(differ) == ["02"]                     # printed 41, computed 40
        assert g.loc[["60", "02"], "published_rank"].tolist() == [40, 41]
        assert _competition_rank(g.value).loc[["60", "02"]].tolist() == [40, 40]
    else:
        assert list(differ) == []


@pytest.mark.parametrize("year", range(2005, 2020))
def test_ties_at_2_decimals_are_not_ties_in_print(pci, year):
    """Scores equal at 2 decimals (as published in reports) still get distinct printed ranks,
    ordered by the unrounded score: ranking at 2 decimals does not reproduce the print."""
    g = pci[(pci.year == year) & (pci.indicator == "overall")]
    for _, tied in g.groupby(g.value.round(2)):
        assert tied.published_rank.is_unique
        if year != 2011:
            assert tied.sort_values("value", ascending=False).published_rank.is_monotonic_increasing
    n_tied = int(g.value.round(2).duplicated(keep=False).sum())
    assert n_tied == {2005: 0, 2010: 0, 2014: 4, 2015: 8, 2016: 7, 2018: 5, 2017: 4, 2019: 4}.get(year, 2)
    at_2dp = competition_rank(g.value, decimals=2)
    n_wrong = int((at_2dp != g.published_rank).sum())
    assert n_wrong == {2005: 0, 2010: 0, 2014: 2, 2015: 4, 2016: 4, 2017: 2, 2018: 3, 2019: 2}.get(year, 1)


def test_sub_index_positions_are_competition_ranks(pci):
    subs = pci[(pci.indicator != "overall") & pci.published_rank.notna()]
    assert set(subs.year) == {2008, 2010, 2011, 2012, 2013, 2014, 2015, 2016}
    for _, g in subs.groupby(["year", "indicator"]):
        assert (_competition_rank(g.value) == g.published_rank).all()


@pytest.mark.parametrize("year", [2008, 2010, 2011, 2012, 2013, 2014, 2015, 2016, 2017, 2018, 2019])
def test_highlighted_province_below_table_matches(pci, year):
    """VCCI repeats one province below the table (Hà Nội; HCMC 2013; Yên Bái 2015-16), in the
    pairs years followed by its ranks labelled 'Thứ tự'/'Xếp hạng'/'Ranking': they equal what
    is read from the table (which also shows the positions are VCCI's sub-index ranks)."""
    from cchc_analysis.errors import CchcError
    from cchc_analysis.provinces import to_code

    def code_of(row):
        first = next((v for v in row if isinstance(v, str) and v.strip()), None)
        try:
            return to_code(first) if first else None
        except CchcError:
            return None

    layout = pci_excel.LAYOUTS[year]
    path = next(WB_DIR.glob(f"PCI_{year}.xls*"))
    name, rows, _ = pci_excel._load_sheet(path, pci_excel._open_workbook(path), layout.sheets[0])
    start, roles = pci_excel._header_roles(path, year, name, rows, layout)
    below = rows[start + PROVINCES[year]:]
    i = next(i for i, r in enumerate(below) if code_of(r))
    code, highlight = code_of(below[i]), below[i]
    rank_row = below[i + 1] if layout.name == "pairs" else None
    checked = 0
    for c, role in roles.items():
        if role in pci_excel.VALUE_ROLES:
            row = _one(pci, year, code, role)
            assert row.value == highlight[c]
            if rank_row is not None:
                assert row.published_rank == rank_row[c]
            checked += 1
    assert checked == len(EXPECTED_INDICATORS[year])
    assert code == {2013: "79", 2015: "15", 2016: "15"}.get(year, "01")


# ------------------------------------------------------------------ rows that are not provinces

def test_summary_rows_never_read(pci):
    def rows_read(year):
        locs = pci[pci.year == year].source_locator.str.extract(r"!([A-Z]+)(\d+)$")[1].astype(int)
        return set(locs)
    assert max(rows_read(2019)) == 64        # 66 Ha Noi (copy), 67 Min, 68 Median, 69 Max
    assert max(rows_read(2017)) == 64
    assert max(rows_read(2006)) == 66        # 67 MIN, 68 MAX directly under the provinces
    assert max(rows_read(2007)) == 65        # 68 Min, 69 Max, 70 Trung vị
    assert max(rows_read(2010)) == 64        # 66 repeated header, 67 Ha Noi, 68 Thứ tự
    assert max(rows_read(2008)) == 66        # 69 Hà Nội, 70 Xếp hạng
    assert [_cell(2019, "Summary", f"A{r}") for r in (67, 68, 69)] == ["Min", "Median", "Max"]


# ------------------------------------------------------------------ errors

def test_missing_sheet_names_the_file(monkeypatch):
    monkeypatch.setitem(pci_excel.LAYOUTS, 2019, Layout("rows", ("Tổng hợp",)))
    with pytest.raises(SourceError) as err:
        read_pci_workbook(WB_DIR / "PCI_2019.xlsx", 2019)
    assert err.value.file.endswith("PCI_2019.xlsx") and err.value.sheet == "Tổng hợp"
    assert "not found" in str(err.value)


def test_stale_sheet_of_another_year_raises(monkeypatch):
    """PCI_2014.xlsx also has a hidden 'Summary' sheet, a copy of PCI 2013."""
    monkeypatch.setitem(pci_excel.LAYOUTS, 2014, Layout("pairs", ("Summary",)))
    with pytest.raises(SourceError, match="PCI 2013, expected 2014"):
        read_pci_workbook(WB_DIR / "PCI_2014.xlsx", 2014)


def test_unknown_year_and_missing_file_raise(tmp_path):
    with pytest.raises(SourceError, match="no layout"):
        read_pci_workbook(WB_DIR / "PCI_2019.xlsx", 2004)
    with pytest.raises(SourceError, match="file not found"):
        read_pci_workbook(tmp_path / "PCI_2019.xlsx", 2019)


def test_deterministic():
    a = read_pci_workbook(WB_DIR / "PCI_2012.xlsx", 2012)
    b = read_pci_workbook(Path(WB_DIR / "PCI_2012.xlsx"), 2012)
    pd.testing.assert_frame_equal(a, b)
    assert a.equals(a.sort_values(["province_code", "indicator"]).reset_index(drop=True))


# ------------------------------------------------------------------ catalogue

def test_catalogue_covers_every_indicator_and_scale(pci):
    cat = read_indicators()
    schema.validate("indicators", cat)
    pci_cat = cat[cat.index_id == "pci"].set_index("indicator")
    assert set(pci.indicator) <= set(pci_cat.index)
    assert {"overall", "unweighted", "entry_costs", "land_access", "transparency", "time_costs",
            "informal_charges", "policy_bias", "proactivity", "business_support", "labor_training",
            "legal_institutions", "soe_bias", "central_policy_implementation"} == set(pci_cat.index)
    assert check_scales(pci, cat) == []
    for ind, g in pci.groupby("indicator"):
        row = pci_cat.loc[ind]
        assert g.year.min() >= row.first_year
        assert pd.isna(row.last_year) or g.year.max() <= row.last_year
    assert "2021" in pci_cat.loc["business_support", "notes"]
    assert pci_cat.loc["overall", "method_breaks"].split(";")[-2:] == ["2017", "2021"]
    assert not set(pci[pci.indicator == "policy_bias"].year) & {2009, 2010, 2011, 2012}


def test_unknown_header_raises_with_its_cell(monkeypatch):
    rules = tuple(r for r in pci_excel.HEADER_RULES if r[1] != "labor_training")
    monkeypatch.setattr(pci_excel, "HEADER_RULES", rules)
    with pytest.raises(SourceError, match="Labor Policy") as err:
        read_pci_workbook(WB_DIR / "PCI_2019.xlsx", 2019)
    assert (err.value.sheet, err.value.row, err.value.column) == ("Summary", 1, "L")
