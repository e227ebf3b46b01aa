"""Facts readers: PAR Index / SIPAS facts, TTHC statistics and the Đắk Nông 2024 article.

Every stated value becomes one FACT row (value, rank or rank change, with the text as written, the
quote and the address). Text that cannot be read without guessing ("nearly 87 per cent", a group
range, a list position, a printed typo) stays a fact with value NaN and a note saying why.

Every province-level PAR/SIPAS fact of a value, a rank of 63 or a group (tier) is also one candidate
SCORE row (:func:`score_candidates`), with the fact's provenance. Which one wins where facts disagree
is decided by the build's one selection step, not here: `select` (tie rule ``majority`` of
``data/reference/source_priority.csv``: the value stated by the most sources, then by the province's
own press or portal, then by an official source, then the first address in text order).

Numbers: PAR/SIPAS scores are read in the "mixed" style of ``vn`` (scores never need thousands
separators, so "84.66" and "84,66" are both read; "9,428" is ambiguous and becomes NaN). TTHC
values use the number style of their source from ``source_domains.csv`` (English editions such as
news.laodong.vn and en.binhthuan.gov.vn are "en"); an unlisted source gets "mixed", where an
ambiguous form ("1.234") raises ParseError. Values flagged [sic] by the collector are not read.

Reference files (committed, curated):
``data/reference/par_components.csv`` (component text → id), ``source_domains.csv`` (number
style per host, read through `domains`), ``region_aliases.csv``,
``par_sipas_national_facts.csv`` (national/regional averages quoted in par_sipas/SOURCES.md),
``dak_nong_2024_article_facts.csv`` and ``targets.csv``.
"""
from __future__ import annotations

import functools
import math
import re
from pathlib import Path

import pandas as pd

from .. import paths, select, vn
from ..domains import number_style
from ..errors import ParseError, SourceError, UnknownProvinceError
from ..provinces import name_key, to_code, to_unit_code
from ..text import fold_key, nfc, nfc_exact
from .base import FACT_COLUMNS, SCORE_COLUMNS, Candidates, conform
from .rawfile import read_csv_text

PAR_SIPAS_FILE = "par_sipas/par_sipas_facts.csv"
TTHC_FILE = "procedures/tthc_facts.csv"
ARTICLE_FILE = "reports/dak_nong_cchc_2024_article.txt"
ARTICLE_CREDIT = ("Những chuyển biến tích cực trong cải cách hành chính ở Đắk Nông, section Chính sách, "
                  "by Hoàng Thanh, 09/12/2024 06:15 (outlet not named in the text)")
NATIONAL_FILE = "par_sipas_national_facts.csv"
CURATED_ARTICLE_FILE = "dak_nong_2024_article_facts.csv"

NUMBER = r"\d+(?:[.,]\d+)*"
TWO_YEAR = rf"{NUMBER}%\s*/\s*{NUMBER}%"  # Quảng Nam 2023 components: '9.44%/8.46%' (2023/2022 per SOURCES.md)
_BOUND = re.compile(r"^(nearly|almost|about|around|over|more than|less than|above|under|gần|khoảng|trên|"
                    r"hơn|dưới|tối thiểu|ít nhất|trung bình đạt)\b", re.I)


# --------------------------------------------------------------------------- shared helpers
def _read_csv(path: Path) -> pd.DataFrame:
    """A raw CSV as NFC strings ("" for empty cells)."""
    df = read_csv_text(path)  # strict: encoding, delimiter, truncation, field counts (rawfile)
    return df.map(lambda s: s.strip())


def _notes(*parts) -> str | None:
    out = [p for p in parts if isinstance(p, str) and p.strip()]
    return "; ".join(out) if out else None


def _num(text: str, style: vn.Style = "mixed") -> float:
    v = vn.parse_number(text, style)
    if v is None:
        raise ParseError(f"{text!r} is a missing marker, not a number")
    return v


@functools.cache
def _components() -> dict[str, dict]:
    """Casefolded component text → row of par_components.csv."""
    df = _read_csv(paths.REFERENCE / "par_components.csv")
    out: dict[str, dict] = {}
    for r in df.to_dict("records"):
        k = _component_key(r["component_as_written"])
        if k in out and out[k]["component_id"] != r["component_id"]:
            raise SourceError("data/reference/par_components.csv", f"{k!r} maps to two ids")
        out[k] = r
    return out


_component_key = fold_key


def component_id(text: str, *, file: str = "", row: int | None = None) -> dict:
    """The par_components.csv row of a component as written; SourceError when unknown."""
    hit = _components().get(_component_key(text))
    if hit is None:
        raise SourceError(file, f"unknown component {text!r}: add it to data/reference/par_components.csv",
                          row=row, column="component")
    return hit


@functools.cache
def _regions() -> dict[str, str]:
    regions = _read_csv(paths.REFERENCE / "regions_6.csv")
    out = {}
    for r in regions.to_dict("records"):
        out[name_key(r["region_6_socioeconomic"])] = r["region_6_socioeconomic"]
        out[name_key(r["region_6_en"])] = r["region_6_socioeconomic"]
    for r in _read_csv(paths.REFERENCE / "region_aliases.csv").to_dict("records"):
        out[name_key(r["alias"])] = r["region_6_socioeconomic"]
    return out


def region_name(text: str) -> str | None:
    """The canonical name of one of the 6 socio-economic regions, or None."""
    return _regions().get(name_key(re.sub(r"\(vùng\)", "", text)))


def _split_name(text: str) -> tuple[str, str | None]:
    """'tỉnh [Bà Rịa - Vũng Tàu] (cũ)' → ('Bà Rịa - Vũng Tàu', 'cũ').

    Text in [brackets] is the collector's; it is used as the name only when nothing but a
    generic word ("tỉnh", "thành phố") is left outside it. Parenthesised qualifiers are returned.
    """
    bracket = re.search(r"\[([^\]]*)\]", text)
    rest = re.sub(r"\[[^\]]*\]", "", text)
    quals = re.findall(r"\(([^)]*)\)", rest)
    rest = re.sub(r"\([^)]*\)", "", rest).strip()
    if bracket and rest.casefold() in ("", "tỉnh", "thành phố", "tp", "tp."):
        rest = bracket.group(1)
    return rest.strip(), "; ".join(q.strip() for q in quals) or None


# --------------------------------------------------------------------------- value parsers
_UNIT_PCT = r"%\s*điểm|%|percent|per cent"
_UNIT_PTS = r"điểm|points?|балла|点|ポイント"
_TOKEN = re.compile(rf"(?P<num>{NUMBER})\s*(?:(?:/|out of)\s*(?P<max>{NUMBER})\s*)?"
                    rf"(?P<unit>{_UNIT_PCT}|{_UNIT_PTS})?", re.I)
_FILLER = re.compile(r"chỉ số đạt|chiếm tỷ lệ|đạt|tối đa|score|out of|[;,()\s]", re.I)


def parse_score_text(text: str) -> list[tuple[float, str, str | None]]:
    """Score values in one cell: [(value, unit, note)]; value NaN when not readable without guessing.

    '84,66/100 điểm' → [(84.66, 'points', 'max 100 as written')];
    '9,1 điểm; chỉ số đạt 91%' → points and percent; 'nearly 87 per cent' → [(NaN, ...)].
    """
    s = nfc(text)
    if not s:
        return []
    if _BOUND.match(s):
        return [(math.nan, "percent" if "%" in s or "percent" in s or "per cent" in s else "points",
                 "approximate or bound, not an exact value")]
    if re.search(r"\bto\b|\bbetween\b|\bgroup\b", s, re.I):
        return [(math.nan, "percent", "group range, not a value")]
    if re.fullmatch(TWO_YEAR, s):
        return [(math.nan, "percent", "printed 'a%/b%' (SOURCES.md reads 2023/2022 values): not parsed")]
    lost = re.fullmatch(r"mất\s+(.*)", s)
    unit_override = "points_lost" if lost else None
    body = lost.group(1) if lost else s
    default_max = None
    m100 = re.search(r"trên thang điểm (\d+)", body)
    if m100:
        default_max, body = m100.group(1), body.replace(m100.group(0), " ")
    body = re.sub(r"\([^()\d]*\)", " ", body)  # parentheses without digits are wording, not values
    out = []
    for m in _TOKEN.finditer(body):
        unit_text = (m.group("unit") or "").lower()
        if re.fullmatch(_UNIT_PCT, unit_text, re.I):
            unit = "percent"
        else:
            unit = "points"
        mx = m.group("max") or default_max
        note = []
        if mx:
            note.append(f"max {mx} as written")
        if not unit_text and not mx:
            note.append("no unit written")
        try:
            value = _num(m.group("num"))
        except ParseError as e:
            value, note = math.nan, note + [f"not parsed: {e}"]
        out.append((value, unit_override or unit, _notes(*note)))
    leftover = _FILLER.sub("", _TOKEN.sub("", body))
    if not out or leftover:
        return [(math.nan, "points", f"not parsed: {s!r}")]
    return out


_LIST_NOTE = re.compile(r"order|listed|implied|followed|came after|tiếp đó|lần lượt|bottom|top\s*\d|top five|"
                        r"one of|among|group|truncated", re.I)
_CONTEXT = re.compile(r"\s+(?:cả nước|toàn quốc|nationwide|cấp tỉnh|in the country|bảng xếp hạng.*|sau\s+.*)$")
_RANK_WORDS = {
    1: {"first", "first place", "first position", "top position", "top place", "top spot", "topped", "top the list",
        "tops 63 provinces and cities", "lead", "led the ranking", "leads localities", "dẫn đầu", "đứng đầu",
        "quán quân", "thứ nhất", "xếp đầu tiên", "vị trí đầu tiên", "cao nhất", "最も高い",
        "首位", "トップ", "榜首"},
    2: {"second", "thứ hai", "xếp thứ hai", "vị trí thứ hai"},
    3: {"third", "thứ ba", "xếp thứ ba"},
    4: {"fourth", "fourth amongst the 63"},
    5: {"fifth"},
    6: {"sixth"},
    63: {"last", "last place", "came last", "last out of the 63", "cuối bảng", "đứng cuối", "lowest position",
         "the lowest satisfaction rating", "poorest", "thấp nhất", "最も低い", "đội sổ", "最下位", "最末席"},
}
_RANK_PATTERNS = [
    re.compile(r"(?:xếp\s+)?(?:hạng|thứ|vị trí thứ|vị trí|số)?\s*(\d{1,2})(?:st|nd|rd|th|e)?(?:\s+place)?"
               r"(?:\s*/\s*(\d{1,2})|\s+(?:out of(?: the)?|amongst the|parmi les|plaats van de|trên tổng số)"
               r"\s+(\d{1,2})\b.*)?"),
    re.compile(r"(\d{1,2})-е место(?:\s+из\s+(\d{1,2}))?"),
    re.compile(r"(?:全国)?(?:(\d{1,2})省市(?:中|の中で))?(\d{1,2})位"),
    re.compile(r"ອັນດັບທີ\s*(\d{1,2})(?:\s*ໃນຈໍານວນ\s*(\d{1,2}))?"),
]


def parse_rank_text(text: str) -> tuple[float, int | None, str | None, str | None]:
    """A rank as written → (rank or NaN, of, group text like 'Nhóm A' or None, note).

    Numbers stated as the rank ('12/63', '28th out of 63', '63省市中56位', '22-е место из 63') and
    first/last in words ('dẫn đầu' → 1, 'cuối bảng' → 63 of 63) are ranks. List positions and group
    membership marked by the collector ('5 (order in list)', 'top 5 (listed 4)', 'Nhóm A') are not.
    """
    s = nfc(text)
    tier_m = re.search(r"\b(?:nhóm|group)\s+[ABC]\b", s, re.I)
    tier = tier_m.group(0) if tier_m else None
    main = s.split("(")[0].strip()
    paren = s[len(main):]
    if paren and _LIST_NOTE.search(paren):
        return math.nan, None, tier, "position in a list or group (collector's annotation), not a published rank"
    low = _CONTEXT.sub("", main.lower()).strip()
    try:
        parsed = vn.parse_rank(low)
    except ParseError:
        parsed = None
    if parsed:
        return float(parsed[0]), parsed[1], tier, None
    for i, pat in enumerate(_RANK_PATTERNS):
        m = pat.fullmatch(low)
        if m:
            g = [int(x) if x else None for x in m.groups()]
            if i == 0:
                rank, of = g[0], g[1] or g[2]
            elif i == 2:
                of, rank = g[0], g[1]
            else:
                rank, of = g[0], g[1]
            if not 1 <= rank <= (of or 63):
                return math.nan, None, tier, f"rank {rank} outside 1..{of or 63}: not read"
            return float(rank), of, tier, None
    for rank, words in _RANK_WORDS.items():
        if low in words:
            return float(rank), (63 if rank == 63 else None), tier, f"rank read from the words {main!r}"
    return math.nan, None, tier, "no published numeric rank in the wording"


_UP = (r"\b(?:vươn lên|cải thiện|cao hơn|tăng|lên|up|increases?|increased|increasing|improved|improvement|"
       r"climbing|climbed|rose|growth|higher|выше|поднявшись)\b|上昇|増加|ເພີ່ມຂຶ້ນ")
_DOWN = r"\b(?:thấp hơn|giảm|tụt|xuống|down|dropped|decreased|declines?|fell|gedaald)\b|下落|落と"
_WORDNUM = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
            "ten": 10, "một": 1, "hai": 2, "ba": 3, "bốn": 4}
_CHANGE_TOKEN = re.compile(
    rf"(?P<sign>[+\-−])?(?P<num>\d+(?:[.,]\d+)?|\b(?:{'|'.join(_WORDNUM)})\b)\s*-?\s*(?:"
    r"(?P<pct>%|percentage points?|percent|per cent)|(?P<pts>điểm|points?)|"
    r"(?P<rank>bậc|hạng|places?|ranks?|spots?|notch(?:es)?|位|つ|позиций|ອັນດັບ))", re.I)
_APPROX_BEFORE = re.compile(r"(?:(?<!cao )(?<!thấp )hơn|gần|khoảng|more than|over|nearly|about|almost)\s*$", re.I)


def parse_change_text(text: str) -> list[tuple[float, str, str | None]]:
    """Changes as written → [(signed value, unit, note)], unit rank_change | points_change | percent_change.

    'tăng 18 bậc' → [(18, 'rank_change', None)]; 'tăng 1,59 điểm ... nhưng giảm 7 bậc' → +1.59 points, −7
    ranks. A number without a stated direction, or with 'hơn'/'nearly', gives NaN. Text without any
    number of places/points/percent gives [(NaN, 'rank_change', note)].
    """
    s = nfc(text)
    if not s:
        return []
    if re.search(r"higher than [^\d\s]", s):
        return [(math.nan, "percent_change", "comparison with another province, not a change over time")]
    body = re.sub(r"\((?![+\-−])[^)]*\)", " ", s)  # bracketed context ('(57/63)', '(up 1 place)') is not read
    out: list[tuple[float, str, str | None]] = []
    if re.search(r"giữ nguyên vị trí", body):
        out.append((0.0, "rank_change", "'giữ nguyên vị trí' (position unchanged)"))
    last_dir = None
    for clause in re.split(r";|,\s", body):
        for m in _CHANGE_TOKEN.finditer(clause):
            unit = "percent_change" if m.group("pct") else "points_change" if m.group("pts") else "rank_change"
            num = m.group("num")
            value = float(_WORDNUM[num.lower()]) if num.lower() in _WORDNUM else _num(num)
            before, after = clause[: m.start()], clause[m.end():]
            if m.group("sign"):
                direction = -1 if m.group("sign") in "-−" else 1
            else:
                ups = [x.end() for x in re.finditer(_UP, before, re.I)]
                downs = [x.end() for x in re.finditer(_DOWN, before, re.I)]
                if ups or downs:
                    direction = 1 if max(ups or [-1]) > max(downs or [-1]) else -1
                else:
                    a_up = re.search(_UP, after, re.I)
                    a_down = re.search(_DOWN, after, re.I)
                    if a_up or a_down:
                        direction = 1 if (a_up and (not a_down or a_up.start() < a_down.start())) else -1
                    else:
                        direction = last_dir
            if _APPROX_BEFORE.search(before):
                out.append((math.nan, unit, f"approximate ({m.group(0)!r} after 'hơn'/'over')"))
            elif direction is None:
                out.append((math.nan, unit, f"no direction word for {m.group(0)!r}"))
            else:
                out.append((direction * value, unit, None))
            last_dir = direction if direction is not None else last_dir
        if re.search(_UP, clause, re.I) or re.search(_DOWN, clause, re.I):
            ups = [x.end() for x in re.finditer(_UP, clause, re.I)]
            downs = [x.end() for x in re.finditer(_DOWN, clause, re.I)]
            last_dir = 1 if max(ups or [-1]) > max(downs or [-1]) else -1
    if not out:
        return [(math.nan, "rank_change", "no numeric change stated")]
    if len(out) > 1:
        out = [(v, u, _notes(n, f"one of {len(out)} changes in {s!r}")) for v, u, n in out]
    return out


# --------------------------------------------------------------------------- PAR / SIPAS
def _par_year(text: str, file: str, row: int) -> tuple[int | None, str | None, str | None]:
    """'2023' → (2023, '2023', None); '2011 (pilot)' → (2011, '2011 (pilot)', 'pilot …')."""
    if re.fullmatch(r"\d{4}", text):
        return int(text), text, None
    m = re.fullmatch(r"(\d{4}) \(pilot\)", text)
    if m:
        return int(m.group(1)), text, "2011 pilot (6 provinces), before the national PAR Index"
    if text.startswith("year not stated"):
        return None, None, f"year as written: {text!r}"
    raise SourceError(file, f"year {text!r} is not a year", row=row, column="year")


def _scope(name: str, file: str, row: int) -> tuple[str, str | None]:
    """Province code (or 'national' / region) of a name as written, and its qualifier."""
    base, qual = _split_name(name)
    if name_key(base) in ("canuoc", "national", "toanquoc"):
        return "national", qual
    region = region_name(base)
    if region:
        return region, qual
    try:
        return to_code(base), qual
    except UnknownProvinceError as e:
        raise SourceError(file, str(e), row=row, column="province_as_written") from e


def _par_metric(index: str, comp_text: str, file: str, row: int) -> tuple[str, str, str | None]:
    """(index_id, metric, component id) of a par_sipas_facts row."""
    if not comp_text:
        return ("par", "par_index", None) if index == "PAR" else ("sipas", "sipas", None)
    c = component_id(comp_text, file=file, row=row)
    if c["index_id"] == "sipas":
        return "sipas", f"sipas_component_{c['component_id']}", c["component_id"]
    return "par", f"par_component_{c['component_id']}", c["component_id"]


def read_par_sipas(path: Path | str | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(facts, scores, conflicts) of par_sipas_facts.csv: :func:`read_par_sipas_facts`, and the selection step's
    (`select.select`, as the build does) scores and conflicts over their :func:`score_candidates`."""
    facts = read_par_sipas_facts(path)
    return (facts, *select.select(score_candidates(facts)))


def read_par_sipas_facts(path: Path | str | None = None) -> pd.DataFrame:
    """FACT rows of par_sipas_facts.csv (+ the national/regional averages of par_sipas_national_facts.csv)."""
    path = Path(path) if path else paths.RAW / PAR_SIPAS_FILE
    rel = paths.raw_relpath(path)
    df = _read_csv(path)
    need = ["index", "year", "province_as_written", "component", "value_as_written", "rank_as_written",
            "rank_change_as_written", "source_url", "quote", "note"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise SourceError(rel, f"missing columns {missing}")
    facts = _par_sipas_rows(df, rel)
    facts = pd.concat([pd.DataFrame(facts), read_national_par_sipas(path.parent / "SOURCES.md")], ignore_index=True)
    return _finish_facts(facts)


def _par_sipas_rows(df: pd.DataFrame, rel: str, rows: list[int] | None = None) -> list[dict]:
    """FACT dicts of rows in the par_sipas_facts.csv layout (rows: their 1-based file rows)."""
    facts = []
    for i, r in enumerate(df.to_dict("records")):
        row = rows[i] if rows else i + 2
        if r["index"] not in ("PAR", "SIPAS", "PAR_component"):
            raise SourceError(rel, f"index {r['index']!r} is not PAR / SIPAS / PAR_component", row=row, column="index")
        year, period, year_note = _par_year(r["year"], rel, row)
        scope, qual = _scope(r["province_as_written"], rel, row)
        index_id, metric, comp = _par_metric("SIPAS" if r["index"] == "SIPAS" else "PAR", r["component"], rel, row)
        base = dict(scope=scope, scope_as_written=r.get("scope_as_written", r["province_as_written"]), year=year,
                    period=period, quote=r["quote"], rank_as_written=r["rank_as_written"] or None, source_file=rel,
                    source_locator=f"row {row}", source_url=r["source_url"])
        common_note = _notes(qual and f"qualifier as written: {qual}", year_note, r["note"])
        sic = bool(re.search(r"value_as_written: sic", r["note"]))
        if r["value_as_written"]:
            values = ([(math.nan, "points", "value flagged [sic] by the collector: not parsed")] if sic
                      else parse_score_text(r["value_as_written"]))
            sipas_in_par = "trong PAR" in r["value_as_written"]
            units = {u for _, u, _ in values}
            for v, unit, note in values:
                idx, met, cmp_ = index_id, metric, comp
                if index_id == "sipas" and comp is None and unit == "points" and (sipas_in_par or "percent" in units):
                    idx, met, cmp_ = "par", "par_component_diem_sipas", "diem_sipas"
                    note = _notes(note, "SIPAS points within the PAR Index")
                facts.append(dict(base, index_id=idx, metric=met, component=cmp_, value=v, unit=unit,
                                  value_as_written=r["value_as_written"], note=_notes(note, common_note)))
        if r["rank_as_written"]:
            rank, of, tier, note = parse_rank_text(r["rank_as_written"])
            if re.fullmatch(TWO_YEAR, r["value_as_written"]):
                rank, of, note = math.nan, None, "printed 'a/b' beside a two-year value pair: not parsed"
            facts.append(dict(base, index_id=index_id, metric=metric, component=comp, value=rank, unit="rank",
                              rank_of=of, value_as_written=r["rank_as_written"], note=_notes(note, common_note)))
            if tier:
                facts.append(dict(base, index_id=index_id, metric=metric, component=comp, value=math.nan,
                                  unit="tier", value_as_written=tier,
                                  note=_notes(f"group (tier) {tier[-1].upper()}", common_note)))
        if r["rank_change_as_written"]:
            for v, unit, note in parse_change_text(r["rank_change_as_written"]):
                facts.append(dict(base, index_id=index_id, metric=metric, component=comp, value=v, unit=unit,
                                  value_as_written=r["rank_change_as_written"], note=_notes(note, common_note)))
    return facts


def read_national_par_sipas(sources_md: Path | str | None = None,
                            curated_path: Path | str | None = None) -> pd.DataFrame:
    """National and regional PAR/SIPAS averages quoted in par_sipas/SOURCES.md (curated file)."""
    sources_md = Path(sources_md) if sources_md else paths.RAW / "par_sipas" / "SOURCES.md"
    curated_path = Path(curated_path) if curated_path else paths.REFERENCE / NATIONAL_FILE
    crel = paths.raw_relpath(curated_path)
    lines = _nfc_lines(sources_md)
    rows = []
    for i, r in enumerate(_read_csv(curated_path).to_dict("records")):
        row = i + 2
        line = _line_of(r["quote"], lines, crel, row)
        scope, _ = _scope(r["scope"], crel, row)
        if r["component"]:
            c = component_id(r["component"], file=crel, row=row)
            comp = c["component_id"]
        else:
            comp = None
        v, _, note = _curated_value(r["value_as_written"], r["unit"], r["metric"])
        rows.append(dict(index_id=r["index_id"], scope=scope, scope_as_written=r["scope"], year=int(r["year"]),
                         period=r["year"], metric=r["metric"], component=comp, value=v, unit=r["unit"],
                         value_as_written=r["value_as_written"], quote=r["quote"], note=_notes(note, r["note"]),
                         source_file=paths.raw_relpath(sources_md),
                         source_locator=f"line {line} ({crel} row {row})", source_url=r["source_url"]))
    return pd.DataFrame(rows)


def _nfc_lines(path: Path) -> list[str]:
    """The lines of a text file, NFC-normalised."""
    return nfc_exact(Path(path).read_text(encoding="utf-8")).splitlines()


def _line_of(quote: str, lines: list[str], file: str, row: int) -> int:
    q = nfc_exact(quote)
    for n, line in enumerate(lines, start=1):
        if q in line:
            return n
    raise SourceError(file, f"quote not found verbatim in its source: {quote!r}", row=row, column="quote")


def _curated_value(text: str, unit: str, metric: str,
                   style: vn.Style = "mixed") -> tuple[float, int | None, str | None]:
    """(value, rank_of, note) of a curated row: a target keeps its threshold ('từ 90% trở lên' → 90);
    a bound on a measured value ('trên 50%') gives NaN; a tier gives NaN."""
    s = nfc(text)
    if unit == "tier":
        return math.nan, None, "tier as written"
    if unit == "rank_change":
        (v, _, note), = parse_change_text(s)
        return v, None, note
    if unit == "rank" and "target" not in metric:
        rank, of, _, note = parse_rank_text(s)
        return rank, of, note
    if _BOUND.match(s) and "target" not in metric:
        return math.nan, None, "approximate or bound, not an exact value"
    nums = re.findall(NUMBER, s)
    if len(nums) not in (1, 2):
        raise ParseError(f"{s!r}: expected one number (or 'a/b')")
    return _num(nums[0], style), None, (f"of {nums[1]} as written" if len(nums) == 2 else None)


# --------------------------------------------------------------------------- score candidates from facts
def _tier_letter(text: str) -> str:
    """'nhóm A' / 'Group B' → 'A' / 'B'."""
    return text[-1].upper()


PCT_OF_MAX = "_pct"  # suffix of a component's "percent of its maximum" indicator


def score_candidates(facts: pd.DataFrame) -> pd.DataFrame:
    """One candidate PAR/SIPAS SCORE row (coverage 'partial') per province-level fact, with its provenance.

    Value: percent/points facts (overall: either unit, same 0-100 scale, unit "percent"; a component's
    points and its percent of the maximum are different quantities: `<component>` and `<component>_pct`).
    Rank: numeric ranks of 63 (or with no 'of'). Tier: PAR groups A/B/C. Facts of an unidentifiable
    component ('unidentified') stay facts. Which fact wins is the selection step's (`select`, tie rule
    ``majority``).
    """
    f = facts[facts["index_id"].isin(["par", "sipas"]) & facts["scope"].str.fullmatch(r"\d{2}").fillna(False)
              & facts["year"].notna() & facts["component"].ne("unidentified").fillna(True)]
    rows = []
    for r in f.to_dict("records"):
        ind = r["component"] if isinstance(r["component"], str) else "overall"
        if ind != "overall" and r["unit"] == "percent":
            ind = f"{ind}{PCT_OF_MAX}"  # percent of the component's maximum: another quantity than its points
        if r["unit"] in ("percent", "points") and r["value"] == r["value"]:
            field = {"value": r["value"]}
        elif r["unit"] == "rank" and r["value"] == r["value"] and (pd.isna(r["rank_of"]) or r["rank_of"] == 63):
            field = {"published_rank": int(r["value"])}
        elif r["unit"] == "tier":
            field = {"published_tier": _tier_letter(r["value_as_written"])}
        else:
            continue
        # one unit per indicator: the headline is a 0-100 score printed as % or điểm (the catalogue says percent);
        # components are points, and their percent of the maximum is the separate indicator <id>_pct
        unit = "percent" if ind == "overall" or ind.endswith(PCT_OF_MAX) else "points"
        rows.append(dict(index_id=r["index_id"], year=int(r["year"]), province_code=r["scope"], indicator=ind,
                         unit=unit, coverage="partial", source_file=r["source_file"],
                         source_locator=r["source_locator"], source_url=r["source_url"], **field))
    return conform(pd.DataFrame(rows, columns=list(SCORE_COLUMNS)), SCORE_COLUMNS)


# --------------------------------------------------------------------------- TTHC
_METRIC_INDEX = (("par_index", "par"), ("sipas", "sipas"), ("index766", "index766"))


def _tthc_index(metric: str) -> str:
    for prefix, idx in _METRIC_INDEX:
        if metric.startswith(prefix):
            return idx
    return "tthc"


def _post_merger(year, period: str, qualifier: str | None) -> bool:
    """True for figures of the 34 units (from 1 July 2025): '(sau hợp nhất…)' or a 2025 period from July."""
    if qualifier and "sau hợp nhất" in qualifier:
        return True
    if year != 2025:
        return False
    m = re.search(r"(\d{4})-(\d{2})", period or "")
    return bool(m) and (int(m.group(1)), int(m.group(2))) >= (2025, 7)


def _tthc_scope(name: str, year, period: str, file: str, row: int) -> list[tuple[str, str | None]]:
    """[(scope, note)] for one province_as_written of the TTHC files (';' lists several units)."""
    out = []
    for part in [p.strip() for p in name.split(";")]:
        base, qual = _split_name(part)
        base = re.sub(r"^UBND\s+", "", base)
        note = f"qualifier as written: {qual}" if qual else None
        if name_key(base) == "canuoc":
            out.append(("national", note))
            continue
        region = region_name(base)
        if region:
            out.append((region, note))
            continue
        if _post_merger(year, period, qual):
            try:
                out.append((to_unit_code(base), _notes(note, "scope = 2025 unit code (after the 1/7/2025 merger)")))
                continue
            except UnknownProvinceError:
                note = _notes(note, "2025 figure, but the name is not a 2025 unit: pre-2025 code")
        try:
            out.append((to_code(base), note))
        except UnknownProvinceError as e:
            raise SourceError(file, str(e), row=row, column="province_as_written") from e
    if len(out) > 1:
        out = [(s, _notes(n, f"stated jointly for {name}")) for s, n in out]
    return out


def parse_tthc_value(text: str, metric: str, style: vn.Style) -> tuple[float, str, int | None, str | None]:
    """(value, unit, rank_of, note) of one TTHC value as written, in the source's number style."""
    s = nfc(text)
    if metric.endswith("_rank"):
        m = re.fullmatch(r"(\d{1,2}) trong số (\d{1,2})", s)
        if m:
            return float(m.group(1)), "rank", int(m.group(2)), None
        rank, of = vn.parse_rank(s)
        return float(rank), "rank", of, None
    unit = "percent" if "%" in s else "points" if ("score" in metric or "điểm" in s) else "count"
    if _BOUND.match(s) and not s.lower().startswith("trung bình"):
        return math.nan, unit, None, "approximate or bound, not an exact value"
    note = "average as written ('trung bình')" if s.lower().startswith("trung bình") else None
    if "triệu" in s:
        return math.nan, unit, None, _notes(note, "written in millions ('triệu')")
    paren = re.search(r"\(([^)]*)\)", s)
    if paren:
        note = _notes(note, f"as written: {paren.group(1)}")
        s = s.replace(paren.group(0), "").strip()
    parts = re.split(r"\s*(?:/|trên tổng số|trên|out of)\s*", s)
    if len(parts) == 2:
        note = _notes(note, f"of {parts[1]} as written")
    elif len(parts) != 1:
        raise ParseError(f"{text!r}: expected one number or 'a/b'")
    return _num(parts[0], style), unit, None, note


def read_tthc(path: Path | str | None = None) -> pd.DataFrame:
    """tthc_facts.csv and the four small CSVs of data/raw/procedures/ as FACT rows."""
    path = Path(path) if path else paths.RAW / TTHC_FILE
    rel = paths.raw_relpath(path)
    df = _read_csv(path)
    rows = []
    for i, r in enumerate(df.to_dict("records")):
        row = i + 2
        year = int(r["year"]) if r["year"] else None
        style = number_style(r["source_url"])
        sic = r["note"].lower().startswith("sic")
        try:
            v, unit, of, note = ((math.nan, "count", None, "printed typo flagged [sic]: not parsed") if sic
                                 else parse_tthc_value(r["value_as_written"], r["metric"], style))
        except ParseError as e:
            raise SourceError(rel, f"{e} (number style {style!r} from data/reference/source_domains.csv)",
                              row=row, column="value_as_written") from e
        for scope, snote in _tthc_scope(r["province_as_written"], year, r["period"], rel, row):
            rows.append(dict(index_id=_tthc_index(r["metric"]), scope=scope, scope_as_written=r["province_as_written"],
                             year=year, period=r["period"] or None, metric=r["metric"], component=None, value=v,
                             unit=unit, rank_of=of, value_as_written=r["value_as_written"], quote=r["quote"],
                             note=_notes(note, snote, r["note"]), source_file=rel, source_locator=f"row {row}",
                             source_url=r["source_url"]))
    folder = path.parent
    small = [_index766(folder / "index766_2025-08-29_top5_34units.csv"),
             _online_rate(folder / "online_dossier_rate_top5_bottom5_2022-11.csv"),
             _hue_stats(folder / "thuathienhue_dichvucong_thongke_undated.csv"),
             _hue_levels(folder / "thuathienhue_dichvucong_online_service_levels_undated.csv")]
    return _finish_facts(pd.concat([pd.DataFrame(rows), *small], ignore_index=True))


def _wide_facts(path: Path, spec: dict[str, tuple[str, str, str | None]], scope_of, fixed) -> pd.DataFrame:
    """Melt a small wide CSV: spec maps column → (metric, unit, component); fixed(r) gives year/period/…"""
    rel = paths.raw_relpath(path)
    out = []
    for i, r in enumerate(_read_csv(path).to_dict("records")):
        row = i + 2
        scope, scope_note = scope_of(r, rel, row)
        base = fixed(r)
        style = number_style(r["source_url"])
        for col, (metric, unit, comp) in spec.items():
            text = r[col]
            if not text:
                continue
            try:
                v = _num(text, style)
            except ParseError as e:
                raise SourceError(rel, str(e), row=row, column=col) from e
            out.append(dict(base, index_id=_tthc_index(metric), scope=scope, metric=metric, component=comp, value=v,
                            unit=unit, value_as_written=text, note=_notes(scope_note, base.get("note"), r.get("note")),
                            source_file=rel, source_locator=f"row {row}, column {col}", source_url=r["source_url"]))
    return pd.DataFrame(out)


def _index766(path: Path) -> pd.DataFrame:
    """Index 766 top 5 of the 34 units, 29/8/2025 (dantri): scores, stated ranks, Thái Nguyên's components."""
    spec = {"total_score": ("index766_score", "points", None),
            "cong_khai_minh_bach": ("index766_transparency_score", "points", None),
            "tien_do_giai_quyet": ("index766_progress_score", "points", None),
            "dich_vu_truc_tuyen": ("index766_online_service_score", "points", None),
            "muc_do_hai_long": ("index766_satisfaction_score", "points", None),
            "so_hoa_ho_so": ("index766_digitisation_score", "points", None)}

    def scope_of(r, rel, row):
        (s, n), = _tthc_scope(r["unit_as_written"], 2025, "2025-08-29", rel, row)
        return s, n

    def fixed(r):
        return dict(scope_as_written=r["unit_as_written"], year=2025, period="2025-08 (tính đến ngày 29/8/2025)",
                    quote=None, note=f"as of {r['as_of']}; rank as written: {r['rank_as_written']}")
    facts = _wide_facts(path, spec, scope_of, fixed)
    ranks = []
    rel = paths.raw_relpath(path)
    for i, r in enumerate(_read_csv(path).to_dict("records")):
        rank, of, _, note = parse_rank_text(r["rank_as_written"])
        (scope, snote), = _tthc_scope(r["unit_as_written"], 2025, "2025-08-29", rel, i + 2)
        ranks.append(dict(fixed(r), index_id="index766", scope=scope, metric="index766_rank", component=None,
                          value=rank, unit="rank", rank_of=34 if rank == rank else None,
                          value_as_written=r["rank_as_written"], note=_notes(note, snote, "of the 34 units of 2025"),
                          source_file=rel, source_locator=f"row {i + 2}, column rank_as_written",
                          source_url=r["source_url"]))
    return pd.concat([facts, pd.DataFrame(ranks)], ignore_index=True)


def _online_rate(path: Path) -> pd.DataFrame:
    """Online-dossier rate, top/bottom 5 provinces and ministries, Jan–early Nov 2022 (baodanang)."""
    def scope_of(r, rel, row):
        if "bộ, ngành" in r["group_as_written"]:
            return f"ministry:{r['unit_as_written']}", "ministry, not a province"
        (s, n), = _tthc_scope(r["unit_as_written"], 2022, "2022-01", rel, row)
        return s, n

    def fixed(r):
        return dict(scope_as_written=r["unit_as_written"], year=2022,
                    period=f"2022-01..2022-11 ({r['period']})", quote=None,
                    note=f"group as written: {r['group_as_written']}")
    return _wide_facts(path, {"online_dossier_rate": ("online_dossier_rate", "percent", None)}, scope_of, fixed)


def _hue_scope(r, rel, row):
    return to_code("Thừa Thiên Huế"), "Thừa Thiên Huế public-service portal statistics page"


def _hue_fixed(r):
    return dict(scope_as_written="Thừa Thiên Huế (dichvucong.thuathienhue.gov.vn)", year=None,
                period="undated (cumulative; period not shown)", quote=None, note=None)


def _hue_stats(path: Path) -> pd.DataFrame:
    """Thừa Thiên Huế portal: dossiers by service level (undated)."""
    spec = {"tong": ("dossiers_received_total", "count"), "da_xu_ly": ("dossiers_resolved", "count"),
            "chua_xu_ly": ("dossiers_in_process", "count"), "truoc_han_tong": ("dossiers_ahead_of_time", "count"),
            "truoc_han_pct": ("ahead_of_time_rate", "percent"), "dung_han_tong": ("dossiers_on_time", "count"),
            "dung_han_pct": ("on_time_only_rate", "percent"), "tre_han_tong": ("dossiers_late", "count"),
            "tre_han_pct": ("late_rate", "percent")}
    out = _wide_facts(path, {k: (m, u, None) for k, (m, u) in spec.items()}, _hue_scope, _hue_fixed)
    levels = _read_csv(path)["muc_do"]
    comp = {f"row {i + 2}": "level_" + "_".join(re.findall(r"\d", lv)) for i, lv in enumerate(levels)}
    out["component"] = out["source_locator"].str.extract(r"^(row \d+)")[0].map(comp)
    return out


def _hue_levels(path: Path) -> pd.DataFrame:
    """Thừa Thiên Huế portal: procedures offered online at levels 1–4 (undated)."""
    rel = paths.raw_relpath(path)
    out = []
    for i, r in enumerate(_read_csv(path).to_dict("records")):
        level = re.search(r"\d", r["muc_do"]).group(0)
        base = dict(_hue_fixed(r), index_id="tthc", scope=_hue_scope(r, rel, i + 2)[0], component=None,
                    source_file=rel, source_url=r["source_url"])
        for col, metric, unit in (("tthc", f"procedures_online_level{level}", "count"),
                                  ("pct", f"procedures_online_level{level}_share", "percent")):
            out.append(dict(base, metric=metric, value=_num(r[col], number_style(r["source_url"])), unit=unit,
                            value_as_written=r[col], note=_notes(f"level as written: {r['muc_do']}", r["note"]),
                            source_locator=f"row {i + 2}, column {col}"))
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- the article
def read_article_facts(article_path: Path | str | None = None,
                       curated_path: Path | str | None = None) -> pd.DataFrame:
    """Facts of the Đắk Nông 2024 CCHC article, from the curated file; every quote is checked verbatim."""
    article_path = Path(article_path) if article_path else paths.RAW / ARTICLE_FILE
    curated_path = Path(curated_path) if curated_path else paths.REFERENCE / CURATED_ARTICLE_FILE
    arel, crel = paths.raw_relpath(article_path), paths.raw_relpath(curated_path)
    lines = _nfc_lines(article_path)
    rows = []
    for i, r in enumerate(_read_csv(curated_path).to_dict("records")):
        row = i + 2
        line = _line_of(r["quote"], lines, crel, row)
        if nfc(r["value_as_written"]) not in nfc(r["quote"]):
            raise SourceError(crel, f"value {r['value_as_written']!r} is not in its quote", row=row)
        scope, _ = _scope(r["scope"], crel, row)
        metric = r["metric"]
        comp = component_id(r["component"], file=crel, row=row)["component_id"] if r["component"] else None
        v, of, note = _curated_value(r["value_as_written"], r["unit"], metric, "vi")
        idx = ("par" if metric.startswith(("par_", "target_par"))
               else "sipas" if metric.startswith(("sipas", "target_sipas"))
               else "pci" if metric.startswith("target_pci") else "papi" if metric.startswith("target_papi")
               else "other" if metric.startswith(("plan_", "civil_service", "staff_")) else "tthc")
        rows.append(dict(index_id=idx, scope=scope, scope_as_written=r["scope"], year=int(r["year"]),
                         period=r["period"], metric=metric, component=comp, value=v, unit=r["unit"], rank_of=of,
                         value_as_written=r["value_as_written"], quote=r["quote"],
                         note=_notes(note, r["note"], f"article: {ARTICLE_CREDIT}"),
                         source_file=arel, source_locator=f"line {line} ({crel} row {row})", source_url=arel))
    return _finish_facts(pd.DataFrame(rows))


def read_targets(path: Path | str | None = None) -> pd.DataFrame:
    """data/reference/targets.csv (the 2025 targets of the article), quotes checked against the source."""
    path = Path(path) if path else paths.REFERENCE / "targets.csv"
    df = _read_csv(path)
    for i, r in enumerate(df.to_dict("records")):
        _line_of(r["quote"], _nfc_lines(paths.ROOT / r["source"]), paths.raw_relpath(path), i + 2)
        if r["target_as_stated"] not in r["quote"]:
            raise SourceError(paths.raw_relpath(path), "target_as_stated is not in the quote", row=i + 2)
    return df.assign(target_year=df["target_year"].astype("int64"))


# --------------------------------------------------------------------------- all together
def _finish_facts(df: pd.DataFrame) -> pd.DataFrame:
    out = conform(df, FACT_COLUMNS)
    keys = ["index_id", "scope", "year", "metric", "component", "unit", "source_file", "source_locator",
            "value_as_written"]
    return out.sort_values(keys, kind="stable", na_position="first").reset_index(drop=True)


def read_all(raw_dir: Path | str | None = None) -> dict[str, pd.DataFrame]:
    """All facts; PAR/SIPAS scores and conflicts selected (`select.select`, as the build does) from the
    candidates of :func:`read`."""
    c = read(Path(raw_dir) if raw_dir else paths.RAW)
    scores, conflicts = select.select(c.scores)
    return dict(facts=c.facts, scores=scores, conflicts=conflicts)


def read(raw_dir: Path) -> Candidates:
    """The build's reader: every fact, and one PAR/SIPAS candidate score row per fact of par_sipas facts,
    the foreign-language supplement and the article.

    (tthc_facts.csv's par_index_*/sipas_* rows stay facts only: their metric names differ and they
    repeat par_sipas values; BR-VT's 9/63 has no index year.)
    """
    from .par_foreign import SUPPLEMENT_FILE, read_supplement

    raw = Path(raw_dir)
    ps_facts = read_par_sipas_facts(raw / PAR_SIPAS_FILE)
    if (raw / SUPPLEMENT_FILE).exists():
        ps_facts = _finish_facts(pd.concat([ps_facts, read_supplement(raw / SUPPLEMENT_FILE)], ignore_index=True))
    art = read_article_facts(raw / ARTICLE_FILE)
    tthc = read_tthc(raw / TTHC_FILE)
    scores = score_candidates(pd.concat([ps_facts, art[~art["metric"].str.startswith("target_")]], ignore_index=True))
    facts = _finish_facts(pd.concat([ps_facts, tthc, art], ignore_index=True))
    return Candidates(scores=scores, facts=facts)
