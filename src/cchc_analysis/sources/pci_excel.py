"""Reader for VCCI's yearly PCI data workbooks, data/raw/pci/vcci_excel/PCI_<year>.xls|xlsx (2005-2019).

Each year's summary sheet has its own layout; ``LAYOUTS`` says which sheet and which of three
small readers applies:

* ``ranking_2005``  - 2005: a ranking sheet (province, weighted PCI, rank, tier in merged cells)
  plus a summary sheet (one row per province) for the sub-indices.
* ``rows``          - one row per province (2006, 2007, 2009, 2017-2019).
* ``pairs``         - one (province, score) column pair per indicator, each pair sorted by its
  own score, with a shared "Thứ tự"/"No" position column (2008, 2010-2016). VCCI labels that
  position as the rank in its own highlight rows under the table, so it is kept as the
  published rank of every sub-index.

Columns are found by their header text (``_classify``); an unknown header, a missing sheet or a
header naming another year raises ``SourceError``. Rows under the province block (Min, Max,
Median, a repeated header, a highlighted province with its ranks) are recognised and skipped;
anything else there raises. Values are kept exactly as stored (full float precision).
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from python_calamine import CalamineError, CalamineWorkbook

from cchc_analysis.errors import CchcError, SourceError
from cchc_analysis.paths import raw_relpath
from cchc_analysis.provinces import to_code, to_unit_code
from cchc_analysis.sources.base import SCORE_COLUMNS, Candidates, conform
from cchc_analysis.sources.rawfile import Unreadable, open_zip, unreadable_cells
from cchc_analysis.text import column_letter, plain_key

SOURCE_URL = "https://pcivietnam.vn"
WORKBOOK_DIR = Path("pci") / "vcci_excel"
FILE_PATTERN = re.compile(r"^PCI_(\d{4})\.xlsx?$", re.IGNORECASE)


@dataclass(frozen=True)
class Layout:
    """Where a year's table is and how it is laid out."""

    name: str                      # "ranking_2005" | "rows" | "pairs"
    sheets: tuple[str, ...]        # sheet names, as written in the workbook (compared normalised)
    # Columns with no (or no usable) header, by letter -> role ("rank" | "tier" | "ignore").
    unlabeled: dict[str, str] = field(default_factory=dict)


LAYOUTS: dict[int, Layout] = {
    2005: Layout("ranking_2005", ("Xếp hạng theo chỉ số PCI", "Bảng tóm tắt chỉ số"),
                 unlabeled={"D": "tier"}),     # tier written once per group in merged cells
    2006: Layout("rows", ("PCI Tóm tắt",),
                 unlabeled={"A": "rank"}),     # 1..64 beside the province, table sorted by PCI
    2007: Layout("rows", ("Tóm tắt các chỉ số PCI",)),
    2008: Layout("pairs", ("Tổng hợp",)),
    2009: Layout("rows", ("Tong Hop",)),
    2010: Layout("pairs", ("Tong hop",)),
    2011: Layout("pairs", ("Tong hop",)),
    2012: Layout("pairs", ("Tong hop",)),
    2013: Layout("pairs", ("Summary",)),
    # 2014-2016: the sheet "Summary" is a stale copy of PCI 2013; "Summary_VN" is the year's table.
    2014: Layout("pairs", ("Summary_VN",)),
    2015: Layout("pairs", ("Summary_VN",), unlabeled={"AA": "ignore"}),  # English copy of the tier
    2016: Layout("pairs", ("Summary_VN",), unlabeled={"AA": "ignore"}),
    2017: Layout("rows", ("Summary",)),
    2018: Layout("rows", ("Summary",)),
    2019: Layout("rows", ("Summary",)),
}

LATEST = 2019  # a workbook of a later year (an official table a user adds) is read with this layout
FIRST_34_EDITION = 2025  # editions from 2025 list the 34 units of 1 July 2025 (names → unit codes)

# Header text (normalised: no diacritics, lower case, single spaces) -> column role.
# Checked in order; the first pattern found anywhere in the header wins.
HEADER_RULES: tuple[tuple[str, str], ...] = (
    (r"^(tinh|province)$|tinh\s*[,/]\s*thanh pho", "province"),
    (r"^(thu tu|no|stt)$", "position"),
    (r"ma pci|^vung$|dieu kien truyen thong|muc do phat trien|chat luong co so ha tang"
     r"|khoang cach toi thi truong", "ignore"),
    (r"nhom xep hang|\btier\b", "tier"),
    (r"xep hang|thu hang|\branking\b|^rank$", "rank"),
    (r"chua co trong so|unweighted", "unweighted"),
    (r"co trong so|weighted pci|pci cuoi cung|^pci \d{4}$", "overall"),
    (r"gia nhap thi truong|\bentry\b", "entry_costs"),
    (r"tiep can dat dai|\bland\b", "land_access"),
    (r"minh bach|transparency", "transparency"),
    (r"chi phi (ve )?thoi gian|time cost", "time_costs"),
    (r"khong chinh thuc|informal", "informal_charges"),
    (r"chinh sach cua trung uong", "central_policy_implementation"),
    (r"dnnn|doanh nghiep nha nuoc|soe bias", "soe_bias"),
    (r"canh tranh binh dang|\bbias\b", "policy_bias"),
    (r"nang dong|proactivity", "proactivity"),
    (r"ho tro doanh nghiep|ho tro dn|business support|phat trien khu vuc (kinh te tu nhan|kttn)"
     r"|private sector development", "business_support"),
    (r"dao tao lao dong|labor", "labor_training"),
    (r"thiet che phap ly|legal|law & order", "legal_institutions"),
)
VALUE_ROLES = frozenset(rule[1] for rule in HEADER_RULES) - {
    "province", "position", "ignore", "tier", "rank"}

# Labels of rows that are not provinces (normalised as headers are).
SUMMARY_LABELS = frozenset({
    "min", "max", "median", "mean", "average", "trung vi", "trung binh", "gia tri trung binh",
    "nho nhat", "lon nhat", "999 highest"})
HEADLINE_ROLES = frozenset({"overall", "unweighted", "rank", "tier"})
RANK_LABELS = frozenset({"thu tu", "xep hang", "ranking", "rank"})

Cell = object
Rows = list[list[Cell]]


def read_pci_workbook(path: Path, year: int) -> pd.DataFrame:
    """Read one VCCI PCI workbook into SCORE_COLUMNS (one row per province and indicator)."""
    path = Path(path)
    layout = LAYOUTS.get(year, LAYOUTS[LATEST] if year > LATEST else None)  # later years: as 2017–2019
    if layout is None:
        raise SourceError(path, f"no layout is registered for PCI {year}; add one to LAYOUTS "
                                f"(known years: {min(LAYOUTS)}-{max(LAYOUTS)})")
    book = _open_workbook(path)
    records = _READERS[layout.name](path, year, layout, book)
    df = pd.DataFrame.from_records(records)
    df = df[df["value"].notna() | df["published_rank"].notna() | df["published_tier"].notna()]
    df = df.assign(index_id="pci", year=year, unit="points", coverage="full",
                   source_file=raw_relpath(path), source_url=SOURCE_URL)
    df = df.sort_values(["province_code", "indicator"], kind="stable")
    return conform(df, SCORE_COLUMNS)


def read_all(raw_dir: Path) -> pd.DataFrame:
    """Read every PCI_<year>.xls|xlsx, years ascending.

    raw_dir is data/raw (the workbooks are then read from its pci/vcci_excel folder) or that
    folder itself.
    """
    raw_dir = Path(raw_dir)
    if (raw_dir / WORKBOOK_DIR).is_dir():
        raw_dir = raw_dir / WORKBOOK_DIR
    found = sorted((int(m.group(1)), p) for p in raw_dir.iterdir()
                   if (m := FILE_PATTERN.match(p.name)))
    years = [y for y, _ in found]
    if len(set(years)) != len(years):
        raise SourceError(raw_dir, f"more than one workbook for a year: {[p.name for _, p in found]}")
    frames = [read_pci_workbook(p, y) for y, p in found]
    if not frames:
        return conform(pd.DataFrame(), SCORE_COLUMNS)
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------- the three layouts

def _read_ranking_2005(path: Path, year: int, layout: Layout, book: CalamineWorkbook) -> list[dict]:
    """Ranking sheet (overall, rank, tier) + summary sheet (sub-indices; its PCI column is the same)."""
    ranking = _read_row_table(path, year, layout, book, layout.sheets[0])
    summary = _read_row_table(path, year, Layout("rows", layout.sheets[1:]), book, layout.sheets[1])
    overall = {r["province_code"]: r for r in ranking if r["indicator"] == "overall"}
    for r in summary:
        if r["indicator"] == "overall":
            kept = overall.get(r["province_code"])
            if kept is None or kept["value"] != r["value"]:
                raise SourceError(path, f"weighted PCI of {r['province_code']} differs between the "
                                        f"two sheets ({r['source_locator']} vs "
                                        f"{kept['source_locator'] if kept else 'absent'})")
    if set(overall) != {r["province_code"] for r in summary}:
        raise SourceError(path, "the two 2005 sheets list different provinces")
    return ranking + [r for r in summary if r["indicator"] != "overall"]


def _read_rows(path: Path, year: int, layout: Layout, book: CalamineWorkbook) -> list[dict]:
    """One row per province."""
    return _read_row_table(path, year, layout, book, layout.sheets[0])


def _read_row_table(path: Path, year: int, layout: Layout, book: CalamineWorkbook,
                    sheet_name: str) -> list[dict]:
    sheet, rows, merged = _load_sheet(path, book, sheet_name)
    start, roles = _header_roles(path, year, sheet, rows, layout)
    prov_cols = [c for c, role in roles.items() if role == "province"]
    if len(prov_cols) != 1:
        raise SourceError(path, f"expected one province column, found {len(prov_cols)}",
                          sheet=sheet, row=start)
    pcol = prov_cols[0]
    if "overall" not in roles.values():
        raise SourceError(path, "no weighted PCI column (header such as 'PCI có trọng số')",
                          sheet=sheet, row=start)
    rank_col = _single(path, sheet, start, roles, "rank")
    tier_col = _single(path, sheet, start, roles, "tier")
    end, block = _province_block(path, sheet, rows, start, [pcol])
    _check_footer(path, sheet, rows, end, block)
    out = []
    for r, code in block[pcol].items():
        for c, role in roles.items():
            if role not in VALUE_ROLES:
                continue
            rank = tier = None
            if role == "overall":
                rank = _rank(path, sheet, rows, r, rank_col) if rank_col is not None else None
                tier = _tier(rows, merged, r, tier_col) if tier_col is not None else None
            out.append(_record(path, sheet, rows, r, c, code, role, rank, tier))
    return out


def _read_pairs(path: Path, year: int, layout: Layout, book: CalamineWorkbook) -> list[dict]:
    """(province, score) column pairs, each sorted by its own score."""
    sheet, rows, merged = _load_sheet(path, book, layout.sheets[0])
    start, roles = _header_roles(path, year, sheet, rows, layout)
    position_col = _single(path, sheet, start, roles, "position")
    if position_col is None:
        raise SourceError(path, "no position column ('Thứ tự' / 'No')", sheet=sheet, row=start)
    # Each value/rank/tier column reads its provinces from the column on its left, or, when that
    # is itself a value column (e.g. 2013 "PCI 2013 ranking" beside "PCI 2013"), from that one's.
    prov_of: dict[int, int] = {}
    for c in sorted(roles):
        if roles[c] not in VALUE_ROLES | {"rank", "tier"}:
            continue
        left = roles.get(c - 1, "blank")
        if left in ("province", "blank"):
            prov_of[c] = c - 1
        elif c - 1 in prov_of:
            prov_of[c] = prov_of[c - 1]
        else:
            raise SourceError(path, "expected a province column on the left of this column",
                              sheet=sheet, row=start, column=_letter(c))
    if "overall" not in roles.values():
        raise SourceError(path, "no weighted PCI column", sheet=sheet, row=start)
    end, block = _province_block(path, sheet, rows, start, sorted(set(prov_of.values())))
    _check_footer(path, sheet, rows, end, block)
    row_of = {c: {code: r for r, code in block[p].items()} for c, p in prov_of.items()}
    rank_col = _single(path, sheet, start, roles, "rank")
    tier_col = _single(path, sheet, start, roles, "tier")
    out = []
    for c in sorted(prov_of):
        role = roles[c]
        if role not in VALUE_ROLES:
            continue
        for code, r in sorted(row_of[c].items()):
            if role == "overall" and rank_col is not None:
                rank = _rank(path, sheet, rows, row_of[rank_col][code], rank_col)
            else:
                rank = _rank(path, sheet, rows, r, position_col)
            tier = None
            if role == "overall" and tier_col is not None:
                tier = _tier(rows, merged, row_of[tier_col][code], tier_col)
            out.append(_record(path, sheet, rows, r, c, code, role, rank, tier))
    return out


_READERS = {"ranking_2005": _read_ranking_2005, "rows": _read_rows, "pairs": _read_pairs}


# ---------------------------------------------------------------- headers and blocks

def _header_roles(path: Path, year: int, sheet: str, rows: Rows,
                  layout: Layout) -> tuple[int, dict[int, str]]:
    """Find the header block (rows above the first data row) and give each used column a role.

    Returns the 0-based index of the first data row and {column index: role}; columns with no
    header are left out (they are province columns in the pairs layout) unless ``layout.unlabeled``
    names them.
    """
    header_rows = [i for i, row in enumerate(rows[:12])
                   if any(_classify(v) == "province" for v in row if isinstance(v, str))]
    if not header_rows:
        raise SourceError(path, "no header row with a province column ('Tỉnh, thành phố', "
                                "'Tỉnh', 'Province') in the first 12 rows", sheet=sheet)
    start = header_rows[-1] + 1
    width = max(len(r) for r in rows[:start])
    roles: dict[int, str] = {}
    for c in range(width):
        text = _header_text(rows, start, c)
        letter = _letter(c)
        if letter in layout.unlabeled:
            if layout.unlabeled[letter] != "ignore" and text:
                raise SourceError(path, f"expected no header over the unlabeled "
                                        f"{layout.unlabeled[letter]} column, found {text!r}",
                                  sheet=sheet, row=start, column=letter)
            roles[c] = layout.unlabeled[letter]
            continue
        if not text:
            continue
        role = _classify(text)
        if role is None:
            raise SourceError(path, f"unknown column header {text!r}: expected a province, rank, "
                                    "tier, PCI or sub-index header", sheet=sheet, row=start,
                              column=letter)
        years = re.findall(r"\b(20\d\d)\b", text) if role in HEADLINE_ROLES else []
        for y in years:                # a headline naming another year: a stale sheet
            if int(y) != year:
                raise SourceError(path, f"header {text!r} is for PCI {y}, expected {year}",
                                  sheet=sheet, row=start, column=letter)
        roles[c] = role
    used = [r for r in roles.values() if r in VALUE_ROLES]
    dupes = sorted({r for r in used if used.count(r) > 1})
    if dupes:
        raise SourceError(path, f"more than one column for {dupes}", sheet=sheet, row=start)
    return start, {c: r for c, r in roles.items() if r != "ignore"}


def _header_text(rows: Rows, start: int, c: int) -> str:
    """The column's header cells (all rows above the data), joined, repeats dropped."""
    parts: list[str] = []
    for row in rows[:start]:
        v = row[c] if c < len(row) else None
        if isinstance(v, str) and v.strip():
            t = " ".join(v.split())
            if t not in parts:
                parts.append(t)
    return " ".join(parts)


def _classify(text: str) -> str | None:
    key = _norm(text)
    for pattern, role in HEADER_RULES:
        if re.search(pattern, key):
            return role
    return None


def _province_block(path: Path, sheet: str, rows: Rows, start: int,
                    prov_cols: list[int]) -> tuple[int, dict[int, dict[int, str]]]:
    """Rows from `start` to the first row with every province column blank.

    Returns (end row index, {province column: {row index: province code}}). Summary labels
    (Min, Max, ...) in a province column are skipped; each province may appear once per column.
    """
    block: dict[int, dict[int, str]] = {c: {} for c in prov_cols}
    r = start
    while r < len(rows):
        cells = [_cell(rows, r, c) for c in prov_cols]
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in cells):
            break
        if any(isinstance(v, str) and _norm(v) in SUMMARY_LABELS for v in cells):
            if not all(isinstance(v, str) and _norm(v) in SUMMARY_LABELS for v in cells):
                raise SourceError(path, "a summary label (Min/Max/...) shares its row with provinces",
                                  sheet=sheet, row=r + 1)
            r += 1
            continue
        for c, v in zip(prov_cols, cells):
            if not isinstance(v, str) or not v.strip():
                raise SourceError(path, f"expected a province name, found {v!r}",
                                  sheet=sheet, row=r + 1, column=_letter(c))
            code = _province(path, sheet, r, c, v)
            if code in block[c].values():
                raise SourceError(path, f"province {v!r} ({code}) appears twice in this column",
                                  sheet=sheet, row=r + 1, column=_letter(c))
            block[c][r] = code
        r += 1
    if not block[prov_cols[0]]:
        raise SourceError(path, "no province rows under the header", sheet=sheet, row=start + 1)
    codes = {c: set(b.values()) for c, b in block.items()}
    first = codes[prov_cols[0]]
    for c, s in codes.items():
        if s != first:
            raise SourceError(path, f"column lists other provinces than column "
                                    f"{_letter(prov_cols[0])}: {sorted(s ^ first)}",
                              sheet=sheet, column=_letter(c))
    return r, block


def _check_footer(path: Path, sheet: str, rows: Rows, end: int,
                  block: dict[int, dict[int, str]]) -> None:
    """Rows below the block may only be summaries, a repeated header, a highlighted province
    already in the block, or that province's rank row; anything else raises."""
    known = set().union(*(b.values() for b in block.values()))
    for r in range(end, len(rows)):
        texts = [v for v in rows[r] if isinstance(v, str) and v.strip()]
        if not texts:
            continue
        label = _norm(texts[0])
        if label in SUMMARY_LABELS or label in RANK_LABELS or _classify(texts[0]) == "position":
            continue
        if any(_classify(t) == "province" for t in texts):
            continue                                     # the header repeated
        try:
            code = to_code(texts[0])
        except CchcError:
            code = None
        if code in known:
            continue                                     # highlighted province (a copy)
        raise SourceError(path, f"unexpected row under the province table, starting {texts[0]!r}",
                          sheet=sheet, row=r + 1)


# ---------------------------------------------------------------- cells

def _record(path: Path, sheet: str, rows: Rows, r: int, c: int, code: str, indicator: str,
            rank: int | None, tier: str | None) -> dict:
    return {"province_code": code, "indicator": indicator,
            "value": _number(path, sheet, rows, r, c),
            "published_rank": rank, "published_tier": tier,
            "source_locator": f"{sheet}!{_letter(c)}{r + 1}"}


def _number(path: Path, sheet: str, rows: Rows, r: int, c: int) -> float:
    v = _cell(rows, r, c)
    if v is None or (isinstance(v, str) and not v.strip()):
        return float("nan")
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise SourceError(path, f"expected a number, found {v!r}", sheet=sheet, row=r + 1,
                          column=_letter(c))
    return float(v)


def _rank(path: Path, sheet: str, rows: Rows, r: int, c: int) -> int | None:
    v = _number(path, sheet, rows, r, c)
    if v != v:
        return None
    if v != int(v) or v < 1:
        raise SourceError(path, f"expected a rank (whole number >= 1), found {v!r}",
                          sheet=sheet, row=r + 1, column=_letter(c))
    return int(v)


def _tier(rows: Rows, merged: list, r: int, c: int) -> str | None:
    """The tier printed for row r: the cell itself, or the top-left cell of its merged range."""
    for (r0, c0), (r1, c1) in merged:
        if r0 <= r <= r1 and c0 <= c <= c1:
            r, c = r0, c0
            break
    v = _cell(rows, r, c)
    return " ".join(v.split()) if isinstance(v, str) and v.strip() else None


def _single(path: Path, sheet: str, start: int, roles: dict[int, str], role: str) -> int | None:
    cols = [c for c, x in roles.items() if x == role]
    if len(cols) > 1:
        raise SourceError(path, f"more than one {role} column: {[_letter(c) for c in cols]}",
                          sheet=sheet, row=start)
    return cols[0] if cols else None


def _province(path: Path, sheet: str, r: int, c: int, name: str) -> str:
    m = re.search(r"PCI_(\d{4})\.xlsx?$", Path(path).name, re.IGNORECASE)
    resolve = to_unit_code if m and int(m.group(1)) >= FIRST_34_EDITION else to_code
    try:
        return resolve(name)
    except CchcError as err:
        raise SourceError(path, str(err), sheet=sheet, row=r + 1, column=_letter(c)) from err


def _cell(rows: Rows, r: int, c: int) -> Cell:
    row = rows[r]
    return row[c] if c < len(row) else None


_norm = plain_key       # lower case, no diacritics (đ -> d), single spaces
_letter = column_letter


# ---------------------------------------------------------------- workbook access

def _open_workbook(path: Path) -> CalamineWorkbook:
    """Open with calamine. Some .xlsx (PCI 2014, written by LibreOffice) declare row-only sheet
    dimensions ("1:69") that calamine rejects; those declarations are dropped in memory only."""
    if not path.exists():
        raise SourceError(path, "file not found")
    if path.stat().st_size == 0:
        raise SourceError(path, "the file is empty: expected an Excel workbook")
    try:
        if path.suffix.lower() != ".xlsx":
            return CalamineWorkbook.from_path(str(path))
        buf = io.BytesIO()
        with open_zip(path) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                data = zin.read(info.filename)
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                    data = re.sub(rb'<dimension ref="\d+:\d+"\s*/>', b"", data, count=1)
                zout.writestr(info, data)
        buf.seek(0)
        return CalamineWorkbook.from_filelike(buf)
    except (CalamineError, zipfile.BadZipFile, EOFError, OSError, ValueError) as err:
        raise SourceError(path, f"not a readable workbook (truncated or damaged?): {err}") from err


def _load_sheet(path: Path, book: CalamineWorkbook, wanted: str) -> tuple[str, Rows, list]:
    """(sheet name as written, cells from A1, merged ranges) of the sheet named `wanted`."""
    matches = [n for n in book.sheet_names if _norm(n) == _norm(wanted)]
    if not matches:
        raise SourceError(path, f"sheet {wanted!r} not found; the workbook has {book.sheet_names}",
                          sheet=wanted)
    name = matches[0]
    try:
        sheet = book.get_sheet_by_name(name)
    except CalamineError as err:
        raise SourceError(path, f"cannot read the sheet: {err}", sheet=name) from err
    rows = sheet.to_python(skip_empty_area=False)
    merged = list(sheet.merged_cell_ranges or [])
    # calamine reads an Excel error, a formula without a result and a cell hidden under a
    # merged range as blank: put markers there, so that reading a value from them raises.
    marks = unreadable_cells(path, name)
    for (r0, c0), (r1, c1) in merged:
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                if (r, c) != (r0, c0):
                    marks.setdefault((r, c), Unreadable(f"a cell merged into {_letter(c0)}{r0 + 1} "
                                                        f"(range {_letter(c0)}{r0 + 1}:{_letter(c1)}{r1 + 1})"))
    for (r, c), mark in marks.items():
        if r < len(rows):
            rows[r].extend([None] * (c + 1 - len(rows[r])))
            rows[r][c] = mark
    return name, rows, merged


def read(raw_dir: Path) -> Candidates:
    """The build's reader: candidate score rows of the VCCI workbooks under raw_dir."""
    return Candidates(scores=read_all(raw_dir))
