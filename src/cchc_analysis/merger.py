"""The 2025 merger (63 provinces → 34 units): express province series on the new units and back.

Aggregation rule (documented, never silent): a unit's value for a pre-2025 year is the
**simple mean** of its constituent provinces' values, reported with the min, the max and the
number of constituents that had a value (``n``) against the number it has (``n_constituents``).
When ``weights`` (province_code → weight, e.g. population or number of firms) are supplied, a
**weighted mean** over the constituents with both a value and a weight is added. A unit is
only marked ``complete`` when every constituent had a value. Ranks are never averaged.
Provinces that were not merged carry straight through (mean = min = max = their value).
"""
from __future__ import annotations

import pandas as pd

from .provinces import merger_2025, units_2025

MERGER_YEAR = 2025


def to_units(scores: pd.DataFrame, weights: dict[str, float] | None = None) -> pd.DataFrame:
    """Aggregate a pre-2025 province table (index_id, year, province_code, indicator, value) onto the 34 units.

    Returns one row per (index_id, year, indicator, unit_code) with mean, min, max, n,
    n_constituents, complete, constituents ("67=61.96; 68=…"), and weighted_mean when weights are given.
    """
    m = merger_2025()[["old_code", "unit_code"]]
    d = scores[scores.value.notna()].merge(m, left_on="province_code", right_on="old_code", how="inner")
    key = ["index_id", "year", "indicator", "unit_code"]
    g = d.groupby(key)
    out = g["value"].agg(["mean", "min", "max", "count"]).rename(columns={"count": "n"}).reset_index()
    out["constituents"] = g.apply(
        lambda x: "; ".join(f"{c}={v:g}" for c, v in sorted(zip(x.province_code, x.value))), include_groups=False
    ).reset_index(drop=True)
    if weights is not None:
        w = d.assign(weight=d.province_code.map(weights)).dropna(subset=["weight"])
        w = w.assign(wv=w.value * w.weight)
        ws = w.groupby(key)[["wv", "weight"]].sum()
        wm = (ws["wv"] / ws["weight"]).rename("weighted_mean").reset_index()
        out = out.merge(wm, on=key, how="left")
    units = units_2025()[["unit_code", "name", "n_constituents"]].rename(columns={"name": "unit_name"})
    out = out.merge(units, on="unit_code", how="left")
    out["complete"] = out["n"] == out["n_constituents"]
    out["rule"] = "simple mean of constituents" + ("; weighted mean where weights given" if weights else "")
    return out.sort_values(key).reset_index(drop=True)


def to_provinces(unit_results: pd.DataFrame, value_col: str = "value") -> pd.DataFrame:
    """Map 34-unit results (unit_code, …) back onto their constituent pre-2025 provinces.

    Each constituent receives its unit's value, flagged ``from_unit`` = True, so a province's
    series can run across 2025 with the break visible. Nothing is apportioned.
    """
    m = merger_2025()[["old_code", "unit_code", "merged"]]
    out = unit_results.merge(m, on="unit_code", how="inner").rename(columns={"old_code": "province_code"})
    out["from_unit"] = True
    return out.sort_values(["unit_code", "province_code"]).reset_index(drop=True)


def unit_series(scores: pd.DataFrame, unit_code: str, index_id: str, indicator: str = "overall",
                unit_results: pd.DataFrame | None = None) -> pd.DataFrame:
    """A time series for one 2025 unit: aggregated constituents before 2025 and the unit's own values
    from 2025 (if supplied), with ``break_2025`` marking the first year of the new unit."""
    agg = to_units(scores[(scores.index_id == index_id) & (scores.indicator == indicator)])
    agg = agg[agg.unit_code == unit_code].assign(basis="aggregate of pre-2025 provinces")
    parts = [agg[["year", "mean", "min", "max", "n", "n_constituents", "complete", "basis"]]
             .rename(columns={"mean": "value"})]
    if unit_results is not None:
        own = unit_results[(unit_results.unit_code == unit_code) & (unit_results.year >= MERGER_YEAR)]
        parts.append(own[["year", "value"]].assign(basis="the 2025 unit itself"))
    out = pd.concat(parts, ignore_index=True).sort_values("year").reset_index(drop=True)
    out["break_2025"] = out["year"] == MERGER_YEAR
    return out
