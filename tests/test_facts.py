"""Facts readers: PAR/SIPAS facts, TTHC statistics, the Đắk Nông 2024 article (real values)."""
from __future__ import annotations

import math
import re
import unicodedata

import pandas as pd
import pytest

from cchc_analysis import paths
from cchc_analysis.errors import ParseError, SourceError
from cchc_analysis.provinces import to_code
from cchc_analysis.sources import facts as F
from cchc_analysis.sources.base import CONFLICT_COLUMNS, FACT_COLUMNS, SCORE_COLUMNS

NFC = lambda s: unicodedata.normalize("NFC", s)  # noqa: E731


@pytest.fixture(scope="module")
def ps():
    return F.read_par_sipas()


@pytest.fixture(scope="module")
def everything():
    return F.read_all()


@pytest.fixture(scope="module")
def article():
    return F.read_article_facts()


def one(df, **kw):
    sel = df
    for k, v in kw.items():
        sel = sel[sel[k].isna()] if v is None else sel[sel[k] == v]
    assert len(sel) == 1, sel
    return sel.iloc[0]


def test_columns(everything):
    assert list(everything["facts"].columns) == list(FACT_COLUMNS)
    assert list(everything["scores"].columns) == list(SCORE_COLUMNS)
    assert list(everything["conflicts"].columns) == list(CONFLICT_COLUMNS)
    f = everything["facts"]
    assert f["source_file"].notna().all() and f["source_locator"].notna().all() and f["source_url"].notna().all()
    s = everything["scores"]
    assert not s.duplicated(["index_id", "year", "province_code", "indicator"]).any()
    assert set(s["coverage"]) == {"partial"}


def test_dak_nong_par_2022(ps):
    facts, scores, _ = ps
    dn = facts[(facts["scope"] == "67") & (facts["year"] == 2022) & (facts["metric"] == "par_index")]
    rank = dn[dn["unit"] == "rank"]
    assert set(rank["value"]) == {37.0} and set(rank["rank_of"]) == {63}
    assert set(dn.loc[dn["unit"] == "rank_change", "value"]) == {4.0}  # "tăng 4 bậc so với năm 2021"
    s = one(scores, index_id="par", year=2022, province_code="67", indicator="overall")
    # one unit per indicator: the headline 0-100 is "percent" (issue: units mixed)
    assert s["value"] == 84.66 and s["published_rank"] == 37 and s["unit"] == "percent"
    # component: chỉ đạo điều hành 8,94 điểm, 30/63
    c = one(scores, index_id="par", year=2022, province_code="67", indicator="chi_dao_dieu_hanh")
    assert c["value"] == 8.94 and c["published_rank"] == 30


def test_dak_nong_par_2023_rank(ps):
    s = one(ps[1], index_id="par", year=2023, province_code="67", indicator="overall")
    assert s["published_rank"] == 51 and math.isnan(s["value"])


def test_national_sipas_2023_and_regions(ps):
    f = ps[0]
    assert one(f, scope="national", year=2023, metric="sipas")["value"] == 82.66
    assert one(f, scope="national", year=2022, metric="sipas")["value"] == 80.08
    assert one(f, scope="Tây Nguyên", year=2023, metric="par_index")["value"] == 85.42
    assert one(f, scope="national", year=2024, metric="par_index")["value"] == 88.37


def test_rank_parsing():
    assert F.parse_rank_text("12/63")[:2] == (12.0, 63)
    assert F.parse_rank_text("63省市中56位")[:2] == (56.0, 63)
    assert F.parse_rank_text("22-е место из 63")[:2] == (22.0, 63)
    assert F.parse_rank_text("7e parmi les 63")[:2] == (7.0, 63)
    assert F.parse_rank_text("dẫn đầu bảng xếp hạng năm 2024")[0] == 1.0
    assert F.parse_rank_text("đứng cuối bảng xếp hạng")[:2] == (63.0, 63)
    assert F.parse_rank_text("thứ 4 (nhóm A)")[:3] == (4.0, None, "nhóm A")
    for not_a_rank in ("5 (order in list)", "top 5 (listed 4)", "下位3位 (bottom 3)", "Nhóm A", "runner-up",
                       "thứ 3 ĐBSCL", "beats 62 others"):
        assert math.isnan(F.parse_rank_text(not_a_rank)[0]), not_a_rank


def test_change_parsing():
    assert F.parse_change_text("tăng 18 bậc") == [(18.0, "rank_change", None)]
    v = F.parse_change_text("tăng 1,59 điểm so với năm 2020 nhưng giảm 7 bậc so với năm 2020")
    assert [(x, u) for x, u, _ in v] == [(1.59, "points_change"), (-7.0, "rank_change")]
    assert F.parse_change_text("a three-notch increase from 2022")[0][:2] == (3.0, "rank_change")
    assert F.parse_change_text("2022年比6位上昇")[0][:2] == (6.0, "rank_change")
    assert F.parse_change_text("thấp hơn 16 bậc so với năm 2021")[0][:2] == (-16.0, "rank_change")
    assert math.isnan(F.parse_change_text("tặng 7 bậc so với năm 2022")[0][0])  # typo kept, not fixed
    assert math.isnan(F.parse_change_text("tăng hơn 3 điểm")[0][0])  # 'more than 3'


def test_score_parsing():
    assert F.parse_score_text("84,66/100 điểm") == [(84.66, "points", "max 100 as written")]
    assert ([(v, u) for v, u, _ in F.parse_score_text("9,1 điểm; chỉ số đạt 91%")]
            == [(9.1, "points"), (91.0, "percent")])
    assert F.parse_score_text("87.80 out of 100 points")[0][:2] == (87.8, "points")
    for unreadable in ("nearly 87 per cent", "62.58 to 67.68 percent (poor group)", "9.44%/8.46%"):
        assert math.isnan(F.parse_score_text(unreadable)[0][0]), unreadable


def test_par_2023_ranked_provinces(ps):
    f = ps[0]
    par23 = f[(f["metric"] == "par_index") & (f["year"] == 2023) & f["scope"].str.fullmatch(r"\d{2}")]
    ranked = par23[(par23["unit"] == "rank") & par23["value"].notna()]
    # published numeric ranks (incl. Quảng Ninh's "dẫn đầu" = 1): 36 provinces
    assert ranked["scope"].nunique() == 36
    # SOURCES.md counts 37 "ranks with a number": it also counts rank texts that hold a digit but are a
    # list position or group ("5 (order in list)" for BR-VT, "下位3位" for Bình Thuận).
    digits = par23[(par23["unit"] == "rank") & par23["value_as_written"].str.contains(r"\d")]
    assert digits["scope"].nunique() == 37
    assert set(digits["scope"]) - set(ranked["scope"]) == {to_code("Bà Rịa - Vũng Tàu"), to_code("Bình Thuận")}


def test_conflicts(ps):
    _, scores, conflicts = ps
    hb = one(conflicts, year=2023, province_code=to_code("Hòa Bình"), indicator="overall")
    assert {hb["value_a"], hb["value_b"]} == {86.76, 86.89} and hb["chosen"] == "a"
    assert hb["reason"].startswith("value:")
    cm = one(conflicts, year=2023, province_code=to_code("Cà Mau"))
    assert (cm["value_a"], cm["value_b"]) == (34.0, 32.0) and "own press" in cm["reason"]
    hp = one(conflicts, year=2023, province_code=to_code("Hải Phòng"))
    assert (hp["value_a"], hp["value_b"]) == (91.87, 91.81) and "most sources" in hp["reason"]
    assert one(scores, index_id="par", year=2023, province_code=to_code("Cà Mau"),
               indicator="overall")["published_rank"] == 34


PS = "data/raw/par_sipas/par_sipas_facts.csv"


def _fact(url, value=None, rank=None, tier=None, loc="row 2", file=PS, code="67"):
    """A hand-made candidate score row of one PAR fact (one field set)."""
    return {"index_id": "par", "year": 2023, "province_code": code, "indicator": "overall", "value": value,
            "unit": "percent", "published_rank": rank, "published_tier": tier, "coverage": "partial",
            "source_file": file, "source_locator": loc, "source_url": url}


def _choose(*rows):
    from cchc_analysis import select
    win, conf = select.select(pd.DataFrame(list(rows)))
    assert len(win) == 1
    return win.iloc[0], conf


def test_majority_rule_most_distinct_sources():
    """Hand-made: the value stated by the most distinct addresses wins; one address stating it twice counts once."""
    w, c = _choose(_fact("https://a.example/1", 84.6, loc="row 2"), _fact("https://a.example/1", 84.6, loc="row 3"),
                   _fact("https://b.example/2", 84.66, loc="row 4"), _fact("https://c.example/3", 84.66, loc="row 5"))
    assert w["value"] == 84.66 and w["source_locator"] == "row 4" and w["source_url"] == "https://b.example/2"
    assert c[["field", "value_a", "value_b", "chosen"]].values.tolist() == [["value", 84.66, 84.6, "a"]]
    assert c.iloc[0]["reason"] == "value: stated by the most sources"
    assert c.iloc[0]["source_b"] == f"https://a.example/1 ({PS} row 2, row 3)"
    assert c.iloc[0]["source_a"] == f"https://b.example/2 ({PS} row 4) | https://c.example/3 ({PS} row 5)"


def test_majority_rule_ties_own_press_then_official_then_first_url():
    own, gov = "https://baodaknong.org.vn/x", "https://moha.gov.vn/y"      # Đắk Nông's own paper; a .gov.vn host
    w, c = _choose(_fact("https://a.example/1", rank=38), _fact(own, rank=37, loc="row 3"))
    assert w["published_rank"] == 37 and w["source_url"] == own
    assert c.iloc[0]["reason"] == "published_rank: tie on sources; stated by the province's own press/portal"
    w, c = _choose(_fact("https://a.example/1", 80.0), _fact(gov, 81.0, loc="row 3"))
    assert w["value"] == 81.0 and c.iloc[0]["reason"] == "value: tie on sources; stated by an official source"
    # an own-press source outranks an official one; for another province the same paper is not its own
    w, _ = _choose(_fact(gov, 81.0), _fact(own, 80.0, loc="row 3"))
    assert w["value"] == 80.0
    w, _ = _choose(_fact(gov, 81.0, code="01"), _fact(own, 80.0, loc="row 3", code="01"))
    assert w["value"] == 81.0
    w, c = _choose(_fact("https://b.example/1", 80.1), _fact("https://a.example/2", 80.2, loc="row 3"))
    assert w["value"] == 80.2 and c.iloc[0]["reason"] == "value: tie; first source_url in text order"
    assert (c.iloc[0]["value_a"], c.iloc[0]["value_b"]) == (80.2, 80.1)


def test_majority_rule_is_field_wise_and_pools_the_article():
    """Each field is chosen on its own; the row cites the fact behind most fields, then the others' locators."""
    art = "data/raw/reports/dak_nong_cchc_2024_article.txt"
    w, c = _choose(_fact("https://a.example/1", 84.66, loc="row 2"), _fact("https://b.example/2", rank=37, loc="row 9"),
                   _fact(art, tier="B", loc="line 4", file=art), _fact("https://c.example/3", tier="C", loc="row 7"),
                   _fact(art, rank=37, loc="line 5", file=art))
    assert (w["value"], w["published_rank"], w["published_tier"]) == (84.66, 37, "B")
    assert w["source_file"] == art and w["source_locator"] == f"line 4; {PS} row 2; line 5"  # fields in order
    assert w["source_url"] == f"{art} | https://a.example/1"
    # tiers B and C, one address each, neither own nor official: B's address comes first; recorded as 2 vs 3
    assert c[["field", "value_a", "value_b"]].values.tolist() == [["published_tier", 2.0, 3.0]]


def test_every_province_resolves():
    for rel in (F.PAR_SIPAS_FILE, F.TTHC_FILE):
        df = pd.read_csv(paths.RAW / rel, dtype=str, keep_default_na=False)
        for name in df["province_as_written"]:
            for part in name.split(";"):
                base, _ = F._split_name(part.strip())
                if F.name_key(base) == "canuoc" or F.region_name(base):
                    continue
                to_code(base)  # raises UnknownProvinceError


def test_tthc(everything):
    t = F.read_tthc()
    assert one(t, scope=to_code("Đắk Lắk"), year=2024, metric="dossiers_received")["value"] == 138313  # "138,313" en
    assert one(t, scope=to_code("Đắk Lắk"), year=2024, metric="on_time_rate")["value"] == 99.99
    dn = t[(t["scope"] == "67") & (t["period"] == "2020-12-15..2021-06-15")]
    assert one(dn, metric="dossiers_requested_total")["value"] == 218763  # "218.763" vi
    assert one(dn, metric="on_time_rate")["value"] == 99.4
    # Kon Tum's printed typos stay NaN
    kt = t[(t["scope"] == "62") & (t["metric"] == "dossiers_resolved") & (t["period"] == "2023-Q3")]
    assert kt["value"].isna().all()
    # post-merger unit: Gia Lai (sau hợp nhất với Bình Định) -> 2025 unit code; Index 766 rank 8/34
    g = one(t, metric="index766_rank", scope_as_written="Gia Lai (sau hợp nhất với Bình Định)")
    assert g["value"] == 8 and g["rank_of"] == 34 and g["scope"] == F.to_unit_code("Gia Lai")
    assert set(t.loc[t["scope_as_written"].str.startswith("Cả nước"), "scope"]) == {"national"}
    tth = t[t["scope_as_written"].str.contains("dichvucong", na=False)]
    assert (tth["year"].isna().all()
            and one(tth, metric="dossiers_received_total", component="level_3")["value"] == 68544)


def test_number_style_is_explicit():
    assert F.number_style("https://news.laodong.vn/x") == "en"
    assert F.number_style("https://baodaknong.org.vn/x") == "vi"
    assert F.number_style("https://unknown.example/x") == "mixed"
    with pytest.raises(ParseError):
        F.parse_tthc_value("1.234", "dossiers_received", "mixed")


def test_article_quotes_and_values(article):
    text = NFC((paths.RAW / F.ARTICLE_FILE).read_text(encoding="utf-8"))
    cur = pd.read_csv(paths.REFERENCE / F.CURATED_ARTICLE_FILE, dtype=str, keep_default_na=False)
    assert len(cur) == len(article)
    for r in cur.itertuples():
        assert NFC(r.quote) in text, r.quote
        assert NFC(r.value_as_written) in NFC(r.quote), r.value_as_written
        got = one(article, metric=r.metric, unit=r.unit, value_as_written=r.value_as_written)
        nums = re.findall(r"\d+(?:[.,]\d+)*", r.value_as_written)
        if math.isnan(got["value"]):
            assert r.unit == "tier" or r.value_as_written.startswith("trên")
        else:
            # the number is read from the quote, Vietnamese style: "26.131" -> 26131, "97,4%" -> 97.4
            assert got["value"] == float(nums[0].replace(".", "").replace(",", "."))
    v = lambda m, u=None: one(article, metric=m, **({"unit": u} if u else {}))["value"]  # noqa: E731
    assert v("dossiers_received") == 26131 and v("dossiers_resolved") == 22567 and v("dossiers_ahead_of_time") == 7072
    assert (v("procedures_total") == 2006
            and v("procedures_provincial") + v("procedures_district") + v("procedures_commune") == 2006)
    assert v("on_time_rate") == 97.4 and v("plan_completion_rate") == 95.6
    assert v("par_component_chi_dao_dieu_hanh", "rank_change") == 18  # "tăng 18 bậc" -> +18
    assert v("par_component_cai_cach_tthc", "rank") == 14
    assert one(article, metric="sipas", year=2023)["value"] == 81.21


def test_article_feeds_scores(everything):
    s = everything["scores"]
    assert one(s, index_id="par", year=2023, province_code="67", indicator="chi_dao_dieu_hanh")["published_rank"] == 12
    assert one(s, index_id="sipas", year=2022, province_code="67", indicator="overall")["value"] == 80.09


def test_targets():
    t = F.read_targets()
    par = one(t, index_id="par")
    assert (par["comparator"], par["target_value"], par["target_unit"]) == ("<=", "40", "rank")
    sipas = one(t, index_id="sipas")
    assert (sipas["comparator"], float(sipas["target_value"])) == (">=", 90.0)
    assert one(t, index_id="papi")["target_value"] == "trung bình cao"


def test_unknown_component_raises(tmp_path):
    df = pd.read_csv(paths.RAW / F.PAR_SIPAS_FILE, dtype=str, keep_default_na=False).head(3)
    df.loc[1, "component"] = "Cải cách bí ẩn"
    p = tmp_path / "par_sipas" / "par_sipas_facts.csv"
    p.parent.mkdir()
    df.to_csv(p, index=False)
    (p.parent / "SOURCES.md").write_text((paths.RAW / "par_sipas" / "SOURCES.md").read_text(encoding="utf-8"),
                                         encoding="utf-8")
    with pytest.raises(SourceError, match="row 3.*unknown component 'Cải cách bí ẩn'"):
        F.read_par_sipas(p)


def test_catalogue():
    par = pd.read_csv(paths.REFERENCE / "indicators" / "par.csv")
    assert {"overall", "chi_dao_dieu_hanh", "the_che", "cai_cach_tthc", "to_chuc_bo_may", "cong_vu",
            "tai_chinh_cong", "chinh_quyen_so", "tac_dong"} <= set(par["indicator"])
    assert par.loc[par["indicator"] == "cai_cach_tthc", "scale_max"].isna().all()
    sipas = pd.read_csv(paths.REFERENCE / "indicators" / "sipas.csv")
    assert one(sipas, indicator="overall")["unit"] == "percent"


def test_deterministic():
    a, b = F.read_all(), F.read_all()
    for k in a:
        pd.testing.assert_frame_equal(a[k], b[k])


def test_conflicts_say_which_field_disagrees(built):
    from cchc_analysis import load
    c = load("conflicts")
    cm = c[(c.index_id == "par") & (c.year == 2023) & (c.province_code == "96")].iloc[0]
    assert (cm.indicator, cm.field, cm.value_a, cm.value_b, cm.chosen) == ("overall", "published_rank", 34, 32, "a")
    ht = c[(c.index_id == "pci") & (c.year == 2021) & (c.province_code == "42")].iloc[0]
    assert (ht.field, ht.value_a, ht.value_b, ht.chosen) == ("value", 64.87, 62.87, "none")
