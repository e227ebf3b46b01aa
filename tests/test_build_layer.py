"""The data layer's one-rule-per-concept pieces: derived tables, cache keys, raw checks."""
import json
import shutil

import pandas as pd
import pytest

from cchc_analysis import data, digest, load, paths, ranking, report, schema
from cchc_analysis.errors import SourceError

# --------------------------------------------------------------------------- derived tables


def test_ranked_and_changes_are_built_once_and_equal_the_calculation(built):
    scores, indicators = load("scores"), load("indicators")
    ranked = ranking.rank_scores(scores)
    pd.testing.assert_frame_equal(load("ranked"), ranked, check_dtype=False)
    pd.testing.assert_frame_equal(load("changes"), ranking.changes(ranked, indicators), check_dtype=False)


def test_changes_table_real_values(built):
    c = load("changes").set_index(["index_id", "indicator", "province_code", "year"])
    dn = c.loc[("pci", "overall", "67", 2020)]  # Đắk Nông PCI 2020: published rank 60, 62 in 2019
    assert (dn["rank"], dn["prev_rank"], dn["rank_change"], dn["rank_source"]) == (60, 62, 2, "published")
    assert dn["score_change"] == pytest.approx(61.96 - 60.496777, abs=1e-5)
    papi = c.loc[("papi", "overall", "67", 2018)]  # PAPI headline 6 → 8 dimensions in 2018
    assert not papi["comparable"] and papi["note"] == "not comparable: PAPI methodology changed in 2018"
    assert pd.isna(papi["rank_change"])
    assert len(c) == len(load("scores"))


def test_derived_tables_are_in_the_data_dictionary():
    text = schema.data_dictionary()
    assert "## `ranked`" in text and "## `changes`" in text and "| `rank_change` | Int64 |" in text
    assert {"ranked", "changes"} <= set(data.TABLES)


def test_schema_conform_is_the_one_column_definition():
    from cchc_analysis.sources.base import CONFLICT_COLUMNS, FACT_COLUMNS, SCORE_COLUMNS
    assert list(SCORE_COLUMNS) == list(schema.SCORES.columns)
    assert list(FACT_COLUMNS) == list(schema.FACTS.columns) and list(CONFLICT_COLUMNS) == list(schema.CONFLICTS.columns)
    out = schema.conform("conflicts", pd.DataFrame({"field": ["value"], "extra": [1], "year": [2020]}))
    assert list(out.columns) == list(schema.CONFLICTS.columns) and str(out["year"].dtype) == "Int64"
    assert out["index_id"].isna().all()


# --------------------------------------------------------------------------- what a rebuild depends on

@pytest.fixture
def package_copy(tmp_path, monkeypatch):
    copy = tmp_path / "cchc_analysis"
    shutil.copytree(digest.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(digest, "PACKAGE", copy)
    return copy


def _data_key():
    return digest.files_digest(data.data_code_files())


def _report_key():
    return digest.files_digest(report.report_code_files())


def test_editing_plots_rebuilds_no_data_but_reruns_reports(package_copy):
    names = {p.name for p in data.data_code_files()}
    assert {"data.py", "schema.py", "pci_web.py", "papi.py", "facts.py", "provinces.py", "ranking.py"} <= names
    assert not names & {"plots.py", "reporting.py", "report.py", "ranking_report.py", "procedure_report.py"}
    data_key, report_key = _data_key(), _report_key()
    with open(package_copy / "plots.py", "a") as f:
        f.write("\n# a colour changed\n")
    assert _data_key() == data_key
    assert _report_key() != report_key
    with open(package_copy / "sources" / "pci_web.py", "a") as f:
        f.write("\n# a reader changed\n")
    assert _data_key() != data_key


def test_report_key_follows_the_processed_data_not_the_readers(package_copy, monkeypatch):
    assert "data.py" not in {p.name for p in report.report_code_files()}
    assert "plots.py" in {p.name for p in report.report_code_files()}


@pytest.fixture
def raw_copy(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(paths.RAW, raw)
    return raw


def _fake_build(raw, out):
    """An output folder whose stamp says it was built from `raw` as it is now (no real build)."""
    out.mkdir()
    for t in data.TABLES:
        for ext in ("parquet", "csv"):
            (out / f"{t}.{ext}").write_bytes(b"")
    stamp = {"inputs": data._inputs_hash(raw), "rows": {}, "raw": data.check_raw(raw)}
    (out / data.STAMP).write_text(json.dumps(stamp))


def test_plain_build_refuses_a_raw_file_changed_behind_the_manifest(raw_copy, tmp_path):
    out = tmp_path / "out"
    _fake_build(raw_copy, out)
    assert data.build_data(raw_copy, out, log=lambda *_: None) == {"rebuilt": False}
    target = raw_copy / "pci" / "pci_2020_scores.csv"
    stat = target.stat()
    target.touch()                       # same bytes, newer mtime: hashed again, still up to date
    assert target.stat().st_mtime_ns != stat.st_mtime_ns
    assert data.build_data(raw_copy, out, log=lambda *_: None) == {"rebuilt": False}
    with open(target, "ab") as f:
        f.write(b"\n")
    with pytest.raises(SourceError, match=r"data/raw/pci/pci_2020_scores\.csv: changed behind the manifest"):
        data.build_data(raw_copy, out, log=lambda *_: None)


def test_raw_check_names_unlisted_and_missing_files(raw_copy):
    (raw_copy / "pci" / "new.csv").write_text("x\n")
    with pytest.raises(SourceError, match=r"data/raw/pci/new\.csv: not in data/raw/manifest\.yaml"):
        data.check_raw(raw_copy)
    (raw_copy / "pci" / "new.csv").unlink()
    (raw_copy / "pci" / "pci_2020_scores.csv").unlink()
    with pytest.raises(SourceError, match=r"data/raw/pci/pci_2020_scores\.csv: listed in .* but missing"):
        data.check_raw(raw_copy)


# --------------------------------------------------------------------------- the index registry

def test_index_registry_is_the_one_list():
    from cchc_analysis import compare, indices, reporting, targets
    assert indices.ids() == ["pci", "papi", "par", "sipas"] == schema.INDEX_IDS
    assert schema.FACT_INDEX_IDS == ["pci", "papi", "par", "sipas", "tthc", "index766", "other"]
    assert reporting.INDEX_NAMES["papi"] == ("PAPI – Hiệu quả quản trị và hành chính công",
                                             "PAPI – Governance and Public Administration Performance")
    assert targets.TIER_LADDERS["pci"] == ["Rất tốt", "Tốt", "Khá", "Trung bình", "Tương đối thấp", "Thấp"]
    assert compare.PAPI_GROUPS == ["Best Performers", "High Average", "Low Average", "Poor Performers"]
    assert ranking.PRECISION == {"pci": None, "papi": None, "par": 2, "sipas": 2}
    assert indices.views()["par"] == "chính quyền / government"


def test_tier_positions_use_exact_names_or_listed_aliases():
    from cchc_analysis import indices
    assert indices.tier_position("pci", "Khá") == 2 and indices.tier_position("pci", "average") == 3
    assert indices.tier_position("papi", "upper-average") == 1 and indices.tier_position("papi", "Thấp nhất") == 3
    assert indices.tier_position("pci", "rất tốt") is None          # not a listed alias: no guess
    assert indices.tier_position("papi", "Trung bình") is None      # a PCI tier is not on PAPI's ladder
    assert indices.tier_position("par", None) is None


# --------------------------------------------------------------------------- text keys

def test_text_keys():
    from cchc_analysis import text
    nfd = "Đắk  Nông\n".replace("ắ", "a\u0306\u0301")                  # decomposed, doubled space, newline
    assert text.nfc(nfd) == "Đắk Nông" and text.nfc_exact("a\u0306\u0301\n") == "ắ\n"
    assert text.fold_key(" CHỈ  SỐ ") == text.fold_key("chỉ số") == "chỉ số"
    assert text.strip_diacritics("Đắk Nông") == "Dak Nong"
    assert text.plain_key("  Đắk   NÔNG ") == "dak nong"
    assert text.accent_key(" Trực\ttuyến  Đ ") == "truc tuyen đ"             # đ kept, as DuckDB's strip_accents
    assert [text.column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
    assert text.TOL_2DP > 0.005 and abs(61.96 - 61.955) <= text.TOL_2DP and not abs(61.96 - 61.954) <= text.TOL_2DP


def test_accent_key_equals_its_sql_form():
    import duckdb
    from cchc_analysis import text
    labels = ["Trực tuyến", "  TRỰC\n\ttuyến ", "Đúng hạn", "Quá hạn", "cấp xã", "Ｆｕｌｌ"]
    con = duckdb.connect()
    for s in labels:
        sql = text.SQL_ACCENT_KEY.format("?")
        assert con.execute(f"SELECT {sql}", [s]).fetchone()[0] == text.accent_key(s), s


def test_one_normaliser_per_rule():
    from cchc_analysis import plots, provinces, text
    from cchc_analysis.sources import facts, papi, pci_excel, pci_web
    assert provinces.nfc is text.nfc and pci_web.nfc is text.nfc and facts.nfc is text.nfc and papi.nfc is text.nfc
    assert plots.nfc is text.nfc_exact and pci_excel._norm is text.plain_key
    assert pci_web._label_key is text.fold_key and facts._component_key is text.fold_key
    assert pci_excel._letter is papi._col_letter is text.column_letter
    assert data.TOLERANCE == pci_web.TOLERANCE == text.TOL_2DP and papi.EXCERPT_TOLERANCE == text.TOL_4DP


# --------------------------------------------------------------------------- which source wins

def _cand(file, value, rank=None, kind="", loc="row 2"):
    return {"index_id": "pci", "year": 2021, "province_code": "42", "indicator": "overall", "value": value,
            "unit": "points", "published_rank": rank, "published_tier": None, "coverage": "partial",
            "source_file": file, "source_locator": loc, "source_url": None, "kind": kind}


def test_selection_by_the_priority_table():
    from cchc_analysis import select
    table = "data/raw/pci/pci_2021_scores.csv"
    news = "data/raw/pci/pci_news_mentions_2020_2024.csv"
    c = pd.DataFrame([_cand(news, 64.0, 3, "news"), _cand(table, 64.87, 2), _cand(news, 64.87, None, "news rank-only")])
    win, conf = select.select(c)
    assert len(win) == 1 and win.iloc[0]["value"] == 64.87 and win.iloc[0]["source_file"] == table
    assert list(conf["field"]) == ["value", "published_rank"] and set(conf["chosen"]) == {"a"}
    assert conf.iloc[0]["reason"] == "partial table preferred over news mention"
    # two news mentions of equal priority that disagree: no value chosen, the rank they agree on kept
    win, conf = select.select(pd.DataFrame([_cand(news, 64.87, 5, "news", "row 4"),
                                            _cand(news, 62.87, 5, "news", "row 5")]))
    assert pd.isna(win.iloc[0]["value"]) and win.iloc[0]["published_rank"] == 5
    assert conf.iloc[0]["reason"] == "news mentions disagree; none chosen" and conf.iloc[0]["chosen"] == "none"
    # values within the printed precision agree
    assert select.select(pd.DataFrame([_cand(table, 64.87), _cand(news, 64.874, None, "news")]))[1].empty
    # a rank-only mention is kept as a rank-only row (issue: published ranks dropped), never with a value
    kept = select.select(pd.DataFrame([_cand(news, None, 4, "news rank-only")]))[0]
    assert len(kept) == 1 and pd.isna(kept.iloc[0]["value"]) and kept.iloc[0]["published_rank"] == 4
    with pytest.raises(SourceError, match="no row gives the priority of data/raw/pci/unlisted.csv"):
        select.select(pd.DataFrame([_cand("data/raw/pci/unlisted.csv", 1.0)]))


def test_every_source_has_a_priority_and_the_build_keeps_its_conflicts(built):
    from cchc_analysis import select
    table = select.priority_table()
    assert table["priority"].is_monotonic_increasing and set(table["emit"]) <= {"yes", "no"}
    for f in load("scores")["source_file"].unique():
        for part in f.split("; "):
            kinds = [k for p, k in zip(table.pattern, table.kind) if part.startswith(p)]
            assert kinds, part
            select.priority_of(part, kinds[0])
    c = load("conflicts")
    # the 7 conflicts of the first build, plus the 6 the integrity checks find (rank order, two sources' ranks)
    assert len(c) == 13 and (c.field == "rank_order").sum() == 3
    new = {(2023, "80"), (2022, "58")}  # Long An 7th vs 8th; one rank 29 for two scores
    old = c[c.field.isin(["value", "published_rank"]) & ~((c.index_id == "par")
                                                           & pd.Series(list(zip(c.year, c.province_code))).isin(new))]
    assert len(old) == 7
    news = c[c.index_id == "pci"].iloc[0]
    assert (news.year, news.province_code, news.value_a, news.value_b) == (2021, "42", 64.87, 62.87)
    assert news.chosen == "none"
    assert news.reason == "news mentions disagree; none chosen"
    assert (old.index_id == "par").sum() == 6 and (old.field == "published_rank").sum() == 1


def test_priority_table_columns_and_one_tie_rule_per_priority(tmp_path, monkeypatch):
    from cchc_analysis import select
    table = select.priority_table()
    assert set(table["tie"]) == {"none", "majority"} and set(table.loc[table["tie"] == "majority", "priority"]) == {70}
    assert table.loc[table["label"] == "quartile group", "fill"].tolist() == [("published_tier",)]
    bad = pd.read_csv(select.PRIORITY_FILE, dtype=str, keep_default_na=False)
    bad.loc[bad["pattern"] == "data/raw/reports/", "tie"] = "none"           # same priority 70 as par_sipas/
    p = tmp_path / "source_priority.csv"
    bad.to_csv(p, index=False)
    monkeypatch.setattr(select, "PRIORITY_FILE", p)
    select.priority_table.cache_clear()
    try:
        with pytest.raises(SourceError, match="priority 70 name different tie rules"):
            select.priority_table()
    finally:
        monkeypatch.undo()
        select.priority_table.cache_clear()


def test_readers_only_read_fact_and_group_candidates():
    """The facts reader emits one candidate per fact and PAPI one per quartile group: select.py chooses."""
    from cchc_analysis.sources import facts, papi
    f = facts.read(paths.RAW).scores
    assert f.duplicated(["index_id", "year", "province_code", "indicator"]).any()
    assert (f[["value", "published_rank", "published_tier"]].notna().sum(axis=1) == 1).all()
    groups = papi.read(paths.RAW).scores
    groups = groups[groups["source_file"].str.endswith(papi.GROUPS_FILE)]
    assert len(groups) == len(papi.read_groups_2018_2019(paths.RAW / "papi" / papi.GROUPS_FILE))
    assert groups["published_tier"].notna().all()


def test_every_reader_has_the_same_entry_point(tmp_path):
    from cchc_analysis.sources import facts, official, papi, par_foreign, pci_excel, pci_web
    from cchc_analysis.sources.base import Candidates
    assert data.READERS == ("pci_excel", "pci_web", "papi", "facts", "par_foreign", "official")
    c = pci_web.read(paths.RAW)
    assert isinstance(c, Candidates) and {"profile VN", "profile EN", "news", "news rank-only"} <= set(c.scores["kind"])
    for m in (facts, papi, pci_excel, pci_web, par_foreign, official):
        assert m.read.__code__.co_varnames[:1] == ("raw_dir",)


def test_papi_excerpt_loses_to_the_csv_in_the_one_selection_step():
    from cchc_analysis import select
    from cchc_analysis.sources import papi
    c = papi.read(paths.RAW).scores
    d6 = c[(c.year == 2023) & (c.indicator == "d6_public_service_delivery") & (c.province_code == "01")]
    assert sorted(f.rsplit("/", 1)[1] for f in d6.source_file) == [papi.CSV_2020_2024, papi.EXCERPT_2023_FILE]
    csv_row, excerpt_row = (d6[d6.source_file.str.endswith(f)].iloc[[0]] for f in (papi.CSV_2020_2024,
                                                                               papi.EXCERPT_2023_FILE))
    win, conf = select.select(pd.concat([excerpt_row, csv_row]))
    assert win.iloc[0]["source_file"].endswith(papi.CSV_2020_2024) and conf.empty
    bumped = csv_row.assign(value=csv_row["value"] + 0.0001)          # beyond the excerpt's 4 decimals
    conf = select.select(pd.concat([excerpt_row, bumped]))[1]
    assert conf["reason"].tolist() == ["full table preferred over report excerpt"]
    assert select.select(pd.concat([excerpt_row, csv_row.assign(value=csv_row["value"] + 0.00004)]))[1].empty
