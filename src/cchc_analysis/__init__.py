"""cchc-analysis: Vietnam's public-administration reform indices, cleaned, validated and analysed."""
from . import provinces, vn  # noqa: F401


def load(name: str):
    """A processed table (scores, facts, conflicts, indicators, provinces, merger_2025) as a DataFrame."""
    from .data import load as _load
    return _load(name)


def panel(indices=None, indicators="overall", units="provinces", include_partial=False, method=None, weights=None):
    """A province × year panel of the indices with scales, comparability groups, coverage and ranks
    (module `cchc_analysis.panel_data`); codebook in `.attrs["codebook"]` and `codebook()`."""
    from .panel_data import panel as _panel
    return _panel(indices=indices, indicators=indicators, units=units, include_partial=include_partial,
                  method=method, weights=weights)


def codebook(df=None):
    """The codebook of a panel as a table (column, names vi/en, unit, scale, source, methodology notes, label)."""
    from .panel_data import codebook as _codebook
    return _codebook(df)


def __getattr__(name: str):
    """Lazy attributes: `geometry` (from .geo) and the modules `geo` and `maps` (geopandas loads on first use)."""
    if name == "geometry":
        from .geo import geometry
        return geometry
    if name in ("geo", "maps"):
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
