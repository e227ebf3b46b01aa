"""The columns every reader returns (taken from the pandera schemas in schema.py), so that data.py
can stack them.

Readers return one of three long frames:

* scores  – one row per (index_id, year, province_code, indicator) value
* facts   – reported statistics that are not full tables
* conflicts – two sources disagreeing on one thing (both kept)

Every reader module offers ``read(raw_dir: Path) -> Candidates``: the score candidates carry their
provenance (source_file, and ``kind`` where one file holds several kinds of source; a reader of reported
facts gives one row per fact); the build's one selection step (`select.select`, priorities and tie rules in
data/reference/source_priority.csv) picks the winners.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .. import schema

SCORE_COLUMNS = schema.columns("scores")      # the pandera schemas are the one definition
FACT_COLUMNS = schema.columns("facts")
CONFLICT_COLUMNS = schema.columns("conflicts")


def conform(df: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Return df with exactly `columns`, in order, cast to their dtypes (missing ones as NA)."""
    return schema.conform_columns(df, columns)


def _empty(name: str) -> pd.DataFrame:
    return schema.conform(name, pd.DataFrame())


@dataclass
class Candidates:
    """What a reader returns: candidate score rows, facts, and conflicts the reader itself found."""
    scores: pd.DataFrame = field(default_factory=lambda: _empty("scores"))
    facts: pd.DataFrame = field(default_factory=lambda: _empty("facts"))
    conflicts: pd.DataFrame = field(default_factory=lambda: _empty("conflicts"))
