"""Opening raw files strictly: CSV text and Excel cells that cannot be read become SourceErrors.

* :func:`read_csv_text` – a raw CSV as text cells. It must be UTF-8 (a BOM is allowed),
  comma-separated, with a header and the header's number of fields on every row, each row
  ending with a line break; an empty file, another encoding, another delimiter, a short
  (truncated) or long row, a missing final line break (truncation), a blank row inside the
  table and a repeated header name are rejected with the row that shows it.
  Names and cells come in Unicode NFC. Row ``i`` of the frame is spreadsheet row ``i + 2``.
* :func:`unreadable_cells` – cells of an .xlsx sheet that hold an Excel error (``#N/A``,
  ``#DIV/0!`` …) or a formula without a stored result. calamine returns both as blank
  cells, which would silently read as "missing"; readers put these markers in their place
  so that they are rejected where a value is read. (.xls files are not scanned.)
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path, PurePosixPath

import pandas as pd

from ..errors import SourceError
from ..paths import raw_relpath
from ..text import nfc_exact

_BOM = b"\xef\xbb\xbf"


def read_csv_text(path: Path | str) -> pd.DataFrame:
    """A raw CSV as a frame of str cells ("" for empty cells), nothing converted."""
    path = Path(path)
    file = raw_relpath(path)
    if not path.exists():
        raise SourceError(file, "file not found")
    data = path.read_bytes()
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        row = data[:e.start].count(b"\n") + 1
        raise SourceError(file, f"byte 0x{data[e.start]:02x} is not UTF-8: expected UTF-8 text "
                                "(the file may be saved as cp1258 or latin-1)", row=row) from e
    if not text.strip():
        raise SourceError(file, "the file is empty: expected a header row and data rows", row=1)
    if not text.endswith(("\n", "\r")):
        raise SourceError(file, "the last row does not end with a line break: the file looks truncated "
                                "(expected every row, the last included, to end with one)",
                          row=text.count("\n") + 1)
    records = list(csv.reader(io.StringIO(text, newline="")))
    while records and not records[-1]:
        records.pop()                                   # trailing blank lines
    header = records[0]
    if len(header) == 1 and (sep := next((s for s in ";\t|" if s in header[0]), None)):
        raise SourceError(file, f"the header is one field holding {sep!r}: expected comma-separated values",
                          row=1)
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        if name in seen:
            raise SourceError(file, f"column name {name!r} is repeated (columns {seen[name] + 1} and {i + 1})",
                              row=1, column=name)
        seen[name] = i
    for n, rec in enumerate(records[1:], start=2):
        if not rec or (len(rec) == 1 and not rec[0].strip() and len(header) > 1):
            raise SourceError(file, "blank row inside the table: expected a data row", row=n)
        if len(rec) != len(header):
            raise SourceError(file, f"expected {len(header)} fields as in the header, found {len(rec)} "
                                    "(a truncated row, a note line, or an unquoted comma)", row=n,
                              column=header[min(len(rec), len(header) - 1)])
    return pd.DataFrame([[nfc_exact(v) for v in rec] for rec in records[1:]], columns=[nfc_exact(h) for h in header],
                        dtype=str)


def open_zip(path: Path | str) -> zipfile.ZipFile:
    """An .xlsx as a zip archive; an empty, truncated or non-zip file raises SourceError."""
    path = Path(path)
    if not path.exists():
        raise SourceError(raw_relpath(path), "file not found")
    if path.stat().st_size == 0:
        raise SourceError(raw_relpath(path), "the file is empty: expected an Excel workbook")
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        raise SourceError(raw_relpath(path), f"not a readable .xlsx workbook (truncated or damaged?): {e}") from e


class Unreadable:
    """Marker put in place of a cell whose value cannot be read; its repr describes the cell."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


_CELL = re.compile(rb"<c\b([^>]*?)(/>|>(.*?)</c>)", re.S)
_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_TYPE = re.compile(rb'\bt="([a-zA-Z]+)"')
_VALUE = re.compile(rb"<v>([^<]*)</v>")
_FORMULA = re.compile(rb"<f[^>]*>([^<]*)</f>|<f[^>]*/>")


def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its worksheet XML member."""
    book = z.read("xl/workbook.xml").decode("utf-8")
    rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    targets = {m.group(1): m.group(2)
               for m in re.finditer(r'<Relationship[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels)}
    targets.update({m.group(2): m.group(1)
                    for m in re.finditer(r'<Relationship[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)})
    out = {}
    for m in re.finditer(r"<sheet\b([^>]*)/?>", book):
        attrs = dict(re.findall(r'([\w:]+)="([^"]*)"', m.group(1)))
        rid = next((v for k, v in attrs.items() if k.endswith(":id")), None)
        if rid in targets:
            t = targets[rid].lstrip("/")
            member = t if t.startswith("xl/") else str(PurePosixPath("xl") / t)
            out[_unescape(attrs["name"])] = member
    return out


def _unescape(s: str) -> str:
    return (s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
            .replace("&amp;", "&"))


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters.decode():
        n = n * 26 + ord(ch) - 64
    return n - 1


def unreadable_cells(path: Path | str, sheet: str) -> dict[tuple[int, int], Unreadable]:
    """{(row0, col0): marker} of error cells and value-less formulas of an .xlsx sheet."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        return {}
    with open_zip(path) as z:
        member = _sheet_parts(z).get(sheet)
        if member is None or member not in z.namelist():
            return {}
        xml = z.read(member)
    out = {}
    for m in _CELL.finditer(xml):
        attrs, body = m.group(1), m.group(3) or b""
        ref = _REF.search(attrs)
        if ref is None:
            continue
        t = _TYPE.search(attrs)
        v = _VALUE.search(body)
        f = _FORMULA.search(body)
        key = (int(ref.group(2)) - 1, _col_index(ref.group(1)))
        if t and t.group(1) == b"e":
            out[key] = Unreadable((v.group(1).decode() if v else "#ERROR") + " (an Excel error value)")
        elif f and not v:
            out[key] = Unreadable(f"={_unescape((f.group(1) or b'').decode())} (a formula without a stored result)")
    return out


_NAME_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")


def year_in_name(path: Path | str, text: str, row: int, column: str = "year") -> int:
    """A row's year cell as an int: four digits, and within the years the file name covers
    ('..._2020_2024.csv' covers 2020–2024) when the name has any."""
    file = raw_relpath(path)
    if not re.fullmatch(r"\d{4}", str(text).strip()):
        raise SourceError(file, f"year {text!r} is not a year: expected four digits", row=row, column=column)
    year = int(text)
    years = [int(y) for y in _NAME_YEAR.findall(Path(path).stem)]
    if years and not min(years) <= year <= max(years):
        span = f"{min(years)}–{max(years)}" if min(years) != max(years) else str(years[0])
        raise SourceError(file, f"year {year} is outside the years {span} that the file name covers",
                          row=row, column=column)
    return year
