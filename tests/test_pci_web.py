"""PCI 2020–2024 from web pages (data/raw/pci): tables, profiles, news mentions."""
from __future__ import annotations

import math
import shutil

import pandas as pd
import pytest

from cchc_analysis.errors import ParseError, SourceError
from cchc_analysis.sources import pci_web
from cchc_analysis.sources.base import CONFLICT_COLUMNS, FACT_COLUMNS, SCORE_COLUMNS

SUBINDICES = {"entry_costs", "land_access", "transparency", "time_costs", "informal_charges", "policy_bias",
              "proactivity", "business_support", "labor_training", "legal_institutions"}


@pytest.fixture(scope="module")
def tables():
    return pci_web.read_tables()


@pytest.fixture(scope="module")
def merged():
    return pci_web.read_all()


def one(df, year, code, indicator="overall"):
    sel = df[(df["year"] == year) & (df["province_code"] == code) & (df["indicator"] == indicator)]
    assert len(sel) == 1, sel
    return sel.iloc[0]


def test_2020_full_table(tables):
    t = tables[tables["year"] == 2020]
    assert t["province_code"].nunique() == 63 and len(t) == 63
    assert set(t["coverage"]) == {"full"} and set(t["indicator"]) == {"overall"}
    dn = one(t, 2020, "67")  # Đắk Nông
    assert dn["value"] == 61.96 and dn["published_rank"] == 60
    qn = one(t, 2020, "22")  # Quảng Ninh, printed rank "01"
    assert qn["value"] == 75.09 and qn["published_rank"] == 1
    assert qn["source_file"] == "data/raw/pci/pci_2020_scores.csv" and qn["source_locator"].startswith("row 2,")


def test_2021_subindices_and_tier(tables):
    t = tables[tables["year"] == 2021]
    assert t["province_code"].nunique() == 21 and set(t["coverage"]) == {"partial"}
    assert set(t["indicator"]) == SUBINDICES | {"overall"}
    qn = one(t, 2021, "22")
    assert qn["value"] == 73.02 and qn["published_rank"] == 1 and qn["published_tier"] == "Rất tốt"
    assert one(t, 2021, "22", "entry_costs")["value"] == 7.98
    assert one(t, 2021, "22", "policy_bias")["value"] == 6.96  # "Cạnh tranh bình đẳng"
    assert pd.isna(one(t, 2021, "22", "entry_costs")["published_rank"])
    assert one(t, 2021, "46")["published_tier"] == "Tốt"  # "TT-Huế", rank 8


def test_2022_top_10(tables):
    t = tables[tables["year"] == 2022]
    assert sorted(t["published_rank"]) == list(range(1, 11)) and t["province_code"].nunique() == 10
    assert one(t, 2022, "24")["value"] == 72.80  # Bắc Giang, 2nd


def test_2021_companion_table_must_agree(tmp_path):
    for name in ("pci_2020_scores.csv", "pci_2021_subindices.csv", "pci_2021_scores.csv", "pci_2022_scores.csv"):
        shutil.copy(pci_web.PCI_DIR / name, tmp_path / name)
    text = (tmp_path / "pci_2021_scores.csv").read_text(encoding="utf-8")
    (tmp_path / "pci_2021_scores.csv").write_text(text.replace("Hải Phòng,70.61,2", "Hải Phòng,70.16,2"),
                                                 encoding="utf-8")
    with pytest.raises(SourceError, match="differs"):
        pci_web.read_tables(tmp_path)


def test_profiles_choose_vn_template_for_quang_tri():
    scores, conflicts = pci_web.read_profiles()
    assert scores["coverage"].eq("partial").all()
    qt = one(scores, 2021, "45")  # Quảng Trị: EN and VN pages agree on every shared cell
    assert qt["value"] == 63.33 and qt["published_rank"] == 41
    assert "ho-so-tinh" in qt["source_url"]
    assert conflicts.empty
    # 2023: VN page prints "N/A" for the PCI score and rank but gives sub-indices.
    assert scores[(scores["year"] == 2023) & (scores["province_code"] == "45")
                  & (scores["indicator"] == "overall")].empty
    assert one(scores, 2023, "45", "entry_costs")["value"] == 7.43
    # "Dịch vụ hỗ trợ Doanh nghiệp" (2020 layout) is the same sub-index 8.
    assert one(scores, 2020, "51", "business_support")["value"] == 5.50  # Quảng Ngãi


def test_profile_unknown_label_raises(tmp_path):
    text = (pci_web.PCI_DIR / pci_web.PROFILES_FILE).read_text(encoding="utf-8")
    bad = tmp_path / "profiles.csv"
    bad.write_text(text.replace("Phu Tho,phu-tho,2021,Transparency", "Phu Tho,phu-tho,2021,Openness", 1),
                   encoding="utf-8")
    with pytest.raises(SourceError, match="Openness") as e:
        pci_web.read_profiles(bad)
    assert e.value.row == 9


def test_compare_with_reference(tables):
    profiles, _ = pci_web.read_profiles()
    assert pci_web.compare_with(profiles, tables).empty  # the web table and profiles agree
    ref = tables.copy()
    qt = (ref["year"] == 2020) & (ref["province_code"] == "45")
    ref.loc[qt, "value"] = 63.0749  # within rounding of the printed 63.07
    assert pci_web.compare_with(profiles, ref).empty
    ref.loc[qt, "value"] = 63.0751
    c = pci_web.compare_with(profiles, ref)
    assert len(c) == 1 and c.loc[0, "value_b"] == 63.07 and c.loc[0, "chosen"] == "a"


@pytest.mark.parametrize("text, expected", [
    ("No. 52", (52, None)), ("29th", (29, None)), ("63rd", (63, None)), ("second", (2, None)),
    ("top position", (1, None)), ("61/63", (61, 63)), ("thứ 6", (6, None)), ("51e", (51, None)),
    ("60. místě z 63", (60, 63)), ("26-е место из 63", (26, 63)), ("第62", (62, None)), ("22位", (22, None)),
    ("top 10", (None, None)),
])
def test_parse_rank_mention(text, expected):
    assert pci_web.parse_rank_mention(text)[:2] == expected


def test_parse_rank_mention_rejects_other_text():
    with pytest.raises(ParseError):
        pci_web.parse_rank_mention("near the bottom")


def test_news_facts_and_ha_tinh_conflict():
    facts, scores, conflicts = pci_web.read_news()
    assert list(facts.columns) == list(FACT_COLUMNS)
    assert facts["source_locator"].nunique() == 68  # every mention is a fact
    dl = facts[(facts["year"] == 2022) & (facts["scope"] == "66")]  # Dak Lak, Czech copy
    assert set(zip(dl["metric"], dl["value"])) == {("pci_score", 60.91), ("pci_rank", 60.0)}
    assert dl.loc[dl["metric"] == "pci_rank", "rank_of"].iloc[0] == 63
    assert set(facts.loc[facts["scope_as_written"].isin(["Лаокай", "ハナム"]), "scope"]) == {"10", "35"}
    ht = conflicts[(conflicts["year"] == 2021) & (conflicts["province_code"] == "42")]  # Hà Tĩnh
    assert len(ht) == 1 and {ht.iloc[0]["value_a"], ht.iloc[0]["value_b"]} == {64.87, 62.87}
    assert ht.iloc[0]["chosen"] == "none"
    row = one(scores, 2021, "42")
    assert math.isnan(row["value"]) and row["published_rank"] == 27  # both mentions say 27th
    assert one(scores, 2024, "31")["value"] == 74.84 and one(scores, 2024, "31")["published_rank"] == 1


def test_news_against_tables_table_wins(tables, tmp_path):
    """The two news errors SOURCES.md describes (not present in the stored file) against the real tables."""
    news = tmp_path / "news.csv"
    pd.DataFrame({
        "year": ["2020", "2021"], "province_as_printed": ["Kon Tum", "Quảng Ninh"],
        "score_as_printed": ["60,02", "70.02 percent"], "rank_as_printed": ["56", "1st"],
        "quote": ["...", "..."], "source_url": ["https://example.invalid/a", "https://example.invalid/b"],
    }).to_csv(news, index=False)
    facts, scores, conflicts = pci_web.read_news(news, tables=tables)
    assert scores.empty  # both province-years are in the tables
    got = {(r.year, r.province_code): (r.value_a, r.value_b, r.chosen) for r in conflicts.itertuples()}
    assert got == {(2020, "62"): (62.02, 60.02, "a"), (2021, "22"): (73.02, 70.02, "a")}


def test_read_all_accepts_data_raw(merged):
    assert pci_web.read_all(pci_web.paths.RAW)["scores"].equals(merged["scores"])


def test_read_all_one_row_per_key_and_counts(merged):
    scores, facts, conflicts = merged["scores"], merged["facts"], merged["conflicts"]
    assert list(scores.columns) == list(SCORE_COLUMNS) and list(conflicts.columns) == list(CONFLICT_COLUMNS)
    assert not scores.duplicated(pci_web.KEY).any()
    assert scores[["source_file", "source_locator", "source_url"]].notna().all().all()
    overall = scores[scores["indicator"] == "overall"]
    per_year = overall.groupby("year")["province_code"].nunique().to_dict()
    # 35 / 31 / 16 / 19 as SOURCES.md says, plus the provinces whose rank only a news mention states
    # (5 / 6 / 3 / 1), kept since a published rank without a score is still published (issue: ranks dropped)
    assert per_year == {2020: 63, 2021: 35 + 5, 2022: 31 + 6, 2023: 16 + 3, 2024: 19 + 1}
    dn = overall[overall["province_code"] == "67"].set_index("year")
    assert (dn.loc[2021, "published_rank"], dn.loc[2022, "published_rank"]) == (52, 38)
    assert dn.loc[[2021, 2022], "value"].isna().all()
    with_value = overall[overall["value"].notna()].groupby("year")["province_code"].nunique().to_dict()
    assert with_value[2021] == 34  # Hà Tĩnh 2021: two different scores, rank 27 only
    # priority: the 2021 table beats the profile page and the news mention for Phú Thọ.
    assert one(scores, 2021, "25")["source_file"] == "data/raw/pci/pci_2021_subindices.csv"
    assert one(scores, 2020, "45")["coverage"] == "full"
    assert len(conflicts) == 1 and len(facts) == 111
