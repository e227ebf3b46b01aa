"""cchc-analysis: Vietnam's public-administration reform indices, cleaned, validated and analysed."""
from . import provinces, vn  # noqa: F401


def load(name: str):
    """A processed table (scores, facts, conflicts, indicators, provinces, merger_2025) as a DataFrame."""
    from .data import load as _load
    return _load(name)
