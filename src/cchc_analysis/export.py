"""Write the panel or a processed table as CSV, Parquet or Stata .dta (118, UTF-8), with its codebook.

* CSV (UTF-8) and Parquet: the frame as is, and ``<name>.codebook.csv`` beside it.
* Stata: version 118 (UTF-8, Vietnamese kept); variable labels from the codebook (≤ 80 characters);
  text columns with few distinct values (``_table``, ``_sample``) become integer codes with value
  labels, comparability groups get their years as value labels; names longer than Stata's 32
  characters are shortened (the codebook's ``stata_name`` says how). The codebook CSV goes beside it too.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from .atomic import atomic_path
from .errors import CchcError

FORMATS = ("csv", "parquet", "dta")
STATA_NAME_MAX = 32
CODED_SUFFIXES = ("_table", "_sample", "_complete")


class ExportError(CchcError, ValueError):
    """An export that cannot be written as asked."""


def stata_name(column: str) -> str:
    """A Stata variable name (≤ 32 characters): the column, or its first 26 characters + '_' + 5 hex of a hash."""
    if len(column) <= STATA_NAME_MAX:
        return column
    return column[:26] + "_" + hashlib.sha1(column.encode()).hexdigest()[:5]


def table_codebook(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Codebook of a processed table from its schema (column, name_en, label, source)."""
    from .panel_data import short_label
    from .schema import SCHEMAS

    s = SCHEMAS[name]
    rows = [{"column": c, "name_vi": "", "name_en": col.description or c, "unit": "", "scale": "",
             "source": f"data/processed/{name} (src/cchc_analysis/schema.py)", "methodology_notes": "",
             "label": short_label(col.description or c)} for c, col in s.columns.items() if c in df.columns]
    return pd.DataFrame(rows)


def export(table: str, fmt: str, out, indices=None, indicators="overall", units="provinces", method=None,
           include_partial=False) -> list[Path]:
    """Write `table` ('panel' or a processed table) to `out` in `fmt`; returns the files written."""
    from .data import TABLES, load
    from .panel_data import codebook, panel

    if fmt not in FORMATS:
        raise ExportError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if table == "panel":
        df = panel(indices=indices, indicators=indicators, units=units, include_partial=include_partial,
                   method=method)
        book = codebook(df)
        book_raw = df.attrs["codebook"]
    elif table in TABLES:
        df = load(table)
        book = table_codebook(table, df)
        book_raw = book.to_dict("records")
    else:
        raise ExportError(f"unknown table {table!r}; tables: panel, {', '.join(TABLES)}")
    return write(df, fmt, Path(out), book, book_raw)


def write(df: pd.DataFrame, fmt: str, out: Path, book: pd.DataFrame, book_raw: list[dict] | None = None) -> list[Path]:
    """Write `df` as `fmt` to `out` and its codebook as `<stem>.codebook.csv` beside it (atomically)."""
    out = Path(out)
    if out.is_dir():
        raise ExportError(f"--out {out} is a folder; name the file to write, e.g. {out / ('panel.' + fmt)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    book = book.copy()
    book.insert(1, "stata_name", book["column"].map(stata_name))
    with atomic_path(out) as tmp:
        if fmt == "csv":
            df.to_csv(tmp, index=False, lineterminator="\n", encoding="utf-8")
        elif fmt == "parquet":
            df.to_parquet(tmp, index=False, engine="pyarrow")
        else:
            to_stata(df, tmp, book, book_raw or [])
    side = out.with_name(out.stem + ".codebook.csv")
    with atomic_path(side) as tmp:
        book.to_csv(tmp, index=False, lineterminator="\n", encoding="utf-8")
    return [out, side]


def to_stata(df: pd.DataFrame, path, book: pd.DataFrame, book_raw: list[dict]) -> None:
    """Stata 118 file with variable labels and value labels (see the module docstring)."""
    labels = dict(zip(book["column"], book["label"]))
    groups = {r["column"]: r["value_labels"] for r in book_raw if r.get("value_labels")}
    d: dict[str, pd.Series] = {}
    value_labels: dict[str, dict[int, str]] = {}
    for c in df.columns:
        s = df[c]
        coded = c.endswith(CODED_SUFFIXES) and s.nunique(dropna=True) <= 50
        if coded and not pd.api.types.is_bool_dtype(s):
            cats = sorted(s.dropna().astype(str).unique())
            codes = {v: i + 1 for i, v in enumerate(cats)}
            d[c] = s.astype("object").map(lambda v: codes.get(str(v)) if pd.notna(v) else None).astype("Int64")
            value_labels[c] = {i: v[:32000] for v, i in codes.items()}
        elif pd.api.types.is_bool_dtype(s):
            d[c] = s.astype("Int64") if s.isna().any() else s.astype("int8")
        elif pd.api.types.is_string_dtype(s) or s.dtype == object:
            d[c] = s.astype("object").where(s.notna(), "").astype(str)
        elif isinstance(s.dtype, pd.Int64Dtype) or str(s.dtype) in ("Int8", "Int16", "Int32"):
            d[c] = s.astype("float64") if s.isna().any() else s.astype("int32")
        else:
            d[c] = s
        if c in groups:
            value_labels[c] = {int(k): str(v) for k, v in groups[c].items()}
    for c in list(d):
        if isinstance(d[c].dtype, pd.Int64Dtype):
            d[c] = d[c].astype("float64")  # NA → Stata missing
    names = {c: stata_name(c) for c in d}
    if len(set(names.values())) != len(names):
        raise ExportError("two columns have the same shortened Stata name; export fewer indicators")
    d = pd.DataFrame(d).rename(columns=names)
    strl = [names[c] for c in df.columns if d[names[c]].dtype == object
            and d[names[c]].map(lambda v: len(v.encode("utf-8"))).max(initial=0) > 2045]
    from .panel_data import short_label
    var_labels = {names[c]: short_label(labels.get(c, c)) for c in df.columns}
    vlabels = {names[c]: v for c, v in value_labels.items()}
    d.to_stata(path, write_index=False, version=118, variable_labels=var_labels, value_labels=vlabels or None,
               convert_strl=strl)


DOWNLOADS = [("panel.csv", "csv"), ("panel.parquet", "parquet"), ("panel.dta", "dta")]


def site_downloads(out_dir: Path) -> list[Path]:
    """The default panel (headline scores, full years) as CSV, Parquet and Stata in `out_dir/downloads/`,
    with its codebook; rewritten only when the processed data changed (stamp beside them)."""
    import json

    from . import paths
    from .panel_data import codebook, panel

    folder = Path(out_dir) / "downloads"
    stamp_src = paths.PROCESSED / ".build.json"
    key = stamp_src.read_text() if stamp_src.exists() else ""
    stamp = folder / ".stamp.json"
    files = [folder / n for n, _ in DOWNLOADS] + [folder / "panel.codebook.csv"]
    if stamp.exists() and all(f.exists() for f in files) and json.loads(stamp.read_text()).get("data") == key:
        return files
    df = panel()
    book = codebook(df)
    for name, fmt in DOWNLOADS:
        write(df, fmt, folder / name, book, df.attrs["codebook"])
    with atomic_path(stamp) as tmp:
        tmp.write_text(json.dumps({"data": key}))
    return files
