"""PAPI (Provincial Governance and Public Administration Performance Index) readers.

Files (``data/raw/papi``, described in its SOURCES.md):

* ``official_excel/PAPI_2011-2019.xlsx`` – the compiled bilingual workbook, primary for
  2011–2019: one sheet per year (``2011_PAPI`` …), row 1 English headers, row 2 Vietnamese
  headers, then ``tinhid``/``tentinh_eng``/``tentinh_vie`` and each dimension followed by its
  sub-dimensions; 2011–2017 end with the unweighted aggregate. A ``999 Highest`` row sits
  among the provinces.
* ``official_excel/PAPI_2018_FULL_vie.xlsx`` and
  ``official_excel/2019_PAPI_Provincial_indicators2019_VIE_ENG.xlsx`` – the provincial
  indicator workbooks: the only source of the 2018 aggregate and of the 2019 unweighted and
  weighted aggregates (the compiled sheets for 2018/2019 have none).
* the per-year ENG workbooks (and the 2018/2019 indicator workbooks) – cross-checks only.
* ``papi_2020_2024_dimensions.csv`` – D1–D8 and the aggregate 2020–2024 (a repository CSV);
  its ``rank_year`` and ``tier`` are that author's computation and are ignored.
* ``papi_2018_2019_groups_by_dimension.csv`` – the quartile group of each province per
  dimension (and aggregate) in 2018/2019, from cell fill colours matched to the legend; one
  candidate row per group, which the selection step (`select`) attaches to the workbook's score
  as ``published_tier`` and checks against it.
* ``papi_2023_report_table3_6_excerpt.csv`` – 18 provinces of Public Service Delivery with
  sub-dimensions 6.1–6.4 (2023 report, Table 3.6; 4 decimals).

Sub-dimension ids follow the compiled workbook's labels (the 2011–2017 ENG workbooks carry
the 2018 labels by mistake); a sub-dimension whose composition or scale changes gets a new
id (see ``data/reference/indicators/papi.csv``).
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .. import paths, select, vn
from ..errors import ParseError, SourceError, UnknownProvinceError
from ..provinces import name_key, to_code
from ..text import TOL_4DP, TOL_EXACT, column_letter, nfc
from .base import CONFLICT_COLUMNS, SCORE_COLUMNS, Candidates, conform
from .rawfile import Unreadable, open_zip, read_csv_text, unreadable_cells, year_in_name

INDEX_ID = "papi"
UNIT = "points"
PAPI_DIR = paths.RAW / "papi"
OFFICIAL = "official_excel"
COMPILED_FILE = "PAPI_2011-2019.xlsx"
AGGREGATE_2018_FILE = "PAPI_2018_FULL_vie.xlsx"
INDICATORS_2019_FILE = "2019_PAPI_Provincial_indicators2019_VIE_ENG.xlsx"
FULL_2019_FILE = "PAPI_2019_FULL_vie.xlsx"
CSV_2020_2024 = "papi_2020_2024_dimensions.csv"
GROUPS_FILE = "papi_2018_2019_groups_by_dimension.csv"
EXCERPT_2023_FILE = "papi_2023_report_table3_6_excerpt.csv"

# The official workbooks are copies from this repository commit (SOURCES.md); their names
# there had spaces where the local copies have "_".
MDT_URL = "github:mdtrinh/vietnam_elections@84348767096a193634f9d4fb6c4116dbf4789a05:Data/PAPI/"

KEY = ["index_id", "year", "province_code", "indicator"]
EXCERPT_TOLERANCE = TOL_4DP  # the report prints 4 decimals
# Workbooks store doubles as text with 15 or 17 significant digits: the same number may
# differ in the 15th digit (2016 HCMC 4.4: 1.79937875270843 vs 1.799378752708435).
CROSS_CHECK_TOLERANCE = TOL_EXACT

DIMENSIONS = {
    1: "d1_participation",
    2: "d2_transparency",
    3: "d3_vertical_accountability",
    4: "d4_control_of_corruption",
    5: "d5_public_admin_procedures",
    6: "d6_public_service_delivery",
    7: "d7_environmental_governance",
    8: "d8_e_governance",
}
# English dimension headers of the compiled workbook -> dimension number.
DIMENSION_HEADERS = {
    "Participation at Local Levels": 1,
    "Transparency": 2,
    "Vertical Accountability": 3,
    "Control of Corruption": 4,
    "Public Administrative Procedures": 5,
    "Public Service Delivery": 6,
    "Environmental Governance": 7,
    "E-Governance": 8,
}
COMPILED_AGGREGATE_HEADERS = {"Un-weighted2015PAPI": "overall"}

# (dimension, position, number of sub-dimensions in the dimension, English header of the
# compiled workbook) -> id. The number of sub-dimensions sets the scale of each one.
SUBDIMENSIONS = {
    (1, 1, 4, "Civic Knowledge"): "d1_1_civic_knowledge",
    (1, 2, 4, "Opportunities for Participation"): "d1_2_opportunities_for_participation",
    (1, 3, 4, "Quality of Elections"): "d1_3_quality_of_elections",
    (1, 3, 4, "Quality of Local Elections"): "d1_3_quality_of_elections",  # 2018 relabel
    (1, 4, 4, "Voluntary Contributions"): "d1_4_voluntary_contributions",
    # 2011–2017: three sub-dimensions
    (2, 1, 3, "Poverty Lists"): "d2_1_poverty_lists",
    (2, 2, 3, "Communal Budget and Expenditure"): "d2_2_communal_budget",
    (2, 3, 3, "Land-Use Plans/Price Frames"): "d2_3_land_use_plans",
    # 2018+: four
    (2, 1, 4, "Access to Information"): "d2_1_access_to_information",
    (2, 2, 4, "Poverty Lists"): "d2_2_poverty_lists",
    (2, 3, 4, "Communal Budget and Expenditure"): "d2_3_communal_budget",
    (2, 4, 4, "Land-Use Plans/Price Frames"): "d2_4_land_use_plans",
    (3, 1, 3, "Interactions With Local Authorities"): "d3_1_interactions_with_local_authorities",
    # 2011–2015
    (3, 2, 3, "People's Inspection Boards"): "d3_2_peoples_inspection_boards",
    (3, 3, 3, "Community Investment Boards"): "d3_3_community_investment_boards",
    # 2016–2017
    (3, 2, 3, "Responsive to Citizen Actions"): "d3_2_responsive_to_citizen_actions",
    (3, 3, 3, "People's Inspection Boards"): "d3_3_peoples_inspection_boards",
    # 2018+
    (3, 2, 3, "Local Government’s Response to Citizens’ Appeals"): "d3_2_response_to_citizen_appeals",
    (3, 3, 3, "Access to Justice Services"): "d3_3_access_to_justice_services",
    (4, 1, 4, "Limits on Public Sector Corruption"): "d4_1_limits_on_public_sector_corruption",
    (4, 2, 4, "Limits on Corruption in Service Delivery"): "d4_2_limits_on_corruption_in_service_delivery",
    (4, 3, 4, "Equity in Employment"): "d4_3_equity_in_employment",
    (4, 4, 4, "Willingness to Fight Corruption"): "d4_4_willingness_to_fight_corruption",
    (5, 1, 4, "Certification Procedures"): "d5_1_certification_procedures",
    (5, 2, 4, "Construction Permits"): "d5_2_construction_permits",
    (5, 3, 4, "Land-Use Rights Procedures"): "d5_3_land_use_rights_procedures",
    (5, 4, 4, "Personal Procedures"): "d5_4_personal_procedures",
    (6, 1, 4, "Public Health"): "d6_1_public_health",
    (6, 2, 4, "Public Primary Education"): "d6_2_public_primary_education",
    (6, 3, 4, "Basic Infrastructure"): "d6_3_basic_infrastructure",
    (6, 4, 4, "Law and Order"): "d6_4_law_and_order",
    (7, 1, 3, "Seriousness in Environment Protection"): "d7_1_seriousness_in_environmental_protection",
    (7, 2, 3, "Quality of Air"): "d7_2_quality_of_air",
    (7, 3, 3, "Quality of Water"): "d7_3_quality_of_water",
    # 2018: two sub-dimensions on a 0.5–5.0 scale
    (8, 1, 2, "Access to E-government Portals"): "d8_1_access_to_e_government_portals_2018",
    (8, 2, 2, "Access to the Internet"): "d8_2_access_to_the_internet_2018",
    # 2019+: three, on 0.33–3.33
    (8, 1, 3, "Access to E-government Portals"): "d8_1_access_to_e_government_portals",
    (8, 2, 3, "Access to the Internet"): "d8_2_access_to_the_internet",
    (8, 3, 3, "E-Reponsiveness"): "d8_3_e_responsiveness",
}

# Rows that are not provinces (compared on name_key).
SUMMARY_KEYS = {name_key(s) for s in ("Highest", "999 Highest", "Điểm cao nhất", "Median",
                                       "Min", "Max", "Mean", "Average", "Trung bình")}
SUMMARY_CODES = {999}
# Marker of a blank cell in the 2018/2019 indicator workbooks ("KCDL = Không có dữ liệu").
NO_DATA = {"KCDL"}

_SHEET_YEAR = re.compile(r"^(\d{4})_PAPI$")
# "1: Participation…", " 1: …", "2.3: …" (per-year ENG workbooks) and
# "Chỉ số nội dung 1: …" (indicator workbooks).
_NUMBERED = re.compile(r"^\s*(?:Chỉ số nội dung\s+)?(\d)(?:\.(\d))?\s*:")
ENG_AGGREGATE_HEADERS = {"Unweighted PAPI Score": "overall"}
PROVINCE_HEADERS = {"Province", "Provinces", "Tỉnh/Thành phố"}


# ----------------------------------------------------------------------------- helpers

def source_url(path: Path | str) -> str:
    """Address of an official workbook in the repository it was copied from."""
    return MDT_URL + Path(path).name.replace("_", " ")


_col_letter = column_letter


def _cell(sheet: str, row0: int, col0: int) -> str:
    return f"{sheet}!{_col_letter(col0)}{row0 + 1}"


def _blank(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or (isinstance(x, str) and not x.strip())


def _number(x, file, sheet: str | None, row0: int, col0: int | str) -> float:
    """A workbook cell as float; NaN for a blank or "KCDL" cell; SourceError otherwise."""
    if _blank(x):
        return math.nan
    if isinstance(x, (bool, Unreadable)):
        raise SourceError(file, f"expected a number, found {x!r}", sheet=sheet, row=row0 + 1,
                          column=col0 if isinstance(col0, str) else _col_letter(col0))
    if isinstance(x, (int, float)):
        return float(x)
    text = str(x).strip()
    if text in NO_DATA:
        return math.nan
    try:
        value = vn.parse_number(text, style="en")
    except ParseError as e:
        raise SourceError(file, f"expected a number: {e}", sheet=sheet, row=row0 + 1,
                          column=col0 if isinstance(col0, str) else _col_letter(col0)) from e
    return math.nan if value is None else value


def _csv_number(text: str, file, row: int, column: str) -> float:
    """A CSV cell written in English style ("7.8486"); NaN when blank."""
    try:
        value = vn.parse_number(text, style="en")
    except ParseError as e:
        raise SourceError(file, f"expected a number: {e}", row=row, column=column) from e
    return math.nan if value is None else value


def _is_summary(*cells) -> bool:
    """True for the "999 Highest" row and other non-province rows."""
    for c in cells:
        if isinstance(c, (int, float)) and not _blank(c) and int(c) in SUMMARY_CODES:
            return True
        if isinstance(c, str) and name_key(c) in SUMMARY_KEYS:
            return True
    return False


def _score(year: int, code: str, indicator: str, value: float, coverage: str, file: str,
           locator: str, url: str) -> dict:
    return {"index_id": INDEX_ID, "year": year, "province_code": code, "indicator": indicator,
            "value": value, "unit": UNIT, "coverage": coverage, "source_file": file,
            "source_locator": locator, "source_url": url}


def _scores_frame(records: list[dict]) -> pd.DataFrame:
    df = conform(pd.DataFrame(records, columns=list(SCORE_COLUMNS)), SCORE_COLUMNS)
    return df.sort_values(KEY + ["source_file", "source_locator"], kind="stable").reset_index(drop=True)


def _check_unique(df: pd.DataFrame, what: str) -> None:
    dup = df[df.duplicated(KEY, keep=False)]
    if len(dup):
        first = dup.iloc[0]
        raise SourceError(first["source_file"], f"{what}: {len(dup)} rows share a (year, province, indicator), "
                          f"e.g. {first['year']} {first['province_code']} {first['indicator']}")


def _sheet_names(path: Path) -> list[str]:
    """Sheet names of a workbook; an empty, truncated or damaged file raises SourceError."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        open_zip(path).close()
    try:
        return pd.ExcelFile(path, engine="calamine").sheet_names
    except Exception as e:  # calamine raises its own error types for damaged workbooks
        raise SourceError(paths.raw_relpath(path), f"not a readable workbook (truncated or damaged?): {e}") from e


def _read_sheet(path: Path, sheet) -> pd.DataFrame:
    """A sheet's cells from A1 (row i = spreadsheet row i + 1); Excel error values and formulas
    without a stored result (read as blank by calamine) are replaced by rawfile.Unreadable markers."""
    names = _sheet_names(path)
    name = names[sheet] if isinstance(sheet, int) else sheet
    if name not in names:
        raise SourceError(paths.raw_relpath(path), f"sheet {name!r} not found; the workbook has {names}", sheet=name)
    df = pd.read_excel(path, engine="calamine", sheet_name=name, header=None)
    marks = unreadable_cells(path, name)
    if marks:
        df = df.astype(object)
        for (r, c), mark in marks.items():
            if r < df.shape[0] and c < df.shape[1]:
                df.iat[r, c] = mark
    return df


def _code(name, file, row: int, column: str, sheet: str | None = None) -> str:
    """Province code of a name cell; an unknown name raises SourceError naming the cell."""
    try:
        return to_code(name)
    except UnknownProvinceError as e:
        raise SourceError(file, str(e), sheet=sheet, row=row, column=column) from e


# ------------------------------------------------------------------ compiled workbook

def _compiled_layout(file, sheet: str, eng: list, vie: list) -> tuple[dict[int, str], dict[tuple[int, int], str]]:
    """Column index -> indicator id, and (dimension, sub-dimension) -> id, of one compiled sheet."""
    groups: list[tuple[int, int, list[tuple[int, str]]]] = []  # (dim, col, [(col, header)])
    by_col: dict[int, str] = {}
    for c in range(3, len(eng)):
        head = nfc(eng[c]) if isinstance(eng[c], str) else ""
        if not head:
            raise SourceError(file, "expected an English header in row 1", sheet=sheet, row=1, column=_col_letter(c))
        if head in COMPILED_AGGREGATE_HEADERS:
            by_col[c] = COMPILED_AGGREGATE_HEADERS[head]
        elif head in DIMENSION_HEADERS:
            groups.append((DIMENSION_HEADERS[head], c, []))
        elif groups:
            groups[-1][2].append((c, head))
        else:
            raise SourceError(file, f"header {head!r} before the first dimension", sheet=sheet, row=1,
                              column=_col_letter(c))
    numbers: dict[tuple[int, int], str] = {}
    dims = [g[0] for g in groups]
    if dims != list(range(1, len(dims) + 1)) or len(dims) not in (6, 8):
        raise SourceError(file, f"expected dimensions 1–6 or 1–8 in order, found {dims}", sheet=sheet, row=1)
    for dim, col, subs in groups:
        by_col[col] = numbers[(dim, 0)] = DIMENSIONS[dim]
        for pos, (c, head) in enumerate(subs, start=1):
            key = (dim, pos, len(subs), head)
            if key not in SUBDIMENSIONS:
                raise SourceError(file, f"unknown sub-dimension {head!r} (dimension {dim}, position {pos} "
                                  f"of {len(subs)}); add it to papi.SUBDIMENSIONS", sheet=sheet, row=1,
                                  column=_col_letter(c))
            by_col[c] = numbers[(dim, pos)] = SUBDIMENSIONS[key]
    if any(not isinstance(v, str) or not v.strip() for v in vie[3:]):
        raise SourceError(file, "expected Vietnamese headers in row 2", sheet=sheet, row=2)
    return by_col, numbers


def _read_compiled(path: Path) -> tuple[pd.DataFrame, dict[int, dict[tuple[int, int], str]]]:
    """Scores of the compiled workbook and, per year, (dimension, sub-dimension) -> id."""
    file, url = paths.raw_relpath(path), source_url(path)
    records: list[dict] = []
    layouts: dict[int, dict[tuple[int, int], str]] = {}
    for sheet in _sheet_names(path):
        m = _SHEET_YEAR.match(sheet)
        if not m:
            raise SourceError(file, f"unexpected sheet {sheet!r}; expected 'YYYY_PAPI'", sheet=sheet)
        year = int(m.group(1))
        df = _read_sheet(path, sheet)
        eng, vie = df.iloc[0].tolist(), df.iloc[1].tolist()
        if eng[:3] != ["tinhid", "tentinh_eng", "tentinh_vie"]:
            raise SourceError(file, f"expected tinhid, tentinh_eng, tentinh_vie in A1:C1, found {eng[:3]}",
                              sheet=sheet, row=1)
        by_col, layouts[year] = _compiled_layout(file, sheet, eng, vie)
        dim_cols = [c for c, ind in by_col.items() if ind in DIMENSIONS.values()]
        for r in range(2, df.shape[0]):
            tinhid, name_en, name_vi = df.iat[r, 0], df.iat[r, 1], df.iat[r, 2]
            if _blank(name_vi) and _blank(name_en) and _blank(tinhid):
                continue
            if _is_summary(tinhid, name_en, name_vi):
                continue
            code = _code(name_vi, file, r + 1, "C", sheet)
            if _blank(tinhid) or f"{int(tinhid):02d}" != code:
                raise SourceError(file, f"tinhid {tinhid!r} does not match {name_vi!r} (code {code})",
                                  sheet=sheet, row=r + 1, column="A")
            values = {c: _number(df.iat[r, c], file, sheet, r, c) for c in by_col}
            if all(math.isnan(values[c]) for c in dim_cols):
                for c, ind in by_col.items():
                    # 2014 Bắc Giang, Đồng Tháp: blank dimensions, aggregate printed as 0 -> missing
                    if ind == "overall" and values[c] == 0:
                        values[c] = math.nan
            for c, ind in by_col.items():
                if ind == "overall" and values[c] == 0:
                    raise SourceError(file, "aggregate 0 next to dimension scores", sheet=sheet,
                                      row=r + 1, column=_col_letter(c))
                if not math.isnan(values[c]):
                    records.append(_score(year, code, ind, values[c], "full", file, _cell(sheet, r, c), url))
    scores = _scores_frame(records)
    _check_unique(scores, "compiled workbook")
    return scores, layouts


def read_compiled(path: Path | str) -> pd.DataFrame:
    """Scores 2011–2019 of ``PAPI_2011-2019.xlsx``: dimensions, sub-dimensions and, for
    2011–2017, the unweighted aggregate (``overall``). Blank cells and the "999 Highest" row
    are left out; a 0 aggregate beside blank dimensions (2014) is missing, not 0."""
    return _read_compiled(Path(path))[0]


def compiled_layouts(path: Path | str) -> dict[int, dict[tuple[int, int], str]]:
    """Per year, (dimension, sub-dimension position; 0 for the dimension) -> indicator id."""
    return _read_compiled(Path(path))[1]


# ---------------------------------------------- indicator workbooks (rows = indicators)

def _read_tall(path: Path, sheet: str, year: int, labels: dict[str, str] | None,
               layout: dict[tuple[int, int], str] | None, name_row: int, code_row: int | None,
               keep_blank: bool = False) -> list[dict]:
    """Values of a sheet with one row per indicator and one column per province (from C).

    ``labels`` maps exact row labels (column A) to ids; ``layout`` maps numbered dimension and
    sub-dimension rows ("Chỉ số nội dung 1: …", "1.1: …") to ids. Blank cells are left out
    unless ``keep_blank`` (then they come as NaN, for cross-checks).
    """
    file, url = paths.raw_relpath(path), source_url(path)
    df = _read_sheet(path, sheet)
    rows: dict[int, str] = {}
    for r in range(df.shape[0]):
        label = df.iat[r, 0]
        if not isinstance(label, str):
            continue
        label = nfc(label)
        if labels and label in labels:
            rows[r] = labels[label]
        elif layout is not None and (m := _NUMBERED.match(label)):
            key = (int(m.group(1)), int(m.group(2) or 0))
            if key not in layout:
                raise SourceError(file, f"row {label!r} has no counterpart in the compiled {year} sheet",
                                  sheet=sheet, row=r + 1, column="A")
            rows[r] = layout[key]
    expected = len(labels or {}) + len(layout or {})
    if len(rows) != expected or len(set(rows.values())) != len(rows):
        raise SourceError(file, f"expected {expected} distinct indicator rows, found {sorted(rows.values())}",
                          sheet=sheet)
    out = []
    for c in range(2, df.shape[1]):
        name = df.iat[name_row, c]
        if _blank(name) or _is_summary(name):
            continue
        code = _code(name, file, name_row + 1, _col_letter(c), sheet)
        if code_row is not None and f"{int(df.iat[code_row, c]):02d}" != code:
            raise SourceError(file, f"province code {df.iat[code_row, c]!r} does not match {name!r}",
                              sheet=sheet, row=code_row + 1, column=_col_letter(c))
        for r, ind in rows.items():
            v = _number(df.iat[r, c], file, sheet, r, c)
            if keep_blank or not math.isnan(v):
                out.append(_score(year, code, ind, v, "full", file, _cell(sheet, r, c), url))
    return out


AGGREGATE_2018_LABELS = {"Chỉ số PAPI 2018 (không có trọng số)": "overall"}
AGGREGATE_2019_LABELS = {"Chỉ số PAPI tổng hợp (không có trọng số)": "overall",
                         "Chỉ số PAPI tổng hợp (có trọng số)": "overall_weighted"}


def read_aggregates_2018_2019(official_dir: Path | str) -> pd.DataFrame:
    """The 2018 unweighted aggregate (``PAPI_2018_FULL_vie.xlsx``; "KCDL" = no data) and the
    2019 unweighted (``overall``) and weighted (``overall_weighted``) aggregates
    (``2019_PAPI_Provincial_indicators2019_VIE_ENG.xlsx``)."""
    d = Path(official_dir)
    records = _read_tall(d / AGGREGATE_2018_FILE, "ProvincialIndicators_VIE", 2018, AGGREGATE_2018_LABELS,
                         None, name_row=0, code_row=None)
    records += _read_tall(d / INDICATORS_2019_FILE, "2019PAPI_Indicators_VIE", 2019, AGGREGATE_2019_LABELS,
                          None, name_row=1, code_row=0)
    scores = _scores_frame(records)
    _check_unique(scores, "2018/2019 aggregates")
    return scores


# ------------------------------------------------- cross-check of the other workbooks

def _read_wide(path: Path, sheet: str, year: int, layout: dict[tuple[int, int], str]) -> list[dict]:
    """Values of a sheet with one row per province: header row 1 with a province column and
    numbered columns ("1: …", "1.1: …"; labels ignored, they are wrong in 2011–2017).
    Blank cells come as NaN (this serves cross-checks only)."""
    file, url = paths.raw_relpath(path), source_url(path)
    df = _read_sheet(path, sheet)
    head = [nfc(h) if isinstance(h, str) else h for h in df.iloc[0].tolist()]
    name_cols = [c for c, h in enumerate(head) if h in PROVINCE_HEADERS]
    if len(name_cols) != 1:
        raise SourceError(file, "expected one 'Province(s)' header in row 1", sheet=sheet, row=1)
    cols: dict[int, str] = {}
    for c, h in enumerate(head):
        if not isinstance(h, str):
            continue
        if h in ENG_AGGREGATE_HEADERS:
            cols[c] = ENG_AGGREGATE_HEADERS[h]
        elif m := _NUMBERED.match(h):
            key = (int(m.group(1)), int(m.group(2) or 0))
            if key not in layout:
                raise SourceError(file, f"column {h!r} has no counterpart in the compiled {year} sheet",
                                  sheet=sheet, row=1, column=_col_letter(c))
            cols[c] = layout[key]
    if not cols or len(set(cols.values())) != len(cols):
        raise SourceError(file, "expected distinct numbered dimension columns in row 1", sheet=sheet, row=1)
    out = []
    for r in range(1, df.shape[0]):
        name = df.iat[r, name_cols[0]]
        if _blank(name) or _is_summary(name):
            continue
        code = _code(name, file, r + 1, _col_letter(name_cols[0]), sheet)
        for c, ind in cols.items():
            v = _number(df.iat[r, c], file, sheet, r, c)
            out.append(_score(year, code, ind, v, "full", file, _cell(sheet, r, c), url))
    return out


_YEAR_ENG = re.compile(r"^PAPI_(\d{4})_eng\.xlsx$")
_MAIN_SHEET = re.compile(r"ALL ?Dim|Dims_Sub-dims", re.I)
_DIM_SHEET = re.compile(r"Dim(ension|ention)? ?\d$", re.I)


def year_workbook_values(official_dir: Path | str, *, dimension_sheets: bool = False,
                         layouts: dict[int, dict[tuple[int, int], str]] | None = None) -> pd.DataFrame:
    """Every value of the other 2011–2019 workbooks that has a counterpart in the primary
    sources, as score rows (their own file and cell):

    * each ``PAPI_YYYY_eng.xlsx``: the all-dimensions sheet (and, with ``dimension_sheets``,
      the one-dimension sheets);
    * ``PAPI_2018_FULL_vie.xlsx`` and the 2019 indicators workbook: dimension and
      sub-dimension rows, and the 2019 ENG dims/sub-dims sheet with its unweighted score;
    * ``PAPI_2019_FULL_vie.xlsx``: weighted and unweighted aggregates.

    Blank cells are kept with a NaN value, so that a value missing on one side shows.
    """
    d = Path(official_dir)
    if layouts is None:
        layouts = compiled_layouts(d / COMPILED_FILE)
    records: list[dict] = []
    for path in sorted(d.glob("PAPI_*_eng.xlsx")):
        m = _YEAR_ENG.match(path.name)
        if not m:
            continue
        year = int(m.group(1))
        if year not in layouts:
            raise SourceError(paths.raw_relpath(path), f"no compiled sheet for {year}")
        sheets = _sheet_names(path)
        main = [s for s in sheets if _MAIN_SHEET.search(s)][:1]
        if not main:
            raise SourceError(paths.raw_relpath(path), "no all-dimensions sheet found")
        chosen = main + ([s for s in sheets if _DIM_SHEET.search(s.strip())] if dimension_sheets else [])
        for sheet in chosen:
            records += _read_wide(path, sheet, year, layouts[year])
    records += _read_tall(d / AGGREGATE_2018_FILE, "ProvincialIndicators_VIE", 2018, None, layouts[2018],
                          name_row=0, code_row=None, keep_blank=True)
    records += _read_tall(d / INDICATORS_2019_FILE, "2019PAPI_Indicators_VIE", 2019, None, layouts[2019],
                          name_row=1, code_row=0, keep_blank=True)
    records += _read_wide(d / INDICATORS_2019_FILE, "2019PAPI_Dims_Sub-dims_ENG", 2019, layouts[2019])
    records += _read_full_2019(d / FULL_2019_FILE)
    return _scores_frame(records)


def _read_full_2019(path: Path) -> list[dict]:
    """Weighted and unweighted aggregates of ``PAPI_2019_FULL_vie.xlsx`` (one row per province)."""
    file, url = paths.raw_relpath(path), source_url(path)
    df = _read_sheet(path, 0)
    head = df.iloc[0].tolist()
    wanted = {"Unweighted PAPI Score": "overall", "Weighted PAPI Score": "overall_weighted"}
    cols = {head.index(h): ind for h, ind in wanted.items() if h in head}
    if len(cols) != 2 or head[:2] != ["Tinh_ID", "Tỉnh/Thành phố (trực thuộc trung ương)"]:
        raise SourceError(file, "expected Tinh_ID, province, weighted and unweighted score columns", row=1)
    sheet = _sheet_names(path)[0]
    out = []
    for r in range(1, df.shape[0]):
        name = df.iat[r, 1]
        if _blank(name) or _is_summary(df.iat[r, 0], name):
            continue
        code = _code(name, file, r + 1, "B", sheet)
        if f"{int(df.iat[r, 0]):02d}" != code:
            raise SourceError(file, f"Tinh_ID {df.iat[r, 0]!r} does not match {name!r}", sheet=sheet,
                              row=r + 1, column="A")
        for c, ind in cols.items():
            v = _number(df.iat[r, c], file, sheet, r, c)
            out.append(_score(2019, code, ind, v, "full", file, _cell(sheet, r, c), url))
    return out


def _ref(df: pd.DataFrame) -> pd.Series:
    """'file#locator' of each row."""
    return df["source_file"] + "#" + df["source_locator"]


def compare(primary: pd.DataFrame, other: pd.DataFrame, reason: str, tolerance: float) -> pd.DataFrame:
    """Conflict rows where a value of ``other`` differs from ``primary`` beyond ``tolerance``,
    or is given on one side only (a NaN value in ``other`` is a blank cell there).
    ``primary`` is chosen ("a")."""
    a = primary[KEY + ["value"]].assign(source_a=_ref(primary)).rename(columns={"value": "value_a"})
    b = other[KEY + ["value"]].assign(source_b=_ref(other)).rename(columns={"value": "value_b"})
    m = b.merge(a, on=KEY, how="left")
    only_a, only_b = m["value_b"].isna() & m["value_a"].notna(), m["value_a"].isna() & m["value_b"].notna()
    bad = m[only_a | only_b | ((m["value_a"] - m["value_b"]).abs() > tolerance)].copy()
    bad["chosen"] = "a"
    bad["field"] = "value"
    bad["reason"] = f"{reason}: values differ"
    bad.loc[only_a[bad.index], "reason"] = f"{reason}: blank in the other source"
    bad.loc[only_b[bad.index], "reason"] = f"{reason}: value missing in the primary source"
    bad["source_a"] = bad["source_a"].fillna("")
    out = conform(bad, CONFLICT_COLUMNS)
    return out.sort_values(["year", "province_code", "indicator", "source_b"], kind="stable").reset_index(drop=True)


def read_year_workbooks(official_dir: Path | str, *, dimension_sheets: bool = False) -> pd.DataFrame:
    """Cross-check: conflict rows for every value of the other 2011–2019 workbooks (see
    :func:`year_workbook_values`) that differs from the compiled workbook / the 2018–2019
    aggregates, or that those lack. Expected empty."""
    d = Path(official_dir)
    compiled, layouts = _read_compiled(d / COMPILED_FILE)
    primary = pd.concat([compiled, read_aggregates_2018_2019(d)], ignore_index=True)
    other = year_workbook_values(d, dimension_sheets=dimension_sheets, layouts=layouts)
    return compare(primary, other, "per-year workbook vs compiled workbook", CROSS_CHECK_TOLERANCE)


# ------------------------------------------------------------------------- 2020–2024

CSV_DIMENSIONS = {f"D{n}": ind for n, ind in DIMENSIONS.items()}
CSV_AGGREGATE = {"total_official": "overall"}


def read_2020_2024(path: Path | str) -> pd.DataFrame:
    """D1–D8 and ``total_official`` (as ``overall``) of ``papi_2020_2024_dimensions.csv``.
    Blank cells are absent; ``rank_year``, ``tier``, ``total_papi`` and ``total_papi_6dim``
    (the CSV author's own computations) are ignored."""
    path = Path(path)
    file = paths.raw_relpath(path)
    df = read_csv_text(path)
    columns = {**CSV_DIMENSIONS, **CSV_AGGREGATE}
    missing = [c for c in ["province_vi", "year", "source_url", *columns] if c not in df.columns]
    if missing:
        raise SourceError(file, f"missing columns {missing}", row=1)
    records = []
    for i, rec in enumerate(df.to_dict("records")):
        n = i + 2
        year = int(_csv_number(rec["year"], file, n, "year"))
        if not 2020 <= year <= 2024:
            raise SourceError(file, f"expected a year 2020–2024, found {rec['year']!r}", row=n, column="year")
        code = _code(rec["province_vi"], file, n, "province_vi")
        for col, ind in columns.items():
            v = _csv_number(rec[col], file, n, col)
            if not math.isnan(v):
                records.append(_score(year, code, ind, v, "full", file, f"row {n}, column {col}", rec["source_url"]))
    scores = _scores_frame(records)
    _check_unique(scores, "2020–2024 CSV")
    return scores


# ----------------------------------------------------------------------------- groups

GROUP_COLUMNS = ["year", "province_code", "province_as_written", "indicator", "value_as_written",
                 "group_as_printed", "tier", "legend_note", "cell_fill_as_stored", "source_file",
                 "source_locator", "source_url"]
GROUP_AGGREGATE_LABELS = {"Chỉ số PAPI 2018 (không có trọng số)": "overall", "Unweighted PAPI Score": "overall"}
_LEGEND = re.compile(r"^(?P<tier>[^\[]*?)\s*(?:\[(?P<note>[^\]]*)\])?\s*$")


def read_groups_2018_2019(path: Path | str) -> pd.DataFrame:
    """Quartile group per province and dimension (and aggregate), 2018–2019, one row each.

    ``group_as_printed`` is the CSV's legend text verbatim; ``tier`` is its label without
    the bracketed remark (kept in ``legend_note``: the 2018 aggregate borrows the legend of
    the ENG workbook)."""
    path = Path(path)
    file = paths.raw_relpath(path)
    df = read_csv_text(path)
    need = ["year", "sheet", "province_as_written", "column_as_written", "value_as_written",
            "group_as_printed_legend", "cell_fill_as_stored", "source_url"]
    if list(df.columns) != need:
        raise SourceError(file, f"expected columns {need}, found {list(df.columns)}", row=1)
    rows = []
    for i, rec in enumerate(df.to_dict("records")):
        n = i + 2
        label = nfc(rec["column_as_written"])
        if label in GROUP_AGGREGATE_LABELS:
            ind = GROUP_AGGREGATE_LABELS[label]
        elif (m := _NUMBERED.match(label)) and m.group(2) is None and int(m.group(1)) in DIMENSIONS:
            ind = DIMENSIONS[int(m.group(1))]
        else:
            raise SourceError(file, f"unknown column {label!r}", row=n, column="column_as_written")
        lm = _LEGEND.match(rec["group_as_printed_legend"])
        if not lm or not lm.group("tier"):
            raise SourceError(file, "expected a legend label", row=n, column="group_as_printed_legend")
        rows.append({
            "year": year_in_name(path, rec["year"], n),
            "province_code": _code(rec["province_as_written"], file, n, "province_as_written"),
            "province_as_written": rec["province_as_written"], "indicator": ind,
            "value_as_written": _csv_number(rec["value_as_written"], file, n, "value_as_written"),
            "group_as_printed": rec["group_as_printed_legend"], "tier": lm.group("tier").strip(),
            "legend_note": (lm.group("note") or "").strip(), "cell_fill_as_stored": rec["cell_fill_as_stored"],
            "source_file": file, "source_locator": f"row {n}", "source_url": rec["source_url"],
        })
    out = pd.DataFrame(rows, columns=GROUP_COLUMNS)
    dup = out[out.duplicated(["year", "province_code", "indicator"], keep=False)]
    if len(dup):
        raise SourceError(file, f"two groups for one (year, province, indicator), e.g. {dup.iloc[0].to_dict()}",
                          row=int(dup.iloc[0]["source_locator"].split()[1]))
    return out.sort_values(["year", "indicator", "province_code"], kind="stable").reset_index(drop=True)


def group_candidates(groups: pd.DataFrame) -> pd.DataFrame:
    """One candidate score row per quartile-group row: its tier as ``published_tier`` and the value printed
    beside it, for the selection step to attach to the workbook's score and check (source_priority.csv:
    emit no, fill published_tier)."""
    return conform(groups.assign(index_id=INDEX_ID, value=groups["value_as_written"], unit=UNIT, coverage="full",
                                 published_tier=groups["tier"]), SCORE_COLUMNS)


# ---------------------------------------------------------------------- 2023 excerpt

EXCERPT_COLUMNS = {
    "6: Public Service Delivery": "d6_public_service_delivery",
    "6.1: Public Health": "d6_1_public_health",
    "6.2: Public Primary Education": "d6_2_public_primary_education",
    "6.3: Basic Infrastructure": "d6_3_basic_infrastructure",
    "6.4: Law and Order": "d6_4_law_and_order",
}


def read_2023_excerpt(path: Path | str) -> pd.DataFrame:
    """2023 report Table 3.6 excerpt: D6 and 6.1–6.4 of 18 provinces (coverage "partial").
    A trailing "*" on a name is the report's footnote mark; a row without values is absent."""
    path = Path(path)
    file = paths.raw_relpath(path)
    df = read_csv_text(path)
    if list(df.columns) != ["Province", *EXCERPT_COLUMNS, "source_url"]:
        raise SourceError(file, f"unexpected columns {list(df.columns)}", row=1)
    records = []
    for i, rec in enumerate(df.to_dict("records")):
        n = i + 2
        code = _code(rec["Province"].strip().rstrip("*").strip(), file, n, "Province")
        for col, ind in EXCERPT_COLUMNS.items():
            v = _csv_number(rec[col], file, n, col)
            if not math.isnan(v):
                records.append(_score(2023, code, ind, v, "partial", file, f"row {n}, column {col}",
                                      rec["source_url"]))
    return _scores_frame(records)


def _excerpt_repeats(excerpt: pd.DataFrame, csv_scores: pd.DataFrame) -> np.ndarray:
    """Which excerpt rows the 2020–2024 CSV also gives; only D6 may be repeated (SourceError otherwise)."""
    in_csv = excerpt[KEY].merge(csv_scores[KEY], on=KEY, how="left", indicator=True)["_merge"].eq("both").to_numpy()
    if (excerpt[in_csv]["indicator"] != DIMENSIONS[6]).any():
        raise SourceError(excerpt[in_csv].iloc[0]["source_file"], "the excerpt repeats a CSV value other than D6")
    return in_csv


# ---------------------------------------------------------------------------- all

def candidates(raw_dir: Path | str = PAPI_DIR) -> Candidates:
    """PAPI candidate score rows 2011–2024 (the 2023 excerpt's D6 rows included: the CSV's win in the
    selection step; the 2018–2019 quartile groups, which the selection step attaches as tiers) and the
    reader's own conflicts (workbook cross-checks)."""
    d = Path(raw_dir)
    official = d / OFFICIAL
    scores = pd.concat([read_compiled(official / COMPILED_FILE), read_aggregates_2018_2019(official),
                        read_2020_2024(d / CSV_2020_2024)], ignore_index=True)
    _check_unique(scores, "PAPI scores")
    groups = group_candidates(read_groups_2018_2019(d / GROUPS_FILE))
    excerpt = read_2023_excerpt(d / EXCERPT_2023_FILE)
    _check_unique(excerpt, "PAPI 2023 excerpt")
    _excerpt_repeats(excerpt, scores)
    return Candidates(scores=conform(pd.concat([scores, groups, excerpt], ignore_index=True), SCORE_COLUMNS),
                      conflicts=conform(read_year_workbooks(official), CONFLICT_COLUMNS))


def read_all(raw_dir: Path | str = PAPI_DIR) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All PAPI scores 2011–2024 (tiers from the quartile groups) and the conflicts (cross-checks, 2023 excerpt,
    groups), selected by data/reference/source_priority.csv as the build does."""
    c = candidates(raw_dir)
    scores, chosen = select.select(c.scores)
    scores = scores.sort_values(KEY, kind="stable").reset_index(drop=True)
    conflicts = pd.concat([c.conflicts, chosen], ignore_index=True)
    conflicts = conflicts.sort_values(["year", "province_code", "indicator", "source_b"], kind="stable")
    return scores, conflicts.reset_index(drop=True)


def read(raw_dir: Path) -> Candidates:
    """The build's reader: PAPI candidate score rows under raw_dir/papi and the reader's own checks."""
    return candidates(Path(raw_dir) / "papi")
