"""Shared fixtures: the processed data is built (or found up to date) once per session."""
import pytest


@pytest.fixture(scope="session")
def built():
    from cchc_analysis.data import build_data
    build_data(log=lambda *_: None)
    return True


@pytest.fixture(scope="session")
def scores(built):
    from cchc_analysis import load
    return load("scores")


@pytest.fixture(scope="session")
def indicators(built):
    from cchc_analysis import load
    return load("indicators")


@pytest.fixture(scope="session")
def ranked(built):
    from cchc_analysis import load
    return load("ranked")  # derived by the build; test_foundation checks it equals ranking.rank_scores(scores)


@pytest.fixture(scope="session")
def changed(built):
    from cchc_analysis import load
    return load("changes")  # derived by the build; test_foundation checks it equals ranking.changes(...)


@pytest.fixture(scope="session")
def small_site(tmp_path_factory, built):
    """A small site: one year of each report (national view), Đắk Nông, Đắk Lắk, Hà Tây and the 2025 unit
    Lâm Đồng — built once per session through the real runner."""
    from cchc_analysis import report

    out = tmp_path_factory.mktemp("site")
    mp = pytest.MonkeyPatch()
    mp.setattr(report, "subjects", lambda province=None: [("67", "63"), ("66", "63"), ("28", "63"), ("68", "34")])
    try:
        rc = report.run_reports(years=[2019], province=None, out_dir=out, jobs=2, profiles=True, log=lambda *_: None)
    finally:
        mp.undo()
    assert rc == 0
    return out
