"""Build data/processed from data/raw (manifest check, readers, validation, atomic writes, cache),
and load the processed tables."""
from __future__ import annotations

import contextlib
import io
import json
import time
from pathlib import Path

import pandas as pd

from . import digest, manifest, paths, procedures, provinces, schema, select, text, validity
from .atomic import atomic_write_bytes
from .errors import CchcError, SourceError, ValidationError
from .sources import consistency, quotes
from .sources.base import CONFLICT_COLUMNS, FACT_COLUMNS, conform

TABLES = ["scores", "facts", "conflicts", "indicators", "provinces", "merger_2025", "ranked", "changes"]
STAMP = ".build.json"

TOLERANCE = text.TOL_2DP


def source_priority() -> pd.DataFrame:
    """Which source wins: data/reference/source_priority.csv (pattern, kind, priority, label, emit, decimals, tie,
    fill, why)."""
    return select.priority_table()


# --------------------------------------------------------------------------- readers

READERS = ("pci_excel", "pci_web", "papi", "facts", "par_foreign", "official")  # each: read(raw_dir) -> Candidates


def read_sources(raw_dir: Path) -> dict[str, list[pd.DataFrame]]:
    """Run every reader over raw_dir; returns lists of candidate score, fact and conflict frames."""
    import importlib

    modules = {name: importlib.import_module(f".sources.{name}", __package__) for name in READERS}
    out: dict[str, list[pd.DataFrame]] = {"scores": [], "facts": [], "conflicts": []}
    for name in READERS:
        c = modules[name].read(raw_dir)
        out["scores"].append(c.scores)
        out["facts"].append(c.facts)
        out["conflicts"].append(c.conflicts)
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
    """The one selection step: stack every reader's candidate rows and keep one row per key by
    data/reference/source_priority.csv; every differing loser becomes a conflict (`select.select`)."""
    return select.select(pd.concat([f for f in frames if len(f)], ignore_index=True))


def read_indicators() -> pd.DataFrame:
    """The indicator catalogue (data/reference/indicators/*.csv), in its own row order."""
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False)
              for p in sorted((paths.REFERENCE / "indicators").glob("*.csv"))]
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
    # the catalogue's own row order (headline, then the publisher's order of sub-indices) is kept for reports
    return out.sort_values("index_id", kind="stable").reset_index(drop=True)


def check_scales(scores: pd.DataFrame, indicators: pd.DataFrame) -> list[str]:
    """Values outside their indicator's scale, and indicators missing from the catalogue."""
    cat = indicators.set_index(["index_id", "indicator"])
    problems = []
    keys = scores[["index_id", "indicator"]].drop_duplicates()
    for k in keys.itertuples(index=False):
        if (k.index_id, k.indicator) not in cat.index:
            problems.append(f"indicator {k.index_id}/{k.indicator} is not in "
                            f"data/reference/indicators/{k.index_id}.csv")
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
        raise SourceError(raw_dir / manifest.MANIFEST_NAME,
                          "raw data does not match the manifest:\n  " + "\n  ".join(problems))
    parts = {k: [as_raw_paths(f, raw_dir) for f in v] for k, v in read_sources(raw_dir).items()}
    validity.check(parts["scores"], parts["facts"])  # a unit only exists in its years
    scores, lost = combine_scores(parts["scores"])
    facts = pd.concat([conform(f, FACT_COLUMNS) for f in parts["facts"] if len(f)], ignore_index=True)
    facts["counts"] = procedures.counts_of(facts)
    facts = facts.sort_values(["index_id", "scope", "year", "metric", "source_file", "source_locator"],
                              kind="stable", na_position="first").reset_index(drop=True)
    quotes.check(facts)  # a fact's value must be in its own quote (or a reviewed exception)
    parts["conflicts"].append(consistency.conflicts(scores, facts))  # facts that cannot both be true
    conflicts = pd.concat([conform(c, CONFLICT_COLUMNS) for c in parts["conflicts"] + [lost] if len(c)],
                          ignore_index=True)
    conflicts = conflicts.sort_values(["index_id", "year", "province_code", "indicator", "source_a", "source_b"],
                                      kind="stable", na_position="first").drop_duplicates().reset_index(drop=True)
    indicators = read_indicators()
    tables = {
        "scores": scores, "facts": facts, "conflicts": conflicts, "indicators": indicators,
        "provinces": provinces.provinces().astype({c: "string" for c in provinces.provinces().columns
                                                   if c != "merged_2025"}),
        "merger_2025": provinces.merger_2025().astype({c: "string" for c in provinces.merger_2025().columns
                                                       if c != "merged"}),
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
    for name, df in derive_tables(tables["scores"], tables["indicators"]).items():
        tables[name] = schema.validate(name, df)
    return tables


def derive_tables(scores: pd.DataFrame, indicators: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The tables derived once by the build so reports only read them: `ranked` (computed beside
    published ranks) and `changes` (score/rank change against the previous year, comparability)."""
    from . import ranking

    ranked = ranking.rank_scores(scores)
    changes = ranking.changes(ranked, indicators)
    return {name: schema.conform(name, df) for name, df in (("ranked", ranked), ("changes", changes))}


# --------------------------------------------------------------------------- writing

def data_code_files() -> list[Path]:
    """The modules the data build runs (readers, schemas, registries, derivations): `data.py` and
    what it imports. Plots and report modules are not among them, so editing them rebuilds no data."""
    return digest.module_closure(["data"] + [f"sources.{name}" for name in READERS])  # readers are imported by name


def _inputs_hash(raw_dir: Path) -> str:
    """Cache key of the data build: raw manifest + reference files + the build's own modules."""
    files = [raw_dir / manifest.MANIFEST_NAME]
    files += sorted(p for p in paths.REFERENCE.rglob("*") if p.is_file())
    files += data_code_files()
    return digest.files_digest(files)


def check_raw(raw_dir: Path, known: dict | None = None) -> dict[str, list]:
    """Check raw files against the manifest cheaply and refuse (SourceError naming the file) when one
    was added, removed or changed behind it.

    `known` is the previous build's record {path: [bytes, mtime_ns, sha256]}: a file whose size and
    mtime are unchanged is not read again; any other file is hashed. Returns the record to keep.
    """
    known = known or {}
    listed = {e["path"]: e for e in manifest.load_manifest(raw_dir)["files"]}
    present = set(manifest.raw_files(raw_dir))
    for rel in sorted(present - set(listed)):
        raise SourceError(f"data/raw/{rel}", "not in data/raw/manifest.yaml (record a new published file "
                                             "with `cchc manifest --write`)")
    for rel in sorted(set(listed) - present):
        raise SourceError(f"data/raw/{rel}", "listed in data/raw/manifest.yaml but missing")
    record = {}
    for rel in sorted(listed):
        st = (raw_dir / rel).stat()
        want = listed[rel]["sha256"]
        prev = known.get(rel)
        if prev and prev[:2] == [st.st_size, st.st_mtime_ns] and prev[2] == want:
            record[rel] = prev
            continue
        if st.st_size != listed[rel].get("bytes", st.st_size) or manifest.sha256(raw_dir / rel) != want:
            raise SourceError(f"data/raw/{rel}", "changed behind the manifest: its size or sha256 differs from "
                                                 "data/raw/manifest.yaml (raw files are never edited; restore the "
                                                 "published file)")
        record[rel] = [st.st_size, st.st_mtime_ns, want]
    return record


def _serialise(df: pd.DataFrame) -> tuple[bytes, bytes]:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False, engine="pyarrow", compression="zstd")
    csv = df.to_csv(index=False, lineterminator="\n").encode("utf-8")
    return buf.getvalue(), csv


def build_data(raw_dir: Path = paths.RAW, out_dir: Path = paths.PROCESSED, force: bool = False, log=print) -> dict:
    """Build data/processed; skip when the raw manifest, reference files and build code are unchanged.

    A plain build first checks every raw file against the manifest (size and mtime, then sha256 of
    what changed) and refuses, naming the file, when one changed behind it.

    All tables are built and validated in memory first; only then is each file replaced
    atomically, so a failure leaves the existing processed data untouched.
    """
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with _build_lock(out_dir):  # one build per folder at a time (parallel test workers, two terminals)
        return _build_data(raw_dir, out_dir, force, log)


@contextlib.contextmanager
def _build_lock(out_dir: Path):
    """An exclusive lock on the folder itself (no lock file is left): a second build waits, then finds
    the data up to date."""
    import fcntl
    import os

    fd = os.open(out_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _build_data(raw_dir: Path, out_dir: Path, force: bool, log) -> dict:
    key = _inputs_hash(raw_dir)
    stamp = out_dir / STAMP
    previous = json.loads(stamp.read_text()) if stamp.exists() else {}
    expected = [out_dir / f"{t}.{ext}" for t in TABLES for ext in ("parquet", "csv")]
    if not force:
        check_raw(raw_dir, previous.get("raw"))  # refuses, naming the file, when one changed behind the manifest
        if previous.get("inputs") == key and all(p.exists() for p in expected):
            log(f"data/processed is up to date ({len(TABLES)} tables); nothing rebuilt")
            return {"rebuilt": False}
    t0 = time.perf_counter()
    tables = build_tables(raw_dir)
    blobs = {}
    for name, df in tables.items():
        pq, csv = _serialise(df)
        blobs[out_dir / f"{name}.parquet"] = pq
        blobs[out_dir / f"{name}.csv"] = csv
    blobs[out_dir / "README.md"] = (schema.data_dictionary() + "\n"
                                    + coverage_markdown(tables["scores"]) + "\n").encode()
    remove_stale_temporaries(out_dir)
    for path, data in blobs.items():
        if not path.exists() or path.read_bytes() != data:
            atomic_write_bytes(path, data)
    counts = {n: len(df) for n, df in tables.items()}
    raw = {e["path"]: [e["bytes"], (raw_dir / e["path"]).stat().st_mtime_ns, e["sha256"]]
           for e in manifest.load_manifest(raw_dir)["files"]}  # verified by build_tables just now
    atomic_write_bytes(stamp, json.dumps({"inputs": key, "rows": counts, "raw": raw}, indent=1,
                                         sort_keys=True).encode())
    log(f"built data/processed in {time.perf_counter() - t0:.1f} s: "
        + ", ".join(f"{n} {c}" for n, c in counts.items()))
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


COVERAGE_HEADERS = ["index", "year", "provinces present / existing", "with headline score", "with published rank",
                    "indicators", "table"]


def coverage_table(scores: pd.DataFrame | None = None) -> pd.DataFrame:
    """`coverage()` with the column names of the README's coverage table (`cchc coverage`)."""
    c = coverage(scores)
    out = pd.DataFrame({"index": c["index_id"], "year": c["year"],
                        "present": c["provinces"].astype(str) + " / " + c["expected"].astype(str),
                        "with_overall": c["with_overall"], "with_rank": c["with_rank"],
                        "indicators": c["indicators"], "coverage": c["coverage"]})
    out.columns = COVERAGE_HEADERS
    return out


def coverage_markdown(scores: pd.DataFrame | None = None) -> str:
    """The coverage table as Markdown (README.md and data/processed/README.md)."""
    t = coverage_table(scores)
    lines = ["## Coverage (index × year)", "", "| " + " | ".join(COVERAGE_HEADERS) + " |",
             "|" + "---|" * len(COVERAGE_HEADERS)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in t.itertuples(index=False)]
    return "\n".join(lines)
