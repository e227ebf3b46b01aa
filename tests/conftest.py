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
