"""Province geometry (geo.py) and maps (maps.py): real boundaries, real scores, hand-made series."""
import io
import time
import unicodedata

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import shapely  # noqa: E402

from cchc_analysis import geo, maps, paths, provinces  # noqa: E402


@pytest.fixture(scope="module")
def g63():
    return geo.geometry("63")


@pytest.fixture(scope="module")
def g34():
    return geo.geometry("34")


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]


def _collection(fig, gid):
    return [c for ax in fig.axes for c in ax.collections if c.get_gid() == gid]


def _save_without_warnings(fig) -> int:
    import warnings
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.savefig(buf, format="png")
    return len(buf.getvalue())


def test_raw_geo_files_are_byte_identical_to_the_published_ones():
    from cchc_analysis.manifest import load_manifest
    entries = {e["path"]: e for e in load_manifest()["files"]}
    e = entries["geo/geoBoundaries-VNM-ADM1_simplified.geojson"]
    assert e["sha256"] == "1a22718eb0ebc1d665083a3dac77e461e852d9595c19a43f58f60ef414bed1fb"
    assert e["bytes"] == 536_756
    assert "geoBoundaries" in e["publisher"] and "Public Domain" in e["licence"]


def test_the_file_has_64_features_and_63_iso_codes():
    f = geo.features()
    assert len(f) == 64 and f["shapeISO"].nunique() == 63
    assert sorted(f.loc[f.shapeISO == "VN-43", "shapeName"]) == ["Bà Rịa - Vũng Tàu", "Côn Đảo"]
    assert shapely.get_num_coordinates(f.geometry.values).sum() == 11_662


def test_committed_crosswalk_is_63_to_63_and_matches_a_fresh_build():
    cw = pd.read_csv(paths.REFERENCE / "geo_iso_crosswalk.csv", dtype=str, keep_default_na=False)
    assert len(cw) == 63 and cw["shapeISO"].nunique() == 63 and cw["code"].nunique() == 63
    assert set(cw["code"]) == set(provinces.provinces_63()["code"])
    assert all(len(c) == 2 and c.isdigit() for c in cw["code"])
    row = cw.set_index("shapeISO")
    assert row.loc["VN-43", "code"] == "77" and row.loc["VN-43", "grouped_features"] == "Côn Đảo"
    assert row.loc["VN-SG", "code"] == "79" and row.loc["VN-SG", "shapeName"] == "TP. Hồ Chí Minh"
    assert row.loc["VN-72", "code"] == "67" and row.loc["VN-72", "name"] == "Đắk Nông"
    assert row.loc["VN-HN", "code"] == "01" and row.loc["VN-01", "code"] == "12"  # VN-01 is Lai Châu, not Hà Nội
    assert (cw["grouped_features"] != "").sum() == 1
    pd.testing.assert_frame_equal(cw, geo.build_crosswalk())


def test_geometry_63(g63):
    assert list(g63.columns) == ["code", "name", "geometry"] and g63.crs.to_epsg() == 4326
    assert len(g63) == 63 and g63["code"].is_unique
    assert all(isinstance(c, str) and len(c) == 2 for c in g63["code"])
    assert set(g63["code"]) == set(provinces.provinces_63()["code"])
    assert g63.is_valid.all()
    named = g63.set_index("code")["name"]
    assert named["67"] == "Đắk Nông" and named["79"] == "Hồ Chí Minh"
    # Côn Đảo (VN-43's second feature, about 8.6 N 106.6 E) is inside Bà Rịa – Vũng Tàu
    brvt = g63.set_index("code").geometry["77"]
    assert brvt.contains(shapely.Point(106.61, 8.68)) or brvt.distance(shapely.Point(106.61, 8.68)) < 0.02
    # Hoàng Sa inside Đà Nẵng, Trường Sa inside Khánh Hòa (parts east of 110.5 E)
    for code in ("48", "56"):
        far = [p for p in g63.set_index("code").geometry[code].geoms if p.centroid.x > 110.5]
        assert len(far) >= 5, code


def test_geometry_returns_copies(g63):
    a = geo.geometry("63")
    a.loc[0, "name"] = "changed"
    assert geo.geometry("63").loc[0, "name"] != "changed"
    with pytest.raises(ValueError, match="units"):
        geo.geometry("64")


def test_geometry_34_units_and_members(g34, g63):
    units = provinces.units_2025()
    assert len(g34) == 34 and list(g34["code"]) == list(units["unit_code"])
    assert all(isinstance(c, str) and len(c) == 2 for c in g34["code"])
    assert g34.is_valid.all() and g34.crs.to_epsg() == 4326
    assert g34.set_index("code")["name"]["68"] == "Lâm Đồng"
    m = provinces.merger_2025()
    assert m["old_code"].value_counts().max() == 1 and set(m["old_code"]) == set(g63["code"])
    # every old province lies in exactly one unit: its interior point is covered by one unit polygon only
    tree = shapely.STRtree(g34.geometry.values)
    for code, pt in zip(g63["code"], g63.geometry.representative_point()):
        hits = [g34["code"][i] for i in tree.query(pt, predicate="intersects")]
        assert hits == [provinces.unit_2025_of(code)], code


def test_unit_area_is_the_sum_of_its_members(g34, g63):
    a63 = g63.to_crs(geo.PROJECTED_CRS).set_index("code").area
    a34 = g34.to_crs(geo.PROJECTED_CRS).set_index("code").area
    members = provinces.merger_2025().groupby("unit_code")["old_code"].apply(list)
    for unit, olds in members.items():
        total = a63.loc[olds].sum()
        assert abs(a34[unit] - total) / total < 1e-4, unit
    # Lâm Đồng 2025 = Lâm Đồng + Đắk Nông + Bình Thuận, about 24,200 km² in this simplified file
    assert 23_000e6 < a34["68"] < 25_500e6


def test_no_gaps_between_the_34_units(g34, g63):
    u63 = shapely.union_all(g63.to_crs(geo.PROJECTED_CRS).geometry.values)
    u34 = shapely.union_all(g34.to_crs(geo.PROJECTED_CRS).geometry.values)
    assert u34.symmetric_difference(u63).area / u63.area < 1e-5
    assert u63.difference(u34).area < 1.0  # nothing of the 63 is lost
    holes34 = sum(len(p.interiors) for p in u34.geoms)
    holes63 = sum(len(p.interiors) for p in u63.geoms)
    assert holes63 == 2 and holes34 == 1  # the Bến Tre / Vĩnh Long sliver is closed inside unit 86
    # units do not overlap one another
    p34 = g34.to_crs(geo.PROJECTED_CRS).geometry.values
    assert sum(p.area for p in p34) == pytest.approx(u34.area, rel=1e-6)


def test_fill_gaps_keeps_a_hole_that_another_province_fills():
    def square(x0, x1):
        return [(x0, x0), (x1, x0), (x1, x1), (x0, x1)]
    small = shapely.Polygon(square(0, 10_000), [square(4000, 4400)])        # 0.16 km² hole
    large = shapely.Polygon(square(0, 10_000), [square(3000, 5000)])        # 4 km² hole
    tree = shapely.STRtree([small, shapely.Polygon(square(4000, 4400))])
    assert len(geo._fill_gaps(small, tree, others=[1]).interiors) == 1    # an enclave stays a hole
    assert len(geo._fill_gaps(small, tree, others=[]).interiors) == 0     # a bare hairline gap is filled
    assert len(geo._fill_gaps(large, tree, others=[]).interiors) == 1     # a large hole is not a gap


def test_a_crosswalk_code_outside_the_registry_is_an_error(tmp_path, monkeypatch):
    cw = pd.read_csv(geo.CROSSWALK, dtype=str, keep_default_na=False)
    cw.loc[5, "code"] = "99"
    bad = tmp_path / "geo_iso_crosswalk.csv"
    cw.to_csv(bad, index=False)
    monkeypatch.setattr(geo, "CROSSWALK", bad)
    geo.crosswalk.cache_clear()
    try:
        with pytest.raises(geo.SourceError, match=r"row 7, column 'code'.*'99'"):
            geo.crosswalk()
    finally:
        monkeypatch.undo()
        geo.crosswalk.cache_clear()


def test_choropleth_partial_series_hatches_the_missing(scores):
    v = scores[(scores.index_id == "pci") & (scores.year == 2023) & (scores.indicator == "overall")]
    v = v.set_index("province_code")["value"].dropna()  # rank-only rows (a rank stated without a score) have no value
    assert len(v) == 16
    fig, alt = maps.choropleth(v, title_vi="Chỉ số PCI", title_en="PCI score", legend_vi="điểm",
                               legend_en="score", year=2023, highlight="67")
    data, = _collection(fig, "data")
    nodata, = _collection(fig, "no-data")
    assert len(data.get_paths()) == 16 and len(nodata.get_paths()) == 47
    assert nodata.get_hatch() == "////"
    texts = _texts(fig)
    assert any("16/63 tỉnh có dữ liệu / 16 of 63 provinces with data" in t for t in texts)
    assert maps.NO_DATA in texts and any(maps.CREDIT in t for t in texts)
    assert "QĐ. Hoàng Sa (Đà Nẵng)" in texts and "QĐ. Trường Sa (Khánh Hòa)" in texts
    assert not any("Hà Tây" in t for t in texts)  # no 2008 note after 2008
    assert "16/63 tỉnh được tô màu" in alt and "16 of 63 provinces coloured" in alt
    lo, hi = v.idxmin(), v.idxmax()
    assert f"thấp nhất {provinces.name_of(lo)} ({v.min():.2f}".replace(".", ",") in alt
    assert f"highest {provinces.name_of(hi)} ({v.max():.2f})" in alt
    assert "47 without data" in alt and "Đắk Nông outlined in red" in alt
    plt.close(fig)


def test_choropleth_hand_made_series_and_vietnamese_text():
    nfd = unicodedata.normalize("NFD", "Đắk Nông")
    v = pd.Series({"67": 2.0, "01": 1.0, "79": float("nan"), "48": 3.0})
    fig, alt = maps.choropleth(v, title_vi=f"Thử {nfd}", title_en="Test", legend_vi="giá trị", legend_en="value",
                               highlight="67")
    data, = _collection(fig, "data")
    nodata, = _collection(fig, "no-data")
    assert len(data.get_paths()) == 3 and len(nodata.get_paths()) == 60   # NaN counts as no data
    assert list(data.get_array()) == [1.0, 3.0, 2.0]                       # in code order 01, 48, 67
    texts = _texts(fig)
    assert all(t == unicodedata.normalize("NFC", t) for t in texts)
    assert any("Thử Đắk Nông" in t for t in texts) and "Đắk Nông" in texts  # title and highlight label
    assert any("3/63 tỉnh có dữ liệu" in t for t in texts)
    assert "thấp nhất Hà Nội (1,00), cao nhất Đà Nẵng (3,00)" in alt and "lowest Hà Nội (1.00)" in alt
    assert alt == unicodedata.normalize("NFC", alt)
    _save_without_warnings(fig)   # a glyph missing from DejaVu Sans would warn here
    plt.close(fig)


def test_choropleth_rejects_bad_codes():
    kw = dict(title_vi="a", title_en="a", legend_vi="a", legend_en="a")
    with pytest.raises(TypeError, match="strings"):
        maps.choropleth(pd.Series({67: 1.0}), **kw)
    with pytest.raises(ValueError, match=r"\['99'\]"):
        maps.choropleth(pd.Series({"99": 1.0}), **kw)
    with pytest.raises(ValueError, match="Hà Tây"):
        maps.choropleth(pd.Series({"28": 1.0}), year=2010, **kw)
    with pytest.raises(ValueError, match=r"\[.67.\] are not among the 34 units"):
        maps.choropleth(pd.Series({"67": 1.0}), units="34", **kw)   # Đắk Nông is not a 2025 unit


def test_choropleth_2007_names_ha_tay_and_the_2008_boundaries(scores):
    v = scores[(scores.index_id == "pci") & (scores.year == 2007) & (scores.indicator == "overall")]
    v = v.set_index("province_code")["value"]
    assert "28" in v.index and len(v) == 64
    fig, alt = maps.choropleth(v, title_vi="Chỉ số PCI", title_en="PCI score", legend_vi="điểm",
                               legend_en="score", year=2007, n_expected=64)
    texts = _texts(fig)
    assert any(maps.NOTE_2008 in t for t in texts)
    assert any("64/64 tỉnh có dữ liệu" in t for t in texts)
    assert not _collection(fig, "no-data")[0].get_paths()
    assert "63/63 tỉnh được tô màu" in alt and f"Hà Tây {v['28']:.2f}".replace(".", ",") in alt
    assert f"lowest {provinces.name_of(v.idxmin())} ({v.min():.2f})" in alt   # Đắk Nông 37.96 in 2007


def test_ha_tay_counts_for_the_range_in_the_alt_text():
    v = pd.Series({"28": 1.0, "01": 2.0, "67": 3.0})
    fig, alt = maps.choropleth(v, title_vi="a", title_en="a", legend_vi="a", legend_en="a", year=2007)
    assert len(_collection(fig, "data")[0].get_paths()) == 2
    assert "thấp nhất Hà Tây (1,00), cao nhất Đắk Nông (3,00)" in alt and "2/63 tỉnh được tô màu" in alt
    assert "3/63 tỉnh có dữ liệu" in alt
    plt.close(fig)
    plt.close(fig)


def test_choropleth_34_units_and_speed():
    codes = list(provinces.units_2025()["unit_code"])
    v = pd.Series(range(len(codes)), index=codes, dtype=float)
    maps.choropleth(v, units="34", title_vi="a", title_en="a", legend_vi="a", legend_en="a")  # warm the cache
    plt.close("all")
    t = time.perf_counter()
    fig, alt = maps.choropleth(v, units="34", title_vi="Đơn vị 2025", title_en="2025 units", legend_vi="số",
                               legend_en="number", year=2025)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    elapsed = time.perf_counter() - t
    t = time.perf_counter()  # a bare figure of the same size, for a machine under load
    bare, bax = plt.subplots(figsize=maps.MAP_SIZE)
    bax.set_title("a\nb\nc")
    bare.savefig(io.BytesIO(), format="png")
    baseline = time.perf_counter() - t
    plt.close(bare)
    assert elapsed < max(1.0, 3 * baseline), (elapsed, baseline)   # 0.25-0.55 s here, bare figure 0.15-0.4 s
    assert len(buf.getvalue()) < 200_000
    assert "34/34 tỉnh được tô màu" in alt and "cao nhất Cà Mau (33,00)" in alt
    texts = _texts(fig)
    assert "QĐ. Hoàng Sa (Đà Nẵng)" in texts and "QĐ. Trường Sa (Khánh Hòa)" in texts
    plt.close(fig)


def test_small_multiples_one_map_per_column(scores):
    d = scores[(scores.index_id == "papi") & (scores.year == 2022) & scores.indicator.isin(
        ["d1_participation", "d2_transparency"])]
    frame = d.pivot(index="province_code", columns="indicator", values="value")
    titles = {"d1_participation": ("Tham gia", "Participation"), "d2_transparency": ("Công khai", "Transparency")}
    fig, alt = maps.small_multiples(frame, titles, year=2022)
    assert len(_collection(fig, "data")) == 2
    n = [len(c.get_paths()) for c in _collection(fig, "data")]
    assert n == [frame[c].notna().sum() for c in frame.columns] == [62, 61]
    texts = _texts(fig)
    assert any("Tham gia\nParticipation\n62/63" in t for t in texts) and any(maps.CREDIT in t for t in texts)
    assert "61/63 tỉnh được tô màu" in alt
    assert _save_without_warnings(fig) < 200_000
    with pytest.raises(ValueError, match="titles missing"):
        maps.small_multiples(frame, {"d1_participation": ("a", "b")})
    plt.close(fig)


def test_locator():
    fig, alt = maps.locator("67")
    assert "Đắk Nông" in _texts(fig) and "Đắk Nông" in alt
    plt.close(fig)
    fig, alt = maps.locator("68", units="34")
    assert "Lâm Đồng" in _texts(fig) and "34" in alt
    plt.close(fig)
    with pytest.raises(ValueError):
        maps.locator("67", units="34")


def test_import_stays_light_and_geometry_is_exposed():
    import subprocess
    import sys
    code = ("import sys, cchc_analysis as ca; assert 'geopandas' not in sys.modules; "
            "g = ca.geometry('63'); assert len(g) == 63 and 'geopandas' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.fixture
def raw_copy(tmp_path, monkeypatch):
    """Point geo at a copy of the boundary file (and clear its caches before and after)."""
    caches = (geo._features, geo._geometry, geo.crosswalk, maps._prepared)
    for c in caches:
        c.cache_clear()
    copy = tmp_path / geo.RAW_FILE.name
    copy.write_bytes(geo.RAW_FILE.read_bytes())
    monkeypatch.setattr(geo, "RAW_FILE", copy)
    yield copy
    monkeypatch.undo()
    for c in caches:
        c.cache_clear()


def test_an_unknown_iso_code_names_the_file_feature_and_column(raw_copy):
    text = raw_copy.read_text(encoding="utf-8")
    assert text.count('"VN-72"') == 1
    raw_copy.write_text(text.replace('"VN-72"', '"VN-99"'), encoding="utf-8")
    with pytest.raises(geo.SourceError, match=r"geoBoundaries-VNM-ADM1_simplified.geojson, row 18, "
                                              r"column 'shapeISO': shapeISO \['VN-99'\] not in"):
        geo.geometry("63")


def test_a_missing_property_or_a_truncated_file_is_an_error(raw_copy):
    text = raw_copy.read_text(encoding="utf-8")
    raw_copy.write_text(text.replace('"shapeISO"', '"iso"'), encoding="utf-8")
    with pytest.raises(geo.SourceError, match="property 'shapeISO' missing"):
        geo.features()
    geo._features.cache_clear()
    raw_copy.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(geo.SourceError, match="cannot read the boundary file"):
        geo.features()
