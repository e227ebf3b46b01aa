"""What both report notebooks share: showing escaped text, tables and figures; saving CSV tables."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import indices
from .atomic import atomic_path
from .text import nfc_exact
from .vn import format_number

INDEX_NAMES = indices.names()  # index_id → (vi, en), from data/reference/indices.csv


HEADERS = {  # bilingual column headers for displayed tables (CSV files keep the plain ids)
    "rank": "Hạng / rank", "rank_source": "nguồn hạng / rank source", "province_code": "mã / code",
    "province": "Tỉnh / province", "score": "Điểm / score", "value": "Giá trị / value",
    "score_change": "± điểm / score change", "rank_change": "± hạng / rank change",
    "published_tier": "Nhóm công bố / published tier", "note": "ghi chú / note",
    "prev_rank": "hạng trước / previous rank",
    "kind": "loại / kind", "region_6": "Vùng", "region_6_en": "Region", "count": "số tỉnh / n",
    "mean": "TB / mean", "median": "trung vị / median", "min": "min", "max": "max",
    "index_id": "chỉ số / index", "indicator": "chỉ tiêu / indicator", "name_en": "tên / name",
    "n_ranked": "số tỉnh xếp hạng / n ranked", "latest_year": "năm gần nhất / latest year",
    "latest": "giá trị gần nhất / latest", "needed_per_year": "cần mỗi năm / needed per year",
    "target_as_stated": "mục tiêu (nguyên văn) / target as stated", "target_en": "target",
    "target_year": "năm mục tiêu / target year", "stated_on": "ngày nêu / stated on", "status": "đánh giá / status",
    "status_en": "status", "gap": "khoảng cách / gap", "basis": "cơ sở / basis", "source": "nguồn / source",
    "source_url": "nguồn / source", "source_file": "tệp nguồn / source file", "period": "kỳ / period",
    "period_kind": "loại kỳ / period kind", "label": "số liệu / figure", "unit": "đơn vị / unit",
    "value_as_written": "nguyên văn / as written", "coverage": "độ phủ / coverage", "year": "năm / year",
    "spearman": "Spearman rho", "spearman_p": "p (Spearman)", "kendall": "Kendall tau", "kendall_p": "p (Kendall)",
    "n": "n", "a": "chỉ số A / index A", "b": "chỉ số B / index B", "check": "kiểm tra / check",
    "stated": "công bố / stated", "computed": "tính / computed", "tolerance": "dung sai / tolerance",
    "ok": "khớp / ok", "flag": "kết quả / result", "sources": "nguồn / sources", "measure": "thước đo / measure",
    "target": "mục tiêu / target", "index": "chỉ số / index",
}


def header(column: str) -> str:
    """The bilingual header of a displayed column (never a snake_case id)."""
    return HEADERS.get(column, str(column).replace("_", " "))


def reader_text(value):
    """A cell as a reader sees it: a metric id becomes its label (data/reference/metric_labels.csv)."""
    if isinstance(value, str) and "_" in value:
        from .procedures import metric_label, metric_labels

        labels = metric_labels()
        if value in labels.index:
            return metric_label(value)
        return _METRIC_ID.sub(lambda m: labels.at[m[0], "label_en"] if m[0] in labels.index else m[0], value)
    return value


_METRIC_ID = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")


def esc(text) -> str:
    """HTML-escaped, NFC text: anything from data goes through here before it is shown.

    Square brackets become entities too, so that text shown through Markdown (`show_md`)
    can never form a link or an image ("[x](javascript:…)")."""
    return html.escape(nfc_exact(text)).replace("[", "&#91;").replace("]", "&#93;")


def show_md(markdown: str) -> None:
    """Display Markdown (callers escape data-derived parts with `esc`)."""
    from IPython.display import Markdown, display
    display(Markdown(markdown))


def show_table(df: pd.DataFrame, max_rows: int = 70, floatfmt: int = 2) -> None:
    """Display a table as escaped HTML without the index."""
    from IPython.display import HTML, display
    d = df.head(max_rows).copy()
    for c in d.columns:
        if pd.api.types.is_float_dtype(d[c]):
            # years and counts (whole numbers) as integers, other values with `floatfmt` decimals
            d[c] = d[c].map(lambda v: "" if pd.isna(v)
                            else (f"{v:.0f}" if float(v).is_integer() else f"{v:.{floatfmt}f}"))
        else:
            d[c] = d[c].astype(object).where(d[c].notna(), "").map(reader_text)
    d = d.rename(columns=header)
    display(HTML(d.to_html(index=False, escape=True, na_rep="", border=0, classes="dataframe")))


def show_table_or_note(df: pd.DataFrame, note: str, empty: bool | None = None, **kw) -> None:
    """Display the table, or (when it is empty, or `empty` says so) the note saying what is missing."""
    if df.empty if empty is None else empty:
        show_md(note)
    else:
        show_table(df, **kw)


def figure_png(fig) -> bytes:
    """The figure as a compact PNG: rendered once at the figure's dpi straight to pixels (no intermediate
    PNG), reduced to a 256-colour palette (charts have few colours; anti-aliased grey lines otherwise make
    400 KB images), so every page stays under 2 MB. The fast octree palette is 4–5× quicker than median cut
    and gives smaller files; white stays within one level of white."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="rgba", dpi=fig.dpi)
    width, height = fig.canvas.get_width_height(physical=True)
    img = Image.frombuffer("RGBA", (width, height), buf.getbuffer(), "raw", "RGBA", 0, 1).convert("RGB")
    out = io.BytesIO()
    img.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(out, format="PNG")
    return out.getvalue()


def figure_alt(fig) -> str:
    """Alt text from what the figure shows: its titles and axis labels (NFC)."""
    parts = []
    if getattr(fig, "_suptitle", None) is not None and fig._suptitle.get_text():
        parts.append(fig._suptitle.get_text())
    for ax in fig.axes:
        for t in (ax.get_title(), ax.get_title(loc="left")):
            if t and t not in parts:
                parts.append(t)
        labels = [x for x in (ax.get_xlabel(), ax.get_ylabel()) if x]
        if labels:
            parts.append("trục / axes: " + ", ".join(labels))
    text = " — ".join(p.replace("\n", " ") for p in parts) or "Biểu đồ / chart"
    return nfc_exact("Biểu đồ / chart: " + text)


def show_fig(fig, alt: str | None = None) -> None:
    """Display a figure once (as a compact PNG with alt text saying what it shows) and close it."""
    import base64

    import matplotlib.pyplot as plt
    from IPython.display import HTML, display
    data = base64.b64encode(figure_png(fig)).decode("ascii")
    display(HTML(f'<img alt="{html.escape(alt or figure_alt(fig), quote=True)}" src="data:image/png;base64,{data}">'))
    plt.close(fig)


def save_table(df: pd.DataFrame, output_dir: Path, name: str) -> Path:
    """Write a key table as CSV (UTF-8, atomically) into the report's output folder."""
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / f"{name}.csv"
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, lineterminator="\n")
    return path


def ordinal_en(n: int) -> str:
    """1 → '1st', 2 → '2nd', 11 → '11th'."""
    n = int(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def num_vi(v: float, decimals: int = 2) -> str:
    """A number in Vietnamese style: num_vi(26131, 0) = '26.131', num_vi(97.4, 1) = '97,4'."""
    return format_number(v, decimals, "vi")


def num_en(v: float, decimals: int = 2) -> str:
    """A number in English style: num_en(26131, 0) = '26,131', num_en(97.4, 1) = '97.4'."""
    return format_number(v, decimals, "en")


def parameter_error(e: Exception):
    """Show a bad parameter as a short message and stop the notebook (no traceback to read)."""
    show_md(f"**Lỗi tham số / parameter error:** {esc(e)}")
    raise SystemExit(f"parameter error: {e}")


def error_message(e: BaseException) -> str:
    """The one line shown for a package error: its kind and message, no library source lines."""
    return f"{type(e).__name__}: {e}"


def _show_package_error(shell, etype, value, tb, tb_offset=None):
    """IPython custom exception handler: one short line instead of a traceback (CchcError only)."""
    stb = [error_message(value)]
    shell._showtraceback(etype, value, stb)  # the cell's error output (a notebook's, the terminal's)
    return stb


def install_error_display() -> bool:
    """In a notebook kernel, show every CchcError of the following cells as one message (no traceback).

    The cell still fails (papermill exits non-zero); returns False outside IPython.
    """
    from .errors import CchcError

    try:
        from IPython import get_ipython
    except ImportError:
        return False
    ip = get_ipython()
    if ip is None:
        return False
    ip.set_custom_exc((CchcError,), _show_package_error)
    return True


@dataclass
class ReportContext:
    """What every report knows: the year, the focal province, where tables go, the scores."""
    year: int
    province: str
    output_dir: Path
    scores: pd.DataFrame
    ranked: pd.DataFrame
    names: dict[str, str] = field(repr=False)
    names_en: dict[str, str] = field(repr=False)

    @property
    def focal(self) -> str:
        """The focal province's name, or 'cả nước' on a national page (province None)."""
        return "cả nước" if self.province is None else self.names[self.province]

    @property
    def focal_en(self) -> str:
        """The focal province's English name, or 'Viet Nam' on a national page."""
        return "Viet Nam" if self.province is None else self.names_en[self.province]


def province_names() -> tuple[dict[str, str], dict[str, str]]:
    """code → Vietnamese name and code → English name (the processed `provinces` table)."""
    from .data import load
    p = load("provinces")
    return dict(zip(p.code, p.name)), dict(zip(p.code, p.name_en))
