"""What ``data/reference/source_domains.csv`` says about a source address (a URL): the number style
its pages write, the province whose own press or portal it is (``owner_province``), and whether it is
an official source (``official`` = yes there, or a ``.gov.vn`` host). Readers use the number style;
the selection step (`select`, tie rule ``majority``) uses the owner and the official flag.
"""
from __future__ import annotations

import functools
from urllib.parse import urlsplit

from . import paths, vn
from .provinces import to_code
from .sources.rawfile import read_csv_text

DOMAINS_FILE = paths.REFERENCE / "source_domains.csv"


@functools.cache
def _domains() -> list[dict]:
    """source_domains.csv rows, longest url_prefix first (owner_code: the owner province's code)."""
    rows = read_csv_text(DOMAINS_FILE).map(lambda s: s.strip()).to_dict("records")
    for r in rows:
        r["owner_code"] = to_code(r["owner_province"]) if r["owner_province"] else None
        r["url_prefix"] = r["url_prefix"].lower()
    return sorted(rows, key=lambda r: -len(r["url_prefix"]))


def domain(url: str) -> dict | None:
    """The source_domains.csv row whose url_prefix starts the address (scheme ignored), or None."""
    s = url.lower().split("://", 1)[-1]
    return next((r for r in _domains() if s.startswith(r["url_prefix"])), None)


def number_style(url: str) -> vn.Style:
    """Number style of a source from source_domains.csv; "mixed" (ambiguous forms raise) if unlisted."""
    d = domain(url)
    return d["number_style"] if d else "mixed"


def owner_code(url: str) -> str | None:
    """Code of the province whose own press or portal the address is, or None."""
    return (domain(url) or {}).get("owner_code")


def is_official(url: str) -> bool:
    """True for an official source: ``official`` = yes in source_domains.csv, or a .gov.vn host."""
    d = domain(url)
    return (d is not None and d["official"] == "yes") or urlsplit(url).netloc.lower().endswith(".gov.vn")
