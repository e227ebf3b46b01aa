"""The two foreign-language PAR/SIPAS files of data/raw/par_sipas/ (see its SOURCES.md).

* ``par_sipas_facts_foreign_language_supplement.csv`` – 61 facts from Japanese and Chinese pages, in
  the columns of ``par_sipas_facts.csv`` plus ``province_vi_collector`` (the collector's reading of the
  name, used to resolve the province; the name as printed stays in ``scope_as_written``) and
  ``already_held_in_par_sipas_facts`` (a look-up aid, not data: not read). The index column may
  name a component: "SIPAS (public administrative services component)". A row with no value, rank
  or change (row 50: the list of the 10 provinces SIPAS 2015 surveyed) states nothing to record.
* ``par_2020_top10_components_zh.csv`` – PAR Index 2020 ranks 1–10 with the appraisal score and the
  three impact parts, restated from the Ministry's table: partial SCORE rows (a table, not quotes).
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .. import paths, vn
from ..errors import ParseError, SourceError
from ..provinces import nfc
from .base import SCORE_COLUMNS, Candidates, conform
from .facts import _finish_facts, _par_sipas_rows, _read_csv

SUPPLEMENT_FILE = "par_sipas/par_sipas_facts_foreign_language_supplement.csv"
ZH_2020_FILE = "par_sipas/par_2020_top10_components_zh.csv"
SUPPLEMENT_COLUMNS = ["index", "year", "province_as_written", "province_vi_collector", "value_as_written",
                      "rank_as_written", "rank_change_as_written", "source_url", "quote",
                      "already_held_in_par_sipas_facts", "note"]
_INDEX = re.compile(r"(?P<index>PAR|SIPAS)(?:\s*\((?P<component>[^)]*?)\s*component\))?")
ZH_COLUMNS = {  # column → indicator of data/reference/indicators/par.csv
    "score_appraisal_as_printed": "diem_tham_dinh",
    "impact_sipas_as_printed": "diem_sipas",
    "impact_leader_survey_as_printed": "khao_sat_lanh_dao",
    "impact_socioeconomic_as_printed": "tac_dong_kt_xh",
    "par_index_as_printed": "overall",
}


def read_supplement(path: Path | str | None = None) -> pd.DataFrame:
    """FACT rows of the foreign-language supplement (provinces through province_vi_collector)."""
    path = Path(path) if path else paths.RAW / SUPPLEMENT_FILE
    rel = paths.raw_relpath(path)
    df = _read_csv(path)
    missing = [c for c in SUPPLEMENT_COLUMNS if c not in df.columns]
    if missing:
        raise SourceError(rel, f"missing columns {missing}", row=1)
    keep, rows = [], []
    for i, r in enumerate(df.to_dict("records")):
        row = i + 2
        m = _INDEX.fullmatch(r["index"])
        if not m:
            raise SourceError(rel, f"index {r['index']!r} is not PAR / SIPAS / 'SIPAS (… component)'",
                              row=row, column="index")
        if not (r["value_as_written"] or r["rank_as_written"] or r["rank_change_as_written"]):
            continue
        vi = r["province_vi_collector"]
        keep.append(dict(r, index=m["index"], component=m["component"] or "",
                         province_as_written="toàn quốc" if vi == "(national)" else vi,
                         scope_as_written=f"{r['province_as_written']} (collector: {vi})"))
        rows.append(row)
    facts = _par_sipas_rows(pd.DataFrame(keep), rel, rows)
    return _finish_facts(pd.DataFrame(facts))


def read_zh_2020_in(raw_dir: Path) -> pd.DataFrame:
    """:func:`read_zh_2020` of raw_dir's copy, or an empty frame when the file is absent."""
    p = Path(raw_dir) / ZH_2020_FILE
    return read_zh_2020(p) if p.exists() else conform(pd.DataFrame(), SCORE_COLUMNS)


def read_zh_2020(path: Path | str | None = None) -> pd.DataFrame:
    """SCORE rows (partial) of the PAR 2020 top-10 table: index, appraisal, impact parts and the rank."""
    from ..provinces import to_code
    from ..errors import UnknownProvinceError

    path = Path(path) if path else paths.RAW / ZH_2020_FILE
    rel = paths.raw_relpath(path)
    df = _read_csv(path)
    need = ["year", "rank_as_printed", "province_as_printed", "province_vi", *ZH_COLUMNS, "source_url"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise SourceError(rel, f"missing columns {missing}", row=1)
    out, seen = [], {}
    for i, r in enumerate(df.to_dict("records")):
        row = i + 2
        if r["year"] != "2020":
            raise SourceError(rel, f"year {r['year']!r}: the file holds PAR 2020 only", row=row, column="year")
        try:
            code = to_code(r["province_vi"])
        except UnknownProvinceError as e:
            raise SourceError(rel, str(e), row=row, column="province_vi") from e
        if code in seen:
            raise SourceError(rel, f"province {code} already on row {seen[code]}", row=row, column="province_vi")
        seen[code] = row
        if not re.fullmatch(r"\d{1,2}", r["rank_as_printed"]):
            raise SourceError(rel, f"rank {r['rank_as_printed']!r} is not a whole number", row=row,
                              column="rank_as_printed")
        for col, ind in ZH_COLUMNS.items():
            try:
                v = vn.parse_number(nfc(r[col]), "en")
            except ParseError as e:
                raise SourceError(rel, str(e), row=row, column=col) from e
            if v is None or not 0 <= v <= 100:
                raise SourceError(rel, f"{r[col]!r} is not a score 0..100", row=row, column=col)
            out.append(dict(index_id="par", year=2020, province_code=code, indicator=ind, value=v,
                            unit="percent" if ind == "overall" else "points",
                            published_rank=int(r["rank_as_printed"]) if ind == "overall" else pd.NA,
                            coverage="partial", source_file=rel, source_locator=f"row {row}, column {col}",
                            source_url=r["source_url"]))
    return conform(pd.DataFrame(out), SCORE_COLUMNS)


def read(raw_dir: Path) -> Candidates:
    """The build's reader: the PAR 2020 top-10 restated table (the supplement's facts come in through facts.read)."""
    return Candidates(scores=read_zh_2020_in(raw_dir))
