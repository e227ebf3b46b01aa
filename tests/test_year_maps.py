"""Year pages: the national maps (headline every year, sub-indices on full years) and the component rule."""
import dataclasses

import pandas as pd
import pytest

pytest.importorskip("geopandas")


@pytest.fixture
def shown(monkeypatch, tmp_path, built):
    """Run a ranking_report section; collect (alt text, number of map panels) per figure and the text."""
    from cchc_analysis import ranking_report as rr

    figs: list[tuple[str, int]] = []
    text: list[str] = []
    monkeypatch.setattr(rr, "show_md", text.append)
    monkeypatch.setattr(rr, "show_table", lambda df, **kw: text.append(df.to_string()))

    def keep(fig, alt=None):
        import matplotlib.pyplot as plt
        panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_aspect() == 1.0]
        footer = " ".join(t.get_text() for t in fig.texts) + " ".join(ax.get_xlabel() for ax in fig.axes)
        figs.append((alt or "", len(panels), footer))
        plt.close(fig)
    monkeypatch.setattr(rr, "show_fig", keep)

    def run(year, index_id, province=None):
        ctx = rr.setup(year, province, None, 5, str(tmp_path / str(year)))
        figs.clear()
        text.clear()
        rr.maps(ctx, index_id)
        return figs, "\n".join(text)
    return run


def test_full_year_has_a_headline_map_and_every_sub_index(shown):
    figs, text = shown(2019, "pci")
    assert len(figs) == 2
    alt, panels, _ = figs[0]
    assert "63/63 tỉnh được tô màu" in alt and "cao nhất Quảng Ninh (73,40)" in alt and "Lai Châu (59,95)" in alt
    assert panels == 1
    sm_alt, sm_panels, _ = figs[1]
    assert sm_alt.startswith("10 bản đồ nhỏ / 10 small maps")
    assert sm_panels == 10
    assert "Tính minh bạch" in sm_alt or "Transparency" in sm_alt  # sub-indices without '_' in their id count too
    assert "63/63 tỉnh có điểm năm 2019 (bảng đầy đủ)" in text


def test_partial_year_colours_only_the_provinces_with_data(shown):
    figs, text = shown(2022, "pci")
    assert len(figs) == 1  # no small multiples from a partial year
    alt = figs[0][0]
    assert "31/63 tỉnh được tô màu" in alt and "32 tỉnh không có dữ liệu (tô gạch xám)" in alt
    assert "31 of 63 provinces with a score in 2022 (partial data" in text


def test_maps_before_2009_say_the_boundaries_are_2008(shown):
    figs, _ = shown(2007, "pci")
    alt, _, footer = figs[0]
    assert "64/64 tỉnh có dữ liệu" in alt and "Hà Tây 52,24 (không có bản đồ riêng)" in alt
    assert "Ranh giới năm 2008" in footer and "geoBoundaries" in footer


def test_focal_province_is_outlined(shown):
    figs, _ = shown(2019, "papi", province="Đắk Nông")
    assert "Đắk Nông được viền đỏ" in figs[0][0]


def test_components_rule_on_real_data(built):
    from cchc_analysis import ranking_report as rr

    ctx = rr.setup(2019, None, None, 5, None)
    _, pci = rr._components(ctx, "pci")
    assert pci == ["entry_costs", "land_access", "transparency", "time_costs", "informal_charges", "policy_bias",
                   "proactivity", "business_support", "labor_training", "legal_institutions"]
    _, papi = rr._components(ctx, "papi")
    assert len(papi) == 8 and all(c.startswith(f"d{k}_") for k, c in enumerate(papi, 1))


def test_components_rule_on_a_small_frame(built):
    from cchc_analysis import ranking_report as rr

    ctx = rr.setup(2019, None, None, 5, None)
    rows = [("par", "the_che", 2.5), ("par", "the_che_pct", 83.3), ("par", "cong_vu", 7.0),
            ("par", "overall", 80.0), ("papi", "d1_participation", 5.0), ("papi", "d1_1_civic_knowledge", 1.2)]
    tiny = pd.DataFrame([{"index_id": i, "indicator": k, "value": v, "year": 2019, "province_code": "01"}
                         for i, k, v in rows])
    small = dataclasses.replace(ctx, scores=tiny)
    assert rr._components(small, "par")[1] == ["the_che_pct", "cong_vu"]  # percent kept, points of it dropped
    assert rr._components(small, "papi")[1] == ["d1_participation"]  # sub-dimensions are left to the tables
