"""Which source wins: the one selection rule over candidate score rows.

Readers only read: they return candidate rows with their provenance (``source_file``, ``source_locator``,
``source_url`` and, where one file holds several kinds of source, ``kind``); a reader of reported facts returns
one row per fact, the PAPI quartile-group file one row per group. Their priority comes from one committed table,
``data/reference/source_priority.csv`` (pattern, kind, priority, label, emit, decimals, tie, fill, why; lower
priority wins). For each (index_id, year, province_code, indicator) the rows are taken one priority (level) at a
time:

* a level is made one row by its tie rule (column ``tie``, one rule per priority):

  - ``none``: a field its rows disagree on (a value beyond the printed precision of the coarser of two rows,
    column ``decimals``; a rank) is left missing and each disagreement is a conflict with ``chosen = "none"``;
    the row cites every row ("; ");
  - ``majority`` (reported facts): per field (value, published_rank, published_tier) the value stated by the
    most distinct ``source_url``s; on a tie the one stated by the province's own press or portal, then by an
    official source (``source_domains.csv``, see `domains`), then the one whose first source_url comes first in
    text order. Every other value is a conflict with ``chosen = "a"`` whose reason names the field and the step
    that decided. The row cites the fact behind the most chosen fields, then the others' locators and addresses;

* the best level wins; every row of a lower level (a ``majority`` level made one row first) that differs from a
  winning row on value or rank is a conflict with ``chosen = "a"``;
* field-wise fill: a lower-priority row supplies a field the winner lacks when its source lists that field
  under ``fill`` (published_rank, published_tier; never a value): the PAPI quartile groups add their tier;
* a winner whose source is not emitted (``emit = no``: a file only checked against others or only supplying a
  field) is dropped and written to conflicts (no score to attach it to); a row left with no value, rank or
  tier is dropped.
"""
from __future__ import annotations

import functools
import itertools
from typing import NamedTuple

import pandas as pd

from . import domains, paths, schema
from .errors import SourceError
from .text import TOL_2DP, printed_tolerance

KEY = ["index_id", "year", "province_code", "indicator"]
PRIORITY_FILE = paths.REFERENCE / "source_priority.csv"
FIELDS = ("value", "published_rank", "published_tier")
TIES = ("none", "majority")
FILLABLE = ("published_rank", "published_tier")
TIER_NUMBER = {"A": 1.0, "B": 2.0, "C": 3.0}  # a letter tier (PAR groups) in a conflict's numeric value columns


class Priority(NamedTuple):
    """One source's row of source_priority.csv."""
    priority: int
    label: str
    emit: bool
    tolerance: float
    tie: str
    fill: tuple[str, ...]


HELPERS = {"_prio": "priority", "_label": "label", "_emit": "emit", "_tol": "tolerance", "_tie": "tie",
           "_fill": "fill"}  # the columns select() adds to each candidate row


@functools.cache
def priority_table() -> pd.DataFrame:
    """data/reference/source_priority.csv: pattern (a path prefix), kind, priority (int), label, emit,
    decimals (printed precision: an integer or 'full'), tie (none | majority), fill (fields), why."""
    df = pd.read_csv(PRIORITY_FILE, dtype=str, keep_default_na=False)
    where = paths.raw_relpath(PRIORITY_FILE)
    for n, r in enumerate(df.itertuples(), start=2):
        if not r.priority.isdigit() or r.emit not in ("yes", "no") or not r.pattern.startswith("data/") \
                or not (r.decimals == "full" or r.decimals.isdigit()) or r.tie not in TIES \
                or not set(r.fill.split()) <= set(FILLABLE):
            raise SourceError(where, "needs a data/ path pattern, an integer priority, emit yes|no, decimals (an "
                                     "integer or full), tie none|majority and fill (blank, published_rank, "
                                     "published_tier)", row=n)
    ties = df.groupby("priority")["tie"].nunique()
    if (ties > 1).any():
        raise SourceError(where, f"the rows of priority {ties[ties > 1].index[0]} name different tie rules "
                                 "(one rule per priority)")
    tol = [printed_tolerance(None if d == "full" else int(d)) for d in df["decimals"]]
    return df.assign(priority=df["priority"].astype(int), tolerance=tol, fill=[tuple(f.split()) for f in df["fill"]])


def priority_of(source_file: str, kind: str = "") -> Priority:
    """The source_priority.csv row of a source: the first whose pattern starts its path and whose kind
    (blank = any) matches. A source without a row is an error: add it to source_priority.csv."""
    kind = "" if kind is None or kind != kind else kind
    for r in priority_table().itertuples():  # a raw folder other than data/raw (a copy) matches by its tail
        if (source_file.startswith(r.pattern) or "/" + r.pattern.removeprefix("data/raw/") in source_file) \
                and r.kind in ("", kind):
            return Priority(r.priority, r.label, r.emit == "yes", r.tolerance, r.tie, r.fill)
    raise SourceError(paths.raw_relpath(PRIORITY_FILE), f"no row gives the priority of {source_file}"
                                                        + (f" (kind {kind!r})" if kind else ""))


def select(candidates: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Winning score rows (one per key, `scores` columns) and the conflicts, by source_priority.csv."""
    if not len(candidates):
        return schema.conform("scores", candidates), schema.conform("conflicts", pd.DataFrame())
    kinds = candidates["kind"] if "kind" in candidates else pd.Series("", index=candidates.index)
    sources = list(zip(candidates["source_file"], kinds.fillna("")))
    looked = {k: priority_of(*k) for k in set(sources)}
    ranked = candidates.assign(**{col: [getattr(looked[k], name) for k in sources] for col, name in HELPERS.items()})
    winners, conflicts = resolve(ranked)
    emitted = winners["_emit"].astype(bool)
    alone = [_conflict(r, "value", float("nan"), "", r["value"], _src(r), "none",
                       f"{r['_label']} given without a score to attach it to: not kept")
             for r in winners[~emitted].to_dict("records")]
    if alone:
        conflicts = _conflict_frame(conflicts.to_dict("records") + alone)
    return schema.conform("scores", winners[emitted]), conflicts


def resolve_ranked(frames: list[tuple[str, pd.DataFrame]], tolerance: float = TOL_2DP) -> tuple[pd.DataFrame,
                                                                                                pd.DataFrame]:
    """`resolve` over frames given in priority order with their labels (for readers' own checks; tie rule none)."""
    parts = [df.assign(_prio=p, _label=label, _emit=True, _tol=tolerance, _tie="none", _fill=[()] * len(df))
             for p, (label, df) in enumerate(frames) if len(df)]
    if not parts:
        return pd.DataFrame(columns=list(schema.columns("scores")) + ["_label"]), schema.conform("conflicts",
                                                                                                  pd.DataFrame())
    return resolve(pd.concat(parts, ignore_index=True))


def resolve(ranked: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per key from rows carrying the HELPERS columns (_prio: lower wins); see the module docstring.
    The winners keep the helper columns."""
    stacked = ranked.sort_values(KEY + ["_prio", "source_file", "source_locator"], kind="stable")
    several = stacked.duplicated(KEY, keep=False)
    winners, conflicts = [], []
    for _, g in stacked[several].groupby(KEY, sort=True):
        levels = [list(rows) for _, rows in itertools.groupby(g.to_dict("records"), key=lambda r: r["_prio"])]
        top = _level(levels[0], conflicts)
        win = _agreed(top, conflicts)
        for level in levels[1:]:
            for loser in _level(level, conflicts):
                for t in top:
                    reason = f"{t['_label']} preferred over {loser['_label']}"
                    conflicts.extend(_conflicts_between(t, loser, "a", reason))
                for field in loser["_fill"]:
                    if pd.isna(win[field]) and not pd.isna(loser[field]):
                        win[field] = loser[field]
        winners.append(win)
    chosen = pd.DataFrame(winners, columns=stacked.columns).astype(stacked.dtypes.to_dict())
    out = pd.concat([stacked[~several], chosen], ignore_index=True).sort_values(KEY, kind="stable")
    keep = out["value"].notna() | out["published_rank"].notna() | out["published_tier"].notna()
    return out[keep].reset_index(drop=True), _conflict_frame(conflicts)


def _conflict_frame(rows: list[dict]) -> pd.DataFrame:
    c = schema.conform("conflicts", pd.DataFrame(rows, columns=list(schema.columns("conflicts"))))
    c = c.sort_values(["index_id", "year", "province_code", "indicator", "source_a", "source_b"], kind="stable")
    return c.reset_index(drop=True)


def _differs(a, b, tol: float) -> bool:
    return not (pd.isna(a) or pd.isna(b)) and abs(float(a) - float(b)) > tol


def _src(row) -> str:
    return f"{row['source_file']}, {row['source_locator']}"


def _conflict(row: dict, field: str, value_a, source_a: str, value_b, source_b: str, chosen: str, reason: str) -> dict:
    """A conflict row on the key of `row`."""
    return {"index_id": row["index_id"], "year": row["year"], "province_code": row["province_code"],
            "indicator": row["indicator"], "field": field, "value_a": _number(value_a), "source_a": source_a,
            "value_b": _number(value_b), "source_b": source_b, "chosen": chosen, "reason": reason}


def _number(v) -> float:
    """A field's value as the number a conflict row holds (a letter tier A/B/C as 1/2/3)."""
    return TIER_NUMBER.get(v.upper(), float("nan")) if isinstance(v, str) else float("nan") if pd.isna(v) else float(v)


def _conflicts_between(a: dict, b: dict, chosen: str, reason: str) -> list[dict]:
    """Conflict rows for value and rank differences between two rows of one key."""
    return [_conflict(a, field, a[field], _src(a), b[field], _src(b), chosen, reason)
            for field, tol in (("value", max(a["_tol"], b["_tol"])), ("published_rank", 0))
            if _differs(a[field], b[field], tol)]


def _level(rows: list[dict], conflicts: list[dict]) -> list[dict]:
    """The rows of one priority as the later steps see them: one row by the majority rule, else as they are."""
    return [_majority(rows, conflicts)] if rows[0]["_tie"] == "majority" and len(rows) > 1 else rows


def _agreed(top: list[dict], conflicts: list[dict]) -> dict:
    """One row from equal-priority rows (tie rule none): fields they disagree on become missing."""
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


# --------------------------------------------------------------------------- tie rule "majority"
def _majority(rows: list[dict], conflicts: list[dict]) -> dict:
    """One row from equal-priority reported facts: per field the value `_choice` picks; the others are conflicts."""
    chosen: dict[str, tuple[object, list[dict]]] = {}
    for field in FIELDS:
        cands = [r for r in rows if not pd.isna(r[field])]
        if not cands:
            continue
        pick, why = _choice(cands, field)
        chosen[field] = (pick, [r for r in cands if r[field] == pick])
        for other in sorted({r[field] for r in cands} - {pick}):
            conflicts.append(_conflict(rows[0], field, pick, _describe(chosen[field][1]), other,
                                       _describe([r for r in cands if r[field] == other]), "a", f"{field}: {why}"))
    return _cited(chosen) if chosen else dict(rows[0])


def _choice(cands: list[dict], field: str) -> tuple[object, str]:
    """(value, reason) of one field among candidate rows (the majority rule of the module docstring)."""
    code = cands[0]["province_code"]
    urls: dict[object, list[str]] = {}
    for c in cands:
        seen = urls.setdefault(c[field], [])
        if c["source_url"] not in seen:
            seen.append(c["source_url"])
    most = max(len(u) for u in urls.values())
    left = {v: sorted(u) for v, u in urls.items() if len(u) == most}
    if len(left) == 1:
        return next(iter(left)), "stated by the most sources"
    for test, why in ((lambda u: domains.owner_code(u) == code, "stated by the province's own press/portal"),
                      (domains.is_official, "stated by an official source")):
        hit = {v: u for v, u in left.items() if any(test(x) for x in u)}
        if len(hit) == 1:
            return next(iter(hit)), f"tie on sources; {why}"
        left = hit or left
    return min(left, key=lambda v: left[v][0]), "tie; first source_url in text order"


def _describe(rows: list[dict]) -> str:
    """'url (file locators) | …' of the rows stating one value."""
    by: dict[tuple, list[str]] = {}
    for r in rows:
        by.setdefault((r["source_url"], r["source_file"]), []).append(r["source_locator"])
    return " | ".join(f"{u} ({f} {', '.join(sorted(set(locs)))})" for (u, f), locs in sorted(by.items()))


def _cited(chosen: dict[str, tuple[object, list[dict]]]) -> dict:
    """The majority row: the chosen fields, citing the row that states the most of them (then first by url),
    plus the locator and address of a row for each chosen field that row does not state."""
    def where(r):
        return r["source_file"], r["source_locator"]
    support: dict[tuple, int] = {}
    for _, rows in chosen.values():
        for w in {where(r) for r in rows}:
            support[w] = support.get(w, 0) + 1
    every = [r for _, rows in chosen.values() for r in rows]
    best = min(every, key=lambda r: (-support[where(r)], r["source_url"], r["source_file"], r["source_locator"]))
    extra = [min(rows, key=lambda r: (r["source_url"], r["source_locator"])) for _, rows in chosen.values()
             if where(best) not in {where(r) for r in rows}]
    locator = best["source_locator"] + "".join(
        f"; {o['source_locator']}" if o["source_file"] == best["source_file"]
        else f"; {o['source_file']} {o['source_locator']}" for o in extra)
    out = dict(best, source_locator=locator,
               source_url=" | ".join(dict.fromkeys([best["source_url"]] + [o["source_url"] for o in extra])))
    missing = {"value": float("nan"), "published_rank": pd.NA, "published_tier": None}
    return out | {field: chosen[field][0] if field in chosen else missing[field] for field in FIELDS}
