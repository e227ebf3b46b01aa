"""Text keys, defined once: NFC forms, case- and spacing-insensitive keys, diacritics-insensitive keys,
spreadsheet column letters and the tolerances printed numbers are compared with.

* ``nfc_exact``  – NFC only (line breaks and spaces kept: figure titles, raw cells);
* ``nfc``        – NFC, runs of white space folded to one space, trimmed (names, labels);
* ``fold_key``   – ``nfc`` + casefold: labels matched whatever their case ('Chỉ số' = 'CHỈ SỐ');
* ``strip_diacritics`` – 'Đắk Nông' → 'Dak Nong' (đ → d, every combining mark removed);
* ``plain_key``  – no diacritics (đ → d), lower case, single spaces: headers and sheet names;
* ``accent_key`` – lower case, marks removed (đ kept, as DuckDB's ``strip_accents``), ASCII white
  space folded: equal to the SQL expression ``SQL_ACCENT_KEY``, for keys computed in both.
"""
from __future__ import annotations

import re
import unicodedata

# Values printed to d decimals agree when within half a unit of the last digit (plus float slack).
TOL_2DP = 0.005 + 1e-9
TOL_4DP = 0.00005 + 1e-12
TOL_EXACT = 1e-9  # the same number stored twice (cross-checks of one publisher's files)


def printed_tolerance(decimals: int | None) -> float:
    """Tolerance of a value printed to `decimals` decimals (None = full precision)."""
    known = {None: TOL_EXACT, 2: TOL_2DP, 4: TOL_4DP}
    if decimals not in known:
        raise ValueError(f"no tolerance for values printed to {decimals!r} decimals; known: {list(known)}")
    return known[decimals]


def nfc_exact(text) -> str:
    """Unicode NFC form of str(text), nothing else changed."""
    return unicodedata.normalize("NFC", str(text))


def nfc(text) -> str:
    """Unicode NFC form with runs of white space folded to one space and trimmed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", str(text))).strip()


def fold_key(text) -> str:
    """Case- and spacing-insensitive key: ``nfc`` then casefold."""
    return nfc(text).casefold()


def strip_diacritics(text) -> str:
    """'Đắk Nông' -> 'Dak Nong' (đ/Đ → d/D; every combining mark removed)."""
    t = unicodedata.normalize("NFD", str(text)).replace("đ", "d").replace("Đ", "D")
    return unicodedata.normalize("NFC", "".join(c for c in t if not unicodedata.combining(c)))


def plain_key(text) -> str:
    """Diacritics-insensitive key: no marks (đ → d), lower case, single spaces."""
    return " ".join(strip_diacritics(text).lower().split())


def accent_key(value: str) -> str:
    """Lower-case, accent-free, single-spaced form of a label; the same as ``SQL_ACCENT_KEY`` in DuckDB
    (marks of categories Mn/Mc/Me stripped, đ kept, ASCII white-space runs made one space)."""
    decomposed = unicodedata.normalize("NFD", value)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) not in ("Mn", "Mc", "Me"))
    return re.sub(r"[\t\n\f\r ]+", " ", stripped.lower()).strip(" ")


SQL_ACCENT_KEY = "trim(regexp_replace(lower(strip_accents({})), '[\\t\\n\\f\\r ]+', ' ', 'g'))"


def column_letter(i: int) -> str:
    """0-based column index -> spreadsheet letters (0 -> A, 25 -> Z, 26 -> AA)."""
    s, n = "", int(i) + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s
