"""The ranking-trend report: every section the notebook shows, as library calls.

The notebook is a parameters cell plus one call per section; each call displays its
commentary (Vietnamese with English), figure and table, and saves the key table as CSV.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import compare, plots, ranking
from .indices import ids as index_ids
from .data import load
from .errors import CchcError
from .params import as_indices, as_int, as_province, as_year, check_injected, safe_dir
from .provinces import provinces, provinces_63, units_2025, units_in
from .reporting import (INDEX_NAMES, ReportContext, esc, install_error_display, num_en, num_vi, ordinal_en,
                        parameter_error, province_names, save_table, show_fig, show_md, show_table)


def available_years() -> list[int]:
    """Years with any score."""
    return sorted(int(y) for y in load("scores")["year"].unique())


@dataclass
class Context(ReportContext):
    """What the ranking report knows: the year, focal province, indices, window and the tables."""
    indices: list[str] = field(default_factory=list)
    window: int = 5
    changed: pd.DataFrame = field(default=None, repr=False)
    indicators: pd.DataFrame = field(default=None, repr=False)

    def year_rows(self, index_id: str, indicator: str = "overall", year: int | None = None) -> pd.DataFrame:
        """Rows (with ranks and changes) of one index and indicator in a year (default: the report's)."""
        c = self.changed
        return c[(c.index_id == index_id) & (c.year == (year or self.year)) & (c.indicator == indicator)]

    def is_full(self, index_id: str, year: int | None = None) -> bool:
        """Whether the index has a full table in the year (else partial: published ranks only)."""
        d = self.year_rows(index_id, year=year)
        return bool(len(d)) and (d.coverage == "full").any()

    def ind_name(self, index_id: str, indicator: str) -> tuple[str, str]:
        """(Vietnamese, English) name of an indicator from the catalogue."""
        r = self.indicators[(self.indicators.index_id == index_id) & (self.indicators.indicator == indicator)]
        if r.empty:
            return indicator, indicator
        r = r.iloc[0]
        return ((r.name_vi if isinstance(r.name_vi, str) else indicator),
                (r.name_en if isinstance(r.name_en, str) else indicator))


def setup(year, province="67", indices=None, window=5, output_dir=None) -> Context:
    """Validate the parameters (a clear message, not a traceback, for bad ones) and load the data.

    Names papermill injected that are not parameters (`-p provnce 01`) stop the notebook with the
    valid names; every later package error (CchcError) is shown as one message.
    """
    install_error_display()
    try:
        check_injected(["year", "province", "indices", "window", "output_dir"], "ranking_trends")
        return _setup(year, province, indices, window, output_dir)
    except CchcError as e:
        parameter_error(e)


def _setup(year, province, indices, window, output_dir) -> Context:
    plots.style()
    scores = load("scores")
    year = as_year(year, sorted(int(y) for y in scores["year"].unique()))
    province = as_province(province, allow_none=True)
    window = as_int("window", window, 1, 20)
    have = sorted(scores[scores.year == year].index_id.unique(), key=index_ids().index)
    indices = as_indices(indices, have)
    out = safe_dir(output_dir, Path("reports") / str(year) / "ranking_trends")
    indicators = load("indicators")
    ranked, changed = load("ranked"), load("changes")  # derived once by the build
    return Context(year, province, out, scores, ranked, *province_names(), indices=indices, window=window,
                   changed=changed, indicators=indicators)


_existing = units_in


def _label(ctx: Context, code: str) -> str:
    return ctx.names.get(code, code)


def coverage_note(ctx: Context) -> pd.DataFrame:
    """Which indices have data this year, for how many provinces, full or partial — said plainly."""
    rows = []
    for idx in index_ids():
        d = ctx.year_rows(idx)
        n_val = int(d.value.notna().sum())
        n_rank = int(d["rank"].notna().sum())
        full = ctx.is_full(idx)
        present = set(d.province_code)
        expected = (set(provinces().code) if ctx.year < 2008 else set(provinces_63().code) if ctx.year < 2025
                    else set(units_2025().unit_code))
        missing = sorted(expected - present) if full else []
        rows.append({"index": idx.upper(), "provinces_with_score": n_val, "provinces_with_rank": n_rank,
                     "coverage": "đầy đủ / full" if full else ("một phần / partial" if len(d) else "không có / none"),
                     "missing_provinces": ", ".join(_label(ctx, c) for c in missing)})
    cov = pd.DataFrame(rows)
    save_table(cov, ctx.output_dir, "coverage")
    lines = [f"**Độ phủ dữ liệu năm {ctx.year} / Data coverage {ctx.year}**", ""]
    for r in cov.itertuples():
        if r.coverage.startswith("không"):
            lines.append(f"- {r.index}: không có dữ liệu năm {ctx.year} / no data for {ctx.year}.")
        elif r.coverage.startswith("một phần"):
            lines.append(f"- {r.index}: **chỉ một phần** — {r.provinces_with_score} tỉnh có điểm, "
                         f"{r.provinces_with_rank} có thứ hạng (không phải bảng xếp hạng đầy đủ) / **partial** — "
                         f"{r.provinces_with_score} {'province' if r.provinces_with_score == 1 else 'provinces'} "
                         f"with a score, {r.provinces_with_rank} with a rank (not a full ranking).")
        else:
            miss = f"; thiếu / missing: {esc(r.missing_provinces)}" if r.missing_provinces else ""
            lines.append(f"- {r.index}: đầy đủ / full — {r.provinces_with_score} tỉnh / provinces{miss}."
                         f"{_rank_agreement(ctx, r.index.lower())}")
    show_md("\n".join(lines))
    return cov


def _rank_agreement(ctx: Context, index_id: str) -> str:
    """Whether our competition ranks reproduce the published ones this year (ranking.rank_check)."""
    d = ctx.ranked[(ctx.ranked.index_id == index_id) & (ctx.ranked.year == ctx.year)
                   & (ctx.ranked.indicator == "overall")]
    n_pub = int(d.published_rank.notna().sum())
    if n_pub == 0:
        return " Không có thứ hạng công bố; thứ hạng được tính / no published ranks; ranks are computed."
    diff = ranking.rank_check(d)
    if diff.empty:
        return f" Thứ hạng tính lại khớp {n_pub} thứ hạng công bố / recomputed ranks match all {n_pub} published ranks."
    who = ", ".join(f"{ctx.names[c]} ({int(p)} vs {int(q)})" for c, p, q in
                    zip(diff.province_code, diff.published_rank, diff.computed_rank))
    return (f" Thứ hạng công bố khác thứ hạng tính lại / published ranks differ from recomputed ones for: {esc(who)} "
            "— bảng giữ thứ hạng công bố / the tables keep the published ranks.")


def league_table(ctx: Context, index_id: str) -> pd.DataFrame:
    """Rank, province, score, change vs the previous year, published tier; commentary on the focal province."""
    d = ctx.year_rows(index_id).copy()
    d["province"] = d.province_code.map(ctx.names)
    tab = d.sort_values(["rank", "province_code"], na_position="last")[
        ["rank", "rank_source", "province_code", "province", "value", "score_change", "rank_change",
         "published_tier", "coverage", "note", "source_file"]].rename(columns={"value": "score"})
    save_table(tab, ctx.output_dir, f"league_{index_id}")
    vi_name, en_name = INDEX_NAMES[index_id]
    show_md(f"### {esc(vi_name)} {ctx.year}\n*{esc(en_name)}*\n\n{esc(commentary_rank(ctx, index_id))}")
    show_table(tab.drop(columns=["source_file", "coverage"]))
    conflicts_note(ctx, index_id)
    return tab


def conflicts_note(ctx: Context, index_id: str) -> pd.DataFrame:
    """Sources that disagree for this index and year (the `conflicts` table): said, and saved when any."""
    c = load("conflicts")
    c = c[(c.index_id == index_id) & (c.year == ctx.year)].copy()
    if not len(c):
        return c
    c["province"] = c.province_code.map(lambda k: ctx.names.get(k, k))
    tab = c[["province_code", "province", "indicator", "field", "value_a", "value_b", "chosen", "reason",
             "source_a", "source_b"]]
    save_table(tab, ctx.output_dir, f"conflicts_{index_id}")
    who = ", ".join(sorted(set(tab.province)))
    show_md(f"**Nguồn mâu thuẫn / conflicting sources:** {len(tab)} trường hợp "
            f"các nguồn không thể cùng đúng hoặc khác nhau ({esc(who)}); bảng trên giữ giá trị đã chọn, "
            f"cả hai nguồn được lưu trong `conflicts_{index_id}.csv` / "
            f"{len(tab)} cases where sources differ or cannot both be true ({esc(who)}); "
            f"the table above keeps the chosen value, both sources are kept in `conflicts_{index_id}.csv`.")
    show_table(tab.drop(columns=["source_a", "source_b"]))
    return tab


def commentary_rank(ctx: Context, index_id: str, indicator: str = "overall") -> str:
    """One sentence (vi / en) on the focal province's position and change."""
    d = ctx.year_rows(index_id, indicator)
    f = d[d.province_code == ctx.province]
    name, name_en = ctx.focal, ctx.focal_en
    up = index_id.upper()
    if ctx.province is None:
        n = int(d.value.notna().sum())
        kind_vi = "bảng đầy đủ" if ctx.is_full(index_id) else "dữ liệu một phần (chỉ thứ hạng công bố)"
        kind_en = "full table" if ctx.is_full(index_id) else "partial data (published ranks only)"
        return (f"{up} {ctx.year}: {n} tỉnh có điểm, {kind_vi}. / {up} {ctx.year}: "
                f"{n} {'province' if n == 1 else 'provinces'} with a score, {kind_en}.")
    if f.empty:
        return (f"{name} không có dữ liệu {up} năm {ctx.year}. / {name_en} has no {up} data for {ctx.year}.")
    r = f.iloc[0]
    of = (int(r.n_ranked) if r.rank_source == "computed"
          else (_existing(ctx.year) if r.rank_source == "published" else None))
    rank_txt_vi = f"xếp thứ {int(r['rank'])}" + (f"/{of}" if of else "") if pd.notna(r["rank"]) else "chưa có thứ hạng"
    rank_txt_en = (f"ranked {ordinal_en(r['rank'])}" + (f" of {of}" if of else "") if pd.notna(r["rank"])
                   else "has no rank")
    val_vi = f" ({num_vi(r.value)} điểm)" if pd.notna(r.value) else ""
    val_en = f" ({num_en(r.value)} points)" if pd.notna(r.value) else ""
    ch_vi = ch_en = ""
    if pd.notna(r.rank_change):
        k = int(r.rank_change)
        if k > 0:
            ch_vi, ch_en = f", tăng {k} bậc so với {int(r.prev_year)}", f", up {_places(k)} from {int(r.prev_year)}"
        elif k < 0:
            ch_vi, ch_en = f", giảm {-k} bậc so với {int(r.prev_year)}", f", down {_places(-k)} from {int(r.prev_year)}"
        else:
            ch_vi, ch_en = f", giữ nguyên thứ hạng so với {int(r.prev_year)}", f", unchanged from {int(r.prev_year)}"
    elif isinstance(r.note, str) and r.note.startswith("not comparable"):
        ch_vi, ch_en = " (không so sánh được với năm trước do thay đổi phương pháp)", f" ({r.note})"
    n = len(d)
    partial_vi = (f" — thứ hạng công bố; nguồn chỉ có {n}/{_existing(ctx.year)} tỉnh năm này"
                  if r.coverage == "partial" else "")
    partial_en = (f" — published rank; our sources cover {n} of {_existing(ctx.year)} provinces this year"
                  if r.coverage == "partial" else "")
    return (f"{name} {rank_txt_vi} về {up} {ctx.year}{val_vi}{ch_vi}{partial_vi}. / "
            f"{name_en} {rank_txt_en} in {up} {ctx.year}{val_en}{ch_en}{partial_en}.")


def _places(k: int) -> str:
    return f"{k} place" if k == 1 else f"{k} places"


def distribution(ctx: Context, index_id: str) -> None:
    """Histogram of this year's scores with the focal province and the median marked."""
    d = ctx.year_rows(index_id)
    if d.value.notna().sum() < 5:
        show_md(f"*{index_id.upper()} {ctx.year}: quá ít tỉnh có điểm để vẽ phân bố / "
                "too few provinces with a score for a distribution.*")
        return
    f = d[d.province_code == ctx.province].value
    fv = float(f.iloc[0]) if len(f) and pd.notna(f.iloc[0]) else None
    show_fig(plots.distribution(d.value, fv, ctx.focal, f"Phân bố điểm {index_id.upper()} {ctx.year}",
                                f"Distribution of {index_id.upper()} scores"
                                + (" (partial)" if not ctx.is_full(index_id) else ""),
                                "Điểm / score"))
    med = d.value.median()
    n, of = int(d.value.notna().sum()), _existing(ctx.year)
    if ctx.province is None:
        basis_vi = ("" if ctx.is_full(index_id)
                    else f" (chỉ các tỉnh mà nguồn đưa tin, trên {of}; không đại diện cho cả nước)")
        basis_en = ("" if ctx.is_full(index_id)
                    else f" (only the provinces the sources reported, of {of}; not the country)")
        show_md(esc(f"Trung vị {num_vi(med)} trên {n} tỉnh có điểm{basis_vi}. / Median {num_en(med)} over the "
                    f"{n} provinces with a score{basis_en}."))
    elif fv is None:
        show_md(esc(f"{ctx.focal} không có điểm {index_id.upper()} {ctx.year} trong nguồn; "
                    f"trung vị của {n} tỉnh có điểm: {num_vi(med)}. / "
                    f"{ctx.focal_en} has no {index_id.upper()} {ctx.year} score in our sources; "
                    f"median of the {n} provinces with a score: {num_en(med)}."))
    elif ctx.is_full(index_id):
        above = int((d.value > fv).sum())
        show_md(esc(f"{ctx.focal}: {num_vi(fv)} điểm, trung vị {num_vi(med)} ({n} tỉnh); {above} tỉnh cao hơn. / "
                    f"{ctx.focal_en}: {num_en(fv)} points, median {num_en(med)} ({n} provinces); "
                    f"{above} {'province' if above == 1 else 'provinces'} higher."))
    else:  # a convenience sample: no position inside it, only the published rank
        r = d[d.province_code == ctx.province].iloc[0]
        rank_vi = (f"thứ hạng công bố {int(r.published_rank)}/{of}" if pd.notna(r.published_rank)
                   else "không có thứ hạng công bố")
        rank_en = (f"published rank {int(r.published_rank)} of {of}" if pd.notna(r.published_rank)
                   else "no published rank")
        show_md(esc(f"{ctx.focal}: {num_vi(fv)} điểm, {rank_vi}. Trung vị {num_vi(med)} chỉ tính trên {n} tỉnh "
                    f"mà nguồn đưa tin (trên {of}), không đại diện cho cả nước. / "
                    f"{ctx.focal_en}: {num_en(fv)} points, {rank_en}. The median "
                    f"{num_en(med)} is over the {n} provinces the sources reported (of {of}), not the country."))


def bump(ctx: Context, index_id: str) -> pd.DataFrame:
    """Ranks over the window (full years only), focal province and its region's peers in colour."""
    r = ctx.ranked
    years = list(range(ctx.year - ctx.window + 1, ctx.year + 1))
    d = r[(r.index_id == index_id) & (r.indicator == "overall") & r.year.isin(years) & r["rank"].notna()
          & (r.coverage == "full")][["year", "province_code", "rank"]]
    save_table(d.sort_values(["year", "rank"]), ctx.output_dir, f"ranks_window_{index_id}")
    if d.year.nunique() < 2:
        show_md(f"*{index_id.upper()}: cần ít nhất hai năm đầy đủ trong cửa sổ {years[0]}–{years[-1]} "
                "để vẽ biểu đồ thứ hạng / "
                f"at least two full years are needed in {years[0]}–{years[-1]} for a rank chart.*")
        return d
    region = load("provinces").set_index("code").region_6
    peers = [c for c in region.index if region[c] == region.get(ctx.province) and c != ctx.province]
    peers = [p for p in peers if p in set(d.province_code)]
    if ctx.province is None:
        show_fig(plots.bump_chart(d, None, [], ctx.names,
                                  f"Thứ hạng {index_id.upper()} {d.year.min()}–{d.year.max()}: nhóm đầu và cuối bảng",
                                  f"{index_id.upper()} ranks: the top and bottom provinces"))
        return d
    show_fig(plots.bump_chart(d, ctx.province, peers, ctx.names,
                              f"Thứ hạng {index_id.upper()} {d.year.min()}–{d.year.max()}: "
                              f"{ctx.focal} và các tỉnh cùng vùng",
                              f"{index_id.upper()} ranks: {ctx.focal_en}, its regional peers, top and bottom"))
    show_md(esc(commentary_path(ctx, index_id, d)))
    return d


def commentary_path(ctx: Context, index_id: str, ranks: pd.DataFrame) -> str:
    """The focal province's rank path over the window, and its best year (vi / en)."""
    f = ranks[ranks.province_code == ctx.province].sort_values("year")
    up = index_id.upper()
    if f.empty:
        return (f"{ctx.focal} không có thứ hạng {up} trong giai đoạn này. / "
                f"{ctx.focal_en} has no {up} rank in this window.")
    path = " → ".join(str(int(r)) for r in f["rank"])
    best = f.loc[f["rank"].idxmin()]
    y0, y1 = int(f.year.iloc[0]), int(f.year.iloc[-1])
    return (f"{ctx.focal}, {up} {y0}–{y1}: {path}; tốt nhất hạng {int(best['rank'])} năm {int(best.year)}. / "
            f"{ctx.focal_en}, {up} {y0}–{y1}: {path}; best {ordinal_en(best['rank'])} in {int(best.year)}. "
            "(Các năm thay đổi phương pháp vẫn hiện thứ hạng công bố / years across a methodology break still show "
            "the published ranks.)")


MIN_MOVERS = 10  # no mover list over fewer provinces with a rank in both years


def movers(ctx: Context, index_id: str, n: int = 5) -> pd.DataFrame:
    """Top risers and fallers, over the provinces with comparable ranks in both years (named)."""
    d = ctx.year_rows(index_id)
    basis = int(d.rank_change.notna().sum())
    if 0 < basis < MIN_MOVERS:
        tab = pd.DataFrame(columns=["kind", "province_code", "province", "rank", "prev_rank", "rank_change",
                                    "score_change"])
        save_table(tab, ctx.output_dir, f"movers_{index_id}")
        show_md(esc(f"{index_id.upper()} {ctx.year}: chỉ {basis} tỉnh có thứ hạng ở cả hai năm trong nguồn "
                    f"(cần ít nhất {MIN_MOVERS}), nên không liệt kê tỉnh tăng/giảm mạnh nhất. / only {basis} "
                    f"{'province has' if basis == 1 else 'provinces have'} a rank in both years in our sources "
                    f"(at least {MIN_MOVERS} needed): no movers list."))
        return tab
    m = ranking.movers(ctx.changed, index_id, ctx.year, n=n)
    rows = []
    for kind, df in m.items():
        for r in df.itertuples():
            rows.append({"kind": {"risers": "tăng / risers", "fallers": "giảm / fallers"}[kind],
                         "province_code": r.province_code, "province": ctx.names[r.province_code],
                         "rank": r.rank, "prev_rank": r.prev_rank, "rank_change": r.rank_change,
                         "score_change": r.score_change})
    tab = pd.DataFrame(rows, columns=["kind", "province_code", "province", "rank", "prev_rank", "rank_change",
                                      "score_change"])
    save_table(tab, ctx.output_dir, f"movers_{index_id}")
    if tab.empty:
        note = ctx.year_rows(index_id).note.dropna()
        why = note.iloc[0] if len(note) else "no comparable previous year"
        show_md(esc(f"{index_id.upper()} {ctx.year}: không tính được thay đổi thứ hạng / no rank changes ({why})."))
        return tab
    top = tab[tab.kind == "tăng / risers"].head(1)
    of = _existing(ctx.year)
    scope_vi = f"trong {basis} tỉnh có thứ hạng ở cả hai năm" + (f" (trên {of})" if basis < of else "")
    scope_en = f"among the {basis} provinces ranked in both years" + (f" (of {of})" if basis < of else "")
    if len(top):
        t = top.iloc[0]
        show_md(esc(f"Tăng mạnh nhất {scope_vi}: {t.province} (+{int(t.rank_change)} bậc, lên thứ {int(t['rank'])}). / "
                    f"Biggest riser {scope_en}: {ctx.names_en[t.province_code]} (up {_places(int(t.rank_change))} "
                    f"to {ordinal_en(t['rank'])})."))
    show_table(tab)
    return tab


def _components(ctx: Context, index_id: str) -> tuple[pd.DataFrame, list[str]]:
    """The year's sub-index/dimension scores and their ids in catalogue order (one rule for heatmap and maps).

    Sub-dimensions (PAPI ``d1_1_*``) and the unweighted PCI are left to the tables; a PAR component
    published both in points and in percent of its maximum is shown in percent (``*_pct``) only.
    """
    s = ctx.scores
    d = s[(s.index_id == index_id) & (s.year == ctx.year) & (s.indicator != "overall") & s.value.notna()]
    found = set(d.indicator)
    subs = [i for i in found if not i.startswith(("overall", "unweighted"))
            and not re.match(r"d\d+_\d+_", i) and f"{i}_pct" not in found]
    order = list(ctx.indicators[ctx.indicators.index_id == index_id].indicator)
    cols = sorted(subs, key=lambda c: order.index(c) if c in order else len(order))
    return d[d.indicator.isin(cols)], cols


def maps(ctx: Context, index_id: str) -> str:
    """The national picture on maps: the headline (every year) and each sub-index (full years only).

    A partial year colours only the provinces with a score and hatches the rest; the legend counts them.
    Returns the alt text of the headline map ('' when the year has no score or no map library).
    """
    try:
        from . import maps as vmaps
    except ImportError:  # geopandas is an install requirement; say so rather than fail the page
        show_md("*Bản đồ cần geopandas / maps need geopandas (pip install -e .).*")
        return ""
    rows = ctx.year_rows(index_id)
    values = rows.set_index("province_code")["value"].dropna()
    name_vi, name_en = INDEX_NAMES.get(index_id, (index_id.upper(), index_id.upper()))
    if values.empty:
        show_md(f"*{index_id.upper()} {ctx.year}: không có điểm để vẽ bản đồ / no scores to map.*")
        return ""
    units = "34" if ctx.year >= 2025 else "63"
    of = _existing(ctx.year)
    full = ctx.is_full(index_id)
    unit = _unit_label(ctx, index_id)
    fig, alt = vmaps.choropleth(values, units=units, title_vi=f"{index_id.upper()}: điểm tổng hợp",
                                title_en=f"{index_id.upper()}: headline score", legend_vi=unit[0], legend_en=unit[1],
                                year=ctx.year, highlight=ctx.province if ctx.province in values.index else None,
                                n_expected=of)
    show_fig(fig, alt)
    basis_vi = "bảng đầy đủ" if full else "dữ liệu một phần, chỉ tô màu các tỉnh có điểm"
    basis_en = "full table" if full else "partial data: only provinces with a score are coloured"
    show_md(esc(f"{name_vi}: {len(values)}/{of} tỉnh có điểm năm {ctx.year} ({basis_vi}). / "
                f"{name_en}: {len(values)} of {of} provinces with a score in {ctx.year} ({basis_en})."))
    if not full:
        return alt
    d, cols = _components(ctx, index_id)
    if cols:
        frame = d.pivot_table(index="province_code", columns="indicator", values="value")[cols]
        titles = {c: ctx.ind_name(index_id, c) for c in cols}
        fig, sm_alt = vmaps.small_multiples(frame, titles, units=units,
                                            title_vi=f"Chỉ số thành phần {index_id.upper()}",
                                            title_en=f"{index_id.upper()} sub-indices", year=ctx.year,
                                            highlight=ctx.province if ctx.province in frame.index else None,
                                            n_expected=of, ncols=4)
        show_fig(fig, sm_alt)
        show_md(esc("Mỗi bản đồ nhỏ có thang màu riêng: so sánh vị trí giữa các tỉnh, không so sánh màu giữa hai "
                    "bản đồ. / Each small map has its own colour scale: compare provinces within a map, not colours "
                    "across maps."))
    return alt


def _unit_label(ctx: Context, index_id: str) -> tuple[str, str]:
    """The headline's unit as the catalogue gives it, for the legend ("%" for PAR and SIPAS, points otherwise)."""
    r = ctx.indicators[(ctx.indicators.index_id == index_id) & (ctx.indicators.indicator == "overall")]
    unit = str(r.unit.iloc[0]) if len(r) and isinstance(r.unit.iloc[0], str) else ""
    if unit == "percent":
        return "Điểm (%)", "score (%)"
    return "Điểm", "score"


def components_heatmap(ctx: Context, index_id: str) -> pd.DataFrame:
    """Provinces × sub-indices/dimensions for the year (all province labels shown)."""
    d, cols = _components(ctx, index_id)
    if not cols or d.province_code.nunique() < 2:
        show_md(f"*{index_id.upper()} {ctx.year}: không có chỉ số thành phần / no sub-index scores this year.*")
        return pd.DataFrame()
    m = d[d.indicator.isin(cols)].pivot_table(index="province_code", columns="indicator", values="value")
    overall = ctx.year_rows(index_id).set_index("province_code")["value"]
    m = m.loc[overall.reindex(m.index).sort_values(ascending=False).index][cols]
    tab = m.reset_index()
    save_table(tab, ctx.output_dir, f"components_{index_id}")
    if not ctx.is_full(index_id):  # a few provinces, components on different scales: a table says it better
        show_md(esc(f"{index_id.upper()} {ctx.year}: chỉ số thành phần chỉ có cho {len(m)} tỉnh (dữ liệu một phần) / "
                    f"components reported for {len(m)} provinces only (partial data)."))
        show_table(tab.assign(province=tab.province_code.map(ctx.names)).rename(
            columns=lambda c: ctx.ind_name(index_id, c)[1] if c in cols else c))
        return tab
    n, of = len(m), _existing(ctx.year)
    focal_in = ctx.province in m.index
    m.index = [ctx.names[c] for c in m.index]
    m.columns = [ctx.ind_name(index_id, c)[1] for c in m.columns]
    part_vi = "" if n >= len(ctx.year_rows(index_id)) else f" — chỉ {n}/{of} tỉnh có điểm thành phần"
    part_en = "" if n >= len(ctx.year_rows(index_id)) else f" — only {n} of {of} provinces have sub-index scores"
    show_fig(plots.heatmap(m, f"Chỉ số thành phần {index_id.upper()} {ctx.year}{part_vi}",
                           f"{index_id.upper()} sub-indices by province (sorted by headline score){part_en}",
                           focal_label=ctx.focal if focal_in else None))
    missing_vi = "" if focal_in or ctx.province is None else f" {ctx.focal} không có trong số này."
    missing_en = "" if focal_in or ctx.province is None else f" {ctx.focal_en} is not among them."
    counts = d[d.indicator.isin(cols)].groupby("indicator").province_code.nunique()
    show_md(esc("Số tỉnh có điểm theo từng chỉ số thành phần: " + "; ".join(
        f"{ctx.ind_name(index_id, c)[0]} {int(counts.get(c, 0))}/{of}" for c in cols) + f".{missing_vi} / "
        "Provinces with a score, per sub-index: " + "; ".join(
        f"{ctx.ind_name(index_id, c)[1]} {int(counts.get(c, 0))} of {of}" for c in cols) + f".{missing_en}"))
    return tab


def regions(ctx: Context, index_id: str) -> pd.DataFrame:
    """Mean, min and max score per socio-economic region, as a chart and a table."""
    tab = compare.regional_summary(ctx.scores, index_id, ctx.year)
    save_table(tab, ctx.output_dir, f"regions_{index_id}")
    if tab.empty or tab["count"].sum() == 0:
        show_md(f"*{index_id.upper()} {ctx.year}: không có điểm / no scores.*")
        return tab
    region = load("provinces").set_index("code").region_6.get(ctx.province)
    reg = tab[tab.region_6 != "Cả nước"]
    if not ctx.is_full(index_id):
        show_md(f"*{index_id.upper()} {ctx.year}: dữ liệu một phần — "
                "trung bình vùng chỉ tính trên các tỉnh có số liệu / "
                "partial data — regional means cover only the provinces reported.*")
    show_fig(plots.bars([f"{a} ({int(n)})" for a, n in zip(reg.region_6, reg["count"])], list(reg["mean"]),
                        f"Điểm trung bình theo vùng {index_id.upper()} {ctx.year}",
                        f"Mean {index_id.upper()} score by socio-economic region (n), bar = min–max",
                        "Điểm / score", highlight=next((f"{a} ({int(n)})" for a, n in zip(reg.region_6, reg["count"])
                                                        if a == region), None),
                        errors=(list(reg["min"]), list(reg["max"]))))
    reg_row = tab[tab.region_6 == region]
    nat = tab[tab.region_6 == "Cả nước"]
    if len(reg_row) and len(nat):
        a, b = reg_row.iloc[0], nat.iloc[0]
        show_md(esc(f"Vùng {region}: trung bình {num_vi(a['mean'])} ({int(a['count'])} tỉnh), "
                    f"cả nước {num_vi(b['mean'])}. / "
                    f"{a.region_6_en}: mean {num_en(a['mean'])} "
                    f"({int(a['count'])} province{'' if a['count'] == 1 else 's'}), national {num_en(b['mean'])}."))
    show_table(tab)
    return tab


def correlations(ctx: Context) -> pd.DataFrame:
    """Spearman rank correlation between the headline scores of the indices with a full table this year (with n).

    A partial year is a selection from the news (often a top list): a correlation over it would describe the
    selection, not the provinces, so pairs with a partial index are not computed and the page says why."""
    full = [i for i in ctx.indices if ctx.is_full(i)]
    partial = [i for i in ctx.indices if i not in full]
    rows = [{"a": f"{a}:overall", "b": f"{b}:overall", **compare.rank_correlation(ctx.scores, ctx.year, (a, "overall"),
                                                                                  (b, "overall"))}
            for k, a in enumerate(full) for b in full[k + 1:]]
    tab = pd.DataFrame(rows, columns=["a", "b", "spearman", "spearman_p", "kendall", "kendall_p", "n"])
    save_table(tab, ctx.output_dir, "rank_correlations")
    if partial:
        counts = [f"{i.upper()} {len(ctx.year_rows(i).value.dropna())}" for i in partial]
        show_md(esc(f"Không tính tương quan với {', '.join(i.upper() for i in partial)}: năm {ctx.year} chỉ có dữ liệu "
                    f"một phần — các tỉnh mà nguồn nêu tên, không phải mẫu ngẫu nhiên (số tỉnh có điểm: "
                    f"{', '.join(counts)}). / No correlation with {', '.join(i.upper() for i in partial)}: {ctx.year} "
                    f"has partial data only — the provinces our sources name, not a random sample (provinces with a "
                    f"score: {', '.join(counts)})."))
    if tab.empty:
        show_md(esc(f"Năm {ctx.year} có ít hơn hai chỉ số với bảng đầy đủ: không có tương quan giữa các chỉ số. / "
                    f"Fewer than two indices have a full table in {ctx.year}: no cross-index correlation."))
        return tab
    for r in tab.itertuples():
        a, b = r.a.split(":")[0].upper(), r.b.split(":")[0].upper()
        show_md(esc(f"{a} và {b}, {ctx.year}: hệ số Spearman rho = {num_vi(r.spearman)} trên {r.n} tỉnh có cả hai "
                    f"chỉ số (bảng đầy đủ). / {a} and {b}, {ctx.year}: Spearman rho = {num_en(r.spearman)} over the "
                    f"{r.n} provinces both cover (full tables)."))
    if len(full) >= 3:
        corr, _n = compare.correlation_matrix(ctx.scores, ctx.year, [(i, "overall") for i in full])
        lab = {c: c.split(":")[0].upper() for c in corr.columns}
        show_fig(plots.heatmap(corr.rename(index=lab, columns=lab), f"Tương quan thứ hạng giữa các chỉ số {ctx.year}",
                               "Spearman rank correlation between indices (full tables, provinces both cover)",
                               cmap="coolwarm", fmt=".2f", annot=True, center=0, vmin=-1, vmax=1))
    else:
        r = tab.iloc[0]
        a, b = r.a.split(":")[0], r.b.split(":")[0]
        ranks = ctx.ranked[(ctx.ranked.year == ctx.year) & (ctx.ranked.indicator == "overall")]
        wide = ranks.pivot_table(index="province_code", columns="index_id", values="rank")[[a, b]].dropna()
        wide = wide.assign(province=wide.index.map(ctx.names))
        show_fig(plots.scatter(wide, a, b, "province", ctx.names.get(ctx.province) if ctx.province else None,
                               f"Thứ hạng {a.upper()} và {b.upper()} {ctx.year} (mỗi chấm là một tỉnh)",
                               f"{a.upper()} and {b.upper()} ranks {ctx.year}, one dot per province (1 = best)",
                               f"Hạng {a.upper()} / {a.upper()} rank", f"Hạng {b.upper()} / {b.upper()} rank"))
    show_table(tab)
    return tab


def spotlight(ctx: Context) -> pd.DataFrame:
    """The focal province: ranks across indices over time, its components this year, its targets."""
    from . import targets

    if ctx.province is None:
        show_md("*Trang toàn quốc: xem trang của từng tỉnh để biết chi tiết. / National page: each province's own page "
                "has its spotlight.*")
        return pd.DataFrame()

    r = ctx.ranked
    d = r[(r.province_code == ctx.province) & (r.indicator == "overall") & r["rank"].notna()
          & r.year.between(ctx.year - ctx.window + 1, ctx.year)].copy()
    d["index"] = d.index_id.str.upper()
    tab = d[["index", "year", "value", "rank", "rank_source", "coverage"]].sort_values(["index", "year"])
    save_table(tab, ctx.output_dir, "spotlight_ranks")
    if len(tab):
        t = targets.load_targets()
        t = t[(t.province_code == ctx.province) & (t.target_unit == "rank")]
        goals = {str(r.index_id).upper(): float(r.target_value) for r in t.itertuples()}
        show_fig(plots.lines(tab, "year", "rank", "index", f"{ctx.focal}: thứ hạng qua các năm",
                             f"{ctx.focal_en}: rank in each index over time (1 = best); dotted = stated target",
                             "Thứ hạng / rank", invert=True, targets=goals))
        show_table(tab)
    else:
        show_md(esc(f"{ctx.focal} không có thứ hạng trong giai đoạn này / no ranks in this window."))
    agree = compare.province_agreement(ctx.ranked, ctx.province, ctx.year)
    save_table(agree, ctx.output_dir, "spotlight_agreement")
    if len(agree):
        show_md(f"**{esc(ctx.focal)} {ctx.year}: doanh nghiệp, người dân và chính quyền / "
                "business, citizen and government views** "
                "(phần trăm vị trí / percentile: 100 = đứng đầu / top; chỉ tính cho bảng đầy đủ / full tables only)")
        show_table(agree)
    comp = r[(r.province_code == ctx.province) & (r.year == ctx.year) & (r.indicator != "overall")]
    comp = comp.assign(name_en=[ctx.ind_name(i, k)[1] for i, k in zip(comp.index_id, comp.indicator)])[
        ["index_id", "indicator", "name_en", "value", "rank", "rank_source"]]
    save_table(comp, ctx.output_dir, "spotlight_components")
    if len(comp):
        show_md(f"**Chỉ số thành phần của {esc(ctx.focal)} năm {ctx.year} / components**")
        show_table(comp)
    gaps = targets.target_gaps(ctx.ranked, ctx.province, as_of=ctx.year)
    save_table(gaps, ctx.output_dir, "targets")
    if len(gaps):
        show_md(f"**Mục tiêu đã công bố của {esc(ctx.focal)} / stated targets**")
        show_table(gaps)
    return tab


def brief(ctx: Context):
    """The bilingual brief for the focal province and year, indices first (narrative.brief)."""
    from . import narrative

    return narrative.report_brief(ctx, kind="ranking")
