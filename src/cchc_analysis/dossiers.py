"""Dossier-level KPIs of administrative procedures (hồ sơ TTHC) from a province's dossier export.

Export schema
-------------
A province's export is one CSV (UTF-8, comma-separated, header line, optionally ``.gz``) or
Parquet file with one row per dossier and at least these columns (exact names; extra columns
are ignored):

==============  =====================================================================
dossier_id      text, required, unique in the file
procedure_code  text, required (e.g. the national procedure code "1.004227")
level           required; "tinh" | "huyen" | "xa". Accepted spellings (case, accents and
                spaces ignored): tỉnh/huyện/xã, "cấp tỉnh"/"cấp huyện"/"cấp xã",
                province/district/commune — see :data:`LEVEL_ALIASES`
channel         required; "online" | "direct" | "postal"; also trực tuyến / trực tiếp /
                bưu chính (công ích) — see :data:`CHANNEL_ALIASES`
received_at     timestamp, required
due_at          timestamp, required, not before received_at
resolved_at     timestamp or empty (= not resolved), not before received_at
status          text or empty (read, never interpreted: KPIs use resolved_at)
==============  =====================================================================

Timestamps are local time in Vietnam. In CSV they are ISO 8601 without offset:
``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM``, ``YYYY-MM-DD HH:MM:SS[.ffffff]`` ("T" may replace
the space; a bare date means 00:00). In Parquet they are timestamp or date columns (or text as in
CSV); time-zone-aware timestamps are converted to Asia/Ho_Chi_Minh wall-clock time. An empty
text value counts as missing. Rows are numbered as a spreadsheet shows them: in CSV the header
is row 1 and the first dossier row 2; in Parquet the first dossier is row 1.

Bad rows raise :class:`cchc_analysis.errors.SourceError` naming the file and the first bad row
and column; its message lists every failing check with its row count and first row.

KPI rules
---------
* ``as_of`` (default: the latest received_at/resolved_at in the file) is the reporting instant:
  dossiers received after it are left out, and a resolution after it counts as unresolved.
* ahead / on_time / late compare **calendar days** (local time): resolved on a day before the
  due day = ahead ("trước hạn"), on the due day = on time ("đúng hạn"), after it = late
  ("quá hạn") — a due day is kept whole, whatever time of day due_at carries.
* overdue_backlog: unresolved at ``as_of`` and the due day is before the day of ``as_of``.
* processing time = resolved_at − received_at in days (timestamp precision, calendar time, not
  working days). median and p90 are the inverse of the empirical distribution (Hyndman–Fan
  type 1, numpy ``method="inverted_cdf"``, DuckDB ``quantile_disc``): the smallest observed
  processing time that at least 50 % / 90 % of the group's resolved dossiers did not exceed.
  They are always an observed value, and both engines compute them exactly alike.
* resolution_rate and online_share are % of received; ahead/on_time/late_share are % of
  resolved. Percentages are 0–100, never rounded; a share of an empty set is missing (NA).

Engines
-------
``engine="pandas"`` reads the needed columns with pyarrow (low-cardinality text as dictionary
codes), validates with the pandera :data:`SCHEMA` and computes every count with one
``numpy.bincount`` over integer group codes; the row-wise work runs vectorised on chunks of
rows on a thread pool. ``engine="duckdb"`` runs the same checks and KPIs as SQL over the file
(``read_parquet``/``read_csv``), so it works when the data do not fit in memory (DuckDB spills
to a temporary folder; set :data:`DUCKDB_SETTINGS` e.g. ``{"memory_limit": "2GB"}``; the
quantiles still keep 8 bytes per resolved dossier of a group). Both engines give identical
frames: counts are exact, shares are computed from the counts by shared code, and quantiles
are order statistics (no interpolation). ``engine="auto"`` picks DuckDB when the file is large
compared with available memory (:func:`choose_engine`).
"""
from __future__ import annotations

import math
import os
import re
import tempfile
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa_
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cchc_analysis.errors import SourceError
from cchc_analysis.paths import raw_relpath

# ----------------------------------------------------------------------------- schema
COLUMNS = ("dossier_id", "procedure_code", "level", "channel", "received_at", "due_at",
           "resolved_at", "status")
TEXT_COLUMNS = ("dossier_id", "procedure_code", "level", "channel", "status")
TIME_COLUMNS = ("received_at", "due_at", "resolved_at")
KPI_INPUT_COLUMNS = tuple(c for c in COLUMNS if c != "status")
LEVELS = ("huyen", "tinh", "xa")
CHANNELS = ("direct", "online", "postal")
GROUP_KEYS = ("level", "procedure_code", "month", "channel")

LEVEL_ALIASES = {
    "tinh": "tinh", "cap tinh": "tinh", "province": "tinh", "provincial": "tinh",
    "huyen": "huyen", "cap huyen": "huyen", "district": "huyen",
    "xa": "xa", "cap xa": "xa", "commune": "xa",
}
CHANNEL_ALIASES = {
    "online": "online", "truc tuyen": "online",
    "direct": "direct", "truc tiep": "direct",
    "postal": "postal", "buu chinh": "postal", "buu chinh cong ich": "postal",
}
_ALIASES = {"level": LEVEL_ALIASES, "channel": CHANNEL_ALIASES}

ISO_TIMESTAMP_RE = (r"^\d{4}-\d{2}-\d{2}(?:[T ](?:[01]\d|2[0-3]):[0-5]\d"
                    r"(?::[0-5]\d(?:\.\d{1,6})?)?)?$")
LOCAL_TZ = "Asia/Ho_Chi_Minh"
QUANTILES = {"median": 0.5, "p90": 0.9}
DEFAULT_BINS_DAYS = (0, 1, 2, 3, 5, 7, 10, 15, 20, 30, 45, 60, 90)
AUTO_MEMORY_FRACTION = 0.25            # engine="auto": duckdb when the data would take more
DUCKDB_SETTINGS: dict[str, str] = {}   # extra DuckDB settings, e.g. {"memory_limit": "2GB"}
_EXPANSION = {"parquet": 5.0, "csv": 1.5, "csv.gz": 6.0}   # est. in-memory bytes per file byte
_DAY_US = 86_400_000_000

_STRING = pd.ArrowDtype(pa.string())
_TIMESTAMP = pd.ArrowDtype(pa.timestamp("us"))

_EXPECT = {
    "missing": "a value is required",
    "duplicated": "dossier_id must be unique in the file",
    "unknown level": "expected tinh, huyen or xa (tỉnh, huyện, xã)",
    "unknown channel": "expected online, direct or postal (trực tuyến, trực tiếp, bưu chính)",
    "not a timestamp": "expected an ISO 8601 local time such as 2024-03-05 08:30:00",
    "before received_at": "must not be earlier than received_at",
}


def text_key(value: str) -> str:
    """Lower-case, accent-free, single-spaced form of a label (used to match aliases).

    The same as _SQL_KEY in DuckDB: marks stripped, ASCII whitespace runs made one space."""
    decomposed = unicodedata.normalize("NFD", value)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) not in ("Mn", "Mc", "Me"))
    return re.sub(r"[\t\n\f\r ]+", " ", stripped.lower()).strip(" ")


_SQL_KEY = "trim(regexp_replace(lower(strip_accents({})), '[\\t\\n\\f\\r ]+', ' ', 'g'))"


# ----------------------------------------------------------------------------- failures
@dataclass(frozen=True)
class Failure:
    """One failing check: how many rows, and the first one (as a spreadsheet numbers it)."""
    column: str
    check: str
    rows: int
    first_row: int | None
    first_value: str | None


def _order(f: Failure) -> tuple:
    return (f.first_row if f.first_row is not None else math.inf, COLUMNS.index(f.column)
            if f.column in COLUMNS else len(COLUMNS), list(_EXPECT).index(f.check) if f.check in _EXPECT
            else len(_EXPECT))


def _raise_failures(file: str, failures: list[Failure]) -> None:
    """Raise one SourceError naming the first bad row and column and listing every check."""
    if not failures:
        return
    failures = sorted(failures, key=_order)
    parts = []
    for f in failures:
        where = f"first at row {f.first_row}" if f.first_row is not None else "rows not located"
        value = "" if f.first_value is None else f", value {f.first_value!r}"
        parts.append(f"{f.column}: {f.check} in {f.rows} row(s), {where}{value} "
                     f"({_EXPECT.get(f.check, 'see dossiers.SCHEMA')})")
    first = failures[0]
    raise SourceError(file, f"{len(failures)} failing check(s) in the dossier export: "
                      + "; ".join(parts), row=first.first_row, column=first.column)


# ----------------------------------------------------------------------------- reading
def _file_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith(".csv.gz"):
        return "csv.gz"
    if name.endswith(".csv"):
        return "csv"
    raise SourceError(raw_relpath(path), "unknown dossier export format: expected .csv, .csv.gz or .parquet")


def _row_offset(fmt: str) -> int:
    """Row number of the first dossier: 2 under a CSV header line, 1 otherwise."""
    return 2 if fmt.startswith("csv") else 1


def _csv_header(path: Path) -> list[str]:
    import csv
    import gzip
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
        return next(csv.reader(fh), [])


def _check_columns(file: str, present: list[str], needed: tuple[str, ...], fmt: str) -> None:
    missing = [c for c in needed if c not in present]
    if missing:
        raise SourceError(file, f"missing column(s) {', '.join(missing)}; the export must have "
                          f"columns {', '.join(COLUMNS)} (found: {', '.join(present)})",
                          row=1 if fmt.startswith("csv") else None, column=missing[0])


_DICTIONARY_COLUMNS = ("procedure_code", "level", "channel", "status")   # few distinct values


def _read_table(path: Path, fmt: str, columns: tuple[str, ...], required: tuple[str, ...]) -> pa.Table:
    """`columns` as an Arrow table (after checking that `required` exist): CSV values as text;
    low-cardinality text columns dictionary-encoded (integer codes + a small dictionary) so that
    no per-row strings are built."""
    file = raw_relpath(path)
    _check_columns(file, _csv_header(path) if fmt.startswith("csv") else pq.read_schema(path).names,
                   required, fmt)
    dictionary = [c for c in columns if c in _DICTIONARY_COLUMNS]
    try:
        if fmt == "parquet":
            return pq.read_table(path, columns=list(columns), read_dictionary=dictionary)
        types = {c: pa.dictionary(pa.int32(), pa.string()) if c in dictionary else pa.string()
                 for c in columns}
        convert = pacsv.ConvertOptions(column_types=types, include_columns=list(columns),
                                       strings_can_be_null=True, null_values=[""],
                                       quoted_strings_can_be_null=True)
        return pacsv.read_csv(path, convert_options=convert)
    except (pa.ArrowInvalid, OSError) as exc:
        raise SourceError(file, f"cannot read the export: {exc}") from exc


def _file_attrs(path: Path, fmt: str) -> dict:
    """attrs for frames read from `path`; marks synthetic files (Parquet metadata or source column)."""
    from cchc_analysis.synthetic import LABEL, METADATA_SYNTHETIC_KEY
    attrs = {"source_file": raw_relpath(path), "row_offset": _row_offset(fmt), "synthetic": False}
    if fmt == "parquet":
        meta = pq.read_schema(path).metadata or {}
        attrs["synthetic"] = meta.get(METADATA_SYNTHETIC_KEY) == b"true"
    elif "source" in _csv_header(path):
        convert = pacsv.ConvertOptions(column_types={"source": pa.dictionary(pa.int32(), pa.string())},
                                       include_columns=["source"])
        col = pacsv.read_csv(path, convert_options=convert).column("source")
        attrs["synthetic"] = LABEL in _dictionary(col)[1]
    if attrs["synthetic"]:
        attrs["source"] = LABEL
    return attrs


# Text columns are Arrow string or dictionary<int, string> arrays. The helpers below treat both
# alike and work on distinct values (a Python loop over a few values, never over rows).
def _dictionary(col: pa.ChunkedArray) -> tuple[pa.ChunkedArray, list]:
    """A dictionary column with one shared dictionary, and that dictionary's values."""
    col = col.unify_dictionaries() if col.num_chunks > 1 else col
    values = col.chunk(0).dictionary.to_pylist() if col.num_chunks else []
    return col, values


def _with_dictionary(col: pa.ChunkedArray, values: list) -> pa.ChunkedArray:
    """Replace the (shared) dictionary of `col` by `values`; a None value makes its rows null."""
    dictionary = pa.array(["" if v is None else v for v in values], pa.string())
    nulls = pa.array([i for i, v in enumerate(values) if v is None], col.type.index_type)
    chunks = []
    for chunk in col.chunks:
        indices = chunk.indices
        if len(nulls):
            indices = pc.if_else(pc.is_in(indices, nulls), pa.scalar(None, indices.type), indices)
        chunks.append(pa.DictionaryArray.from_arrays(indices, dictionary))
    return pa.chunked_array(chunks, type=pa.dictionary(col.type.index_type, pa.string()))


def _map_text(col: pa.ChunkedArray, fn) -> pa.ChunkedArray:
    """Apply fn (value -> value or None) to each distinct value of a text column."""
    if pa.types.is_dictionary(col.type):
        col, values = _dictionary(col)
        mapped = [None if v is None else fn(v) for v in values]
        return col if mapped == values else _with_dictionary(col, mapped)
    values = pc.unique(col).drop_null().to_pylist()
    mapped = [fn(v) for v in values]
    if mapped == values:
        return col
    return pc.take(pa.array(mapped, pa.string()), pc.index_in(col, pa.array(values, pa.string())))


def _code_plan(col: pa.ChunkedArray):
    """(codes(lo, hi), distinct): int32 code of each row in [lo, hi) (-1 for null), numbering
    the column's distinct values in sorted order."""
    if pa.types.is_dictionary(col.type):
        col, values = _dictionary(col)
        distinct = sorted({v for v in values if v is not None})
        position = {v: i for i, v in enumerate(distinct)}
        lookup = np.array([position.get(v, -1) for v in values] + [-1], dtype=np.int32)

        def codes(lo: int, hi: int) -> np.ndarray:
            chunks = col.slice(lo, hi - lo).chunks
            if not chunks:
                return np.empty(0, dtype=np.int32)
            return lookup[np.concatenate([pc.fill_null(c.indices.cast(pa.int32()), len(values)).to_numpy()
                                          for c in chunks])]
        return codes, distinct
    distinct = sorted(pc.unique(col).drop_null().to_pylist())
    value_set = pa.array(distinct, pa.string())

    def codes(lo: int, hi: int) -> np.ndarray:
        found = pc.index_in(col.slice(lo, hi - lo), value_set)
        return pc.fill_null(found, -1).to_numpy().astype(np.int32)
    return codes, distinct


def _codes(col: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """int32 code per row (-1 for null) in the sorted order of the column's distinct values."""
    codes, distinct = _code_plan(col)
    return codes(0, len(col)), distinct


def _is_text_type(t: pa.DataType) -> bool:
    """Text, or integers (cast exactly); floats are refused: 1.000100 would come back as 1.0001."""
    if pa.types.is_dictionary(t):
        t = t.value_type
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_integer(t) or pa.types.is_null(t)


def _as_text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Column as Arrow string (or dictionary of strings); empty strings become null."""
    if not _is_text_type(col.type):
        raise TypeError(f"type {col.type}, expected text (read text columns as strings, e.g. dtype=str)")
    if pa.types.is_dictionary(col.type):
        col, values = _dictionary(col)
        if not pa.types.is_string(col.type.value_type):
            col = _with_dictionary(col, [None if v is None else str(v) for v in values])
        return _map_text(col, lambda v: v or None)
    if not pa.types.is_string(col.type):
        col = pc.cast(col, pa.string())
    if col.null_count < len(col) and pc.any(pc.equal(col, "")).as_py():
        col = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
    return col


def _canonical(col: pa.ChunkedArray, aliases: dict[str, str]) -> pa.ChunkedArray:
    """Map accepted spellings to canonical labels; unknown values stay as written (to be reported)."""
    return _map_text(col, lambda v: aliases.get(text_key(v), v))


def _parse_timestamps(col: pa.ChunkedArray) -> tuple[pa.ChunkedArray, np.ndarray]:
    """Column as naive local timestamp[us], and the positions of unparseable text values."""
    t = col.type
    none = np.empty(0, dtype=np.int64)
    if pa.types.is_timestamp(t):
        if t.tz is not None:
            col = pc.local_timestamp(pc.cast(col, pa.timestamp(t.unit, tz=LOCAL_TZ)))
        return pc.cast(col, pa.timestamp("us"), safe=False), none
    if pa.types.is_date(t):
        return pc.cast(pc.cast(col, pa.timestamp("s")), pa.timestamp("us")), none
    if pa.types.is_dictionary(t):
        col = pc.cast(col, t.value_type)
        t = col.type
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        raise TypeError(f"type {t}, expected a timestamp, a date or ISO 8601 text")
    text = _as_text(col)
    ok = pc.fill_null(pc.match_substring_regex(text, ISO_TIMESTAMP_RE), False)
    candidate = pc.if_else(ok, text, pa.scalar(None, pa.string()))
    try:
        parsed = pc.cast(candidate, pa.timestamp("us"))
    except pa.ArrowInvalid:          # a well-formed but impossible date, e.g. 2024-02-30
        values = pd.to_datetime(pd.Series(candidate.to_numpy()), format="ISO8601", errors="coerce")
        parsed = pa.chunked_array([pa.array(values.to_numpy("datetime64[us]"),
                                            mask=values.isna().to_numpy())])
    bad = pc.and_(pc.is_valid(text), pc.is_null(parsed))
    return parsed, np.flatnonzero(bad.to_numpy())


def _normalise(table: pa.Table, file: str) -> tuple[pa.Table, dict[str, np.ndarray]]:
    """Canonical column types and labels; returns positions of unparseable timestamps per column."""
    arrays, bad = {}, {}
    for name in table.column_names:
        col = table.column(name)
        try:
            if name in TIME_COLUMNS:
                arrays[name], bad[name] = _parse_timestamps(col)
            else:
                arrays[name] = _as_text(col)
                if name in _ALIASES:
                    arrays[name] = _canonical(arrays[name], _ALIASES[name])
        except (TypeError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise SourceError(file, f"column cannot be read: {exc}", column=name) from exc
    return pa.table(arrays), bad


def _decoded(table: pa.Table) -> pa.Table:
    """Dictionary columns decoded to plain Arrow strings (for frames handed to users)."""
    for i, name in enumerate(table.column_names):
        if pa.types.is_dictionary(table.schema.field(name).type):
            table = table.set_column(i, name, pc.cast(table.column(name), pa.string()))
    return table


def _arrow(s: pd.Series) -> pa.ChunkedArray:
    return s.array.__arrow_array__()


def _passes(mask, index: pd.Index) -> pd.Series:
    """Boolean pass/fail Series for pandera; a null comparison passes."""
    if not isinstance(mask, np.ndarray):
        mask = pc.fill_null(mask, True).to_numpy(zero_copy_only=False)
    return pd.Series(mask, index=index)


_CHUNK_ROWS = 1 << 20        # rows per task of the pandas engine (tasks run on a thread pool)
_FNV_OFFSET, _FNV_PRIME = np.uint64(14695981039346656037), np.uint64(1099511628211)


def _string_hashes(chunk: pa.StringArray) -> np.ndarray:
    """64-bit FNV-1a hash of each string, vectorised over rows (a loop over byte positions)."""
    n = len(chunk)
    offsets = np.frombuffer(chunk.buffers()[1], np.int32)[chunk.offset:chunk.offset + n + 1]
    data = np.frombuffer(chunk.buffers()[2], np.uint8) if chunk.buffers()[2] else np.zeros(1, np.uint8)
    starts, lengths = offsets[:-1].astype(np.int64), np.diff(offsets)
    h = np.full(n, _FNV_OFFSET, dtype=np.uint64)
    pos, active = 0, None
    while True:
        if active is None:
            longer = lengths > pos
            if longer.all() and n:
                h ^= data[starts + pos]
                h *= _FNV_PRIME
                pos += 1
                continue
            active = np.flatnonzero(longer)
        else:
            active = active[lengths[active] > pos]
        if not active.size:
            break
        h[active] = (h[active] ^ data[starts[active] + pos]) * _FNV_PRIME
        pos += 1
    return (h ^ lengths.astype(np.uint64)) * _FNV_PRIME


def _map_threads(fn, items: list) -> list:
    """fn over items on a thread pool (numpy and Arrow kernels release the GIL)."""
    if len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(fn, items))


def _repeated_hashes(hashes: np.ndarray) -> np.ndarray:
    """Hash values that occur more than once: the hashes are split by their top bits and the
    parts sorted in parallel."""
    bits = max(0, math.ceil(math.log2(os.cpu_count() or 1)))
    parts = [hashes] if bits == 0 else [hashes[(hashes >> np.uint64(64 - bits)) == b] for b in range(2**bits)]

    def repeated(part: np.ndarray) -> np.ndarray:
        part = np.sort(part)
        return part[1:][part[1:] == part[:-1]]
    return np.concatenate(_map_threads(repeated, parts))


def _duplicated(col: pa.ChunkedArray) -> np.ndarray | None:
    """Rows whose (non-null) value occurs more than once, or None when all values are distinct.

    Values are hashed (in parallel over chunks) to find candidates; candidates are then compared
    exactly, so a hash collision never reports a duplicate."""
    if not pa.types.is_string(col.type):
        col = pc.cast(col, pa.string())
    hashes = (np.concatenate(_map_threads(_string_hashes, col.chunks)) if col.num_chunks
              else np.empty(0, np.uint64))
    valid = col.is_valid().to_numpy(zero_copy_only=False)
    repeated = _repeated_hashes(hashes[valid])
    if not repeated.size:
        return None
    candidates = np.flatnonzero(valid & np.isin(hashes, repeated))
    values = pd.Series(col.take(pa.array(candidates)).to_pylist())
    dups = values[values.duplicated(keep=False)].unique().tolist()
    if not dups:
        return None
    return pc.fill_null(pc.is_in(col, pa.array(dups, pa.string())), False).to_numpy(zero_copy_only=False)


def _unique_ids(s: pd.Series) -> pd.Series:
    dup = _duplicated(_arrow(s))
    return _passes(np.ones(len(s), dtype=bool) if dup is None else ~dup, s.index)


def _not_before_received(column: str) -> pa_.Check:
    name = f"{column} before received_at"     # a dataframe-level check; see _pandera_failures
    return pa_.Check(lambda df: _passes(pc.greater_equal(_arrow(df[column]), _arrow(df["received_at"])),
                                        df.index), name=name, error=name)


def _in(values: tuple[str, ...], name: str) -> pa_.Check:
    def check(s: pd.Series) -> pd.Series:
        codes, distinct = _codes(_arrow(s))
        allowed = np.array([v in values for v in distinct] + [True])     # code -1 (null) passes
        return _passes(allowed[codes], s.index)
    return pa_.Check(check, name=name, error=name)


SCHEMA = pa_.DataFrameSchema(
    {
        "dossier_id": pa_.Column(_STRING, nullable=False, checks=[pa_.Check(
            _unique_ids, name="duplicated", error="duplicated")]),
        "procedure_code": pa_.Column(_STRING, nullable=False),
        "level": pa_.Column(_STRING, nullable=False, checks=[_in(LEVELS, "unknown level")]),
        "channel": pa_.Column(_STRING, nullable=False, checks=[_in(CHANNELS, "unknown channel")]),
        "received_at": pa_.Column(_TIMESTAMP, nullable=False),
        "due_at": pa_.Column(_TIMESTAMP, nullable=False),
        "resolved_at": pa_.Column(_TIMESTAMP, nullable=True),
        "status": pa_.Column(_STRING, nullable=True),
    },
    checks=[_not_before_received("due_at"), _not_before_received("resolved_at")],
    strict=False,
    name="dossier export (normalised)",
)
"""pandera schema of a normalised dossier frame (labels mapped, timestamps parsed). Text columns
may also be dictionary-encoded Arrow strings (the KPI path reads them so); see _schema_for."""


def _schema_for(df: pd.DataFrame) -> pa_.DataFrameSchema:
    present = [c for c in COLUMNS if c in df.columns]
    encoded = {c: {"dtype": df[c].dtype} for c in present if c in TEXT_COLUMNS
               and isinstance(df[c].dtype, pd.ArrowDtype) and pa.types.is_dictionary(df[c].dtype.pyarrow_dtype)}
    schema = SCHEMA.select_columns(present)
    return schema.update_columns(encoded) if encoded else schema


def _row_numbers(index_labels, df: pd.DataFrame, offset: int) -> np.ndarray:
    """Spreadsheet row numbers of index labels (the original position when the index is an int index)."""
    labels = np.asarray(index_labels)
    if pd.api.types.is_integer_dtype(df.index.dtype):
        return labels.astype(np.int64) + offset
    return df.index.get_indexer(labels) + 1


def _pandera_failures(exc: pa_.errors.SchemaErrors, df: pd.DataFrame, offset: int,
                      unparsed: dict[str, np.ndarray]) -> list[Failure]:
    """pandera's failure cases as Failures; "missing" is not repeated for unparseable timestamps."""
    cases = exc.failure_cases
    cases = cases[cases["index"].notna()].reset_index(drop=True)
    cases["check"] = cases["check"].astype(str).replace({"not_nullable": "missing"})
    # a dataframe-level check "<column> before received_at" reports every column of a failing
    # row: keep its own column only
    wide = cases["schema_context"] == "DataFrameSchema"
    own = cases["check"] == cases["column"].astype(str) + " before received_at"
    cases = cases[~wide | own]
    cases.loc[wide[~wide | own], "check"] = "before received_at"
    cases["row"] = _row_numbers(cases["index"].to_numpy(), df, offset)
    out = []
    for (column, check), grp in cases.groupby(["column", "check"], sort=True):
        if check == "missing" and len(unparsed.get(column, ())):
            grp = grp[~np.isin(grp["row"].to_numpy(),
                               _row_numbers(df.index[unparsed[column]], df, offset))]
            if grp.empty:
                continue
        first = grp.loc[grp["row"].idxmin()]
        value = None if check == "missing" else str(first["failure_case"])
        out.append(Failure(column, check, int(grp["index"].nunique()), int(first["row"]), value))
    return out


def _validate(df: pd.DataFrame, raw: pa.Table, file: str, offset: int,
              unparsed: dict[str, np.ndarray]) -> None:
    """Validate a normalised frame with :data:`SCHEMA` (lazy) plus timestamp parse errors."""
    failures = []
    for column, positions in unparsed.items():
        if len(positions):
            rows = _row_numbers(df.index[positions], df, offset)
            failures.append(Failure(column, "not a timestamp", len(positions), int(rows.min()),
                                    str(raw.column(column)[int(positions[np.argmin(rows)])].as_py())))
    try:
        _schema_for(df).validate(df, lazy=True, inplace=True)
    except pa_.errors.SchemaErrors as exc:
        failures += _pandera_failures(exc, df, offset, unparsed)
    _raise_failures(file, failures)


def _load(source, columns: tuple[str, ...], required: tuple[str, ...], decode: bool = False,
          validate: bool = True) -> pd.DataFrame:
    """Read (path) or take (DataFrame) `columns`, normalise and (unless validate=False) validate.

    The result is Arrow-backed; decode=False keeps low-cardinality text columns
    dictionary-encoded (the KPI path)."""
    if isinstance(source, pd.DataFrame):
        attrs = {"source_file": source.attrs.get("source_file", "<DataFrame>"),
                 "row_offset": source.attrs.get("row_offset", 1),
                 "synthetic": bool(source.attrs.get("synthetic", False))}
        if "source" in source.attrs:
            attrs["source"] = source.attrs["source"]
        _check_columns(attrs["source_file"], list(source.columns), required, "frame")
        arrays = {}
        for c in columns:
            try:
                arrays[c] = pa.chunked_array([pa.array(source[c], from_pandas=True)])
            except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                raise SourceError(attrs["source_file"], f"column cannot be read: {exc}", column=c) from exc
        raw = pa.table(arrays)
        index = source.index
    else:
        path = Path(source)
        fmt = _file_format(path)
        attrs = _file_attrs(path, fmt)
        raw = _read_table(path, fmt, columns, required)
        index = None
    table, unparsed = _normalise(raw, attrs["source_file"])
    df = (_decoded(table) if decode else table).to_pandas(types_mapper=pd.ArrowDtype)
    del table
    if index is not None:
        df.index = index
    if validate:
        _validate(df, raw, attrs["source_file"], attrs["row_offset"], unparsed)
    df.attrs.update(attrs)
    return df


def read_dossiers(path) -> pd.DataFrame:
    """Read, normalise and validate a dossier export (CSV or Parquet; see the module docstring).

    Returns the columns of :data:`COLUMNS` with Arrow-backed dtypes (string[pyarrow],
    timestamp[us][pyarrow]), rows in file order with a RangeIndex; ``attrs`` holds source_file,
    row_offset (spreadsheet row of the first dossier) and synthetic (True for files made by
    :mod:`cchc_analysis.synthetic`, then also ``source``). Raises SourceError on bad input.
    """
    return _load(path, COLUMNS, COLUMNS, decode=True)


# ----------------------------------------------------------------------------- shared helpers
def _as_of_us(as_of) -> int | None:
    if as_of is None:
        return None
    ts = pd.Timestamp(as_of)
    if ts.tzinfo is not None:
        ts = ts.tz_convert(LOCAL_TZ).tz_localize(None)
    return int(ts.value // 1000)          # Timestamp.value is in nanoseconds


def _normalise_by(by) -> tuple[str, ...]:
    by = (by,) if isinstance(by, str) else tuple(by)
    bad = [k for k in by if k not in GROUP_KEYS]
    if bad or len(set(by)) != len(by):
        raise ValueError(f"by must be distinct keys from {GROUP_KEYS}, got {by!r}")
    return by


def _bins_us(bins) -> np.ndarray:
    edges = np.asarray(DEFAULT_BINS_DAYS if bins is None else bins, dtype=float)
    if edges.ndim != 1 or edges.size < 1 or edges[0] != 0 or np.any(np.diff(edges) <= 0):
        raise ValueError("bins must be increasing day edges starting at 0")
    return np.round(edges * _DAY_US).astype(np.int64)


def _available_memory() -> int:
    try:
        import psutil
        return int(psutil.virtual_memory().available)
    except ImportError:  # pragma: no cover - psutil is a dependency, this is a fallback
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def choose_engine(source, engine: str = "auto") -> str:
    """"pandas" or "duckdb": auto picks duckdb for files whose estimated in-memory size
    (file size × a per-format expansion factor) exceeds AUTO_MEMORY_FRACTION of available memory."""
    if engine not in ("auto", "pandas", "duckdb"):
        raise ValueError(f"engine must be 'auto', 'pandas' or 'duckdb', got {engine!r}")
    if engine != "auto":
        return engine
    if isinstance(source, pd.DataFrame):
        return "pandas"
    path = Path(source)
    estimate = path.stat().st_size * _EXPANSION[_file_format(path)]
    return "duckdb" if estimate > AUTO_MEMORY_FRACTION * _available_memory() else "pandas"


# ----------------------------------------------------------------------------- pandas engine
AHEAD, ON_TIME, LATE, OPEN_OVERDUE, OPEN = range(5)     # outcome category of a dossier at as_of


@dataclass
class _Grouped:
    g: np.ndarray            # group id per row (rows received up to as_of)
    keys: pd.DataFrame       # key values per group id
    outcome: np.ndarray      # int8 category per row (AHEAD .. OPEN)
    online: np.ndarray       # bool per row
    processing_us: np.ndarray  # resolved_at - received_at of the resolved rows, in row order
    as_of_us: int


def _int64(col: pa.ChunkedArray, fill: int = 0) -> np.ndarray:
    return pc.fill_null(pc.cast(col, pa.int64()), fill).to_numpy()


def _month_plan(received: pa.ChunkedArray):
    """(codes(received_us), labels) numbering received months from the earliest one."""
    span = [pc.min(received).cast(pa.int64()).as_py(), pc.max(received).cast(pa.int64()).as_py()]
    low, high = ((np.array(span, dtype=np.int64) // _DAY_US).astype("datetime64[D]").astype("datetime64[M]")
                 .astype(np.int64) if span[0] is not None else (0, -1))

    def codes(received_us: np.ndarray) -> np.ndarray:
        days = (received_us // _DAY_US).astype("datetime64[D]")
        return (days.astype("datetime64[M]").astype(np.int64) - low).astype(np.int32)
    return codes, [str(np.datetime64(int(m), "M")) for m in range(int(low), int(high) + 1)]


def _outcomes(arrays: dict[str, pa.ChunkedArray], lo: int, hi: int, as_of_us: int):
    """For rows [lo, hi): the window (received <= as_of) mask or None, received µs, outcome
    category and processing µs of resolved rows — all vectorised."""
    never = np.iinfo(np.int64).max
    received = _int64(arrays["received_at"].slice(lo, hi - lo))
    window = received <= as_of_us
    window = None if window.all() else window
    pick = (lambda a: a) if window is None else (lambda a: a[window])    # noqa: E731
    received = pick(received)
    resolved = pick(_int64(arrays["resolved_at"].slice(lo, hi - lo), fill=never))
    due_day = pick(_int64(arrays["due_at"].slice(lo, hi - lo))) // _DAY_US
    is_resolved = resolved <= as_of_us
    # open: overdue when the due day is before the day of as_of; resolved: 1 + sign(day difference)
    outcome = np.where(due_day < as_of_us // _DAY_US, OPEN_OVERDUE, OPEN).astype(np.int8)
    day_diff = np.floor_divide(resolved, _DAY_US, where=is_resolved, out=np.zeros_like(resolved))
    day_diff -= due_day
    np.copyto(outcome, (np.sign(day_diff) + 1).astype(np.int8), where=is_resolved)
    processing = resolved[is_resolved]          # a copy (arrays from Arrow may be read-only)
    processing -= received[is_resolved]
    return window, received, outcome, processing


def _pandas_grouped(df: pd.DataFrame, by: tuple[str, ...], as_of_us: int | None) -> _Grouped:
    """Rows received up to as_of as compact numpy arrays with a group id per row.

    Vectorised over chunks of rows that run on a thread pool (numpy and Arrow release the GIL)."""
    arrays = {c: _arrow(df[c]) for c in df.columns}
    if as_of_us is None:
        latest = [pc.max(arrays[c]).cast(pa.int64()).as_py() for c in ("received_at", "resolved_at")]
        as_of_us = max((v for v in latest if v is not None), default=None)      # None: no data
    limit = 0 if as_of_us is None else as_of_us
    plans = [_month_plan(arrays["received_at"]) if k == "month" else _code_plan(arrays[k]) for k in by]
    sizes = [len(values) for _, values in plans]
    wide = math.prod(sizes) >= 2**31
    online_codes, channels = _code_plan(arrays["channel"])
    online_code = channels.index("online") if "online" in channels else -2

    def task(bounds: tuple[int, int]):
        lo, hi = bounds
        window, received, outcome, processing = _outcomes(arrays, lo, hi, limit)
        pick = (lambda a: a) if window is None else (lambda a: a[window])    # noqa: E731
        g = np.zeros(received.size, dtype=np.int64 if wide else np.int32)
        for key, (codes, values) in zip(by, plans):
            g *= len(values)
            g += codes(received) if key == "month" else pick(codes(lo, hi))
        return g, outcome, pick(online_codes(lo, hi) == online_code), processing

    bounds = [(lo, min(len(df), lo + _CHUNK_ROWS)) for lo in range(0, len(df), _CHUNK_ROWS)] or [(0, 0)]
    parts = _map_threads(task, bounds)
    g, outcome, online, processing = (np.concatenate(p) for p in zip(*parts))
    del parts
    n_cells = math.prod(sizes)
    if by and n_cells > 4 * max(g.size, 1):        # sparse combinations: number the used ones
        cells, g = np.unique(g, return_inverse=True)
    else:
        cells = np.arange(n_cells)
    keys = pd.DataFrame({k: np.asarray(values, dtype=object)[u] for k, (_, values), u in
                         zip(by, plans, np.unravel_index(cells, sizes))}) if by else pd.DataFrame(index=[0])
    return _Grouped(g=g, keys=keys, outcome=outcome, online=online, processing_us=processing,
                    as_of_us=as_of_us)


_PARTITION_MAX_GROUPS = 2000


def _order_statistics(g: np.ndarray, values: np.ndarray, counts: np.ndarray,
                      ranks: list[np.ndarray]) -> list[np.ndarray]:
    """Per group, the value of each 0-based rank in `ranks` among the group's `values` (exact).

    Few groups: rows are bucketed by group (stable radix argsort) and each bucket partitioned
    (a loop over groups, not rows). Many groups: one sort of (group, value) keys."""
    out = [np.zeros(counts.size, dtype=np.int64) for _ in ranks]
    if not values.size:
        return out
    starts = np.cumsum(counts) - counts
    if counts.size <= _PARTITION_MAX_GROUPS:
        grouped = values if counts.size == 1 else values[np.argsort(g.astype(np.int16), kind="stable")]
        for i in np.flatnonzero(counts):
            segment = grouped[starts[i]:starts[i] + counts[i]]
            wanted = sorted({int(r[i]) for r in ranks})
            part = np.partition(segment, wanted)
            for o, r in zip(out, ranks):
                o[i] = part[r[i]]
        return out
    span = int(values.max()) + 1
    if counts.size * span < 2**62:
        key = g.astype(np.int64) * span + values
        key.sort()
        ordered = key % span
    else:
        ordered = values[np.lexsort((values, g))]
    for o, r in zip(out, ranks):
        o[:] = np.where(counts > 0, ordered[np.minimum(starts + r, values.size - 1)], 0)
    return out


def _quantile_ranks(n: np.ndarray) -> list[np.ndarray]:
    """0-based rank of each quantile in groups of n values: ceil(n*q) - 1 (inverted CDF)."""
    return [np.maximum(np.ceil(n * q).astype(np.int64) - 1, 0) for q in QUANTILES.values()]


def _pandas_stats(df: pd.DataFrame, by: tuple[str, ...], as_of_us: int | None) -> tuple[pd.DataFrame, int]:
    gr = _pandas_grouped(df, by, as_of_us)
    n = len(gr.keys)
    # one bincount over (group, outcome, online) cells gives every count
    cells = np.bincount((gr.g.astype(np.int64) * 5 + gr.outcome) * 2 + gr.online, minlength=n * 10)
    cells = cells.reshape(n, 5, 2)
    by_outcome = cells.sum(axis=2)
    stats = gr.keys.copy()
    stats["received"] = by_outcome.sum(axis=1)
    stats["resolved"] = n_res = by_outcome[:, :LATE + 1].sum(axis=1)
    stats["ahead"], stats["on_time"], stats["late"] = by_outcome[:, AHEAD], by_outcome[:, ON_TIME], by_outcome[:, LATE]
    stats["online"] = cells[:, :, 1].sum(axis=1)
    stats["overdue_backlog"] = by_outcome[:, OPEN_OVERDUE]
    g_res = gr.g[gr.outcome <= LATE]
    values = _order_statistics(g_res, gr.processing_us, n_res, _quantile_ranks(n_res))
    for name, v in zip(QUANTILES, values):
        stats[f"{name}_us"] = pd.arrays.IntegerArray(v, n_res == 0)
    if by:
        stats = stats[stats["received"] > 0]
    return stats, gr.as_of_us


def _pandas_histogram(df: pd.DataFrame, by: tuple[str, ...], as_of_us: int | None,
                      edges_us: np.ndarray) -> tuple[pd.DataFrame, int]:
    gr = _pandas_grouped(df, by, as_of_us)
    bin_idx = np.searchsorted(edges_us, gr.processing_us, side="right") - 1
    cell = gr.g[gr.outcome <= LATE].astype(np.int64) * len(edges_us) + bin_idx
    counts = np.bincount(cell, minlength=len(gr.keys) * len(edges_us))
    hit = np.flatnonzero(counts)
    out = gr.keys.iloc[hit // len(edges_us)].reset_index(drop=True)
    out["bin"] = hit % len(edges_us)
    out["count"] = counts[hit]
    return out, gr.as_of_us


# ----------------------------------------------------------------------------- duckdb engine
def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_case(expr: str, aliases: dict[str, str]) -> str:
    """SQL mapping accepted spellings to canonical labels (NULL when unknown), like _canonical."""
    canonical = ", ".join(_sql_str(v) for v in sorted(set(aliases.values())))
    whens = " ".join(f"WHEN {_sql_str(k)} THEN {_sql_str(v)}" for k, v in sorted(aliases.items()))
    return f"CASE WHEN {expr} IN ({canonical}) THEN {expr} ELSE (CASE {_SQL_KEY.format(expr)} {whens} END) END"


def _sql_time(col: str, duck_type: str) -> tuple[str, str]:
    """(timestamp expression, 'unparseable text' condition) for a column of the given DuckDB type."""
    q = f'"{col}"'
    if duck_type == "VARCHAR":
        text = f"nullif({q}, '')"
        parsed = f"CASE WHEN regexp_full_match({text}, {_sql_str(ISO_TIMESTAMP_RE)}) THEN TRY_CAST({text} AS TIMESTAMP) END"
        return parsed, f"({text} IS NOT NULL AND ({parsed}) IS NULL)"
    if duck_type.startswith(("TIMESTAMP", "DATE")):
        return f"CAST({q} AS TIMESTAMP)", "false"
    raise TypeError(f"type {duck_type}, expected a timestamp, a date or ISO 8601 text")


# DuckDB types read as text (as _is_text_type: text and integers, not floats)
_SQL_TEXT_TYPES = {"VARCHAR", '"NULL"', "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
                   "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}


class _Duck:
    """A DuckDB connection and the SQL of the normalised rows of one source."""

    def __init__(self, source, columns: tuple[str, ...], threads: int | None = None):
        import duckdb
        config = {"preserve_insertion_order": "false",
                  "temp_directory": str(Path(tempfile.gettempdir()) / "cchc_duckdb")}
        config.update(DUCKDB_SETTINGS)
        if threads:
            config.update(threads=threads, preserve_insertion_order="true")
        self.con = duckdb.connect(config=config)
        self.con.execute(f"SET TimeZone = {_sql_str(LOCAL_TZ)}")   # for TIMESTAMPTZ -> local time
        self.columns = columns
        if isinstance(source, pd.DataFrame):     # already validated by _load
            self.file, self.fmt = source.attrs.get("source_file", "<DataFrame>"), "frame"
            self.columns = columns = tuple(c for c in columns if c in source.columns)
            self.con.register("dossiers_frame", pa.Table.from_pandas(source[list(columns)],
                                                                      preserve_index=False))
            self.reader, self.row_expr = "dossiers_frame", "NULL"
        else:
            path = Path(source)
            self.path, self.file, self.fmt = path, raw_relpath(path), _file_format(path)
            if self.fmt == "parquet":
                self.reader = f"read_parquet({_sql_str(str(path))}, file_row_number = true)"
                self.row_expr = "file_row_number + 1"
            else:
                self.reader = (f"read_csv({_sql_str(str(path))}, header = true, delim = ',', quote = '\"', "
                               f"escape = '\"', all_varchar = true)")
                self.row_expr = "NULL"
        described = self._describe()
        _check_columns(self.file, list(described), columns, self.fmt)
        self.types = described

    def _describe(self) -> dict[str, str]:
        try:
            rows = self.con.execute(f"DESCRIBE SELECT * FROM {self.reader}").fetchall()
        except Exception as exc:  # duckdb raises its own exception classes
            raise SourceError(self.file, f"cannot read the export: {exc}") from exc
        return {r[0]: r[1] for r in rows}

    def scan(self, row_expr: str | None = None) -> str:
        """SELECT of normalised columns (+ raw text and parse flags for validation)."""
        items = [f"{row_expr or self.row_expr} AS _row"]
        for c in self.columns:
            if c in TIME_COLUMNS:
                try:
                    expr, bad = _sql_time(c, self.types[c])
                except TypeError as exc:
                    raise SourceError(self.file, f"column cannot be read: {exc}", column=c) from exc
                items += [f"{expr} AS {c}", f"{bad} AS {c}__bad", f'CAST("{c}" AS VARCHAR) AS {c}__raw']
            else:
                if not (self.types[c] in _SQL_TEXT_TYPES or self.types[c].startswith("ENUM")):
                    raise SourceError(self.file, f"column cannot be read: type {self.types[c]}, expected text "
                                      "(read text columns as strings, e.g. dtype=str)", column=c)
                text = f'nullif(CAST("{c}" AS VARCHAR), \'\')'
                if c in _ALIASES:
                    items += [f"{_sql_case(text, _ALIASES[c])} AS {c}", f"{text} AS {c}__raw"]
                else:
                    items.append(f"{text} AS {c}")
        return f"SELECT {', '.join(items)} FROM {self.reader}"

    def query(self, sql: str) -> pd.DataFrame:
        try:
            return self.con.sql(sql).to_arrow_table().to_pandas()
        except Exception as exc:
            if isinstance(exc, SourceError):
                raise
            raise SourceError(self.file, f"cannot read the export: {exc}") from exc


_SQL_CHECKS = [   # (column, check, failing condition, value shown)
    ("dossier_id", "missing", "dossier_id IS NULL", "NULL"),
    ("procedure_code", "missing", "procedure_code IS NULL", "NULL"),
    ("level", "missing", "level__raw IS NULL", "NULL"),
    ("level", "unknown level", "level__raw IS NOT NULL AND level IS NULL", "level__raw"),
    ("channel", "missing", "channel__raw IS NULL", "NULL"),
    ("channel", "unknown channel", "channel__raw IS NOT NULL AND channel IS NULL", "channel__raw"),
    ("received_at", "missing", "received_at IS NULL AND NOT received_at__bad", "NULL"),
    ("received_at", "not a timestamp", "received_at__bad", "received_at__raw"),
    ("due_at", "missing", "due_at IS NULL AND NOT due_at__bad", "NULL"),
    ("due_at", "not a timestamp", "due_at__bad", "due_at__raw"),
    ("due_at", "before received_at", "due_at < received_at", "CAST(due_at AS VARCHAR)"),
    ("resolved_at", "not a timestamp", "resolved_at__bad", "resolved_at__raw"),
    ("resolved_at", "before received_at", "resolved_at < received_at", "CAST(resolved_at AS VARCHAR)"),
]


def _sql_check_counts(duck: _Duck) -> tuple[bool, int | None]:
    """One aggregate pass: does any check fail (duplicates by distinct count), and the default as_of."""
    counts = [f"count(*) FILTER (WHERE {cond}) AS n{i}" for i, (_, _, cond, _) in enumerate(_SQL_CHECKS)]
    # distinct 64-bit hashes: as many as ids proves there is no duplicate; fewer (a duplicate or,
    # rarely, a hash collision) sends us to the exact check in _sql_failures
    counts += ["count(dossier_id) - count(DISTINCT hash(dossier_id)) AS n_dup",
               "epoch_us(max(greatest(received_at, coalesce(resolved_at, received_at)))) AS as_of_us"]
    row = duck.query(f"SELECT {', '.join(counts)} FROM ({duck.scan()})").iloc[0]
    failing = any(row[f"n{i}"] > 0 for i in range(len(_SQL_CHECKS))) or row["n_dup"] > 0
    return failing, _int_or_none(row["as_of_us"])


def _sql_failures(duck: _Duck, row_expr: str | None = None) -> list[Failure]:
    """Every failing check with its row count, first row and first value (error path)."""
    scan = duck.scan(row_expr)
    aggs = []
    for i, (_, _, cond, value) in enumerate(_SQL_CHECKS):
        aggs += [f"count(*) FILTER (WHERE {cond}) AS n{i}", f"min(_row) FILTER (WHERE {cond}) AS r{i}",
                 f"arg_min({value}, _row) FILTER (WHERE {cond}) AS v{i}"]
    row = duck.query(f"SELECT {', '.join(aggs)} FROM ({scan})").iloc[0]
    dup = duck.query(f"SELECT sum(n) AS n, min(r) AS r, arg_min(dossier_id, r) AS v FROM (SELECT dossier_id, "
                     f"count(*) AS n, min(_row) AS r FROM ({scan}) WHERE dossier_id IS NOT NULL "
                     f"GROUP BY dossier_id HAVING count(*) > 1)").iloc[0]
    failures = []
    for i, (column, check, _, _) in enumerate(_SQL_CHECKS):
        if row[f"n{i}"] > 0:
            failures.append(Failure(column, check, int(row[f"n{i}"]), _int_or_none(row[f"r{i}"]),
                                    None if pd.isna(row[f"v{i}"]) else str(row[f"v{i}"])))
    if not pd.isna(dup["n"]) and dup["n"] > 0:
        failures.append(Failure("dossier_id", "duplicated", int(dup["n"]), _int_or_none(dup["r"]),
                                None if pd.isna(dup["v"]) else str(dup["v"])))
    return failures


def _int_or_none(value) -> int | None:
    return None if pd.isna(value) else int(value)


def _duck_validate(duck: _Duck) -> int | None:
    """Validate in SQL and return the default as_of. Only when a check fails are rows located
    (CSV in a second, single-threaded pass that numbers rows in file order)."""
    failing, as_of_us = _sql_check_counts(duck)
    if failing:
        if duck.fmt.startswith("csv"):
            _raise_failures(duck.file, _sql_failures(_Duck(duck.path, duck.columns, threads=1),
                                                     "row_number() OVER () + 1"))
        _raise_failures(duck.file, _sql_failures(duck))
    return as_of_us


def _duck_window(duck: _Duck, by: tuple[str, ...], as_of_us: int) -> tuple[str, list[str]]:
    """SQL of rows received up to as_of with group keys and resolution as of as_of."""
    as_of = pd.Timestamp(as_of_us, unit="us").isoformat(sep=" ")
    key_sql = {"level": "level", "channel": "channel", "procedure_code": "procedure_code",
               "month": "strftime(received_at, '%Y-%m')"}
    keys = [f"{key_sql[k]} AS {k}" for k in by]
    sql = (f"SELECT {', '.join(keys + ['channel AS _channel', 'received_at', 'due_at'])}, "
           f"CASE WHEN resolved_at <= TIMESTAMP '{as_of}' THEN resolved_at END AS resolved_at "
           f"FROM ({duck.scan()}) WHERE received_at <= TIMESTAMP '{as_of}'")
    return sql, list(by)


def _duck_prepare(source, by, as_of, validate: bool, columns: tuple[str, ...]):
    duck = _Duck(source, columns)
    default_as_of = _duck_validate(duck) if validate and duck.fmt != "frame" else None
    as_of_us = _as_of_us(as_of)
    if as_of_us is None:
        as_of_us = default_as_of
    if as_of_us is None:
        val = duck.query(f"SELECT epoch_us(max(greatest(received_at, coalesce(resolved_at, received_at)))) "
                         f"AS a FROM ({duck.scan()})").iloc[0]["a"]
        as_of_us = None if pd.isna(val) else int(val)                          # None: no data
    window, keys = _duck_window(duck, by, as_of_us or 0)
    return duck, window, keys, as_of_us


def _duck_stats(source, by, as_of, validate) -> tuple[pd.DataFrame, int]:
    duck, window, keys, as_of_us = _duck_prepare(source, by, as_of, validate, KPI_INPUT_COLUMNS)
    as_of_day = pd.Timestamp(as_of_us or 0, unit="us").strftime("%Y-%m-%d")
    res_day, due_day = "CAST(resolved_at AS DATE)", "CAST(due_at AS DATE)"
    select = keys + [
        "count(*) AS received", "count(resolved_at) AS resolved",
        f"count(*) FILTER (WHERE {res_day} < {due_day}) AS ahead",
        f"count(*) FILTER (WHERE {res_day} = {due_day}) AS on_time",
        f"count(*) FILTER (WHERE {res_day} > {due_day}) AS late",
        "count(*) FILTER (WHERE _channel = 'online') AS online",
        f"count(*) FILTER (WHERE resolved_at IS NULL AND {due_day} < DATE '{as_of_day}') AS overdue_backlog",
        f"quantile_disc(epoch_us(resolved_at) - epoch_us(received_at), {list(QUANTILES.values())}) AS _q",
    ]
    group = f" GROUP BY {', '.join(keys)}" if keys else ""
    stats = duck.query(f"SELECT {', '.join(select)} FROM ({window}){group}")
    for i, name in enumerate(QUANTILES):
        stats[f"{name}_us"] = pd.array([None if v is None or (isinstance(v, float) and np.isnan(v))
                                        else int(v[i]) for v in stats["_q"]], dtype="Int64") \
            if len(stats) else pd.array([], dtype="Int64")
    return stats.drop(columns="_q"), as_of_us


def _duck_histogram(source, by, as_of, validate, edges_us) -> tuple[pd.DataFrame, int]:
    duck, window, keys, as_of_us = _duck_prepare(source, by, as_of, validate, KPI_INPUT_COLUMNS)
    pt = "(epoch_us(resolved_at) - epoch_us(received_at))"
    bin_sql = " + ".join(f"CAST({pt} >= {int(e)} AS INTEGER)" for e in edges_us) + " - 1"
    group = ", ".join(keys + ["bin"])
    sql = (f"SELECT {', '.join(keys + [f'{bin_sql} AS bin', 'count(*) AS count'])} FROM ({window}) "
           f"WHERE resolved_at IS NOT NULL GROUP BY {group}")
    return duck.query(sql), as_of_us


# ----------------------------------------------------------------------------- results
_COUNT_COLUMNS = ("received", "resolved", "ahead", "on_time", "late", "online", "overdue_backlog")
KPI_COLUMNS = ("received", "resolved", "resolution_rate", "ahead", "on_time", "late", "ahead_share",
               "on_time_share", "late_share", "online", "online_share", "overdue_backlog",
               "median_processing_days", "p90_processing_days")


def _pct(num: pd.Series, den: pd.Series) -> pd.Series:
    num, den = num.to_numpy(np.float64), den.to_numpy(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 100.0 * num / den
    return pd.Series(pa.array(value, mask=den == 0), dtype=pd.ArrowDtype(pa.float64()))


def _days(us: pd.Series) -> pd.Series:
    values = pd.array(us, dtype="Int64")
    days = values.to_numpy(dtype=np.float64, na_value=np.nan) / _DAY_US
    return pd.Series(pa.array(days, mask=np.isnan(days)), dtype=pd.ArrowDtype(pa.float64()))


def _key_frame(stats: pd.DataFrame, by: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({k: pd.Series(stats[k].astype(object).to_numpy(), dtype=_STRING) for k in by})


def _finish_kpis(stats: pd.DataFrame, by: tuple[str, ...], as_of_us: int, attrs: dict) -> pd.DataFrame:
    """KPI frame from per-group counts and order statistics (the same code for both engines)."""
    stats = stats.reset_index(drop=True)
    out = _key_frame(stats, by)
    int64 = pd.ArrowDtype(pa.int64())
    for c in _COUNT_COLUMNS:
        out[c] = pd.Series(stats[c].to_numpy(np.int64), dtype=int64)
    out["resolution_rate"] = _pct(out["resolved"], out["received"])
    for c in ("ahead", "on_time", "late"):
        out[f"{c}_share"] = _pct(out[c], out["resolved"])
    out["online_share"] = _pct(out["online"], out["received"])
    for name in QUANTILES:
        out[f"{name}_processing_days"] = _days(stats[f"{name}_us"])
    out = out[list(by) + list(KPI_COLUMNS)]
    if by:
        out = out.sort_values(list(by), kind="stable").reset_index(drop=True)
    out.attrs.update(_result_attrs(attrs, as_of_us))
    return out


def _result_attrs(attrs: dict, as_of_us: int) -> dict:
    keep = {k: attrs[k] for k in ("source_file", "synthetic", "source") if k in attrs}
    keep["as_of"] = None if as_of_us is None else pd.Timestamp(as_of_us, unit="us")
    return keep


def _source_attrs(source) -> dict:
    if isinstance(source, pd.DataFrame):
        return dict(source.attrs)
    path = Path(source)
    return _file_attrs(path, _file_format(path))


def _kpi_columns(by: tuple[str, ...], validate: bool) -> tuple[str, ...]:
    """Columns the KPIs read: all KPI inputs when validating, else only those used."""
    if validate:
        return KPI_INPUT_COLUMNS
    used = {"channel", "received_at", "due_at", "resolved_at"} | (set(by) - {"month"})
    return tuple(c for c in KPI_INPUT_COLUMNS if c in used)


def _run(df_or_path, by, as_of, engine: str, validate: bool, pandas_fn, duck_fn):
    """Run one engine; returns (per-group rows, as_of in µs, attrs of the source)."""
    engine = choose_engine(df_or_path, engine)
    if engine == "pandas" or isinstance(df_or_path, pd.DataFrame):
        frame = _load(df_or_path, _kpi_columns(by, validate), KPI_INPUT_COLUMNS, validate=validate)
        if engine == "pandas":
            rows, as_of_us = pandas_fn(frame, by, _as_of_us(as_of))
        else:                                   # the frame is validated already
            rows, as_of_us = duck_fn(frame, by, as_of, False)
        return rows, as_of_us, dict(frame.attrs)
    rows, as_of_us = duck_fn(df_or_path, by, as_of, validate)
    return rows, as_of_us, _source_attrs(df_or_path)


def dossier_kpis(df_or_path, by=("level",), as_of=None, engine: str = "auto",
                 validate: bool = True) -> pd.DataFrame:
    """Dossier KPIs per group (see the module docstring for every rule).

    df_or_path: a frame from :func:`read_dossiers` (or any frame with the export's columns) or
    the path of a CSV/Parquet export. by: a tuple of keys from level, procedure_code, month
    (YYYY-MM of received_at) and channel; () gives one row for the whole file. as_of: reporting
    instant (str/datetime; naive = Vietnam local time). engine: "pandas" (vectorised numpy/Arrow),
    "duckdb" (SQL over the file, works beyond memory) or "auto" (see :func:`choose_engine`).
    validate=False skips the input checks (for files already validated).

    Returns one row per group with at least one dossier received, sorted by the keys, columns
    ``by + KPI_COLUMNS``: counts as int64, percentages 0–100 and processing days as float64 (NA
    where undefined), Arrow-backed; ``attrs`` has as_of, source_file and synthetic.
    """
    by = _normalise_by(by)
    stats, as_of_us, attrs = _run(df_or_path, by, as_of, engine, validate, _pandas_stats, _duck_stats)
    return _finish_kpis(stats, by, as_of_us, attrs)


def processing_time_distribution(df_or_path, by=(), bins=None, as_of=None, engine: str = "auto",
                                 validate: bool = True) -> pd.DataFrame:
    """Histogram of processing days of dossiers resolved by as_of, per group.

    bins: increasing day edges starting at 0 (default :data:`DEFAULT_BINS_DAYS`); bins are
    [edge_i, edge_i+1) and the last one is open-ended (days_to NA). Edges are compared at
    microsecond precision. Returns, for every group with a resolved dossier and every bin,
    ``by + (days_from, days_to, resolved, share)``: the count and the % of the group's resolved
    dossiers (bins without dossiers have count 0). Same engines and rules as :func:`dossier_kpis`.
    """
    by = _normalise_by(by)
    edges_us = _bins_us(bins)
    cells, as_of_us, attrs = _run(
        df_or_path, by, as_of, engine, validate,
        lambda frame, by_, as_of_us_: _pandas_histogram(frame, by_, as_of_us_, edges_us),
        lambda source, by_, as_of_, validate_: _duck_histogram(source, by_, as_of_, validate_, edges_us))
    return _finish_histogram(cells, by, edges_us, as_of_us, attrs)


def _finish_histogram(cells: pd.DataFrame, by: tuple[str, ...], edges_us: np.ndarray, as_of_us: int,
                      attrs: dict) -> pd.DataFrame:
    """Full grid (groups × bins) with counts and shares (the same code for both engines)."""
    keys = _key_frame(cells, by)
    groups = keys.drop_duplicates().sort_values(list(by)).reset_index(drop=True) if by \
        else pd.DataFrame(index=[0] if len(cells) else [])
    grid = groups.merge(pd.DataFrame({"bin": np.arange(len(edges_us))}), how="cross")
    cells = keys.assign(bin=cells["bin"].to_numpy(np.int64), count=cells["count"].to_numpy(np.int64))
    out = grid.merge(cells, on=list(by) + ["bin"], how="left") if len(grid) else grid.assign(count=[])
    counts = out["count"].fillna(0).to_numpy(np.int64)
    totals = out.groupby(list(by), sort=False)["count"].transform("sum").to_numpy(np.float64) if by \
        else np.full(len(out), counts.sum(), dtype=np.float64)
    days = edges_us / _DAY_US
    result = out[list(by)].copy()
    result["days_from"] = pd.Series(days[out["bin"].to_numpy(np.int64)], dtype=pd.ArrowDtype(pa.float64()))
    upper = np.append(days[1:], np.nan)[out["bin"].to_numpy(np.int64)]
    result["days_to"] = pd.Series(pa.array(upper, mask=np.isnan(upper)), dtype=pd.ArrowDtype(pa.float64()))
    result["resolved"] = pd.Series(counts, dtype=pd.ArrowDtype(pa.int64()))
    result["share"] = _pct(pd.Series(counts), pd.Series(totals))
    result.attrs.update(_result_attrs(attrs, as_of_us))
    return result.reset_index(drop=True)
