"""pandera schemas of the processed tables, and the data dictionary generated from them."""
from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from . import indices
from .errors import ValidationError

INDEX_IDS = indices.ids()                 # data/reference/indices.csv
FACT_INDEX_IDS = indices.ids(kind=None)   # the indices and the fact families (tthc, index766, other)
CODE = r"^\d{2}$"
RAW_PATH = r"^data/(raw|reference)/"


def _c(dtype, description, *checks, nullable=False, unique=False):
    return pa.Column(dtype, list(checks), nullable=nullable, unique=unique, description=description)


SCORES = pa.DataFrameSchema(
    {
        "index_id": _c("string", "Index: " + " | ".join(INDEX_IDS), pa.Check.isin(INDEX_IDS)),
        "year": _c("int64", "Year the index measures (PAR/SIPAS: assessment year)", pa.Check.in_range(2005, 2030)),
        "province_code": _c("string", "Official province code, 2-character string (pre-2025 codes; '28' = Hà Tây)",
                            pa.Check.str_matches(CODE)),
        "indicator": _c("string", "'overall' for the headline score, else a stable id from `indicators`",
                        pa.Check.str_matches(r"^[a-z0-9_]+$")),
        "value": _c("float64", "Score as published (full precision where the source has it); NaN only when "
                    "a rank or tier is published without a value", nullable=True),
        "unit": _c("string", "points | percent", pa.Check.isin(["points", "percent"])),
        "published_rank": _c("Int64", "Rank as published (nullable); never overwritten by a computed rank",
                             pa.Check.ge(1), nullable=True),
        "published_tier": _c("string", "Tier/group as published (nullable)", nullable=True),
        "coverage": _c("string", "'full' = the whole ranking of that year; 'partial' = some provinces only",
                       pa.Check.isin(["full", "partial"])),
        "source_file": _c("string", "Raw file the value comes from (relative to the project root)",
                          pa.Check.str_matches(RAW_PATH)),
        "source_locator": _c("string", "Where in the file: sheet!cell or row number", nullable=True),
        "source_url": _c("string", "Publisher's address", nullable=True),
    },
    unique=["index_id", "year", "province_code", "indicator"],
    strict=True, ordered=True, name="scores",
    description="One row per (index_id, year, province_code, indicator) value.",
)

FACTS = pa.DataFrameSchema(
    {
        "index_id": _c("string", " | ".join(FACT_INDEX_IDS), pa.Check.isin(FACT_INDEX_IDS)),
        "scope": _c("string", "Province code, 'national', or a region name", nullable=False),
        "scope_as_written": _c("string", "The unit as the source names it", nullable=True),
        "year": _c("Int64", "Year the statistic refers to (NA when undated)", pa.Check.in_range(2005, 2030),
                   nullable=True),
        "period": _c("string", "Period as stated ('2024', '2021-H1', '2020-12-15..2021-06-15')", nullable=True),
        "metric": _c("string", "snake_case metric id (e.g. dossiers_received, par_index, on_time_rate)",
                     pa.Check.str_matches(r"^[a-z0-9_]+$")),
        "component": _c("string", "Component id where the metric has components", nullable=True),
        "value": _c("float64", "Value parsed from value_as_written (NaN when it cannot be read without guessing)",
                    nullable=True),
        "unit": _c("string", "count | percent | points | rank | rank_change | ...", nullable=True),
        "counts": _c("string", "What the number counts (procedures, dossiers, tasks, units, …; percent, points, rank "
                     "for those units) from data/reference/metric_labels.csv: ratios only within one kind",
                     nullable=True),
        "rank_of": _c("Int64", "For ranks written '12/63': the 63", nullable=True),
        "value_as_written": _c("string", "The value exactly as the source writes it", nullable=True),
        "rank_as_written": _c("string", "The rank exactly as the source row writes it (PAR/SIPAS, PCI news)",
                              nullable=True),
        "quote": _c("string", "The sentence that states it", nullable=True),
        "note": _c("string", "Collector's or cleaner's note", nullable=True),
        "source_file": _c("string", "Raw or curated file", pa.Check.str_matches(RAW_PATH)),
        "source_locator": _c("string", "Row in the file", nullable=True),
        "source_url": _c("string", "Address of the page that states it", nullable=True),
    },
    strict=True, ordered=True, name="facts",
    description="Reported statistics that are not full tables, each with its quote and address.",
)

CONFLICTS = pa.DataFrameSchema(
    {
        "index_id": _c("string", "Index or fact family", nullable=True),
        "year": _c("Int64", "Year", nullable=True),
        "province_code": _c("string", "Province code or scope", nullable=True),
        "indicator": _c("string", "Indicator or metric", nullable=True),
        "field": _c("string", "What disagrees: value | published_rank | published_tier | rank_order "
                    "(a higher value ranked lower: value_a/value_b are the two ranks)",
                    pa.Check.isin(["value", "published_rank", "published_tier", "rank_order"])),
        "value_a": _c("float64", "First value", nullable=True),
        "source_a": _c("string", "Where the first value comes from", nullable=True),
        "value_b": _c("float64", "Second value", nullable=True),
        "source_b": _c("string", "Where the second value comes from", nullable=True),
        "chosen": _c("string", "a | b | none", pa.Check.isin(["a", "b", "none"]), nullable=True),
        "reason": _c("string", "Why that one was chosen", nullable=True),
    },
    strict=True, ordered=True, name="conflicts",
    description="Two sources giving different values for the same thing: both kept, the choice documented.",
)

INDICATORS = pa.DataFrameSchema(
    {
        "index_id": _c("string", "Index", pa.Check.isin(INDEX_IDS)),
        "indicator": _c("string", "Stable indicator id", pa.Check.str_matches(r"^[a-z0-9_]+$")),
        "name_vi": _c("string", "Vietnamese name", nullable=True),
        "name_en": _c("string", "English name", nullable=True),
        "scale_min": _c("float64", "Lowest possible value (NA when not published)", nullable=True),
        "scale_max": _c("float64", "Highest possible value (NA when not published)", nullable=True),
        "unit": _c("string", "points | percent", nullable=True),
        "first_year": _c("Int64", "First year measured", nullable=True),
        "last_year": _c("Int64", "Last year measured (NA = still measured)", nullable=True),
        "years_not_measured": _c("string", "';'-separated years not measured inside the range", nullable=True),
        "method_breaks": _c("string", "';'-separated years from which values are not comparable with earlier years",
                            nullable=True),
        "notes": _c("string", "Notes (renames, recompositions)", nullable=True),
    },
    unique=["index_id", "indicator"], strict=True, ordered=True, name="indicators",
    description="The indicator catalogue: names, scales, years measured, methodology breaks.",
)

PROVINCES = pa.DataFrameSchema(
    {
        "code": _c("string", "Official code", pa.Check.str_matches(CODE), unique=True),
        "name": _c("string", "Short Vietnamese name (NFC)"),
        "full_name": _c("string", "Official name"),
        "name_en": _c("string", "English name without diacritics"),
        "type": _c("string", "Tỉnh / Thành phố trực thuộc trung ương"),
        "region_6": _c("string", "Socio-economic region (6)"),
        "region_8": _c("string", "Geographic region (8)", nullable=True),
        "valid_from": _c("string", "First day (blank = before 2005)", nullable=True),
        "valid_to": _c("string", "Last day (2025-06-30 for the 63: the 34 units start on 2025-07-01)", nullable=True),
        "region_6_en": _c("string", "Region in English"),
        "region_6_short": _c("string", "Region abbreviation"),
        "unit_2025_code": _c("string", "Code of its unit from 1 July 2025", nullable=True),
        "unit_2025_name": _c("string", "Name of its unit from 1 July 2025", nullable=True),
        "merged_2025": _c("object", "Whether it was merged in 2025", nullable=True),
    },
    strict=True, ordered=True, name="provinces",
    description="The 63 provinces of 2008–2025 plus Hà Tây (to 2008).",
)

MERGER_2025 = pa.DataFrameSchema(
    {
        "old_code": _c("string", "Pre-2025 province code", pa.Check.str_matches(CODE), unique=True),
        "old_name": _c("string", "Pre-2025 province"),
        "unit_code": _c("string", "Code of the unit from 1 July 2025", pa.Check.str_matches(CODE)),
        "unit_name": _c("string", "Name of the unit"),
        "merged": _c("bool", "True when merged with another province"),
        "seat": _c("string", "Kept name / seat as published"),
        "source_url": _c("string", "Address stating the seat"),
    },
    strict=True, ordered=True, name="merger_2025",
    description="The 63 → 34 map of the 2025 merger.",
)

_RANK_COLUMNS = {
    "computed_rank": _c("Int64", "Competition rank computed from the values (full years only; ties at the "
                        "publisher's precision)", pa.Check.ge(1), nullable=True),
    "n_ranked": _c("Int64", "Provinces with a value in that (index, year, indicator)", nullable=True),
    "rank": _c("Int64", "Published rank where there is one, else the computed one", pa.Check.ge(1), nullable=True),
    "rank_source": _c("string", "published | computed | none", pa.Check.isin(["published", "computed", "none"])),
}
RANKED = pa.DataFrameSchema(
    {**SCORES.columns, **_RANK_COLUMNS},
    unique=["index_id", "year", "province_code", "indicator"], strict=True, ordered=True, name="ranked",
    description="`scores` with computed ranks beside the published ones (derived by the build: "
                "`ranking.rank_scores`); a published rank is never overwritten.",
)
CHANGES = pa.DataFrameSchema(
    {**SCORES.columns, **_RANK_COLUMNS,
     "prev_year": _c("Int64", "Previous measured year of that index and indicator", nullable=True),
     "prev_value": _c("float64", "Value in prev_year", nullable=True),
     "prev_rank": _c("Int64", "Rank in prev_year", nullable=True),
     "comparable": _c("bool", "False across a methodology break or without an earlier year"),
     "note": _c("string", "Why a change is not given ('not comparable: …', 'no earlier year')", nullable=True),
     "score_change": _c("float64", "value − prev_value (NA when not comparable)", nullable=True),
     "rank_change": _c("Int64", "prev_rank − rank, positive = rose (NA when not comparable)", nullable=True)},
    unique=["index_id", "year", "province_code", "indicator"], strict=True, ordered=True, name="changes",
    description="Every `ranked` row with its change against the previous measured year (derived by the build: "
                "`ranking.changes`); NA across a methodology break.",
)

SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "scores": SCORES, "facts": FACTS, "conflicts": CONFLICTS, "indicators": INDICATORS,
    "provinces": PROVINCES, "merger_2025": MERGER_2025, "ranked": RANKED, "changes": CHANGES,
}


def columns(name: str) -> dict[str, str]:
    """column → dtype of a processed table, in order, as its schema defines them."""
    return {col: str(c.dtype) for col, c in SCHEMAS[name].columns.items()}


def conform(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """df with exactly the schema's columns, in order, cast to their dtypes (missing ones as NA)."""
    return conform_columns(df, columns(name))


def conform_columns(df: pd.DataFrame, cols: dict[str, str]) -> pd.DataFrame:
    """df with exactly `cols` (column → dtype), in order, cast to their dtypes (missing ones as NA)."""
    out = pd.DataFrame(index=df.index)
    for col, dtype in cols.items():
        out[col] = (df[col] if col in df.columns else pd.Series(None, index=df.index, dtype=object)).astype(dtype)
    return out.reset_index(drop=True)


def validate(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Validate a processed table; raise ValidationError listing every failure with its source."""
    try:
        return SCHEMAS[name].validate(df, lazy=True)
    except pa.errors.SchemaErrors as e:
        raise ValidationError(describe_failures(name, df, e.failure_cases)) from None


def describe_failures(name: str, df: pd.DataFrame, cases: pd.DataFrame, limit: int = 50) -> str:
    """Readable lines for a table's pandera failures: column, check, row and value."""
    lines = [f"table {name!r}: {len(cases)} validation failure(s)"]
    for case in cases.head(limit).itertuples():
        where = ""
        idx = case.index
        if idx is not None and idx == idx and idx in df.index:
            row = df.loc[idx]
            sf = row.get("source_file", "")
            loc = row.get("source_locator", "")
            where = f" [from {sf} {loc}]" if sf is not pd.NA else ""
        lines.append(f"  column {case.column!r}, check {case.check}: got {case.failure_case!r}{where}")
    if len(cases) > limit:
        lines.append(f"  … and {len(cases) - limit} more")
    return "\n".join(lines)


def data_dictionary() -> str:
    """Markdown data dictionary of every processed table, generated from the schemas."""
    out = ["# data/processed — data dictionary",
           "",
           "Generated from `src/cchc_analysis/schema.py` by `cchc build-data`; do not edit by hand.",
           "Every table is written as Parquet and CSV (UTF-8) and loads with `cchc_analysis.load(name)`.",
           "Rebuild everything from `data/raw/` with `cchc build-data`.", ""]
    for name, s in SCHEMAS.items():
        out += [f"## `{name}`", "", s.description or "", ""]
        if s.unique:
            out += [f"Key: {', '.join(s.unique)}", ""]
        out += ["| column | type | nullable | meaning |", "|---|---|---|---|"]
        for col, c in s.columns.items():
            out.append(f"| `{col}` | {c.dtype} | {'yes' if c.nullable else 'no'} | {c.description or ''} |")
        out.append("")
    out += PANEL_NOTE
    return "\n".join(out)


PANEL_NOTE = [
    "## The research panel (`cchc_analysis.panel()`, `cchc export panel`)",
    "",
    "Not a stored table: built from `scores` (and its ranks) on demand. One row per `province_code` and `year`;",
    "per index × indicator a value column `<index>_<indicator>` and beside it `_min`, `_max` (the scale of that",
    "year: PAPI's headline is 6–60 for 2011–2017 and 10–80 from 2018, `data/reference/indicator_scales.csv`),",
    "`_group` (comparability group: a new group at each methodology break and change of scale), `_table`",
    "(full | partial), `_sample` (how a partial year's provinces were selected,",
    "`data/reference/partial_samples.csv`), `_rank` (published) and `_rank_computed` (full years only).",
    "Partial years are left out unless `include_partial=True`. `units=\"2025\"` aggregates onto the 34 units",
    "with an explicit `method=` (mean | min | max | weighted_mean; ranks are never aggregated).",
    "`cchc export <panel|table> --format csv|parquet|dta --out FILE` writes the file and `FILE.codebook.csv`",
    "(column, Stata name, names vi/en, unit, scale, source, methodology notes, label ≤ 80 characters);",
    "`.dta` files are Stata 118 (UTF-8) with variable and value labels.",
    "",
]
