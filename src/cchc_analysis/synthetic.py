"""Synthetic dossier exports for tests and benchmarks — NOT real data.

The generator imitates the shape of a province's dossier (hồ sơ TTHC) export as described in
:mod:`cchc_analysis.dossiers`; none of its numbers describe any real province. Every frame it
returns carries ``attrs["synthetic"] = True`` and a ``source`` column holding :data:`LABEL`;
:func:`write_synthetic` writes Parquet whose key-value metadata holds the same label
(the constant ``source`` column is left out of the file: the label is in the file's metadata).

Model (all vectorised with numpy; 10 million rows take a few seconds):

* procedures: 1000 provincial-, 250 district- and 120 commune-level procedure codes shaped like
  national database codes ("1.00xxxx"/"2.00xxxx", drawn at random); popularity within a level is Zipf-like
  (weight ∝ 1/rank^1.1); each procedure has a legal deadline of 3, 5, 7, 10, 12, 15 or 20 working days;
* level of a dossier: tinh 60 %, huyen 25 %, xa 15 %;
* channel (online/direct/postal): 55/38/7 % at tinh, 40/55/5 % at huyen, 25/73/2 % at xa;
* received_at: a uniformly drawn working day of ``year`` (Mon–Fri, without 1 Jan, 30 Apr,
  1 May and 2 Sep; Tết is not modelled), time between 07:30 and 17:00; rows are in received order;
* due_at: the deadline's number of working days later, same time of day;
* outcome: dossiers due after 31 December are unresolved with probability 0.6, others with 0.02;
  resolved ones are ahead (78 %: a working day before the due day), on time (14 %: on the due day)
  or late (8 %: 1–30 working days after the due day).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

LABEL = "SYNTHETIC – generated for tests and benchmarks, not real data"
METADATA_SYNTHETIC_KEY = b"cchc_analysis.synthetic"
METADATA_SOURCE_KEY = b"cchc_analysis.source"

_US_PER_S = 1_000_000
_OPEN_S, _CLOSE_S = 7 * 3600 + 1800, 17 * 3600          # office hours 07:30–17:00
_LEVELS = np.array(["tinh", "huyen", "xa"])
_LEVEL_P = [0.60, 0.25, 0.15]
_PROCEDURES_PER_LEVEL = [1000, 250, 120]
_CHANNELS = np.array(["online", "direct", "postal"])
_CHANNEL_P = np.array([[0.55, 0.38, 0.07], [0.40, 0.55, 0.05], [0.25, 0.73, 0.02]])
_DEADLINES = np.array([3, 5, 7, 10, 12, 15, 20])
_DEADLINE_P = [0.10, 0.20, 0.20, 0.20, 0.10, 0.15, 0.05]
_STATUSES = np.array(["Đã trả kết quả", "Đang xử lý"])


def _working_days(year: int) -> np.ndarray:
    """Working days (datetime64[D]) from 1 Jan of `year` to the end of `year` + 1."""
    holidays = [f"{y}-{md}" for y in (year, year + 1) for md in ("01-01", "04-30", "05-01", "09-02")]
    days = np.arange(f"{year}-01-01", f"{year + 2}-01-01", dtype="datetime64[D]")
    return days[np.is_busday(days, holidays=holidays)]


def _procedure_pool(rng: np.random.Generator) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Per level: procedure codes, their Zipf-like popularity and their deadlines (working days)."""
    total = sum(_PROCEDURES_PER_LEVEL)
    numbers = rng.choice(10_000, size=total, replace=False)
    prefixes = rng.choice(np.array(["1.00", "2.00"]), size=total, p=[0.7, 0.3])
    codes = np.char.add(prefixes.astype(str), np.char.zfill(numbers.astype(str), 4))
    deadlines = rng.choice(_DEADLINES, size=total, p=_DEADLINE_P)
    out_codes, out_p, out_deadlines, start = [], [], [], 0
    for size in _PROCEDURES_PER_LEVEL:
        weights = 1.0 / np.arange(1, size + 1) ** 1.1
        out_codes.append(codes[start:start + size])
        out_p.append(weights / weights.sum())
        out_deadlines.append(deadlines[start:start + size])
        start += size
    return out_codes, out_p, out_deadlines


def _sequential_ids(prefix: str, n: int) -> pa.ChunkedArray:
    """Strings prefix + 9-digit row number, built as Arrow buffers (no Python objects per row)."""
    head = np.frombuffer(prefix.encode("utf-8"), dtype=np.uint8)
    width = head.size + 9
    chunks, chunk_rows = [], max(1, (2**31 - 1) // width // 2)
    for start in range(0, n, chunk_rows):
        numbers = np.arange(start, min(n, start + chunk_rows), dtype=np.int64)
        rows = numbers.size
        data = np.empty((rows, width), dtype=np.uint8)
        data[:, :head.size] = head
        for pos in range(9):
            numbers, digit = np.divmod(numbers, 10)
            data[:, width - 1 - pos] = 48 + digit
        offsets = np.arange(rows + 1, dtype=np.int32) * width
        chunks.append(pa.StringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(data)))
    return pa.chunked_array(chunks, type=pa.string())


def _arrow_series(values, dtype: pa.DataType) -> pd.Series:
    """An Arrow-backed Series over `values` (Array or ChunkedArray) without copying."""
    if not isinstance(values, pa.ChunkedArray):
        values = pa.chunked_array([values], type=dtype)
    return pd.Series(pd.arrays.ArrowExtensionArray(values))


def _timestamps(us: np.ndarray, valid: np.ndarray | None = None) -> pd.Series:
    arr = pa.array(us, type=pa.int64(), mask=None if valid is None else ~valid)
    return _arrow_series(arr.view(pa.timestamp("us")), pa.timestamp("us"))


def synthetic_dossiers(n: int, seed: int, year: int, province_label: str = "SYNTHETIC") -> pd.DataFrame:
    """`n` synthetic dossiers received in `year` (see the module docstring for the model).

    Columns follow :data:`cchc_analysis.dossiers.COLUMNS` (Arrow-backed) plus ``source``
    (categorical, :data:`LABEL`). ``attrs``: synthetic=True, source=LABEL, province_label, seed, year.
    The same (n, seed, year) always gives the same frame.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    rng = np.random.default_rng(seed)
    codes, popularity, deadlines = _procedure_pool(rng)
    workdays = _working_days(year).astype(np.int64)                      # days since 1970-01-01
    n_year = int(np.searchsorted(workdays, np.datetime64(f"{year + 1}-01-01", "D").astype(np.int64)))

    # received: working day index and time of day, sorted so that ids follow arrival order
    received_key = np.sort(rng.integers(0, n_year, n) * 86_400 + rng.integers(_OPEN_S, _CLOSE_S + 1, n))
    day_idx = received_key // 86_400
    received_s = received_key % 86_400
    received_us = (workdays[day_idx] * 86_400 + received_s) * _US_PER_S

    level = rng.choice(3, size=n, p=_LEVEL_P).astype(np.int8)
    code_idx = np.empty(n, dtype=np.int32)
    deadline = np.empty(n, dtype=np.int64)
    offsets = np.cumsum([0] + _PROCEDURES_PER_LEVEL)
    for lv in range(3):                                                   # loop over 3 levels, not rows
        rows = np.flatnonzero(level == lv)
        pick = rng.choice(len(codes[lv]), size=rows.size, p=popularity[lv])
        code_idx[rows] = offsets[lv] + pick
        deadline[rows] = deadlines[lv][pick]
    all_codes = np.concatenate(codes)

    u = rng.random(n)
    cum = np.cumsum(_CHANNEL_P, axis=1)[level]
    channel = (u >= cum[:, 0]).astype(np.int8) + (u >= cum[:, 1]).astype(np.int8)

    due_idx = day_idx + deadline
    due_us = (workdays[due_idx] * 86_400 + received_s) * _US_PER_S

    # outcome: 0 ahead, 1 on time, 2 late, 3 unresolved
    year_end = np.datetime64(f"{year}-12-31", "D").astype(np.int64)
    p_unresolved = np.where(workdays[due_idx] > year_end, 0.6, 0.02)
    u = rng.random(n)
    outcome = np.where(u < p_unresolved, 3, 0)
    v = rng.random(n)
    outcome = np.where(outcome == 3, 3, np.where(v < 0.78, 0, np.where(v < 0.92, 1, 2)))
    late_by = np.minimum(rng.geometric(0.3, n), 30)                       # 1 .. 30 working days
    ahead_by = np.floor(rng.random(n) * deadline).astype(np.int64)         # 0 .. deadline-1
    res_idx = np.select([outcome == 0, outcome == 1], [day_idx + ahead_by, due_idx], due_idx + late_by)
    res_s = rng.integers(_OPEN_S, _CLOSE_S + 1, n)
    res_s = np.where(res_idx == day_idx, np.maximum(res_s, received_s + 600), res_s)
    resolved_us = (workdays[res_idx] * 86_400 + res_s) * _US_PER_S
    resolved = outcome != 3

    frame = pd.DataFrame({
        "dossier_id": _arrow_series(_sequential_ids(f"{province_label}-{year}-", n), pa.string()),
        "procedure_code": _arrow_series(pa.array(all_codes).take(pa.array(code_idx)), pa.string()),
        "level": _arrow_series(pa.array(_LEVELS).take(pa.array(level)), pa.string()),
        "channel": _arrow_series(pa.array(_CHANNELS).take(pa.array(channel)), pa.string()),
        "received_at": _timestamps(received_us),
        "due_at": _timestamps(due_us),
        "resolved_at": _timestamps(resolved_us, resolved),
        "status": _arrow_series(pa.array(_STATUSES).take(pa.array((~resolved).astype(np.int8))), pa.string()),
        "source": pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[LABEL]),
    }, copy=False)
    frame.attrs.update({"synthetic": True, "source": LABEL, "province_label": province_label,
                        "seed": seed, "year": year})
    return frame


def write_synthetic(path, n: int, seed: int, year: int = 2024, province_label: str = "SYNTHETIC",
                    row_group_size: int = 1_000_000) -> Path:
    """Write :func:`synthetic_dossiers` to Parquet with LABEL in the file's key-value metadata."""
    return write_frame(synthetic_dossiers(n, seed, year, province_label), path, row_group_size)


def write_frame(frame: pd.DataFrame, path, row_group_size: int = 1_000_000) -> Path:
    """Write a synthetic frame to Parquet; the label and the generator's attrs go to the file's
    key-value metadata (the constant ``source`` column is left out)."""
    if not frame.attrs.get("synthetic"):
        raise ValueError("write_frame only writes frames made by synthetic_dossiers")
    path = Path(path)
    table = pa.Table.from_pandas(frame.drop(columns="source"), preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta.update({METADATA_SYNTHETIC_KEY: b"true", METADATA_SOURCE_KEY: LABEL.encode("utf-8")})
    meta.update({f"cchc_analysis.{k}".encode(): str(frame.attrs[k]).encode("utf-8")
                 for k in ("province_label", "seed", "year")})
    pq.write_table(table.replace_schema_metadata(meta), path, row_group_size=row_group_size)
    return path
