"""Maps in the project's style (plots.style(), DejaVu Sans, NFC text): choropleths, small multiples, locators.

Every function returns ``(fig, alt_text)``. Geometry comes from :func:`geo.geometry`, projected once
(UTM 48N) and turned into one matplotlib path per province, so a national map draws in a fraction of a second.
Provinces without a value are hatched grey ("không có dữ liệu / no data"); the Hoàng Sa and Trường Sa
archipelagos are drawn enlarged and labelled; every map carries the geoBoundaries credit.
"""
from __future__ import annotations

import functools
import textwrap
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import PatchCollection
from matplotlib import patheffects
from matplotlib.colors import Normalize
from matplotlib.patches import Patch, PathPatch, Rectangle
from matplotlib.path import Path

from . import geo, plots, provinces, vn
from .plots import FOCAL, nfc

CREDIT = "Ranh giới / boundaries: geoBoundaries (geoboundaries.org)"
NO_DATA = "không có dữ liệu / no data"
NOTE_2008 = ("Ranh giới năm 2008 (Hà Tây không có bản đồ riêng) / "
             "2008 boundaries; Hà Tây has no separate polygon")
NO_DATA_FACE = "#e3e3e3"
NO_DATA_HATCH = "#9a9a9a"
EDGE = "white"
HA_TAY = "28"
HALO = [patheffects.withStroke(linewidth=2.5, foreground="white")]
#: archipelagos drawn enlarged: (province whose feature holds them, label)
ARCHIPELAGOS = (("Đà Nẵng", "QĐ. Hoàng Sa (Đà Nẵng)"), ("Khánh Hòa", "QĐ. Trường Sa (Khánh Hòa)"))
_ISLAND_DISTANCE_M = 150_000  # a part this far from its province's largest part belongs to an archipelago
MAP_SIZE = (6.2, 7.6)


@dataclass(frozen=True)
class _Island:
    code: str          # unit holding it (63 or 34)
    label: str
    xy: np.ndarray     # centroids of the islands (projected metres)
    box: tuple         # (x0, y0, x1, y1) around them


@dataclass(frozen=True)
class _Prepared:
    codes: tuple[str, ...]
    names: dict
    paths: dict         # code -> Path (projected metres)
    extent: tuple       # x0, x1, y0, y1 with margin
    islands: tuple[_Island, ...]
    centroids: dict     # code -> (x, y) representative point


def _ring_codes(n: int) -> np.ndarray:
    c = np.full(n, Path.LINETO, dtype=Path.code_type)
    c[0], c[-1] = Path.MOVETO, Path.CLOSEPOLY
    return c


def _to_path(geom) -> Path:
    """One compound path for a (multi)polygon, exteriors counter-clockwise and holes clockwise."""
    import shapely
    verts, codes = [], []
    for poly in getattr(geom, "geoms", [geom]):
        poly = shapely.geometry.polygon.orient(poly, sign=1.0)
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)
            verts.append(xy)
            codes.append(_ring_codes(len(xy)))
    return Path(np.concatenate(verts), np.concatenate(codes))


@functools.lru_cache(maxsize=2)
def _prepared(units: str) -> _Prepared:
    g = geo.geometry(units).to_crs(geo.PROJECTED_CRS)
    paths_ = {c: _to_path(geom) for c, geom in zip(g["code"], g.geometry)}
    names = dict(zip(g["code"], g["name"]))
    x0, y0, x1, y1 = g.total_bounds
    pad = 0.03 * max(x1 - x0, y1 - y0)
    centroids = {c: (p.x, p.y) for c, p in zip(g["code"], g.geometry.representative_point())}
    islands = []
    by_code = g.set_index("code").geometry
    for prov_name, label in ARCHIPELAGOS:
        code = provinces.to_code(prov_name)
        if units == "34":
            code = provinces.unit_2025_of(code)
        parts = list(getattr(by_code[code], "geoms", [by_code[code]]))
        main = max(parts, key=lambda p: p.area)
        far = [p for p in parts if p.distance(main) > _ISLAND_DISTANCE_M]
        if not far:
            raise geo.GeometryError(f"{label}: no island parts found in the polygon of {code}")
        xy = np.array([(p.centroid.x, p.centroid.y) for p in far])
        m = 35_000
        islands.append(_Island(code, label, xy, (xy[:, 0].min() - m, xy[:, 1].min() - m,
                                                 xy[:, 0].max() + m, xy[:, 1].max() + m)))
    return _Prepared(tuple(g["code"]), names, paths_, (x0 - pad, x1 + pad, y0 - pad, y1 + pad), tuple(islands),
                     centroids)


def _check_values(values: pd.Series, units: str, year: int | None, what: str = "values") -> pd.Series:
    """Float series indexed by code strings; unknown codes and duplicates are errors, never dropped."""
    if not isinstance(values, pd.Series):
        raise TypeError(f"{what} must be a pandas Series indexed by province code")
    idx = list(values.index)
    not_str = [c for c in idx if not isinstance(c, str)]
    if not_str:
        raise TypeError(f"{what}: province codes must be strings like '01', got {not_str[:5]}")
    dup = sorted({c for c in idx if idx.count(c) > 1})
    if dup:
        raise ValueError(f"{what}: codes appear more than once: {dup}")
    known = set(_prepared(units).codes)
    allowed = known | ({HA_TAY} if units == "63" and (year is None or year <= 2008) else set())
    unknown = sorted(set(idx) - allowed)
    if unknown:
        hint = " (Hà Tây '28' exists only to 2008)" if HA_TAY in unknown else ""
        raise ValueError(f"{what}: codes {unknown} are not among the {units} units{hint}")
    try:
        return values.astype(float)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what}: values must be numbers ({e})") from e


def _name(code: str, units: str) -> str:
    return _prepared(units).names.get(code) or provinces.name_of(code)


def _fmt(v: float, style: str) -> str:
    return vn.format_number(v, 2, style)


def _extremes(v: pd.Series, units: str, which: str, style: str) -> str:
    """Names at the minimum or maximum (ties: the first three alphabetically, then how many more)."""
    target = v.min() if which == "min" else v.max()
    names = sorted((_name(c, units) for c in v.index[v == target]), key=provinces.strip_diacritics)
    if len(names) <= 3:
        return ", ".join(names)
    more = len(names) - 3
    return ", ".join(names[:3]) + (f" và {more} tỉnh khác" if style == "vi" else f" and {more} others")


def _label(ax, prep: _Prepared, code: str, units: str, fontsize: float) -> None:
    """The province's name in red with a white halo, east of its interior point (at most 60 km)."""
    x, y = prep.centroids[code]
    east = min(prep.paths[code].get_extents().x1, x + 60_000)
    ax.annotate(nfc(_name(code, units)), (east, y), xytext=(4, 0), textcoords="offset points",
                ha="left", va="center", fontsize=fontsize, fontweight="bold", color=FOCAL, zorder=7,
                path_effects=HALO)


def _draw(ax, values: pd.Series, units: str, *, cmap: str, highlight: str | None, small: bool) -> dict:
    """Draw one choropleth into ax; return what was drawn (for legends, alt text and tests)."""
    prep = _prepared(units)
    drawn = values.reindex(list(prep.codes))
    have = [c for c in prep.codes if not pd.isna(drawn[c])]
    missing = [c for c in prep.codes if pd.isna(drawn[c])]
    vals = drawn[have]
    norm = Normalize(vmin=float(vals.min()), vmax=float(vals.max())) if have else Normalize(0, 1)
    if have and norm.vmin == norm.vmax:
        norm = Normalize(vmin=norm.vmin - 0.5, vmax=norm.vmax + 0.5)
    lw = 0.25 if small else 0.4
    coloured = PatchCollection([PathPatch(prep.paths[c]) for c in have], cmap=cmap, norm=norm,
                               edgecolor=EDGE, linewidth=lw, zorder=2)
    coloured.set_array(vals.to_numpy(dtype=float))
    coloured.set_gid("data")
    ax.add_collection(coloured)
    nodata = PatchCollection([PathPatch(prep.paths[c]) for c in missing], facecolor=NO_DATA_FACE,
                             edgecolor=NO_DATA_HATCH, hatch="////", linewidth=0.0, zorder=2)
    nodata.set_gid("no-data")
    ax.add_collection(nodata)
    # white outlines of the hatched provinces drawn separately (the hatch takes the edge colour)
    ax.add_collection(PatchCollection([PathPatch(prep.paths[c]) for c in missing], facecolor="none",
                                      edgecolor=EDGE, linewidth=lw, zorder=2.1))
    cm = plt.get_cmap(cmap)
    for isl in prep.islands:
        v = drawn.get(isl.code)
        face = NO_DATA_FACE if pd.isna(v) else cm(norm(v))
        ax.scatter(isl.xy[:, 0], isl.xy[:, 1], s=10 if small else 22, marker="o", facecolor=[face],
                   edgecolor="#333333", linewidth=0.5, zorder=4, hatch=None if not pd.isna(v) else "////")
        x0, y0, x1, y1 = isl.box
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ls=(0, (2, 2)), lw=0.6,
                               edgecolor="#555555", zorder=3))
        ax.annotate(nfc(isl.label), ((x0 + x1) / 2, y1), xytext=(0, 2), textcoords="offset points",
                    ha="center", va="bottom", fontsize=5.5 if small else 7.5, color="#333333", zorder=5)
    if highlight is not None:
        if highlight not in prep.paths:
            raise ValueError(f"highlight {highlight!r} is not among the {units} units")
        ax.add_patch(PathPatch(prep.paths[highlight], facecolor="none", edgecolor=FOCAL, linewidth=1.4 if small
                               else 2.0, zorder=6))
        _label(ax, prep, highlight, units, fontsize=6.5 if small else 9)
    _bare_frame(ax, prep)
    ax.set_facecolor("white")
    return {"mappable": coloured, "have": have, "missing": missing, "values": vals, "norm": norm}


def _count_line(n: int, total: int) -> str:
    return f"{n}/{total} tỉnh có dữ liệu / {n} of {total} provinces with data"


def _footer(year: int | None) -> str:
    return CREDIT if year is None or year > 2008 else f"{NOTE_2008}\n{CREDIT}"


def _alt(title_vi: str, title_en: str, year, info: dict, units: str, n_data: int, total: int,
         extra: pd.Series | None = None, highlight: str | None = None) -> str:
    when = f" {year}" if year is not None else ""
    n_col = len(info["have"])
    parts_vi = [f"Bản đồ {nfc(title_vi)}{when}: {n_col}/{len(_prepared(units).codes)} tỉnh được tô màu"]
    parts_en = [f"Map of {nfc(title_en)}{when}: {n_col} of {len(_prepared(units).codes)} provinces coloured"]
    if n_data != n_col or total != len(_prepared(units).codes):
        parts_vi.append(f"{n_data}/{total} tỉnh có dữ liệu")
        parts_en.append(f"{n_data} of {total} provinces with data")
    v = info["values"]
    if extra is not None and len(extra.dropna()):  # Hà Tây's value counts for the range, though not drawn
        v = pd.concat([v, extra.dropna()])
    if len(v):
        lo, hi = float(v.min()), float(v.max())
        parts_vi.append(f"thấp nhất {_extremes(v, units, 'min', 'vi')} ({_fmt(lo, 'vi')}), "
                        f"cao nhất {_extremes(v, units, 'max', 'vi')} ({_fmt(hi, 'vi')})")
        parts_en.append(f"lowest {_extremes(v, units, 'min', 'en')} ({_fmt(lo, 'en')}), "
                        f"highest {_extremes(v, units, 'max', 'en')} ({_fmt(hi, 'en')})")
    if info["missing"]:
        parts_vi.append(f"{len(info['missing'])} tỉnh không có dữ liệu (tô gạch xám)")
        parts_en.append(f"{len(info['missing'])} without data (grey hatching)")
    if highlight is not None:
        parts_vi.append(f"{_name(highlight, units)} được viền đỏ")
        parts_en.append(f"{_name(highlight, units)} outlined in red")
    if extra is not None and len(extra.dropna()):
        parts_vi.append(f"Hà Tây {_fmt(float(extra.iloc[0]), 'vi')} (không có bản đồ riêng)")
        parts_en.append(f"Hà Tây {_fmt(float(extra.iloc[0]), 'en')} (no separate polygon)")
    return nfc("; ".join(parts_vi) + ". " + "; ".join(parts_en) + ".")


def choropleth(values: pd.Series, *, units="63", title_vi: str, title_en: str, legend_vi: str, legend_en: str,
               year: int | None = None, highlight: str | None = None, n_expected: int | None = None,
               cmap: str = "viridis", ax=None):
    """Map of one value per province (index = code string, float); returns ``(fig, alt_text)``.

    Missing provinces are hatched grey; the subtitle says how many provinces have data (out of
    ``n_expected``, default the number of units); ``highlight`` outlines one province in red. Hà Tây ('28',
    to 2008) has no polygon: its value is named in the alt text, not drawn.
    """
    units = geo.check_units(units)
    v = _check_values(values, units, year)
    hatay = v[v.index == HA_TAY]
    v = v[v.index != HA_TAY]
    plots.style()
    if ax is None:
        fig, ax = plt.subplots(figsize=MAP_SIZE)
    else:
        fig = ax.figure
    info = _draw(ax, v, units, cmap=cmap, highlight=highlight, small=False)
    total = n_expected if n_expected is not None else len(_prepared(units).codes)
    n_data = len(info["have"]) + int(hatay.notna().sum())
    when = f" {year}" if year is not None else ""
    ax.set_title(nfc(f"{title_vi}{when}\n{title_en}{when}\n") + nfc(_count_line(n_data, total)), fontsize=11)
    if info["have"]:  # colour bar and legend in the empty west (Laos, Cambodia) of the frame
        cax = ax.inset_axes([0.03, 0.40, 0.34, 0.022])
        fig.colorbar(info["mappable"], cax=cax, orientation="horizontal")
        cax.set_title(nfc(f"{legend_vi} / {legend_en}"), fontsize=8.5, fontweight="normal")
        cax.tick_params(labelsize=7.5)
    if info["missing"]:
        handles = [Patch(facecolor=NO_DATA_FACE, edgecolor=NO_DATA_HATCH, hatch="////", label=NO_DATA)]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, 0.36), fontsize=8, frameon=False,
                  title=nfc(f"{len(info['missing'])} tỉnh / provinces"), title_fontsize=8)
    ax.set_xlabel(nfc(_footer(year)), fontsize=7, color="#555555", loc="left")
    return fig, _alt(title_vi, title_en, year, info, units, n_data, total, hatay, highlight)


def small_multiples(frame: pd.DataFrame, titles: dict, *, units="63", title_vi: str | None = None,
                    title_en: str | None = None, year: int | None = None, highlight: str | None = None,
                    n_expected: int | None = None, cmap: str = "viridis", ncols: int = 3):
    """One small map per column of ``frame`` (index = code, columns = indicators), each with its own scale.

    ``titles`` maps each column to its (Vietnamese, English) title. Returns ``(fig, alt_text)``.
    """
    units = geo.check_units(units)
    cols = list(frame.columns)
    no_title = [c for c in cols if c not in titles]
    if no_title:
        raise ValueError(f"titles missing for columns {no_title}")
    if not cols:
        raise ValueError("frame has no columns to map")
    plots.style()
    ncols = min(ncols, len(cols))
    nrows = -(-len(cols) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols, 4.0 * nrows), squeeze=False)
    total = n_expected if n_expected is not None else len(_prepared(units).codes)
    alts = []
    any_missing = False
    for ax, col in zip(axes.flat, cols):
        v = _check_values(frame[col], units, year, what=f"column {col!r}")
        hatay = v[v.index == HA_TAY]
        v = v[v.index != HA_TAY]
        info = _draw(ax, v, units, cmap=cmap, highlight=highlight, small=True)
        any_missing |= bool(info["missing"])
        vi, en = titles[col]
        n_data = len(info["have"]) + int(hatay.notna().sum())
        wrap = functools.partial(textwrap.fill, width=30)  # long sub-index names must not run into the next map
        ax.set_title(nfc(f"{wrap(vi)}\n{wrap(en)}\n{n_data}/{total}"), fontsize=8.5)
        if info["have"]:
            cb = fig.colorbar(info["mappable"], ax=ax, orientation="horizontal", shrink=0.8, pad=0.01, aspect=20)
            cb.ax.tick_params(labelsize=6.5)
        alts.append(_alt(vi, en, year, info, units, n_data, total, hatay, highlight))
    for ax in list(axes.flat)[len(cols):]:
        ax.set_visible(False)
    when = f" {year}" if year is not None else ""
    if title_vi or title_en:
        fig.suptitle(nfc(" / ".join(t for t in (title_vi, title_en) if t) + when), fontweight="bold")
    foot = _footer(year) + (f"\n▨ {NO_DATA}" if any_missing else "")
    fig.supxlabel(nfc(foot), fontsize=7, color="#555555")
    head = nfc(f"{len(cols)} bản đồ nhỏ / {len(cols)} small maps" + (f": {title_vi} / {title_en}" if title_vi
                                                                       else "") + f"{when}. ")
    return fig, head + " ".join(alts)


def link_shapes(ax, units="63", tolerance_px: float = 1.0) -> tuple[tuple[int, int], dict[str, str]]:
    """Each unit's outline in the saved image's pixels, as SVG path data, for clickable maps.

    Call after the figure is saved (saving fixes the layout; no ``bbox_inches``). Returns
    ``((width, height), {code: "M x y L … Z …"})``, simplified to ``tolerance_px``; parts under 4 px² are left out.
    """
    import shapely

    prep = _prepared(geo.check_units(units))
    fig = ax.figure
    w, h = (fig.get_size_inches() * fig.dpi).round().astype(int)
    to_px = ax.transData.transform
    shapes = {}
    for code in prep.codes:
        parts = []
        for ring in prep.paths[code].to_polygons(closed_only=True):
            xy = to_px(ring)
            xy[:, 1] = h - xy[:, 1]
            poly = shapely.Polygon(xy).simplify(tolerance_px)
            if poly.is_empty or poly.area < 4:
                continue
            pts = np.asarray(poly.exterior.coords)[:-1]
            parts.append("M" + " L".join(f"{x:.0f} {y:.0f}" for x, y in pts) + " Z")
        if parts:
            shapes[code] = " ".join(parts)
    return (int(w), int(h)), shapes


def _bare_frame(ax, prep) -> None:
    """The map's extent, equal aspect, no ticks, grid or spines (every map shares this frame)."""
    x0, x1, y0, y1 = prep.extent
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for s in ax.spines.values():
        s.set_visible(False)


def locator(code: str, units="63"):
    """Small map with one province (or, with ``units="34"``, one 2025 unit) highlighted and named."""
    units = geo.check_units(units)
    prep = _prepared(units)
    if not isinstance(code, str) or code not in prep.paths:
        raise ValueError(f"{code!r} is not the code of one of the {units} units")
    plots.style()
    fig, ax = plt.subplots(figsize=(3.2, 4.0))
    others = [c for c in prep.codes if c != code]
    ax.add_collection(PatchCollection([PathPatch(prep.paths[c]) for c in others], facecolor="#dcdcdc",
                                      edgecolor=EDGE, linewidth=0.3, zorder=2))
    ax.add_patch(PathPatch(prep.paths[code], facecolor=FOCAL, edgecolor=FOCAL, linewidth=0.6, zorder=3))
    for isl in prep.islands:
        face = FOCAL if isl.code == code else "#dcdcdc"
        ax.scatter(isl.xy[:, 0], isl.xy[:, 1], s=6, facecolor=[face], edgecolor="#555555", linewidth=0.4, zorder=4)
        x0, y0, x1, y1 = isl.box
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ls=(0, (2, 2)), lw=0.5,
                               edgecolor="#777777", zorder=3))
        ax.annotate(nfc(isl.label), ((x0 + x1) / 2, y1), xytext=(0, 1.5), textcoords="offset points",
                    ha="center", va="bottom", fontsize=4.8, color="#444444")
    name = _name(code, units)
    _label(ax, prep, code, units, fontsize=8)
    _bare_frame(ax, prep)
    label = "đơn vị 2025 / 2025 unit" if units == "34" else "tỉnh / province"
    ax.set_title(nfc(f"{name}\n{label}"), fontsize=9)
    ax.set_xlabel(nfc(CREDIT), fontsize=5, color="#555555")
    alt = nfc(f"Bản đồ vị trí: {name} được tô đỏ trên bản đồ {len(prep.codes)} "
              f"{'đơn vị năm 2025' if units == '34' else 'tỉnh'}. "
              f"Locator map: {name} highlighted in red among the {len(prep.codes)} "
              f"{'units of 2025' if units == '34' else 'provinces'}.")
    return fig, alt
