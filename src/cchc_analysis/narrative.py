"""The brief: what a report says first, in words, generated from the data.

Every sentence is a claim about the data it names and carries its basis (how many provinces,
full or partial table, stated by the source or computed here) and numbered source notes.
Vietnamese first, in Vietnamese number style; English after, in English style. Where a fact is
missing the brief says so in one sentence instead of leaving a gap.

`brief(province, year)` for a province, `brief(None, year)` for the national view. The
functions take their frames from `BriefData` so that they can be tested on small hand-made frames.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import pandas as pd

from . import indices, procedures
from .vn import format_number

INDEX_ORDER = indices.ids()  # data/reference/indices.csv
SHORT = {"pci": "PCI", "papi": "PAPI", "par": "PAR Index", "sipas": "SIPAS"}
MIN_MOVERS = 10  # no mover sentence over fewer provinces with two ranks


# --------------------------------------------------------------------------- formatting

def vi(v: float, decimals: int = 2) -> str:
    """Vietnamese number style: 26.131; 97,4."""
    return format_number(v, decimals, "vi")


def en(v: float, decimals: int = 2) -> str:
    """English number style: 26,131; 97.4."""
    return format_number(v, decimals, "en")


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 11th, 52nd."""
    n = int(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def plural(n: int, word: str, words: str | None = None) -> str:
    """'1 province', '2 provinces'."""
    return f"{n} {word if n == 1 else (words or word + 's')}"


def change_words(k: int) -> tuple[str, str]:
    """A rank change (positive = rose) in words: ('tăng 4 bậc', 'up 4 places')."""
    k = int(k)
    if k > 0:
        return f"tăng {k} bậc", f"up {plural(k, 'place')}"
    if k < 0:
        return f"giảm {-k} bậc", f"down {plural(-k, 'place')}"
    return "giữ nguyên thứ hạng", "unchanged"


def value_words(v: float, unit: str | None) -> tuple[str, str]:
    """84.66 percent → ('84,66%', '84.66%'); points → ('61,96 điểm', '61.96 points')."""
    if unit == "percent":
        return f"{vi(v)}%", f"{en(v)}%"
    return f"{vi(v)} điểm", f"{en(v)} points"


# --------------------------------------------------------------------------- the brief

@dataclass
class Claim:
    """One sentence of the brief, in both languages, with the sources it rests on."""
    topic: str
    vi: str
    en: str
    sources: tuple[str, ...] = ()


@dataclass
class Brief:
    """The claims for one province (or the nation, province=None) and year."""
    province: str | None
    year: int
    name_vi: str
    name_en: str
    claims: list[Claim] = field(default_factory=list)

    def notes(self) -> list[str]:
        """Sources in the order they are first cited."""
        return list(dict.fromkeys(s for c in self.claims for s in c.sources))

    def _refs(self, c: Claim) -> str:
        order = {s: i + 1 for i, s in enumerate(self.notes())}
        return "".join(f"<sup>[{order[s]}]</sup>" for s in c.sources)

    def markdown(self) -> str:
        """Vietnamese sentences, then English, then the numbered notes (HTML-escaped text)."""
        from .reporting import esc

        head_vi = f"**Tóm tắt: {esc(self.name_vi)}, năm {self.year}**"
        head_en = f"**Brief: {esc(self.name_en)}, {self.year}**"
        lines = [head_vi, ""] + [f"- {esc(c.vi)}{self._refs(c)}" for c in self.claims]
        lines += ["", head_en, ""] + [f"- {esc(c.en)}{self._refs(c)}" for c in self.claims]
        notes = self.notes()
        if notes:
            lines += ["", "*Nguồn / Sources:* " + "; ".join(f"[{i}] {esc(s)}" for i, s in enumerate(notes, 1))]
        return "\n".join(lines)

    def frame(self) -> pd.DataFrame:
        """One row per claim (for the report's CSV tables)."""
        order = {s: i + 1 for i, s in enumerate(self.notes())}
        return pd.DataFrame([{"topic": c.topic, "vi": c.vi, "en": c.en,
                              "notes": " ".join(f"[{order[s]}]" for s in c.sources),
                              "sources": " | ".join(c.sources)} for c in self.claims],
                            columns=["topic", "vi", "en", "notes", "sources"])


@dataclass
class BriefData:
    """The frames a brief reads: ranked-with-changes scores, facts, indicators, targets, names."""
    changed: pd.DataFrame
    facts: pd.DataFrame
    indicators: pd.DataFrame
    targets: pd.DataFrame
    names: dict[str, str]
    names_en: dict[str, str]
    labels: pd.DataFrame | None = None

    @classmethod
    def load(cls) -> BriefData:
        """From data/processed (and the committed targets and metric labels)."""
        from . import targets
        from .data import load
        from .reporting import province_names

        return cls(load("changes"), load("facts"), load("indicators"), targets.load_targets(), *province_names(),
                   labels=metric_labels())


metric_labels = procedures.metric_labels


def _source(row) -> str:
    url = row.get("source_url") if isinstance(row, dict) else getattr(row, "source_url", None)
    if isinstance(url, str) and url:
        return url.split(" | ")[0]
    return str(row["source_file"] if isinstance(row, dict) else row.source_file)


def _existing(year: int) -> int:
    from .provinces import units_in
    return units_in(year)


def _coverage(d: pd.DataFrame, index_id: str, year: int) -> dict:
    """Headline coverage of one index-year: provinces with a value, with a rank, full or partial."""
    y = d[(d.index_id == index_id) & (d.year == year) & (d.indicator == "overall")]
    return {"n_value": int(y.value.notna().sum()), "n_rank": int(y.published_rank.notna().sum()),
            "full": bool((y.coverage == "full").any()), "rows": len(y), "of": _existing(year)}


def stated_rank_changes(facts: pd.DataFrame, index_id: str, year: int, code: str,
                        component: str | None) -> list[tuple[int, object]]:
    """The rank changes sources state (unit rank_change), one (signed change, first fact row) per distinct
    value: more than one means the sources disagree, and the brief says so."""
    f = facts[(facts.index_id == index_id) & (facts.year == year) & (facts.scope == code)
              & (facts.unit == "rank_change") & facts.value.notna()]
    f = f[f.component.isna()] if component in (None, "overall") else f[f.component == component]
    return [(int(v), g.iloc[0]) for v, g in f.groupby("value", sort=False)]


def stated_rank_change(facts: pd.DataFrame, index_id: str, year: int, code: str, component: str | None):
    """(change, fact row, words vi, words en, sources) for the stated change(s), or None."""
    found = stated_rank_changes(facts, index_id, year, code, component)
    if not found:
        return None
    if len(found) == 1:
        k, r = found[0]
        a, b = change_words(k)
        return k, r, a, b, (_source(r),)
    vi_parts = " hay ".join(change_words(k)[0] for k, _ in found)
    en_parts = " or ".join(change_words(k)[1] for k, _ in found)
    return (None, found[0][1], f"{vi_parts} (các nguồn ghi khác nhau)", f"{en_parts} (the sources disagree)",
            tuple(_source(r) for _, r in found))


def stated_value_change(facts: pd.DataFrame, index_id: str, year: int, code: str, value: float):
    """The previous year's value when one sentence of a source states both years ('tăng từ 80,09%
    năm 2022 lên 81,21% năm 2023') → (previous year, previous value, fact row) or None."""
    f = facts[(facts.index_id == index_id) & (facts.scope == code) & facts.unit.isin(["percent", "points"])
              & facts.component.isna() & facts.value.notna() & facts.quote.notna()]
    now = f[(f.year == year) & ((f.value - value).abs() < 0.005)]
    for r in now.itertuples():
        prev = f[(f.year < year) & (f.quote == r.quote)].sort_values("year")
        if len(prev):
            p = prev.iloc[-1]
            return int(p.year), float(p.value), r
    return None


def _headline(data: BriefData, index_id: str, year: int, code: str, name_vi: str, name_en: str) -> Claim | None:
    """'PAR Index 2022: Đắk Nông đạt 84,66%, xếp thứ 37/63 (tăng 4 bậc so với 2021, theo nguồn) …'."""
    d = data.changed
    row = d[(d.index_id == index_id) & (d.year == year) & (d.province_code == code) & (d.indicator == "overall")]
    if row.empty or (row.value.isna().all() and row["rank"].isna().all()):
        return None
    r = row.iloc[0]
    cov = _coverage(d, index_id, year)
    short = SHORT[index_id]
    parts_vi, parts_en, sources = [], [], [_source(r)]
    if pd.notna(r.value):
        a, b = value_words(r.value, r.unit)
        top = _period_scale_max(data, index_id, year)
        if top is not None:  # a scale that changed over the years is said with the value (PAPI: 60, then 80)
            a, b = a.replace(" điểm", f"/{vi(top, 0)} điểm"), b.replace(" points", f" of {en(top, 0)} points")
        parts_vi.append(f"đạt {a}")
        parts_en.append(f"scored {b}")
    if pd.notna(r["rank"]):
        of = int(r.n_ranked) if r.rank_source == "computed" else cov["of"]
        parts_vi.append(f"xếp thứ {int(r['rank'])}/{of}")
        parts_en.append(f"ranked {ordinal(r['rank'])} of {of}")
    # the value change a source states across years (both values in one sentence) comes first
    sv = stated_value_change(data.facts, index_id, year, code, float(r.value)) if pd.notna(r.value) else None
    stated = stated_rank_change(data.facts, index_id, year, code, None)
    if stated is not None:
        _k, _f, a, b, srcs = stated
        parts_vi.append(f"{a} so với {year - 1} (số liệu của nguồn)")
        parts_en.append(f"{b} on {year - 1} (as stated by the source)")
        sources.extend(srcs)
    elif pd.notna(r.rank_change) and pd.notna(r.prev_rank):
        a, b = change_words(r.rank_change)
        basis_vi = "tính từ thứ hạng công bố" if r.rank_source == "published" else "tính lại"
        basis_en = "from the published ranks" if r.rank_source == "published" else "recomputed"
        parts_vi.append(f"{a} so với {int(r.prev_year)} (hạng {int(r.prev_rank)}; {basis_vi})")
        parts_en.append(f"{b} on {int(r.prev_year)} ({ordinal(r.prev_rank)}; {basis_en})")
    if sv is not None:
        py, pv, f = sv
        a0, b0 = value_words(pv, r.unit)
        a1, b1 = value_words(r.value, r.unit)
        if r.value >= pv:
            parts_vi.append(f"tăng từ {a0} năm {py} lên {a1} năm {year} (số liệu của nguồn)")
            parts_en.append(f"up from {b0} in {py} to {b1} in {year} (as stated by the source)")
        else:
            parts_vi.append(f"giảm từ {a0} năm {py} xuống {a1} năm {year} (số liệu của nguồn)")
            parts_en.append(f"down from {b0} in {py} to {b1} in {year} (as stated by the source)")
        if not r.comparable and isinstance(r.note, str) and r.note.startswith("not comparable"):
            parts_vi.append(f"lưu ý: {short} đổi phương pháp giữa hai năm này")
            parts_en.append(f"note: {short} changed its methodology between these years")
        sources.append(_source(f))
    elif pd.notna(r.score_change) and r.comparable and pd.notna(r.value):
        sign = "+" if r.score_change >= 0 else "−"
        parts_vi.append(f"{sign}{vi(abs(r.score_change))} điểm so với {int(r.prev_year)}")
        parts_en.append(f"{sign}{en(abs(r.score_change))} points on {int(r.prev_year)}")
    if stated is None and sv is None and pd.isna(r.rank_change) and isinstance(r.note, str) \
            and r.note.startswith("not comparable") and pd.notna(r.prev_year):
        parts_vi.append(f"không so sánh với {int(r.prev_year)} vì {short} đổi phương pháp")
        parts_en.append(f"not comparable with {int(r.prev_year)} ({short} changed its methodology)")
    if isinstance(r.published_tier, str) and r.published_tier:
        parts_vi.append(f"nhóm công bố: {r.published_tier}")
        parts_en.append(f"published group: {r.published_tier}")
    if cov["full"]:
        basis_vi = f"bảng đầy đủ, {plural(cov['n_value'], 'tỉnh', 'tỉnh')}"
        basis_en = f"full table, {plural(cov['n_value'], 'province')}"
    else:
        n = max(cov["n_value"], cov["rows"])
        pub = pd.notna(r.published_rank)
        basis_vi = ("thứ hạng công bố; " if pub else "") + f"nguồn của chúng tôi chỉ có {n}/{cov['of']} tỉnh năm này"
        basis_en = ("published rank; " if pub else "") + f"our sources cover {n} of {cov['of']} provinces this year"
    return Claim("index", f"{short} {year}: {name_vi} " + ", ".join(parts_vi) + f" ({basis_vi}).",
                 f"{short} {year}: {name_en} " + ", ".join(parts_en) + f" ({basis_en}).", tuple(dict.fromkeys(sources)))


def _period_scale_max(data: BriefData, index_id: str, year: int) -> float | None:
    """The headline's maximum in `year` where the scale changed over time (data/reference/indicator_scales.csv)."""
    from .panel_data import _scale_periods, year_scales

    if not ((_scale_periods().index_id == index_id) & (_scale_periods().indicator == "overall")).any():
        return None
    hi = year_scales(index_id, "overall", [year], data.indicators).scale_max.iloc[0]
    return None if pd.isna(hi) else float(hi)


def top_components(index_id: str, indicators: list[str]) -> list[str]:
    """Sub-indices / dimensions / component areas of an index (not the headline, not sub-dimensions)."""
    out = []
    for i in indicators:
        if i.startswith(("overall", "unweighted")):
            continue
        if index_id == "papi" and len(i.split("_")) > 1 and i.split("_")[1].isdigit():
            continue
        out.append(i)
    return out


_HISTORY = re.compile(r"\s*\((?:đến|to) \d{4}:[^)]*\)")


def _names(data: BriefData, index_id: str) -> dict[str, tuple[str, str]]:
    """indicator → (name_vi, name_en), without the catalogue's '(to 2021: …)' history notes."""
    c = data.indicators[data.indicators.index_id == index_id]
    return {r.indicator: (_HISTORY.sub("", r.name_vi) if isinstance(r.name_vi, str) else r.indicator,
                          _HISTORY.sub("", r.name_en) if isinstance(r.name_en, str) else r.indicator)
            for r in c.itertuples()}


def _components(data: BriefData, index_id: str, year: int, code: str, name_vi: str, name_en: str) -> Claim | None:
    """Component ranks: every published one (with its change), or a full year's best and weakest."""
    d = data.changed
    rows = d[(d.index_id == index_id) & (d.year == year) & (d.province_code == code) & (d.indicator != "overall")
             & d["rank"].notna()]
    rows = rows[rows.indicator.isin(top_components(index_id, list(rows.indicator)))]
    if rows.empty:
        return None
    names = _names(data, index_id)
    short = SHORT[index_id]
    pub = rows[rows.rank_source == "published"].sort_values(["rank", "indicator"])
    if len(pub):
        items_vi, items_en, sources = [], [], []
        for r in pub.itertuples():
            nv, ne = names.get(r.indicator, (r.indicator, r.indicator))
            s_vi, s_en = f"{nv} xếp thứ {int(r.rank)}/{_existing(year)}", f"{ne} {ordinal(r.rank)} of {_existing(year)}"
            st = stated_rank_change(data.facts, index_id, year, code, r.indicator)
            if st is not None:
                s_vi += f" ({st[2]}, theo nguồn)"
                s_en += f" ({st[3]}, as stated)"
                sources.extend(st[4])
            elif pd.notna(r.rank_change):
                a, b = change_words(r.rank_change)
                s_vi += f" ({a} so với {int(r.prev_year)})"
                s_en += f" ({b} on {int(r.prev_year)})"
            items_vi.append(s_vi)
            items_en.append(s_en)
            sources.append(_source(r))
        return Claim("components", f"Lĩnh vực / chỉ số thành phần {short} {year} của {name_vi} (thứ hạng công bố): "
                     + "; ".join(items_vi) + ".",
                     f"{short} {year} components of {name_en} (published ranks): " + "; ".join(items_en) + ".",
                     tuple(dict.fromkeys(sources)))
    comp = rows[rows.rank_source == "computed"].sort_values(["rank", "indicator"])
    if len(comp) < 2:
        return None
    best, worst = comp.iloc[0], comp.iloc[-1]
    (bv, be), (wv, we) = (names.get(best.indicator, (best.indicator,) * 2),
                          names.get(worst.indicator, (worst.indicator,) * 2))
    n = int(best.n_ranked)
    return Claim("components",
                 f"Trong {len(comp)} chỉ số thành phần {short} {year}, "
                 f"{name_vi} mạnh nhất ở “{bv}” (hạng {int(best['rank'])}/{n}) "
                 f"và yếu nhất ở “{wv}” (hạng {int(worst['rank'])}/{n}); thứ hạng tính lại từ bảng đầy đủ.",
                 f"Of its {len(comp)} {short} {year} components, "
                 f"{name_en} is strongest in “{be}” ({ordinal(best['rank'])} of {n}) "
                 f"and weakest in “{we}” ({ordinal(worst['rank'])} of {n}); ranks recomputed from the full table.",
                 (_source(best),))


# --------------------------------------------------------------------------- procedures

_SPAN = re.compile(r"(\d{4})-(\d{2})-(\d{2})\.\.(\d{4})-(\d{2})-(\d{2})")


def period_words(period, year: int) -> tuple[str, str]:
    """A stated period in words: '2020-12-15..2021-06-15' → ('Từ 15/12/2020 đến 15/06/2021', 'From … to …'),
    '2021-H1' → ('6 tháng đầu năm 2021', 'In the first half of 2021'); otherwise the year."""
    p = str(period or "")
    m = _SPAN.fullmatch(p)
    if m:
        a, b = f"{m[3]}/{m[2]}/{m[1]}", f"{m[6]}/{m[5]}/{m[4]}"
        return f"Từ {a} đến {b}", f"From {m[1]}-{m[2]}-{m[3]} to {m[4]}-{m[5]}-{m[6]}"
    if re.fullmatch(rf"{year}-H1", p):
        return f"6 tháng đầu năm {year}", f"In the first half of {year}"
    if re.fullmatch(rf"{year}-Q[1-4]", p):
        return f"Quý {p[-1]} năm {year}", f"In quarter {p[-1]} of {year}"
    return f"Năm {year}", f"In {year}"


def _label(data: BriefData, metric: str) -> tuple[str, str]:
    lab = data.labels
    if lab is not None and metric in lab.index:
        return lab.at[metric, "label_vi"], lab.at[metric, "label_en"]
    return metric.replace("_", " "), metric.replace("_", " ")


LEVEL_WORDS = {"procedures_provincial": ("cấp tỉnh", "provincial"), "procedures_district": ("cấp huyện", "district"),
               "procedures_commune": ("cấp xã", "commune")}


def _procedure_claims(data: BriefData, year: int, code: str, name_vi: str,
                      name_en: str) -> tuple[list[Claim], list[str]]:
    """Procedures by level, dossiers, plan tasks and other reported counts; plus what is missing."""
    own = procedures.province_facts(data.facts, code, year)
    claims, used = [], set()
    if own.empty:
        return claims, ["thống kê TTHC / procedure statistics"]
    missing = []
    docs = list(procedures.documents(own))
    # procedures in force by level
    for _src, g, one in docs:
        t = one.get("procedures_total")
        levels = [(m, one.get(m)) for m in LEVEL_WORDS]
        levels = [(m, x) for m, x in levels if x is not None]
        if t is None and not levels:
            continue
        total = float(t.value) if t is not None else None
        lv_vi = ", ".join(f"{vi(x.value, 0)} {LEVEL_WORDS[m][0]}" for m, x in levels)
        lv_en = ", ".join(f"{en(x.value, 0)} {LEVEL_WORDS[m][1]}" for m, x in levels)
        ok = total is not None and len(levels) == 3 and sum(x.value for _, x in levels) == total
        check_vi = " (tổng các cấp khớp)" if ok else ""
        check_en = " (the levels add up)" if ok else ""
        head_vi = f"{name_vi} có {vi(total, 0)} TTHC thuộc thẩm quyền giải quyết các cấp" if total is not None else \
            f"{name_vi}: số TTHC theo cấp"
        head_en = f"{name_en} has {en(total, 0)} administrative procedures in force" if total is not None else \
            f"{name_en}: procedures by level"
        claims.append(Claim("procedures", f"{head_vi}{': ' + lv_vi if lv_vi else ''}{check_vi}.",
                            f"{head_en}{': ' + lv_en if lv_en else ''}{check_en}.",
                            (_source(t if t is not None else levels[0][1]),)))
        used |= {"procedures_total", *LEVEL_WORDS}
        break
    else:
        missing.append("số TTHC theo cấp / procedures by level")
    # dossiers: counts and the rates that follow within one document
    for _src, g, one in docs:
        rec, res = one.get("dossiers_received"), one.get("dossiers_resolved")
        ahead, ontime = one.get("dossiers_ahead_of_time"), one.get("on_time_rate")
        if rec is None and res is None:
            continue
        rates = _computed_rates(g)  # the KPI engine's ratios: two counts of one kind, from one document
        parts = [(rec, "resolution_rate", "tiếp nhận {} hồ sơ", "received {} dossiers", "", ""),
                 (res, "resolution_rate", "đã giải quyết {}", "resolved {}", "số tiếp nhận, tính từ hai số trên",
                  "of those received, computed"),
                 (ahead, "ahead_share", "trong đó {} hồ sơ trước hạn", "of which {} ahead of time", "số đã giải quyết",
                  "of those resolved")]
        s_vi, s_en = [], []
        for i, (fact, kpi, w_vi, w_en, of_vi, of_en) in enumerate(parts):
            if fact is None:
                continue
            share = rates.get(kpi) if i else None
            s_vi.append(w_vi.format(vi(fact.value, 0)) + (f" ({vi(share, 1)}% {of_vi})" if share is not None else ""))
            s_en.append(w_en.format(en(fact.value, 0)) + (f" ({en(share, 1)}% {of_en})" if share is not None else ""))
        if ontime is not None:
            s_vi.append(f"tỷ lệ giải quyết đúng hạn {vi(ontime.value, 1)}% (theo nguồn)")
            s_en.append(f"on-time rate {en(ontime.value, 1)}% (as stated)")
        p_vi, p_en = period_words(rec.period if rec is not None else res.period, year)
        claims.append(Claim("dossiers", f"{p_vi}, {name_vi} " + "; ".join(s_vi) + ".",
                            f"{p_en}, {name_en} " + "; ".join(s_en) + ".",
                            (_source(rec if rec is not None else res),)))
        used |= {"dossiers_received", "dossiers_resolved", "dossiers_ahead_of_time", "on_time_rate"}
        break
    else:
        missing.append("số hồ sơ tiếp nhận / giải quyết — dossiers received / resolved")
    # reform-plan tasks: both counts from one document, the rate from the KPI engine
    for _src, g, one in docs:
        done, total, stated = one.get("plan_tasks_done"), one.get("plan_tasks_total"), one.get("plan_completion_rate")
        p = _computed_rates(g).get("plan_completion") if done is not None and total is not None else None
        if p is None:
            continue
        st_vi = f"; nguồn ghi {stated.value_as_written}" if stated is not None else ""
        st_en = f"; the source states {en(stated.value, 1)}%" if stated is not None else ""
        claims.append(Claim("plan", f"Kế hoạch CCHC năm {year}: đã triển khai {vi(done.value, 0)}/{vi(total.value, 0)} "
                            f"nhiệm vụ ({vi(p, 1)}%{st_vi}).",
                            f"Reform plan {year}: {en(done.value, 0)} of {en(total.value, 0)} tasks carried out "
                            f"({en(p, 1)}%{st_en}).", (_source(done),)))
        used |= {"plan_tasks_done", "plan_tasks_total", "plan_completion_rate"}
        break
    # every other reported count, in the source's own wording, parts beside their total
    parts_of = {p: t for t, ps in procedures.PARTS.items() for p in ps}
    rest = own[own.value.notna() & own.component.isna() & ~own.metric.isin(used) & own.unit.eq("count")
               & ~own.metric.isin(list(parts_of))]
    items_vi, items_en, sources = [], [], []
    for r in rest.sort_values(["metric"]).itertuples():
        lv, le = _label(data, r.metric)
        names = [p for p, t in parts_of.items() if t == r.metric]  # in level order: provincial, district, commune
        parts = own[own.metric.isin(names) & own.value.notna()].sort_values("metric", key=lambda m: m.map(names.index))
        pv = " (" + ", ".join(f"{vi(p.value, 0)} {level_words(p.metric)[0]}" for p in parts.itertuples()) + ")" \
            if len(parts) else ""
        pe = " (" + ", ".join(f"{en(p.value, 0)} {level_words(p.metric)[1]}" for p in parts.itertuples()) + ")" \
            if len(parts) else ""
        items_vi.append(f"{lv}: {vi(r.value, 0)}{pv}")
        items_en.append(f"{le}: {en(r.value, 0)}{pe}")
        sources.append(_source(r))
    if items_vi:
        claims.append(Claim("other", f"Các số liệu khác {name_vi} công bố cho năm {year} (theo cách nguồn gọi): "
                            + "; ".join(items_vi) + ".",
                            f"Other figures reported for {name_en} in {year} (in the source's wording): "
                            + "; ".join(items_en) + ".", tuple(dict.fromkeys(sources))))
    return claims, missing


def _computed_rates(facts: pd.DataFrame) -> dict[str, float]:
    """kpi → value of the rates `procedures.kpis` computes from the stated counts of one document."""
    k = procedures.kpis(facts)
    k = k[k.kind == "computed"]
    return dict(zip(k.kpi, k.value))


def level_words(metric: str) -> tuple[str, str]:
    """'…_provincial' → ('cấp tỉnh', 'provincial')."""
    for suffix, words in (("_provincial", ("cấp tỉnh", "provincial")), ("_district", ("cấp huyện", "district")),
                          ("_commune", ("cấp xã", "commune"))):
        if metric.endswith(suffix):
            return words
    return metric, metric


# --------------------------------------------------------------------------- targets

def _targets(data: BriefData, year: int, code: str, name_vi: str, name_en: str) -> Claim | None:
    """Stated targets, only from the year they were stated, against the latest value up to `year`."""
    from . import targets

    gaps = targets.target_gaps(data.changed, code, as_of=year, table=data.targets)
    if gaps.empty:
        return None
    items_vi, items_en, sources = [], [], []
    for g in gaps.itertuples():
        idx = g.index.lower()
        short = SHORT.get(idx, g.index)
        if g.latest_year is None or (isinstance(g.latest_year, float) and math.isnan(g.latest_year)):
            items_vi.append(f"{short} {g.target_as_stated}: chưa có giá trị công bố để so sánh")
            items_en.append(f"{short} {g.target_en}: no published value to compare")
        elif g.unit in ("rank", "percent", "points"):
            vi_item, en_item = _numeric_target_words(g)
            items_vi.append(f"{short} {g.target_as_stated}: {vi_item}")
            items_en.append(f"{short} {g.target_en}: {en_item}")
        else:  # tier
            have = g.latest if isinstance(g.latest, str) else None
            how_vi, how_en = basis_words(g.basis)
            if have is None:
                items_vi.append(f"{short} {g.target_as_stated}: chưa có nhóm công bố gần nhất ({how_vi})")
                items_en.append(f"{short} {g.target_en}: no recent published group ({how_en})")
            else:
                st_vi = {"met": "đã đạt", "not met": "chưa đạt"}.get(g.status_en, "không so sánh được")
                tv, te = TIER_WORDS.get(have, (have, have))
                items_vi.append(f"{short} {g.target_as_stated}: "
                                f"năm {int(g.latest_year)} thuộc {tv} ({how_vi}), {st_vi}")
                items_en.append(f"{short} {g.target_en}: {int(g.latest_year)} in {te} ({how_en}), {g.status_en}")
        sources.append(g.source)
    stated = gaps.stated_on.dropna().unique()
    when_vi = f" (nêu ngày {', '.join(_date_vi(s) for s in stated)})" if len(stated) else ""
    when_en = f" (stated {', '.join(stated)})" if len(stated) else ""
    ty = ", ".join(str(int(t)) for t in sorted(gaps.target_year.unique()))
    return Claim("targets", f"Mục tiêu đến {ty}{when_vi}, so với số liệu công bố gần nhất đến năm {year}: "
                 + "; ".join(items_vi) + ".",
                 f"Targets for {ty}{when_en}, against the latest published values up to {year}: "
                 + "; ".join(items_en) + ".",
                 tuple(dict.fromkeys(sources)))


def _numeric_target_words(g) -> tuple[str, str]:
    """(vi, en) words for a rank or score target: the latest value and year, then met, or the gap and what it
    takes per year to the target year (a rank is gained in places, a score in points or percentage points)."""
    year = int(g.latest_year)
    if g.unit == "rank":
        gap, now_vi, now_en = int(g.gap), f"hạng gần nhất {int(g.latest)}", f"latest rank {int(g.latest)}"
        need_vi, need_en = f"cần tăng {gap} bậc", f"{plural(gap, 'place')} to gain"
        step_vi, step_en = "bậc mỗi năm đến " + str(int(g.target_year)), f"places a year to {int(g.target_year)}"
        digits = 1
    else:
        gap = float(g.gap)
        a, b = value_words(g.latest, g.unit)
        now_vi, now_en = f"gần nhất {a}", f"latest {b}"
        unit_vi, unit_en = ("điểm phần trăm", "percentage points") if g.unit == "percent" else ("điểm", "points")
        need_vi, need_en = f"còn thiếu {vi(gap)} {unit_vi}", f"{en(gap)} {unit_en} short"
        step_vi, step_en, digits = "mỗi năm", "a year", 2
    if gap <= 0:
        return f"{now_vi} ({year}), đã đạt", f"{now_en} ({year}), met"
    years_left = int(g.target_year) - year
    per_vi = f", khoảng {vi(gap / years_left, digits)} {step_vi}" if years_left > 0 else ""
    per_en = f", about {en(gap / years_left, digits)} {step_en}" if years_left > 0 else ""
    return f"{now_vi} ({year}), {need_vi}{per_vi}", f"{now_en} ({year}), {need_en}{per_en}"


TIER_WORDS = {  # PAPI's four groups, as the PAPI reports name them in each language
    "Best Performers": ("nhóm đạt điểm cao nhất", "the best performers"),
    "High Average": ("nhóm trung bình cao", "the high-average group"),
    "Low Average": ("nhóm trung bình thấp", "the low-average group"),
    "Poor Performers": ("nhóm đạt điểm thấp nhất", "the poor performers"),
}


def basis_words(basis: str) -> tuple[str, str]:
    """targets.target_gaps' basis of a group in both languages."""
    b = str(basis)
    m = re.fullmatch(r"no tier published for (\d{4})(?:, rank (\d+))?", b)
    if m:
        rank_vi = f", hạng {m[2]}" if m[2] else ""
        rank_en = f", rank {m[2]}" if m[2] else ""
        return f"năm {m[1]} chưa có nhóm công bố{rank_vi}", f"no group published for {m[1]}{rank_en}"
    if b.startswith("computed"):
        return "nhóm tính theo quy tắc tứ phân vị của PAPI", "group computed by PAPI's quartile rule"
    if b == "published":
        return "nhóm công bố", "published group"
    return "không có số liệu", "no data"


def _date_vi(iso: str) -> str:
    y, m, d = str(iso).split("-")
    return f"{d}/{m}/{y}"


# --------------------------------------------------------------------------- assembling

def brief(province: str | None, year: int, data: BriefData | None = None, kind: str = "ranking") -> Brief:
    """The brief for a province (code) and year; `province=None` gives the national brief.

    kind="ranking" puts the indices first, kind="procedure" the procedure statistics first.
    """
    data = data or BriefData.load()
    if province is None:
        return national_brief(year, data)
    name_vi, name_en = data.names.get(province, province), data.names_en.get(province, province)
    out = Brief(province, year, name_vi, name_en)
    index_claims, missing = [], []
    for idx in INDEX_ORDER:
        c = _headline(data, idx, year, province, name_vi, name_en)
        if c is None:
            missing.append(idx)
            continue
        index_claims.append(c)
        comp = _components(data, idx, year, province, name_vi, name_en)
        if comp is not None:
            index_claims.append(comp)
    proc_claims, proc_missing = _procedure_claims(data, year, province, name_vi, name_en)
    tg = _targets(data, year, province, name_vi, name_en)
    body = index_claims + proc_claims if kind == "ranking" else proc_claims + index_claims
    out.claims = body + ([tg] if tg is not None else [])
    gap = _missing_claim(data, year, province, name_vi, name_en, missing, proc_missing)
    if gap is not None:
        out.claims.append(gap)
    return out


def _missing_claim(data: BriefData, year: int, code: str, name_vi: str, name_en: str,
                   missing: list[str], proc_missing: list[str]) -> Claim | None:
    """One sentence on what is not published (and why, where the whole index is missing that year)."""
    if not missing and not proc_missing:
        return None
    d = data.changed
    parts_vi, parts_en, later_vi, later_en = [], [], [], []
    for idx in missing:
        cov = _coverage(d, idx, year)
        short = SHORT[idx]
        first, last = _measured_years(data, idx)
        if cov["rows"] == 0 and first is not None and year < first:  # not measured is not missing
            later_vi.append(f"{short} (bắt đầu từ {first})")
            later_en.append(f"{short} (first measured in {first})")
        elif cov["rows"] == 0 and last is not None and year > last:
            parts_vi.append(f"{short} {year} (chưa có kỳ công bố nào trong nguồn dữ liệu; gần nhất {last})")
            parts_en.append(f"{short} {year} (no edition in our sources yet; the latest is {last})")
        elif cov["rows"] == 0:
            parts_vi.append(f"{short} {year} (không có trong nguồn dữ liệu năm này)")
            parts_en.append(f"{short} {year} (not in our sources for this year)")
        elif cov["full"]:
            parts_vi.append(f"{short} {year} (bảng đầy đủ {cov['n_value']} tỉnh không có {name_vi})")
            parts_en.append(f"{short} {year} (the full table of {cov['n_value']} provinces does not include {name_en})")
        else:
            parts_vi.append(f"{short} {year} (nguồn chỉ có {cov['rows']}/{cov['of']} tỉnh)")
            parts_en.append(f"{short} {year} (our sources cover {cov['rows']} of {cov['of']} provinces)")
    for p in proc_missing:
        vi_part, _, en_part = p.partition(" / ") if " / " in p else (p, "", p)
        parts_vi.append(vi_part)
        parts_en.append(en_part or vi_part)
    vi_text = (f"Chưa có số liệu công bố của {name_vi} cho: " + "; ".join(parts_vi) + ".") if parts_vi else ""
    en_text = (f"Not published for {name_en} in our sources: " + "; ".join(parts_en) + ".") if parts_en else ""
    if later_vi:
        vi_text += (" " if vi_text else "") + f"Năm {year} chưa có: " + "; ".join(later_vi) + "."
        en_text += (" " if en_text else "") + f"Not yet measured in {year}: " + "; ".join(later_en) + "."
    return Claim("missing", vi_text, en_text)


def _measured_years(data: BriefData, index_id: str) -> tuple[int | None, int | None]:
    """First and last year the index headline is measured (the indicator catalogue)."""
    c = data.indicators
    if "first_year" not in c:
        return None, None
    r = c[(c.index_id == index_id) & (c.indicator == "overall")]
    if r.empty:
        return None, None
    f, la = r.first_year.iloc[0], r.last_year.iloc[0]
    return (None if pd.isna(f) else int(f)), (None if pd.isna(la) else int(la))


def national_brief(year: int, data: BriefData | None = None) -> Brief:
    """Per index: how many provinces, full or partial; for full years the top, bottom and median;
    movers only where at least MIN_MOVERS provinces have comparable ranks in both years."""
    data = data or BriefData.load()
    out = Brief(None, year, "cả nước", "Viet Nam")
    d = data.changed
    for idx in INDEX_ORDER:
        y = d[(d.index_id == idx) & (d.year == year) & (d.indicator == "overall")]
        short = SHORT[idx]
        if y.empty:
            continue
        cov = _coverage(d, idx, year)
        src = _source(y.iloc[0])
        if cov["full"]:
            v = y[y.value.notna()].sort_values(["rank", "province_code"])
            top, bottom = v.iloc[0], v.iloc[-1]
            tv, te = value_words(top.value, top.unit)
            bv, be = value_words(bottom.value, bottom.unit)
            med = v.value.median()
            mv, me = value_words(med, top.unit)
            s_vi = (f"{short} {year}: bảng đầy đủ {cov['n_value']}/{cov['of']} tỉnh; đứng đầu "
                    f"{data.names.get(top.province_code)} ({tv}), "
                    f"cuối bảng {data.names.get(bottom.province_code)} ({bv}), "
                    f"trung vị {mv}")
            s_en = (f"{short} {year}: full table of {cov['n_value']} of {cov['of']} provinces; top "
                    f"{data.names_en.get(top.province_code)} ({te}), "
                    f"bottom {data.names_en.get(bottom.province_code)} ({be}), "
                    f"median {me}")
            ch = y[y.rank_change.notna()]
            if len(ch) >= MIN_MOVERS:
                up = ch.sort_values(["rank_change", "province_code"], ascending=[False, True]).iloc[0]
                if up.rank_change > 0:
                    a, b = change_words(up.rank_change)
                    s_vi += f"; tăng mạnh nhất {data.names.get(up.province_code)} ({a}, lên thứ {int(up['rank'])})"
                    s_en += f"; biggest riser {data.names_en.get(up.province_code)} ({b} to {ordinal(up['rank'])})"
            elif len(y) and isinstance(y.note.iloc[0], str) and y.note.iloc[0].startswith("not comparable"):
                s_vi += f"; không so sánh thứ hạng với năm trước vì {short} đổi phương pháp"
                s_en += f"; ranks not compared with the previous year ({short} changed its methodology)"
            out.claims.append(Claim("index", s_vi + ".", s_en + ".", (src,)))
        else:
            n = max(cov["n_value"], cov["rows"])
            out.claims.append(Claim(
                "index", f"{short} {year}: nguồn của chúng tôi chỉ có {n}/{cov['of']} tỉnh "
                f"(dữ liệu một phần từ tin tức và tài liệu đã dẫn), "
                f"nên không lập bảng xếp hạng; chỉ trình bày thứ hạng công bố.",
                f"{short} {year}: our sources cover {n} of {cov['of']} provinces (partial, from the news and documents "
                f"cited), so no ranking is computed; only published ranks are shown.", ()))
    f = data.facts
    p = f[f.index_id.isin(procedures.PROC_INDEX_IDS) & (f.year == year) & f.scope.str.fullmatch(r"\d{2}").fillna(False)]
    n = p.scope.nunique()
    if n:
        out.claims.append(Claim("procedures", f"Thống kê TTHC năm {year}: có số liệu của {n} tỉnh/đơn vị "
                                f"({len(p)} số liệu), không phải toàn bộ các tỉnh.",
                                f"Procedure statistics {year}: figures for "
                                f"{plural(n, 'province or unit', 'provinces or units')}"
                                f" ({plural(len(p), 'figure')}), not all provinces.", ()))
    if not out.claims:
        out.claims.append(Claim("missing", f"Không có chỉ số nào trong nguồn dữ liệu cho năm {year}.",
                                f"No index in our sources for {year}.", ()))
    return out


def show_brief(b: Brief) -> None:
    """Display the brief (already escaped) in a notebook."""
    from .reporting import show_md
    show_md(b.markdown())


def report_brief(ctx, kind: str = "ranking") -> Brief:
    """The brief of a report context (ranking or procedure): shown first, saved as brief.csv."""
    from . import targets
    from .data import load
    from .reporting import save_table

    changed = getattr(ctx, "changed", None)
    indicators = getattr(ctx, "indicators", None)
    if indicators is None:
        indicators = load("indicators")
    if changed is None:
        changed = load("changes")
    facts = getattr(ctx, "facts", None)
    data = BriefData(changed, load("facts") if facts is None else facts, indicators, targets.load_targets(),
                     ctx.names, ctx.names_en, labels=metric_labels())
    b = brief(ctx.province, ctx.year, data, kind=kind)
    save_table(b.frame(), ctx.output_dir, "brief")
    show_brief(b)
    return b
