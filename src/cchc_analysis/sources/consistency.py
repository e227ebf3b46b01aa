"""Facts that cannot both be true, within one index and year, become CONFLICT rows (both sources kept).

* ``rank_order`` – province A has a higher value than B but a worse published rank (PAR 2022:
  Bình Phước 84.46 ranked 29th while Đắk Nông's higher 84.66 is ranked 37th);
* ``published_rank`` – a position in an ordered list ('8 (order in list)': the collector's
  annotation of a list the source gives in rank order) differs from the province's published rank
  (PAR 2023: Long An 7th in one source, 8th in the order of another);
* ``published_rank`` – two provinces published with the same rank but different values.

Nothing is chosen (``chosen`` = "none"): the published values stay as they are.
"""
from __future__ import annotations

import re

import pandas as pd

from ..provinces import name_of
from .base import CONFLICT_COLUMNS, conform

PARTIAL_INDICES = ("par", "sipas")
_ORDER = re.compile(r"^(\d{1,2}) \(order in list\)$")


def _where(r) -> str:
    url = r["source_url"] if isinstance(r["source_url"], str) else ""
    return f"{url} ({r['source_file']} {r['source_locator']})".strip()


def _name(code: str) -> str:
    try:
        return name_of(code)
    except Exception:  # noqa: BLE001 - a 2025 unit code or a scope: shown as is
        return code


def rank_order_conflicts(scores: pd.DataFrame) -> list[dict]:
    """Pairs (A, B) of one index, year and indicator with value A > value B and rank A worse than B."""
    s = scores[scores["index_id"].isin(PARTIAL_INDICES) & scores["value"].notna() & scores["published_rank"].notna()]
    out = []
    for (idx, year, ind), g in s.groupby(["index_id", "year", "indicator"], sort=True):
        rows = g.sort_values(["value", "province_code"], ascending=[False, True]).to_dict("records")
        for i, a in enumerate(rows):
            for b in rows[i + 1:]:
                if a["value"] > b["value"] + 0.005 and a["published_rank"] > b["published_rank"]:
                    out.append(dict(index_id=idx, year=year, province_code=a["province_code"], indicator=ind,
                                    field="rank_order", value_a=float(a["published_rank"]), source_a=_where(a),
                                    value_b=float(b["published_rank"]), source_b=_where(b), chosen="none",
                                    reason=f"rank_order: {_name(a['province_code'])} {a['value']:.2f} ranked "
                                           f"{a['published_rank']} but {_name(b['province_code'])}'s lower "
                                           f"{b['value']:.2f} ranked {b['published_rank']}: cannot both be true"))
    return out


def list_order_conflicts(facts: pd.DataFrame) -> list[dict]:
    """A list position ('8 (order in list)') that differs from a published rank of the same province."""
    f = facts[facts["index_id"].isin(PARTIAL_INDICES) & facts["unit"].eq("rank").fillna(False)
              & facts["scope"].str.fullmatch(r"\d{2}").fillna(False) & facts["year"].notna()]
    pos = f[f["value_as_written"].str.match(_ORDER.pattern).fillna(False)]
    ranks = f[f["value"].notna() & (f["rank_of"].isna() | f["rank_of"].eq(63)).fillna(True)]
    out = []
    key = ["index_id", "year", "scope", "metric"]
    m = pos.merge(ranks, on=key, suffixes=("_p", "_r"))
    for r in m.sort_values(key + ["source_locator_p", "source_locator_r"]).to_dict("records"):
        p = int(_ORDER.match(r["value_as_written_p"]).group(1))
        if p == r["value_r"]:
            continue
        ind = "overall" if r["metric"] in ("par_index", "sipas") else r["metric"].split("component_")[-1]
        out.append(dict(index_id=r["index_id"], year=int(r["year"]), province_code=r["scope"], indicator=ind,
                        field="published_rank", value_a=float(r["value_r"]),
                        source_a=f"{r['source_url_r']} ({r['source_file_r']} {r['source_locator_r']})",
                        value_b=float(p),
                        source_b=f"{r['source_url_p']} ({r['source_file_p']} {r['source_locator_p']})",
                        chosen="none", reason=f"published_rank: {_name(r['scope'])} ranked {int(r['value_r'])} in one "
                                              f"source, {p} in the order of another's list: cannot both be true"))
    return out


def same_rank_conflicts(scores: pd.DataFrame) -> list[dict]:
    """Two provinces with the same published rank of one index, year and indicator but different values."""
    s = scores[scores["index_id"].isin(PARTIAL_INDICES) & scores["value"].notna() & scores["published_rank"].notna()]
    out = []
    for (idx, year, ind, rank), g in s.groupby(["index_id", "year", "indicator", "published_rank"], sort=True):
        rows = g.sort_values("province_code").to_dict("records")
        for i, a in enumerate(rows):
            for b in rows[i + 1:]:
                if abs(a["value"] - b["value"]) > 0.005:
                    out.append(dict(index_id=idx, year=year, province_code=a["province_code"], indicator=ind,
                                    field="published_rank", value_a=float(a["value"]), source_a=_where(a),
                                    value_b=float(b["value"]), source_b=_where(b), chosen="none",
                                    reason=f"published_rank: {_name(a['province_code'])} and "
                                           f"{_name(b['province_code'])} both ranked {rank} with different values: "
                                           "cannot both be true"))
    return out


def conflicts(scores: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    """Every inconsistency of the PAR/SIPAS scores and facts as CONFLICT rows."""
    rows = rank_order_conflicts(scores) + list_order_conflicts(facts) + same_rank_conflicts(scores)
    return conform(pd.DataFrame(rows, columns=list(CONFLICT_COLUMNS)), CONFLICT_COLUMNS)
