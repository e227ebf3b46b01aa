"""An analysis-ready province × year panel of every index, honestly marked, with its codebook.

`panel()` gives one row per (province_code, year) and, for each index × indicator, the value and
what a regression needs beside it (suffixes of the value column ``<index>_<indicator>``):

* ``_min`` / ``_max`` – the scale of that year's value (per period: PAPI's headline is 6–60 for
  2011–2017 and 10–80 from 2018; `data/reference/indicator_scales.csv`, else the catalogue);
* ``_group`` – comparability group: 1, 2, … a new group starts at each methodology break
  (the indicator's or its index headline's, `ranking.method_breaks`) and at each change of scale;
* ``_table`` – ``full`` or ``partial`` (the year's table covers some provinces only);
* ``_sample`` – how a partial year's provinces were selected (top list, province profiles, news
  mentions, report excerpt; `data/reference/partial_samples.csv`); ``full_table`` otherwise;
* ``_rank`` – the published rank (never a computed one); ``_rank_computed`` – our competition rank,
  full years only.

Partial years are selected samples, not random ones: they are left out unless
``include_partial=True``. The codebook (column → names, unit, scale, source, methodology notes,
label) is in ``panel.attrs["codebook"]`` and returned as a table by `codebook`.
"""
from __future__ import annotations

import functools

import pandas as pd

from . import indices, paths, ranking
from .data import load
from .errors import CchcError
from .provinces import provinces

INDEX_ORDER = indices.ids()  # data/reference/indices.csv
PUBLISHERS = {"pci": "VCCI (with USAID), pcivietnam.vn", "papi": "UNDP / CECODES / VFF-CTC, papi.org.vn",
              "par": "Ministry of Home Affairs (Bộ Nội vụ), as reported",
              "sipas": "Ministry of Home Affairs, as reported"}
UNIT_METHODS = ("mean", "min", "max", "weighted_mean")
SUFFIXES = ("", "_min", "_max", "_group", "_table", "_sample", "_rank", "_rank_computed")
UNIT_SUFFIXES = ("", "_min", "_max", "_group", "_table", "_sample", "_n", "_n_constituents", "_complete")
SCALE_TRAP = ("PAPI's headline (papi_overall) is the sum of 6 dimensions (6–60) for 2011–2017 and of 8 (10–80) "
              "from 2018 under the same id: never pool it across papi_overall_group; use the _min/_max columns "
              "to rescale or stay within one group.")


class PanelError(CchcError, ValueError):
    """A panel request that cannot be answered without a choice the caller must make."""


def ranked_scores() -> pd.DataFrame:
    """Scores with published and computed ranks: the processed `ranked` table (derived once by the build)."""
    return load("ranked")


@functools.cache
def _scale_periods() -> pd.DataFrame:
    df = pd.read_csv(paths.REFERENCE / "indicator_scales.csv", dtype={"index_id": str, "indicator": str})
    return df


@functools.cache
def _samples() -> pd.DataFrame:
    return pd.read_csv(paths.REFERENCE / "partial_samples.csv", dtype=str)


def year_scales(index_id: str, indicator: str, years, indicators: pd.DataFrame) -> pd.DataFrame:
    """year → scale_min, scale_max of one indicator: the per-period scale where one is listed, else the catalogue."""
    cat = indicators[(indicators.index_id == index_id) & (indicators.indicator == indicator)]
    lo = float(cat.scale_min.iloc[0]) if len(cat) else float("nan")
    hi = float(cat.scale_max.iloc[0]) if len(cat) else float("nan")
    per = _scale_periods()
    per = per[(per.index_id == index_id) & (per.indicator == indicator)]
    rows = []
    for y in sorted(set(int(y) for y in years)):
        hit = per[(per.first_year <= y) & (per.last_year.isna() | (per.last_year >= y))]
        if len(hit) > 1:
            raise PanelError(f"data/reference/indicator_scales.csv: {index_id}/{indicator} has {len(hit)} "
                             f"scales for {y}")
        if len(hit):
            rows.append((y, float(hit.scale_min.iloc[0]), float(hit.scale_max.iloc[0])))
        else:
            rows.append((y, lo, hi))
    return pd.DataFrame(rows, columns=["year", "scale_min", "scale_max"])


def comparability_groups(index_id: str, indicator: str, years, indicators: pd.DataFrame) -> dict[int, int]:
    """year → group number (1, 2, …): a new group at each methodology break (the indicator's or its
    headline's, as `ranking.comparable` judges) and at each change of scale."""
    breaks = ranking.method_breaks(indicators)
    cuts = set(breaks.get((index_id, indicator), [])) | set(breaks.get((index_id, "overall"), []))
    sc = year_scales(index_id, indicator, years, indicators)
    prev = None
    for r in sc.itertuples():
        cur = (r.scale_min, r.scale_max)
        if prev is not None and cur != prev and not (pd.isna(cur[1]) and pd.isna(prev[1])):
            cuts.add(int(r.year))
        prev = cur
    ys = sorted(set(int(y) for y in years))
    out, g = {}, 0
    for i, y in enumerate(ys):
        if i == 0 or any(ys[i - 1] < b <= y for b in cuts):
            g += 1
        out[y] = g
    return out


def _select(df: pd.DataFrame, indices, indicators) -> pd.DataFrame:
    have = [i for i in INDEX_ORDER if i in set(df.index_id)]
    if indices is None:
        indices = have
    elif isinstance(indices, str):
        indices = [i.strip().lower() for i in indices.split(",") if i.strip()]
    bad = [i for i in indices if i not in have]
    if bad:
        raise PanelError(f"unknown index {', '.join(map(repr, bad))}; indices: {', '.join(have)}")
    df = df[df.index_id.isin(indices)]
    if indicators in (None, "all"):
        return df
    wanted = [i.strip() for i in indicators.split(",")] if isinstance(indicators, str) else list(indicators)
    known = set(df.indicator)
    bad = [i for i in wanted if i not in known]
    if bad:
        raise PanelError(f"unknown indicator {', '.join(map(repr, bad))} for {', '.join(indices)}; "
                         "see load('indicators') for the ids")
    return df[df.indicator.isin(wanted)]


def _sample_of(rows: pd.DataFrame) -> pd.Series:
    s = _samples().set_index("source_file")["sample"]
    out = rows["source_file"].map(s)
    out = out.where(rows["coverage"].ne("full"), "full_table")
    missing = rows.loc[out.isna(), "source_file"].unique()
    if len(missing):
        raise PanelError("data/reference/partial_samples.csv does not say how the partial rows of "
                         + ", ".join(missing) + " were selected")
    return out.astype("string")


def panel(indices=None, indicators="overall", units="provinces", include_partial=False,
          method: str | None = None, weights: dict[str, float] | None = None) -> pd.DataFrame:
    """A province × year panel (see the module docstring for the columns); codebook in `.attrs["codebook"]`.

    indices: None (all) or ids ("pci,papi"); indicators: "overall", "all" or a list of ids;
    units: "provinces" (pre-2025 codes, key province_code) or "2025" (the 34 units, key unit_code,
    needs `method`: mean | min | max | weighted_mean with `weights`; ranks are never aggregated);
    include_partial: keep partial years (selected samples, flagged in `_table` / `_sample`).
    """
    if units not in ("provinces", "2025"):
        raise PanelError(f"units must be 'provinces' or '2025', got {units!r}")
    if units == "provinces" and method is not None:
        raise PanelError("method= is only for units='2025' (province values are never aggregated)")
    rows = _select(ranked_scores(), indices, indicators)
    cat = load("indicators")
    excluded = []
    if not include_partial:
        part = rows[rows.coverage.ne("full")]
        excluded = sorted({f"{r.index_id} {r.year}" for r in part[["index_id", "year"]].drop_duplicates().itertuples()})
        rows = rows[rows.coverage.eq("full")]
    rows = rows.assign(sample=_sample_of(rows))
    pieces, book = [], []
    for (idx, ind), d in rows.groupby(["index_id", "indicator"], sort=False):
        if d.value.isna().all() and d.published_rank.isna().all():
            continue
        col = f"{idx}_{ind}"
        sc = year_scales(idx, ind, d.year, cat).set_index("year")
        grp = comparability_groups(idx, ind, sorted(rows[(rows.index_id == idx)].year.unique()), cat)
        w = pd.DataFrame({"province_code": d.province_code, "year": d.year, col: d.value,
                          f"{col}_min": d.year.map(sc.scale_min), f"{col}_max": d.year.map(sc.scale_max),
                          f"{col}_group": d.year.map(grp).astype("Int64"), f"{col}_table": d.coverage,
                          f"{col}_sample": d["sample"], f"{col}_rank": d.published_rank,
                          f"{col}_rank_computed": d.computed_rank})
        pieces.append(w)
        book += _codebook_rows(idx, ind, col, d, cat, grp, sc)
    if not pieces:
        raise PanelError("no values for that selection" + (" in full years (try include_partial=True)"
                                                           if not include_partial else ""))
    order = sorted(pieces, key=lambda w: (INDEX_ORDER.index(w.columns[2].split("_")[0]),
                                          "" if w.columns[2].endswith("_overall") else w.columns[2]))
    out = order[0].copy()
    for w in order[1:]:
        out = out.merge(w, on=["province_code", "year"], how="outer")
    names = provinces().set_index("code")["name"]
    out.insert(1, "province", out.province_code.map(names).astype("string"))
    out = out.sort_values(["province_code", "year"]).reset_index(drop=True)
    book = _key_rows("provinces") + sorted(book, key=lambda r: [c for w in order for c in w.columns].index(r["column"]))
    if units == "2025":
        out, book = _to_units(out, book, order, method, weights)
    out.attrs = {"codebook": book, "units": units, "method": method, "include_partial": include_partial,
                 "excluded_partial": excluded, "scale_trap": SCALE_TRAP}
    return out


def _key_rows(units: str) -> list[dict]:
    if units == "2025":
        keys = [("unit_code", "Mã đơn vị hành chính cấp tỉnh từ 1/7/2025",
                 "Code of the provincial unit from 1 July 2025"),
                ("unit_name", "Tên đơn vị (từ 1/7/2025)", "Unit name (from 1 July 2025)")]
    else:
        keys = [("province_code", "Mã tỉnh (trước 2025; '28' = Hà Tây)", "Province code (pre-2025; '28' = Hà Tây)"),
                ("province", "Tên tỉnh", "Province name")]
    keys.append(("year", "Năm đo lường", "Year measured"))
    return [{"column": c, "name_vi": vi, "name_en": en, "unit": "", "scale": "", "source": "data/raw/admin_units",
             "methodology_notes": "", "label": en} for c, vi, en in keys]


def _scale_text(sc: pd.DataFrame) -> str:
    parts = []
    for (lo, hi), g in sc.groupby(["scale_min", "scale_max"], dropna=False):
        rng = f"{lo:g}–{hi:g}" if pd.notna(lo) and pd.notna(hi) else "not published"
        parts.append((int(g.index.min()), f"{rng} ({g.index.min()}–{g.index.max()})"))
    return "; ".join(t for _, t in sorted(parts))


def _codebook_rows(idx, ind, col, d, cat, grp, sc) -> list[dict]:
    c = cat[(cat.index_id == idx) & (cat.indicator == ind)]
    c = c.iloc[0] if len(c) else None

    def text(field):
        return str(c[field]) if c is not None and pd.notna(c[field]) else ""

    name_vi, name_en = text("name_vi") or ind, text("name_en") or ind
    groups = {}
    for y, g in grp.items():
        if y in set(d.year):
            groups.setdefault(g, []).append(y)
    gtext = "; ".join(f"{g} = {_span(ys)}" for g, ys in sorted(groups.items()))
    breaks = text("method_breaks")
    notes = (f"Methodology breaks: {breaks.replace(';', ', ') or 'none listed'}. " + text("notes")).strip()
    source = f"{PUBLISHERS[idx]}; files: " + "; ".join(sorted(d.source_file.unique()))
    base = {"unit": text("unit"), "scale": _scale_text(sc), "source": source, "methodology_notes": notes}
    head = name_en if name_en.upper().startswith(idx.upper()) else f"{idx.upper()} {name_en}"
    parts = [("", name_vi, name_en, head),
             ("_min", f"{name_vi}: điểm thấp nhất của thang đo", f"{name_en}: scale minimum", f"{head}: scale min"),
             ("_max", f"{name_vi}: điểm cao nhất của thang đo", f"{name_en}: scale maximum", f"{head}: scale max"),
             ("_group", f"{name_vi}: nhóm so sánh được", f"{name_en}: comparability group ({gtext})",
              f"{head}: comparability group"),
             ("_table", f"{name_vi}: bảng đầy đủ / một phần", f"{name_en}: year's table full or partial",
              f"{head}: table full/partial"),
             ("_sample", f"{name_vi}: cách chọn mẫu một phần",
              f"{name_en}: how a partial year's provinces were selected", f"{head}: partial sample"),
             ("_rank", f"{name_vi}: hạng công bố", f"{name_en}: published rank", f"{head}: published rank"),
             ("_rank_computed", f"{name_vi}: hạng tính lại (năm đầy đủ)", f"{name_en}: computed rank (full years)",
              f"{head}: computed rank")]
    out = []
    for suf, vi, en, label in parts:
        row = dict(base, column=col + suf, name_vi=vi, name_en=en, label=label)
        if suf in ("_group", "_table", "_sample", "_rank", "_rank_computed"):
            row["unit"] = ""
        if suf == "_group":
            row["value_labels"] = {g: _span(ys) for g, ys in groups.items()}
        out.append(row)
    return out


def _span(years) -> str:
    return str(min(years)) if min(years) == max(years) else f"{min(years)}–{max(years)}"


def _to_units(out: pd.DataFrame, book: list[dict], order, method, weights):
    """The province panel aggregated onto the 34 units of 2025 with an explicit method (merger.to_units)."""
    from . import merger

    if method is None:
        raise PanelError("units='2025' averages several provinces into one unit: say how with method= "
                         f"({', '.join(UNIT_METHODS)}; weighted_mean needs weights=province_code → weight). "
                         "Ranks are never aggregated.")
    if method in ("rank", "ranks") or "rank" in str(method):
        raise PanelError("ranks cannot be aggregated onto the 2025 units; the unit panel carries values only")
    if method not in UNIT_METHODS:
        raise PanelError(f"method must be one of {', '.join(UNIT_METHODS)}, got {method!r}")
    if method == "weighted_mean" and not weights:
        raise PanelError("method='weighted_mean' needs weights= (province_code → weight, e.g. population)")
    frames = []
    new_book = _key_rows("2025")
    for w in order:
        col = w.columns[2]
        long = w[["province_code", "year", col]].rename(columns={col: "value"}).assign(index_id="x", indicator=col)
        agg = merger.to_units(long, weights=weights if method == "weighted_mean" else None)
        f = pd.DataFrame({"unit_code": agg.unit_code, "unit_name": agg.unit_name, "year": agg.year,
                          col: agg[method], f"{col}_n": agg.n.astype("Int64"),
                          f"{col}_n_constituents": agg.n_constituents.astype("Int64"), f"{col}_complete": agg.complete})
        meta = w.drop_duplicates("year").set_index("year")
        for suf in ("_min", "_max", "_group"):
            f[col + suf] = f.year.map(meta[col + suf])
        tab = w.groupby("year")[col + "_table"].agg(lambda s: "full" if s.eq("full").all() else "partial")
        smp = w.groupby("year")[col + "_sample"].agg(lambda s: ";".join(sorted(set(s.dropna()))))
        f[col + "_table"] = f.year.map(tab).astype("string")
        f[col + "_sample"] = f.year.map(smp).astype("string")
        frames.append(f[["unit_code", "unit_name", "year"] + [col + s for s in UNIT_SUFFIXES]])
        rule = (f"{method} of the constituent provinces' values (merger.to_units; Hà Tây, to 2008, is not included); "
                "see _n / _n_constituents / _complete")
        for r in book:
            if r["column"] in (col, col + "_min", col + "_max", col + "_group", col + "_table", col + "_sample"):
                new_book.append(dict(r, methodology_notes=(rule + ". " + r["methodology_notes"]) if r["column"] == col
                                     else r["methodology_notes"]))
        head = next(r for r in book if r["column"] == col)
        for suf, en in (("_n", "constituents with a value"), ("_n_constituents", "constituents of the unit"),
                        ("_complete", "every constituent had a value")):
            new_book.append(dict(head, column=col + suf, name_vi=f"{head['name_vi']}: số tỉnh thành phần",
                                 name_en=f"{head['name_en']}: {en}", unit="", label=f"{head['label']}: {en}"))
    res = frames[0]
    for f in frames[1:]:
        res = res.merge(f, on=["unit_code", "unit_name", "year"], how="outer")
    res["unit_name"] = res["unit_name"].astype("string")
    cols = [c for c in res.columns]
    new_book = sorted(new_book, key=lambda r: cols.index(r["column"]) if r["column"] in cols else len(cols))
    return res.sort_values(["unit_code", "year"]).reset_index(drop=True), new_book


def codebook(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """The codebook of a panel (default: `panel()`) as a table: column, name_vi, name_en, unit, scale,
    source, methodology_notes, label (≤ 80 characters, as in the Stata file)."""
    df = panel() if df is None else df
    book = df.attrs.get("codebook")
    if not book:
        raise PanelError("this frame has no codebook (attrs['codebook']); make it with cchc_analysis.panel()")
    cols = ["column", "name_vi", "name_en", "unit", "scale", "source", "methodology_notes", "label"]
    out = pd.DataFrame([{k: r.get(k, "") for k in cols} for r in book])
    out["label"] = out["label"].map(short_label)
    return out


def short_label(text: str, limit: int = 80) -> str:
    """A label of at most `limit` characters (cut with '…')."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
