"""The columns every reader returns (taken from the pandera schemas in schema.py), so that data.py
can stack them.

Readers return one of three long frames:

* scores  – one row per (index_id, year, province_code, indicator) value
* facts   – reported statistics that are not full tables
* conflicts – two sources disagreeing on one thing (both kept)
"""
from __future__ import annotations

import pandas as pd

from .. import schema

SCORE_COLUMNS = schema.columns("scores")      # the pandera schemas are the one definition
FACT_COLUMNS = schema.columns("facts")
CONFLICT_COLUMNS = schema.columns("conflicts")


def conform(df: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Return df with exactly `columns`, in order, cast to their dtypes (missing ones as NA)."""
    return schema.conform_columns(df, columns)
