"""Regions, tiers and cross-index comparison over the `scores` table."""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from . import indices, paths
from .data import load

PAPI_GROUPS = indices.tier_ladders()["papi"]  # best first, from data/reference/index_tiers.csv


# --------------------------------------------------------------------------- regions

def regional_summary(scores: pd.DataFrame, index_id: str, year: int, indicator: str = "overall") -> pd.DataFrame:
    """Mean, median, min, max and count per socio-economic region, plus a 'Cả nước / National' row."""
    d = scores[(scores.index_id == index_id) & (scores.year == year) & (scores.indicator == indicator)
               & scores.value.notna()]
    d = d.merge(load("provinces")[["code", "region_6", "region_6_en"]], left_on="province_code", right_on="code")
    agg = dict(mean=("value", "mean"), median=("value", "median"), min=("value", "min"),
               max=("value", "max"), count=("value", "count"))
    reg = d.groupby(["region_6", "region_6_en"]).agg(**agg).reset_index()
    nat = (d.assign(region_6="Cả nước", region_6_en="National")
           .groupby(["region_6", "region_6_en"]).agg(**agg).reset_index())
    out = pd.concat([reg.sort_values("mean", ascending=False), nat], ignore_index=True)
    out.insert(0, "indicator", indicator)
    out.insert(0, "year", year)
    out.insert(0, "index_id", index_id)
    return out


# --------------------------------------------------------------------------- tiers and groups

def papi_quartile_groups(values: pd.Series) -> pd.Series:
    """PAPI's quartile grouping of one year's scores (index = province codes).

    Rule: the 25th, 50th and 75th percentiles of the year's scores (linear interpolation);
    a province at or above the 75th is "Best Performers", at or above the median "High
    Average", at or above the 25th "Low Average", else "Poor Performers". With 63
    provinces this gives the published 16/16/15/16 split (checked against the 2018–2019
    workbooks' groups in the tests). Missing values get no group.
    """
    v = values.astype("float64")
    q25, q50, q75 = np.nanpercentile(v, [25, 50, 75])
    out = pd.Series(pd.NA, index=v.index, dtype="string")
    out[v >= q75] = PAPI_GROUPS[0]
    out[(v >= q50) & (v < q75)] = PAPI_GROUPS[1]
    out[(v >= q25) & (v < q50)] = PAPI_GROUPS[2]
    out[v < q25] = PAPI_GROUPS[3]
    return out


def par_groups_table() -> pd.DataFrame:
    """Published PAR Index group thresholds per year (data/reference/par_groups.csv)."""
    return pd.read_csv(paths.REFERENCE / "par_groups.csv", dtype={"year": "int64"})


def par_group(value: float, year: int) -> str | None:
    """PAR Index group (A, B, C, …) of a value by that year's published thresholds; None when the
    year's thresholds were not published (no group is invented)."""
    t = par_groups_table()
    t = t[t.year == year]
    if t.empty or pd.isna(value):
        return None
    for r in t.sort_values("min_percent", ascending=False).itertuples():
        if value >= r.min_percent and (pd.isna(r.max_percent) or value < r.max_percent):
            return r.group
    return None


# --------------------------------------------------------------------------- cross-index

def _series(scores: pd.DataFrame, index_id: str, indicator: str, year: int) -> pd.Series:
    d = scores[(scores.index_id == index_id) & (scores.indicator == indicator) & (scores.year == year)
               & scores.value.notna()]
    return d.set_index("province_code")["value"]


def rank_correlation(scores: pd.DataFrame, year: int, a: tuple[str, str], b: tuple[str, str]) -> dict:
    """Spearman and Kendall rank correlation between two (index_id, indicator) over the provinces both cover.

    Returns {'spearman', 'spearman_p', 'kendall', 'kendall_p', 'n'}; NaN when fewer than 5 provinces.
    """
    from scipy import stats  # imported here: it costs ~0.7 s and most callers never need it

    x, y = _series(scores, *a, year), _series(scores, *b, year)
    common = x.index.intersection(y.index)
    n = len(common)
    if n < 5:
        return {"spearman": np.nan, "spearman_p": np.nan, "kendall": np.nan, "kendall_p": np.nan, "n": n}
    s = stats.spearmanr(x[common], y[common])
    k = stats.kendalltau(x[common], y[common])
    return {"spearman": float(s.statistic), "spearman_p": float(s.pvalue),
            "kendall": float(k.statistic), "kendall_p": float(k.pvalue), "n": n}


def correlation_matrix(scores: pd.DataFrame, year: int, measures: list[tuple[str, str]] | None = None,
                       method: str = "spearman") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pairwise rank correlations for a year (default: the headline of every index with data).

    Returns (correlations, n) as square frames labelled 'index:indicator'.
    """
    if measures is None:
        have = scores[(scores.year == year) & (scores.indicator == "overall")]
        measures = [(i, "overall") for i in sorted(have.index_id.unique())]
    labels = [f"{i}:{k}" for i, k in measures]
    corr = pd.DataFrame(np.nan, index=labels, columns=labels)
    nn = pd.DataFrame(0, index=labels, columns=labels)
    for (la, ma), (lb, mb) in itertools.product(zip(labels, measures), repeat=2):
        r = rank_correlation(scores, year, ma, mb)
        corr.loc[la, lb] = r[method]
        nn.loc[la, lb] = r["n"]
    return corr, nn


def province_agreement(ranked: pd.DataFrame, province_code: str, year: int) -> pd.DataFrame:
    """The province's rank and percentile in each index's headline for the year: business (PCI),
    citizens (PAPI, SIPAS) and government (PAR) views side by side."""
    view = indices.views()
    d = ranked[(ranked.year == year) & (ranked.indicator == "overall") & (ranked.province_code == province_code)]
    out = d[["index_id", "value", "rank", "rank_source", "n_ranked", "coverage", "published_tier"]].copy()
    out["view"] = out["index_id"].map(view)
    n = out["n_ranked"].where(out["coverage"] == "full")
    out["percentile"] = (1 - (out["rank"].astype("float64") - 1) / n.astype("float64")) * 100
    return out.sort_values("index_id").reset_index(drop=True)
