"""Administrative-procedure (TTHC) KPIs from reported statistics (`facts`), and consistency checks.

Every KPI says whether it is *stated* by a source or *computed* here from stated counts; a
computed rate is never written back as if it had been published. Consistency checks report,
never hide: parts that should sum to a total, resolved ≤ received, rates within 0–100, and a
stated rate against the rate computed from stated counts, with the tolerance of the printed
precision (half a unit of the last printed digit).
"""
from __future__ import annotations

import functools
import re

import pandas as pd

PROC_INDEX_IDS = ["tthc", "index766", "other"]  # "other": reform-plan tasks, staff training …

# KPI id → (numerator metric, denominator metric, name_vi, name_en, stated-rate metric or None)
RATIOS = {
    "share_provincial": ("procedures_provincial", "procedures_total", "Tỷ lệ TTHC cấp tỉnh",
                         "Share of procedures at provincial level", None),
    "share_district": ("procedures_district", "procedures_total", "Tỷ lệ TTHC cấp huyện",
                       "Share at district level", None),
    "share_commune": ("procedures_commune", "procedures_total", "Tỷ lệ TTHC cấp xã", "Share at commune level", None),
    "online_full_share": ("procedures_online_full", "procedures_total", "Tỷ lệ TTHC trực tuyến toàn trình",
                          "Share of procedures fully online", None),
    "simplified_rate": ("procedures_simplified", "procedures_total", "Tỷ lệ TTHC được đơn giản hoá",
                        "Share of procedures simplified", None),
    "resolution_rate": ("dossiers_resolved", "dossiers_received", "Tỷ lệ hồ sơ đã giải quyết",
                        "Dossiers resolved, % of received", "resolved_rate"),
    "ahead_share": ("dossiers_ahead_of_time", "dossiers_resolved", "Tỷ lệ hồ sơ trước hạn",
                    "Resolved ahead of time, % of resolved", "ahead_of_time_rate"),
    "late_share": ("dossiers_late", "dossiers_resolved", "Tỷ lệ hồ sơ trễ hạn",
                   "Resolved late, % of resolved", "late_rate"),
    "online_dossier_share": ("dossiers_received_online", "dossiers_received", "Tỷ lệ hồ sơ trực tuyến",
                             "Online dossiers, % of received", "online_dossier_rate"),
    "plan_completion": ("plan_tasks_done", "plan_tasks_total", "Tỷ lệ hoàn thành kế hoạch CCHC",
                        "Reform plan tasks done, % of planned", "plan_completion_rate"),
}
PARTS = {"procedures_total": ["procedures_provincial", "procedures_district", "procedures_commune"],
         "procedures_online_full": ["procedures_online_full_provincial", "procedures_online_full_district",
                                    "procedures_online_full_commune"],
         # "147 hồ sơ trực tuyến không sử dụng hồ sơ giấy (142 cấp tỉnh, 5 cấp huyện)": items the source calls hồ sơ
         "online_paperless_dossiers": ["online_paperless_dossiers_provincial", "online_paperless_dossiers_district",
                                       "online_paperless_dossiers_commune"]}
STATED_RATES = ["on_time_rate", "resolved_rate", "ahead_of_time_rate", "late_rate", "online_dossier_rate",
                "plan_completion_rate", "online_on_time_rate", "satisfaction_rate"]


@functools.lru_cache(maxsize=1)
def metric_labels() -> pd.DataFrame:
    """metric → label_vi, label_en, counts (data/reference/metric_labels.csv): the reader-facing names of
    the reported statistics and what each one counts. Cached: do not modify the returned frame."""
    from . import paths

    return pd.read_csv(paths.REFERENCE / "metric_labels.csv", dtype=str, keep_default_na=False).set_index("metric")


def metric_label(metric: str) -> str:
    """The reader-facing label of a reported statistic, "Vietnamese / English" (metric_labels.csv); the id
    itself when it has none."""
    labels = metric_labels()
    return f"{labels.at[metric, 'label_vi']} / {labels.at[metric, 'label_en']}" if metric in labels.index else metric


def counts_of(facts: pd.DataFrame, labels: pd.DataFrame | None = None) -> pd.Series:
    """What each fact counts: the metric's `counts` from metric_labels.csv, else its unit where the unit says
    it (percent, points, rank; a rank change counts ranks); NA for an unlabelled count."""
    labels = metric_labels() if labels is None else labels
    by_unit = facts["unit"].map({"percent": "percent", "points": "points", "rank": "rank", "rank_change": "rank",
                                 "tier": "tier"})
    named = facts["metric"].map(dict(labels["counts"])).astype("string")
    return named.fillna(by_unit.astype("string"))


KEY_METRICS = ["procedures_total", "dossiers_received", "dossiers_resolved", "on_time_rate"]


def provinces_reporting(facts: pd.DataFrame, year: int) -> pd.DataFrame:
    """The provinces with reported procedure (TTHC) statistics for `year`: how many figures, which periods, and
    the key figures as written with their period ("26.131 (2024)"); not a ranking: the provinces are those our
    sources cover, and the figures may be of different periods."""
    d = facts[facts.index_id.isin(PROC_INDEX_IDS) & (facts.year == year) & facts.scope.str.fullmatch(r"\d{2}")]
    rows = []
    for code, g in d.groupby("scope", sort=True):
        one = first_facts(g)
        row = {"province_code": code, "figures": len(g), "sources": g.source_url.nunique(),
               "periods": ", ".join(sorted(g.period.dropna().astype(str).unique()))}
        for m in KEY_METRICS:
            r = one.get(m)
            row[m] = "" if r is None else f"{r.value_as_written} ({r.period})"
        rows.append(row)
    return pd.DataFrame(rows, columns=["province_code", "figures", "sources", "periods", *KEY_METRICS])


def labelled(k: pd.DataFrame) -> pd.DataFrame:
    """A KPI table (from :func:`kpis`) with a reader-facing label (Vietnamese / English) before the metric id:
    metric_labels.csv for stated figures, the ratio's own name for computed ones."""
    names = {kpi: f"{vi} / {en}" for kpi, (_n, _d, vi, en, _s) in RATIOS.items()}
    return k.assign(label=k.kpi.map(lambda m: names.get(m) or metric_label(m)))[["label", *k.columns]]


def period_kind(period) -> str:
    """The kind of a stated period: year, half, quarter, month, week, span (dates a..b), as_of (a date), other."""
    p = str(period or "").strip()
    if re.fullmatch(r"\d{4}(\s*\(.*\))?", p):
        return "year"
    if re.fullmatch(r"\d{4}-H[12]", p):
        return "half"
    if re.fullmatch(r"\d{4}-Q[1-4]", p):
        return "quarter"
    if re.fullmatch(r"\d{4}-\d{2}(\s*\(.*\))?", p):
        return "month"
    if re.fullmatch(r"\d{4}-W\d{2}(\s*\(.*\))?", p):
        return "week"
    if ".." in p:
        return "span"
    if p.startswith("as of"):
        return "as_of"
    return "other"


def printed_tolerance(value_as_written) -> float:
    """Half a unit of the last printed digit: '95,6%' → 0.05; '97%' → 0.5; unknown → 0.05."""
    if not isinstance(value_as_written, str):
        return 0.05
    m = re.search(r"\d+(?:[.,](\d+))?\s*%?\s*$", value_as_written.strip())
    if not m:
        return 0.05
    decimals = len(m.group(1)) if m.group(1) and len(m.group(1)) != 3 else 0
    return 0.5 * 10 ** (-decimals)


def province_facts(facts: pd.DataFrame, scope: str, year: int | None = None, period: str | None = None) -> pd.DataFrame:
    """Procedure facts for one scope (province code or 'national') and year (all periods unless given)."""
    d = facts[facts.index_id.isin(PROC_INDEX_IDS) & (facts.scope == scope)]
    if year is not None:
        d = d[d.year == year]
    if period is not None:
        d = d[d.period == period]
    return d.reset_index(drop=True)


def first_facts(f: pd.DataFrame) -> dict:
    """metric → the first fact with a value (and no component) of that metric, as a row with attributes."""
    d = f[f.value.notna() & f.component.isna()] if "component" in f else f[f.value.notna()]
    out: dict = {}
    for r in d.itertuples(index=False):
        out.setdefault(r.metric, r)
    return out


def documents(f: pd.DataFrame):
    """Facts grouped by the document that states them (source address), with each metric's first fact:
    ratios and checks only combine numbers from one document, so periods and definitions match."""
    key = f["source_url"].fillna(f["source_file"])
    for src, g in f.groupby(key, sort=True):
        yield src, g, first_facts(g)


def kpis(f: pd.DataFrame) -> pd.DataFrame:
    """KPI table for one scope-period: every stated value, and every ratio computable from stated counts."""
    rows = []
    for r in f[f.value.notna() | f.value_as_written.notna()].itertuples():
        # a bound or approximation ("trên 50%") has no exact value: kept as written, never dropped
        rows.append({"kpi": r.metric, "kind": "stated" if pd.notna(r.value) else "stated (bound, as written)",
                     "value": r.value, "unit": r.unit,
                     "value_as_written": r.value_as_written, "period": r.period, "source_url": r.source_url,
                     "quote": r.quote})
    for kpi, (num, den, name_vi, name_en, _stated) in RATIOS.items():
        for _src, _g, one in documents(f):
            a, b = one.get(num), one.get(den)
            if a is not None and b is not None and b.value and same_kind(a, b):
                rows.append({"kpi": kpi, "kind": "computed", "value": 100 * a.value / b.value, "unit": "percent",
                             "value_as_written": f"{a.value_as_written} / {b.value_as_written}", "period": a.period,
                             "source_url": a.source_url, "quote": f"{name_vi} / {name_en}: {num} ÷ {den}"})
    return pd.DataFrame(rows, columns=["kpi", "kind", "value", "unit", "value_as_written", "period", "source_url",
                                       "quote"])


def same_kind(a, b) -> bool:
    """Two facts count the same kind of thing (dossiers with dossiers, procedures with procedures)."""
    ka, kb = getattr(a, "counts", None), getattr(b, "counts", None)
    return not (isinstance(ka, str) and isinstance(kb, str) and ka != kb)


def consistency_checks(f: pd.DataFrame) -> pd.DataFrame:
    """Every check that the stated numbers allow, with both numbers, the tolerance and the result."""
    rows = []

    def add(check, stated, computed, tol, sources, note=""):
        ok = None if stated is None or computed is None else abs(stated - computed) <= tol + 1e-9
        rows.append({"check": check, "stated": stated, "computed": computed, "tolerance": tol, "ok": ok,
                     "sources": sources, "note": note})

    for doc, _g, one in documents(f):
        for total, parts in PARTS.items():
            t = one.get(total)
            ps = [p for p in (one.get(m) for m in parts) if p is not None]
            if t is None or len(ps) < 2:
                continue
            named = [m for m in parts if one.get(m) is not None]
            parts_sum = sum(p.value for p in ps)
            srcs = "; ".join(sorted({t.source_url} | {p.source_url for p in ps}))
            if len(ps) == len(parts):
                add(f"{' + '.join(named)} = {total} [{doc}]", t.value, parts_sum, 0, srcs)
            else:
                # some levels not stated: equal is consistent, more than the total is not, less cannot be judged
                ok = True if parts_sum == t.value else (False if parts_sum > t.value else None)
                rows.append({"check": f"{' + '.join(named)} ≤ {total} [{doc}]", "stated": t.value,
                             "computed": parts_sum, "tolerance": 0, "ok": ok, "sources": srcs,
                             "note": "not every level is stated: " + ", ".join(sorted(set(parts) - set(named)))})
        rec, res = one.get("dossiers_received"), one.get("dossiers_resolved")
        if rec is not None and res is not None:
            rows.append({"check": f"dossiers_resolved ≤ dossiers_received [{doc}]", "stated": res.value,
                         "computed": rec.value, "tolerance": 0, "ok": bool(res.value <= rec.value),
                         "sources": "; ".join(sorted({rec.source_url, res.source_url})), "note": ""})
        for m in STATED_RATES:
            r = one.get(m)
            if r is not None:
                rows.append({"check": f"{m} within 0–100 [{doc}]", "stated": r.value, "computed": None,
                             "tolerance": 0, "ok": bool(0 <= r.value <= 100), "sources": r.source_url, "note": ""})
        for kpi, (num, den, _vi, _en, stated) in RATIOS.items():
            if stated is None:
                continue
            s, a, b = one.get(stated), one.get(num), one.get(den)
            if s is not None and a is not None and b is not None and b.value and same_kind(a, b):
                add(f"{stated} vs {num} ÷ {den} [{doc}]", s.value, 100 * a.value / b.value,
                    printed_tolerance(s.value_as_written),
                    "; ".join(sorted({s.source_url, a.source_url, b.source_url})))
    out = pd.DataFrame(rows, columns=["check", "stated", "computed", "tolerance", "ok", "sources", "note"])
    out["flag"] = out["ok"].map({True: "ok", False: "KHÔNG KHỚP / INCONSISTENT", None: "–"})
    return out
