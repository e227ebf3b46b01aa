"""Bad input: mutated copies of real raw files are either read correctly or rejected.

Every case copies real files into a temporary raw dir (tests/badinput.py; data/raw is never
written), changes one thing and calls the reader of that file:

* handled  – the values that come out are asserted (against the unchanged file and a
  published number);
* rejected – a SourceError (a ValidationError for a value outside its scale, found when the
  processed tables are validated) that names the file, the sheet, the row and the column and
  says what was expected. Then the full build runs on the bad copy over an out_dir built
  earlier from the good data: it must fail the same way and leave every byte of out_dir as
  it was (no new, changed or temporary file).

The table of cases and outcomes is in tests/README.md.
"""
from __future__ import annotations

import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

import badinput as bi
from cchc_analysis import paths
from cchc_analysis.data import build_data
from cchc_analysis.errors import SourceError, ValidationError
from cchc_analysis import validity
from cchc_analysis.sources import facts, papi, par_foreign, pci_excel, pci_web, quotes

pytest.importorskip("openpyxl")

WB19 = "pci/vcci_excel/PCI_2019.xlsx"
WB13 = "pci/vcci_excel/PCI_2013.xlsx"
T2020 = "pci/pci_2020_scores.csv"
PROFILES = "pci/pci_province_profiles_2020_2024.csv"
PAPI_CSV = "papi/papi_2020_2024_dimensions.csv"
PAPI_EXCERPT = "papi/papi_2023_report_table3_6_excerpt.csv"
PAPI_GROUPS = "papi/papi_2018_2019_groups_by_dimension.csv"
PAPI_COMPILED = "papi/official_excel/PAPI_2011-2019.xlsx"
PAR = "par_sipas/par_sipas_facts.csv"
SUPPLEMENT = "par_sipas/par_sipas_facts_foreign_language_supplement.csv"
ZH2020 = "par_sipas/par_2020_top10_components_zh.csv"
TTHC = "procedures/tthc_facts.csv"
SCORE = "Điểm số PCI"  # the score column of pci_2020_scores.csv


@dataclass(frozen=True)
class Rejected:
    """Expected SourceError: file (suffix), sheet, row, column and a phrase of the message."""
    file: str
    says: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None


@dataclass(frozen=True)
class RejectedAtBuild:
    """Read without complaint, refused when the processed tables are validated."""
    says: tuple[str, ...]


@dataclass(frozen=True)
class Case:
    id: str
    reader: str                                   # pci_excel | pci_web | papi | facts
    what: str                                     # the change (for tests/README.md)
    files: tuple[str, ...]                        # real files copied first (relative to data/raw)
    make: Callable[[Path], object]                # changes the copy in raw
    read: Callable[[Path], object]                # calls the reader on raw
    expect: object                                # Rejected | RejectedAtBuild | check(result, raw)
    notes: str = field(default="")


# ------------------------------------------------------------------------------ readers

def read_wb19(raw: Path) -> pd.DataFrame:
    return pci_excel.read_pci_workbook(raw / WB19, 2019)


def read_wb13(raw: Path) -> pd.DataFrame:
    return pci_excel.read_pci_workbook(raw / WB13, 2013)


def read_tables(raw: Path) -> pd.DataFrame:
    return pci_web.read_tables(raw)


def read_profiles(raw: Path):
    return pci_web.read_profiles(raw / PROFILES)[0]


# ------------------------------------------------------------------------------ xlsx changes

def summary19(mutate=None, merged=None, rename=None):
    """Change the 'Summary' sheet of PCI_2019.xlsx (rows: A province, B rank, C PCI, D-M sub-indices)."""
    def make(raw: Path):
        bi.xlsx_copy(raw, WB19, ["Summary"], mutate=(lambda d: mutate(d["Summary"])) if mutate else None,
                     merged={"Summary": merged} if merged else None, rename=rename)
    return make


def cell19(ref: str, value):
    return summary19(lambda rows: bi.set_cell(rows, ref, value))


def insert_rows(at: int, new: list[list]):
    """Insert rows before spreadsheet row `at`."""
    def mutate(rows):
        rows[at - 1:at - 1] = new
    return mutate


@pytest.fixture(scope="module")
def wb19_copy(tmp_path_factory) -> pd.DataFrame:
    """PCI 2019 read from an unmutated copy made the same way as the mutated ones."""
    raw = tmp_path_factory.mktemp("wb19") / "raw"
    bi.xlsx_copy(raw, WB19, ["Summary"])
    return read_wb19(raw)


def values(df: pd.DataFrame) -> pd.DataFrame:
    return df[["province_code", "indicator", "value", "published_rank"]].reset_index(drop=True)


# ------------------------------------------------------------------------------ CSV changes

def csv_edit(rel: str, fn: Callable[[str], str | bytes], encoding: str = "utf-8"):
    def make(raw: Path):
        bi.write(raw, rel, fn(bi.text(rel)), encoding)
    return make


def csv_bytes(rel: str, data: bytes):
    def make(raw: Path):
        bi.write(raw, rel, data)
    return make


def same_as_real_tables(result: pd.DataFrame, raw: Path) -> None:
    """The 2020-2022 tables read exactly as from data/raw (values, ranks, tiers, locators)."""
    real = pci_web.read_tables(paths.RAW)
    cols = ["year", "province_code", "indicator", "value", "published_rank", "published_tier", "source_locator"]
    pd.testing.assert_frame_equal(result[cols], real[cols])
    dn = result[(result.year == 2020) & (result.province_code == "67")].iloc[0]  # Đắk Nông 2020
    assert (dn.value, dn.published_rank) == (61.96, 60)


def handled_header_moved(result: pd.DataFrame, raw: Path, base: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(values(result), values(base))
    bn = result[(result.province_code == "27") & (result.indicator == "overall")].iloc[0]  # Bắc Ninh
    assert bn.published_rank == 4 and math.isclose(bn.value, 70.7908935546875, abs_tol=1e-9)
    assert bn.source_locator == "Summary!C10"          # row 7 + 3 inserted rows


def handled_summary_row(result: pd.DataFrame, raw: Path, base: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(values(result), values(base))
    assert result.province_code.nunique() == 63


# ------------------------------------------------------------------------------ the cases

def _two_provinces_one_name(rows):
    rows[bi.find_row(rows, 0, "Bac Ninh") - 1][0] = "Ben Tre"


CASES = [
    # --- PCI workbook 2019 (rows layout), 2013 (pairs layout)
    Case("xlsx_missing_sheet", "pci_excel", "sheet 'Summary' renamed 'Tổng hợp'", (),
         summary19(rename={"Summary": "Tổng hợp"}), read_wb19,
         Rejected(WB19, "not found; the workbook has ['Tổng hợp']", sheet="Summary")),
    Case("xlsx_header_moved_down", "pci_excel", "3 blank rows inserted above the header row", (),
         summary19(insert_rows(1, [[], [], []])), read_wb19, "header_moved"),
    Case("xlsx_header_too_low", "pci_excel", "12 blank rows above the header (header on row 13)", (),
         summary19(insert_rows(1, [[] for _ in range(12)])), read_wb19,
         Rejected(WB19, "no header row with a province column", sheet="Summary")),
    Case("xlsx_title_above_header", "pci_excel", "a title row 'BẢNG TỔNG HỢP PCI 2019' above the header", (),
         summary19(insert_rows(1, [["BẢNG TỔNG HỢP PCI 2019"]])), read_wb19,
         Rejected(WB19, "unknown column header 'BẢNG TỔNG HỢP PCI 2019 Province'", sheet="Summary", row=2,
                  column="A")),
    Case("xlsx_renamed_column", "pci_excel", "header 'Sub-Index 3: Transparency' renamed '… Openness'", (),
         cell19("F1", "Sub-Index 3: Openness"), read_wb19,
         Rejected(WB19, "unknown column header 'Sub-Index 3: Openness'", sheet="Summary", row=1, column="F")),
    Case("xlsx_blank_row_in_table", "pci_excel", "a blank row inserted after row 30", (),
         summary19(insert_rows(31, [[]])), read_wb19,
         Rejected(WB19, "unexpected row under the province table", sheet="Summary", row=32)),
    Case("xlsx_note_row_below", "pci_excel", "a note row 'Nguồn: VCCI, 2019' under Min/Median/Max", (),
         summary19(lambda rows: rows.append(["Nguồn: VCCI, 2019"])), read_wb19,
         Rejected(WB19, "unexpected row under the province table, starting 'Nguồn: VCCI, 2019'", sheet="Summary",
                  row=70)),
    Case("xlsx_summary_label_case", "pci_excel", "'Median' written 'MEDIAN' under the table", (),
         cell19("A68", "MEDIAN"), read_wb19, "summary_row"),
    Case("xlsx_merged_value_cells", "pci_excel", "C10:C11 merged (two provinces' PCI in one cell)", (),
         summary19(merged=["C10:C11"]), read_wb19,
         Rejected(WB19, "expected a number, found a cell merged into C10", sheet="Summary", row=11, column="C")),
    Case("xlsx_merged_province_cells", "pci_excel", "A10:A11 merged (province names)", (),
         summary19(merged=["A10:A11"]), read_wb19,
         Rejected(WB19, "expected a province name, found a cell merged into A10", sheet="Summary", row=11,
                  column="A")),
    Case("xlsx_unknown_province", "pci_excel", "'Bac Ninh' replaced by 'Atlantis'", (),
         cell19("A7", "Atlantis"), read_wb19,
         Rejected(WB19, "unknown province name 'Atlantis'", sheet="Summary", row=7, column="A")),
    Case("xlsx_province_twice", "pci_excel", "'Bac Ninh' replaced by 'Ben Tre' (Ben Tre twice)", (),
         summary19(_two_provinces_one_name), read_wb19,
         Rejected(WB19, "'Ben Tre' (83) appears twice", sheet="Summary", row=8, column="A")),
    Case("xlsx_error_na", "pci_excel", "PCI of Bac Ninh (C7) is the Excel error #N/A", (),
         cell19("C7", "#N/A"), read_wb19,
         Rejected(WB19, "expected a number, found #N/A (an Excel error value)", sheet="Summary", row=7,
                  column="C")),
    Case("xlsx_error_div0", "pci_excel", "a sub-index (E9) is #DIV/0!", (),
         cell19("E9", "#DIV/0!"), read_wb19,
         Rejected(WB19, "found #DIV/0! (an Excel error value)", sheet="Summary", row=9, column="E")),
    Case("xlsx_formula_without_result", "pci_excel", "C12 a formula '=C11+0' saved without its result", (),
         cell19("C12", "=C11+0"), read_wb19,
         Rejected(WB19, "found =C11+0 (a formula without a stored result)", sheet="Summary", row=12, column="C")),
    Case("xlsx_number_as_text", "pci_excel", "C7 the text '70,79' instead of a number", (),
         cell19("C7", "70,79"), read_wb19,
         Rejected(WB19, "expected a number, found '70,79'", sheet="Summary", row=7, column="C")),
    Case("xlsx_rank_not_whole", "pci_excel", "rank B7 = 4.5", (),
         cell19("B7", 4.5), read_wb19,
         Rejected(WB19, "expected a rank (whole number >= 1), found 4.5", sheet="Summary", row=7, column="B")),
    Case("xlsx_value_outside_scale", "all", "PCI of Bac Ninh (C7) = 707.9 (scale 0–100)", (),
         cell19("C7", 707.908935546875), read_wb19,
         RejectedAtBuild(("PCI_2019.xlsx Summary!C7", "707.908935546875 is outside the scale 0.0–100.0"))),
    Case("xlsx_truncated", "pci_excel", "the real .xlsx cut to half its bytes", (),
         lambda raw: bi.write(raw, WB19, (paths.RAW / WB19).read_bytes()[: (paths.RAW / WB19).stat().st_size // 2]),
         read_wb19, Rejected(WB19, "not a readable")),
    Case("xlsx_empty", "pci_excel", "an empty (0-byte) PCI_2019.xlsx", (),
         lambda raw: bi.write(raw, WB19, b""), read_wb19, Rejected(WB19, "the file is empty")),
    Case("xlsx_html_saved_as_xlsx", "pci_excel", "an HTML error page saved as PCI_2019.xlsx", (),
         lambda raw: bi.write(raw, WB19, "<!DOCTYPE html><html><body>404</body></html>\n"), read_wb19,
         Rejected(WB19, "not a readable")),
    Case("xlsx_year_disagrees", "pci_excel", "PCI_2013.xlsx header 'PCI 2013' says 'PCI 2012'", (),
         lambda raw: bi.xlsx_copy(raw, WB13, ["Summary"], mutate=lambda d: bi.set_cell(d["Summary"], "W1", "PCI 2012")),
         read_wb13, Rejected(WB13, "header 'PCI 2012' is for PCI 2012, expected 2013", sheet="Summary", row=1,
                             column="W")),
    # --- PCI web tables (CSV)
    Case("csv_nfd", "pci_web", "pci_2020_scores.csv in Unicode NFD (decomposed diacritics)", bi.PCI_WEB_FILES,
         csv_edit(T2020, bi.nfd), read_tables, "same_as_real"),
    Case("csv_bom", "pci_web", "UTF-8 byte-order mark at the start", bi.PCI_WEB_FILES,
         csv_edit(T2020, lambda t: "\ufeff" + t), read_tables, "same_as_real"),
    Case("csv_crlf", "pci_web", "Windows line ends (CRLF)", bi.PCI_WEB_FILES,
         csv_edit(T2020, lambda t: t.replace("\n", "\r\n")), read_tables, "same_as_real"),
    Case("csv_columns_reordered", "pci_web", "columns in another order (rank first)", bi.PCI_WEB_FILES,
         csv_edit(T2020, lambda t: "\n".join(",".join([f[2], f[0], f[1], f[3]]) for f in
                                             (line.split(",") for line in t.rstrip("\n").split("\n"))) + "\n"),
         read_tables, "reordered"),
    Case("csv_median_row", "pci_web", "a 'Median,64.02,,' row among the provinces", bi.PCI_WEB_FILES,
         csv_edit(T2020, lambda t: bi.sub(t, "\nĐắk Nông,", "\nMedian,64.02,,\nĐắk Nông,")), read_tables,
         "median_row"),
    Case("csv_mojibake_cp1258", "pci_web", "UTF-8 read as cp1258 and saved again ('Tá»‰nh')", bi.PCI_WEB_FILES,
         csv_edit(T2020, lambda t: bi.mojibake(t, "cp1258")), read_tables,
         Rejected(T2020, "expected one province column named one of ('Tỉnh', 'Tỉnh, Thành phố')", row=1)),
    Case("csv_mojibake_latin1_names", "pci_web", "province names UTF-8 read as latin-1 ('Äáº¯k NÃ´ng')",
         bi.PCI_WEB_FILES,
         csv_edit(T2020, lambda t: bi.sub(t, "Đắk Nông", bi.mojibake("Đắk Nông", "latin-1"))), read_tables,
         Rejected(T2020, "unknown province name", row=61, column="Tỉnh")),
    Case("csv_cp1258_encoded", "pci_web", "the file saved in Windows-1258, not UTF-8", bi.PCI_WEB_FILES,
         csv_bytes(T2020, bi.cp1258_bytes(bi.text(T2020))), read_tables,
         Rejected(T2020, "is not UTF-8: expected UTF-8 text", row=1)),
    Case("csv_semicolons", "pci_web", "';' delimiters and decimal commas (Excel, Vietnamese locale)", bi.PCI_WEB_FILES,
         csv_edit(T2020, lambda t: "\n".join(";".join(f.replace(".", ",") if i == 1 else f for i, f in
                                                      enumerate(line.split(","))) for line in t.split("\n"))),
         read_tables, Rejected(T2020, "expected comma-separated values", row=1)),
    Case("csv_comma_decimal", "pci_web", "Đắk Nông's score written '61,96' in a dot-decimal file", bi.PCI_WEB_FILES,
         csv_edit(T2020, lambda t: bi.sub(t, "Đắk Nông,61.96,", 'Đắk Nông,"61,96",')), read_tables,
         Rejected(T2020, "',' does not group thousands here", row=61, column=SCORE)),
    Case("csv_comma_decimal_3_digits", "pci_web", "'61,960' (reads as 61960 in the file's style)", bi.PCI_WEB_FILES,
         csv_edit(T2020, lambda t: bi.sub(t, "Đắk Nông,61.96,", 'Đắk Nông,"61,960",')), read_tables,
         Rejected(T2020, "'61,960' outside 0..100", row=61, column=SCORE)),
    Case("csv_value_outside_scale", "pci_web", "score 161.96 on a 0–100 scale", bi.PCI_WEB_FILES,
         csv_edit(T2020, lambda t: bi.sub(t, "Đắk Nông,61.96,", "Đắk Nông,161.96,")), read_tables,
         Rejected(T2020, "'161.96' outside 0..100", row=61, column=SCORE)),
    Case("csv_unknown_province", "pci_web", "'Đắk Nông' replaced by 'Đắk Xanh'", bi.PCI_WEB_FILES,
         csv_edit(T2020, lambda t: bi.sub(t, "Đắk Nông,", "Đắk Xanh,")), read_tables,
         Rejected(T2020, "unknown province name 'Đắk Xanh'", row=61, column="Tỉnh")),
    Case("csv_province_twice", "pci_web", "'Đắk Nông' also on the Đắk Lắk row", bi.PCI_WEB_FILES,
         csv_edit(T2020, lambda t: bi.sub(t, "\nĐắk Lắk,", "\nĐắk Nông,")), read_tables,
         Rejected(T2020, "province 67 already on row", row=61)),
    Case("csv_renamed_column", "pci_web", "header 'Điểm số PCI' renamed 'Điểm PCI tổng'", bi.PCI_WEB_FILES,
         csv_edit(T2020, lambda t: bi.sub(t, "Điểm số PCI", "Điểm PCI tổng")), read_tables,
         Rejected(T2020, "unknown header 'Điểm PCI tổng'", row=1, column="Điểm PCI tổng")),
    Case("csv_repeated_column", "pci_web", "two columns named 'Điểm số PCI'", bi.PCI_WEB_FILES,
         csv_edit(T2020, lambda t: bi.sub(t, "Xếp hạng", "Điểm số PCI")), read_tables,
         Rejected(T2020, "column name 'Điểm số PCI' is repeated", row=1, column=SCORE)),
    Case("csv_blank_row", "pci_web", "an empty line after row 30", bi.PCI_WEB_FILES,
         csv_edit(T2020, lambda t: "\n".join(bi.lines(t)[:30] + [""] + bi.lines(t)[30:])), read_tables,
         Rejected(T2020, "blank row inside the table", row=31)),
    Case("csv_note_row", "pci_web", "a note line 'Nguồn: VCCI' after the last province", bi.PCI_WEB_FILES,
         csv_edit(T2020, lambda t: t + "Nguồn: VCCI\n"), read_tables,
         Rejected(T2020, "expected 4 fields as in the header, found 1", row=65, column=SCORE)),
    Case("csv_unquoted_comma", "pci_web", "an unquoted comma in a name ('Thừa Thiên, Huế')", bi.PCI_WEB_FILES,
         csv_edit(T2020, lambda t: bi.sub(t, "\nTT-Huế,", "\nThừa Thiên, Huế,")), read_tables,
         Rejected(T2020, "expected 4 fields as in the header, found 5", row=18, column="source_url")),
    Case("csv_truncated_mid_row", "pci_web", "file cut inside row 31 (after 'Hà Nam,63.4')", bi.PCI_WEB_FILES,
         csv_edit(T2020, lambda t: t[: t.index("Hà Nam,63.4") + len("Hà Nam,63.4")]), read_tables,
         Rejected(T2020, "does not end with a line break: the file looks truncated", row=31)),
    Case("csv_empty", "pci_web", "an empty (0-byte) pci_2020_scores.csv", bi.PCI_WEB_FILES,
         csv_bytes(T2020, b""), read_tables, Rejected(T2020, "the file is empty", row=1)),
    Case("csv_header_only", "pci_web", "only the header row left", bi.PCI_WEB_FILES,
         csv_edit(T2020, lambda t: bi.lines(t)[0] + "\n"), read_tables,
         Rejected(T2020, "no province rows under the header", row=2)),
    Case("csv_year_disagrees_with_name", "pci_web", "a profile row for 2019 in ..._2020_2024.csv", bi.PCI_WEB_FILES,
         csv_edit(PROFILES, lambda t: bi.sub(t, "Phu Tho,phu-tho,2021,Entry Costs",
                                             "Phu Tho,phu-tho,2019,Entry Costs")),
         read_profiles, Rejected(PROFILES, "year 2019 is outside the years 2020–2024 that the file name covers",
                                 row=3, column="year")),
    # --- PAPI
    Case("papi_csv_bom", "papi", "papi_2023 excerpt with a UTF-8 byte-order mark", (),
         csv_edit(PAPI_EXCERPT, lambda t: "\ufeff" + t), lambda raw: papi.read_2023_excerpt(raw / PAPI_EXCERPT),
         "papi_bom"),
    Case("papi_year_disagrees_with_name", "papi", "a 2025 row in papi_2020_2024_dimensions.csv", (),
         csv_edit(PAPI_CSV, lambda t: bi.sub(t, ",1,2020,", ",1,2025,")),
         lambda raw: papi.read_2020_2024(raw / PAPI_CSV),
         Rejected(PAPI_CSV, "expected a year 2020–2024, found '2025'", row=2, column="year")),
    Case("papi_groups_year_disagrees", "papi", "a 2020 row in papi_2018_2019_groups_by_dimension.csv", (),
         csv_edit(PAPI_GROUPS, lambda t: bi.sub(t, "\n2018,Dimention 1,Bac Giang,", "\n2020,Dimention 1,Bac Giang,")),
         lambda raw: papi.read_groups_2018_2019(raw / PAPI_GROUPS),
         Rejected(PAPI_GROUPS, "year 2020 is outside the years 2018–2019", row=2, column="year")),
    Case("papi_unknown_province", "papi", "'Ha Giang' replaced by 'Ha Xanh' in the 2023 excerpt", (),
         csv_edit(PAPI_EXCERPT, lambda t: bi.sub(t, "\nHa Giang,", "\nHa Xanh,")),
         lambda raw: papi.read_2023_excerpt(raw / PAPI_EXCERPT),
         Rejected(PAPI_EXCERPT, "unknown province name 'Ha Xanh'", row=3, column="Province")),
    Case("papi_xlsx_error_value", "papi", "compiled workbook, 2015 sheet: a D1 score is #N/A", (),
         lambda raw: bi.xlsx_copy(raw, PAPI_COMPILED, bi.sheet_names(PAPI_COMPILED),
                                  mutate=lambda d: bi.set_cell(d["2015_PAPI"], "D5", "#N/A")),
         lambda raw: papi.read_compiled(raw / PAPI_COMPILED),
         Rejected(PAPI_COMPILED, "expected a number, found #N/A (an Excel error value)", sheet="2015_PAPI", row=5,
                  column="D")),
    # --- facts
    Case("facts_empty_file", "facts", "an empty par_sipas_facts.csv", ("par_sipas",),
         csv_bytes(PAR, b""), lambda raw: facts.read_par_sipas(raw / PAR), Rejected(PAR, "the file is empty", row=1)),
    Case("facts_truncated", "facts", "par_sipas_facts.csv cut in the middle of row 100", ("par_sipas",),
         csv_edit(PAR, lambda t: "\n".join(bi.lines(t)[:99]) + "\n" + bi.lines(t)[99][:40]),
         lambda raw: facts.read_par_sipas(raw / PAR),
         Rejected(PAR, "the file looks truncated", row=100)),
    # --- a unit only exists in its years (validity.check, run by build_tables on every reader's rows)
    Case("validity_ha_tay_after_2008", "all", "PCI 2020: 'Đắk Nông' replaced by 'Hà Tây' (merged 1/8/2008)",
         bi.PCI_WEB_FILES, csv_edit(T2020, lambda t: bi.sub(t, "Đắk Nông,", "Hà Tây,")),
         lambda raw: validity.check([pci_web.read_tables(raw)], []),
         Rejected(T2020, "Hà Tây (28, province) existed before 2005 – 2008-07-31, not in 2020", row=61, column=SCORE)),
    Case("validity_unit_before_merger", "facts", "tthc_facts row 93 'Gia Lai (sau hợp nhất…)' dated 2024, not 2025",
         ("procedures",), csv_edit(TTHC, lambda t: bi.sub(t, "Gia Lai (sau hợp nhất với Bình Định),2025,",
                                                          "Gia Lai (sau hợp nhất với Bình Định),2024,")),
         lambda raw: validity.check([], [facts.read_tthc(raw / TTHC)]),
         Rejected(TTHC, "Gia Lai (52, unit of 2025) existed 2025-07-01 – today, not in 2024", row=93,
                  column="province_as_written")),
    # --- a fact's value must be in its own quote (quotes.check, run by build_tables on every fact)
    Case("quote_value_changed", "facts", "par_sipas_facts row 2: Bà Rịa-Vũng Tàu '76,53' written '76,35'",
         ("par_sipas",), csv_edit(PAR, lambda t: bi.sub(t, 'Bà Rịa-Vũng Tàu,,"76,53"', 'Bà Rịa-Vũng Tàu,,"76,35"')),
         lambda raw: quotes.check(facts.read_par_sipas(raw / PAR)[0]),
         Rejected(PAR, "the written value '76,35' is not in its quote", row=2, column="value_as_written")),
    Case("quote_rank_changed", "facts", "par_sipas_facts row 309: Long An 'hạng 7' written 'hạng 9'",
         ("par_sipas",), csv_edit(PAR, lambda t: bi.sub(t, "PAR,2023,Long An,,,hạng 7,", "PAR,2023,Long An,,,hạng 9,")),
         lambda raw: quotes.check(facts.read_par_sipas(raw / PAR)[0]),
         Rejected(PAR, "the written value 'hạng 9' is not in its quote", row=309, column="rank_as_written")),
    Case("quote_supplement_rank_changed", "facts", "supplement row 11: Hồ Chí Minh '33位' written '34位'",
         ("par_sipas",), csv_edit(SUPPLEMENT, lambda t: bi.sub(t, "86.97点,33位,", "86.97点,34位,")),
         lambda raw: quotes.check(par_foreign.read_supplement(raw / SUPPLEMENT)),
         Rejected(SUPPLEMENT, "the written value '34位' is not in its quote", row=11, column="rank_as_written")),
    # --- the new PAR/SIPAS files
    Case("supplement_unknown_province", "facts", "supplement row 2: collector's reading 'Quảng Ninh' → 'Quảng Xanh'",
         ("par_sipas",),
         csv_edit(SUPPLEMENT, lambda t: bi.sub(t, "クアンニン省,Quảng Ninh,", "クアンニン省,Quảng Xanh,")),
         lambda raw: par_foreign.read_supplement(raw / SUPPLEMENT),
         Rejected(SUPPLEMENT, "unknown province name 'Quảng Xanh'", row=2, column="province_as_written")),
    Case("zh2020_province_twice", "facts", "PAR 2020 zh table: Hải Phòng's row names Quảng Ninh again",
         ("par_sipas",), csv_edit(ZH2020, lambda t: bi.sub(t, "海防市,Hải Phòng,", "海防市,Quảng Ninh,")),
         lambda raw: par_foreign.read_zh_2020(raw / ZH2020),
         Rejected(ZH2020, "province 22 already on row 2", row=3, column="province_vi")),
    Case("zh2020_value_outside_scale", "facts", "PAR 2020 zh table: Quảng Ninh's index 91.04 written 191.04",
         ("par_sipas",), csv_edit(ZH2020, lambda t: bi.sub(t, ",91.04,", ",191.04,")),
         lambda raw: par_foreign.read_zh_2020(raw / ZH2020),
         Rejected(ZH2020, "'191.04' is not a score 0..100", row=2, column="par_index_as_printed")),
]

BY_ID = {c.id: c for c in CASES}
assert len(BY_ID) == len(CASES)


# ------------------------------------------------------------------------------ fixtures

@pytest.fixture(scope="module")
def good_out(tmp_path_factory, built) -> tuple[Path, dict[str, bytes]]:
    """A previously built out_dir (a copy of data/processed, built from data/raw by the
    session fixture) and its bytes."""
    out = tmp_path_factory.mktemp("good") / "processed"
    shutil.copytree(paths.PROCESSED, out, ignore=shutil.ignore_patterns(".tmp-*"))
    return out, bi.snapshot(out)


def make_raw(case: Case, tmp_path: Path) -> Path:
    raw = bi.new_raw(tmp_path, *case.files)
    case.make(raw)
    return raw


def assert_rejected(err: SourceError, exp: Rejected) -> None:
    assert isinstance(err, SourceError), err
    assert err.file.endswith(exp.file), (err.file, exp.file)
    assert (err.sheet, err.row, err.column) == (exp.sheet, exp.row, exp.column), str(err)
    assert exp.says in str(err), str(err)
    assert Path(exp.file).name in str(err)


# ------------------------------------------------------------------------------ tests

@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case, tmp_path, good_out, request):
    raw = make_raw(case, tmp_path)
    exp = case.expect
    if isinstance(exp, Rejected):
        with pytest.raises(SourceError) as e:
            case.read(raw)
        assert_rejected(e.value, exp)
        assert_build_refused(case, raw, good_out, lambda err: assert_rejected(err, exp))
    elif isinstance(exp, RejectedAtBuild):
        case.read(raw)                                           # the reader does not check scales

        def check(err):
            assert isinstance(err, ValidationError)
            problems = str(err).splitlines()[1:]
            assert len(problems) == 1, str(err)                 # this value, and nothing else
            for phrase in exp.says:
                assert phrase in problems[0], str(err)
        assert_build_refused(case, raw, good_out, check)
    else:
        HANDLED[exp](case.read(raw), raw, request)


def assert_build_refused(case: Case, raw: Path, good_out, check) -> None:
    """The full build on the bad copy fails with the same error and leaves out_dir untouched."""
    out, before = good_out
    bi.prerequisites(raw, case.reader)
    bi.seal(raw)
    with pytest.raises((SourceError, ValidationError)) as e:
        build_data(raw, out, force=True, log=lambda *_: None)
    check(e.value)
    assert bi.snapshot(out) == before


# ------------------------------------------------------------------------------ handled cases

def _header_moved(result, raw, request):
    handled_header_moved(result, raw, request.getfixturevalue("wb19_copy"))


def _summary_row(result, raw, request):
    handled_summary_row(result, raw, request.getfixturevalue("wb19_copy"))


def _reordered(result, raw, request):
    real = pci_web.read_tables(paths.RAW)
    cols = ["year", "province_code", "indicator", "value", "published_rank"]
    pd.testing.assert_frame_equal(result[cols], real[cols])
    dn = result[(result.year == 2020) & (result.province_code == "67")].iloc[0]
    assert (dn.value, dn.published_rank) == (61.96, 60)


def _median_row(result, raw, request):
    real = pci_web.read_tables(paths.RAW)
    cols = ["year", "province_code", "indicator", "value", "published_rank"]
    pd.testing.assert_frame_equal(result[cols], real[cols])
    assert (result[result.year == 2020].province_code.nunique()) == 63
    dn = result[(result.year == 2020) & (result.province_code == "67")].iloc[0]
    assert dn.source_locator == "row 62, column Điểm số PCI"    # one row lower than in the real file


def _papi_bom(result, raw, request):
    real = papi.read_2023_excerpt(paths.RAW / PAPI_EXCERPT)
    cols = ["year", "province_code", "indicator", "value", "source_locator"]
    pd.testing.assert_frame_equal(result[cols], real[cols])
    hn = result[(result.province_code == "01") & (result.indicator == "d6_1_public_health")].iloc[0]
    assert hn.value == 1.7029                                   # Ha Noi 6.1, 2023 report Table 3.6


HANDLED = {"header_moved": _header_moved, "summary_row": _summary_row, "reordered": _reordered,
           "median_row": _median_row, "papi_bom": _papi_bom}
HANDLED["same_as_real"] = lambda result, raw, request: same_as_real_tables(result, raw)


def test_every_case_has_an_outcome():
    for c in CASES:
        assert isinstance(c.expect, (Rejected, RejectedAtBuild)) or c.expect in HANDLED, c.id
    assert len(CASES) >= 25
