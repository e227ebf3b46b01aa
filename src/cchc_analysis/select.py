"""Which source wins: the one selection rule over candidate score rows.

Readers return candidate rows with their provenance (``source_file`` and, where one file holds
several kinds of source, ``kind``). Their priority comes from one committed table,
``data/reference/source_priority.csv`` (pattern, kind, priority, label, emit, why; lower priority
wins). For each (index_id, year, province_code, indicator):

* the rows of the best priority are the winner; when several of them disagree on a value (beyond
  the printed precision of the coarser of the two: column ``decimals``) or a rank, that field is
  left missing and each disagreement is a conflict with ``chosen = "none"``;
* every lower-priority row that differs from a winning row is a conflict with ``chosen = "a"``;
* a winner whose kind is not emitted (``emit = no``: e.g. rank-only news mentions, kept only to be
  checked) and a row left with no value, rank or tier are dropped.
"""
from __future__ import annotations

import functools

import pandas as pd

from . import paths, schema
from .errors import SourceError
from .text import TOL_2DP, printed_tolerance

KEY = ["index_id", "year", "province_code", "indicator"]
PRIORITY_FILE = paths.REFERENCE / "source_priority.csv"


@functools.cache
def priority_table() -> pd.DataFrame:
    """data/reference/source_priority.csv: pattern (a path prefix), kind, priority (int), label, emit,
    decimals (printed precision: an integer or 'full'), why."""
    df = pd.read_csv(PRIORITY_FILE, dtype=str, keep_default_na=False)
    for n, r in enumerate(df.itertuples(), start=2):
        if not r.priority.isdigit() or r.emit not in ("yes", "no") or not r.pattern.startswith("data/") \
                or not (r.decimals == "full" or r.decimals.isdigit()):
            raise SourceError(paths.raw_relpath(PRIORITY_FILE), "needs a data/ path pattern, an integer priority, "
                                                                "emit yes|no and decimals (an integer or full)", row=n)
    tol = [printed_tolerance(None if d == "full" else int(d)) for d in df["decimals"]]
    return df.assign(priority=df["priority"].astype(int), tolerance=tol)


def priority_of(source_file: str, kind: str = "") -> tuple[int, str, bool, float]:
    """(priority, label, emit, tolerance) of a source: the first row whose pattern starts its path and whose kind
    (blank = any) matches. A source without a row is an error: add it to source_priority.csv."""
    kind = "" if kind is None or kind != kind else kind
    for r in priority_table().itertuples():  # a raw folder other than data/raw (a copy) matches by its tail
        if (source_file.startswith(r.pattern) or "/" + r.pattern.removeprefix("data/raw/") in source_file) \
                and r.kind in ("", kind):
            return r.priority, r.label, r.emit == "yes", r.tolerance
    raise SourceError(paths.raw_relpath(PRIORITY_FILE), f"no row gives the priority of {source_file}"
                                                        + (f" (kind {kind!r})" if kind else ""))


def select(candidates: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Winning score rows (one per key, `scores` columns) and the conflicts, by source_priority.csv."""
    if not len(candidates):
        return schema.conform("scores", candidates), schema.conform("conflicts", pd.DataFrame())
    kinds = candidates["kind"] if "kind" in candidates else pd.Series("", index=candidates.index)
    looked = {k: priority_of(*k) for k in set(zip(candidates["source_file"], kinds.fillna("")))}
    prio = [looked[k] for k in zip(candidates["source_file"], kinds.fillna(""))]
    ranked = candidates.assign(_prio=[p[0] for p in prio], _label=[p[1] for p in prio],
                               _emit=[p[2] for p in prio], _tol=[p[3] for p in prio])
    winners, conflicts = resolve(ranked)
    winners = winners[winners["_emit"].astype(bool)]
    return schema.conform("scores", winners), conflicts


def resolve_ranked(frames: list[tuple[str, pd.DataFrame]], tolerance: float = TOL_2DP) -> tuple[pd.DataFrame,
                                                                                                pd.DataFrame]:
    """`resolve` over frames given in priority order with their labels (for readers' own checks)."""
    parts = [df.assign(_prio=p, _label=label, _emit=True, _tol=tolerance) for p, (label, df) in enumerate(frames)
             if len(df)]
    if not parts:
        return pd.DataFrame(columns=list(schema.columns("scores")) + ["_label"]), schema.conform("conflicts",
                                                                                                  pd.DataFrame())
    return resolve(pd.concat(parts, ignore_index=True))


def resolve(ranked: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per key from rows carrying _prio (lower wins), _label and _tol; see the module docstring.
    The winners keep the helper columns (_prio, _label, _emit, _tol)."""
    stacked = ranked.sort_values(KEY + ["_prio", "source_file", "source_locator"], kind="stable")
    several = stacked.duplicated(KEY, keep=False)
    winners, conflicts = [], []
    for _, g in stacked[several].groupby(KEY, sort=True):
        recs = g.to_dict("records")
        best = recs[0]["_prio"]
        top = [r for r in recs if r["_prio"] == best]
        win = _agreed(top, conflicts)
        for loser in recs[len(top):]:
            for t in top:
                conflicts.extend(_conflicts_between(t, loser, "a", f"{t['_label']} preferred over {loser['_label']}"))
        winners.append(win)
    chosen = pd.DataFrame(winners, columns=stacked.columns).astype(stacked.dtypes.to_dict())
    out = pd.concat([stacked[~several], chosen], ignore_index=True).sort_values(KEY, kind="stable")
    keep = out["value"].notna() | out["published_rank"].notna() | out["published_tier"].notna()
    c = schema.conform("conflicts", pd.DataFrame(conflicts, columns=list(schema.columns("conflicts"))))
    c = c.sort_values(["index_id", "year", "province_code", "indicator", "source_a", "source_b"], kind="stable")
    return out[keep].reset_index(drop=True), c.reset_index(drop=True)


def _differs(a, b, tol: float) -> bool:
    return not (pd.isna(a) or pd.isna(b)) and abs(float(a) - float(b)) > tol


def _src(row) -> str:
    return f"{row['source_file']}, {row['source_locator']}"


def _conflicts_between(a: dict, b: dict, chosen: str, reason: str) -> list[dict]:
    """Conflict rows for value and rank differences between two rows of one key."""
    out = []
    for field, tol in (("value", max(a["_tol"], b["_tol"])), ("published_rank", 0)):
        if _differs(a[field], b[field], tol):
            out.append({"index_id": a["index_id"], "year": a["year"], "province_code": a["province_code"],
                        "indicator": a["indicator"], "field": field, "value_a": float(a[field]), "source_a": _src(a),
                        "value_b": float(b[field]), "source_b": _src(b), "chosen": chosen, "reason": reason})
    return out


def _agreed(top: list[dict], conflicts: list[dict]) -> dict:
    """One row from equal-priority rows: fields they disagree on become missing."""
    first = dict(top[0])
    reason = f"{first['_label']}s disagree; none chosen"
    for other in top[1:]:
        conflicts.extend(_conflicts_between(top[0], other, "none", reason))
    for field in ("value", "published_rank"):
        if any(_differs(first[field], o[field], max(first["_tol"], o["_tol"]) if field == "value" else 0)
               for o in top[1:]):
            first[field] = float("nan") if field == "value" else pd.NA
        elif pd.isna(first[field]):
            first[field] = next((o[field] for o in top[1:] if not pd.isna(o[field])), first[field])
    if len(top) > 1:
        for col in ("source_file", "source_locator", "source_url"):
            first[col] = "; ".join(dict.fromkeys(str(o[col]) for o in top))
    return first
