"""A unit only exists in its years: every reader's score and fact rows are checked here (one place).

The validity dates are those of the registry (:func:`provinces.validity`): the 63 provinces to
30 June 2025 (Hà Tây to 31 July 2008), the 34 units from 1 July 2025. A row belongs to one unit
system: "34" for an index edition of 2025 or later (the editions published for the 34 units), a
fact whose scope the reader resolved to a 2025 unit, or a row whose reader sets the optional
column ``unit_system``; "63" otherwise. The row's year must overlap its unit's validity: the PCI
2008 workbook still lists Hà Tây (merged on 1 August 2008); a 2009 value for Hà Tây is an error.
"""
from __future__ import annotations

import re

import pandas as pd

from . import provinces
from .errors import SourceError

# The column a reader takes the province from, where the row's locator names no column.
PROVINCE_COLUMN = {
    "par_sipas_facts.csv": "province_as_written",
    "par_sipas_facts_foreign_language_supplement.csv": "province_vi_collector",
    "par_2020_top10_components_zh.csv": "province_vi",
    "tthc_facts.csv": "province_as_written",
    "pci_news_mentions_2020_2024.csv": "province_as_printed",
    "pci_province_profiles_2020_2024.csv": "province_heading_on_page",
}
UNIT_NOTE = "scope = 2025 unit code"  # the note facts readers give a scope resolved to a 2025 unit
FIRST_34_EDITION = 2025


def where(source_file: str, locator: str) -> dict:
    """file / sheet / row / column of a source_locator ('row 5, column x', 'Sheet!C7', 'row 5')."""
    out = {"sheet": None, "row": None, "column": None}
    m = re.fullmatch(r"(?P<sheet>.+)!(?P<col>[A-Z]{1,3})(?P<row>\d+)", locator or "")
    if m:
        return {"sheet": m["sheet"], "row": int(m["row"]), "column": m["col"]}
    r = re.match(r"row (\d+)", locator or "")
    if r:
        out["row"] = int(r.group(1))
    c = re.search(r"(?:^|, )column (.+)$", locator or "")
    out["column"] = c.group(1) if c else PROVINCE_COLUMN.get(str(source_file).rsplit("/", 1)[-1])
    return out


def _systems(df: pd.DataFrame, kind: str) -> pd.Series:
    given = df["unit_system"] if "unit_system" in df.columns else pd.Series(pd.NA, index=df.index)
    if kind == "scores":
        inferred = df["year"].astype("Int64").ge(FIRST_34_EDITION).map({True: "34", False: "63"})
    else:
        inferred = df["note"].fillna("").str.contains(UNIT_NOTE, regex=False).map({True: "34", False: "63"})
    return given.fillna(inferred).astype(str)


def problems(df: pd.DataFrame, kind: str) -> list[SourceError]:
    """SourceErrors for rows (scores: province_code; facts: scope) of a unit in a year it did not exist."""
    if df is None or not len(df):
        return []
    code_col = "province_code" if kind == "scores" else "scope"
    d = df[df[code_col].astype("string").str.fullmatch(r"\d{2}").fillna(False) & df["year"].notna()]
    if not len(d):
        return []
    reg = provinces.validity()
    m = pd.DataFrame({"system": _systems(d, kind).values, "code": d[code_col].astype(str).values,
                      "year": d["year"].astype(int).values, "i": range(len(d))})
    m = m.merge(reg, on=["system", "code"], how="left")
    start = pd.to_datetime(m["year"].astype(str) + "-01-01")
    end = pd.to_datetime(m["year"].astype(str) + "-12-31")
    ok = m["name"].notna() & (m["valid_from"].isna() | (m["valid_from"] <= end)) \
        & (m["valid_to"].isna() | (m["valid_to"] >= start))
    out = []
    for u in m[~ok].itertuples(index=False):
        row, code, year, system = d.iloc[u.i], u.code, u.year, u.system
        label = "unit of 2025" if system == "34" else "province"
        if pd.isna(u.name):
            other = reg[reg["code"] == code]
            why = f"{code} is not a {label}"
            if len(other):
                o = other.iloc[0]
                why += f" ({o['name']} is a {'unit of 2025' if o['system'] == '34' else 'pre-2025 province'})"
            if system == "34":
                why += f": the {row.get('index_id', '')} {year} edition is for the 34 units of 1 July 2025"
        else:
            span = (f"{u.valid_from.date() if pd.notna(u.valid_from) else 'before 2005'} – "
                    f"{u.valid_to.date() if pd.notna(u.valid_to) else 'today'}")
            why = f"{u.name} ({code}, {label}) existed {span}, not in {year}"
        w = where(row["source_file"], row["source_locator"])
        out.append(SourceError(row["source_file"], f"a value for a unit in a year it did not exist: {why} "
                               "(validity dates: provinces.validity())", **w))
    return out


def check(scores: list[pd.DataFrame], facts: list[pd.DataFrame]) -> None:
    """Raise the first SourceError of :func:`problems` (all of them listed in its message)."""
    errs = [e for f in scores for e in problems(f, "scores")] + [e for f in facts for e in problems(f, "facts")]
    if errs:
        first = errs[0]
        more = "" if len(errs) == 1 else "\n  and " + "\n  and ".join(str(e) for e in errs[1:20])
        raise SourceError(first.file, first.reason + more, sheet=first.sheet, row=first.row, column=first.column)
