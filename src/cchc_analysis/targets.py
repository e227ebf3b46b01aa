"""Stated targets (data/reference/targets.csv) against the latest values and the trend needed.

Target kinds (``target_unit``):
* ``rank``    – comparator "<=": e.g. PAR Index rank 40 or better;
* ``percent`` / ``points`` – comparator ">=": e.g. SIPAS ≥ 90 %;
* ``tier``    – a published tier/group at least as good as the one named, judged on the
  ladder of that index (data/reference/index_tiers.csv). PAPI groups after 2019 are not published in our
  sources, so they are computed by PAPI's quartile rule and labelled "computed".
"""
from __future__ import annotations

import math

import pandas as pd

from . import compare, indices

TIER_LADDERS = indices.tier_ladders()  # data/reference/index_tiers.csv (tiers and their aliases)


def load_targets() -> pd.DataFrame:
    """The stated targets, read and checked once (quotes against their source) by `facts.read_targets`."""
    from .sources.facts import read_targets

    return read_targets()


def _tier_pos(index_id: str, tier: str) -> int | None:
    return indices.tier_position(index_id, tier)


def _latest_group(ranked: pd.DataFrame, index_id: str, province: str, as_of: int):
    """Latest published tier, else (PAPI) the quartile group computed from a full year."""
    d = ranked[(ranked.index_id == index_id) & (ranked.indicator == "overall") & (ranked.year <= as_of)]
    pub = d[(d.province_code == province) & d.published_tier.notna()].sort_values("year")
    if index_id == "papi":
        full_years = sorted(d[d.coverage == "full"].year.unique())
        if full_years and (pub.empty or full_years[-1] > pub.year.max()):
            y = full_years[-1]
            yr = d[(d.year == y) & d.value.notna()].set_index("province_code")["value"]
            if province in yr.index:
                return y, compare.papi_quartile_groups(yr)[province], "computed (PAPI quartile rule)"
    own = d[(d.province_code == province) & (d.value.notna() | d["rank"].notna())]
    if len(own) and (pub.empty or own.year.max() > pub.year.max()):
        # a later year has a score or rank but no published tier: an old tier would mislead
        y = int(own.year.max())
        r = own[own.year == y].iloc[0]
        rank = f", rank {int(r['rank'])}" if pd.notna(r["rank"]) else ""
        return y, None, f"no tier published for {y}{rank}"
    if len(pub):
        r = pub.iloc[-1]
        return int(r.year), r.published_tier, "published"
    return None, None, "none"


def target_gaps(ranked: pd.DataFrame, province: str, as_of: int | None = None,
                table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each of the province's targets: latest value (≤ as_of), gap, status and the yearly change needed.

    A target is judged only from the year it was stated (`stated_on`): a report of an earlier year
    does not show it. `table` defaults to `load_targets()`.
    """
    t = load_targets() if table is None else table
    t = t[t.province_code == province]
    if as_of is not None:
        t = t[pd.to_datetime(t.stated_on).dt.year <= as_of]
    rows = []
    for tg in t.itertuples():
        latest_year = latest = None
        basis = "none"
        gap = needed = None
        status = "no data"
        d = ranked[(ranked.index_id == tg.index_id) & (ranked.indicator == tg.indicator)
                   & (ranked.province_code == province)]
        if as_of is not None:
            d = d[d.year <= as_of]
        if tg.target_unit == "rank":
            d = d[d["rank"].notna()].sort_values("year")
            if len(d):
                r = d.iloc[-1]
                latest_year, latest, basis = int(r.year), int(r["rank"]), r.rank_source
                gap = latest - float(tg.target_value)
                status = "đạt / met" if gap <= 0 else "chưa đạt / not met"
        elif tg.target_unit in ("percent", "points"):
            d = d[d.value.notna()].sort_values("year")
            if len(d):
                r = d.iloc[-1]
                latest_year, latest, basis = int(r.year), float(r.value), "published"
                gap = float(tg.target_value) - latest
                status = "đạt / met" if gap <= 0 else "chưa đạt / not met"
        elif tg.target_unit == "tier":
            latest_year, latest, basis = _latest_group(ranked, tg.index_id, province, as_of or 9999)
            want, have = _tier_pos(tg.index_id, tg.target_value), _tier_pos(tg.index_id, latest)
            if want is not None and have is not None:
                gap = have - want
                status = "đạt / met" if gap <= 0 else "chưa đạt / not met"
            elif latest is not None:
                status = "không so sánh được / not comparable"
            else:
                status = "không rõ / unknown"
        if gap is not None and gap > 0 and latest_year is not None and tg.target_unit != "tier":
            years_left = int(tg.target_year) - latest_year
            needed = ((math.ceil(gap / years_left) if tg.target_unit == "rank" else gap / years_left)
                      if years_left > 0 else None)
        rows.append({"index": str(tg.index_id).upper(), "target_as_stated": tg.target_as_stated,
                     "target_en": tg.target_en, "target": f"{tg.comparator} {tg.target_value}",
                     "unit": tg.target_unit, "target_year": int(tg.target_year), "stated_on": tg.stated_on,
                     "latest_year": latest_year, "latest": latest, "basis": basis, "gap": gap,
                     "needed_per_year": needed, "status": status, "status_en": status.split(" / ")[-1],
                     "source": tg.source})
    return pd.DataFrame(rows, columns=TARGET_COLUMNS)


TARGET_COLUMNS = ["index", "target_as_stated", "target_en", "target", "unit", "target_year", "stated_on", "latest_year",
                  "latest", "basis", "gap", "needed_per_year", "status", "status_en", "source"]
