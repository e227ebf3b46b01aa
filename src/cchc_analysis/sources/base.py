"""The columns every reader returns, so that data.py can stack them.

Readers return one of three long frames:

* scores  – one row per (index_id, year, province_code, indicator) value
* facts   – reported statistics that are not full tables
* conflicts – two sources disagreeing on one thing (both kept)
"""
from __future__ import annotations

import pandas as pd

SCORE_COLUMNS = {
    "index_id": "string",        # pci | papi | par | sipas
    "year": "int64",
    "province_code": "string",   # "01" .. "96" (pre-2025 codes), or 2025 unit codes
    "indicator": "string",       # "overall" or a stable id from data/reference/indicators/*.csv
    "value": "float64",          # NaN = missing in the source (row kept only when a rank/tier is given)
    "unit": "string",            # "points", "percent", ...
    "published_rank": "Int64",   # as published, nullable
    "published_tier": "string",  # as published, nullable
    "coverage": "string",        # "full" (the whole ranking for that year) | "partial"
    "source_file": "string",     # path relative to the project root: data/raw/...
    "source_locator": "string",  # sheet!cell or row number inside source_file
    "source_url": "string",      # publisher's address
}

FACT_COLUMNS = {
    "index_id": "string",        # par | sipas | pci | papi | tthc | index766 | other
    "scope": "string",           # province code, "national", or a region name
    "scope_as_written": "string",
    "year": "Int64",
    "period": "string",          # e.g. "2024", "2021-H1", "2020-12-15..2021-06-15"
    "metric": "string",
    "component": "string",
    "value": "float64",
    "unit": "string",            # count | percent | points | rank | rank_change | ...
    "counts": "string",          # what a count counts: procedures | dossiers | tasks | units | ... (metric_labels.csv)
    "rank_of": "Int64",          # for ranks written "12/63"
    "value_as_written": "string",
    "quote": "string",
    "note": "string",
    "source_file": "string",
    "source_locator": "string",
    "source_url": "string",
}

CONFLICT_COLUMNS = {
    "index_id": "string",
    "year": "Int64",
    "province_code": "string",
    "indicator": "string",
    "field": "string",           # which field disagrees: value | published_rank | published_tier
    "value_a": "float64",
    "source_a": "string",
    "value_b": "float64",
    "source_b": "string",
    "chosen": "string",          # "a" | "b" | "none"
    "reason": "string",
}


def conform(df: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Return df with exactly `columns`, in order, cast to their dtypes (missing ones as NA)."""
    out = pd.DataFrame(index=df.index)
    for col, dtype in columns.items():
        if col in df.columns:
            out[col] = df[col].astype(dtype)
        else:
            out[col] = pd.Series(pd.NA, index=df.index, dtype=dtype)
    return out.reset_index(drop=True)
