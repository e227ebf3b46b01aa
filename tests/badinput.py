"""Helpers for the bad-input tests: mutated copies of REAL raw files in a temporary raw dir.

Nothing here writes under data/raw. A case copies the files it needs (plus admin_units/)
into ``tmp/raw``, changes them, and regenerates the manifest there, so that
``data.build_data(tmp/raw, ...)`` accepts the copy and reaches the reader.

Workbooks are changed by copying the cells of the sheet the reader uses (as calamine reads
them, i.e. as the reader sees them) into a new .xlsx written with openpyxl; merged ranges,
Excel error values and formulas are written as real Excel cells. openpyxl writes floats with
their shortest repr, which calamine may read back one unit in the last place away from the
17-digit text VCCI stored: handled cases therefore compare with an unmutated copy made the
same way (``xlsx_copy(..., mutate=None)``), and with published values to 1e-9.
"""
from __future__ import annotations

import shutil
import unicodedata
from collections.abc import Callable
from pathlib import Path

from python_calamine import CalamineWorkbook

from cchc_analysis import manifest, paths

REAL = paths.RAW
Rows = list[list]

# Files each reader needs so that a full build reaches it (readers run in this order in
# data.read_sources: pci_excel, pci_web, papi, facts; an absent vcci_excel folder reads as empty).
PCI_WEB_FILES = ["pci/pci_2020_scores.csv", "pci/pci_2021_subindices.csv", "pci/pci_2021_scores.csv",
                 "pci/pci_2022_scores.csv", "pci/pci_province_profiles_2020_2024.csv",
                 "pci/pci_news_mentions_2020_2024.csv"]
READER_ORDER = ["pci_excel", "pci_web", "papi", "facts"]


def new_raw(tmp_path: Path, *files: str) -> Path:
    """tmp_path/raw holding admin_units/ and `files` (paths relative to data/raw), copied."""
    raw = tmp_path / "raw"
    shutil.copytree(REAL / "admin_units", raw / "admin_units")
    for rel in files:
        add(raw, rel)
    return raw


def add(raw: Path, rel: str) -> Path:
    """Copy a real file, or the files of a real folder, into the raw copy; files already
    there (the changed ones) are kept."""
    src = REAL / rel
    for f in ([src] if src.is_file() else sorted(p for p in src.rglob("*") if p.is_file())):
        dst = raw / f.relative_to(REAL)
        if not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, dst)
    return raw / rel


def prerequisites(raw: Path, reader: str) -> Path:
    """Add the real files a full build needs to reach `reader`: those of the readers that run
    before it and its own (for "all": every reader's but the PCI workbooks)."""
    order = READER_ORDER if reader == "all" else READER_ORDER[:READER_ORDER.index(reader) + 1]
    for r in order:
        if r == "pci_web":
            for rel in PCI_WEB_FILES:
                add(raw, rel)
        elif r == "papi":
            add(raw, "papi")
        elif r == "facts":
            for rel in ("par_sipas", "procedures", "reports"):
                add(raw, rel)
    return raw


def seal(raw: Path) -> Path:
    """Write the manifest of the raw copy (so the build's checksum check passes)."""
    manifest.write_manifest(raw)
    return raw


# ------------------------------------------------------------------------------- text files

def text(rel: str) -> str:
    return (REAL / rel).read_text(encoding="utf-8")


def write(raw: Path, rel: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    p = raw / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return p


def sub(content: str, old: str, new: str, count: int = 1) -> str:
    """Replace `old` (which must be present) `count` times."""
    assert old in content, f"{old!r} not in the file"
    return content.replace(old, new, count)


def lines(content: str) -> list[str]:
    return content.split("\n")


def nfd(content: str) -> str:
    return unicodedata.normalize("NFD", content)


def mojibake(content: str, codec: str) -> str:
    """UTF-8 bytes wrongly decoded as `codec` (cp1258, latin-1): 'Quảng' -> 'Quáº£ng'."""
    return content.encode("utf-8").decode(codec, errors="replace")


_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def cp1258_bytes(content: str) -> bytes:
    """The text as Windows-1258 stores Vietnamese: precomposed vowel + separate tone mark."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", content):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
        out += (base + "".join(c for c in parts if c in _TONES)).encode("cp1258")
    return bytes(out)


# ------------------------------------------------------------------------------- workbooks

def sheet_rows(rel: str, sheet: str) -> Rows:
    """Cells of a real sheet from A1 as the readers see them ('' for blank)."""
    return CalamineWorkbook.from_path(str(REAL / rel)).get_sheet_by_name(sheet).to_python(skip_empty_area=False)


def sheet_names(rel: str) -> list[str]:
    return CalamineWorkbook.from_path(str(REAL / rel)).sheet_names


def write_xlsx(path: Path, sheets: dict[str, Rows], merged: dict[str, list[str]] | None = None) -> Path:
    """A new workbook with `sheets` (name -> rows from A1). A string starting with '#' that is an
    Excel error code, or with '=', is written as an error value / formula (no stored result)."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append([None if v == "" else v for v in r])
        for rng in (merged or {}).get(name, []):
            ws.merge_cells(rng)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def xlsx_copy(raw: Path, rel: str, sheets: list[str], mutate: Callable[[dict[str, Rows]], None] | None = None,
              merged: dict[str, list[str]] | None = None, rename: dict[str, str] | None = None) -> Path:
    """Copy the named sheets of a real workbook into raw/rel (same name), after `mutate(sheets)`
    edits the rows in place, sheets are renamed by `rename`, and `merged` ranges are merged."""
    data = {s: [list(r) for r in sheet_rows(rel, s)] for s in sheets}
    if mutate:
        mutate(data)
    data = {(rename or {}).get(s, s): rows for s, rows in data.items()}
    return write_xlsx(raw / rel, data, merged)


def set_cell(rows: Rows, ref: str, value) -> None:
    """rows[...] at an A1 reference ('C5')."""
    col = "".join(ch for ch in ref if ch.isalpha())
    r = int(ref[len(col):]) - 1
    c = 0
    for ch in col:
        c = c * 26 + ord(ch) - 64
    c -= 1
    while len(rows) <= r:
        rows.append([])
    rows[r].extend([""] * (c + 1 - len(rows[r])))
    rows[r][c] = value


def find_row(rows: Rows, col: int, value) -> int:
    """1-based spreadsheet row of the first cell in column `col` (0-based) equal to `value`."""
    for i, r in enumerate(rows):
        if len(r) > col and r[col] == value:
            return i + 1
    raise AssertionError(f"{value!r} not found")


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (hidden ones too) -> its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
