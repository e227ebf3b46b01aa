"""Official tables a user brings: drop-in files in data/raw/official/ (formats: data/raw/README.md).

Recognised by name, then by header:

* ``par_index_<year>_full.csv`` – the PAR Index annex of the Ministry's decision: ``province``,
  ``overall``, the 8 component areas (ids of data/reference/indicators/par.csv: chi_dao_dieu_hanh,
  the_che, cai_cach_tthc, to_chuc_bo_may, cong_vu, tai_chinh_cong, chinh_quyen_so, tac_dong),
  ``rank``, ``group``, ``source_url``; the first data row is ``max_points`` with each area's maximum.
* ``sipas_<year>_full.csv`` – ``province``, ``overall``, any SIPAS parts (ids of indicators/sipas.csv),
  ``rank``, ``source_url``.
* ``papi_<year>_full.csv`` – ``province``, ``D1``…``D8`` (UNDP's dimension columns), ``overall``,
  ``rank``, ``source_url``.
* ``PCI_<year>.xlsx`` – VCCI's own data workbook, laid out as PCI 2017–2019 (sheet "Summary", one
  row per province; read by :mod:`pci_excel`).

A name may carry a prefix (``TEST_ONLY_par_index_2024_full.csv``). Every table must list the 63
provinces (editions before 2025) or the 34 units of 1 July 2025 (editions from 2025), each once, on
their scales, with ranks consistent with the scores (a higher score never ranked lower); else a
SourceError names file, row and column. Rows come out as SCORE rows with coverage "full"; the
table outranks the facts of the same index and year (data/reference/source_priority.csv).
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .. import paths, vn
from ..errors import CchcError, ParseError, SourceError
from ..provinces import nfc, provinces_63, to_code, to_unit_code, units_2025
from .base import SCORE_COLUMNS, Candidates, conform
from .papi import CSV_DIMENSIONS
from .rawfile import read_csv_text

FOLDER = "official"
FIRST_34_EDITION = 2025
PAR_AREAS = ["chi_dao_dieu_hanh", "the_che", "cai_cach_tthc", "to_chuc_bo_may", "cong_vu", "tai_chinh_cong",
             "chinh_quyen_so", "tac_dong"]
PATTERNS = {
    "par": re.compile(r"(?:^|_)par_index_(\d{4})_full\.csv$"),
    "sipas": re.compile(r"(?:^|_)sipas_(\d{4})_full\.csv$"),
    "papi": re.compile(r"(?:^|_)papi_(\d{4})_full\.csv$"),
    "pci": re.compile(r"(?:^|_)PCI_(\d{4})\.xlsx$"),
}
SUM_TOLERANCE = 0.05  # the areas' points add up to the index (printed to 2 decimals)


def recognise(path: Path) -> tuple[str, int] | None:
    """(index_id, year) of a drop-in file name, or None."""
    for idx, pat in PATTERNS.items():
        m = pat.search(Path(path).name)
        if m:
            return idx, int(m.group(1))
    return None


def _units(year: int) -> tuple[set[str], callable, str]:
    if year >= FIRST_34_EDITION:
        return set(units_2025()["unit_code"]), to_unit_code, "the 34 units of 1 July 2025"
    return set(provinces_63()["code"]), to_code, "the 63 provinces"


def _number(text: str, rel: str, row: int, col: str, high: float) -> float:
    try:
        v = vn.parse_number(nfc(text), "en")
    except ParseError as e:
        raise SourceError(rel, str(e), row=row, column=col) from e
    if v is None:
        raise SourceError(rel, "a value is missing (every cell of an official table is filled)", row=row, column=col)
    if not 0 <= v <= high:
        raise SourceError(rel, f"{text!r} is outside its scale 0..{high:g}", row=row, column=col)
    return v


def _sipas_parts() -> list[str]:
    df = pd.read_csv(paths.REFERENCE / "indicators" / "sipas.csv", dtype=str)
    return [i for i in df["indicator"] if i != "overall"]


def read_csv_table(path: Path, index_id: str, year: int) -> pd.DataFrame:
    """A drop-in PAR / SIPAS / PAPI CSV, validated, as SCORE rows (coverage full)."""
    rel = paths.raw_relpath(path)
    df = read_csv_text(path).map(lambda s: s.strip())
    if index_id == "par":
        values = ["overall", *PAR_AREAS]
        need, extra_ok = ["province", *values, "rank", "group", "source_url"], []
    elif index_id == "sipas":
        values = ["overall"] + [c for c in df.columns if c in _sipas_parts()]
        need, extra_ok = ["province", "overall", "rank", "source_url"], values
    else:
        values = [*CSV_DIMENSIONS, "overall"]
        need, extra_ok = ["province", *values, "rank", "source_url"], []
    missing = [c for c in need if c not in df.columns]
    unknown = [c for c in df.columns if c not in need and c not in extra_ok]
    if missing or unknown:
        raise SourceError(rel, f"not the {index_id} drop-in header: missing {missing}, unknown {unknown} "
                               "(formats: data/raw/README.md)", row=1, column=(missing or unknown)[0])
    maxima = {v: 100.0 for v in values}
    first = 2
    if index_id == "papi":
        maxima = {v: (80.0 if v == "overall" else 10.0) for v in values}
    if index_id == "par":
        if not len(df) or df.iloc[0]["province"] != "max_points":
            raise SourceError(rel, "the first data row must be 'max_points' (each area's maximum)", row=2,
                              column="province")
        maxima = {v: _number(df.iloc[0][v], rel, 2, v, 100.0) for v in values}
        if abs(sum(maxima[a] for a in PAR_AREAS) - maxima["overall"]) > SUM_TOLERANCE:
            raise SourceError(rel, f"the areas' maxima add up to {sum(maxima[a] for a in PAR_AREAS):g}, "
                                   f"not {maxima['overall']:g}", row=2, column="overall")
        df, first = df.iloc[1:], 3
    expected, resolve, label = _units(year)
    seen: dict[str, int] = {}
    recs, ranks = [], []
    for i, r in enumerate(df.to_dict("records")):
        row = first + i
        try:
            code = resolve(r["province"])
        except CchcError as e:
            other = "one of the 34 units of 2025" if resolve is to_code else "a province before the 2025 merger"
            raise SourceError(rel, f"{e} (the {year} edition lists {label}; is it {other}?)", row=row,
                              column="province") from e
        if code in seen:
            raise SourceError(rel, f"{r['province']!r} ({code}) already on row {seen[code]}", row=row,
                              column="province")
        seen[code] = row
        vals = {v: _number(r[v], rel, row, v, maxima[v]) for v in values}
        if index_id == "par" and abs(sum(vals[a] for a in PAR_AREAS) - vals["overall"]) > SUM_TOLERANCE:
            raise SourceError(rel, f"the areas add up to {sum(vals[a] for a in PAR_AREAS):.2f}, not the index "
                                   f"{vals['overall']:.2f}", row=row, column="overall")
        if not re.fullmatch(r"\d{1,2}", r["rank"]) or not 1 <= int(r["rank"]) <= len(expected):
            raise SourceError(rel, f"rank {r['rank']!r} is not 1..{len(expected)}", row=row, column="rank")
        tier = r.get("group") or None
        if tier is not None and tier not in ("A", "B", "C", "D"):
            raise SourceError(rel, f"group {tier!r} is not A/B/C/D", row=row, column="group")
        ranks.append((vals["overall"], int(r["rank"]), row))
        for v, x in vals.items():
            recs.append(dict(index_id=index_id, year=year, province_code=code, indicator=CSV_DIMENSIONS.get(v, v),
                             value=x,
                             unit="percent" if index_id == "sipas" or (index_id == "par" and v == "overall")
                             else "points",
                             published_rank=int(r["rank"]) if v == "overall" else pd.NA,
                             published_tier=tier if v == "overall" else None, coverage="full", source_file=rel,
                             source_locator=f"row {row}, column {v}", source_url=r["source_url"]))
    _check_units(set(seen), expected, label, rel, year)
    _check_ranks(ranks, rel)
    return conform(pd.DataFrame(recs), SCORE_COLUMNS)


def _check_units(found: set[str], expected: set[str], label: str, rel: str, year: int) -> None:
    if found != expected:
        missing, other = sorted(expected - found), sorted(found - expected)
        raise SourceError(rel, f"the {year} table must list {label} once each: missing {missing}"
                               + (f", not expected {other}" if other else ""), column="province")


def _check_ranks(ranks: list[tuple[float, int, int]], rel: str) -> None:
    """A higher score is never ranked lower; equal scores (2 decimals) may share a rank."""
    ordered = sorted(ranks, key=lambda t: (-round(t[0], 2), t[1]))
    for (va, ra, _), (vb, rb, row) in zip(ordered, ordered[1:]):
        if rb < ra or (round(vb, 2) < round(va, 2) and rb == ra):
            raise SourceError(rel, f"rank {rb} with score {vb:.2f} is inconsistent with rank {ra} for the higher "
                                   f"score {va:.2f}", row=row, column="rank")


def read_pci_workbook(path: Path, year: int) -> pd.DataFrame:
    """VCCI's data workbook for a year after 2019, in the 2017–2019 layout; validated like the CSVs."""
    from . import pci_excel

    rel = paths.raw_relpath(path)
    df = pci_excel.read_pci_workbook(path, year)
    expected, _, label = _units(year)
    _check_units(set(df["province_code"]), expected, label, rel, year)
    o = df[df["indicator"] == "overall"]
    if o["published_rank"].isna().any():
        raise SourceError(rel, "every province needs a published rank", column="rank")
    _check_ranks([(v, int(r), int(re.search(r"\d+$", loc).group())) for v, r, loc in
                  zip(o["value"], o["published_rank"], o["source_locator"])], rel)
    return df


def read_all(raw_dir: Path) -> pd.DataFrame:
    """Every drop-in official table of raw_dir/official (an empty frame when there is none)."""
    folder = Path(raw_dir) / FOLDER
    frames = []
    for p in sorted(folder.glob("*")) if folder.is_dir() else []:
        if p.name in ("README.md",) or p.name.startswith("."):
            continue
        hit = recognise(p)
        if hit is None:
            raise SourceError(paths.raw_relpath(p), "not a recognised official table name (par_index_<year>_full.csv, "
                                                    "sipas_<year>_full.csv, papi_<year>_full.csv, PCI_<year>.xlsx)")
        idx, year = hit
        frames.append(read_pci_workbook(p, year) if idx == "pci" else read_csv_table(p, idx, year))
    if not frames:
        return conform(pd.DataFrame(), SCORE_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    dup = out.duplicated(["index_id", "year", "province_code", "indicator"])
    if dup.any():
        r = out[dup].iloc[0]
        raise SourceError(r["source_file"], f"a second official table for {r['index_id']} {r['year']}")
    return out


def read(raw_dir: Path) -> Candidates:
    """The build's reader: candidate rows of every official table a user added under data/raw/official/."""
    return Candidates(scores=read_all(raw_dir))
