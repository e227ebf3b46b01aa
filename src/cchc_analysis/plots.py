"""One style and every chart. Vietnamese text in DejaVu Sans, NFC-normalised; size and dpi set once."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import ListedColormap, Normalize

from .text import nfc_exact as nfc  # NFC only: line breaks in titles are kept

FONT = "DejaVu Sans"
DPI = 90
WIDTH = 10.0
FOCAL = "#d62728"
PEER = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]
GREY = "#c7c7c7"


def style() -> None:
    """Apply the project's figure style (call once per notebook; idempotent)."""
    sns.set_theme(style="whitegrid", context="notebook")
    plt.rcParams.update({
        "font.family": FONT, "font.sans-serif": [FONT], "figure.dpi": DPI, "savefig.dpi": DPI,
        "figure.figsize": (WIDTH, 5.0), "axes.titlesize": 12, "axes.titleweight": "bold",
        "axes.labelsize": 10, "xtick.labelsize": 9, "ytick.labelsize": 9, "legend.fontsize": 9,
        "figure.constrained_layout.use": True,
    })


def _title(ax, vi: str, en: str | None = None) -> None:
    ax.set_title(nfc(vi if not en else f"{vi}\n{en}"))


def distribution(values: pd.Series, focal_value: float | None, focal_label: str, vi: str, en: str, xlabel: str):
    """Histogram of one year's scores with the focal province marked."""
    fig, ax = plt.subplots(figsize=(WIDTH, 3.8))
    sns.histplot(values.dropna(), bins=20, ax=ax, color="#9ecae1", edgecolor="white")
    if focal_value is not None and not pd.isna(focal_value):
        ax.axvline(focal_value, color=FOCAL, lw=2.5)
        ax.annotate(nfc(focal_label), (focal_value, ax.get_ylim()[1] * 0.92), color=FOCAL,
                    xytext=(5, 0), textcoords="offset points", fontweight="bold")
    ax.axvline(values.median(), color="black", ls="--", lw=1)
    ax.set_xlabel(nfc(xlabel))
    ax.set_ylabel("Số tỉnh / provinces")
    _title(ax, vi, en)
    return fig


def bump_chart(ranks: pd.DataFrame, focal: str, peers: list[str], labels: dict[str, str], vi: str, en: str,
               n_top: int = 3):
    """Ranks over years (columns year, province_code, rank): focal in red, peers and the top/bottom
    in colour, all others grey; rank 1 at the top; labels at line ends."""
    fig, ax = plt.subplots(figsize=(WIDTH, 7.5))
    last_year = ranks.year.max()
    last = ranks[ranks.year == last_year].sort_values("rank")
    top = list(last.province_code.head(n_top))
    bottom = list(last.province_code.tail(n_top))
    coloured = [focal] + [p for p in peers if p != focal] + [p for p in top + bottom if p not in peers and p != focal]
    colours = {focal: FOCAL}
    for i, p in enumerate([p for p in coloured if p != focal]):
        colours[p] = PEER[i % len(PEER)]
    for code, d in ranks.sort_values("year").groupby("province_code"):
        if code in colours:
            continue
        ax.plot(d.year, d["rank"], color=GREY, lw=0.8, alpha=0.7, zorder=1)
    ends = []
    for code in reversed(coloured):
        d = ranks[ranks.province_code == code].sort_values("year")
        if d.empty:
            continue
        lw = 3 if code == focal else 1.8
        ax.plot(d.year, d["rank"], color=colours[code], lw=lw, marker="o", ms=4 if code != focal else 6, zorder=3)
        ends.append((d.iloc[-1], code))
    n_max = float(ranks["rank"].max())
    gap = max(1.0, n_max / 28)  # labels at line ends, nudged apart so they never overlap
    placed: list[float] = []
    for end, code in sorted(ends, key=lambda e: (e[0]["rank"], e[1])):
        y = float(end["rank"])
        if placed and y < placed[-1] + gap:
            y = placed[-1] + gap
        placed.append(y)
        ax.annotate(nfc(f"{labels.get(code, code)} ({int(end['rank'])})"), (end.year, end["rank"]),
                    xytext=(end.year + 0.12, y),
                    textcoords="data", va="center", fontsize=8.5, color=colours[code],
                    fontweight="bold" if code == focal else "normal",
                    arrowprops=(dict(arrowstyle="-", color=colours[code], lw=0.5)
                                if abs(y - end["rank"]) > 0.3 else None))
    ax.set_ylim(max(n_max, placed[-1] if placed else n_max) + 1, 0.5)
    ax.set_xticks(sorted(ranks.year.unique()))
    ax.set_xlim(ranks.year.min() - 0.2, last_year + 1.4)
    ax.set_ylabel("Thứ hạng / rank (1 = tốt nhất / best)")
    ax.set_xlabel("Năm / year")
    _title(ax, vi, en)
    return fig


def heatmap(matrix: pd.DataFrame, vi: str, en: str, focal_label: str | None = None, cmap: str = "RdYlGn",
            fmt: str = ".1f", annot: bool | None = None, center: float | None = None, vmin=None, vmax=None):
    """Heatmap with every row and column label shown (all 63 provinces readable), empty cells left blank.

    Drawn with matplotlib in seaborn's heatmap look (white cell borders, a diverging map recentred on `center`,
    dark or white annotations by the cell's luminance) but without seaborn's extra render of the whole figure
    to test label overlap: row labels are always horizontal, column labels slanted."""
    n_rows, n_cols = matrix.shape
    cols = [nfc(c) if len(str(c)) <= 40 else nfc(str(c)[:39]) + "…" for c in matrix.columns]
    longest = max((len(c) for c in cols), default=0)
    lines = max((str(i).count("\n") + 1 for i in matrix.index), default=1)  # wrapped row labels need taller rows
    per_row = max(0.2 if n_rows > 20 else 0.35, 0.16 * lines + 0.1)
    height = max(3.0, per_row * n_rows + 1.8) + 0.055 * longest  # room for the rotated column labels
    fig, ax = plt.subplots(figsize=(max(WIDTH * 0.8, 0.9 * n_cols + 3), height))
    annot = (n_rows * n_cols <= 120) if annot is None else annot
    data = np.ma.masked_invalid(matrix.astype(float).to_numpy())
    lo = float(data.min()) if vmin is None else vmin
    hi = float(data.max()) if vmax is None else vmax
    colours = plt.get_cmap(cmap)
    if center is not None:  # seaborn's recentring: the map's middle at `center`, cropped to [lo, hi]
        half = max(hi - center, center - lo)
        ends = Normalize(center - half, center + half)([lo, hi])
        colours = ListedColormap(colours(np.linspace(ends[0], ends[1], 256)))
    mesh = ax.pcolormesh(data, cmap=colours, vmin=lo, vmax=hi, edgecolors="white", linewidth=0.3)
    ax.set(xlim=(0, n_cols), ylim=(n_rows, 0))  # first row at the top
    fig.colorbar(mesh, ax=ax, shrink=0.6).outline.set_linewidth(0)
    ax.set_xticks(np.arange(n_cols) + 0.5, cols, rotation=35, ha="right")
    ax.set_yticks(np.arange(n_rows) + 0.5, [nfc(i) for i in matrix.index], va="center")
    ax.grid(False)  # the theme's grid would cross the cells (and show through empty ones)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.tick_params(axis="y", labelsize=7.5 if n_rows > 30 else 9)
    if annot:
        mesh.update_scalarmappable()
        for k, (value, face) in enumerate(zip(data.flat, mesh.get_facecolors())):
            if value is not np.ma.masked:
                ax.text(k % n_cols + 0.5, k // n_cols + 0.5, format(value, fmt), ha="center", va="center",
                        color=".15" if sns.utils.relative_luminance(face) > 0.408 else "w")
    if focal_label is not None:
        for lab in ax.get_yticklabels():
            if lab.get_text() == nfc(focal_label):
                lab.set_color(FOCAL)
                lab.set_fontweight("bold")
    _title(ax, vi, en)
    return fig


def bars(labels: list[str], values: list[float], vi: str, en: str, xlabel: str, highlight: str | None = None,
         errors: tuple[list[float], list[float]] | None = None, fmt: str = "{:.2f}", from_zero: bool = False):
    """Horizontal bars (e.g. regional means), with an optional min–max range and a highlighted label.

    Counts should start at zero (`from_zero=True`); scores on a 0–100 scale may zoom on their range."""
    fig, ax = plt.subplots(figsize=(WIDTH, 0.45 * len(labels) + 1.6))
    y = np.arange(len(labels))
    colours = [FOCAL if highlight is not None and lab == highlight else "#6baed6" for lab in labels]
    ax.barh(y, values, color=colours)
    if errors is not None:
        lo, hi = errors
        ax.hlines(y, lo, hi, color="black", lw=1)
    for yi, v in zip(y, values):
        if not pd.isna(v):
            ax.annotate(fmt.format(v), (v, yi), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set_yticks(y, [nfc(lab) for lab in labels])
    ax.invert_yaxis()
    ax.set_xlabel(nfc(xlabel))
    finite = [v for v in values if not pd.isna(v)]
    if finite and min(finite) > 0 and not from_zero:
        lo = min(finite) if errors is None else min(min(errors[0]), min(finite))
        ax.set_xlim(lo * 0.9, None)
    _title(ax, vi, en)
    return fig


def lines(df: pd.DataFrame, x: str, y: str, hue: str, vi: str, en: str, ylabel: str, invert: bool = False,
          targets: dict[str, float] | None = None):
    """One line per `hue` value (e.g. the focal province's rank in each index over time)."""
    fig, ax = plt.subplots(figsize=(WIDTH, 4.5))
    for i, (key, d) in enumerate(df.sort_values(x).groupby(hue, sort=True)):
        ax.plot(d[x], d[y], marker="o", lw=2, color=PEER[i % len(PEER)], label=nfc(key))
        if targets and key in targets:
            ax.axhline(targets[key], color=PEER[i % len(PEER)], ls=":", lw=1.5)
            ax.annotate(nfc(f"mục tiêu / target {key}: {targets[key]:g}"), (d[x].min(), targets[key]), fontsize=8,
                        color=PEER[i % len(PEER)], xytext=(0, 3), textcoords="offset points")
    if invert:
        ax.invert_yaxis()
    ax.set_ylabel(nfc(ylabel))
    ax.set_xlabel("Năm / year")
    years = sorted(df[x].unique())
    ax.set_xticks(years)
    ax.legend(loc="best")
    _title(ax, vi, en)
    return fig


def scatter(df: pd.DataFrame, x: str, y: str, label_col: str, focal_label: str | None, vi: str, en: str,
            xlabel: str, ylabel: str):
    """Scatter of two measures across provinces, focal province marked and labelled."""
    fig, ax = plt.subplots(figsize=(WIDTH * 0.8, 5.5))
    ax.scatter(df[x], df[y], color="#6baed6", s=25)
    if focal_label is not None:
        f = df[df[label_col] == focal_label]
        ax.scatter(f[x], f[y], color=FOCAL, s=80, zorder=3)
        for xv, yv in zip(f[x], f[y]):
            ax.annotate(nfc(focal_label), (xv, yv), xytext=(6, 4), textcoords="offset points",
                        color=FOCAL, fontweight="bold")
    ax.set_xlabel(nfc(xlabel))
    ax.set_ylabel(nfc(ylabel))
    _title(ax, vi, en)
    return fig
