"""Province registry: official codes, names, regions, Hà Tây (to 2008) and the 2025 merger.

Backed by data files, not literals:

* ``data/raw/admin_units/provinces_63.csv`` – the 63 provinces 2008–2025 (as published);
* ``data/raw/admin_units/merger_2025.csv`` – the 63 → 34 map (as published);
* ``data/reference/provinces_historical.csv`` – Hà Tây (merged into Hà Nội, 1 August 2008);
* ``data/reference/regions_6.csv`` – English names of the 6 socio-economic regions;
* ``data/reference/province_aliases.csv`` – the crosswalk of every other spelling met in ``data/raw``.

Names are matched exactly on a normalised key (NFC, lower case, no diacritics, đ→d, no
punctuation or spaces, administrative prefixes removed). There is no fuzzy matching: an
unknown name raises :class:`UnknownProvinceError` listing the closest known names.
"""
from __future__ import annotations

import difflib
import functools
import re

import pandas as pd

from . import paths
from .errors import UnknownProvinceError
from .text import nfc, strip_diacritics  # noqa: F401 – also offered here (provinces.nfc)

MERGER_EVE = "2025-06-30"     # last day of the 63 provinces
UNITS_2025_FROM = "2025-07-01"  # first day of the 34 units (Nghị quyết 202/2025/QH15)

_PREFIXES = ("thanh pho truc thuoc trung uong ", "thanh pho ", "tinh ", "tp. ", "tp.", "tp ", "t.p. ", "t.p ")
_SUFFIXES = (" province", " city", " (cu)", "(cu)")


def name_key(name: str) -> str:
    """The matching key of a province name: 'TP. Hồ Chí Minh' -> 'hochiminh'."""
    s = strip_diacritics(nfc(name)).lower()
    s = re.sub(r"\s*([.\-–—])\s*", r"\1 ", s).strip()
    changed = True
    while changed:
        changed = False
        for p in _PREFIXES:
            if s.startswith(p) and len(s) > len(p):
                s, changed = s[len(p):].strip(), True
        for suf in _SUFFIXES:
            if s.endswith(suf) and len(s) > len(suf):
                s, changed = s[: -len(suf)].strip(), True
    return re.sub(r"[\W_]+", "", s)


@functools.cache
def provinces() -> pd.DataFrame:
    """All provinces 2005–2025 before the merger: the 63 plus Hà Tây.

    Columns: code (str, "01"), name, full_name, name_en, type, region_6, region_6_en,
    region_8, valid_from, valid_to, unit_2025_code, unit_2025_name, merged_2025.
    """
    raw = pd.read_csv(paths.RAW / "admin_units" / "provinces_63.csv", dtype=str, keep_default_na=False)
    hist = pd.read_csv(paths.REFERENCE / "provinces_historical.csv", dtype=str, keep_default_na=False)
    regions = pd.read_csv(paths.REFERENCE / "regions_6.csv", dtype=str)
    merger = merger_2025()
    df = pd.DataFrame({
        "code": raw["code"], "name": raw["name"], "full_name": raw["full_name"],
        "name_en": raw["name_en"], "type": raw["type_level"],
        "region_6": raw["region_6_socioeconomic"], "region_8": raw["region_8_geographic_name"],
        "valid_from": "", "valid_to": MERGER_EVE,
    })
    h = pd.DataFrame({
        "code": hist["code"], "name": hist["name"], "full_name": hist["full_name"],
        "name_en": hist["name_en"], "type": hist["type_level"],
        "region_6": hist["region_6_socioeconomic"], "region_8": "",
        "valid_from": hist["valid_from"], "valid_to": hist["valid_to"],
    })
    df = pd.concat([df, h], ignore_index=True)
    for col in ("name", "full_name", "region_6", "region_8"):
        df[col] = df[col].map(nfc)
    df = df.merge(regions.rename(columns={"region_6_socioeconomic": "region_6"}), on="region_6", how="left")
    m = merger.set_index("old_code")
    df["unit_2025_code"] = df["code"].map(m["unit_code"])
    df["unit_2025_name"] = df["code"].map(m["unit_name"])
    df["merged_2025"] = df["code"].map(m["merged"])
    bad = df[df["region_6_en"].isna()]
    if len(bad):
        raise ValueError(f"region without an English name in data/reference/regions_6.csv: {sorted(set(bad.region_6))}")
    return df.sort_values("code", kind="stable").reset_index(drop=True)


def provinces_63() -> pd.DataFrame:
    """The 63 provinces of 2008–2025 (Hà Tây excluded)."""
    df = provinces()
    return df[df["valid_to"] == MERGER_EVE].reset_index(drop=True)


@functools.cache
def merger_2025() -> pd.DataFrame:
    """The 63 → 34 map: old_code, old_name, unit_code, unit_name, merged (bool), seat."""
    raw = pd.read_csv(paths.RAW / "admin_units" / "merger_2025.csv", dtype=str, keep_default_na=False)
    df = pd.DataFrame({
        "old_code": raw["old_province_code"].str.zfill(2),
        "old_name": raw["old_province"].map(nfc),
        "unit_code": raw["new_unit_code_QD19_2025"].str.zfill(2),
        "unit_name": raw["new_unit"].map(nfc),
        "merged": raw["merged"].eq("yes"),
        "seat": raw["kept_name_or_seat"].map(nfc),
        "source_url": raw["source_url"],
    })
    return df.sort_values(["unit_code", "old_code"]).reset_index(drop=True)


def units_2025() -> pd.DataFrame:
    """The 34 provincial units from 1 July 2025: unit_code, unit_name, name (short), n_constituents,
    valid_from (2025-07-01), valid_to (blank = still valid)."""
    m = merger_2025()
    g = m.groupby(["unit_code", "unit_name"], as_index=False).agg(n_constituents=("old_code", "size"))
    g["name"] = g["unit_name"].map(_short_name)
    g["valid_from"], g["valid_to"] = UNITS_2025_FROM, ""
    return g.sort_values("unit_code").reset_index(drop=True)


@functools.cache
def validity() -> pd.DataFrame:
    """THE validity dates of every unit: system ("63" = provinces to 30 June 2025 incl. Hà Tây to
    31 July 2008; "34" = units from 1 July 2025), code, name, valid_from, valid_to (Timestamps; NaT = open)."""
    old = provinces()[["code", "name", "valid_from", "valid_to"]].assign(system="63")
    new = units_2025()[["unit_code", "name", "valid_from", "valid_to"]].rename(columns={"unit_code": "code"})
    df = pd.concat([old, new.assign(system="34")], ignore_index=True)
    for col in ("valid_from", "valid_to"):
        df[col] = pd.to_datetime(df[col].replace("", None))
    return df[["system", "code", "name", "valid_from", "valid_to"]]


def _short_name(full: str) -> str:
    return re.sub(r"^(Thành phố|Tỉnh)\s+", "", full)


@functools.cache
def _lookup() -> tuple[dict[str, str], dict[str, str]]:
    """key -> code for pre-2025 provinces, and key -> display name (for suggestions)."""
    keys: dict[str, str] = {}
    display: dict[str, str] = {}

    def add(name: str, code: str, origin: str) -> None:
        k = name_key(name)
        if not k:
            return
        if k in keys and keys[k] != code:
            raise ValueError(f"{origin}: spelling {name!r} maps to {code} but already to {keys[k]}")
        keys[k] = code
        display.setdefault(k, nfc(name))

    for row in provinces().itertuples():
        for n in (row.name, row.full_name, row.name_en):
            add(n, row.code, "registry")
    aliases = pd.read_csv(paths.REFERENCE / "province_aliases.csv", dtype=str, keep_default_na=False)
    for row in aliases.itertuples():
        add(row.alias, row.code.zfill(2), "data/reference/province_aliases.csv")
    return keys, display


def to_code(name) -> str:
    """Official code (2-character string) of a province as it was before the 2025 merger.

    Accepts a name or a code: "Đắk Nông", "Dak Nong", "TP.HCM", "67", 67, "1" (→ "01").

    >>> to_code("Đắk Nông")
    '67'

    Raises UnknownProvinceError (with the closest known names) for anything not in the
    registry or the crosswalk; summary rows like "Median" are never matched.
    """
    if name is None or isinstance(name, bool) or (isinstance(name, float) and name != name):
        raise UnknownProvinceError(str(name), [])
    if isinstance(name, int) or (isinstance(name, str) and re.fullmatch(r"\s*\d{1,2}\s*", name)):
        code = str(name).strip().zfill(2)
        if code in set(provinces()["code"]):
            return code
        raise UnknownProvinceError(str(name), [])
    keys, display = _lookup()
    k = name_key(name)
    if k in keys:
        return keys[k]
    close = difflib.get_close_matches(k, list(keys), n=5, cutoff=0.6)
    raise UnknownProvinceError(nfc(name), [display[c] for c in close])


def is_province(name: str) -> bool:
    """True when `name` resolves through the crosswalk."""
    try:
        to_code(name)
        return True
    except UnknownProvinceError:
        return False


@functools.cache
def _unit_lookup() -> dict[str, str]:
    keys: dict[str, str] = {}
    for row in units_2025().itertuples():
        for n in (row.unit_name, row.name):
            keys[name_key(n)] = row.unit_code
    return keys


def to_unit_code(name: str) -> str:
    """Code of one of the 34 units of 2025 from its name ('Tỉnh Lâm Đồng' -> '68')."""
    keys = _unit_lookup()
    k = name_key(name)
    if k in keys:
        return keys[k]
    close = difflib.get_close_matches(k, list(keys), n=5, cutoff=0.6)
    names = dict(zip(units_2025()["unit_code"], units_2025()["name"]))
    raise UnknownProvinceError(nfc(name), [names[keys[c]] for c in close])


def unit_2025_of(code: str) -> str:
    """The 2025 unit a pre-2025 province belongs to ('67' Đắk Nông -> '68' Lâm Đồng)."""
    m = merger_2025().set_index("old_code")["unit_code"]
    if code == "28":  # Hà Tây was part of Hà Nội from 2008
        return "01"
    if code not in m.index:
        raise UnknownProvinceError(code, [])
    return m[code]


def name_of(code: str) -> str:
    """Short Vietnamese name of a pre-2025 province code ('67' -> 'Đắk Nông')."""
    s = provinces().set_index("code")["name"]
    if code not in s.index:
        raise UnknownProvinceError(code, [])
    return s[code]


def name_en_of(code: str) -> str:
    """English name without diacritics ('67' -> 'Dak Nong')."""
    return provinces().set_index("code").loc[code, "name_en"]


def region_of(code: str) -> str:
    """Socio-economic region (6 regions) of a province code."""
    return provinces().set_index("code").loc[code, "region_6"]


def units_in(year: int) -> int:
    """How many provinces an edition for `year` ranks: 64 up to 2008 (with Hà Tây, merged into Hà Nội on
    1 August 2008; the PCI 2008 workbook still lists it), 63 to 2024, 34 for editions after the 1 July 2025 merger."""
    return 64 if year <= 2008 else (63 if year <= 2024 else 34)
