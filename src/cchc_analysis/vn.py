"""Numbers as Vietnamese (and English) sources write them, and back.

Number styles (the caller states the source's style; nothing is guessed):

* ``"vi"`` – "." groups thousands, "," marks decimals: "26.131" → 26131, "97,4" → 97.4.
* ``"en"`` – "," groups thousands, "." marks decimals: "138,313" → 138313, "84.66" → 84.66.
* ``"mixed"`` – for sources that use both (Vietnamese news often prints "84.66"): a value is
  read only when its form is unambiguous ("97,4", "84.66", "1.234,5", "26.131.000"); a single
  separator followed by exactly three digits ("26.131", "138,313") raises ParseError.

Missing markers ("", "N/A", "NA", "-", "–", "—", "…", "x") give None. Text without digits
never gives a number.
"""
from __future__ import annotations

import math
import re
from typing import Literal

from .errors import ParseError
from .text import nfc_exact

Style = Literal["vi", "en", "mixed"]

MISSING = {"", "n/a", "na", "-", "–", "—", "…", "...", "x", "none", "nan", "không có", "kxđ"}

_NUM = re.compile(r"[+\-−]?\d[\d.,\s]*")
_SIGN = {"-": -1, "−": -1, "+": 1}


def _clean(text) -> str | None:
    if text is None:
        return None
    if isinstance(text, float) and math.isnan(text):
        return None
    s = nfc_exact(text).replace("\u00a0", " ").strip()
    if s.lower() in MISSING:
        return None
    return s


def is_missing(text) -> bool:
    """True for None/NaN and the missing markers ("N/A", "-", "" ...)."""
    return _clean(text) is None


def _to_float(token: str, style: Style, original: str) -> float:
    token = token.replace(" ", "")
    sign = 1
    if token[0] in _SIGN:
        sign, token = _SIGN[token[0]], token[1:]
    token = token.rstrip(".,")
    dots, commas = token.count("."), token.count(",")
    if style == "vi":
        thousands, decimal = ".", ","
    elif style == "en":
        thousands, decimal = ",", "."
    elif style == "mixed":
        if dots and commas:
            thousands, decimal = (".", ",") if token.rfind(",") > token.rfind(".") else (",", ".")
        elif dots > 1:
            thousands, decimal = ".", ","
        elif commas > 1:
            thousands, decimal = ",", "."
        elif dots == 1 or commas == 1:
            sep = "." if dots else ","
            tail = token.split(sep)[1]
            if len(tail) == 3:
                raise ParseError(f"{original!r} is ambiguous: {sep!r} may group thousands or mark decimals; "
                                 "state the source's number style ('vi' or 'en')")
            thousands, decimal = ("," , ".") if sep == "." else (".", ",")
        else:
            thousands, decimal = ",", "."
    else:
        raise ValueError(f"unknown number style {style!r}")
    parts = token.split(decimal)
    if len(parts) > 2:
        raise ParseError(f"{original!r}: more than one decimal mark {decimal!r} for style {style!r}")
    integer = parts[0]
    if thousands in integer:
        groups = integer.split(thousands)
        if not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])):
            raise ParseError(f"{original!r}: {thousands!r} does not group thousands here, "
                             f"so it is not a {style!r}-style number")
        integer = "".join(groups)
    if len(parts) == 2:
        if thousands in parts[1] or not parts[1].isdigit():
            raise ParseError(f"{original!r}: malformed decimals for style {style!r}")
        return sign * float(f"{integer}.{parts[1]}")
    if not integer.isdigit():
        raise ParseError(f"{original!r} is not a number in style {style!r}")
    return sign * float(integer)


def parse_number(text, style: Style = "vi") -> float | None:
    """One number written in `style`; None for a missing marker.

    Surrounding units are allowed ("97,4%", "84,66 điểm", "26.131 hồ sơ"), but exactly one
    number must be present. Raises ParseError for text without digits, for several numbers,
    and for forms that the style does not allow or cannot tell apart.
    """
    s = _clean(text)
    if s is None:
        return None
    tokens = [t.strip() for t in _NUM.findall(s)]
    tokens = [t for t in tokens if any(c.isdigit() for c in t)]
    if not tokens:
        raise ParseError(f"{s!r} has no digits: not a number")
    if len(tokens) > 1:
        raise ParseError(f"{s!r} holds several numbers ({', '.join(tokens)}); pick one explicitly")
    return _to_float(tokens[0], style, s)


def parse_percent(text, style: Style = "vi") -> float | None:
    """'97,4%' → 97.4 (percent points, 0–100 scale as written)."""
    return parse_number(text, style)


def parse_int(text, style: Style = "vi") -> int | None:
    """'01' → 1, '26.131' → 26131; raises ParseError when the value has decimals."""
    v = parse_number(text, style)
    if v is None:
        return None
    if v != int(v):
        raise ParseError(f"{text!r} is not a whole number")
    return int(v)


_RANK = re.compile(r"(?:thứ|hạng|vị trí|xếp|no\.?|#)?\s*(\d{1,3})\s*(?:/\s*(\d{1,3}))?", re.I)


def parse_rank(text) -> tuple[int, int | None] | None:
    """'12/63' → (12, 63); '01' → (1, None); 'thứ 12/63' → (12, 63); 'No. 52' → (52, None).

    English ordinals ("29th") are read too. None for a missing marker; ParseError otherwise.
    """
    s = _clean(text)
    if s is None:
        return None
    s2 = re.sub(r"(\d+)(st|nd|rd|th)\b", r"\1", s, flags=re.I)
    m = re.fullmatch(r"\s*(?:(?:xếp\s+)?(?:thứ|hạng|vị trí|no\.?|#)\s*)?(\d{1,3})\s*(?:/\s*(\d{1,3}))?\s*", s2, re.I)
    if not m:
        raise ParseError(f"{s!r} is not a rank like '12/63'")
    rank = int(m.group(1))
    of = int(m.group(2)) if m.group(2) else None
    if rank < 1 or (of is not None and rank > of):
        raise ParseError(f"{s!r}: rank {rank} outside 1..{of}")
    return rank, of


_UP = r"tăng|lên|up|rose|rise|rises|climbed|climb|gained|gain|\+"
_DOWN = r"giảm|xuống|tụt|down|fell|fall|falls|dropped|drop|lost|-|−"
_SAME = r"không đổi|giữ nguyên|unchanged|no change"


def parse_rank_change(text) -> int | None:
    """'tăng 18 bậc' → +18, 'giảm 3 bậc' → −3, 'up 5 places' → 5, '+2' → 2, 'giữ nguyên' → 0."""
    s = _clean(text)
    if s is None:
        return None
    low = s.lower()
    if re.search(_SAME, low):
        return 0
    m = re.search(rf"({_UP}|{_DOWN})\s*(\d{{1,2}})\b", low)
    if not m:
        raise ParseError(f"{s!r} is not a rank change like 'tăng 18 bậc'")
    n = int(m.group(2))
    return n if re.fullmatch(_UP, m.group(1)) else -n


def format_number(value: float, decimals: int = 0, style: Literal["vi", "en"] = "vi") -> str:
    """26131 → '26.131'; 95.6 (decimals=1) → '95,6' (Vietnamese labels); 'en' → '26,131'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    s = f"{value:,.{decimals}f}"  # en style
    if style == "vi":
        s = s.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return s


def format_percent(value: float, decimals: int = 1, style: Literal["vi", "en"] = "vi") -> str:
    """95.6 → '95,6%'."""
    return format_number(value, decimals, style) + ("%" if value is not None and value == value else "")
