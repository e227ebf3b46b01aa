"""PCI 2020–2024 copied from web pages: ranking tables, province profiles, news mentions.

Files (``data/raw/pci``, described in its SOURCES.md):

* ``pci_2020_scores.csv`` – the whole 2020 ranking (coverage "full");
* ``pci_2021_subindices.csv`` – 2021 top 21 with 10 sub-indices, score, rank, tier; its
  companion ``pci_2021_scores.csv`` repeats score/rank/tier and is only checked against it;
* ``pci_2022_scores.csv`` – 2022 top 10;
* ``pci_province_profiles_2020_2024.csv`` – province-profile pages, EN and VN templates;
* ``pci_news_mentions_2020_2024.csv`` – scores and ranks quoted in news text.

Headers of the tables and labels of the profiles are mapped to indicator ids through
``data/reference/pci_profile_labels.csv`` (label_as_printed,indicator); the pseudo-ids
"rank" and "tier" there mark the published rank and tier of the PCI score ("overall").

When several sources give the same (year, province, indicator), the one with the highest
priority wins: full table > partial table > profile page (VN template > EN template) > news
(mentions stating a score > mentions stating a rank only; the latter are only checked, never
emitted as scores: they stay facts).
Every losing value that differs (beyond 2-decimal rounding) is kept in the conflicts; two
sources of equal priority that disagree leave the value unchosen (chosen = "none", the
score row keeps only what they agree on). The conflict's `field` says whether the value or
the published rank disagrees.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .. import paths, vn
from ..errors import ParseError, SourceError, UnknownProvinceError
from ..provinces import to_code
from ..text import TOL_2DP, fold_key, nfc
from .. import select
from .base import FACT_COLUMNS, SCORE_COLUMNS, Candidates, conform
from .rawfile import read_csv_text, year_in_name

INDEX_ID = "pci"
UNIT = "points"
PCI_DIR = paths.RAW / "pci"
LABELS_FILE = paths.REFERENCE / "pci_profile_labels.csv"
CATALOGUE_FILE = paths.REFERENCE / "indicators" / "pci.csv"

# (file, year, coverage) of the ranking tables that are read for values.
TABLES = (
    ("pci_2020_scores.csv", 2020, "full"),
    ("pci_2021_subindices.csv", 2021, "partial"),
    ("pci_2022_scores.csv", 2022, "partial"),
)
# A file that repeats score/rank/tier of another table: read, checked, not emitted.
CHECK_TABLES = {"pci_2021_scores.csv": "pci_2021_subindices.csv"}
PROFILES_FILE = "pci_province_profiles_2020_2024.csv"
NEWS_FILE = "pci_news_mentions_2020_2024.csv"

PROVINCE_HEADERS = ("Tỉnh", "Tỉnh, Thành phố")
SUMMARY_ROW = re.compile(r"^(|median|min|max|mean|average|trung vị|trung bình|999 highest)$", re.I)
RANK_ROLES = ("rank", "tier")
KEY = ["index_id", "year", "province_code", "indicator"]
TOLERANCE = TOL_2DP  # values printed to 2 decimals agree when within half a unit of the last digit

# Priority labels, highest first.
FULL_TABLE = "full table"
PARTIAL_TABLE = "partial table"
PROFILE_VN = "profile page (VN template)"
PROFILE_EN = "profile page (EN template)"
NEWS = "news mention"
NEWS_RANK_ONLY = "news mention (rank only)"  # lowest priority; kept as a rank-only score row


# ---------------------------------------------------------------------------
# shared helpers

def _read_csv(path: Path, required: tuple[str, ...] = ()) -> pd.DataFrame:
    """A raw CSV as text cells (nothing converted), checking `required` columns."""
    df = read_csv_text(path)
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise SourceError(paths.raw_relpath(path), f"missing columns {missing}; found {list(df.columns)}")
    return df


_label_key = fold_key


def label_map(path: Path = LABELS_FILE) -> dict[str, str]:
    """label as printed (NFC, case-folded) -> indicator id, from the committed mapping file."""
    df = _read_csv(path, ("label_as_printed", "indicator"))
    out: dict[str, str] = {}
    for n, row in enumerate(df.itertuples(), start=2):
        key, ind = _label_key(row.label_as_printed), row.indicator.strip()
        if not key or not ind or out.get(key, ind) != ind:
            raise SourceError(paths.raw_relpath(path), f"empty or contradictory mapping of {row.label_as_printed!r}",
                              row=n)
        out[key] = ind
    _check_catalogue(set(out.values()) - set(RANK_ROLES), path)
    return out


def _check_catalogue(ids: set[str], path: Path) -> None:
    """Every mapped id must be in the PCI indicator catalogue, once that file exists."""
    if not CATALOGUE_FILE.exists():
        return
    known = set(_read_csv(CATALOGUE_FILE, ("indicator",))["indicator"])
    unknown = sorted(ids - known)
    if unknown:
        raise SourceError(paths.raw_relpath(path), f"indicator ids {unknown} are not in "
                          f"{paths.raw_relpath(CATALOGUE_FILE)}")


def _province(name: str, file: str, row: int, column: str | None = None) -> str | None:
    """Province code of a cell, None for a summary row; unknown names raise (with the row noted)."""
    text = nfc(name)
    if SUMMARY_ROW.match(text):
        return None
    try:
        return to_code(text)
    except UnknownProvinceError as e:
        raise SourceError(file, str(e), row=row, column=column) from e


def _number(text: str, style: str, file: str, row: int, column: str, upper: float) -> float | None:
    """A score cell: None when missing, else a number in [0, upper]."""
    try:
        v = vn.parse_number(text, style)
    except ParseError as e:
        raise SourceError(file, str(e), row=row, column=column) from e
    if v is not None and not 0 <= v <= upper:
        raise SourceError(file, f"{text!r} outside 0..{upper:g}", row=row, column=column)
    return v


def _rank(text: str, file: str, row: int, column: str) -> int | None:
    """A rank cell as published ('01' -> 1); None when missing."""
    try:
        r = vn.parse_rank(text)
    except ParseError as e:
        raise SourceError(file, str(e), row=row, column=column) from e
    return None if r is None else r[0]


def _upper(indicator: str) -> float:
    return 100.0 if indicator == "overall" else 10.0


def _score_row(year: int, code: str, indicator: str, value, rank, tier, coverage: str,
               file: str, locator: str, url: str) -> dict:
    return {"index_id": INDEX_ID, "year": year, "province_code": code, "indicator": indicator,
            "value": float("nan") if value is None else value, "unit": UNIT,
            "published_rank": pd.NA if rank is None else rank,
            "published_tier": pd.NA if not tier else tier,
            "coverage": coverage, "source_file": file, "source_locator": locator, "source_url": url}


def _scores_frame(rows: list[dict]) -> pd.DataFrame:
    """Score rows conformed and sorted (keeping only rows with a value, a rank or a tier)."""
    df = conform(pd.DataFrame(rows, columns=list(SCORE_COLUMNS)), SCORE_COLUMNS)
    keep = df["value"].notna() | df["published_rank"].notna() | df["published_tier"].notna()
    return _sort_scores(df[keep])


def _sort_scores(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(KEY + ["source_file", "source_locator"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------
# ranking tables

def _column_roles(columns: list[str], labels: dict[str, str], file: str) -> dict[str, str]:
    """Header -> role: 'province', 'source_url', 'rank', 'tier' or an indicator id."""
    provinces = [c for c in columns if nfc(c) in PROVINCE_HEADERS]
    if len(provinces) != 1:
        raise SourceError(file, f"expected one province column named one of {PROVINCE_HEADERS}; found {columns}",
                          row=1)
    roles = {provinces[0]: "province"}
    for col in columns:
        if col == provinces[0]:
            continue
        if col == "source_url":
            roles[col] = "source_url"
        elif _label_key(col) in labels:
            roles[col] = labels[_label_key(col)]
        else:
            raise SourceError(file, f"unknown header {col!r}: add it to {paths.raw_relpath(LABELS_FILE)}",
                              row=1, column=col)
    if "source_url" not in roles.values() or "overall" not in roles.values():
        raise SourceError(file, "expected a PCI score column and a source_url column", row=1)
    return roles


def _read_table(path: Path, year: int, coverage: str, labels: dict[str, str]) -> pd.DataFrame:
    """One table -> score rows (one per value; rank and tier go with 'overall')."""
    file = paths.raw_relpath(path)
    df = _read_csv(path)
    roles = _column_roles(list(df.columns), labels, file)
    by_role = {role: col for col, role in roles.items()}
    rows, seen = [], {}
    for i, rec in enumerate(df.to_dict("records")):
        n = i + 2
        code = _province(rec[by_role["province"]], file, n, by_role["province"])
        if code is None:
            continue
        if code in seen:
            raise SourceError(file, f"province {code} already on row {seen[code]}", row=n)
        seen[code] = n
        rank = _rank(rec[by_role["rank"]], file, n, by_role["rank"]) if "rank" in by_role else None
        tier = nfc(rec[by_role["tier"]]) if "tier" in by_role else None
        for col, ind in roles.items():
            if ind in ("province", "source_url") or ind in RANK_ROLES:
                continue
            value = _number(rec[col], "en", file, n, col, _upper(ind))
            headline = ind == "overall"
            rows.append(_score_row(year, code, ind, value, rank if headline else None,
                                   tier if headline else None, coverage, file,
                                   f"row {n}, column {col}", rec["source_url"]))
    if not seen:
        raise SourceError(file, "no province rows under the header: expected the table's data rows", row=2)
    return _scores_frame(rows)


def _check_same(main: pd.DataFrame, copy: pd.DataFrame, copy_file: str) -> None:
    """The companion table must repeat the main table's score, rank and tier exactly."""
    cols = ["province_code", "value", "published_rank", "published_tier"]
    a = main[main["indicator"] == "overall"][cols].reset_index(drop=True)
    b = copy[copy["indicator"] == "overall"][cols + ["source_locator"]].reset_index(drop=True)
    if sorted(a["province_code"]) != sorted(b["province_code"]):
        raise SourceError(copy_file, "provinces differ from the sub-indices table of the same year")
    m = b.merge(a, on="province_code", suffixes=("", "_main"))
    for c in cols[1:]:
        bad = m[m[c].astype(str) != m[f"{c}_main"].astype(str)]
        if len(bad):
            r = bad.iloc[0]
            raise SourceError(copy_file, f"{c} {r[c]} differs from {r[c + '_main']} in the sub-indices table "
                              f"({r['source_locator']})")


def _pci_dir(raw_dir: Path | str) -> Path:
    """The folder holding the PCI files: `raw_dir` itself or its pci/ folder (raw_dir = data/raw)."""
    raw_dir = Path(raw_dir)
    return raw_dir / "pci" if (raw_dir / "pci").is_dir() else raw_dir


def read_tables(raw_dir: Path | str = PCI_DIR) -> pd.DataFrame:
    """Scores of the 2020 (full), 2021 and 2022 (partial) tables in `raw_dir` (data/raw or data/raw/pci)."""
    raw_dir = _pci_dir(raw_dir)
    labels = label_map()
    frames = {name: _read_table(raw_dir / name, year, cov, labels) for name, year, cov in TABLES}
    years = {name: (year, cov) for name, year, cov in TABLES}
    for copy_name, main_name in sorted(CHECK_TABLES.items()):
        year, cov = years[main_name]
        copy = _read_table(raw_dir / copy_name, year, cov, labels)
        _check_same(frames[main_name], copy, paths.raw_relpath(raw_dir / copy_name))
    return _sort_scores(pd.concat([frames[n] for n, _, _ in TABLES], ignore_index=True))


# ---------------------------------------------------------------------------
# province profiles

PROFILE_COLUMNS = ("province_heading_on_page", "url_slug", "year", "indicator_as_printed",
                   "value_as_printed", "page_template", "source_url")


def _profile_rows(path: Path) -> dict[str, pd.DataFrame]:
    """Profile cells -> score rows per template ('VN', 'EN'), rank attached to 'overall'."""
    file = paths.raw_relpath(path)
    labels = label_map()
    df = _read_csv(path, PROFILE_COLUMNS)
    cells: dict[tuple, dict[str, tuple]] = {}
    for i, rec in enumerate(df.to_dict("records")):
        n = i + 2
        ind = labels.get(_label_key(rec["indicator_as_printed"]))
        if ind is None or ind == "tier":
            raise SourceError(file, f"unknown indicator label {rec['indicator_as_printed']!r}: add it to "
                              f"{paths.raw_relpath(LABELS_FILE)}", row=n, column="indicator_as_printed")
        code = _province(rec["province_heading_on_page"], file, n, "province_heading_on_page")
        if code is None or code != _province(rec["url_slug"].replace("-", " "), file, n, "url_slug"):
            raise SourceError(file, "province heading and url_slug name different provinces", row=n)
        template = rec["page_template"].split(" ", 1)[0]
        if template not in ("VN", "EN"):
            raise SourceError(file, f"page_template should start with VN or EN: {rec['page_template']!r}",
                              row=n, column="page_template")
        year_in_name(path, rec["year"], n)
        if ind == "rank":
            parsed = _rank(rec["value_as_printed"], file, n, "value_as_printed")
        else:
            parsed = _number(rec["value_as_printed"], "en", file, n, "value_as_printed", _upper(ind))
        group = cells.setdefault((template, int(rec["year"]), code), {})
        if ind in group:
            raise SourceError(file, f"{ind} given twice for this province, year and template (row "
                              f"{group[ind][1]})", row=n)
        group[ind] = (parsed, n, rec["source_url"])
    out: dict[str, list[dict]] = {"VN": [], "EN": []}
    for (template, year, code), group in sorted(cells.items()):
        rank, rank_row, rank_url = group.pop("rank", (None, None, None))
        if "overall" not in group and rank is not None:
            group["overall"] = (None, rank_row, rank_url)
        for ind, (value, n, url) in sorted(group.items()):
            headline = ind == "overall"
            loc = f"row {n}" + (f" (rank: row {rank_row})" if headline and rank_row not in (None, n) else "")
            out[template].append(_score_row(year, code, ind, value, rank if headline else None, None,
                                            "partial", file, loc, url))
    return {t: _scores_frame(rows) for t, rows in out.items()}


def read_profiles(path: Path | str = PCI_DIR / PROFILES_FILE) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Profile-page scores (coverage "partial", all years) and EN/VN template conflicts.

    Where a province has both templates, the VN template (the publisher's Vietnamese
    page, which also covers more years) is used; differing EN values go to conflicts.
    """
    t = _profile_rows(Path(path))
    scores, conflicts = _resolve([(PROFILE_VN, t["VN"]), (PROFILE_EN, t["EN"])])
    return _finish_scores(scores), conflicts


# ---------------------------------------------------------------------------
# resolving several sources into one row per key

def _resolve(ranked: list[tuple[str, pd.DataFrame]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One score row per key from frames in priority order (first wins), plus conflicts, by the one
    selection rule (`select.resolve`). The scores carry `tier_label` naming the winning source kind."""
    scores, conflicts = select.resolve_ranked(ranked)
    scores = scores.rename(columns={"_label": "tier_label"})
    scores = scores.drop(columns=["_prio", "_emit", "_tol", "_tie", "_fill"], errors="ignore")
    return scores, conflicts


def _finish_scores(df: pd.DataFrame) -> pd.DataFrame:
    return _sort_scores(conform(df, SCORE_COLUMNS))


def compare_with(scores_profiles: pd.DataFrame, reference_scores: pd.DataFrame) -> pd.DataFrame:
    """Conflicts where profile values (or ranks) differ from `reference_scores` beyond 2-decimal
    rounding; the reference (e.g. an official workbook) is side "a" and chosen."""
    keys = reference_scores[KEY].drop_duplicates()
    shared = scores_profiles.merge(keys, on=KEY, how="inner")
    ref = reference_scores.merge(shared[KEY].drop_duplicates(), on=KEY, how="inner")
    return _resolve([("reference", ref), ("profile page", shared)])[1]


# ---------------------------------------------------------------------------
# news mentions

NEWS_COLUMNS = ("year", "province_as_printed", "score_as_printed", "rank_as_printed", "quote", "source_url")

_WORD_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
                  "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "top position": 1}
# (pattern, language) for ranks written in other languages: group 1 = rank, group 2 = "out of".
_FOREIGN_RANKS = (
    (re.compile(r"(\d{1,3})\s*(?:e|er|ère|ème)"), "French"),
    (re.compile(r"(\d{1,3})\.\s*místě(?:\s+z\s+(\d{1,3}))?"), "Czech"),
    (re.compile(r"(\d{1,3})\s*-\s*(?:е|й|я)\s+место(?:\s+из\s+(\d{1,3}))?"), "Russian"),
    (re.compile(r"第\s*(\d{1,3})\s*位?"), "Chinese/Japanese"),
    (re.compile(r"(\d{1,3})\s*位"), "Japanese"),
)
_GROUP = re.compile(r"top\s+(\d{1,3})", re.I)


def parse_rank_mention(text: str) -> tuple[int | None, int | None, str]:
    """Rank as worded in a news text -> (rank, out_of, note).

    '29th', 'No. 52', '61/63', 'thứ 6' (via vn.parse_rank), 'second', 'top position',
    '51e', '60. místě z 63', '26-е место из 63', '第62', '22位'. 'top 10' names a group,
    not a rank: (None, None, note). Anything else raises ParseError.
    """
    s = nfc(text)
    low = s.casefold()
    if low in _WORD_ORDINALS:
        return _WORD_ORDINALS[low], None, f"rank written in words ({s!r})"
    if _GROUP.fullmatch(s):
        return None, None, f"{s!r} names a group, not a rank: rank left missing"
    for pattern, language in _FOREIGN_RANKS:
        m = pattern.fullmatch(s)
        if m:
            rank, of = int(m.group(1)), (int(m.group(2)) if m.lastindex and m.lastindex >= 2 and m.group(2) else None)
            if rank < 1 or (of is not None and rank > of):
                raise ParseError(f"{s!r}: rank {rank} outside 1..{of}")
            return rank, of, f"rank written in {language}"
    parsed = vn.parse_rank(s)
    if parsed is None:
        raise ParseError(f"{s!r} is not a rank")
    return parsed[0], parsed[1], ""


def _news_rows(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(facts, score candidates, rank-only candidates) from the news mentions.

    A mention with a score gives a score candidate (with its rank, if any); a mention with
    a rank only gives a rank-only candidate, used to find disagreements.
    """
    file = paths.raw_relpath(path)
    df = _read_csv(path, NEWS_COLUMNS)
    facts, scores, ranks = [], [], []
    for i, rec in enumerate(df.to_dict("records")):
        n = i + 2
        code = _province(rec["province_as_printed"], file, n, "province_as_printed")
        if code is None:
            raise SourceError(file, "no province named", row=n, column="province_as_printed")
        year = year_in_name(path, rec["year"], n)
        score_text, rank_text = nfc(rec["score_as_printed"]), nfc(rec["rank_as_printed"])
        if not score_text and not rank_text:
            raise SourceError(file, "neither a score nor a rank", row=n)
        base = {"index_id": INDEX_ID, "scope": code, "scope_as_written": rec["province_as_printed"],
                "year": year, "period": str(year), "quote": rec["quote"], "source_file": file,
                "source_locator": f"row {n}", "source_url": rec["source_url"], "_row": n,
                "rank_as_written": rank_text or None}
        score = rank = None
        if score_text:
            score = _number(score_text, "mixed", file, n, "score_as_printed", 100.0)
            note = "written as a percent; it is the PCI score in points" if re.search(r"%|percent", score_text) else ""
            facts.append({**base, "metric": "pci_score", "value": score, "unit": "points",
                          "value_as_written": score_text, "note": note})
        if rank_text:
            try:
                rank, of, note = parse_rank_mention(rank_text)
            except ParseError as e:
                raise SourceError(file, str(e), row=n, column="rank_as_printed") from e
            facts.append({**base, "metric": "pci_rank", "value": rank, "unit": "rank", "rank_of": of,
                          "value_as_written": rank_text, "note": note})
        row = _score_row(year, code, "overall", score, rank, None, "partial", file, f"row {n}", rec["source_url"])
        (scores if score is not None else ranks).append(row)
    fact_df = pd.DataFrame(facts).sort_values(["year", "scope", "_row", "metric"], kind="stable")
    return conform(fact_df, FACT_COLUMNS), _scores_frame(scores), _scores_frame(ranks)


def read_news(path: Path | str = PCI_DIR / NEWS_FILE,
              tables: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(facts, scores, conflicts) from the news mentions.

    Every mention is a fact. A stated score becomes a partial score row (with the rank
    stated beside it) unless `tables` (higher-priority scores) already hold that
    province-year-indicator; differing values or ranks among mentions (chosen "none") or
    against `tables` (table chosen) are conflicts. Rank-only mentions stay facts.
    """
    facts, candidates, rank_only = _news_rows(Path(path))
    ranked = ([(PARTIAL_TABLE, tables)] if tables is not None else []) + [(NEWS, candidates),
                                                                         (NEWS_RANK_ONLY, rank_only)]
    scores, conflicts = _resolve(ranked)
    return facts, _finish_scores(scores[scores["tier_label"] == NEWS]), conflicts


# ---------------------------------------------------------------------------

def candidates(raw_dir: Path | str = PCI_DIR) -> Candidates:
    """Every score the tables, profiles and news of `raw_dir` give, unresolved (`kind` names the source
    kind where one file holds several: profile VN/EN, news, news rank-only), and the news facts."""
    raw_dir = _pci_dir(raw_dir)
    profiles = _profile_rows(raw_dir / PROFILES_FILE)
    facts, news, rank_only = _news_rows(raw_dir / NEWS_FILE)
    frames = [read_tables(raw_dir), profiles["VN"].assign(kind="profile VN"), profiles["EN"].assign(kind="profile EN"),
              news.assign(kind="news"), rank_only.assign(kind="news rank-only")]
    return Candidates(scores=pd.concat([f for f in frames if len(f)], ignore_index=True), facts=facts)


def read(raw_dir: Path) -> Candidates:
    """The build's reader: candidate rows of data/raw/pci's web tables, profiles and news."""
    return candidates(raw_dir)


def read_all(raw_dir: Path | str = PCI_DIR) -> dict[str, pd.DataFrame]:
    """Tables, profiles and news of `raw_dir` (data/raw or data/raw/pci) merged by source priority
    (data/reference/source_priority.csv, as the build does): dict(scores=one row per (year, province,
    indicator), facts=news facts, conflicts=...)."""
    c = candidates(raw_dir)
    scores, conflicts = select.select(c.scores)
    return {"scores": _finish_scores(scores), "facts": c.facts, "conflicts": conflicts}
