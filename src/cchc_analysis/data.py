"""Build data/processed from data/raw (manifest check, readers, validation, atomic writes, cache),
and load the processed tables."""
from __future__ import annotations

import hashlib
import io
import json
import time
from pathlib import Path

import pandas as pd

from . import manifest, paths, procedures, provinces, schema
from .atomic import atomic_write_bytes
from .errors import CchcError, SourceError, ValidationError
from .sources.base import CONFLICT_COLUMNS, FACT_COLUMNS, SCORE_COLUMNS, conform

TABLES = ["scores", "facts", "conflicts", "indicators", "provinces", "merger_2025"]
STAMP = ".build.json"

# Which source wins when two give a value for the same (index, year, province, indicator):
# the first pattern a source file matches; lower is better. The loser goes to `conflicts`
# when it differs beyond the published precision (2 decimals).
SOURCE_PRIORITY = [
    "data/raw/pci/vcci_excel/",
    "data/raw/papi/official_excel/",
    "data/raw/pci/pci_2020_scores.csv",
    "data/raw/papi/papi_2020_2024_dimensions.csv",
    "data/raw/pci/pci_2021_subindices.csv",
    "data/raw/pci/pci_2021_scores.csv",
    "data/raw/pci/pci_2022_scores.csv",
    "data/raw/papi/papi_2023_report_table3_6_excerpt.csv",
    "data/raw/par_sipas/",
    "data/raw/pci/pci_province_profiles_2020_2024.csv",
    "data/raw/pci/pci_news_mentions_2020_2024.csv",
]
TOLERANCE = 0.005 + 1e-9


def _priority(source_file: str) -> int:
    for i, p in enumerate(SOURCE_PRIORITY):
        if source_file.startswith(p):
            return i
    return len(SOURCE_PRIORITY)


# --------------------------------------------------------------------------- readers

def read_sources(raw_dir: Path) -> dict[str, list[pd.DataFrame]]:
    """Run every reader over raw_dir; returns lists of score, fact and conflict frames."""
    from .sources import facts, papi, pci_excel, pci_web

    out: dict[str, list[pd.DataFrame]] = {"scores": [], "facts": [], "conflicts": []}
    out["scores"].append(pci_excel.read_all(raw_dir))
    web = pci_web.read_all(raw_dir)
    p_scores, p_conflicts = papi.read_all(raw_dir / "papi")
    out["scores"].append(p_scores)
    out["conflicts"].append(p_conflicts)
    f = facts.read_all(raw_dir)
    for part in (web, f):
        for key in ("scores", "facts", "conflicts"):
            if key in part and part[key] is not None:
                out[key].append(part[key])
    return out


def as_raw_paths(df: pd.DataFrame, raw_dir: Path) -> pd.DataFrame:
    """Name files of a raw dir other than data/raw (e.g. `--raw /copy`) as data/raw/<path>, the
    path its manifest lists, in every text column (source_file, locators, conflict sources)."""
    prefix = paths.raw_relpath(raw_dir).rstrip("/") + "/"
    if prefix == "data/raw/" or not len(df):
        return df
    df = df.copy()
    for col in df.columns:
        if pd.api.types.is_string_dtype(df[col]) or df[col].dtype == object:
            df[col] = df[col].map(lambda v: v.replace(prefix, "data/raw/") if isinstance(v, str) else v)
    return df


def combine_scores(frames: list[pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stack score frames and keep one row per key by SOURCE_PRIORITY; differing losers become conflicts."""
    df = pd.concat([conform(f, SCORE_COLUMNS) for f in frames if len(f)], ignore_index=True)
    df["_prio"] = df["source_file"].map(_priority)
    df = df.sort_values(["index_id", "year", "province_code", "indicator", "_prio", "source_file", "source_locator"],
                        kind="stable").reset_index(drop=True)
    key = ["index_id", "year", "province_code", "indicator"]
    first = ~df.duplicated(key, keep="first")
    winners = df[first]
    losers = df[~first]
    conflicts = []
    if len(losers):
        w = winners.set_index(key)
        for row in losers.itertuples(index=False):
            k = (row.index_id, row.year, row.province_code, row.indicator)
            win = w.loc[k]
            for field, tol in (("value", TOLERANCE), ("published_rank", 0)):
                a, b = win[field], getattr(row, field)
                if pd.notna(a) and pd.notna(b) and abs(float(a) - float(b)) > tol:
                    conflicts.append({
                        "index_id": row.index_id, "year": row.year, "province_code": row.province_code,
                        "indicator": row.indicator, "field": field, "value_a": float(a),
                        "source_a": f"{win['source_file']} {win['source_locator']}", "value_b": float(b),
                        "source_b": f"{row.source_file} {row.source_locator}", "chosen": "a",
                        "reason": "source priority: official workbook > full table > partial table > "
                                  "province profile > news (data.SOURCE_PRIORITY)",
                    })
    scores = winners.drop(columns="_prio").reset_index(drop=True)
    return scores, conform(pd.DataFrame(conflicts), CONFLICT_COLUMNS)


def read_indicators() -> pd.DataFrame:
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted((paths.REFERENCE / "indicators").glob("*.csv"))]
    df = pd.concat(frames, ignore_index=True).replace({"": pd.NA})
    out = pd.DataFrame({
        "index_id": df["index_id"].astype("string"), "indicator": df["indicator"].astype("string"),
        "name_vi": df["name_vi"].astype("string"), "name_en": df["name_en"].astype("string"),
        "scale_min": pd.to_numeric(df["scale_min"]).astype("float64"),
        "scale_max": pd.to_numeric(df["scale_max"]).astype("float64"),
        "unit": df["unit"].astype("string"),
        "first_year": pd.to_numeric(df["first_year"]).astype("Int64"),
        "last_year": pd.to_numeric(df["last_year"]).astype("Int64"),
        "years_not_measured": df["years_not_measured"].astype("string"),
        "method_breaks": df["method_breaks"].astype("string"),
        "notes": df["notes"].astype("string"),
    })
    return out.sort_values(["index_id", "indicator"]).reset_index(drop=True)


def check_scales(scores: pd.DataFrame, indicators: pd.DataFrame) -> list[str]:
    """Values outside their indicator's scale, and indicators missing from the catalogue."""
    cat = indicators.set_index(["index_id", "indicator"])
    problems = []
    keys = scores[["index_id", "indicator"]].drop_duplicates()
    for k in keys.itertuples(index=False):
        if (k.index_id, k.indicator) not in cat.index:
            problems.append(f"indicator {k.index_id}/{k.indicator} is not in data/reference/indicators/{k.index_id}.csv")
    s = scores.merge(indicators[["index_id", "indicator", "scale_min", "scale_max", "unit"]],
                     on=["index_id", "indicator"], how="left", suffixes=("", "_catalogue"))
    wrong = s[s["unit_catalogue"].notna() & (s["unit"] != s["unit_catalogue"])]
    for r in wrong.itertuples():
        problems.append(f"{r.source_file} {r.source_locator}: {r.index_id} {r.year} {r.province_code} {r.indicator} "
                        f"has unit {r.unit!r}, but the catalogue's unit of {r.indicator} is {r.unit_catalogue!r} "
                        "(one unit and one scale per indicator: a different quantity needs its own id)")
    bad = s[(s["value"] < s["scale_min"]) | (s["value"] > s["scale_max"])]
    for r in bad.itertuples():
        problems.append(f"{r.source_file} {r.source_locator}: {r.index_id} {r.year} {r.province_code} {r.indicator} = "
                        f"{r.value} is outside the scale {r.scale_min}–{r.scale_max}")
    return problems


def build_tables(raw_dir: Path = paths.RAW) -> dict[str, pd.DataFrame]:
    """Every processed table, validated, in memory (nothing is written)."""
    problems = manifest.verify_manifest(raw_dir)
    if problems:
        raise SourceError(raw_dir / manifest.MANIFEST_NAME, "raw data does not match the manifest:\n  " + "\n  ".join(problems))
    parts = {k: [as_raw_paths(f, raw_dir) for f in v] for k, v in read_sources(raw_dir).items()}
    scores, lost = combine_scores(parts["scores"])
    facts = pd.concat([conform(f, FACT_COLUMNS) for f in parts["facts"] if len(f)], ignore_index=True)
    facts["counts"] = procedures.counts_of(facts)
    facts = facts.sort_values(["index_id", "scope", "year", "metric", "source_file", "source_locator"],
                              kind="stable", na_position="first").reset_index(drop=True)
    conflicts = pd.concat([conform(c, CONFLICT_COLUMNS) for c in parts["conflicts"] + [lost] if len(c)], ignore_index=True)
    conflicts = conflicts.sort_values(["index_id", "year", "province_code", "indicator", "source_a", "source_b"],
                                      kind="stable", na_position="first").drop_duplicates().reset_index(drop=True)
    indicators = read_indicators()
    tables = {
        "scores": scores, "facts": facts, "conflicts": conflicts, "indicators": indicators,
        "provinces": provinces.provinces().astype({c: "string" for c in provinces.provinces().columns if c != "merged_2025"}),
        "merger_2025": provinces.merger_2025().astype({c: "string" for c in provinces.merger_2025().columns if c != "merged"}),
    }
    errors = []
    for name, df in tables.items():
        try:
            tables[name] = schema.validate(name, df)
        except ValidationError as e:
            errors.append(str(e))
    errors += check_scales(tables["scores"], indicators)
    if errors:
        raise ValidationError("processed data failed validation; nothing was written:\n" + "\n".join(errors))
    return tables


# --------------------------------------------------------------------------- writing

def _inputs_hash(raw_dir: Path) -> str:
    h = hashlib.sha256()
    files = [raw_dir / manifest.MANIFEST_NAME]
    files += sorted(p for p in paths.REFERENCE.rglob("*") if p.is_file())
    files += sorted((paths.ROOT / "src" / "cchc_analysis").rglob("*.py"))
    for p in files:
        h.update(p.relative_to(paths.ROOT).as_posix().encode() if p.is_relative_to(paths.ROOT) else p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _serialise(df: pd.DataFrame) -> tuple[bytes, bytes]:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False, engine="pyarrow", compression="zstd")
    csv = df.to_csv(index=False, lineterminator="\n").encode("utf-8")
    return buf.getvalue(), csv


def build_data(raw_dir: Path = paths.RAW, out_dir: Path = paths.PROCESSED, force: bool = False, log=print) -> dict:
    """Build data/processed; skip when raw data, reference files and code are unchanged.

    All tables are built and validated in memory first; only then is each file replaced
    atomically, so a failure leaves the existing processed data untouched.
    """
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    digest = _inputs_hash(raw_dir)
    stamp = out_dir / STAMP
    expected = [out_dir / f"{t}.{ext}" for t in TABLES for ext in ("parquet", "csv")]
    if not force and stamp.exists() and all(p.exists() for p in expected):
        if json.loads(stamp.read_text()).get("inputs") == digest:
            log(f"data/processed is up to date ({len(TABLES)} tables); nothing rebuilt")
            return {"rebuilt": False}
    t0 = time.perf_counter()
    tables = build_tables(raw_dir)
    blobs = {}
    for name, df in tables.items():
        pq, csv = _serialise(df)
        blobs[out_dir / f"{name}.parquet"] = pq
        blobs[out_dir / f"{name}.csv"] = csv
    blobs[out_dir / "README.md"] = (schema.data_dictionary() + "\n" + coverage_markdown(tables["scores"]) + "\n").encode()
    remove_stale_temporaries(out_dir)
    for path, data in blobs.items():
        if not path.exists() or path.read_bytes() != data:
            atomic_write_bytes(path, data)
    counts = {n: len(df) for n, df in tables.items()}
    atomic_write_bytes(stamp, json.dumps({"inputs": digest, "rows": counts}, indent=1, sort_keys=True).encode())
    log(f"built data/processed in {time.perf_counter() - t0:.1f} s: " + ", ".join(f"{n} {c}" for n, c in counts.items()))
    return {"rebuilt": True, "rows": counts}


def remove_stale_temporaries(folder: Path, patterns=(".tmp-*", ".running-*")) -> int:
    """Delete hidden temporary files a killed run left behind (one build or report per folder at a time)."""
    n = 0
    for pattern in patterns:
        for p in Path(folder).rglob(pattern):
            if p.is_file():
                p.unlink(missing_ok=True)
                n += 1
    return n


# --------------------------------------------------------------------------- loading

_CACHE: dict[tuple[str, float], pd.DataFrame] = {}


def load(name: str, processed_dir: Path | None = None) -> pd.DataFrame:
    """A processed table as a DataFrame (a copy; province codes stay strings)."""
    if name not in TABLES:
        raise KeyError(f"unknown table {name!r}; tables: {', '.join(TABLES)}")
    path = Path(processed_dir or paths.PROCESSED) / f"{name}.parquet"
    if not path.exists():
        raise CchcError(f"{path} does not exist: run `make data` (or `cchc build-data`) first")
    key = (str(path), path.stat().st_mtime)
    if key not in _CACHE:
        _CACHE[key] = pd.read_parquet(path)
    return _CACHE[key].copy()


# --------------------------------------------------------------------------- coverage

def _expected(year: int) -> int:
    return provinces.units_in(year)


def coverage(scores: pd.DataFrame | None = None) -> pd.DataFrame:
    """index × year: provinces present / expected, number of indicators, full or partial."""
    s = load("scores") if scores is None else scores
    head = s[s["indicator"] == "overall"]
    g = s.groupby(["index_id", "year"]).agg(
        provinces=("province_code", "nunique"), indicators=("indicator", "nunique"),
        full=("coverage", lambda c: (c == "full").any()),
    ).reset_index()
    counts = head.groupby(["index_id", "year"]).agg(
        with_overall=("value", "count"), with_rank=("published_rank", "count")).reset_index()
    g = g.merge(counts, on=["index_id", "year"], how="left").fillna({"with_overall": 0, "with_rank": 0})
    g[["with_overall", "with_rank"]] = g[["with_overall", "with_rank"]].astype("int64")
    g["expected"] = g["year"].map(_expected)
    g["coverage"] = g["full"].map({True: "full", False: "partial"})
    order = {k: i for i, k in enumerate(schema.INDEX_IDS)}
    g = g.sort_values(["index_id", "year"], key=lambda c: c.map(order) if c.name == "index_id" else c)
    return g[["index_id", "year", "provinces", "expected", "with_overall", "with_rank", "indicators",
              "coverage"]].reset_index(drop=True)


def coverage_markdown(scores: pd.DataFrame | None = None) -> str:
    c = coverage(scores)
    lines = ["## Coverage (index × year)", "",
             "| index | year | provinces present / existing | with headline score | with published rank "
             "| indicators | table |",
             "|---|---|---|---|---|---|---|"]
    for r in c.itertuples():
        lines.append(f"| {r.index_id} | {r.year} | {r.provinces} / {r.expected} | {r.with_overall} | {r.with_rank} "
                     f"| {r.indicators} | {r.coverage} |")
    return "\n".join(lines)
