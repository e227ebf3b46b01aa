"""What the reports say: each statement true of the data it names, with its basis (issue: statements).

Real values from the real data, plus the brief's rules on small hand-made frames.
"""
import pandas as pd
import pytest

from cchc_analysis import narrative, procedures, ranking, targets
from cchc_analysis.errors import CchcError


def one(df, **kw):
    m = pd.Series(True, index=df.index)
    for k, v in kw.items():
        m &= df[k] == v
    assert m.sum() == 1, (kw, int(m.sum()))
    return df[m].iloc[0]


@pytest.fixture(scope="module")
def data(built):
    return narrative.BriefData.load()


def brief_text(data, code, year, lang="vi"):
    return "\n".join(getattr(c, lang) for c in narrative.brief(code, year, data).claims)


# ---------------------------------------------------------------- 1. one unit per indicator

def test_par_component_points_and_percent_are_different_indicators(scores):
    kh = one(scores, index_id="par", year=2024, province_code="56", indicator="cai_cach_tthc_pct")
    assert (kh.value, kh.unit) == (98.85, "percent")
    sl = one(scores, index_id="par", year=2024, province_code="14", indicator="cai_cach_tthc")
    assert (sl.value, sl.unit) == (12.75, "points")
    hb = one(scores, index_id="par", year=2023, province_code="17", indicator="cai_cach_tthc_pct")
    assert hb.value == 99.93
    kt = one(scores, index_id="par", year=2023, province_code="62", indicator="cai_cach_tthc")
    assert kt.value == 12.38
    units = scores.groupby(["index_id", "year", "indicator"]).unit.nunique()
    assert (units == 1).all(), units[units > 1]
    assert set(scores[(scores.index_id.isin(["par", "sipas"])) & (scores.indicator == "overall")].unit) == {"percent"}


def test_mixed_units_are_refused():
    mixed = pd.DataFrame({"index_id": ["par", "par"], "year": [2024, 2024], "indicator": ["x", "x"],
                          "province_code": ["56", "14"], "value": [98.85, 12.75], "unit": ["percent", "points"],
                          "published_rank": pd.array([None, None], dtype="Int64"), "coverage": ["partial"] * 2})
    with pytest.raises(CchcError, match="mixes units percent, points"):
        ranking.rank_scores(mixed)


# ---------------------------------------------------------------- 2. and 3. published ranks and changes

def test_pci_ranks_stated_by_vcci_are_kept_and_reported(scores, data):
    dn = scores[(scores.index_id == "pci") & (scores.province_code == "67") & (scores.indicator == "overall")]
    dn = dn.set_index("year")
    assert (dn.loc[2021, "published_rank"], dn.loc[2022, "published_rank"]) == (52, 38)
    text = brief_text(data, "67", 2022)
    assert "PCI 2022: Đắk Nông xếp thứ 38/63, tăng 14 bậc so với 2021 (hạng 52; tính từ thứ hạng công bố)" in text
    assert "PCI 2022 (" not in text.split("Chưa có số liệu")[-1]  # not listed as missing


def test_stated_changes_are_shown_as_stated(data):
    assert "PAR Index 2022: Đắk Nông đạt 84,66%, xếp thứ 37/63, tăng 4 bậc so với 2021 (số liệu của nguồn)" \
        in brief_text(data, "67", 2022)
    # across the 2024 PAR methodology break nothing is computed, the stated change is shown
    assert "PAR Index 2024: Bà Rịa - Vũng Tàu đạt 93,35%, xếp thứ 2/63, tăng 3 bậc so với 2023 (số liệu của nguồn)" \
        in brief_text(data, "77", 2024)
    assert "ranked 10th of 63, up 4 places on 2023 (as stated by the source)" in brief_text(data, "56", 2024, "en")
    sipas = brief_text(data, "67", 2023)
    assert "tăng từ 80,09% năm 2022 lên 81,21% năm 2023 (số liệu của nguồn)" in sipas
    # two sources state two different SIPAS 2024 changes for Khánh Hòa: both said
    assert "tăng 13 bậc hay tăng 10 bậc (các nguồn ghi khác nhau)" in brief_text(data, "56", 2024)


# ---------------------------------------------------------------- 4. and 5. partial years

def test_partial_year_basis_is_named(data):
    text = brief_text(data, "67", 2022)
    assert "thứ hạng công bố; nguồn của chúng tôi chỉ có 20/63 tỉnh năm này" in text
    assert "tỉnh cao hơn" not in text


def test_no_movers_over_a_handful_of_provinces(changed):
    par = changed[(changed.index_id == "par") & (changed.year == 2022) & (changed.indicator == "overall")]
    n = int(par.rank_change.notna().sum())
    assert n < narrative.MIN_MOVERS  # so neither the brief nor the report lists movers for PAR 2022
    b = narrative.national_brief(2022, narrative.BriefData.load())
    assert not any("tăng mạnh nhất" in c.vi and c.vi.startswith("PAR") for c in b.claims)


# ---------------------------------------------------------------- 6. targets from the year stated

def test_targets_are_not_judged_before_they_were_set(ranked):
    assert targets.target_gaps(ranked, "67", as_of=2019).empty
    assert targets.target_gaps(ranked, "67", as_of=2023).empty  # stated 9 December 2024
    g = targets.target_gaps(ranked, "67", as_of=2024).set_index("index")
    assert (g.loc["PAR", "latest"], g.loc["PAR", "latest_year"], g.loc["PAR", "gap"]) == (51, 2023, 11)
    assert g.loc["SIPAS", "gap"] == pytest.approx(8.79)


# ---------------------------------------------------------------- 7. ratios within one kind of count

def test_no_ratio_of_dossiers_over_procedures(built):
    from cchc_analysis import load
    f = load("facts")
    own = procedures.province_facts(f, "67", 2024)
    assert one(own, metric="online_paperless_dossiers").counts == "dossiers"
    assert one(own, metric="procedures_total").counts == "procedures"
    k = procedures.kpis(own)
    assert "online_full_share" not in set(k.kpi)  # 147 "hồ sơ" over 2,006 procedures is no ratio
    share = one(k, kpi="share_provincial", kind="computed")
    assert round(share.value, 1) == 83.5  # 1,675 of 2,006 procedures: one kind, one document


def test_bounds_are_kept_as_written(built):
    from cchc_analysis import load
    k = procedures.kpis(procedures.province_facts(load("facts"), "67", 2024))
    bound = one(k, kpi="staff_trained_digital_public_employees_rate")
    assert pd.isna(bound.value) and bound.value_as_written == "trên 50%" and bound.kind.startswith("stated (bound")


# ---------------------------------------------------------------- 8. coverage counts values

def test_coverage_counts_values_and_ranks(built):
    from cchc_analysis.data import coverage
    c = coverage().set_index(["index_id", "year"])
    assert c.loc[("par", 2024), "with_overall"] == 16
    assert c.loc[("sipas", 2024), "with_overall"] == 13
    assert c.loc[("pci", 2021), "with_overall"] == 34
    assert c.loc[("par", 2022), "with_rank"] == 19


# ---------------------------------------------------------------- the brief

ARTICLE_CLAIMS_2023 = ["Công tác chỉ đạo, điều hành cải cách hành chính xếp thứ 12/63 (tăng 18 bậc, theo nguồn)",
                       "Cải cách thủ tục hành chính xếp thứ 14/63 (tăng 44 bậc, theo nguồn)",
                       "tăng từ 80,09% năm 2022 lên 81,21% năm 2023"]
ARTICLE_CLAIMS_2024 = ["2.006 TTHC thuộc thẩm quyền giải quyết các cấp: 1.675 cấp tỉnh, 202 cấp huyện, 129 cấp xã",
                       "tiếp nhận 26.131 hồ sơ", "đã giải quyết 22.567 (86,4% số tiếp nhận",
                       "7.072 hồ sơ trước hạn (31,3% số đã giải quyết)", "đúng hạn 97,4% (theo nguồn)",
                       "65/68 nhiệm vụ (95,6%", "Hồ sơ trực tuyến không sử dụng hồ sơ giấy: 147 (",
                       "142 cấp tỉnh", "5 cấp huyện", ": 21", ": 18",
                       "PAR Index đạt thứ hạng từ 40 trở lên: hạng gần nhất 51 (2023), cần tăng 11 bậc",
                       "SIPAS đạt từ 90% trở lên: gần nhất 81,21% (2023), còn thiếu 8,79 điểm phần trăm",
                       "PCI nằm trong nhóm trung bình", "PAPI nằm trong nhóm trung bình cao"]


def test_brief_states_every_claim_of_the_article(data):
    t23, t24 = brief_text(data, "67", 2023), brief_text(data, "67", 2024)
    for claim in ARTICLE_CLAIMS_2023:
        assert claim in t23, claim
    for claim in ARTICLE_CLAIMS_2024:
        assert claim in t24, claim
    assert "Chưa có số liệu công bố của Đắk Nông cho: PCI 2024" in t24


def test_brief_is_traceable_and_bilingual(data):
    b = narrative.brief("67", 2024, data)
    md = b.markdown()
    assert md.index("Tóm tắt") < md.index("Brief:")
    assert "data/raw/reports/dak_nong_cchc_2024_article.txt" in b.notes()
    assert all(c.sources for c in b.claims if c.topic != "missing")
    en = brief_text(data, "67", 2024, "en")
    assert "received 26,131 dossiers" in en and "26.131" not in en
    for c in b.claims:  # no snake_case ids in what a reader sees
        assert not any("_" in w for w in (c.vi + " " + c.en).split()), c


def small_data(**overrides):
    """A hand-made BriefData: two years of one index for three provinces."""
    changed = pd.DataFrame({
        "index_id": ["pci"] * 6, "year": [2019] * 3 + [2020] * 3, "province_code": ["01", "02", "04"] * 2,
        "indicator": ["overall"] * 6, "value": [60.0, 55.0, 50.0, 58.0, 61.0, 50.5], "unit": ["points"] * 6,
        "published_rank": pd.array([None] * 6, dtype="Int64"), "published_tier": [None] * 6,
        "coverage": ["full"] * 6, "source_file": ["data/raw/x.csv"] * 6, "source_locator": ["row 2"] * 6,
        "source_url": ["https://example.org/pci"] * 6, "computed_rank": pd.array([1, 2, 3, 2, 1, 3], dtype="Int64"),
        "rank": pd.array([1, 2, 3, 2, 1, 3], dtype="Int64"), "rank_source": ["computed"] * 6,
        "n_ranked": pd.array([3] * 6, dtype="Int64"), "prev_year": pd.array([None] * 3 + [2019] * 3, dtype="Int64"),
        "prev_value": [None] * 3 + [60.0, 55.0, 50.0], "prev_rank": pd.array([None] * 3 + [1, 2, 3], dtype="Int64"),
        "comparable": [False] * 3 + [True] * 3, "note": ["no earlier year"] * 3 + [""] * 3,
        "score_change": [None] * 3 + [-2.0, 6.0, 0.5], "rank_change": pd.array([None] * 3 + [-1, 1, 0], dtype="Int64"),
    })
    facts = pd.DataFrame(columns=["index_id", "scope", "year", "period", "metric", "component", "value", "unit",
                                  "counts", "value_as_written", "quote", "source_file", "source_locator", "source_url"])
    d = dict(changed=changed, facts=facts,
             indicators=pd.DataFrame(columns=["index_id", "indicator", "name_vi", "name_en"]),
             targets=pd.DataFrame(columns=["province_code", "stated_on"]), names={"01": "Hà Nội", "02": "Hà Giang",
             "04": "Cao Bằng"}, names_en={"01": "Ha Noi", "02": "Ha Giang", "04": "Cao Bang"})
    d.update(overrides)
    return narrative.BriefData(**d)


def test_brief_on_a_small_frame():
    b = narrative.brief("02", 2020, small_data())
    c = b.claims[0]
    assert c.vi == ("PCI 2020: Hà Giang đạt 61,00 điểm, xếp thứ 1/3, tăng 1 bậc so với 2019 (hạng 2; tính lại), "
                    "+6,00 điểm so với 2019 (bảng đầy đủ, 3 tỉnh).")
    assert c.en == ("PCI 2020: Ha Giang scored 61.00 points, ranked 1st of 3, up 1 place on 2019 (2nd; recomputed), "
                    "+6.00 points on 2019 (full table, 3 provinces).")
    missing = b.claims[-1]
    assert missing.topic == "missing" and "PAPI 2020 (không có trong nguồn dữ liệu năm này)" in missing.vi
    assert "thống kê TTHC" in missing.vi


def test_national_brief_needs_enough_provinces_for_movers():
    b = narrative.national_brief(2020, small_data())
    assert "đứng đầu Hà Giang (61,00 điểm)" in b.claims[0].vi
    assert "tăng mạnh nhất" not in b.claims[0].vi  # 3 provinces < MIN_MOVERS


def test_words():
    assert narrative.change_words(1) == ("tăng 1 bậc", "up 1 place")
    assert narrative.change_words(-44) == ("giảm 44 bậc", "down 44 places")
    assert narrative.period_words("2020-12-15..2021-06-15", 2021)[0] == "Từ 15/12/2020 đến 15/06/2021"
    assert narrative.period_words("2021-H1", 2021) == ("6 tháng đầu năm 2021", "In the first half of 2021")
    assert narrative.ordinal(52) == "52nd" and narrative.ordinal(11) == "11th"


# ---------------------------------------------------------------- the report sections say their basis

@pytest.fixture
def shown(monkeypatch, tmp_path, built):
    """Run ranking_report sections for a year and collect what they display (text and figure titles)."""
    from cchc_analysis import ranking_report as rr

    monkeypatch.setenv("CCHC_OUTPUT_ROOT", str(tmp_path))
    out: list[str] = []
    monkeypatch.setattr(rr, "show_md", out.append)
    monkeypatch.setattr(rr, "show_table", lambda df, **kw: out.append(df.to_string()))
    monkeypatch.setattr(rr, "show_fig", lambda fig, **kw: out.append(
        " ".join(t.get_text() for ax in fig.axes for t in ax.texts + [ax.title])))

    def run(year, section, index_id):
        ctx = rr.setup(year, "67", None, 5, str(tmp_path / str(year)))
        out.clear()
        getattr(rr, section)(ctx, index_id)
        return "\n".join(out)
    return run


def test_partial_year_distribution_uses_the_published_rank(shown):
    text = shown(2022, "distribution", "par")
    assert "Đắk Nông: 84,66 điểm, thứ hạng công bố 37/63" in text
    assert "tỉnh cao hơn" not in text and "provinces higher" not in text
    assert "trên 63), không đại diện cho cả nước" in text


def test_no_movers_list_over_too_few_provinces(shown):
    text = shown(2024, "movers", "pci")  # 8 provinces with a published rank in 2023 and 2024
    assert "cần ít nhất 10" in text and "no movers list" in text


def test_component_heatmap_says_how_many_provinces_it_shows(shown):
    text = shown(2020, "components_heatmap", "pci")
    assert "chỉ 15/63 tỉnh có điểm thành phần" in text
    assert "Đắk Nông không có trong số này" in text and "Dak Nong is not among them" in text


def test_not_measured_is_not_missing(data):
    text = brief_text(data, "01", 2010)
    assert "Năm 2010 chưa có: PAPI (bắt đầu từ 2011); PAR Index (bắt đầu từ 2012); SIPAS (bắt đầu từ 2017)." in text
    assert "PAPI 2010 (" not in text  # not listed among the missing
    assert "Not yet measured in 2010: PAPI (first measured in 2011)" in brief_text(data, "01", 2010, "en")


# ---------------------------------------------------------------- cross-index correlation: full tables only

def test_correlations_only_between_full_tables(built, monkeypatch, tmp_path):
    from cchc_analysis import ranking_report as rr

    said: list[str] = []
    monkeypatch.setattr(rr, "show_md", said.append)
    monkeypatch.setattr(rr, "show_fig", lambda fig, *a, **k: None)
    monkeypatch.setattr(rr, "show_table", lambda *a, **k: None)
    tab = rr.correlations(rr.setup(2019, None, None, 5, str(tmp_path)))
    assert list(zip(tab.a, tab.b, tab.n)) == [("pci:overall", "papi:overall", 63)]  # PAR, SIPAS 2019 are partial
    assert tab.spearman.iloc[0] == pytest.approx(0.0976, abs=1e-4)
    assert "Không tính tương quan với PAR, SIPAS" in said[0] and "PAR 10, SIPAS 5" in said[0]
    assert "rho = 0,10 trên 63 tỉnh" in said[1] and "rho = 0.10 over the 63 provinces" in said[1]
    said.clear()
    assert rr.correlations(rr.setup(2024, None, None, 5, str(tmp_path))).empty  # PCI 2024 partial: PAPI alone
    assert any("no cross-index correlation" in s for s in said)


def test_national_procedure_page_lists_the_provinces_that_report(data):
    t = procedures.provinces_reporting(data.facts, 2024).set_index("province_code")
    assert list(t.index) == ["60", "66", "67", "68", "74"]  # the provinces our sources cover, not all 63
    assert t.loc["67", "dossiers_received"].startswith("26.131 (2024")  # as written, with its period
    assert t.loc["67", "on_time_rate"].startswith("97,4% (2024")
    assert t.loc["68", "dossiers_received"] == "159.845 (2024-Q1)"  # a quarter, and the table says so
    assert t.loc["74", "procedures_total"] == "" and int(t.loc["67", "figures"]) == 21
