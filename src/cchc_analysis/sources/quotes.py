"""A fact's value must be in its own quote.

Every FACT row with a quote (PAR/SIPAS facts and their foreign-language supplement, TTHC facts,
PCI news mentions, the article, the national averages) is checked: its written value and its
written rank each occur in the quote after NFC, either as written or, number by number, as the same
number in the source's number style (``domains.number_style``: "84,66" in a Vietnamese quote for
"84.66"; a "mixed" source may use either). A row that fails is rejected naming file, row and
column, unless it is listed in ``data/reference/quote_exceptions.csv`` (columns source_file,
source_locator, column, value_as_written, reason) — reviewed rows such as a rank given only in a
headline or a list position the collector annotated. An exception that no longer matches a
failing row is an error too, so that the file stays exact.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

import pandas as pd

from .. import paths, vn
from ..errors import ParseError, SourceError
from ..provinces import nfc

EXCEPTIONS_FILE = paths.REFERENCE / "quote_exceptions.csv"
EXCEPTION_COLUMNS = ["source_file", "source_locator", "column", "value_as_written", "reason"]
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CHANGE_UNITS = ("rank_change", "points_change", "percent_change")
# the raw column each written text comes from, by file name: (value column, rank column)
COLUMNS = {
    "pci_news_mentions_2020_2024.csv": ("score_as_printed", "rank_as_printed"),
}
DEFAULT_COLUMNS = ("value_as_written", "rank_as_written")


def _forms(token: str, style: str) -> set[str]:
    """A number as written and as the same number in the source's number style(s)."""
    out = {token}
    try:
        v = vn.parse_number(token, "mixed")
    except ParseError:
        return out
    if v is None:
        return out
    decimals = len(re.split(r"[.,]", token)[-1]) if re.search(r"[.,]\d{1,2}$", token) else 0
    for st in (("vi", "en") if style == "mixed" else (style,)):
        out.add(vn.format_number(v, decimals, st))
        out.add(f"{v:.{decimals}f}".replace(".", "," if st == "vi" else "."))
    return out


def _has_number(quote: str, forms: set[str]) -> bool:
    return any(re.search(rf"(?<![\d.,]){re.escape(f)}(?![\d]|[.,]\d)", quote) for f in forms)


def in_quote(text: str, quote: str, style: str = "mixed") -> bool:
    """True when `text` occurs in `quote` (NFC) as written, or each of its numbers does in `style`."""
    t, q = nfc(text), nfc(quote)
    if t in q:
        return True
    nums = _NUMBER.findall(t)
    return bool(nums) and all(_has_number(q, _forms(n, style)) for n in nums)


def written_cells(facts: pd.DataFrame) -> pd.DataFrame:
    """One row per (source_file, source_locator, column): the written value or rank and its quote."""
    from ..domains import number_style

    f = facts[facts["quote"].notna() & facts["quote"].str.strip().ne("")]
    rows = {}
    for r in f.to_dict("records"):
        value_col, rank_col = COLUMNS.get(r["source_file"].rsplit("/", 1)[-1], DEFAULT_COLUMNS)
        cells = []
        if isinstance(r["value_as_written"], str) and r["unit"] not in _CHANGE_UNITS + ("tier",):
            cells.append((rank_col if r["unit"] == "rank" else value_col, r["value_as_written"]))
        if isinstance(r.get("rank_as_written"), str) and r["rank_as_written"]:
            cells.append((rank_col, r["rank_as_written"]))
        for col, text in cells:
            k = (r["source_file"], r["source_locator"], col)
            rows.setdefault(k, dict(source_file=k[0], source_locator=k[1], column=col, value_as_written=text,
                                    quote=r["quote"], style=number_style(r["source_url"] or "")))
    return pd.DataFrame(rows.values(), columns=EXCEPTION_COLUMNS[:4] + ["quote", "style"])


def failures(facts: pd.DataFrame) -> pd.DataFrame:
    """The written cells of `facts` that do not occur in their quote."""
    cells = written_cells(facts)
    ok = [in_quote(t, q, s) for t, q, s in zip(cells["value_as_written"], cells["quote"], cells["style"])]
    return cells[[not x for x in ok]].reset_index(drop=True)


@functools.cache
def _exceptions_cached(path: str, mtime: float) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    if list(df.columns) != EXCEPTION_COLUMNS:
        raise SourceError(paths.raw_relpath(Path(path)), f"expected the columns {EXCEPTION_COLUMNS}", row=1)
    for i, r in enumerate(df.to_dict("records")):
        if not r["reason"].strip():
            raise SourceError(paths.raw_relpath(Path(path)), "every exception needs a reason", row=i + 2,
                              column="reason")
    return df.map(nfc)


def exceptions(path: Path | str = EXCEPTIONS_FILE) -> pd.DataFrame:
    """The reviewed exceptions (NFC strings)."""
    p = Path(path)
    return _exceptions_cached(str(p), p.stat().st_mtime).copy()


def _where(locator: str) -> int | None:
    m = re.match(r"row (\d+)", locator or "")
    return int(m.group(1)) if m else None


def check(facts: pd.DataFrame, exceptions_path: Path | str = EXCEPTIONS_FILE, stale: bool = True) -> None:
    """Raise SourceError for the first written value or rank not in its quote and not an exception.

    With `stale`, an exception of a checked file that matches no failing row is an error too.
    """
    bad = failures(facts)
    bad["source_file"] = bad["source_file"].str.replace(r"^(?:.*/)?raw/", "data/raw/", regex=True)
    exc = exceptions(exceptions_path)
    key = ["source_file", "source_locator", "column", "value_as_written"]
    bad_keys = set(map(tuple, bad[key].map(nfc).to_numpy().tolist()))
    exc_keys = set(map(tuple, exc[key].to_numpy().tolist()))
    new = bad[[k not in exc_keys for k in map(tuple, bad[key].map(nfc).to_numpy().tolist())]]
    if len(new):
        r = new.iloc[0]
        more = f" ({len(new) - 1} more such rows)" if len(new) > 1 else ""
        raise SourceError(r["source_file"], f"the written value {r['value_as_written']!r} is not in its quote "
                          f"{r['quote'][:160]!r} (as written or as the same number in the source's style); list it "
                          f"in data/reference/quote_exceptions.csv with a reason if that is right{more}",
                          row=_where(r["source_locator"]), column=r["column"])
    if stale:
        checked = set(facts["source_file"].dropna().str.replace(r"^(?:.*/)?raw/", "data/raw/", regex=True))
        gone = [k for k in exc_keys - bad_keys if k[0] in checked]
        if gone:
            k = sorted(gone)[0]
            i = exc.index[(exc[key].apply(tuple, axis=1) == k)][0]
            raise SourceError(paths.raw_relpath(Path(exceptions_path)),
                              f"exception {k} matches no failing row any more: remove it", row=int(i) + 2,
                              column="value_as_written")
