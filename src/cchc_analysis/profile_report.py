"""The province profile: one page per unit — the 63 provinces (2008–2025), Hà Tây (2005–2008) and the
34 units formed on 1 July 2025 — as library calls the notebook `province_profile` makes one by one.

A pre-2025 province shows, for every index and year, its value, published and computed rank, tier and
change; its ranks over time with methodology breaks marked; its components (ranks) over time; its place
among its region's provinces; the brief; targets; procedure statistics and checks; a locator map.
A 2025 unit shows its member provinces and their histories side by side, and says plainly when no index
has been published for the new units.
"""
from __future__ import annotations

import functools
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import indices, plots, procedures, ranking, targets
from .data import load
from .errors import UnknownProvinceError
from .figures import shared_figure, show_fig_alt
from .params import ParameterError, safe_dir
from .provinces import merger_2025, name_key, provinces, to_code, to_unit_code, units_2025
from .reporting import INDEX_NAMES, esc, parameter_error, province_names, save_table, show_md, show_table

INDEX_ORDER = indices.ids()  # data/reference/indices.csv
UNITS = ("63", "34")


@dataclass
class Profile:
    """What a profile page knows: the unit, its member provinces (itself before 2025), the tables."""
    code: str
    units: str  # "63" = a province before the 2025 merger (incl. Hà Tây), "34" = a unit from 1 July 2025
    name: str
    name_en: str
    members: list[str]
    output_dir: Path
    site_dir: Path | None
    scores: pd.DataFrame = field(repr=False)
    ranked: pd.DataFrame = field(repr=False)
    changed: pd.DataFrame = field(repr=False)
    indicators: pd.DataFrame = field(repr=False)
    facts: pd.DataFrame = field(repr=False)
    names: dict[str, str] = field(repr=False)
    names_en: dict[str, str] = field(repr=False)

    @property
    def is_unit_2025(self) -> bool:
        """True for a unit formed on 1 July 2025 (its members are the old provinces)."""
        return self.units == "34"

    @property
    def page_dir(self) -> Path:
        """Folder of the HTML page (the CSV tables sit in `<page_dir>/<code>/`)."""
        return self.output_dir.parent

    def overall(self, codes: list[str] | None = None) -> pd.DataFrame:
        """Headline rows (ranks and changes) of the given provinces (default: the unit's members)."""
        c = self.changed
        return c[c.province_code.isin(codes or self.members) & (c.indicator == "overall")]


def resolve_unit(province, units: str = "63") -> tuple[str, str]:
    """(code, units) of a page subject given as a code ("67", 67) or a name ("Đắk Nông", "Tỉnh Lâm Đồng").

    `units="34"` reads codes and names as the 2025 units. Unknown names are an error, never a guess."""
    if units not in UNITS:
        raise ParameterError(f"units must be \"63\" (provinces before 1 July 2025) or \"34\" (the 2025 units), "
                             f"got {units!r}")
    if isinstance(province, bool) or not isinstance(province, (int, str)) or str(province).strip() == "":
        raise ParameterError(f"province must be a code like \"67\" or a name like \"Đắk Nông\", got {province!r}")
    text = str(province).strip()
    known = set(units_2025().unit_code) if units == "34" else set(provinces().code)
    if text.isdigit():
        code = text.zfill(2)
        if code not in known:
            kind = "2025 unit" if units == "34" else "province"
            raise ParameterError(f"unknown {kind} code {province!r}; codes: {', '.join(sorted(known))}")
        return code, units
    try:
        return (to_unit_code(text) if units == "34" else to_code(text)), units
    except UnknownProvinceError as e:
        raise ParameterError(str(e)) from None


def setup(province, units="63", output_dir=None, site_dir=None) -> Profile:
    """Validate the parameters (a clear message, not a traceback) and load every table once."""
    try:
        code, units = resolve_unit(province, str(units))
        out = safe_dir(output_dir, Path("reports") / ("unit" if units == "34" else "province") / code)
        site = safe_dir(site_dir, Path("reports")) if site_dir else None
    except ParameterError as e:
        parameter_error(e)
    plots.style()
    names, names_en = province_names()
    if units == "34":
        u = units_2025().set_index("unit_code").loc[code]
        members = list(merger_2025().query("unit_code == @code").old_code)
        name, name_en = u["name"], unit_name_en(code)
    else:
        members = [code]
        name, name_en = names[code], names_en[code]
    scores, ranked, changed, indicators, facts = _tables(_data_stamp())
    return Profile(code, units, name, name_en, members, out, site, scores, ranked, changed, indicators, facts,
                   names, names_en)


def _data_stamp() -> bytes:
    from . import paths
    stamp = paths.PROCESSED / ".build.json"
    return stamp.read_bytes() if stamp.exists() else b""


@functools.lru_cache(maxsize=1)
def _tables(stamp: bytes):
    """The processed tables, ranks and changes included (derived once by the build: `ranked`, `changes`),
    read once per kernel for as long as the data stamp is unchanged (a reused site kernel serves many
    pages; the sections never modify them)."""
    return load("scores"), load("ranked"), load("changes"), load("indicators"), load("facts")


def unit_name_en(code: str) -> str:
    """English name of a 2025 unit: its Vietnamese short name without diacritics ('Lâm Đồng' → 'Lam Dong')."""
    from .provinces import strip_diacritics
    return strip_diacritics(units_2025().set_index("unit_code").loc[code, "name"])


def _ind_name(p: Profile, index_id: str, indicator: str) -> str:
    r = p.indicators[(p.indicators.index_id == index_id) & (p.indicators.indicator == indicator)]
    if r.empty or not isinstance(r.iloc[0].name_vi, str):
        return indicator
    en = r.iloc[0].name_en if isinstance(r.iloc[0].name_en, str) else ""
    return r.iloc[0].name_vi + (f" / {en}" if en and en != r.iloc[0].name_vi else "")


# --------------------------------------------------------------------------- identity

def identity_table(p: Profile) -> pd.DataFrame:
    """Facts about the unit: names, region, years of existence, its 2025 unit or its member provinces."""
    reg = provinces().set_index("code")
    if p.is_unit_2025:
        m = merger_2025().set_index("old_code")
        rows = [{"code": c, "province": p.names[c], "region_6": reg.loc[c, "region_6"],
                 "region_6_en": reg.loc[c, "region_6_en"], "seat": m.loc[c, "seat"], "merged": bool(m.loc[c, "merged"])}
                for c in p.members]
        return pd.DataFrame(rows, columns=["code", "province", "region_6", "region_6_en", "seat", "merged"])
    r = reg.loc[p.code]
    valid = (f"{r.valid_from or '2005'} – {r.valid_to}" if r.valid_to else "– 30/06/2025")
    return pd.DataFrame([{"code": p.code, "province": r["name"], "full_name": r.full_name, "name_en": r.name_en,
                          "region_6": r.region_6, "region_6_en": r.region_6_en, "valid": valid,
                          "unit_2025_code": r.unit_2025_code if isinstance(r.unit_2025_code, str) else "01",
                          "unit_2025_name": (r.unit_2025_name if isinstance(r.unit_2025_name, str)
                                             else "Thành phố Hà Nội")}])


def indices_published_for_units_2025(scores: pd.DataFrame) -> bool:
    """Whether any index has been published for the 34 units of 2025 (scores after the merger year)."""
    return bool((scores.year >= 2025).any())  # the 2025 editions are the first of the 34 units


def identity(p: Profile) -> pd.DataFrame:
    """Who the unit is; for a 2025 unit its members and, where so, that no index is published for it yet."""
    tab = identity_table(p)
    save_table(tab, p.output_dir, "identity")
    if p.is_unit_2025:
        seat = seat_2025(tab.seat.iloc[0])
        lines = [f"**{esc(p.name)}** — một trong 34 đơn vị hành chính cấp tỉnh từ ngày 1/7/2025, gồm "
                 f"{len(p.members)} tỉnh cũ / one of the 34 provincial units from 1 July 2025, formed from "
                 f"{len(p.members)} former province{'s' if len(p.members) > 1 else ''}: "
                 + esc(", ".join(p.names[c] for c in p.members)) + "."
                 + (esc(f" Trung tâm hành chính / administrative centre: {seat}.") if seat else "")]
        if not indices_published_for_units_2025(p.scores):
            lines.append("**Chưa có chỉ số nào (PCI, PAPI, PAR Index, SIPAS) được công bố cho các đơn vị mới. "
                         "/ No index (PCI, PAPI, PAR Index, SIPAS) has yet been published for the new units.** "
                         "Các bảng dưới đây là lịch sử của từng tỉnh thành viên, không phải điểm của đơn vị mới. "
                         "*The tables below are the histories of the member provinces, not scores of the new unit.*")
        show_md("\n\n".join(lines))
        show_table(tab[["code", "province", "region_6", "region_6_en"]])  # seat and merger flag: in identity.csv
    else:
        r = tab.iloc[0]
        ht = " Hà Tây sáp nhập vào Hà Nội từ 1/8/2008 / merged into Hà Nội on 1 August 2008." if p.code == "28" else ""
        show_md(esc(f"{r.full_name} ({r.name_en}), mã / code {r.code}; vùng / region: {r.region_6} ({r.region_6_en}). "
                    f"Từ 1/7/2025 thuộc / from 1 July 2025 part of: {r.unit_2025_name}.{ht}"))
        show_table(tab)
    return tab


def seat_2025(note: str) -> str:
    """The administrative centre named in the merger table's seat note ('… adminCenter: Lâm Đồng (cũ)' →
    'Lâm Đồng (cũ)'); '' when the note names none (a unit that was not merged)."""
    import re

    m = re.search(r"adminCenter:\s*(.+?)\s*$", str(note))
    return m.group(1) if m else ""


# --------------------------------------------------------------------------- every index, every year

def index_history(p: Profile, codes: list[str] | None = None) -> pd.DataFrame:
    """For every index and year: value, published and computed rank, n, tier, change (pure)."""
    d = p.overall(codes)
    tab = d.assign(province=d.province_code.map(p.names), index=d.index_id.str.upper())[
        ["index", "year", "province_code", "province", "value", "published_rank", "computed_rank", "rank",
         "rank_source", "n_ranked", "published_tier", "coverage", "prev_year", "score_change", "rank_change",
         "note", "source_file"]]
    tab = tab.assign(stated_rank_change=stated_changes(p, tab), scale=_scales(p, tab))
    order = {i: k for k, i in enumerate(INDEX_ORDER)}
    return tab.sort_values(["index", "year", "province_code"],
                           key=lambda s: (s.map(lambda v: order.get(str(v).lower(), v))
                                          if s.name == "index" else s)).reset_index(drop=True)


def _scales(p: Profile, tab: pd.DataFrame) -> pd.Series:
    """The headline's scale in each row's year ("6–60", "10–80" for PAPI before / from 2018): the one per-year
    scale rule (`panel_data.year_scales`)."""
    from .panel_data import year_scales

    out = pd.Series("", index=tab.index, dtype=object)
    for idx, g in tab.groupby("index"):
        sc = year_scales(idx.lower(), "overall", g.year, p.indicators).set_index("year")
        out[g.index] = [f"{sc.scale_min[y]:g}–{sc.scale_max[y]:g}" if pd.notna(sc.scale_max[y]) else ""
                        for y in g.year]
    return out


def stated_changes(p: Profile, tab: pd.DataFrame) -> pd.Series:
    """The rank change a source states for each row (published fact, shown as stated even across a break)."""
    from .narrative import stated_rank_change

    f = p.facts[(p.facts.unit == "rank_change") & p.facts.scope.isin(set(tab.province_code))]
    out = []
    for r in tab.itertuples():
        hit = stated_rank_change(f, r.index.lower(), r.year, r.province_code, None) if len(f) else None
        out.append(hit[0] if hit else pd.NA)
    return pd.Series(out, index=tab.index, dtype="Int64")


def indices_table(p: Profile) -> pd.DataFrame:
    """Display the history table, one index at a time, and save it."""
    tab = index_history(p)
    save_table(tab, p.output_dir, "index_history")
    if tab.empty:
        show_md(esc(f"Không có điểm chỉ số nào cho {p.name}. / No index scores for {p.name_en}."))
        return tab
    for idx, g in tab.groupby("index", sort=False):
        vi, en = INDEX_NAMES[idx.lower()]
        show_md(f"#### {esc(vi)}\n*{esc(en)}* — " + esc(_summary(g)))
        cols = ["year", "value", "scale", "published_rank", "computed_rank", "n_ranked", "published_tier", "coverage",
                "score_change", "rank_change", "stated_rank_change", "note"]
        if p.is_unit_2025:
            cols = ["province"] + cols
        g = g.assign(n_ranked=g.n_ranked.where(g.coverage == "full"))  # ranks are computed among n on full years only
        show_table(g[cols].rename(columns={"year": "Năm / year", "scale": "thang điểm / scale",
                                           "published_rank": "hạng công bố / published rank",
                                           "computed_rank": "hạng tính / computed rank",
                                           "n_ranked": "trên n tỉnh / of n (full years)", "coverage": "phủ / coverage",
                                           "stated_rank_change": "± hạng theo nguồn / stated rank change"}))
    return tab


def _summary(g: pd.DataFrame) -> str:
    r = g.dropna(subset=["rank"])
    if r.empty:
        return "chưa có thứ hạng / no rank."
    last = r.iloc[-1]
    of = f"/{int(last.n_ranked)}" if last.coverage == "full" else ""
    return (f"{len(g)} năm có dữ liệu / years with data; thứ hạng gần nhất / latest rank: {int(last['rank'])}{of} "
            f"({int(last.year)}{'' if last.coverage == 'full' else ', một phần / partial'}).")


# --------------------------------------------------------------------------- ranks over time

def breaks_of(p: Profile, index_id: str) -> list[int]:
    """Years from which the index's headline is not comparable with earlier years."""
    return ranking.method_breaks(p.indicators).get((index_id, "overall"), [])


def rank_chart(p: Profile) -> pd.DataFrame:
    """Headline rank in each index over the years (published ranks, computed ones on full years only), methodology
    breaks as dashed lines."""
    d = p.overall()
    d = d[d["rank"].notna()]
    if p.is_unit_2025:
        d = d.assign(series=d.index_id.str.upper() + " – " + d.province_code.map(p.names))
    else:
        d = d.assign(series=d.index_id.str.upper())
    tab = d[["series", "index_id", "province_code", "year", "rank", "n_ranked", "coverage", "rank_source"]]
    tab = tab.sort_values(["series", "year"]).reset_index(drop=True)
    save_table(tab, p.output_dir, "ranks_over_time")
    if tab.empty:
        show_md("*Không có thứ hạng / no ranks.*")
        return tab
    for idx in [i for i in INDEX_ORDER if i in set(tab.index_id)]:
        t = tab[tab.index_id == idx]
        fig = plots.lines(t, "year", "rank", "series", f"{p.name}: thứ hạng {idx.upper()} qua các năm",
                          f"{p.name_en}: {idx.upper()} rank by year (1 = best); dashed = methodology change",
                          "Thứ hạng / rank", invert=True)
        ax = fig.axes[0]
        brk = [b for b in breaks_of(p, idx) if t.year.min() < b <= t.year.max()]
        for b in brk:
            ax.axvline(b - 0.5, color="black", ls="--", lw=1)
            ax.annotate(f"phương pháp mới / new method {b}", (b - 0.45, 0.02), xycoords=("data", "axes fraction"),
                        fontsize=8, rotation=90, va="bottom")
        show_fig_alt(fig, f"{p.name_en}: {idx.upper()} rank by year, {int(t.year.min())}–{int(t.year.max())}"
                     + (f"; methodology changes in {', '.join(map(str, brk))}" if brk else "") + ".")
    return tab


# --------------------------------------------------------------------------- components over time

def component_ranks(p: Profile, index_id: str) -> pd.DataFrame:
    """Components (rows) × years (columns): the province's rank in each component (pure)."""
    r = p.ranked
    d = r[(r.index_id == index_id) & (r.province_code == p.code) & (r.indicator != "overall") & r["rank"].notna()]
    d = d[~d.indicator.str.startswith(("unweighted", "overall"))]  # components only, not headline variants
    if index_id == "papi":  # dimensions only; sub-dimensions (d1_1_…) stay in the tables
        d = d[~d.indicator.map(lambda i: len(i.split("_")) > 1 and i.split("_")[1].isdigit())]
    if d.empty:
        return pd.DataFrame()
    m = d.pivot_table(index="indicator", columns="year", values="rank", aggfunc="first")
    cat = list(p.indicators[p.indicators.index_id == index_id].indicator)
    return m.loc[sorted(m.index, key=lambda i: cat.index(i) if i in cat else 999)]


def components(p: Profile) -> dict[str, pd.DataFrame]:
    """Heatmap of component ranks over time, one component per row; for a 2025 unit, one member per row."""
    out = {}
    for idx in INDEX_ORDER:
        if p.is_unit_2025:
            d = p.overall()
            d = d[(d.index_id == idx) & d["rank"].notna()]
            if d.empty:
                continue
            m = d.pivot_table(index="province_code", columns="year", values="rank", aggfunc="first")
            m.index = [p.names[c] for c in m.index]
            what_vi, what_en = "tỉnh thành viên", "member provinces' headline rank"
        else:
            m = component_ranks(p, idx)
            if m.empty:
                continue
            m.index = [textwrap.fill(_ind_name(p, idx, i), 52) for i in m.index]  # whole names, wrapped
            what_vi, what_en = "chỉ số thành phần", "rank in each component"
        out[idx] = m
        save_table(m.reset_index(names="row"), p.output_dir, f"components_{idx}")
        fig = plots.heatmap(m, f"{p.name}: {idx.upper()}, thứ hạng {what_vi}",
                            f"{idx.upper()} {what_en} (1 = best)", cmap="RdYlGn_r", fmt=".0f",
                            annot=m.size <= 400, vmin=1, vmax=max(63, float(m.max().max())))
        show_fig_alt(fig, f"Heatmap: {p.name_en}, {idx.upper()} ranks, {len(m)} rows by {m.shape[1]} years "
                          f"({m.columns.min()}–{m.columns.max()}); green = better rank.")
    if not out:
        show_md("*Không có thứ hạng chỉ số thành phần / no component ranks.*")
    return out


# --------------------------------------------------------------------------- region

def region_codes(code: str) -> list[str]:
    """The provinces of a province's socio-economic region (Hà Tây counted with the Red River Delta)."""
    p = provinces()
    reg = p.set_index("code").region_6[code]
    return list(p[p.region_6 == reg].code)


def region_table(p: Profile, code: str) -> pd.DataFrame:
    """Each index's latest full year: the region's provinces, value and rank (pure)."""
    peers = region_codes(code)
    d = p.changed[(p.changed.indicator == "overall") & (p.changed.coverage == "full")
                  & p.changed.province_code.isin(peers)]
    rows = []
    for idx in INDEX_ORDER:
        di = d[(d.index_id == idx) & d["rank"].notna()]
        if di.empty:
            continue
        y = int(di.year.max())
        for r in di[di.year == y].sort_values("rank").itertuples():
            rows.append({"index": idx.upper(), "year": y, "province_code": r.province_code,
                         "province": p.names[r.province_code], "value": r.value, "rank": r.rank,
                         "n_ranked": r.n_ranked})
    return pd.DataFrame(rows, columns=["index", "year", "province_code", "province", "value", "rank", "n_ranked"])


def region(p: Profile) -> pd.DataFrame:
    """Place among the region's provinces (a shared chart per region, drawn once for the whole site)."""
    codes = p.members if p.is_unit_2025 else [p.code]
    tabs = []
    for code in dict.fromkeys(region_codes(c)[0] for c in codes):  # one block per region touched
        tab = region_table(p, code)
        reg = provinces().set_index("code").loc[code]
        tabs.append(tab)
        if tab.empty:
            continue
        key = f"region-{name_key(reg.region_6)}"

        def draw(tab=tab, reg=reg):
            import matplotlib.pyplot as plt
            idxs = list(dict.fromkeys(tab["index"]))
            fig, axes = plt.subplots(1, len(idxs), figsize=(plots.WIDTH, 0.32 * tab.province.nunique() + 2.2),
                                     squeeze=False)
            for ax, idx in zip(axes[0], idxs):
                t = tab[tab["index"] == idx]
                ax.barh(range(len(t)), t["rank"].astype(float), color="#6baed6")
                ax.set_yticks(range(len(t)), [plots.nfc(n) for n in t.province])
                ax.invert_yaxis()
                ax.set_title(f"{idx} {int(t.year.iloc[0])}", fontsize=10)
                ax.set_xlabel("hạng / rank")
                ax.tick_params(axis="y", labelsize=7.5)
            fig.suptitle(plots.nfc(f"Thứ hạng các tỉnh vùng {reg.region_6} (năm đầy đủ gần nhất)\n"
                                   f"Ranks of the {reg.region_6_en} provinces, latest full year (shorter = better)"),
                         fontsize=11, fontweight="bold")
            return fig

        shared_figure(key, draw, f"Bar charts: ranks of the provinces of {reg.region_6_en} in the latest full year "
                                 f"of {', '.join(dict.fromkeys(tab['index']))}.", p.site_dir, p.page_dir)
        mine = tab.province_code.isin(codes)
        show_table(tab.assign(province=[f"▶ {n}" if m else n for n, m in zip(tab.province, mine)]))
    out = pd.concat(tabs, ignore_index=True) if tabs else pd.DataFrame()
    save_table(out, p.output_dir, "region")
    return out


# --------------------------------------------------------------------------- brief, targets, procedures, map

def latest_year(p: Profile) -> int | None:
    """The latest year with a headline row for the unit's members (None without any)."""
    y = p.overall().year
    return int(y.max()) if len(y) else None


def brief(p: Profile) -> None:
    """The bilingual brief (cchc_analysis.narrative) for the latest year with data, one per member province."""
    from . import narrative

    year = latest_year(p)
    if year is None:
        show_md(esc(f"Không có năm nào có dữ liệu chỉ số cho {p.name}. / No year with index data for {p.name_en}."))
        return
    data = narrative.BriefData(p.changed, p.facts, p.indicators, targets.load_targets(), p.names, p.names_en,
                               labels=narrative.metric_labels())
    frames = []
    for c in p.members:
        y = latest_year_of(p, c)
        if y is None:
            continue
        if p.is_unit_2025:
            show_md(f"#### {esc(p.names[c])} {y}")
        b = narrative.brief(c, y, data)
        frames.append(b.frame().assign(province_code=c, year=y))
        narrative.show_brief(b)
    save_table(pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(), p.output_dir, "brief")


def latest_year_of(p: Profile, code: str) -> int | None:
    """The latest year with a headline row for one province (None without any)."""
    y = p.overall([code]).year
    return int(y.max()) if len(y) else None


def targets_section(p: Profile) -> pd.DataFrame:
    """The stated targets of the unit's provinces against their latest values."""
    tabs = [targets.target_gaps(p.ranked, c).assign(province=p.names[c]) for c in p.members]
    tab = pd.concat(tabs, ignore_index=True) if tabs else pd.DataFrame()
    save_table(tab, p.output_dir, "targets")
    if tab.empty:
        show_md(esc(f"Không có mục tiêu đã công bố trong dữ liệu. / No stated targets in our sources for {p.name_en}."))
    else:
        show_table(tab)
    return tab


def procedure_years(p: Profile) -> list[int]:
    """Years with reported procedure (TTHC) statistics for the unit's members."""
    f = p.facts[p.facts.scope.isin(p.members) & p.facts.index_id.isin(procedures.PROC_INDEX_IDS)]
    return sorted(int(y) for y in f.year.dropna().unique())


def procedures_section(p: Profile) -> pd.DataFrame:
    """Procedure (TTHC) statistics as reported, year by year, and their consistency checks."""
    kp, ck = [], []
    for c in p.members:
        for y in procedure_years(p):
            own = procedures.province_facts(p.facts, c, y)
            if own.empty:
                continue
            kp.append(procedures.kpis(own).assign(year=y, province=p.names[c]))
            ck.append(procedures.consistency_checks(own).assign(year=y, province=p.names[c]))
    k = pd.concat(kp, ignore_index=True) if kp else pd.DataFrame()
    c = pd.concat(ck, ignore_index=True) if ck else pd.DataFrame()
    save_table(k, p.output_dir, "procedure_kpis")
    save_table(c, p.output_dir, "procedure_checks")
    if k.empty:
        show_md(esc(f"Không có số liệu TTHC của {p.name} trong dữ liệu. / No procedure (TTHC) statistics for "
                    f"{p.name_en} in our sources."))
        return k
    show_md(esc(f"{len(k)} số liệu / figures, năm / years: {', '.join(map(str, sorted(k.year.unique())))}."))
    show_table(procedures.labelled(k).drop(columns=["kpi", "quote", "source_url"]), max_rows=60)
    if len(c):
        show_md("**Kiểm tra tính nhất quán / Consistency checks**")
        show_table(c, max_rows=60)
    return k


def locator(p: Profile) -> None:
    """Where the unit is (cchc_analysis.maps.locator), with its alt text; a note when maps are not installed."""
    try:
        from .maps import locator as draw
    except ImportError:
        show_md("*Bản đồ chưa có / map not available in this build.*")
        return
    code = "01" if p.code == "28" else p.code  # Hà Tây has no open polygon: shown within Hà Nội (2008 boundaries)
    fig, alt = draw(code, units=p.units)
    show_fig_alt(fig, alt)
    if p.code == "28":
        show_md("*Ranh giới năm 2008: Hà Tây nằm trong Hà Nội / 2008 boundaries: Hà Tây lies within Hà Nội.*")
