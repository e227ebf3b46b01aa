"""Rankings, changes, movers and stability over the `scores` table.

Conventions
-----------
* Rank 1 is the best (highest value). Ranks are *competition* ranks ("1, 2, 2, 4").
* Ties are judged at the precision the publisher ranks by: ``PRECISION[index_id]`` decimals
  (None = as stored). VCCI ranks PCI by the unrounded score — provinces equal at 2 decimals get
  distinct printed ranks, ordered by the full value (checked for 2005–2019; 2011 stores only 2
  decimals, so its one printed tie-break, Bình Thuận 40 / Hà Giang 41, cannot be reproduced).
  PAPI workbooks carry full precision too; PAR and SIPAS are published with 2 decimals.
* A rank is computed only for a *full* year (coverage == "full"): ranking a partial list
  (a top-21 page, a handful of news reports) would invent positions. Partial years keep
  their published ranks only.
* Computed ranks sit beside published ones (``published_rank``, ``computed_rank``);
  ``rank`` is the published rank where there is one, else the computed one.
* A *rank change* is positive when a province rose (its rank number fell).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import indices
from .errors import CchcError

PRECISION: dict[str, int | None] = indices.rank_precision()  # data/reference/indices.csv
GROUP = ["index_id", "year", "indicator"]


def competition_rank(values: pd.Series, decimals: int | None = 2, ascending: bool = False) -> pd.Series:
    """Competition ranks ("1, 2, 2, 4") of `values`, best = highest unless ascending; NaN → NA."""
    v = values.astype("float64")
    if decimals is not None:
        v = v.round(decimals)
    return v.rank(method="min", ascending=ascending, na_option="keep").astype("Int64")


def check_units(df: pd.DataFrame, what: str = "scores") -> None:
    """Refuse values of different units under one (index, year, indicator): nothing may rank,
    chart or correlate them together."""
    if "unit" not in df or df.empty:
        return
    n = df.groupby(GROUP)["unit"].nunique()
    mixed = n[n > 1]
    if len(mixed):
        idx, year, ind = mixed.index[0]
        units = sorted(df[(df.index_id == idx) & (df.year == year) & (df.indicator == ind)].unit.unique())
        raise CchcError(f"{what}: {idx} {year} {ind} mixes units {', '.join(units)} "
                        f"({len(mixed)} such group(s)); one unit and one scale per indicator")


def rank_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """`scores` with computed_rank, rank (published if any, else computed), rank_source and n_ranked.

    n_ranked is the number of provinces with a value in that (index, year, indicator).
    Values of mixed units under one indicator are refused (`check_units`).
    """
    check_units(scores)
    df = scores.copy()
    df["computed_rank"] = pd.Series(pd.NA, index=df.index, dtype="Int64")
    df["n_ranked"] = df.groupby(GROUP)["value"].transform("count").astype("Int64")
    full = df["coverage"].eq("full")
    for (idx, _y, _i), part in df[full].groupby(GROUP):
        df.loc[part.index, "computed_rank"] = competition_rank(part["value"], PRECISION.get(idx))
    df["rank"] = df["published_rank"].fillna(df["computed_rank"]).astype("Int64")
    df["rank_source"] = np.where(df["published_rank"].notna(), "published",
                                 np.where(df["computed_rank"].notna(), "computed", "none"))
    return df


def rank_check(ranked: pd.DataFrame) -> pd.DataFrame:
    """Rows where a published rank and the computed rank disagree (empty when they all agree)."""
    both = ranked[ranked["published_rank"].notna() & ranked["computed_rank"].notna()]
    return both[both["published_rank"] != both["computed_rank"]].reset_index(drop=True)


# --------------------------------------------------------------------------- comparability

def method_breaks(indicators: pd.DataFrame) -> dict[tuple[str, str], list[int]]:
    """(index_id, indicator) → sorted years from which values are not comparable with earlier ones."""
    out = {}
    for r in indicators.itertuples():
        text = r.method_breaks if isinstance(r.method_breaks, str) else ""
        out[(r.index_id, r.indicator)] = sorted(int(y) for y in text.split(";") if y.strip())
    return out


def comparable(index_id: str, indicator: str, year_from: int, year_to: int,
               breaks: dict[tuple[str, str], list[int]]) -> tuple[bool, str]:
    """(True, "") when no methodology break lies in (year_from, year_to], else (False, reason)."""
    lo, hi = sorted((year_from, year_to))
    # a component is also not comparable across a break of its index's headline methodology
    keys = {(index_id, indicator), (index_id, "overall")}
    hit = [b for k in keys for b in breaks.get(k, []) if lo < b <= hi]
    if hit:
        return False, f"not comparable: {index_id.upper()} methodology changed in {min(hit)}"
    return True, ""


UNITS_FROM_YEAR = 2025  # editions from 2025 list the 34 units of 1 July 2025


def _merged_units() -> set[str]:
    """Codes of the 2025 units formed from more than one province (no change across the merger)."""
    from .provinces import units_2025
    u = units_2025()
    return set(u.loc[u["n_constituents"] > 1, "unit_code"])


def changes(ranked: pd.DataFrame, indicators: pd.DataFrame, base_year: int | None = None) -> pd.DataFrame:
    """Score and rank change of each row against the previous measured year (or `base_year`).

    Adds prev_year, prev_value, prev_rank, score_change, rank_change (positive = rose),
    comparable (bool) and note. Across a methodology break the changes are NA and
    note says "not comparable: …". Changes need a rank in both years for rank_change.
    """
    breaks = method_breaks(indicators)
    df = ranked.sort_values(["index_id", "indicator", "province_code", "year"]).copy()
    key = ["index_id", "indicator", "province_code"]
    if base_year is None:
        years = df.groupby(["index_id", "indicator"])["year"].apply(lambda s: sorted(s.unique())).to_dict()
        prev = {(k, y): (ys[i - 1] if i else None) for k, ys in years.items() for i, y in enumerate(ys)}
        df["prev_year"] = [prev[((a, b), y)] for a, b, y in zip(df.index_id, df.indicator, df.year)]
    else:
        df["prev_year"] = base_year
    df["prev_year"] = df["prev_year"].astype("Int64")
    base = df[key + ["year", "value", "rank"]].rename(columns={"year": "prev_year", "value": "prev_value",
                                                               "rank": "prev_rank"})
    df = df.merge(base, on=key + ["prev_year"], how="left")
    ok, notes = [], []
    merged = _merged_units()
    for r in df.itertuples():
        if pd.isna(r.prev_year) or r.prev_year == r.year:
            ok.append(False)
            notes.append("no earlier year")
            continue
        c, why = comparable(r.index_id, r.indicator, int(r.prev_year), int(r.year), breaks)
        if c and r.prev_year < UNITS_FROM_YEAR <= r.year and r.province_code in merged:
            c, why = False, "not comparable: the unit was formed by the 1 July 2025 merger"
        ok.append(c)
        notes.append(why)
    df["comparable"] = ok
    df["note"] = notes
    df["score_change"] = (df["value"] - df["prev_value"]).where(df["comparable"])
    df["rank_change"] = (df["prev_rank"] - df["rank"]).where(df["comparable"]).astype("Int64")
    return df.sort_values(["index_id", "year", "indicator", "province_code"]).reset_index(drop=True)


def movers(changed: pd.DataFrame, index_id: str, year: int, indicator: str = "overall",
           n: int = 5) -> dict[str, pd.DataFrame]:
    """Top-n risers and fallers by rank change (ties broken by score change, then code)."""
    d = changed[(changed.index_id == index_id) & (changed.year == year) & (changed.indicator == indicator)
                & changed.rank_change.notna()]
    risers = d.sort_values(["rank_change", "score_change", "province_code"], ascending=[False, False, True]).head(n)
    fallers = d.sort_values(["rank_change", "score_change", "province_code"], ascending=[True, True, True]).head(n)
    return {"risers": risers[risers.rank_change > 0].reset_index(drop=True),
            "fallers": fallers[fallers.rank_change < 0].reset_index(drop=True)}


def stability(ranked: pd.DataFrame, index_id: str, indicator: str, end_year: int, window: int = 5,
              group_size: int = 10) -> pd.DataFrame:
    """Per province over the `window` years up to end_year: years ranked, mean and std of rank,
    best and worst rank, years in the top / bottom `group_size` (bottom judged against that year's n)."""
    d = ranked[(ranked.index_id == index_id) & (ranked.indicator == indicator) & ranked["rank"].notna()
               & ranked.year.between(end_year - window + 1, end_year)].copy()
    d["top"] = d["rank"] <= group_size
    d["bottom"] = d["rank"] > (d["n_ranked"] - group_size)
    g = d.groupby("province_code").agg(
        years=("year", "nunique"), mean_rank=("rank", "mean"), rank_std=("rank", "std"),
        best_rank=("rank", "min"), worst_rank=("rank", "max"),
        years_top=("top", "sum"), years_bottom=("bottom", "sum"),
    ).reset_index()
    return g.sort_values(["mean_rank", "province_code"]).reset_index(drop=True)


# --------------------------------------------------------------------------- normalisation

def normalise(scores: pd.DataFrame, indicators: pd.DataFrame) -> pd.DataFrame:
    """Adds zscore and minmax (within index, year, indicator) and pct_of_max (value / scale max × 100,
    NA where the indicator's maximum is not published)."""
    df = scores.copy()
    g = df.groupby(GROUP)["value"]
    mean, std = g.transform("mean"), g.transform("std")
    df["zscore"] = (df["value"] - mean) / std.replace(0, np.nan)
    lo, hi = g.transform("min"), g.transform("max")
    df["minmax"] = (df["value"] - lo) / (hi - lo).replace(0, np.nan)
    mx = df.merge(indicators[["index_id", "indicator", "scale_max"]], on=["index_id", "indicator"],
                  how="left")["scale_max"]
    df["pct_of_max"] = (df["value"] / mx.to_numpy() * 100).astype("float64")
    return df
