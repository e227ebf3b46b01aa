"""The registry of indices (data/reference/indices.csv, index_tiers.csv): ids, order, names vi/en,
the view each index takes, the precision ranks are judged at, and tier ladders.

Adding an index is one row in indices.csv (plus its tiers, if it publishes any) and its reader.
Indicator names, scales and methodology breaks live in the indicator catalogue
(data/reference/indicators/<index>.csv).
"""
from __future__ import annotations

import functools

import pandas as pd

from . import paths


@functools.cache
def registry() -> pd.DataFrame:
    """Every index and fact family, in display order (kind 'index' = ranked provincial index,
    'facts' = reported statistics only)."""
    path = paths.REFERENCE / "indices.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    if df["index_id"].duplicated().any():
        raise ValueError(f"{path}: index_id repeated: {sorted(df.index_id[df.index_id.duplicated()])}")
    df["order"] = df["order"].astype(int)
    return df.sort_values("order", kind="stable").reset_index(drop=True)


@functools.cache
def tiers() -> pd.DataFrame:
    """Published tier ladders: index_id, position (1 = best), tier, aliases ('|'-separated)."""
    df = pd.read_csv(paths.REFERENCE / "index_tiers.csv", dtype=str, keep_default_na=False)
    df["position"] = df["position"].astype(int)
    unknown = set(df.index_id) - set(registry().index_id)
    if unknown:
        raise ValueError(f"data/reference/index_tiers.csv: index_id not in indices.csv: {sorted(unknown)}")
    return df.sort_values(["index_id", "position"]).reset_index(drop=True)


def ids(kind: str | None = "index") -> list[str]:
    """Index ids in display order (kind=None: the fact families too)."""
    r = registry()
    return list(r.index_id if kind is None else r.index_id[r.kind == kind])


def _row(index_id: str) -> pd.Series:
    r = registry().set_index("index_id")
    if index_id not in r.index:
        raise KeyError(f"unknown index {index_id!r}; indices: {', '.join(r.index)}")
    return r.loc[index_id]


def names() -> dict[str, tuple[str, str]]:
    """index_id → (Vietnamese name, English name)."""
    return {r.index_id: (r.name_vi, r.name_en) for r in registry().itertuples()}


def views() -> dict[str, str]:
    """index_id → whose view the index gives ('doanh nghiệp / business', …)."""
    return {r.index_id: r.view for r in registry().itertuples() if r.view}


def rank_precision() -> dict[str, int | None]:
    """index_id → decimals ties are judged at when ranking (None = as stored)."""
    return {r.index_id: (int(r.rank_precision) if r.rank_precision else None)
            for r in registry().itertuples() if r.kind == "index"}


def tier_ladders() -> dict[str, list[str]]:
    """index_id → its published tiers, best first."""
    return {i: list(g.tier) for i, g in tiers().groupby("index_id", sort=False)}


def tier_position(index_id: str, tier) -> int | None:
    """0-based position of a tier on its index's ladder (exact name or a listed alias, lower case);
    None when not on the ladder."""
    if not isinstance(tier, str):
        return None
    t = tier.strip()
    ladder = tiers()[tiers().index_id == index_id]
    for pos, r in enumerate(ladder.itertuples()):
        if t == r.tier or t.lower() in (r.aliases.split("|") if r.aliases else []):
            return pos
    return None
