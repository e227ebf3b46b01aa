"""Province registry: codes, spellings, Hà Tây, the 2025 merger — against real files."""
import unicodedata

import pytest

from cchc_analysis import provinces as P
from cchc_analysis.errors import UnknownProvinceError


@pytest.mark.parametrize("name,code", [
    ("Đắk Nông", "67"), ("Dak Nong", "67"), ("Đăk Nông", "67"),
    ("TP.HCM", "79"), ("TP. Hồ Chí Minh", "79"), ("HCMC", "79"), ("Ho Chi Minh City", "79"),
    ("Thành phố Hồ Chí Minh", "79"),
    ("TT-Huế", "46"), ("TT- Huế", "46"), ("Thừa Thiên Huế", "46"), ("Thua Thien - Hue", "46"), ("Huế", "46"),
    ("BRVT", "77"), ("Bà Rịa Vũng Tàu", "77"), ("Ba Ria - Vung Tau", "77"),
    ("Hoà Bình", "17"), ("Hòa Bình", "17"), ("Hoa Binh", "17"),
    ("Đắk Lắk", "66"), ("Đăk Lăk", "66"), ("Dak Lak", "66"),
    ("Hà  Nội", "01"), ("  hà nội ", "01"), ("Tỉnh Quảng Ninh", "22"), ("Thành phố Cần Thơ", "92"),
    ("Hà Tây", "28"), ("Hau Giang", "93"), ("Khánh Hoà", "56"), ("Thanh Hoá", "38"),
])
def test_to_code_spellings(name, code):
    assert P.to_code(name) == code


def test_to_code_nfd_input():
    assert P.to_code(unicodedata.normalize("NFD", "Đắk Nông")) == "67"
    assert P.to_code(unicodedata.normalize("NFD", "Hoà Bình")) == "17"


@pytest.mark.parametrize("bad", ["Median", "Min", "Max", "999 Highest", "Trung bình", "", "Đắk"])
def test_unknown_names_raise_with_suggestions(bad):
    with pytest.raises(UnknownProvinceError) as e:
        P.to_code(bad)
    assert "closest known names" in str(e.value)


def test_unknown_name_suggests_the_right_province():
    with pytest.raises(UnknownProvinceError) as e:
        P.to_code("Dak Nongg")
    assert "Đắk Nông" in e.value.suggestions


def test_registry_has_63_plus_ha_tay_with_string_codes():
    df = P.provinces()
    assert len(P.provinces_63()) == 63
    assert len(df) == 64
    assert df["code"].map(lambda c: isinstance(c, str) and len(c) == 2).all()
    assert df["code"].is_unique
    assert P.name_of("67") == "Đắk Nông"
    assert P.name_en_of("67") == "Dak Nong"
    assert P.region_of("67") == "Tây Nguyên"
    ht = df.set_index("code").loc["28"]
    assert ht["name"] == "Hà Tây" and ht["valid_to"] == "2008-07-31"
    assert P.unit_2025_of("28") == "01"


def test_six_regions_counts_match_published_counts():
    counts = P.provinces_63()["region_6"].value_counts().to_dict()
    assert counts == {"Trung du và miền núi phía Bắc": 14, "Bắc Trung Bộ và Duyên hải miền Trung": 14,
                      "Đồng bằng sông Cửu Long": 13, "Đồng bằng sông Hồng": 11, "Đông Nam Bộ": 6,
                      "Tây Nguyên": 5}


def test_merger_2025():
    units = P.units_2025()
    assert len(units) == 34
    assert P.unit_2025_of("67") == "68" and P.unit_2025_of("60") == "68" and P.unit_2025_of("68") == "68"
    m = P.merger_2025()
    assert sorted(m[m.unit_code == "68"].old_code) == ["60", "67", "68"]
    assert (units["n_constituents"] == 1).sum() == 11  # 11 units unchanged
    assert P.to_unit_code("Tỉnh Lâm Đồng") == "68"
    assert P.to_unit_code("Lào Cai") == "15" and P.to_code("Lào Cai") == "10"


def test_all_names_are_nfc():
    df = P.provinces()
    for col in ("name", "full_name", "region_6"):
        assert all(unicodedata.is_normalized("NFC", v) for v in df[col])


def test_cross_check_with_vietnamadminunits():
    """An independent implementation agrees on every code and on the 2025 conversion."""
    pytest.importorskip("vietnamadminunits")
    from vietnamadminunits import ParseMode, parse_address, convert_address
    disagree = []
    for row in P.provinces_63().itertuples():
        legacy = parse_address(row.full_name, mode=ParseMode.LEGACY)
        if legacy.province_code != row.code:
            disagree.append((row.code, row.name, "legacy", legacy.province_code))
        new = convert_address(row.full_name)
        if new.province_code != row.unit_2025_code:
            disagree.append((row.code, row.name, "2025", new.province_code, row.unit_2025_code))
    assert disagree == []


NAME_COLUMNS = {  # raw CSV → its province-name column(s)
    "admin_units/provinces_63.csv": ["name", "full_name", "name_en"],
    "admin_units/merger_2025.csv": ["old_province"],
    "pci/pci_2020_scores.csv": ["Tỉnh"],
    "pci/pci_2021_scores.csv": ["Tỉnh"],
    "pci/pci_2021_subindices.csv": ["Tỉnh"],
    "pci/pci_2022_scores.csv": ["Tỉnh, Thành phố"],
    "pci/pci_news_mentions_2020_2024.csv": ["province_as_printed"],
    "pci/pci_province_profiles_2020_2024.csv": ["province_heading_on_page"],
    "papi/papi_2020_2024_dimensions.csv": ["province_vi"],
    "papi/papi_2018_2019_groups_by_dimension.csv": ["province_as_written"],
    "papi/papi_2023_report_table3_6_excerpt.csv": ["Province"],
}


@pytest.mark.parametrize("rel,cols", sorted(NAME_COLUMNS.items()))
def test_every_province_spelling_in_raw_csvs_resolves(rel, cols):
    """Workbook names and facts names are resolved by their readers (which raise on unknown names);
    these are the plain province columns of the raw CSVs."""
    import pandas as pd
    from cchc_analysis import paths
    df = pd.read_csv(paths.RAW / rel, dtype=str, keep_default_na=False)
    names = sorted({n for c in cols for n in df[c] if n.strip()})
    assert names
    unresolved = [n for n in names if not P.is_province(n.rstrip("*").strip())]
    assert unresolved == []


def test_processed_tables_are_the_registry(built):
    """Reports read the registry's frames (cached once per process) or the processed tables the build wrote from
    them: both are the same rows, so a page never disagrees with the data it links to."""
    from cchc_analysis.data import load

    for name, frame in (("provinces", P.provinces()), ("merger_2025", P.merger_2025())):
        got = load(name)
        assert list(got.columns) == list(frame.columns) and len(got) == len(frame), name
        for col in frame.columns:
            assert got[col].astype(str).tolist() == frame[col].astype(str).tolist(), (name, col)
