"""Index calculations on the real processed data (issue: rankings, changes, tiers, regions, merger)."""
import pandas as pd
import pytest

from cchc_analysis import compare, merger, ranking


def test_competition_rank_ties():
    r = ranking.competition_rank(pd.Series([70.0, 65.004, 65.0, 60.0, None]), decimals=2)
    assert list(r.astype("float").fillna(-1)) == [1, 2, 2, 4, -1]


def test_computed_pci_2019_ranks_equal_published(ranked):
    d = ranked[(ranked.index_id == "pci") & (ranked.year == 2019) & (ranked.indicator == "overall")]
    assert len(d) == 63
    assert (d.published_rank == d.computed_rank).all()
    assert d.set_index("province_code").loc["22", "published_rank"] == 1  # Quảng Ninh first


def test_rank_check_reports_only_the_known_differences(ranked):
    """2011 stores PCI at 2 decimals (one printed tie-break cannot be reproduced); the 2020 page prints
    equal 2-decimal scores at different ranks. Every other published PCI rank is reproduced."""
    chk = ranking.rank_check(ranked)
    pci = chk[(chk.index_id == "pci") & (chk.indicator == "overall")]
    assert sorted(zip(pci.year, pci.province_code)) == [(2011, "02"), (2020, "24"), (2020, "37"), (2020, "42")]


def test_dak_nong_pci_rank_change_2019_to_2020(changed):
    d = changed[(changed.index_id == "pci") & (changed.province_code == "67") & (changed.indicator == "overall")]
    r = d.set_index("year").loc[2020]
    assert (r["rank"], r.prev_rank, r.rank_change) == (60, 62, 2)
    assert r.value == pytest.approx(61.96)
    assert r.score_change == pytest.approx(61.96 - 60.496777, abs=1e-5)


def test_no_change_across_a_methodology_break(changed):
    d = changed[(changed.index_id == "pci") & (changed.province_code == "67") & (changed.indicator == "overall")]
    r = d.set_index("year").loc[2017]
    assert not r.comparable and pd.isna(r.rank_change) and "methodology changed in 2017" in r.note
    p = changed[(changed.index_id == "papi") & (changed.indicator == "overall") & (changed.year == 2018)]
    assert p.rank_change.isna().all()


def test_movers_pci_2019(changed):
    m = ranking.movers(changed, "pci", 2019, n=3)
    assert list(m["risers"].province_code) == ["27", "46", "30"]  # Bắc Ninh +11, Thừa Thiên Huế +10, Hải Dương +8
    assert m["risers"].rank_change.iloc[0] == 11
    assert (m["fallers"].rank_change < 0).all()


def test_stability(ranked):
    st = ranking.stability(ranked, "pci", "overall", 2019, window=5)
    qn = st.set_index("province_code").loc["22"]
    assert qn.years == 5 and qn.best_rank == 1 and qn.years_top == 5


def test_papi_quartile_rule_reproduces_published_2019_groups(scores):
    for ind in ["overall", "d1_participation", "d5_public_admin_procedures", "d8_e_governance"]:
        d = scores[(scores.index_id == "papi") & (scores.year == 2019)
                   & (scores.indicator == ind)].set_index("province_code")
        groups = compare.papi_quartile_groups(d.value)
        assert (groups == d.published_tier).all(), ind
    counts = groups.value_counts().to_dict()
    assert counts == {"Best Performers": 16, "High Average": 16, "Low Average": 15, "Poor Performers": 16}


def test_par_groups_by_published_thresholds():
    assert compare.par_group(91.8, 2021) == "A"
    assert compare.par_group(85.0, 2021) == "B"
    assert compare.par_group(79.97, 2021) == "C"
    assert compare.par_group(85.0, 2016) is None  # thresholds for B not published that year: no invented group


def test_normalisation(scores, indicators):
    n = ranking.normalise(scores[(scores.index_id == "pci") & (scores.year == 2019)], indicators)
    o = n[n.indicator == "overall"]
    assert o.zscore.mean() == pytest.approx(0, abs=1e-9)
    assert o.minmax.min() == 0 and o.minmax.max() == 1
    assert o.set_index("province_code").loc["22", "pct_of_max"] == pytest.approx(73.396484375)


def test_regional_summary(scores):
    t = compare.regional_summary(scores, "pci", 2019)
    nat = t[t.region_6 == "Cả nước"].iloc[0]
    assert nat["count"] == 63
    tn = t[t.region_6 == "Tây Nguyên"].iloc[0]
    assert tn["count"] == 5


def test_rank_correlation_pci_papi_2019(scores):
    r = compare.rank_correlation(scores, 2019, ("pci", "overall"), ("papi", "overall"))
    assert r["n"] == 63
    assert r["spearman"] == pytest.approx(0.0976, abs=1e-4)
    corr, n = compare.correlation_matrix(scores, 2019)
    assert corr.loc["pci:overall", "pci:overall"] == pytest.approx(1)
    assert n.loc["pci:overall", "papi:overall"] == 63


def test_merger_dak_nong_binh_thuan_lam_dong_combine_into_68(scores):
    pci = scores[(scores.index_id == "pci") & (scores.year == 2019) & (scores.indicator == "overall")]
    u = merger.to_units(pci, weights={"60": 1.0, "67": 1.0, "68": 2.0}).set_index("unit_code")
    lam = u.loc["68"]
    vals = pci.set_index("province_code").value[["60", "67", "68"]]
    assert lam.n == 3 and lam.complete
    assert lam["mean"] == pytest.approx(vals.mean())
    assert lam["min"] == pytest.approx(vals.min()) and lam["max"] == pytest.approx(vals.max())
    assert lam.weighted_mean == pytest.approx((vals["60"] + vals["67"] + 2 * vals["68"]) / 4)
    assert len(u) == 34
    hn = u.loc["01"]  # not merged: carries straight through
    assert hn["mean"] == pytest.approx(pci.set_index("province_code").value["01"])
    back = merger.to_provinces(u.reset_index()[["unit_code", "year", "mean"]])
    assert sorted(back[back.unit_code == "68"].province_code) == ["60", "67", "68"]


def test_unit_series_marks_the_break(scores):
    s = merger.unit_series(scores, "68", "pci",
                           unit_results=pd.DataFrame({"unit_code": ["68"], "year": [2025], "value": [70.0]}))
    assert s.break_2025.sum() == 1
    assert s[s.year == 2025].basis.iloc[0] == "the 2025 unit itself"


def test_province_agreement_across_indices(ranked):
    a = compare.province_agreement(ranked, "67", 2019).set_index("index_id")
    assert list(a.index) == ["papi", "pci"]
    assert a.loc["pci", "rank"] == 62 and a.loc["pci", "view"] == "doanh nghiệp / business"
    assert a.loc["pci", "percentile"] == pytest.approx((1 - 61 / 63) * 100)
    assert a.loc["papi", "view"] == "người dân / citizens"


def test_dak_nong_targets_against_latest_values(ranked):
    from cchc_analysis import targets
    t = targets.target_gaps(ranked, "67", as_of=2024).set_index("index")
    assert (t.loc["PAR", "latest_year"], t.loc["PAR", "latest"], t.loc["PAR", "gap"]) == (2023, 51, 11)
    assert t.loc["PAR", "needed_per_year"] == 6  # 11 places in 2 years
    assert t.loc["SIPAS", "latest"] == pytest.approx(81.21) and t.loc["SIPAS", "gap"] == pytest.approx(8.79)
    assert t.loc["PCI", "status"] == "không rõ / unknown"  # 2023 rank known, tier not published: no tier invented
    assert t.loc["PAPI", "basis"].startswith("computed") and t.loc["PAPI", "status"] == "chưa đạt / not met"
