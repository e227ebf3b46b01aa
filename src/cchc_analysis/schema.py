"""pandera schemas of the processed tables, and the data dictionary generated from them."""
from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from .errors import ValidationError

INDEX_IDS = ["pci", "papi", "par", "sipas"]
FACT_INDEX_IDS = INDEX_IDS + ["tthc", "index766", "other"]
CODE = r"^\d{2}$"
RAW_PATH = r"^data/(raw|reference)/"


def _c(dtype, description, *checks, nullable=False, unique=False):
    return pa.Column(dtype, list(checks), nullable=nullable, unique=unique, description=description)


SCORES = pa.DataFrameSchema(
    {
        "index_id": _c("string", "Index: pci | papi | par | sipas", pa.Check.isin(INDEX_IDS)),
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
        "index_id": _c("string", "pci | papi | par | sipas | tthc | index766 | other", pa.Check.isin(FACT_INDEX_IDS)),
        "scope": _c("string", "Province code, 'national', or a region name", nullable=False),
        "scope_as_written": _c("string", "The unit as the source names it", nullable=True),
        "year": _c("Int64", "Year the statistic refers to (NA when undated)", pa.Check.in_range(2005, 2030), nullable=True),
        "period": _c("string", "Period as stated ('2024', '2021-H1', '2020-12-15..2021-06-15')", nullable=True),
        "metric": _c("string", "snake_case metric id (e.g. dossiers_received, par_index, on_time_rate)",
                     pa.Check.str_matches(r"^[a-z0-9_]+$")),
        "component": _c("string", "Component id where the metric has components", nullable=True),
        "value": _c("float64", "Value parsed from value_as_written (NaN when it cannot be read without guessing)", nullable=True),
        "unit": _c("string", "count | percent | points | rank | rank_change | ...", nullable=True),
        "counts": _c("string", "What the number counts (procedures, dossiers, tasks, units, …; percent, points, rank "
                     "for those units) from data/reference/metric_labels.csv: ratios only within one kind",
                     nullable=True),
        "rank_of": _c("Int64", "For ranks written '12/63': the 63", nullable=True),
        "value_as_written": _c("string", "The value exactly as the source writes it", nullable=True),
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
        "field": _c("string", "What disagrees: value | published_rank | published_tier",
                    pa.Check.isin(["value", "published_rank", "published_tier"])),
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
        "method_breaks": _c("string", "';'-separated years from which values are not comparable with earlier years", nullable=True),
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
        "valid_to": _c("string", "Last day (blank = until the 2025 merger)", nullable=True),
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

SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "scores": SCORES, "facts": FACTS, "conflicts": CONFLICTS, "indicators": INDICATORS,
    "provinces": PROVINCES, "merger_2025": MERGER_2025,
}


def validate(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Validate a processed table; raise ValidationError listing every failure with its source."""
    try:
        return SCHEMAS[name].validate(df, lazy=True)
    except pa.errors.SchemaErrors as e:
        raise ValidationError(describe_failures(name, df, e.failure_cases)) from None


def describe_failures(name: str, df: pd.DataFrame, cases: pd.DataFrame, limit: int = 50) -> str:
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
    return "\n".join(out)
