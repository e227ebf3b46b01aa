"""Province geometry: the 63 provinces of 2008–mid-2025 and the 34 units of 1 July 2025.

Source: ``data/raw/geo/geoBoundaries-VNM-ADM1_simplified.geojson`` (geoBoundaries, public domain, credit
required; see ``data/raw/geo/SOURCES.md``). Its features carry ISO 3166-2 codes (``shapeISO``), which the
committed crosswalk ``data/reference/geo_iso_crosswalk.csv`` maps to the official 2-digit codes. The 34 units
are derived by dissolving the 63 with the project's merger table (:func:`provinces.merger_2025`).

>>> g = geometry("34")          # GeoDataFrame: code, name, geometry (EPSG:4326)
"""
from __future__ import annotations

import functools
from typing import Literal

import pandas as pd

from . import paths, provinces
from .errors import CchcError, SourceError, UnknownProvinceError

RAW_FILE = paths.RAW / "geo" / "geoBoundaries-VNM-ADM1_simplified.geojson"
CROSSWALK = paths.REFERENCE / "geo_iso_crosswalk.csv"
CRS = "EPSG:4326"
#: metric CRS (WGS 84 / UTM 48N) for areas, gap closing and drawing
PROJECTED_CRS = "EPSG:32648"
#: gaps narrower than twice this (metres) inside a 2025 unit are closed after the dissolve
GAP_CLOSING_M = 25.0
#: holes of a dissolved unit smaller than this (m²) that no other province fills are gaps, filled
MAX_GAP_M2 = 1_000_000.0
CROSSWALK_COLUMNS = ["shapeISO", "shapeName", "code", "name", "grouped_features"]

Units = Literal["63", "34"]


class GeometryError(CchcError, ValueError):
    """The boundary file, the crosswalk and the province registry do not fit together."""


def _rel(p) -> str:
    return paths.raw_relpath(p)


@functools.lru_cache(maxsize=1)
def _features():
    import geopandas as gpd

    try:
        g = gpd.read_file(RAW_FILE, engine="pyogrio")
    except Exception as e:  # noqa: BLE001 - any reader failure is reported with the file name
        raise SourceError(_rel(RAW_FILE), f"cannot read the boundary file: {e}") from e
    for col in ("shapeName", "shapeISO"):
        if col not in g.columns:
            raise SourceError(_rel(RAW_FILE), f"feature property {col!r} missing", column=col)
    for i, (iso, name) in enumerate(zip(g["shapeISO"], g["shapeName"]), start=1):
        if not isinstance(iso, str) or not iso.startswith("VN-"):
            raise SourceError(_rel(RAW_FILE), f"feature {i}: shapeISO {iso!r} is not an ISO code 'VN-..'",
                              row=i, column="shapeISO")
        if not isinstance(name, str) or not name.strip():
            raise SourceError(_rel(RAW_FILE), f"feature {i}: empty shapeName", row=i, column="shapeName")
    if g.crs is None:
        raise SourceError(_rel(RAW_FILE), "no coordinate reference system")
    g = g.to_crs(CRS) if g.crs.to_epsg() != 4326 else g
    g["shapeName"] = g["shapeName"].map(provinces.nfc)
    invalid = [i for i, ok in enumerate(g.is_valid, start=1) if not ok]
    if invalid:
        raise SourceError(_rel(RAW_FILE), f"invalid polygons in features {invalid}", column="geometry")
    return g


def features():
    """The boundary file's features as read (64: Côn Đảo is its own feature), names NFC, EPSG:4326."""
    return _features().copy()


def build_crosswalk() -> pd.DataFrame:
    """shapeISO → official code, by exact name matching through :func:`provinces.to_code`.

    One row per ISO code. A feature whose name is not a province (Côn Đảo) is grouped with the province
    carrying the same shapeISO and listed in ``grouped_features``. Raises when an ISO code resolves to no
    province or to two, or when two ISO codes resolve to one province.
    """
    g = _features()
    rows = []
    for iso, d in g.groupby("shapeISO", sort=True):
        resolved, unresolved = {}, []
        for name in d["shapeName"]:
            try:
                resolved[provinces.to_code(name)] = name
            except UnknownProvinceError:
                unresolved.append(name)
        if len(resolved) != 1:
            raise GeometryError(f"{_rel(RAW_FILE)}: shapeISO {iso} has features {list(d['shapeName'])}, which "
                                f"resolve to {len(resolved)} provinces ({sorted(resolved)}); expected exactly one")
        (code, name), = resolved.items()
        rows.append({"shapeISO": iso, "shapeName": name, "code": code, "name": provinces.name_of(code),
                     "grouped_features": "; ".join(unresolved)})
    cw = pd.DataFrame(rows, columns=CROSSWALK_COLUMNS).sort_values("code").reset_index(drop=True)
    dup = cw[cw["code"].duplicated(keep=False)]
    if len(dup):
        raise GeometryError(f"{_rel(RAW_FILE)}: several ISO codes resolve to one province: "
                            f"{dup[['shapeISO', 'code']].to_dict('records')}")
    return cw


def write_crosswalk() -> None:
    """Rebuild data/reference/geo_iso_crosswalk.csv from the boundary file (then review and commit it)."""
    from .atomic import atomic_write_text
    atomic_write_text(CROSSWALK, build_crosswalk().to_csv(index=False, lineterminator="\n"))


@functools.lru_cache(maxsize=1)
def crosswalk() -> pd.DataFrame:
    """The committed crosswalk (shapeISO, shapeName, code, name, grouped_features), checked: 63 ↔ 63."""
    cw = pd.read_csv(CROSSWALK, dtype=str, keep_default_na=False)
    missing = [c for c in CROSSWALK_COLUMNS if c not in cw.columns]
    if missing:
        raise SourceError(_rel(CROSSWALK), f"columns {missing} missing", column=missing[0])
    known = set(provinces.provinces_63()["code"])
    for i, row in enumerate(cw.itertuples(), start=2):
        if row.code not in known:
            raise SourceError(_rel(CROSSWALK), f"code {row.code!r} is not one of the 63 provinces", row=i,
                              column="code")
    for col in ("shapeISO", "code"):
        dup = cw[cw[col].duplicated()]
        if len(dup):
            raise SourceError(_rel(CROSSWALK), f"{col} {dup[col].iloc[0]!r} appears twice",
                              row=int(dup.index[0]) + 2, column=col)
    if set(cw["code"]) != known:
        raise SourceError(_rel(CROSSWALK), f"provinces without an ISO code: {sorted(known - set(cw['code']))}",
                          column="code")
    return cw


@functools.lru_cache(maxsize=2)
def _geometry(units: str):
    import geopandas as gpd
    import shapely

    g = _features()
    iso = crosswalk().set_index("shapeISO")["code"]
    unknown = sorted(set(g["shapeISO"]) - set(iso.index))
    if unknown:
        rows = [i for i, v in enumerate(g["shapeISO"], start=1) if v in unknown]
        raise SourceError(_rel(RAW_FILE), f"shapeISO {unknown} not in {_rel(CROSSWALK)} (row = feature number "
                                          f"{rows[0]} of the file)", row=rows[0], column="shapeISO")
    g = g.assign(code=g["shapeISO"].map(iso))
    p63 = g.dissolve(by="code", as_index=False)[["code", "geometry"]]
    p63.insert(1, "name", p63["code"].map(provinces.name_of))
    p63 = gpd.GeoDataFrame(p63.sort_values("code").reset_index(drop=True), geometry="geometry", crs=CRS)
    if units == "63":
        return p63
    m = provinces.merger_2025()
    counts = m["old_code"].value_counts()
    twice = sorted(counts[counts > 1].index)
    missing = sorted(set(p63["code"]) - set(m["old_code"]))
    extra = sorted(set(m["old_code"]) - set(p63["code"]))
    if twice or missing or extra:
        raise GeometryError(f"merger table data/raw/admin_units/merger_2025.csv does not cover the 63 polygons "
                            f"once each: in several units {twice}, in no unit {missing}, without a polygon {extra}")
    proj = p63.to_crs(PROJECTED_CRS).set_index("code").geometry
    tree = shapely.STRtree(proj.values)
    rows = []
    for code, d in m.groupby("unit_code", sort=True):
        members = list(d["old_code"])
        union = shapely.union_all(proj.loc[members].values)
        closed = union.buffer(GAP_CLOSING_M, join_style="mitre").buffer(-GAP_CLOSING_M, join_style="mitre")
        others = [i for i, c in enumerate(proj.index) if c not in members]
        rows.append({"code": code, "geometry": _fill_gaps(shapely.union(union, closed), tree, others)})
    u = gpd.GeoDataFrame(rows, geometry="geometry", crs=PROJECTED_CRS).to_crs(CRS)
    u["geometry"] = shapely.make_valid(u.geometry.values, method="structure", keep_collapsed=False)
    bad = [c for c, ok, t in zip(u["code"], u.is_valid, u.geom_type) if not ok or t not in ("Polygon", "MultiPolygon")]
    if bad:
        raise GeometryError(f"dissolved 2025 units {bad} are not valid polygons")
    names = provinces.units_2025().set_index("unit_code")["name"]
    u.insert(1, "name", u["code"].map(names))
    if len(u) != 34 or u["name"].isna().any():
        raise GeometryError(f"expected 34 units of 2025 with names, got {len(u)}: {list(u['code'])}")
    return u.sort_values("code").reset_index(drop=True)


def _fill_gaps(geom, tree, others: list[int]):
    """Fill holes of a dissolved unit that are hairline gaps between its members: smaller than
    MAX_GAP_M2 and overlapping no other province (none of the 63 polygons has a hole of its own)."""
    import shapely

    def fix(poly):
        keep = []
        for ring in poly.interiors:
            hole = shapely.Polygon(ring)
            near = [i for i in tree.query(hole) if i in others]
            if hole.area >= MAX_GAP_M2 or any(tree.geometries[i].intersection(hole).area > 0 for i in near):
                keep.append(ring)
        return shapely.Polygon(poly.exterior, keep)

    parts = [fix(p) for p in getattr(geom, "geoms", [geom])]
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def geometry(units: Units = "63"):
    """Province polygons keyed by official code: GeoDataFrame with ``code``, ``name``, ``geometry`` (EPSG:4326).

    ``units="63"``: the 63 provinces (boundaries of 2008; Côn Đảo inside Bà Rịa – Vũng Tàu, Hoàng Sa inside
    Đà Nẵng, Trường Sa inside Khánh Hòa). ``units="34"``: the units of 1 July 2025, each the dissolve of its
    old provinces, hairline gaps closed. Cached; each call returns a copy.
    """
    return _geometry(check_units(units)).copy()


def check_units(units) -> str:
    """'63' or '34' (an int is accepted and turned into its string); anything else is an error."""
    units = str(units)
    if units not in ("63", "34"):
        raise ValueError(f"units must be '63' or '34', not {units!r}")
    return units

