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
def ranked(scores):
    from cchc_analysis.ranking import rank_scores
    return rank_scores(scores)


@pytest.fixture(scope="session")
def changed(ranked, indicators):
    from cchc_analysis.ranking import changes
    return changes(ranked, indicators)
