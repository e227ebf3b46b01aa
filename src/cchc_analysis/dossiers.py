"""Dossier-level KPIs of administrative procedures (hồ sơ TTHC) from a province's dossier export.

Export schema
-------------
A province's export is one CSV (UTF-8, comma-separated, header line, optionally ``.gz``) or
Parquet file with one row per dossier and at least these columns (exact names; extra columns
are ignored). A pandas DataFrame or a pyarrow Table with the same columns is accepted too.

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
status          text or empty (read, never interpreted: KPIs use resolved_at; not needed for KPIs)
==============  =====================================================================

Timestamps are local time in Vietnam. In CSV they are ISO 8601 without offset:
``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM``, ``YYYY-MM-DD HH:MM:SS[.ffffff]`` ("T" may replace
the space; a bare date means 00:00). In Parquet and frames they are timestamp or date columns (or
text as in CSV); time-zone-aware timestamps are converted to Asia/Ho_Chi_Minh wall-clock time.
Text columns may hold integers (cast exactly), never floats (1.000100 would come back as 1.0001).
An empty text value counts as missing. Rows are numbered as a spreadsheet shows them: in CSV the
header is row 1 and the first dossier row 2; in Parquet and Arrow tables the first dossier is row 1;
in a DataFrame with an integer index, the label + ``attrs["row_offset"]`` (default 1).

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
* resolution_rate and online_share are % of received; ahead/on_time/late_share are % of
  resolved. Percentages are 0–100, never rounded; a share of an empty set is missing (NA).

Engine
------
DuckDB is the one engine: a file is queried in place (``read_parquet``/``read_csv``), a DataFrame or
Arrow table is registered with DuckDB, and all of them go through the same SQL checks
(:data:`_CHECKS`) and the same KPI SQL. First DuckDB settles what it can without a per-row cost: from
Parquet statistics and dictionaries, without reading rows, the default as_of, labels already canonical
and checks no value can fail (e.g. none missing); from other sources in one scan, the first two. Then one
grouped scan computes the KPIs and counts the rows failing any check still open; beside it (on a second
connection) a streaming pass over dossier_id proves the ids unique when they are strictly increasing
or decreasing in scan order (otherwise distinct 64-bit hashes are counted, and only a failing check is
located exactly, row by row). It works when the data do not fit in memory (DuckDB spills to a
temporary folder; set :data:`DUCKDB_SETTINGS` e.g. ``{"memory_limit": "2GB"}``; the quantiles still
keep 8 bytes per resolved dossier of a group). ``engine=`` is kept for compatibility: "auto" and
"duckdb" are the same, "pandas" runs DuckDB with a DeprecationWarning.
"""
from __future__ import annotations

import math
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from cchc_analysis.errors import SourceError
from cchc_analysis.paths import raw_relpath
from cchc_analysis.text import SQL_ACCENT_KEY

# ----------------------------------------------------------------------------- schema
COLUMNS = ("dossier_id", "procedure_code", "level", "channel", "received_at", "due_at",
           "resolved_at", "status")
TEXT_COLUMNS = ("dossier_id", "procedure_code", "level", "channel", "status")
TIME_COLUMNS = ("received_at", "due_at", "resolved_at")
KPI_INPUT_COLUMNS = tuple(c for c in COLUMNS if c != "status")
LEVELS = ("huyen", "tinh", "xa")
CHANNELS = ("direct", "online", "postal")
GROUP_KEYS = ("level", "procedure_code", "month", "channel")
KPI_COLUMNS = ("received", "resolved", "resolution_rate", "ahead", "on_time", "late", "ahead_share",
               "on_time_share", "late_share", "online", "online_share", "overdue_backlog",
               "median_processing_days", "p90_processing_days")

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
DUCKDB_SETTINGS: dict[str, str] = {}   # extra DuckDB settings, e.g. {"memory_limit": "2GB"}
_DAY_US = 86_400_000_000
_ROW = "__cchc_row"                     # row-number column added to registered frames

_EXPECT = {
    "missing": "a value is required",
    "duplicated": "dossier_id must be unique in the file",
    "unknown level": "expected tinh, huyen or xa (tỉnh, huyện, xã)",
    "unknown channel": "expected online, direct or postal (trực tuyến, trực tiếp, bưu chính)",
    "not a timestamp": "expected an ISO 8601 local time such as 2024-03-05 08:30:00",
    "before received_at": "must not be earlier than received_at",
}


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
                     f"({_EXPECT.get(f.check, 'see the dossiers module docstring')})")
    first = failures[0]
    raise SourceError(file, f"{len(failures)} failing check(s) in the dossier export: "
                      + "; ".join(parts), row=first.first_row, column=first.column)


# ----------------------------------------------------------------------------- sources
def _file_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith(".csv.gz"):
        return "csv.gz"
    if name.endswith(".csv"):
        return "csv"
    raise SourceError(raw_relpath(path), "unknown dossier export format: expected .csv, .csv.gz or .parquet")


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_case(expr: str, aliases: dict[str, str]) -> str:
    """SQL mapping accepted spellings to canonical labels (NULL when unknown)."""
    canonical = ", ".join(_sql_str(v) for v in sorted(set(aliases.values())))
    whens = " ".join(f"WHEN {_sql_str(k)} THEN {_sql_str(v)}" for k, v in sorted(aliases.items()))
    return f"CASE WHEN {expr} IN ({canonical}) THEN {expr} ELSE (CASE {SQL_ACCENT_KEY.format(expr)} {whens} END) END"


def _sql_time(col: str, duck_type: str) -> tuple[str, str]:
    """(timestamp expression, 'unparseable text' condition) for a column of the given DuckDB type."""
    q = f'"{col}"'
    if duck_type == "VARCHAR":
        text = f"nullif({q}, '')"
        parsed = (f"CASE WHEN regexp_full_match({text}, {_sql_str(ISO_TIMESTAMP_RE)}) "
                  f"THEN TRY_CAST({text} AS TIMESTAMP) END")
        return parsed, f"({text} IS NOT NULL AND ({parsed}) IS NULL)"
    if duck_type.startswith(("TIMESTAMP", "DATE")):
        return f"CAST({q} AS TIMESTAMP)", "false"
    raise TypeError(f"type {duck_type}, expected a timestamp, a date or ISO 8601 text")


# DuckDB types read as text: text and integers (cast exactly), not floats
_SQL_TEXT_TYPES = {"VARCHAR", '"NULL"', "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
                   "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}


class _Source:
    """One export (file path, DataFrame or Arrow table) in its own DuckDB connection: the SQL of
    its normalised rows, spreadsheet row numbers and attrs (source_file, row_offset, synthetic)."""

    def __init__(self, source, required: tuple[str, ...], columns: tuple[str, ...] | None = None,
                 ordered: bool = False, threads: int | None = None):
        config = {"preserve_insertion_order": "true" if ordered else "false",
                  "temp_directory": str(Path(tempfile.gettempdir()) / "cchc_duckdb")}
        config.update(DUCKDB_SETTINGS)
        if threads:
            config["threads"] = threads
        self.con = duckdb.connect(config=config)
        self.con.execute(f"SET TimeZone = {_sql_str(LOCAL_TZ)}")   # for TIMESTAMPTZ -> local time
        self.source, self.required, self.columns = source, required, columns or required
        if isinstance(source, (pd.DataFrame, pa.Table)):
            self._register(source)
        else:
            path = Path(source)
            self.path, self.file, self.fmt = path, raw_relpath(path), _file_format(path)
            self.attrs = {"source_file": self.file, "row_offset": 1 if self.fmt == "parquet" else 2,
                          "synthetic": False}
            if self.fmt == "parquet":
                self.reader = f"read_parquet({_sql_str(str(path))}, file_row_number = true)"
                self.row_expr = "file_row_number + 1"
            else:
                self.reader = (f"read_csv({_sql_str(str(path))}, header = true, delim = ',', quote = '\"', "
                               f"escape = '\"', all_varchar = true)")
                self.row_expr = "NULL"
        self.types = {name: kind for name, kind in self._fetch(f"DESCRIBE SELECT * FROM {self.reader}")[:, :2]}
        present = [c for c in self.types if c not in (_ROW, "file_row_number")]
        missing = [c for c in required if c not in present]
        if missing:
            raise SourceError(self.file, f"missing column(s) {', '.join(missing)}; the export must have "
                              f"columns {', '.join(COLUMNS)} (found: {', '.join(present)})",
                              row=1 if self.fmt.startswith("csv") else None, column=missing[0])
        if self.fmt != "frame":
            self._mark_synthetic()
        self.as_written, self.proven, self.latest = set(), set(), None

    def _register(self, source) -> None:
        """Register the export's columns (and spreadsheet row numbers) as an Arrow table."""
        from cchc_analysis.synthetic import LABEL, METADATA_SYNTHETIC_KEY
        frame = isinstance(source, pd.DataFrame)
        attrs = dict(source.attrs) if frame else {}
        self.file, self.fmt = str(attrs.get("source_file", "<DataFrame>" if frame else "<Arrow table>")), "frame"
        offset = int(attrs.get("row_offset", 1))
        self.attrs = {"source_file": self.file, "row_offset": offset, "synthetic": bool(attrs.get("synthetic"))}
        names = [c for c in (source.columns if frame else source.column_names) if c in COLUMNS]
        if frame:
            index = source.index
            rows = (np.asarray(index, dtype=np.int64) + offset if pd.api.types.is_integer_dtype(index.dtype)
                    else np.arange(1, len(source) + 1, dtype=np.int64))
            arrays = {}
            for c in names:
                try:
                    arrays[c] = pa.Table.from_pandas(source[[c]], preserve_index=False).column(0)
                except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
                    raise SourceError(self.file, f"column cannot be read: {exc}", column=c) from exc
            table = pa.table({**arrays, _ROW: rows})
        else:
            table = source.select(names).append_column(_ROW, pa.array(np.arange(1, source.num_rows + 1)))
            self.attrs["synthetic"] = (source.schema.metadata or {}).get(METADATA_SYNTHETIC_KEY) == b"true"
        if self.attrs["synthetic"]:
            self.attrs["source"] = attrs.get("source", LABEL)
        self.table = table
        self.con.register("dossiers_frame", table)
        self.reader, self.row_expr = "dossiers_frame", _ROW

    def _mark_synthetic(self) -> None:
        """Files made by cchc_analysis.synthetic: Parquet metadata, or the label in a CSV source column."""
        from cchc_analysis.synthetic import LABEL, METADATA_SYNTHETIC_KEY
        if self.fmt == "parquet":
            flag = self._fetch(f"SELECT value FROM parquet_kv_metadata({_sql_str(str(self.path))}) "
                               f"WHERE key = encode({_sql_str(METADATA_SYNTHETIC_KEY.decode())})")
            self.attrs["synthetic"] = b"true" in flag.ravel().tolist()
        elif "source" in self.types:
            label = _sql_str(LABEL)
            self.attrs["synthetic"] = bool(self._fetch(f"SELECT bool_or(source = {label}) FROM {self.reader}")[0, 0])
        if self.attrs["synthetic"]:
            self.attrs["source"] = LABEL

    def facts(self, latest: bool = False) -> None:
        """Settle before the checked scan what would cost it per row: the label columns holding canonical
        labels only (read as written, with no per-row mapping), the checks no row can fail (left out of the
        checked scan, which then need not read e.g. procedure_code: timestamps typed as such, labels as written
        and, in Parquet, no value missing) and, when asked, the latest received_at/resolved_at in µs (the
        default as_of). From Parquet, DuckDB answers each count and max from row-group statistics and
        dictionaries without reading rows (it reads a file that has none); other sources take one scan."""
        canonical = {"level": LEVELS, "channel": CHANNELS}
        conds = {c: f'"{c}" NOT IN ({", ".join(map(_sql_str, canonical[c]))})'
                 for c in _ALIASES if c in self.columns and self.types.get(c) == "VARCHAR"}
        missing = [c for c, check, _, _ in _CHECKS if check == "missing" and c in self.columns]
        if self.fmt == "parquet" and all(self.types[c] in _SQL_TEXT_TYPES
                                         or self.types[c].startswith(("TIMESTAMP", "DATE")) for c in missing):
            conds["missing"] = " OR ".join(f'"{c}" IS NULL' + (f' OR "{c}" = \'\'' if self.types[c] == "VARCHAR"
                                                               else "") for c in missing)
        times = "SELECT " + ", ".join(f"{self._time(c)[0]} AS {c}" for c in ("received_at", "resolved_at"))
        if self.fmt == "parquet":     # one query each, for DuckDB to answer from the metadata
            facts = [f"(SELECT count(*) FROM {self.reader} WHERE {cond})" for cond in conds.values()]
            facts += [f"(SELECT {_LATEST} FROM ({times} FROM {self.reader}))"] if latest else []
            sql = f"SELECT {', '.join(facts)}"
        else:
            facts = [_count_if(cond) for cond in conds.values()] + ([_LATEST] if latest else [])
            labels = "".join(f', "{c}"' for c in conds)
            sql = f"SELECT {', '.join(facts)} FROM ({times}{labels} FROM {self.reader})"
        found = self._fetch(sql)[0] if facts else []
        settled = {key for key, n in zip(conds, found) if n == 0}
        self.as_written = settled - {"missing"}
        self.proven = {(c, f"unknown {c}") for c in self.as_written} | {(c, "missing") for c in missing
                                                                        if "missing" in settled}
        self.proven |= {(c, "not a timestamp") for c in TIME_COLUMNS
                        if c in self.columns and self._time(c)[1] == "false"}
        self.latest = int(found[-1]) if latest and found[-1] is not None else None

    def _time(self, c: str) -> tuple[str, str]:
        try:
            return _sql_time(c, self.types[c])
        except TypeError as exc:
            raise SourceError(self.file, f"column cannot be read: {exc}", column=c) from exc

    def scan(self, columns: tuple[str, ...], row_expr: str | None = None) -> str:
        """SELECT of normalised `columns` (+ raw text and parse flags for the checks) and _row."""
        items = [f"{row_expr or self.row_expr} AS _row"]
        for c in columns:
            kind = self.types[c]
            if c in TIME_COLUMNS:
                expr, bad = self._time(c)
                items += [f"{expr} AS {c}", f"{bad} AS {c}__bad", f'CAST("{c}" AS VARCHAR) AS {c}__raw']
                continue
            if not (kind in _SQL_TEXT_TYPES or kind.startswith("ENUM")):
                raise SourceError(self.file, f"column cannot be read: type {kind}, expected text "
                                  "(read text columns as strings, e.g. dtype=str)", column=c)
            text = f'nullif(CAST("{c}" AS VARCHAR), \'\')'
            if c in self.as_written:
                items += [f'"{c}" AS {c}', f'"{c}" AS {c}__raw']
            elif c in _ALIASES:
                items += [f"{_sql_case(text, _ALIASES[c])} AS {c}", f"{text} AS {c}__raw"]
            else:
                items += [f"{text} AS {c}", f'"{c}" AS {c}__raw']
        return f"SELECT {', '.join(items)} FROM {self.reader}"

    def _run(self, sql: str, con=None):
        try:
            return (con or self.con).sql(sql)
        except duckdb.Error as exc:
            raise SourceError(self.file, f"cannot read the export: {_first_line(exc)}") from None

    def _fetch(self, sql: str, con=None) -> np.ndarray:
        """Rows of a small result as an object array."""
        try:
            return np.array(self._run(sql, con).fetchall(), dtype=object)
        except duckdb.Error as exc:
            raise SourceError(self.file, f"cannot read the export: {_first_line(exc)}") from None

    def fetch_beside(self, sql: str, side: str) -> tuple[np.ndarray, np.ndarray]:
        """Rows of `sql` and of `side`, run at the same time on two connections to the one database: DuckDB
        runs a single-threaded streaming window (the id pass) before or after the rest of one query, not beside."""
        con = self.con.cursor()
        con.execute(f"SET TimeZone = {_sql_str(LOCAL_TZ)}")
        if self.fmt == "frame":
            con.register("dossiers_frame", self.table)
        try:
            with ThreadPoolExecutor(1) as pool:      # leaving waits for `side`, also when `sql` fails
                beside = pool.submit(self._fetch, side, con)
                return self._fetch(sql), beside.result()
        finally:
            con.close()

    def frame(self, sql: str) -> pd.DataFrame:
        """A query's result as an Arrow-backed DataFrame."""
        try:
            return self._run(sql).to_arrow_table().to_pandas(types_mapper=pd.ArrowDtype)
        except duckdb.Error as exc:
            raise SourceError(self.file, f"cannot read the export: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    """DuckDB's message without its hints and context lines."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# ----------------------------------------------------------------------------- checks
_CHECKS = [   # (column, check, failing condition, value shown): every validation rule, once
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
_LATEST = "epoch_us(greatest(max(received_at), max(resolved_at)))"   # greatest skips NULL


def _order_sql(src: _Source) -> str:
    """The id pass (one streaming pass over dossier_id): rows failing an unproven id check, and counts of ids
    not above / not below the previous id in scan order (compared as read: with no id missing, distinct values
    as read are distinct ids)."""
    step = ("CASE WHEN dossier_id__raw > _prev THEN 1 WHEN dossier_id__raw < _prev THEN -1 "
            "WHEN _prev IS NOT NULL THEN 0 END")
    return (f"SELECT {_any_check(src, True)} AS _bad_id, {_count_if('_step <= 0')} AS _up, "
            f"{_count_if('_step >= 0')} AS _down FROM (SELECT *, {step} AS _step FROM (SELECT *, "
            f"lag(dossier_id__raw) OVER () AS _prev FROM ({src.scan(('dossier_id',))})))")


def _ids_distinct(src: _Source, steps) -> bool:
    """True when no dossier_id occurs twice: ids strictly increasing or decreasing in scan order (steps from
    _order_sql: one of them 0) prove it; otherwise as many distinct 64-bit hashes as ids do. False may be a
    hash collision: the exact check in _failures decides."""
    if min(steps) == 0:
        return True
    ids = src.scan(("dossier_id",))
    return bool(src._fetch(f"SELECT count(dossier_id) = count(DISTINCT hash(dossier_id)) FROM ({ids})")[0, 0])


def _failures(src: _Source, row_expr: str | None = None) -> list[Failure]:
    """Every failing check with its row count, first row and first value (error path)."""
    scan = src.scan(src.columns, row_expr)
    aggs = []
    for i, (_, _, cond, value) in enumerate(_CHECKS):
        aggs += [f"count(*) FILTER (WHERE {cond})", f"min(_row) FILTER (WHERE {cond})",
                 f"arg_min({value}, _row) FILTER (WHERE {cond})"]
    row = src._fetch(f"SELECT {', '.join(aggs)} FROM ({scan})")[0]
    dup = src._fetch(f"SELECT sum(n), min(r), arg_min(dossier_id, r) FROM (SELECT dossier_id, count(*) AS n, "
                     f"min(_row) AS r FROM ({scan}) WHERE dossier_id IS NOT NULL GROUP BY dossier_id "
                     f"HAVING count(*) > 1)")[0]
    found = [(column, check, *row[3 * i:3 * i + 3]) for i, (column, check, _, _) in enumerate(_CHECKS)]
    found.append(("dossier_id", "duplicated", *dup))
    return [Failure(column, check, int(n), None if r is None else int(r), None if v is None else str(v))
            for column, check, n, r, v in found if n]


def _check_or_raise(src: _Source, bad, bad_id, up, down) -> None:
    """Raise the SourceError of every failing check, given the number of rows failing any of _CHECKS and the
    id order steps. Rows are located only when a check fails (CSV in a second, single-threaded pass that
    numbers rows in file order)."""
    if not bad and not bad_id and _ids_distinct(src, (up or 0, down or 0)):
        return
    if src.fmt.startswith("csv"):
        located = _Source(src.source, src.required, src.columns, ordered=True, threads=1)
        _raise_failures(src.file, _failures(located, "row_number() OVER () + 1"))
    _raise_failures(src.file, _failures(src))


def _any_check(src: _Source, ids: bool) -> str:
    """Count of rows failing any check on dossier_id (ids=True: the id pass) or on the other columns, leaving
    out the checks src.facts() proved."""
    conds = [f"({cond})" for column, check, cond, _ in _CHECKS
             if (column == "dossier_id") == ids and (column, check) not in src.proven]
    return _count_if(" OR ".join(conds)) if conds else "0"


def _count_if(cond: str) -> str:
    """Number of rows where cond is true, as BIGINT (count_if aggregates faster than count(*) FILTER, but is a
    HUGEINT sum that is NULL over no row)."""
    return f"CAST(coalesce(count_if({cond}), 0) AS BIGINT)"


# ----------------------------------------------------------------------------- KPI SQL
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


def _check_engine(engine: str) -> None:
    if engine == "pandas":
        warnings.warn("engine='pandas' is deprecated: DuckDB is the only dossier engine (same values)",
                      DeprecationWarning, stacklevel=3)
    elif engine not in ("auto", "duckdb"):
        raise ValueError(f"engine must be 'auto' or 'duckdb', got {engine!r}")


_PT = "(epoch_us(_res) - epoch_us(received_at))"          # processing time in µs of a resolved dossier
_RES_DAY, _DUE_DAY = "CAST(_res AS DATE)", "CAST(due_at AS DATE)"


def _aggregate(df_or_path, by: tuple[str, ...], as_of, validate: bool, engine: str, cells: str,
               aggregates: list[str]) -> tuple[_Source, int | None]:
    """ONE scan of the source (after src.facts(), with the id pass beside it): per (by keys [+ cells]) group
    the `aggregates` over the rows received up to as_of and, when validating, the count of every check not
    proved beforehand over all rows, into the temporary table ``agg``; then raise if a check fails. Returns
    the source and as_of in µs (None: no data)."""
    _check_engine(engine)
    used = {"channel", "received_at", "due_at", "resolved_at"} | (set(by) - {"month"})
    src = _Source(df_or_path, KPI_INPUT_COLUMNS, tuple(c for c in KPI_INPUT_COLUMNS if validate or c in used))
    as_of_us = _as_of_us(as_of)
    src.facts(latest=as_of_us is None or src.fmt == "parquet")     # free from Parquet statistics
    as_of_us = src.latest if as_of_us is None else as_of_us       # default: the latest timestamp in the file
    scan = src.scan(src.columns)
    limit = "NULL::TIMESTAMP" if as_of_us is None else \
        f"TIMESTAMP '{pd.Timestamp(as_of_us, unit='us').isoformat(sep=' ')}'"
    key_sql = {"level": "level", "channel": "channel", "procedure_code": "procedure_code",
               "month": "strftime(received_at, '%Y-%m')"}
    keys = [f"{key_sql[k]} AS {k}" for k in by] + ([f"{cells} AS bin"] if cells else [])
    # received and resolved by as_of; when no timestamp in the file is after as_of, that is "received_at not
    # NULL" (which DuckDB drops when Parquet statistics show no NULL)
    everything = src.latest is not None and as_of_us >= src.latest
    received = "received_at IS NOT NULL" if everything else f"received_at <= {limit}"
    resolved = received + ("" if everything else f" AND resolved_at <= {limit}")
    window = (f"SELECT *, {received} AS _in, CASE WHEN {resolved} THEN resolved_at END AS _res, "
              f"CAST({limit} AS DATE) AS _as_of_day FROM ({scan})")
    group = f" GROUP BY {', '.join(list(by) + (['bin'] if cells else []))}" if keys else ""
    checks = [f"{_any_check(src, False)} AS _bad"] if validate else []
    grouped = f"SELECT {', '.join(keys + aggregates + checks)} FROM ({window}){group}"
    create = f"CREATE TEMP TABLE agg AS {grouped}"
    if validate:
        ids = src.fetch_beside(create, _order_sql(src))[1]
        _check_or_raise(src, src._fetch("SELECT sum(_bad) FROM agg")[0, 0], *ids[0])
    else:
        src._fetch(create)
    return src, as_of_us


def _pct(num: str, den: str) -> str:
    return f"100 * CAST({num} AS DOUBLE) / nullif({den}, 0)"


def _days(us: str) -> str:
    return f"CAST({us} AS DOUBLE) / {_DAY_US}"


def _result(src: _Source, sql: str, as_of_us: int | None) -> pd.DataFrame:
    out = src.frame(sql)
    out.attrs.update({k: src.attrs[k] for k in ("source_file", "synthetic", "source") if k in src.attrs})
    out.attrs["as_of"] = None if as_of_us is None else pd.Timestamp(as_of_us, unit="us")
    return out


def dossier_kpis(df_or_path, by=("level",), as_of=None, engine: str = "auto",
                 validate: bool = True) -> pd.DataFrame:
    """Dossier KPIs per group (see the module docstring for every rule).

    df_or_path: the path of a CSV/Parquet export, or a DataFrame / Arrow table with the export's
    columns (e.g. from :func:`read_dossiers`). by: a tuple of keys from level, procedure_code, month
    (YYYY-MM of received_at) and channel; () gives one row for the whole file. as_of: reporting
    instant (str/datetime; naive = Vietnam local time). engine: kept for compatibility (DuckDB
    always). validate=False skips the input checks (for files already validated).

    Returns one row per group with at least one dossier received, sorted by the keys, columns
    ``by + KPI_COLUMNS``: counts as int64, percentages 0–100 and processing days as float64 (NA
    where undefined), Arrow-backed; ``attrs`` has as_of, source_file and synthetic.
    """
    by = _normalise_by(by)
    counts = {"received": "_in", "ahead": f"{_RES_DAY} < {_DUE_DAY}", "on_time": f"{_RES_DAY} = {_DUE_DAY}",
              "late": f"{_RES_DAY} > {_DUE_DAY}", "online": "_in AND channel = 'online'",
              "overdue_backlog": f"_in AND _res IS NULL AND {_DUE_DAY} < _as_of_day"}
    counts = [f"{_count_if(cond)} AS {name}" for name, cond in counts.items()] + [
        "count(_res) AS resolved", f"quantile_disc({_PT}, {list(QUANTILES.values())}) AS _q"]
    src, as_of_us = _aggregate(df_or_path, by, as_of, validate, engine, "", counts)
    shares = {"resolution_rate": _pct("resolved", "received"), "ahead_share": _pct("ahead", "resolved"),
              "on_time_share": _pct("on_time", "resolved"), "late_share": _pct("late", "resolved"),
              "online_share": _pct("online", "received")}
    shares.update({f"{name}_processing_days": _days(f"_q[{i + 1}]") for i, name in enumerate(QUANTILES)})
    select = list(by) + [f"{shares[c]} AS {c}" if c in shares else c for c in KPI_COLUMNS]
    where = f" WHERE received > 0 ORDER BY {', '.join(by)}" if by else ""
    return _result(src, f"SELECT {', '.join(select)} FROM agg{where}", as_of_us)


def _bins_us(bins) -> np.ndarray:
    edges = np.asarray(DEFAULT_BINS_DAYS if bins is None else bins, dtype=float)
    if edges.ndim != 1 or edges.size < 1 or edges[0] != 0 or np.any(np.diff(edges) <= 0):
        raise ValueError("bins must be increasing day edges starting at 0")
    return np.round(edges * _DAY_US).astype(np.int64)


def processing_time_distribution(df_or_path, by=(), bins=None, as_of=None, engine: str = "auto",
                                 validate: bool = True) -> pd.DataFrame:
    """Histogram of processing days of dossiers resolved by as_of, per group.

    bins: increasing day edges starting at 0 (default :data:`DEFAULT_BINS_DAYS`); bins are
    [edge_i, edge_i+1) and the last one is open-ended (days_to NA). Edges are compared at
    microsecond precision. Returns, for every group with a resolved dossier and every bin,
    ``by + (days_from, days_to, resolved, share)``: the count and the % of the group's resolved
    dossiers (bins without dossiers have count 0). Same sources and rules as :func:`dossier_kpis`.
    """
    by, edges = _normalise_by(by), _bins_us(bins)
    bin_sql = " + ".join(f"CAST({_PT} >= {e} AS INTEGER)" for e in edges) + " - 1"
    src, as_of_us = _aggregate(df_or_path, by, as_of, validate, engine, bin_sql, ["count(_res) AS n"])
    keys = list(by) or ["_all"]
    bounds = ", ".join(f"({i}, {e}, {edges[i + 1] if i + 1 < len(edges) else 'NULL'})" for i, e in enumerate(edges))
    share = _pct("coalesce(n, 0)", f"sum(coalesce(n, 0)) OVER (PARTITION BY {', '.join(keys)})")
    sql = (f"WITH c AS (SELECT *, true AS _all FROM agg WHERE n > 0), g AS (SELECT DISTINCT {', '.join(keys)} FROM c),"
           f" b(bin, lo, hi) AS (VALUES {bounds}) SELECT {''.join(k + ', ' for k in by)}{_days('lo')} AS days_from, "
           f"{_days('hi')} AS days_to, coalesce(n, 0) AS resolved, {share} AS share "
           f"FROM g CROSS JOIN b LEFT JOIN c USING ({', '.join(keys)}, bin) ORDER BY {', '.join(keys)}, bin")
    return _result(src, sql, as_of_us)


def read_dossiers(source) -> pd.DataFrame:
    """Read, normalise and validate a dossier export (CSV or Parquet path, DataFrame or Arrow table).

    Returns the columns of :data:`COLUMNS` with Arrow-backed dtypes (string[pyarrow],
    timestamp[us][pyarrow]), labels mapped to tinh/huyen/xa and online/direct/postal, rows in file
    order with a RangeIndex; ``attrs`` holds source_file, row_offset (spreadsheet row of the first
    dossier) and synthetic (True for files made by :mod:`cchc_analysis.synthetic`, then also
    ``source``). Raises SourceError on bad input.
    """
    src = _Source(source, COLUMNS, ordered=True)
    src.facts()
    rows, ids = src.fetch_beside(f"SELECT {_any_check(src, False)} FROM ({src.scan(COLUMNS)})", _order_sql(src))
    _check_or_raise(src, rows[0, 0], *ids[0])
    out = src.frame(f"SELECT {', '.join(COLUMNS)} FROM ({src.scan(COLUMNS)})")
    out.attrs.update(src.attrs)
    return out
