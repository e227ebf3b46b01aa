"""Data integrity: units in their years, values in their quotes, inconsistent facts as conflicts,
the new foreign-language PAR/SIPAS files, and official tables a user drops in (end to end on
TEST_ONLY fixtures, built into a temporary copy of data/raw: data/raw and data/processed untouched)."""
from __future__ import annotations

import csv
import math
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from cchc_analysis import load, manifest, paths, provinces, validity
from cchc_analysis.data import build_data, coverage
from cchc_analysis.errors import SourceError
from cchc_analysis.ranking import changes, rank_check, rank_scores
from cchc_analysis.sources import consistency, official, par_foreign, quotes
from cchc_analysis.sources.base import SCORE_COLUMNS, conform

FIXTURES = Path(__file__).parent / "fixtures" / "official"
PAR_FIXTURE = FIXTURES / "TEST_ONLY_par_index_2024_full.csv"
PAPI_FIXTURE = FIXTURES / "TEST_ONLY_papi_2025_full.csv"
sys.path.insert(0, str(FIXTURES))
import make_test_fixtures as mtf  # noqa: E402


def _scores(rows: list[dict]) -> pd.DataFrame:
    base = dict(index_id="pci", indicator="overall", value=60.0, unit="points", coverage="full",
                source_file="data/raw/pci/x.csv", source_url="u")
    return conform(pd.DataFrame([dict(base, **r) for r in rows]), SCORE_COLUMNS)


# ------------------------------------------------------------------ 1. a unit only exists in its years

def test_registry_validity_dates():
    v = provinces.validity()
    assert len(v) == 64 + 34
    ht = v[(v.system == "63") & (v.code == "28")].iloc[0]
    assert ht["name"] == "Hà Tây" and str(ht.valid_to.date()) == "2008-07-31"
    old = v[(v.system == "63") & (v.code != "28")]
    assert len(old) == 63 and set(old.valid_to.dt.date.astype(str)) == {"2025-06-30"}
    new = v[v.system == "34"]
    assert len(new) == 34 and set(new.valid_from.dt.date.astype(str)) == {"2025-07-01"} and new.valid_to.isna().all()
    assert len(provinces.provinces_63()) == 63 and "28" not in set(provinces.provinces_63().code)


def test_validity_hand_made_rows():
    ok = _scores([dict(year=2008, province_code="28", source_locator="Tổng hợp!Q7"),   # PCI 2008 still has Hà Tây
                  dict(year=2025, province_code="68", source_locator="row 2"),         # Lâm Đồng, a 2025 unit
                  dict(year=2024, province_code="67", source_locator="row 3")])        # Đắk Nông before the merger
    assert validity.problems(ok, "scores") == []
    bad = _scores([dict(year=2009, province_code="28", source_locator="Tong Hop!J4"),
                   dict(year=2025, province_code="67", source_locator="row 5, column D1")])
    errs = validity.problems(bad, "scores")
    assert [(e.sheet, e.row, e.column) for e in errs] == [("Tong Hop", 4, "J"), (None, 5, "D1")]
    assert "Hà Tây (28, province) existed before 2005 – 2008-07-31, not in 2009" in str(errs[0])
    assert "67 is not a unit of 2025 (Đắk Nông is a pre-2025 province)" in str(errs[1])
    unit_early = _scores([dict(year=2024, province_code="68", source_locator="row 7")]).assign(unit_system="34")
    (e,), = [validity.problems(unit_early, "scores")]
    assert "Lâm Đồng (68, unit of 2025) existed 2025-07-01 – today, not in 2024" in str(e) and e.row == 7
    with pytest.raises(SourceError, match="and file"):
        validity.check([bad], [])


def test_real_data_passes_validity(built):
    assert validity.problems(load("scores"), "scores") == []
    f = load("facts")
    assert validity.problems(f, "facts") == []
    units = f[f.note.fillna("").str.contains(validity.UNIT_NOTE)]
    assert len(units) == 64 and set(units.year) == {2025}                 # index766 and the post-merger TTHC rows


# ------------------------------------------------------------------ 2. a fact's value must be in its own quote

def test_in_quote_number_styles():
    assert quotes.in_quote("84.66", "Đắk Nông đạt 84,66 điểm", "vi")
    assert quotes.in_quote("84,66%", "reached 84.66 percent", "mixed")
    assert not quotes.in_quote("84.66", "Đắk Nông đạt 84,66 điểm", "en")
    assert quotes.in_quote("12/63", "xếp thứ 12/63 tỉnh")
    assert not quotes.in_quote("hạng 9", "Long An (hạng 7) và Hậu Giang (hạng 19)")   # 9 is not 19
    assert quotes.in_quote("Đắk Nông", "tỉnh Đắk Nông")                                 # NFD text after NFC
    assert quotes.in_quote("\u0110a\u0306\u0301k", "tỉnh Đắk Nông")


def test_real_failures_are_exactly_the_reviewed_exceptions(built):
    bad = quotes.failures(load("facts"))
    exc = quotes.exceptions()
    key = ["source_file", "source_locator", "column", "value_as_written"]
    assert set(map(tuple, bad[key].to_numpy().tolist())) == set(map(tuple, exc[key].to_numpy().tolist()))
    assert len(exc) == 185 and exc["reason"].str.len().gt(20).all()
    assert exc.groupby("source_file").size().to_dict() == {
        "data/raw/par_sipas/par_sipas_facts.csv": 149,
        "data/raw/par_sipas/par_sipas_facts_foreign_language_supplement.csv": 36}
    assert len(quotes.written_cells(load("facts"))) == 1505
    quotes.check(load("facts"))                                           # what the build runs


def test_stale_exception_is_an_error(tmp_path, built):
    p = tmp_path / "quote_exceptions.csv"
    shutil.copy(quotes.EXCEPTIONS_FILE, p)
    with open(p, "a", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerow(
            ["data/raw/par_sipas/par_sipas_facts.csv", "row 2", "value_as_written", "76,53", "in its quote"])
    with pytest.raises(SourceError, match="matches no failing row any more") as e:
        quotes.check(load("facts"), p)
    assert e.value.row == 187 and e.value.column == "value_as_written"


# ------------------------------------------------------------------ 3. inconsistent facts become conflicts

def test_real_conflicts(built):
    c = load("conflicts")
    ro = c[(c.field == "rank_order") & (c.index_id == "par") & (c.year == 2022) & (c.province_code == "67")].iloc[0]
    assert (ro.value_a, ro.value_b, ro.chosen) == (37.0, 29.0, "none")
    assert "Đắk Nông 84.66 ranked 37 but Bình Phước's lower 84.46 ranked 29" in ro.reason
    la = c[(c.index_id == "par") & (c.year == 2023) & (c.province_code == "80") & (c.field == "published_rank")]
    assert set(zip(la.value_a, la.value_b)) == {(7.0, 8.0)}
    assert la.source_b.str.contains("foreign_language_supplement.csv row 9").all()
    new = c[c.reason.str.contains("cannot both be true")]
    assert len(new) == 6 and len(c) == 13


def test_rank_order_hand_made():
    s = _scores([dict(index_id="par", year=2022, province_code="67", value=84.66, published_rank=37,
                      source_locator="r1"),
                 dict(index_id="par", year=2022, province_code="70", value=84.46, published_rank=29,
                      source_locator="r2"),
                 dict(index_id="par", year=2022, province_code="01", value=90.0, published_rank=3,
                      source_locator="r3")])
    out = consistency.rank_order_conflicts(s)
    assert [(r["province_code"], r["value_a"], r["value_b"]) for r in out] == [("67", 37.0, 29.0)]


# ------------------------------------------------------------------ the two new PAR/SIPAS files

def test_supplement_values(built):
    f = par_foreign.read_supplement()
    assert f.source_locator.nunique() == 60                               # 61 rows; row 50 states nothing
    qn = f[(f.scope == "22") & (f.year == 2023) & (f.index_id == "par")]
    assert set(zip(qn.value, qn.unit)) == {(92.18, "points"), (1.0, "rank")}
    assert qn.scope_as_written.iloc[0] == "クアンニン省 (collector: Quảng Ninh)"
    hcm = f[(f.scope == "79") & (f.year == 2021)]
    assert set(zip(hcm.value, hcm.unit)) == {(43.0, "rank"), (-20.0, "rank_change")}
    sd = f[f.metric == "sipas_component_service_delivery"]
    assert len(sd) == 11 and sd.value.isna().sum() == 11                 # top/bottom-5 lists: no ranks


def test_zh_2020_table():
    s = par_foreign.read_zh_2020()
    assert len(s) == 50 and s.province_code.nunique() == 10
    w = s.pivot(index="province_code", columns="indicator", values="value")
    parts = w[["diem_tham_dinh", "diem_sipas", "khao_sat_lanh_dao", "tac_dong_kt_xh"]].sum(axis=1)
    assert (parts - w["overall"]).abs().max() <= 0.01 + 1e-9              # as SOURCES.md says
    qn = s[(s.province_code == "22") & (s.indicator == "overall")].iloc[0]
    assert (qn.value, qn.published_rank) == (91.04, 1)
    scores = load("scores")
    assert scores[(scores.index_id == "par") & (scores.year == 2020) & (scores.indicator == "diem_tham_dinh")
                  ].province_code.nunique() == 10


# ------------------------------------------------------------------ official tables a user brings

@pytest.fixture(scope="module")
def dropped(tmp_path_factory, built):
    """A copy of data/raw with the TEST_ONLY official tables (PAR 2024, PAPI 2025, PCI 2025) in official/."""
    root = tmp_path_factory.mktemp("dropin")
    raw = root / "raw"
    shutil.copytree(paths.RAW, raw)
    (raw / "official").mkdir()
    for p in (PAR_FIXTURE, PAPI_FIXTURE):
        shutil.copy(p, raw / "official" / p.name)
    mtf.pci_2025_xlsx(raw / "official" / "TEST_ONLY_PCI_2025.xlsx")
    manifest.write_manifest(raw)
    before = {p: p.read_bytes() for p in paths.PROCESSED.glob("*.*")}
    build_data(raw, root / "processed", force=True, log=lambda *_: None)
    assert {p: p.read_bytes() for p in paths.PROCESSED.glob("*.*")} == before
    return {t: pd.read_parquet(root / "processed" / f"{t}.parquet") for t in ("scores", "conflicts", "facts")}


def test_fixtures_say_they_are_test_data():
    for p in FIXTURES.glob("TEST_ONLY_*.csv"):
        rows = list(csv.DictReader(open(p, encoding="utf-8")))
        assert rows and all("NOT OFFICIAL DATA" in r["source_url"] for r in rows)
    assert not list(paths.RAW.rglob("TEST_ONLY*"))


def test_dropped_years_become_full(dropped):
    cov = coverage(dropped["scores"]).set_index(["index_id", "year"])
    assert tuple(cov.loc[("par", 2024), ["provinces", "expected", "coverage"]]) == (63, 63, "full")
    assert tuple(cov.loc[("papi", 2025), ["provinces", "expected", "coverage"]]) == (34, 34, "full")
    assert tuple(cov.loc[("pci", 2025), ["provinces", "expected", "coverage"]]) == (34, 34, "full")
    assert tuple(cov.loc[("par", 2023), ["coverage"]]) == ("partial",)
    s = dropped["scores"]
    hn = s[(s.index_id == "par") & (s.year == 2024) & (s.province_code == "01") & (s.indicator == "overall")].iloc[0]
    assert hn.source_file == "data/raw/official/TEST_ONLY_par_index_2024_full.csv" and hn.value == 80.0


def test_dropped_ranks_are_computed_and_checked(dropped):
    ranked = rank_scores(dropped["scores"])
    for idx, year in (("par", 2024), ("papi", 2025), ("pci", 2025)):
        r = ranked[(ranked.index_id == idx) & (ranked.year == year) & (ranked.indicator == "overall")]
        assert r.computed_rank.notna().all() and len(r) == (63 if year == 2024 else 34)
        assert rank_check(r).empty                                       # the published ranks are reproduced


def test_dropped_changes_where_comparable(dropped):
    ranked = rank_scores(dropped["scores"])
    ch = changes(ranked, load("indicators"))
    papi = ch[(ch.index_id == "papi") & (ch.year == 2025) & (ch.indicator == "overall")].set_index("province_code")
    assert papi.loc["68", "note"] == "not comparable: the unit was formed by the 1 July 2025 merger"
    assert not papi.loc["68", "comparable"] and pd.isna(papi.loc["68", "score_change"])
    single = set(provinces.units_2025().query("n_constituents == 1").unit_code)
    assert len(single) == 11 and papi.loc[sorted(single), "comparable"].all()   # unchanged units are compared
    assert papi.loc["22", "score_change"] == pytest.approx(papi.loc["22", "value"] - 47.821236, abs=1e-5)
    assert papi.comparable.sum() == 11
    par = ch[(ch.index_id == "par") & (ch.year == 2024) & (ch.indicator == "overall")].set_index("province_code")
    assert par.loc["01", "prev_year"] == 2023 and par.loc["01", "prev_value"] == 91.43
    assert set(par.note) == {"not comparable: PAR methodology changed in 2024"} and par.score_change.isna().all()


def test_dropped_table_outranks_facts_and_disagreements_are_conflicts(dropped):
    c = dropped["conflicts"]
    hn = c[(c.index_id == "par") & (c.year == 2024) & (c.province_code == "01") & (c.indicator == "overall")]
    assert set(zip(hn.field, hn.value_a, hn.value_b)) == {("value", 80.0, 92.57), ("published_rank", 63.0, 3.0)}
    assert hn.source_a.str.contains("TEST_ONLY_par_index_2024_full.csv").all() and set(hn.chosen) == {"a"}
    assert hn.source_b.str.contains("par_sipas_facts.csv").all()


def _fixture_copy(tmp_path, src: Path, name: str | None = None, edit=None) -> Path:
    text = src.read_text(encoding="utf-8")
    p = tmp_path / (name or src.name)
    p.write_text(edit(text) if edit else text, encoding="utf-8")
    return p


@pytest.mark.parametrize("name,edit,where,says", [
    ("TEST_ONLY_par_index_2024_full.csv",
     lambda t: "\n".join(x for x in t.split("\n") if not x.startswith("Đắk Nông,")),
     (None, "province"), "the 2024 table must list the 63 provinces once each: missing ['67']"),
    ("TEST_ONLY_par_index_2024_full.csv", lambda t: t.replace("\nHà Giang,90.14,4.06", "\nHà Giang,90.14,4.16", 1),
     (4, "overall"), "the areas add up to 90.24, not the index 90.14"),
    ("TEST_ONLY_par_index_2024_full.csv", lambda t: t.replace("max_points,100.00,4.50", "max_points,100.00,5.50", 1),
     (2, "overall"), "the areas' maxima add up to 101"),
    ("TEST_ONLY_par_index_2024_full.csv", lambda t: t.replace(",24.79,26,A,", ",24.79,62,A,", 1),
     (None, "rank"), "is inconsistent with rank"),
    ("TEST_ONLY_papi_2024_full.csv", None, (None, "province"), "the 2024 table must list the 63 provinces once each"),
    ("TEST_ONLY_papi_2025_full.csv", lambda t: t.replace("\nCao Bằng,", "\nĐắk Nông,", 1), (3, "province"),
     "is it a province before the 2025 merger?"),
])
def test_dropped_table_rejected(tmp_path, name, edit, where, says):
    src = PAR_FIXTURE if name.startswith("TEST_ONLY_par") else PAPI_FIXTURE
    p = _fixture_copy(tmp_path, src, name, edit)
    idx, year = official.recognise(p)
    with pytest.raises(SourceError) as e:
        official.read_csv_table(p, idx, year)
    assert says in str(e.value) and p.name in str(e.value)
    assert e.value.column == where[1] and (where[0] is None or e.value.row == where[0])


def test_dropped_table_rejected_at_build_leaves_processed_untouched(tmp_path, built):
    raw = tmp_path / "raw"
    shutil.copytree(paths.RAW, raw)
    (raw / "official").mkdir()
    _fixture_copy(raw / "official", PAPI_FIXTURE, "TEST_ONLY_papi_2024_full.csv")   # 34 units for 2024
    manifest.write_manifest(raw)
    out = tmp_path / "processed"
    shutil.copytree(paths.PROCESSED, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(SourceError, match="TEST_ONLY_papi_2024_full.csv.*must list the 63 provinces"):
        build_data(raw, out, force=True, log=lambda *_: None)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_unrecognised_official_name(tmp_path):
    (tmp_path / "official").mkdir()
    (tmp_path / "official" / "par_2024.csv").write_text("x\n", encoding="utf-8")
    with pytest.raises(SourceError, match="not a recognised official table name"):
        official.read_all(tmp_path)
    assert official.recognise(Path("TEST_ONLY_par_index_2024_full.csv")) == ("par", 2024)
    assert official.recognise(Path("PCI_2025.xlsx")) == ("pci", 2025)
    assert math.isclose(official.SUM_TOLERANCE, 0.05)
