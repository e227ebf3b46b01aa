"""Dossier KPIs (DuckDB, the one engine): hand-checked KPIs, the same values from CSV, Parquet, DataFrame
and Arrow input, an independent pandas/numpy oracle on synthetic data, bad exports."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cchc_analysis import dossiers
from cchc_analysis.dossiers import dossier_kpis, processing_time_distribution, read_dossiers
from cchc_analysis.errors import SourceError
from cchc_analysis.synthetic import LABEL, synthetic_dossiers, write_synthetic

SOURCES = ("csv", "parquet", "frame", "arrow")

# A hand-written export: 13 dossiers, spellings as a province might write them.
# Outcomes at AS_OF (2024-03-20 12:00), worked out by hand in the comments.
HEADER = "dossier_id,procedure_code,level,channel,received_at,due_at,resolved_at,status"
ROWS = [
    # tinh
    "T1,1.000001,Tỉnh,online,2024-03-01 08:00,2024-03-05 17:00,2024-03-04 10:00,done",       # ahead, 3d2h
    "T2,1.000001,tinh,trực tiếp,2024-03-01 09:00,2024-03-05 17:00,2024-03-05 18:30,done",    # on time (due day), 4d9h30
    "T3,1.000002,TỈNH,Trực tuyến,2024-03-04 08:00,2024-03-06 17:00,2024-03-07 08:00,done",   # late, 3d
    "T4,1.000002,Cấp tỉnh,Bưu chính,2024-03-04 10:00,2024-03-08 17:00,,open",               # open, overdue
    "T5,1.000001,tinh,online,2024-03-18 08:00,2024-03-25 17:00,,open",                       # open, not yet due
    "T6,1.000003,tinh,online,2024-03-10 08:00,2024-03-12,2024-03-11 08:00,done",             # ahead, 1d
    # huyen
    "H1,2.000001,huyện,trực tiếp,2024-03-01 08:00,2024-03-08 17:00,2024-03-01 16:00,done",   # ahead, 8h
    "H2,2.000001,Huyện,trực tuyến,2024-03-02 08:00,2024-03-04 17:00,2024-03-06 08:00,done",  # late, 4d
    "H3,2.000002,cấp huyện,direct,2024-03-05 08:00,2024-03-07 17:00,2024-03-25 08:00,done",  # resolved after AS_OF
    "H4,2.000002,huyen,online,2024-03-21 08:00,2024-03-28 17:00,,open",                      # received after AS_OF
    # xa
    "X1,3.000001,xã,postal,2024-02-28 08:00,2024-03-01 17:00,2024-03-01 09:00,done",          # on time, 2d1h
    "X2,3.000001,Xã,direct,2024-02-29 08:00,2024-03-04 17:00,2024-03-01 08:00,done",          # ahead, 1d
    "X3,3.000001,xa,direct,2024-02-29 10:00,2024-03-01 17:00,,open",                          # open, overdue
]
AS_OF = "2024-03-20 12:00"
H = 1 / 24


@pytest.fixture(scope="module")
def hand_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("hand") / "export.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hand_parquet(hand_csv):
    """The same export as Parquet with real timestamp columns."""
    df = pd.read_csv(hand_csv, dtype=str, keep_default_na=False)
    for c in ("received_at", "due_at", "resolved_at"):
        df[c] = pd.to_datetime(df[c].replace("", None), format="ISO8601")
    path = hand_csv.with_suffix(".parquet")
    df.to_parquet(path, index=False)
    return path


@pytest.fixture(scope="module")
def synthetic_parquet(tmp_path_factory):
    return write_synthetic(tmp_path_factory.mktemp("syn") / "syn.parquet", 100_000, seed=7)


def _source(kind: str, csv_path, parquet_path):
    """The same export as a CSV path, a Parquet path, a raw text DataFrame (spellings and empty cells as
    written, rows numbered as in the CSV) or an Arrow table with timestamp columns."""
    if kind == "csv":
        return csv_path
    if kind == "parquet":
        return parquet_path
    if kind == "frame":
        frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
        frame.attrs.update(source_file=csv_path.name, row_offset=2)
        return frame
    return pq.read_table(parquet_path)


@pytest.fixture(params=SOURCES)
def hand(request, hand_csv, hand_parquet):
    return _source(request.param, hand_csv, hand_parquet)


def _row(kpis: pd.DataFrame, level: str) -> pd.Series:
    return kpis.set_index("level").loc[level]


def test_hand_export_kpis_by_level(hand):
    kpis = dossier_kpis(hand, by=("level",), as_of=AS_OF)
    assert kpis["level"].tolist() == ["huyen", "tinh", "xa"]
    tinh, huyen, xa = (_row(kpis, lv) for lv in ("tinh", "huyen", "xa"))
    counts = ["received", "resolved", "ahead", "on_time", "late", "online", "overdue_backlog"]
    assert tinh[counts].tolist() == [6, 4, 2, 1, 1, 4, 1]
    assert huyen[counts].tolist() == [3, 2, 1, 0, 1, 1, 1]     # H3 counts as open, H4 is left out
    assert xa[counts].tolist() == [3, 2, 1, 1, 0, 0, 1]
    assert tinh["resolution_rate"] == pytest.approx(400 / 6)
    assert tinh["online_share"] == pytest.approx(400 / 6)
    assert (tinh["ahead_share"], tinh["on_time_share"], tinh["late_share"]) == (50.0, 25.0, 25.0)
    assert (huyen["ahead_share"], huyen["on_time_share"], huyen["late_share"]) == (50.0, 0.0, 50.0)
    assert xa["online_share"] == 0.0
    # processing days, inverted-CDF quantiles: tinh sorted 1, 3, 3+2h, 4+9.5h
    assert tinh["median_processing_days"] == pytest.approx(3.0)
    assert tinh["p90_processing_days"] == pytest.approx(4 + 9.5 * H)
    assert huyen["median_processing_days"] == pytest.approx(8 * H)
    assert huyen["p90_processing_days"] == pytest.approx(4.0)
    assert xa["median_processing_days"] == pytest.approx(1.0)
    assert xa["p90_processing_days"] == pytest.approx(2 + H)
    assert kpis.attrs["as_of"] == pd.Timestamp(AS_OF)


def test_hand_export_overall_and_default_as_of(hand):
    overall = dossier_kpis(hand, by=(), as_of=AS_OF).iloc[0]
    assert overall[["received", "resolved", "ahead", "on_time", "late", "online", "overdue_backlog"]].tolist() \
        == [12, 8, 4, 2, 2, 5, 3]
    assert overall["median_processing_days"] == pytest.approx(2 + H)      # 4th of 8 sorted times
    assert overall["p90_processing_days"] == pytest.approx(4 + 9.5 * H)   # 8th of 8
    # default as_of = latest timestamp in the file (H3 resolved 2024-03-25 08:00)
    full = dossier_kpis(hand, by=("level",))
    assert full.attrs["as_of"] == pd.Timestamp("2024-03-25 08:00")
    huyen = _row(full, "huyen")
    assert huyen[["received", "resolved", "ahead", "late", "overdue_backlog"]].tolist() == [4, 3, 1, 2, 0]
    assert huyen["p90_processing_days"] == pytest.approx(20.0)
    assert _row(full, "tinh")["overdue_backlog"] == 1      # T5 is due on the as_of day: not overdue yet
    months = dossier_kpis(hand, by=("month",))
    assert months["month"].tolist() == ["2024-02", "2024-03"]
    assert months["received"].tolist() == [3, 10]


def test_hand_export_histogram(hand):
    hist = processing_time_distribution(hand, bins=(0, 1, 3, 5), as_of=AS_OF)
    # resolved by AS_OF: 8h | 1d, 1d, 2d1h | 3d, 3d2h, 4d, 4d9h30
    assert hist["days_from"].tolist() == [0.0, 1.0, 3.0, 5.0]
    assert hist["resolved"].tolist() == [1, 3, 4, 0]
    assert hist["share"].tolist() == [12.5, 37.5, 50.0, 0.0]
    assert pd.isna(hist["days_to"].iloc[-1])


def test_csv_parquet_frame_and_arrow_give_the_same_kpis(hand_csv, hand_parquet):
    for by in [("level",), ("procedure_code",), ("month", "channel")]:
        a = dossier_kpis(hand_csv, by=by, as_of=AS_OF)
        for kind in SOURCES[1:]:
            b = dossier_kpis(_source(kind, hand_csv, hand_parquet), by=by, as_of=AS_OF)
            pd.testing.assert_frame_equal(a, b, check_exact=True)
        h1, h2 = (processing_time_distribution(s, by=by, as_of=AS_OF) for s in (hand_csv, pq.read_table(hand_parquet)))
        pd.testing.assert_frame_equal(h1, h2, check_exact=True)


def test_read_dossiers_is_arrow_backed_and_normalised(hand_csv):
    df = read_dossiers(hand_csv)
    assert len(df) == 13
    assert all(isinstance(t, pd.ArrowDtype) for t in df.dtypes)
    assert df["received_at"].dtype == pd.ArrowDtype(pa.timestamp("us"))
    assert sorted(df["level"].unique()) == ["huyen", "tinh", "xa"]
    assert sorted(df["channel"].unique()) == ["direct", "online", "postal"]
    assert df["resolved_at"].isna().sum() == 4
    assert df.attrs["synthetic"] is False
    assert df["dossier_id"].tolist() == [r.split(",")[0] for r in ROWS]          # file order
    assert df["level"].tolist()[:4] == ["tinh"] * 4 and df["channel"].tolist()[:4] == ["online", "direct",
                                                                                        "online", "postal"]
    # a frame works as input as well as a path
    pd.testing.assert_frame_equal(dossier_kpis(df, as_of=AS_OF), dossier_kpis(hand_csv, as_of=AS_OF))


def _oracle(df: pd.DataFrame, by: tuple[str, ...], as_of) -> pd.DataFrame:
    """The KPI rules written again in plain pandas/numpy (row by row vectorised, no SQL)."""
    as_of = pd.Timestamp(as_of) if as_of is not None else max(df["received_at"].max(), df["resolved_at"].max())
    d = df[df["received_at"] <= as_of].copy()
    d["month"] = d["received_at"].dt.strftime("%Y-%m")
    res = d["resolved_at"].where(d["resolved_at"] <= as_of)
    res_day, due_day = res.dt.floor("D"), d["due_at"].dt.floor("D")
    d = d.assign(received=1, resolved=res.notna(), ahead=res_day < due_day, on_time=res_day == due_day,
                 late=res_day > due_day, online=d["channel"] == "online",
                 overdue_backlog=res.isna() & (due_day < as_of.floor("D")),
                 days=(res - d["received_at"]).dt.total_seconds() / 86400)
    cols = ["received", "resolved", "ahead", "on_time", "late", "online", "overdue_backlog"]
    d[cols] = d[cols].fillna(False).astype(np.int64)
    keys = list(by) or (lambda _: 0)
    rows = []
    for key, g in d.groupby(keys, sort=True):
        days = g["days"].dropna().to_numpy(np.float64)
        q = [np.quantile(days, p, method="inverted_cdf") if days.size else np.nan for p in (0.5, 0.9)]
        rows.append([*(key if isinstance(key, tuple) else (key,))[:len(by)], *g[cols].sum().tolist(), *q])
    return pd.DataFrame(rows, columns=list(by) + cols + ["median_processing_days", "p90_processing_days"])


@pytest.mark.parametrize("by", [(), ("level",), ("procedure_code",), ("month",), ("level", "channel")])
def test_synthetic_kpis_match_an_independent_oracle(synthetic_parquet, by):
    a = dossier_kpis(synthetic_parquet, by=by)
    for other in (read_dossiers(synthetic_parquet), pq.read_table(synthetic_parquet)):
        b = dossier_kpis(other, by=by)
        pd.testing.assert_frame_equal(a, b, check_exact=True)
        assert a.attrs["synthetic"] and b.attrs["synthetic"]
    assert a["received"].sum() == 100_000
    expected = _oracle(read_dossiers(synthetic_parquet), by, None)
    got = a[expected.columns].astype(object).where(a[expected.columns].notna(), np.nan)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.astype(object), check_dtype=False,
                                  check_exact=True)


def test_as_of_and_histogram_match_the_oracle(synthetic_parquet):
    frame = read_dossiers(synthetic_parquet)
    a = dossier_kpis(synthetic_parquet, by=("month", "level"), as_of="2024-07-15 12:00")
    expected = _oracle(frame, ("month", "level"), "2024-07-15 12:00")
    assert a[["month", "level", "received", "resolved", "late", "overdue_backlog"]].astype(object).values.tolist() \
        == expected[["month", "level", "received", "resolved", "late", "overdue_backlog"]].values.tolist()
    assert a["month"].max() == "2024-07" and a["overdue_backlog"].sum() > 0
    h1, h2 = (processing_time_distribution(s, by=("level",)) for s in (synthetic_parquet, frame))
    pd.testing.assert_frame_equal(h1, h2, check_exact=True)
    assert h1.groupby("level")["share"].sum().round(9).tolist() == [100.0, 100.0, 100.0]
    us = (frame["resolved_at"] - frame["received_at"]).dropna().astype("int64[pyarrow]").to_numpy()     # µs
    edges = np.round(np.asarray(dossiers.DEFAULT_BINS_DAYS, float) * 86_400_000_000).astype(np.int64)
    counts = np.bincount(np.searchsorted(edges, us, side="right") - 1, minlength=edges.size)
    assert h1.groupby("days_from", sort=True)["resolved"].sum().tolist() == counts.tolist()


def test_quantiles_are_numpy_inverted_cdf(synthetic_parquet):
    df = read_dossiers(synthetic_parquet)
    days = (df["resolved_at"] - df["received_at"]).dt.total_seconds().to_numpy(np.float64, na_value=np.nan) / 86400
    kpis = dossier_kpis(df, by=("level",)).set_index("level")
    for level in ("huyen", "tinh", "xa"):
        x = days[(df["level"] == level).to_numpy() & ~np.isnan(days)]
        assert kpis.loc[level, "median_processing_days"] == np.quantile(x, 0.5, method="inverted_cdf")
        assert kpis.loc[level, "p90_processing_days"] == np.quantile(x, 0.9, method="inverted_cdf")
        assert kpis.loc[level, "resolved"] == x.size


def test_time_zone_aware_parquet_is_read_as_vietnam_time(hand_parquet, tmp_path):
    table = pq.read_table(hand_parquet)
    for name in ("received_at", "due_at", "resolved_at"):
        local = table.column(name)
        utc = pa.compute.assume_timezone(local, "Asia/Ho_Chi_Minh").cast(pa.timestamp("us", tz="UTC"))
        table = table.set_column(table.schema.get_field_index(name), name, utc)
    path = tmp_path / "tz.parquet"
    pq.write_table(table, path)
    for source in (path, table, table.to_pandas()):
        pd.testing.assert_frame_equal(dossier_kpis(source, as_of=AS_OF), dossier_kpis(hand_parquet, as_of=AS_OF))


def _bad_csv(tmp_path, row_index: int, column: str, value: str):
    """The hand export with one cell replaced (row_index 0 = first dossier = spreadsheet row 2)."""
    rows = [r.split(",") for r in ROWS]
    rows[row_index][HEADER.split(",").index(column)] = value
    path = tmp_path / "bad.csv"
    path.write_text("\n".join([HEADER, *(",".join(r) for r in rows)]) + "\n", encoding="utf-8")
    return path


BAD_CELLS = [  # (row index, column, value written there, what the error says)
    (4, "due_at", "2024-03-17 08:00", "before received_at"),
    (6, "level", "thôn", "unknown level"),
    (9, "dossier_id", "T2", "duplicated"),
    (11, "resolved_at", "01/03/2024", "not a timestamp"),
    (2, "procedure_code", "", "missing"),
]


@pytest.mark.parametrize("kind", ["csv", "frame", "plain frame"])
@pytest.mark.parametrize("row_index, column, value, needle", BAD_CELLS + [(7, "channel", "fax", "unknown channel")])
def test_bad_export_names_row_and_column(tmp_path, kind, row_index, column, value, needle):
    path = _bad_csv(tmp_path, row_index, column, value)
    source = path if kind == "csv" else _source("frame", path, None)
    if kind == "plain frame":          # no attrs: rows numbered from 1 (index label + 1), file unknown
        source.attrs.clear()
    with pytest.raises(SourceError) as err:
        dossier_kpis(source)
    first_row = 3 if needle == "duplicated" else row_index + 2      # a duplicate is named at its first row (T2)
    first_row -= kind == "plain frame"
    assert (err.value.row, err.value.column) == (first_row, column)
    assert needle in str(err.value) and ("bad.csv" if kind != "plain frame" else "<DataFrame>") in str(err.value)


@pytest.mark.parametrize("statistics", [True, False])
@pytest.mark.parametrize("row_index, column, value, needle", BAD_CELLS + [
    (7, "channel", "", "missing"), (5, "dossier_id", None, "missing"), (3, "received_at", None, "missing")])
def test_bad_parquet_export_is_found_whatever_its_statistics(tmp_path, statistics, row_index, column, value, needle):
    """Parquet statistics and dictionaries settle checks before the scan (no value missing, labels canonical):
    a bad value is found the same, and a file without statistics is read instead."""
    frame = pd.read_csv(_bad_csv(tmp_path, row_index, column, "x"), dtype=str, keep_default_na=False)
    frame.loc[row_index, column] = value
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=4,
                   write_statistics=statistics)
    with pytest.raises(SourceError) as err:
        dossier_kpis(path)
    assert (err.value.row, err.value.column) == (2 if needle == "duplicated" else row_index + 1, column)
    assert f"{column}: {needle} in 1 row(s)" in str(err.value) or needle == "duplicated"


def test_parquet_facts_give_the_same_kpis_as_a_scan(hand_csv, hand_parquet, tmp_path):
    """Default as_of, labels and proved checks from Parquet metadata (or, without statistics, from reading the
    file) give the KPIs of the CSV, also for an as_of at or after the latest timestamp."""
    bare = tmp_path / "bare.parquet"
    pq.write_table(pq.read_table(hand_parquet), bare, write_statistics=False)
    canonical = read_dossiers(hand_csv)
    canonical_path = tmp_path / "canonical.parquet"
    canonical.to_parquet(canonical_path, index=False)
    for by in [("level",), ("month", "channel")]:
        expected = dossier_kpis(hand_csv, by=by)
        for source in (hand_parquet, bare, canonical_path, canonical):
            got = dossier_kpis(source, by=by)
            pd.testing.assert_frame_equal(got, expected, check_exact=True)
            assert got.attrs["as_of"] == expected.attrs["as_of"] == pd.Timestamp("2024-03-25 08:00")
        for as_of in ("2024-03-25 08:00", "2030-01-01"):        # CSV: compared with as_of; Parquet: known after it
            late = dossier_kpis(hand_csv, by=by, as_of=as_of)
            for source in (hand_parquet, canonical_path):
                pd.testing.assert_frame_equal(dossier_kpis(source, by=by, as_of=as_of), late, check_exact=True)
        pd.testing.assert_frame_equal(late.drop(columns="overdue_backlog"), expected.drop(columns="overdue_backlog"))
    for path, written in ((hand_parquet, set()), (bare, set()), (canonical_path, {"level", "channel"})):
        src = dossiers._Source(path, dossiers.KPI_INPUT_COLUMNS)
        src.facts(latest=True)
        assert src.as_written == written and src.latest == pd.Timestamp("2024-03-25 08:00").value // 1000
        assert {("procedure_code", "missing"), ("due_at", "not a timestamp")} <= src.proven
    # unvalidated, a dossier without received_at is never received (also when statistics settle as_of)
    table = pq.read_table(canonical_path)
    received = table.column("received_at").to_pylist()
    table = table.set_column(table.schema.get_field_index("received_at"), "received_at",
                             pa.array([None] + received[1:], pa.timestamp("us")))
    pq.write_table(table, bare)
    for as_of in (None, "2030-01-01"):
        assert dossier_kpis(bare, by=(), as_of=as_of, validate=False)["received"].tolist() == [12]


@pytest.mark.parametrize("kind", ["parquet", "arrow"])
def test_every_failure_is_reported_at_once(tmp_path, kind):
    rows = [r.split(",") for r in ROWS]
    rows[3][2] = "province-ish"          # level, row 5
    rows[8][5] = "2024-03-01 08:00"      # due before received, row 10
    path = tmp_path / "two.parquet"
    pd.DataFrame(rows, columns=HEADER.split(",")).to_parquet(path, index=False)
    with pytest.raises(SourceError) as err:
        dossier_kpis(path if kind == "parquet" else pq.read_table(path))
    message = str(err.value)
    assert (err.value.row, err.value.column) == (4, "level")       # Parquet rows: first dossier = 1
    assert "2 failing check(s)" in message and "first at row 9" in message


def test_missing_column_and_unknown_format(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("dossier_id,procedure_code,level\nA,1,tinh\n", encoding="utf-8")
    table = pa.table({"dossier_id": ["A"], "procedure_code": ["1"], "level": ["tinh"]})
    for source in (path, pd.read_csv(path, dtype=str), table):
        with pytest.raises(SourceError) as err:
            dossier_kpis(source)
        assert err.value.column == "channel" and "missing column" in str(err.value)
        assert str(err.value).count("missing column") == 1 and err.value.__cause__ is None
    with pytest.raises(SourceError) as err:
        dossier_kpis(path)
    assert err.value.row == 1 and "short.csv" in str(err.value)
    with pytest.raises(SourceError):
        read_dossiers(tmp_path / "export.xlsx")


def test_engine_argument_is_kept_for_compatibility(hand_csv, synthetic_parquet):
    expected = dossier_kpis(hand_csv, as_of=AS_OF)
    pd.testing.assert_frame_equal(dossier_kpis(hand_csv, as_of=AS_OF, engine="duckdb"), expected)
    with pytest.warns(DeprecationWarning, match="DuckDB is the only"):
        old = dossier_kpis(hand_csv, as_of=AS_OF, engine="pandas")
    pd.testing.assert_frame_equal(old, expected)
    assert old["received"].tolist() == [3, 6, 3]
    with pytest.raises(ValueError, match="engine"):
        dossier_kpis(hand_csv, engine="spark")
    with pytest.raises(ValueError):
        dossier_kpis(synthetic_parquet, by=("province",))


def test_synthetic_data_is_labelled_and_plausible(synthetic_parquet):
    df = synthetic_dossiers(50_000, seed=3, year=2023)
    assert df.attrs["synthetic"] is True and df.attrs["source"] == LABEL
    assert (df["source"] == LABEL).all()
    assert "not real data" in LABEL
    assert df.equals(synthetic_dossiers(50_000, seed=3, year=2023))
    assert not df.equals(synthetic_dossiers(50_000, seed=4, year=2023))
    shares = df["level"].value_counts(normalize=True)
    assert math.isclose(shares["tinh"], 0.60, abs_tol=0.01) and math.isclose(shares["xa"], 0.15, abs_tol=0.01)
    assert df["dossier_id"].is_unique and (df["received_at"].dt.year == 2023).all()
    assert (df["due_at"] > df["received_at"]).all()
    assert ((df["resolved_at"] >= df["received_at"]) | df["resolved_at"].isna()).all()
    meta = pq.read_schema(synthetic_parquet).metadata
    assert meta[b"cchc_analysis.source"].decode() == LABEL and meta[b"cchc_analysis.synthetic"] == b"true"
    kpis = dossier_kpis(synthetic_parquet, by=())
    assert 70 < kpis["ahead_share"].iloc[0] < 85 and 0 < kpis["late_share"].iloc[0] < 15
    assert 0 < kpis["overdue_backlog"].iloc[0] < kpis["received"].iloc[0] - kpis["resolved"].iloc[0] + 1


def test_synthetic_frame_and_arrow_table_are_labelled(synthetic_parquet):
    frame = synthetic_dossiers(2_000, seed=3, year=2023)
    kpis = dossier_kpis(frame, by=())
    assert kpis.attrs["synthetic"] is True and kpis.attrs["source"] == LABEL and kpis["received"].iloc[0] == 2_000
    table = pq.read_table(synthetic_parquet)
    assert dossier_kpis(table, by=()).attrs["source"] == LABEL
    assert dossier_kpis(table.replace_schema_metadata({}), by=()).attrs["synthetic"] is False


def test_byte_order_mark_and_crlf_csv(hand_csv, tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + hand_csv.read_bytes().replace(b"\n", b"\r\n"))
    pd.testing.assert_frame_equal(dossier_kpis(path, as_of=AS_OF), dossier_kpis(hand_csv, as_of=AS_OF))
    pd.testing.assert_frame_equal(read_dossiers(path), read_dossiers(hand_csv), check_exact=True)


def _ids_frame(ids: list) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame({"dossier_id": ids, "procedure_code": ["1.0"] * n, "level": ["tinh"] * n,
                         "channel": ["online"] * n, "received_at": ["2024-01-01"] * n, "due_at": ["2024-01-02"] * n,
                         "resolved_at": [""] * n, "status": [""] * n})


def _ids_source(ids: list, kind: str, tmp_path):
    """The ids as a DataFrame, a CSV (rows numbered from 2) or a Parquet file of row groups of 2 rows."""
    frame = _ids_frame(ids)
    if kind == "frame":
        return frame
    path = tmp_path / f"ids.{kind}"
    if kind == "csv":
        frame.astype(str).to_csv(path, index=False)
    else:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=2)
    return path


@pytest.mark.parametrize("kind", ["frame", "csv", "parquet"])
@pytest.mark.parametrize("ids, duplicated", [
    (["a", "b", "c", "b"], (2, 2, "b")),          # not in order: the hash check finds it
    (["a", "b", "b", "c"], (2, 2, "b")),          # in order but repeated: no proof from the order
    (["d", "c", "b", "a"], None),                 # strictly decreasing: unique
    (["d", "c", "c", "a"], (2, 2, "c")),          # decreasing but repeated
    (["b", "a", "d", "c"], None),                 # unique, not in order: the hash check proves it
    (["c", "a", "d", "e", "f", "a"], (2, 2, "a")),  # not in order, far apart (other row groups)
    ([3, 1, 2, 3], (2, 1, "3")),                  # integer ids are text "3"
    ([1, 2, 10, 11], None),                       # integer ids, increasing as numbers (not as text)
])
def test_duplicate_ids_are_found_in_any_order(ids, duplicated, kind, tmp_path, monkeypatch):
    source = _ids_source(ids, kind, tmp_path)
    if duplicated is None:
        proofs = []                                  # 0: the order proved the ids unique, no hash check ran
        exact = dossiers._ids_distinct
        monkeypatch.setattr(dossiers, "_ids_distinct",
                            lambda src, steps: proofs.append(min(steps)) or exact(src, steps))
        assert dossier_kpis(source, by=())["received"].iloc[0] == len(ids)
        assert len(read_dossiers(source)) == len(ids)
        read = [str(i) for i in ids] if kind == "csv" else ids          # compared as read: CSV text
        ordered = all(a < b for a, b in zip(read, read[1:])) or all(a > b for a, b in zip(read, read[1:]))
        assert (proofs == [0, 0]) == ordered
        return
    n, first, value = duplicated
    for run in (dossier_kpis, read_dossiers):
        with pytest.raises(SourceError) as err:
            run(source)
        where = f"first at row {first + (kind == 'csv')}, value {value!r}"
        assert f"dossier_id: duplicated in {n} row(s), {where}" in str(err.value)


def test_hash_collisions_never_report_duplicates(monkeypatch, hand_csv, tmp_path):
    ids = ["a", "b", "c", "b", None]
    with pytest.raises(SourceError) as err:
        dossier_kpis(_ids_frame(ids), by=())
    assert "dossier_id: missing in 1 row(s), first at row 5" in str(err.value)
    assert "dossier_id: duplicated in 2 row(s), first at row 2" in str(err.value)
    # a hash collision makes the cheap check fail; the exact pass then finds nothing
    monkeypatch.setattr(dossiers, "_ids_distinct", lambda src, steps: False)
    assert dossier_kpis(hand_csv, by=())["received"].iloc[0] == 13
    assert dossier_kpis(_ids_frame(["a", "b", "c"]), by=())["received"].iloc[0] == 3
    for kind in ("csv", "parquet"):       # the cheap proof fails (as on a collision): the exact check decides
        assert dossier_kpis(_ids_source(["b", "a", "d", "c"], kind, tmp_path), by=())["received"].iloc[0] == 4


def test_frame_input_and_empty_export(hand_csv, tmp_path):
    frame = read_dossiers(hand_csv)
    pd.testing.assert_frame_equal(dossier_kpis(frame, by=("level", "month"), as_of=AS_OF),
                                  dossier_kpis(hand_csv, by=("level", "month"), as_of=AS_OF))
    empty = tmp_path / "empty.csv"
    empty.write_text(HEADER + "\n", encoding="utf-8")
    for source in (empty, pd.read_csv(empty, dtype=str)):
        overall = dossier_kpis(source, by=())
        assert overall["received"].tolist() == [0] and pd.isna(overall["resolution_rate"].iloc[0])
        assert overall.attrs["as_of"] is None
        assert dossier_kpis(source, by=("level",)).empty
        assert processing_time_distribution(source).empty


def test_float_codes_are_refused_not_rewritten(hand_csv, tmp_path):
    """A code read as a number (1.000100 -> 1.0001) would silently change: files and frames refuse it."""
    df = pd.read_csv(hand_csv, dtype=str, keep_default_na=False)
    df["procedure_code"] = df["procedure_code"].astype(float)
    df["dossier_id"] = np.arange(len(df))                    # integer ids are exact: accepted
    path = tmp_path / "floats.parquet"
    df.to_parquet(path, index=False)
    for source in (path, df):
        with pytest.raises(SourceError) as err:
            dossier_kpis(source)
        assert err.value.column == "procedure_code"
    df["procedure_code"] = "1.000100"
    df.to_parquet(path, index=False)
    kpis = dossier_kpis(path, by=("procedure_code",))
    pd.testing.assert_frame_equal(kpis, dossier_kpis(df, by=("procedure_code",)))
    assert kpis["procedure_code"].tolist() == ["1.000100"] and kpis["received"].tolist() == [13]


def test_dossier_export_section_gives_one_clear_message(tmp_path, capsys):
    """The notebook's export section stops with one message naming the file and column (no traceback)."""
    from cchc_analysis import procedure_report
    path = tmp_path / "short.csv"
    path.write_text("dossier_id,procedure_code,level\nA,1,tinh\n", encoding="utf-8")
    ctx = procedure_report.Context(2024, "67", tmp_path / "out", None, None, {}, {}, dossiers_path=path)
    with pytest.raises(SystemExit) as stop:
        procedure_report.dossier_export(ctx)
    message = str(stop.value)
    assert message.startswith("dossier export error: file ") and "short.csv" in message
    assert "column 'channel'" in message and message.count("missing column") == 1
    assert stop.value.__cause__ is None and stop.value.__suppress_context__
    assert not (tmp_path / "out").exists()
