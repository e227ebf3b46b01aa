"""The site: a page for every unit, titles, navigation that resolves, page sizes, the 2025 unit pages,
profile tables with real values, shared figures drawn once, the cache noticing edited outputs, safe runs."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from cchc_analysis import cli, params, paths, profile_report, report
from cchc_analysis.params import ParameterError
from cchc_analysis.provinces import provinces, units_2025


def _title(page: Path) -> str:
    return re.search(r"<title>(.*?)</title>", page.read_text(encoding="utf-8"), re.S).group(1)


def _local_refs(page: Path) -> list[str]:
    text = page.read_text(encoding="utf-8")
    refs = re.findall(r'(?:href|src)="([^"]+)"', text)
    return [r.split("#")[0] for r in refs
            if not r.startswith(("http:", "https:", "data:", "#", "mailto:")) and r.split("#")[0]]


# ------------------------------------------------------------------------------ plan: every unit

def test_plan_has_a_page_for_every_unit_and_year(tmp_path, built):
    jobs = report.plan(None, None, None, tmp_path, 60)
    subjects = {j.subject for j in jobs if j.subject}
    assert len(subjects) == 64 + 34 == 98
    assert {f"province/{c}" for c in provinces().code} | {f"unit/{c}" for c in units_2025().unit_code} == subjects
    assert "province/28" in subjects and "unit/68" in subjects  # Hà Tây and the new Lâm Đồng
    years = {(j.notebook, j.year) for j in jobs if j.year is not None}
    assert ("ranking_trends", 2005) in years and ("procedure_simplification", 2024) in years
    assert all(j.parameters["province"] is None for j in jobs if j.year is not None)  # national year pages
    assert 135 <= len(jobs) <= 145
    u68 = next(j for j in jobs if j.subject == "unit/68")
    assert u68.parameters == {"province": "68", "units": "34", "output_dir": str(tmp_path / "unit" / "68"),
                              "site_dir": str(tmp_path)}


def test_named_years_or_notebooks_leave_out_the_profiles(tmp_path, built):
    assert not any(j.subject for j in report.plan([2019], None, None, tmp_path, 60))
    assert not any(j.subject for j in report.plan(None, ["ranking_trends"], "67", tmp_path, 60))
    one = report.plan(None, ["province_profile"], "79", tmp_path, 60)
    assert [j.subject for j in one] == ["province/79"]


def test_cli_province_builds_into_its_own_folder(monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr(report, "run_reports", lambda **k: seen.update(k) or 0)
    assert cli.main(["report", "--province", "79"]) == 0
    assert seen["out_dir"] == paths.REPORTS / "province-79" and seen["province"] == "79"
    assert cli.main(["report", "--province", "79", "--out", str(tmp_path)]) == 0
    assert seen["out_dir"] == tmp_path
    assert cli.main(["report"]) == 0
    assert seen["out_dir"] == paths.REPORTS and seen["province"] is None


def test_manual_runs_write_to_scratch_not_the_site():
    default = Path("reports") / "2020" / "ranking_trends"
    assert params.safe_dir("", default) == (paths.SCRATCH / default).resolve()
    assert not params.safe_dir(None, default).is_relative_to(paths.REPORTS)
    assert params.safe_dir(None, paths.REPORTS) == paths.REPORTS  # an absolute default is kept


# ------------------------------------------------------------------------------ naming a unit

@pytest.mark.parametrize("value, units, code", [("67", "63", "67"), (67, "63", "67"), ("Đắk Nông", "63", "67"),
                                                ("dak nong", "63", "67"), ("Hà Tây", "63", "28"),
                                                ("Tỉnh Lâm Đồng", "34", "68"), ("68", "34", "68"), (1, "34", "01")])
def test_resolve_unit(value, units, code, built):
    assert profile_report.resolve_unit(value, units) == (code, units)


@pytest.mark.parametrize("value, units, says", [("Median", "63", "Median"), ("99", "63", "unknown province code"),
                                                ("67", "34", "unknown 2025 unit code"), ("67", "35", "units must"),
                                                (True, "63", "province must"), ("", "63", "province must")])
def test_resolve_unit_refuses(value, units, says, built):
    with pytest.raises(ParameterError, match=says):
        profile_report.resolve_unit(value, units)


# ------------------------------------------------------------------------------ calculations

def _frames():
    ranked = pd.DataFrame({
        "index_id": ["pci"] * 6, "year": [2018, 2019, 2018, 2019, 2019, 2019],
        "province_code": ["67", "67", "67", "67", "66", "67"],
        "indicator": ["entry_costs", "entry_costs", "time_costs", "time_costs", "time_costs", "unweighted_x"],
        "rank": pd.array([10, 12, 40, 35, 1, 3], dtype="Int64"), "value": [7.0, 6.5, 5.0, 5.5, 9.0, 1.0]})
    indicators = pd.DataFrame({"index_id": ["pci", "pci"], "indicator": ["time_costs", "entry_costs"],
                               "name_vi": ["Chi phí thời gian", "Gia nhập"], "name_en": ["Time costs", "Entry"],
                               "method_breaks": ["", ""]})
    return ranked, indicators


def test_component_ranks_one_row_per_component_in_catalogue_order():
    ranked, indicators = _frames()
    p = profile_report.Profile("67", "63", "Đắk Nông", "Dak Nong", ["67"], Path("."), None, None, ranked, None,
                               indicators, None, {}, {})
    m = profile_report.component_ranks(p, "pci")
    assert list(m.index) == ["time_costs", "entry_costs"]  # catalogue order; unweighted_* left out
    assert list(m.columns) == [2018, 2019]
    assert m.loc["time_costs", 2019] == 35 and m.loc["entry_costs", 2018] == 10


def test_region_table_real_values(built):
    p = profile_report.setup("67", "63", None, None)
    tab = profile_report.region_table(p, "67")
    pci = tab[tab["index"] == "PCI"]
    assert set(pci.province) == {"Kon Tum", "Gia Lai", "Đắk Lắk", "Đắk Nông", "Lâm Đồng"}
    assert pci.year.nunique() == 1
    y = int(pci.year.iloc[0])
    s = p.ranked[(p.ranked.index_id == "pci") & (p.ranked.indicator == "overall") & (p.ranked.year == y)
                 & (p.ranked.province_code == "67")]
    assert int(pci.set_index("province_code").loc["67", "rank"]) == int(s["rank"].iloc[0])


def test_index_history_dak_nong_pci_2019(built):
    p = profile_report.setup("Đắk Nông", "63", None, None)
    h = profile_report.index_history(p)
    r = h[(h["index"] == "PCI") & (h.year == 2019)].iloc[0]
    assert (r.published_rank, r.computed_rank, r.rank_change) == (62, 62, 1)
    assert r.value == pytest.approx(60.4968, abs=1e-4) and r.n_ranked == 63 and r.coverage == "full"
    par = h[(h["index"] == "PAR") & (h.year == 2022)].iloc[0]  # a change the publisher states, shown as stated
    assert (par["rank"], par.stated_rank_change) == (37, 4)
    assert list(dict.fromkeys(h["index"])) == [i for i in ["PCI", "PAPI", "PAR", "SIPAS"] if i in set(h["index"])]
    papi = h[h["index"] == "PAPI"].set_index("year")  # one scale per row: PAPI's headline scale changed in 2018
    assert (papi.scale[2017], papi.scale[2018], r.scale, par.scale) == ("6–60", "10–80", "0–100", "0–100")


def test_no_index_is_published_for_the_2025_units_yet(scores):
    assert not profile_report.indices_published_for_units_2025(scores)
    assert profile_report.indices_published_for_units_2025(pd.DataFrame({"year": [2026]}))


# ------------------------------------------------------------------------------ the built small site



@pytest.mark.slow
def test_pages_exist_with_titles_that_say_what_they_are(small_site):
    assert _title(small_site / "province" / "67.html") == "Đắk Nông — hồ sơ tỉnh / province profile — CCHC"
    assert _title(small_site / "province" / "28.html").startswith("Hà Tây — hồ sơ tỉnh")
    assert _title(small_site / "unit" / "68.html").startswith("Lâm Đồng — đơn vị hành chính từ 1/7/2025")
    assert _title(small_site / "2019" / "ranking_trends.html") == "Xếp hạng và xu hướng / Ranking trends 2019 — CCHC"
    page = (small_site / "province" / "67.html").read_text(encoding="utf-8")
    assert '<h1 class="subject">Đắk Nông — hồ sơ tỉnh / province profile</h1>' in page
    assert "import " not in page and "pp.setup" not in page


@pytest.mark.slow
def test_every_local_link_and_image_resolves_and_pages_are_small(small_site):
    pages = [small_site / "index.html"] + sorted(small_site.glob("*/*.html"))
    assert len(pages) == 1 + 2 + 4
    for page in pages:
        assert page.stat().st_size < 2_000_000, page
        refs = _local_refs(page)
        assert refs, page
        for ref in refs:
            assert (page.parent / ref).resolve().exists(), f"{page.relative_to(small_site)}: {ref}"
        assert "cdnjs" not in page.read_text(encoding="utf-8")  # works offline


@pytest.mark.slow
def test_navigation(small_site):
    p67 = (small_site / "province" / "67.html").read_text(encoding="utf-8")
    assert 'href="../province/66.html">Đắk Lắk</a>' in p67          # region's provinces
    assert 'href="../unit/68.html"' in p67                            # its 2025 unit
    assert 'href="../2019/ranking_trends.html">2019</a>' in p67      # province → year
    y = (small_site / "2019" / "ranking_trends.html").read_text(encoding="utf-8")
    assert 'href="../2019/procedure_simplification.html"' in y and 'href="../province/67.html">Đắk Nông</a>' in y
    assert 'href="../index.html"' in y
    u = (small_site / "unit" / "68.html").read_text(encoding="utf-8")
    assert 'href="../province/67.html">Đắk Nông</a>' in u              # member → its own page


@pytest.mark.slow
def test_unit_page_lists_members_and_says_no_index_is_published(small_site):
    page = (small_site / "unit" / "68.html").read_text(encoding="utf-8")
    assert "No index (PCI, PAPI, PAR Index, SIPAS) has yet been published for the new units" in page
    ident = pd.read_csv(small_site / "unit" / "68" / "identity.csv", dtype=str)
    assert list(ident.province) == ["Bình Thuận", "Đắk Nông", "Lâm Đồng"]
    hist = pd.read_csv(small_site / "unit" / "68" / "index_history.csv", dtype={"province_code": str})
    assert set(hist.province_code) == {"60", "67", "68"}
    r = hist[(hist["index"] == "PCI") & (hist.year == 2019) & (hist.province_code == "67")].iloc[0]
    assert r.published_rank == 62


@pytest.mark.slow
def test_region_chart_is_drawn_once_and_linked(small_site):
    files = list((small_site / "_shared").glob("region-taynguyen-*.png"))
    assert len(files) == 1
    for page in ("province/67.html", "province/66.html", "unit/68.html"):
        assert f'src="../_shared/{files[0].name}"' in (small_site / page).read_text(encoding="utf-8")


@pytest.mark.slow
def test_cache_notices_outputs_changed_behind_its_back(small_site):
    lines = []
    kw = dict(years=[2019], province=None, out_dir=small_site, jobs=2, profiles=True, log=lines.append)
    mp = pytest.MonkeyPatch()
    mp.setattr(report, "subjects", lambda province=None: [("67", "63"), ("66", "63"), ("28", "63"), ("68", "34")])
    try:
        assert report.run_reports(**kw) == 0
        assert "(6 unchanged, 0 run)" in lines[-1]
        # a manual run into the site folder (the old `papermill … -p province 79`) rewrites a table
        csv = small_site / "2019" / "ranking_trends" / "coverage.csv"
        csv.write_text("index\nforged\n", encoding="utf-8")
        assert report.run_reports(**kw) == 0
        assert "(5 unchanged, 1 run)" in lines[-1]
        assert "forged" not in csv.read_text(encoding="utf-8")
        stamp = json.loads((small_site / "_executed" / "ranking_trends_2019.json").read_text())
        assert stamp["outputs"] == report.outputs_digest(report.plan([2019], ["ranking_trends"], None,
                                                                     small_site, 60)[0])
    finally:
        mp.undo()


def test_index_with_a_year_that_has_one_report_only(tmp_path, built):
    jobs = [report.Job("ranking_trends", 2005, {}, tmp_path, 60, status="ok"),
            report.Job("ranking_trends", 2019, {}, tmp_path, 60, status="ok"),
            report.Job("procedure_simplification", 2019, {}, tmp_path, 60, status="failed", error="boom")]
    page = report.write_index(tmp_path, jobs).read_text(encoding="utf-8")
    assert 'href="2005/ranking_trends.html"' in page and "<td>–</td>" in page and "lỗi / failed: boom" in page
    assert (tmp_path / "assets" / "filter.js").exists() and (tmp_path / "data" / "scores.csv").exists()


@pytest.mark.slow
def test_index_map_links_each_province_to_its_page(small_site):
    import re

    page = (small_site / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'<a href="([^"]+)"><title>([^<]+)</title><path d="M[0-9 LMZ]+"/></a>', page)
    assert {h for h, _ in links} == {"province/67.html", "province/66.html"}  # the pages this small site has
    titles = dict(links)
    assert titles["province/67.html"] == "Đắk Nông: PAPI 2024 = 40,54"  # the latest full year's headline
    assert re.search(r'<img src="_shared/index-map-papi-2024-[0-9a-f]+\.png" alt="Bản đồ PAPI: điểm tổng 2024: '
                     r'61/63 tỉnh được tô màu', page)
    assert 'viewBox="0 0 558 684"' in page and 'width="558" height="684"' in page


@pytest.mark.slow
def test_year_page_has_maps_with_alt_text(small_site):
    page = (small_site / "2019" / "ranking_trends.html").read_text(encoding="utf-8")
    assert "<h2 id=\"Bản-đồ-/-Maps\">" in page or "Bản đồ / Maps" in page
    assert 'alt="Bản đồ PCI: điểm tổng hợp 2019: 63/63 tỉnh được tô màu' in page
    assert 'alt="10 bản đồ nhỏ / 10 small maps: Chỉ số thành phần PCI / PCI sub-indices 2019.' in page
    assert 'alt="Bản đồ PAR: điểm tổng hợp 2019: 10/63 tỉnh được tô màu' in page


@pytest.mark.slow
def test_reused_kernel_forgets_the_previous_notebook(built):
    """Between two pages of one worker the kernel keeps its imports but none of the notebook's names."""
    from jupyter_client import BlockingKernelClient
    from jupyter_core.utils import run_sync

    km = report._kernel_manager()
    run_sync(km.start_kernel)(extra_arguments=["--IPKernelApp.log_level=ERROR"])
    kc = BlockingKernelClient()
    kc.load_connection_info(km.get_connection_info())
    kc.start_channels()

    def run(code: str) -> str:
        out: list[str] = []
        reply = kc.execute_interactive(code, timeout=60, output_hook=lambda m: out.append(m["content"].get("text", "")))
        assert reply["content"]["status"] == "ok", reply["content"]
        return "".join(out)

    try:
        run("import sys\nimport matplotlib.pyplot as plt\nfrom cchc_analysis import data\nyear = 2019\n"
            "fig = plt.figure()\n7 * 6")
        report._reset_kernel()
        assert report._KM is km and km.has_kernel  # the kernel survives the reset
        assert run("print(sorted(k for k in ('year', 'fig', 'data', 'sys', 'plt') if k in dir()), len(Out), "
                   "len(__import__('matplotlib.pyplot').pyplot.get_fignums()), "
                   "'cchc_analysis.data' in __import__('sys').modules)") == "[] 0 0 True\n"
    finally:
        kc.stop_channels()
        report._shutdown_kernel()


def test_unit_seat_is_read_from_the_merger_note(built):
    assert profile_report.seat_2025("name: Tỉnh Lâm Đồng; seat per merger-data.ts adminCenter: Lâm Đồng (cũ)") \
        == "Lâm Đồng (cũ)"
    assert profile_report.seat_2025("unchanged (không thực hiện sáp nhập)") == ""
    p = profile_report.setup("68", "34", None, None)
    assert list(profile_report.identity_table(p).province) == ["Bình Thuận", "Đắk Nông", "Lâm Đồng"]
