"""PAPI reader: real values from data/raw/papi."""
from __future__ import annotations

import pandas as pd
import pytest

from cchc_analysis import paths, select
from cchc_analysis.errors import SourceError
from cchc_analysis.provinces import provinces_63
from cchc_analysis.sources import papi
from cchc_analysis.sources.base import CONFLICT_COLUMNS, SCORE_COLUMNS

RAW = paths.RAW / "papi"
OFFICIAL = RAW / "official_excel"
DIMS = list(papi.DIMENSIONS.values())


@pytest.fixture(scope="module")
def result():
    return papi.read_all(RAW)


@pytest.fixture(scope="module")
def scores(result):
    return result[0]


def one(scores, year, code, indicator):
    row = scores[(scores.year == year) & (scores.province_code == code) & (scores.indicator == indicator)]
    assert len(row) == 1, (year, code, indicator, len(row))
    return row.iloc[0]


def test_columns_sorted_and_unique(result):
    scores, conflicts = result
    assert list(scores.columns) == list(SCORE_COLUMNS)
    assert list(conflicts.columns) == list(CONFLICT_COLUMNS)
    assert not scores.duplicated(papi.KEY).any()
    assert scores.equals(scores.sort_values(papi.KEY, kind="stable").reset_index(drop=True))
    assert scores["value"].notna().all()
    assert set(scores.index_id) == {"papi"} and set(scores.unit) == {"points"}
    assert scores["source_file"].str.startswith("data/raw/papi/").all()
    assert scores["source_url"].str.len().gt(0).all()


def test_hanoi_2019_unweighted_and_weighted(scores):
    o = one(scores, 2019, "01", "overall")
    w = one(scores, 2019, "01", "overall_weighted")
    assert o.value == 41.53302001953125
    assert w.value == 43.52419662475586
    assert o.source_file == "data/raw/papi/official_excel/2019_PAPI_Provincial_indicators2019_VIE_ENG.xlsx"
    assert o.source_locator == "2019PAPI_Indicators_VIE!C7" and w.source_locator == "2019PAPI_Indicators_VIE!C3"
    assert scores[scores.indicator == "overall_weighted"].year.unique().tolist() == [2019]


def test_ha_tinh_2015_dimensions_match_papi_org_profile(scores):
    got = [round(one(scores, 2015, "42", d).value, 2) for d in DIMS[:6]]
    assert got == [6.44, 7.24, 7.51, 6.67, 7.3, 7.17]
    assert one(scores, 2015, "42", "d1_participation").source_locator == "2015_PAPI!D30"


def test_quang_ninh_2020_overall(scores):
    r = one(scores, 2020, "22", "overall")
    assert round(r.value, 3) == 48.811  # vietnamplus printed "48.881"; news.gov.vn 48.811
    assert r.coverage == "full" and r.source_url.startswith("github:tunah72/papi-dashboard@")


def test_2014_blank_provinces_are_missing_not_zero(scores):
    y = scores[scores.year == 2014]
    assert y[y.indicator == "overall"].province_code.nunique() == 61
    assert not y.province_code.isin(["24", "87"]).any()  # Bắc Giang, Đồng Tháp: aggregate printed 0
    assert (y[y.indicator == "overall"].value > 30).all()


def test_2018_quang_ninh_dong_thap_blank_in_d2_d4(scores):
    y = scores[scores.year == 2018]
    for code in ("22", "87"):
        inds = set(y[y.province_code == code].indicator)
        assert not inds & {"d2_transparency", "d4_control_of_corruption", "overall", "d2_1_access_to_information"}
        assert {"d1_participation", "d8_e_governance", "d5_public_admin_procedures"} <= inds
    assert y[y.indicator == "overall"].province_code.nunique() == 61
    assert one(scores, 2018, "01", "overall").value == 42.3194694519043


def test_only_real_provinces(scores):
    valid = set(provinces_63()["code"])
    assert set(scores.province_code) <= valid
    assert not scores.source_locator.str.contains("!A65|!B65|!C65", regex=True).any()  # "999 Highest" row
    counts = scores[scores.year <= 2019].groupby("year").province_code.nunique()
    assert counts.max() == 63 and counts.loc[2014] == 61


@pytest.mark.parametrize("year", range(2011, 2025))
def test_overall_is_sum_of_dimensions(scores, year):
    n = 6 if year < 2018 else 8
    w = scores[scores.year == year].pivot(index="province_code", columns="indicator", values="value")
    w = w.dropna(subset=DIMS[:n] + ["overall"])
    assert len(w) >= 60
    assert ((w[DIMS[:n]].sum(axis=1) - w["overall"]).abs() <= 1e-4).all()


def test_2020_2024_author_rank_and_tier_ignored(scores):
    y = scores[scores.year >= 2020]
    assert y.published_rank.isna().all() and y.published_tier.isna().all()
    assert y[y.indicator == "overall"].groupby("year").size().to_dict() == {2020: 63, 2021: 60, 2022: 61,
                                                                             2023: 61, 2024: 61}
    # 2022 Bắc Giang: some dimensions, no aggregate
    bg = set(y[(y.year == 2022) & (y.province_code == "24")].indicator)
    assert bg == {"d3_vertical_accountability", "d6_public_service_delivery", "d7_environmental_governance",
                  "d8_e_governance"}


def test_groups_2019_aggregate_quartiles_and_attached(scores):
    g = papi.read_groups_2018_2019(RAW / papi.GROUPS_FILE)
    agg19 = g[(g.year == 2019) & (g.indicator == "overall")]
    assert agg19.tier.value_counts().to_dict() == {"Best Performers": 16, "High Average": 16,
                                                   "Low Average": 15, "Poor Performers": 16}
    agg18 = g[(g.year == 2018) & (g.indicator == "overall")]
    assert len(agg18) == 61 and set(agg18.legend_note) == {"legend taken from PAPI 2018 eng.xlsx; same fill scheme"}
    attached = scores[(scores.year == 2019) & (scores.indicator == "overall")].published_tier
    assert attached.value_counts().to_dict() == {"Best Performers": 16, "High Average": 16,
                                                 "Low Average": 15, "Poor Performers": 16}
    assert one(scores, 2019, "01", "overall").published_tier == "Poor Performers"
    assert scores.published_tier.notna().sum() == len(g)
    _, problems = select.select(pd.concat([scores, papi.group_candidates(g)], ignore_index=True))
    assert problems.empty
    # a group row without a score row is reported (the selection step attaches the groups)
    orphan = papi.group_candidates(g[g.indicator == "d7_environmental_governance"].iloc[[0]].assign(year=2017))
    _, problems = select.select(pd.concat([scores, orphan], ignore_index=True))
    assert len(problems) == 1 and "without a score" in problems.iloc[0].reason


GROUPS = "data/raw/papi/" + papi.GROUPS_FILE
WORKBOOK = "data/raw/papi/official_excel/" + papi.COMPILED_FILE


def _row(file, value, tier=None, rank=None, loc="row 2", year=2019):
    return {"index_id": "papi", "year": year, "province_code": "01", "indicator": "overall", "value": value,
            "unit": "points", "published_rank": rank, "published_tier": tier, "coverage": "full",
            "source_file": file, "source_locator": loc, "source_url": None}


def test_field_wise_fill_adds_the_group_tier_and_checks_its_value():
    """Hand-made: a lower-priority source listed under `fill` supplies a tier the winner lacks, never a value."""
    win, conf = select.select(pd.DataFrame([_row(WORKBOOK, 41.5, loc="2019_PAPI!C7"),
                                            _row(GROUPS, 41.5, "Poor Performers")]))
    assert len(win) == 1 and conf.empty
    w = win.iloc[0]
    assert (w.value, w.published_tier, w.source_file, w.source_locator) == (41.5, "Poor Performers", WORKBOOK,
                                                                            "2019_PAPI!C7")
    # the value printed beside the group differs: the workbook's value is kept, the group's tier still attached
    win, conf = select.select(pd.DataFrame([_row(WORKBOOK, 41.5), _row(GROUPS, 41.6, "Poor Performers")]))
    assert win.iloc[0].value == 41.5 and win.iloc[0].published_tier == "Poor Performers"
    assert conf[["field", "value_a", "value_b", "chosen"]].values.tolist() == [["value", 41.5, 41.6, "a"]]
    assert conf.iloc[0].reason == "official workbook preferred over quartile group"
    # a tier the winner has is kept; a value the winner lacks is never filled
    win, _ = select.select(pd.DataFrame([_row(WORKBOOK, float("nan"), "Best Performers", rank=3),
                                         _row(GROUPS, 41.6, "Poor Performers")]))
    assert pd.isna(win.iloc[0].value) and win.iloc[0].published_tier == "Best Performers"
    # a group alone is not a score (emit no): it becomes a conflict
    win, conf = select.select(pd.DataFrame([_row(GROUPS, 41.6, "Poor Performers", year=2017)]))
    assert win.empty and conf.iloc[0].chosen == "none" and "without a score" in conf.iloc[0].reason


def test_year_workbooks_agree_with_compiled(result):
    assert papi.read_year_workbooks(OFFICIAL).empty
    assert result[1].empty  # nor do the 2023 excerpt and the group values conflict
    other = papi.year_workbook_values(OFFICIAL)
    assert len(other) > 24000
    files = set(other.source_file.str.rsplit("/", n=1).str[1])
    assert {f"PAPI_{y}_eng.xlsx" for y in range(2011, 2020)} <= files
    assert {papi.AGGREGATE_2018_FILE, papi.INDICATORS_2019_FILE, papi.FULL_2019_FILE} <= files


def test_compare_reports_a_changed_value(scores):
    other = scores[(scores.year == 2015) & (scores.province_code == "42")].copy()
    other.loc[other.indicator == "d1_participation", "value"] += 0.01
    c = papi.compare(scores, other, "test", papi.CROSS_CHECK_TOLERANCE)
    assert c.indicator.tolist() == ["d1_participation"] and c.chosen.tolist() == ["a"]
    other.loc[other.indicator == "d2_transparency", "value"] = float("nan")  # a blank cell
    c = papi.compare(scores, other, "test", papi.CROSS_CHECK_TOLERANCE)
    assert c.indicator.tolist() == ["d1_participation", "d2_transparency"]
    assert c.reason.iloc[1] == "test: blank in the other source"


def test_one_dimension_sheets_hold_stale_copies():
    """PAPI_2012_eng 'Dimension 1-6' repeat 2011; PAPI_2014_eng 'Dimension 3' repeats 2013."""
    c = papi.read_year_workbooks(OFFICIAL, dimension_sheets=True)
    where = c.source_b.str.extract(r"(PAPI_\d{4}_eng\.xlsx)#([^!]+)!")
    assert set(map(tuple, where.drop_duplicates().values)) == (
        {("PAPI_2012_eng.xlsx", f"Dimension {i}") for i in range(1, 7)} | {("PAPI_2014_eng.xlsx", "Dimension 3")})
    compiled = papi.read_compiled(OFFICIAL / papi.COMPILED_FILE)
    for year, copied_from in ((2012, 2011), (2014, 2013)):
        cc = c[c.year == year].merge(compiled[compiled.year == copied_from], on=["province_code", "indicator"])
        assert len(cc) > 200 and (cc.value_b == cc.value).all()


def test_2023_excerpt_subdimensions_and_d6_kept_from_csv(scores):
    y = scores[(scores.year == 2023) & (scores.coverage == "partial")]
    assert y.groupby("indicator").size().to_dict() == {f"d6_{i}_{n}": 18 for i, n in (
        (1, "public_health"), (2, "public_primary_education"), (3, "basic_infrastructure"), (4, "law_and_order"))}
    assert one(scores, 2023, "01", "d6_1_public_health").value == 1.7029
    d6 = one(scores, 2023, "01", "d6_public_service_delivery")
    assert d6.coverage == "full" and d6.source_file.endswith(papi.CSV_2020_2024)
    assert "22" not in set(y.province_code)  # "Quang Ninh*" row is blank
    excerpt = papi.read_2023_excerpt(RAW / papi.EXCERPT_2023_FILE)
    csv = papi.read_2020_2024(RAW / papi.CSV_2020_2024)
    won, conflicts = select.select(pd.concat([csv, excerpt], ignore_index=True))  # the excerpt's D6 lose to the CSV
    kept = won[won.source_file == excerpt.source_file.iloc[0]]
    assert conflicts.empty and len(kept) == 72
    bumped = csv.copy()
    hit = (bumped.year == 2023) & (bumped.province_code == "01") & (bumped.indicator == "d6_public_service_delivery")
    bumped.loc[hit, "value"] += 0.0001
    _, conflicts = select.select(pd.concat([bumped, excerpt], ignore_index=True))
    assert conflicts[["province_code", "indicator"]].values.tolist() == [["01", "d6_public_service_delivery"]]


def test_sub_dimension_ids_follow_composition(scores):
    years = scores.groupby("indicator").year.agg(["min", "max"])
    assert tuple(years.loc["d3_2_peoples_inspection_boards"]) == (2011, 2015)
    assert tuple(years.loc["d3_2_responsive_to_citizen_actions"]) == (2016, 2017)
    assert tuple(years.loc["d3_3_peoples_inspection_boards"]) == (2016, 2017)
    assert tuple(years.loc["d2_1_poverty_lists"]) == (2011, 2017)
    assert tuple(years.loc["d2_2_poverty_lists"]) == (2018, 2019)
    assert tuple(years.loc["d8_1_access_to_e_government_portals_2018"]) == (2018, 2018)
    assert tuple(years.loc["d8_3_e_responsiveness"]) == (2019, 2019)
    # the 2011 ENG workbook labels column 2.1 "Access to Information"; it is Poverty Lists
    assert one(scores, 2011, "01", "d2_1_poverty_lists").value == 2.566878


def test_unknown_sub_dimension_header_raises():
    head = pd.read_excel(OFFICIAL / papi.COMPILED_FILE, engine="calamine", sheet_name="2011_PAPI", header=None, nrows=2)
    eng, vie = head.iloc[0].tolist(), head.iloc[1].tolist()
    papi._compiled_layout("f.xlsx", "2011_PAPI", eng, vie)  # the real header passes
    eng[eng.index("Community Investment Boards")] = "Something New"
    with pytest.raises(SourceError, match="Something New"):
        papi._compiled_layout("f.xlsx", "2011_PAPI", eng, vie)


def test_catalogue_matches_data(scores):
    cat = pd.read_csv(paths.REFERENCE / "indicators" / "papi.csv", dtype=str, keep_default_na=False)
    assert list(cat.columns) == ["index_id", "indicator", "name_vi", "name_en", "scale_min", "scale_max", "unit",
                                 "first_year", "last_year", "years_not_measured", "method_breaks", "notes"]
    assert not cat.indicator.duplicated().any()
    assert set(cat.indicator) == set(scores.indicator)
    years = scores.groupby("indicator").year.agg(["min", "max"])
    c = cat.set_index("indicator")
    assert (c.loc[years.index, "first_year"].astype(int) == years["min"]).all()
    assert (c.loc[years.index, "last_year"].astype(int) == years["max"]).all()
    assert c.loc["overall", "method_breaks"] == "2018"
    assert (c.loc["overall", "scale_min"], c.loc["overall", "scale_max"]) == ("10", "80")
    assert c.loc["d8_1_access_to_e_government_portals_2018", "scale_max"] == "5.0"
