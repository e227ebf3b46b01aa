"""The procedure-simplification report: every section the notebook shows, as library calls."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import indices, plots, procedures, targets
from .data import load
from .errors import CchcError
from .params import as_province, as_year, check_injected, safe_dir, safe_input
from .reporting import (ReportContext, esc, install_error_display, num_en, num_vi, parameter_error, province_names,
                        save_table, show_fig, show_md, show_table, show_table_or_note)

# Procedure-related measures from the indices: (index_id, indicator, label vi, label en, view); the view
# (whose experience the index measures) comes from data/reference/indices.csv
MEASURES = [(i, k, vi, en, indices.views()[i]) for i, k, vi, en in [
    ("pci", "time_costs", "PCI Chi phí thời gian", "PCI time costs"),
    ("pci", "entry_costs", "PCI Chi phí gia nhập thị trường", "PCI entry costs"),
    ("papi", "d5_public_admin_procedures", "PAPI Thủ tục hành chính công", "PAPI public administrative procedures"),
    ("papi", "d8_e_governance", "PAPI Quản trị điện tử", "PAPI e-governance"),
    ("par", "cai_cach_tthc", "PAR Cải cách TTHC", "PAR Index: administrative-procedure reform"),
    ("sipas", "overall", "SIPAS Chỉ số hài lòng", "SIPAS satisfaction"),
]]
LEVELS = [("procedures_provincial", "Cấp tỉnh / provincial"), ("procedures_district", "Cấp huyện / district"),
          ("procedures_commune", "Cấp xã / commune")]
DOSSIER_METRICS = [("dossiers_received", "Tiếp nhận / received"), ("dossiers_resolved", "Đã giải quyết / resolved"),
                   ("dossiers_ahead_of_time", "Trước hạn / ahead of time"), ("dossiers_on_time", "Đúng hạn / on time"),
                   ("dossiers_late", "Trễ hạn / late"), ("dossiers_received_online", "Trực tuyến / online")]


def _measure_rows(scores: pd.DataFrame) -> pd.DataFrame:
    keys = pd.DataFrame([(i, k) for i, k, *_ in MEASURES], columns=["index_id", "indicator"])
    return scores.merge(keys, on=["index_id", "indicator"])


def available_years() -> list[int]:
    """Years with any procedure-related data: TTHC facts or a procedure-related index measure."""
    f = load("facts")
    years = set(int(y) for y in f[f.index_id.isin(procedures.PROC_INDEX_IDS)].year.dropna().unique())
    years |= set(int(y) for y in _measure_rows(load("scores")).year.unique())
    return sorted(years)


@dataclass
class Context(ReportContext):
    """What the procedure report knows: the year, the focal province (None: national), the facts."""
    dossiers_path: Path | None = None
    facts: pd.DataFrame = field(default=None, repr=False)

    @property
    def own(self) -> pd.DataFrame:
        """This year's procedure facts of the focal province (of the nation on a national page)."""
        return procedures.province_facts(self.facts, self.province or "national", self.year)


def setup(year, province="67", dossiers_path=None, output_dir=None) -> Context:
    """Validate the parameters (a clear message for bad ones) and load the data.

    Names papermill injected that are not parameters stop the notebook with the valid names;
    every later package error (CchcError) is shown as one message.
    """
    install_error_display()
    try:
        check_injected(["year", "province", "dossiers_path", "output_dir"], "procedure_simplification")
        plots.style()
        year = as_year(year, available_years())
        province = as_province(province, allow_none=True)
        out = safe_dir(output_dir, Path("reports") / str(year) / "procedure_simplification")
        dossiers = safe_input(dossiers_path)
    except CchcError as e:
        parameter_error(e)
    scores = load("scores")
    ranked = load("ranked")  # derived once by the build
    return Context(year, province, out, scores, ranked, *province_names(), dossiers_path=dossiers, facts=load("facts"))


def overview(ctx: Context) -> pd.DataFrame:
    """What the sources report for the province this year — and exactly what is missing."""
    own = ctx.own
    k = procedures.kpis(own)
    save_table(k, ctx.output_dir, "procedure_kpis")
    have = set(own.metric)
    wanted = ([m for m, _ in LEVELS]
              + ["procedures_total", "procedures_simplified", "procedures_online_full", "procedures_online_partial"]
              + [m for m, _ in DOSSIER_METRICS] + ["on_time_rate", "plan_tasks_total"])
    labels = procedures.metric_labels()
    missing = [labels.label_vi.get(m, m) for m in wanted if m not in have]
    periods = sorted(own.period.dropna().unique())
    if ctx.province is None:
        national_sources(ctx, own)
    elif own.empty:
        show_md(esc(f"Không có số liệu TTHC nào của {ctx.focal} cho năm {ctx.year} trong dữ liệu. "
                    f"/ No procedure (TTHC) statistics for {ctx.focal_en} in {ctx.year} in our sources. "
                    f"Thiếu / missing: {', '.join(missing)}. Phần so sánh giữa các tỉnh vẫn được trình bày bên dưới "
                    "/ the cross-province view is still shown below."))
    else:
        n_src = own.source_url.nunique()
        show_md(esc(f"{ctx.focal} {ctx.year}: {len(own)} số liệu từ {n_src} nguồn, kỳ / periods: "
                    f"{', '.join(periods)}. / {len(own)} reported {'figure' if len(own) == 1 else 'figures'} from "
                    f"{n_src} {'source' if n_src == 1 else 'sources'}.")
                + ("\n\n" + esc(f"Chưa có / not reported: {', '.join(missing)}.") if missing else ""))
        show_table(procedures.labelled(k).drop(columns=["quote", "kpi"]))
    return k


def national_sources(ctx: Context, own: pd.DataFrame) -> pd.DataFrame:
    """The national page: nationwide figures where the sources give any, then every province with reported
    statistics this year and its key figures (each province's page has all of them)."""
    if len(own):
        show_md(esc(f"Số liệu toàn quốc {ctx.year}: {len(own)}. / Nationwide figures {ctx.year}: {len(own)}."))
        show_table(procedures.labelled(procedures.kpis(own)).drop(columns=["quote", "kpi"]))
    tab = procedures.provinces_reporting(ctx.facts, ctx.year)
    save_table(tab, ctx.output_dir, "provinces_reporting")
    if tab.empty:
        show_md(esc(f"Không có tỉnh nào có số liệu TTHC năm {ctx.year} trong nguồn của chúng tôi. / No province has "
                    f"procedure (TTHC) statistics for {ctx.year} in our sources."))
        return tab
    show_md(esc(f"{len(tab)} tỉnh có số liệu TTHC năm {ctx.year} trong nguồn của chúng tôi (không phải toàn bộ các "
                f"tỉnh, nên không xếp hạng và không cộng gộp; các số có thể thuộc các kỳ khác nhau, ghi trong ngoặc). "
                f"Trang của từng tỉnh có đầy đủ số liệu. / {len(tab)} provinces have procedure statistics for "
                f"{ctx.year} in our sources (not all provinces: no ranking, no totals; figures may be of different "
                f"periods, given in brackets). Each province's page has all its figures."))
    headers = {"province_code": "Tỉnh / province", "figures": "số liệu / figures", "sources": "nguồn / sources",
               "periods": "kỳ / periods"}
    headers.update({m: procedures.metric_label(m) for m in procedures.KEY_METRICS})
    shown = tab.assign(province_code=tab.province_code.map(ctx.names)).rename(columns=headers)
    show_table(shown)
    return tab


def inventory(ctx: Context) -> pd.DataFrame:
    """Procedures in force by level, each level's share, and fully-online procedures."""
    own = ctx.own
    rows = []
    for m, label in LEVELS + [(x, procedures.metric_label(x)) for x in
                              ("procedures_total", "procedures_online_full", "procedures_online_partial",
                               "procedures_simplified")]:
        r = own[(own.metric == m) & own.value.notna()]
        for x in r.itertuples():
            rows.append({"metric": m, "label": label, "component": x.component, "value": x.value,
                         "value_as_written": x.value_as_written, "period": x.period, "source_url": x.source_url})
    tab = pd.DataFrame(rows, columns=["metric", "label", "component", "value", "value_as_written", "period",
                                      "source_url"])
    save_table(tab, ctx.output_dir, "procedure_inventory")
    lv = tab[tab.metric.isin([m for m, _ in LEVELS]) & tab.component.isna()]
    if lv.empty:
        show_md(esc(f"Không có số TTHC theo cấp của {ctx.focal} năm {ctx.year}. / "
                    "No procedures-by-level count for this year."))
        return tab
    total = tab[(tab.metric == "procedures_total") & tab.component.isna()]
    t = float(total.value.iloc[0]) if len(total) else lv.value.sum()
    show_fig(plots.bars(list(lv.label), list(lv.value), f"TTHC đang áp dụng theo cấp — {ctx.focal} {ctx.year}",
                        "Procedures in force by level", "Số TTHC / procedures", fmt="{:,.0f}", from_zero=True))
    parts = "; ".join(f"{r.label.split(' / ')[0]} {num_vi(r.value, 0)} ({num_vi(100 * r.value / t, 1)}%)"
                      for r in lv.itertuples())
    show_md(esc(f"{ctx.focal} có {num_vi(t, 0)} TTHC: {parts}. / "
                f"{ctx.focal_en} has {num_en(t, 0)} procedures in force."))
    show_table(tab.drop(columns=["source_url"]))
    return tab


def dossier_handling(ctx: Context) -> pd.DataFrame:
    """Dossiers received / resolved / ahead / on time / late with the rates, stated and computed."""
    own = ctx.own
    k = procedures.kpis(own)
    keep = [m for m, _ in DOSSIER_METRICS] + list(procedures.RATIOS) + procedures.STATED_RATES
    tab = k[k.kpi.isin(keep)].reset_index(drop=True)
    save_table(tab, ctx.output_dir, "dossier_kpis")
    counts = own[own.metric.isin([m for m, _ in DOSSIER_METRICS]) & own.value.notna() & own.component.isna()]
    if counts.empty:
        show_md(esc(f"Không có số liệu hồ sơ của {ctx.focal} năm {ctx.year}. / No dossier counts for this year."))
        return tab
    for period, g in counts.groupby("period"):
        labels = dict(DOSSIER_METRICS)
        show_fig(plots.bars([labels[m] for m in g.metric], list(g.value),
                            f"Giải quyết hồ sơ — {ctx.focal}, kỳ {period}",
                            f"Dossier handling, period {period}", "Số hồ sơ / dossiers", fmt="{:,.0f}", from_zero=True))
    show_table(procedures.labelled(tab).drop(columns=["quote", "kpi"]))
    return tab


def checks(ctx: Context) -> pd.DataFrame:
    """Display and save the consistency checks of this year's reported figures."""
    c = procedures.consistency_checks(ctx.own)
    save_table(c, ctx.output_dir, "consistency_checks")
    if c.empty:
        show_md("*Không có kiểm tra nào áp dụng được / no checks apply to the reported figures.*")
        return c
    bad = c[c.ok.eq(False)]
    show_md(esc(f"{len(c)} kiểm tra, {len(bad)} không khớp. / {len(c)} checks, {len(bad)} inconsistent.")
            + ("" if bad.empty else "\n\n**" + esc("Không khớp / inconsistent: " + "; ".join(bad.check)) + "**"))
    show_table(c)
    return c


def history_and_neighbours(ctx: Context) -> pd.DataFrame:
    """Like with like: the focal province's previous year first (same metric, same period kind), then the
    region's provinces on rates only (not raw counts: provinces differ in size), same period kind, each with
    its source. Unlike periods are never set side by side."""
    f = ctx.facts
    lab = procedures.metric_label
    kind = procedures.period_kind
    own = ctx.own[ctx.own.value.notna()].assign(period_kind=lambda d: d.period.map(kind))
    prev = procedures.province_facts(f, ctx.province, ctx.year - 1)
    prev = prev[prev.value.notna()].assign(period_kind=lambda d: d.period.map(kind))
    rows = []
    for r in own.itertuples():
        p = prev[(prev.metric == r.metric) & (prev.period_kind == r.period_kind)]
        base = {"metric": r.metric, "label": lab(r.metric), "period_kind": r.period_kind, "unit": r.unit}
        rows.append({**base, "province": ctx.focal, "year": ctx.year, "period": r.period, "value": r.value,
                     "source_url": r.source_url})
        if p.empty:
            rows.append({**base, "province": ctx.focal, "year": ctx.year - 1, "period": None, "value": None,
                         "source_url": "chưa công bố / not published"})
        for q in p.itertuples():
            rows.append({**base, "province": ctx.focal, "year": ctx.year - 1, "period": q.period, "value": q.value,
                         "source_url": q.source_url})
    region = load("provinces").set_index("code").region_6
    same = [c for c in region.index if region[c] == region.get(ctx.province) and c != ctx.province]
    kinds = set(own.period_kind) or {"year"}
    n = f[f.index_id.isin(procedures.PROC_INDEX_IDS) & f.scope.isin(same) & (f.year == ctx.year) & f.value.notna()
          & f.unit.eq("percent")]
    n = n.assign(period_kind=n.period.map(kind))
    n = n[n.period_kind.isin(kinds)]
    for r in n.itertuples():
        rows.append({"metric": r.metric, "label": lab(r.metric), "period_kind": r.period_kind, "unit": r.unit,
                     "province": ctx.names.get(r.scope, r.scope), "year": ctx.year, "period": r.period,
                     "value": r.value, "source_url": r.source_url})
    tab = pd.DataFrame(rows, columns=["province", "year", "period", "period_kind", "metric", "label", "value", "unit",
                                      "source_url"])
    save_table(tab, ctx.output_dir, "neighbours_previous_year")
    shown = tab.drop(columns=["metric"])
    if own.empty:
        show_md(esc(f"{ctx.focal} không có số liệu TTHC năm {ctx.year} để so sánh với năm trước. / "
                    f"{ctx.focal_en} has no procedure statistics for {ctx.year} to compare with the year before."))
    else:
        had = int(tab[(tab.province == ctx.focal) & (tab.year == ctx.year - 1)].value.notna().sum())
        show_md(esc(f"Năm trước ({ctx.year - 1}): {had} trong {len(own)} số liệu của {ctx.focal} "
                    "có số cùng loại kỳ đã công bố. "
                    f"Các tỉnh cùng vùng chỉ được so sánh bằng tỷ lệ (%), cùng loại kỳ ({', '.join(sorted(kinds))}). / "
                    f"Previous year ({ctx.year - 1}): {had} of the {len(own)} figures have a published value "
                    "for the same kind of period. "
                    "The region's provinces are compared on rates (%) only, same period kind."))
    if len(shown):
        show_table(shown, max_rows=60)
    return tab


def cross_province(ctx: Context) -> pd.DataFrame:
    """Procedure-related measures of every province side by side, focal province marked."""
    d = _measure_rows(ctx.ranked[ctx.ranked.year == ctx.year])
    if d.empty:
        show_md(f"*Năm {ctx.year} không có chỉ số liên quan đến thủ tục / "
                "no procedure-related index measures this year.*")
        return pd.DataFrame()
    label = {(i, k): en for i, k, _vi, en, _v in MEASURES}
    d = d.assign(measure=[label[(i, k)] for i, k in zip(d.index_id, d.indicator)])
    wide = d.pivot_table(index="province_code", columns="measure", values="value").reset_index()
    wide.insert(1, "province", wide.province_code.map(ctx.names))
    save_table(wide, ctx.output_dir, "cross_province_measures")
    cover = d.groupby("measure").agg(provinces=("province_code", "nunique"), coverage=("coverage", "first"))
    show_md(esc("Số tỉnh có dữ liệu / provinces covered: "
                + "; ".join(f"{m}: {r.provinces} ({r.coverage})" for m, r in cover.iterrows())))
    full = [m for m in wide.columns[2:] if wide[m].notna().sum() >= 20]
    if full:
        mat = wide.set_index("province")[full]
        mat = mat.sort_values(full[0], ascending=False)
        z = (mat - mat.mean()) / mat.std()
        show_fig(plots.heatmap(z, f"Các thước đo liên quan đến thủ tục, {ctx.year} (điểm chuẩn hoá z)",
                               "Procedure-related measures by province (z-scores within each measure)",
                               focal_label=ctx.focal, center=0, cmap="RdYlGn"))
    if len(full) >= 2:
        a, b = full[0], full[1]
        show_fig(plots.scatter(wide, a, b, "province", ctx.focal, f"{a} và {b}, {ctx.year}",
                               "Do the views agree? Each dot is a province", a, b))
        rho = wide[[a, b]].dropna().corr(method="spearman").iloc[0, 1]
        n = len(wide[[a, b]].dropna())
        show_md(esc(f"Hệ số Spearman giữa {a} và {b}: {num_vi(rho)} (n = {n}). / "
                    f"Spearman rho {num_en(rho)} over {n} provinces."))
    focal = d[d.province_code == ctx.province][["measure", "value", "rank", "rank_source", "n_ranked", "coverage"]]
    save_table(focal, ctx.output_dir, "cross_province_focal")
    if len(focal):
        show_md(f"**{esc(ctx.focal)}**")
        show_table(focal)
    return wide


def stated_targets(ctx: Context) -> pd.DataFrame:
    """The focal province's stated targets (from the year they were stated) against the latest values."""
    if ctx.province is None:
        show_md("*Mục tiêu là của từng tỉnh: xem trang tỉnh. / Targets are each province's own: see its page.*")
        return pd.DataFrame()
    g = targets.target_gaps(ctx.ranked, ctx.province, as_of=ctx.year)
    own = ctx.facts[(ctx.facts.scope == ctx.province) & ctx.facts.metric.str.startswith("target_")]
    save_table(g, ctx.output_dir, "targets")
    show_table_or_note(g, esc(f"Không có mục tiêu đã công bố của {ctx.focal}. / No stated targets for this province."),
                       empty=g.empty and own.empty)
    return g


def dossier_export(ctx: Context) -> pd.DataFrame:
    """KPIs from a dossier-level export, when one is given (by level and by month)."""
    if ctx.dossiers_path is None:
        show_md("*Không có tệp hồ sơ chi tiết (`dossiers_path`) / no dossier-level export given.*")
        return pd.DataFrame()
    from . import dossiers
    from .errors import SourceError

    try:
        by_level = dossiers.dossier_kpis(ctx.dossiers_path, by=("level",))
        by_month = dossiers.dossier_kpis(ctx.dossiers_path, by=("month",), validate=False)   # checked above
    except SourceError as e:      # one message naming file, row and column; no traceback to read
        show_md(f"**Lỗi tệp hồ sơ / dossier export error:** {esc(e)}")
        raise SystemExit(f"dossier export error: {e}") from None
    save_table(by_level, ctx.output_dir, "export_kpis_by_level")
    save_table(by_month, ctx.output_dir, "export_kpis_by_month")
    label = ("**DỮ LIỆU TỔNG HỢP GIẢ LẬP / SYNTHETIC – generated for tests and benchmarks, "
             "not a province's real data.** "
             if by_level.attrs.get("synthetic") else "")
    as_of = by_level.attrs.get("as_of")
    show_md(label + esc(f"Tệp / export: {ctx.dossiers_path.name}; tính đến / as of {as_of}"))
    months = by_month["month"].astype(str)
    other = sorted({m[:4] for m in months} - {str(ctx.year)})
    if other:  # the report is about one year: the monthly table keeps that year, the rest is flagged
        n_col = "received" if "received" in by_month.columns else None
        outside = int(by_month.loc[~months.str.startswith(str(ctx.year)), n_col].sum()) if n_col else None
        count_vi = f" ({num_vi(outside, 0)} hồ sơ)" if outside is not None else ""
        count_en = f" ({num_en(outside, 0)} dossiers)" if outside is not None else ""
        show_md("**" + esc(f"Lưu ý: tệp có hồ sơ tiếp nhận ngoài năm {ctx.year}: {', '.join(other)}{count_vi}. "
                           f"Bảng theo tháng chỉ giữ năm {ctx.year}; bảng theo cấp tính trên toàn bộ tệp. / "
                           f"Note: the export has dossiers received outside {ctx.year}: {', '.join(other)}{count_en}. "
                           f"The monthly table keeps {ctx.year} only; "
                           "the by-level table covers the whole file.") + "**")
        by_month = by_month[months.str.startswith(str(ctx.year))].reset_index(drop=True)
        save_table(by_month, ctx.output_dir, "export_kpis_by_month")
    show_table(by_level)
    show_table(by_month)
    return by_level


def brief(ctx: Context):
    """The bilingual brief for the focal province and year, procedure statistics first (narrative.brief)."""
    from . import narrative

    return narrative.report_brief(ctx, kind="procedure")
