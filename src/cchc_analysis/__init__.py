"""cchc-analysis: Vietnam's public-administration reform indices, cleaned, validated and analysed."""
from . import provinces, vn  # noqa: F401


def load(name: str):
    """A processed table (scores, facts, conflicts, indicators, provinces, merger_2025) as a DataFrame."""
    from .data import load as _load
    return _load(name)


def __getattr__(name: str):
    """Lazy attributes: `geometry` (from .geo) and the modules `geo` and `maps` (geopandas loads on first use)."""
    if name == "geometry":
        from .geo import geometry
        return geometry
    if name in ("geo", "maps"):
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
