"""Figures for site pages: a figure that recurs on many pages is drawn once and linked; alt text on every image.

Inside a site build (`site_dir` given) a shared figure is written once to ``<site>/_shared/<key>-<tag>.png``
(the tag is the site's code digest, ``CCHC_SITE_TAG``, so a code change redraws it) and every page that
shows it links the file by a relative path; outside a site it is embedded as usual.
"""
from __future__ import annotations

import base64
import hashlib
import html
import os
import re
from pathlib import Path

from .atomic import atomic_path
from .reporting import figure_png

SHARED = "_shared"


def _img(src: str, alt: str, width: int | None = None) -> str:
    w = f' width="{width}"' if width else ""
    return f'<img src="{html.escape(src, quote=True)}" alt="{html.escape(alt, quote=True)}"{w}>'


def show_fig_alt(fig, alt: str) -> None:
    """Display a figure embedded as a compact PNG with alt text, and close it."""
    import matplotlib.pyplot as plt
    from IPython.display import HTML, display

    data = base64.b64encode(figure_png(fig)).decode("ascii")
    plt.close(fig)
    display(HTML(_img(f"data:image/png;base64,{data}", alt)))


def shared_path(site_dir: Path, key: str) -> Path:
    """Where the shared figure `key` lives in the site (one file per key and code version)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", key).strip("-")
    tag = os.environ.get("CCHC_SITE_TAG", "")[:10] or "local"
    return Path(site_dir) / SHARED / f"{safe}-{tag}.png"


def shared_figure(key: str, draw, alt: str, site_dir: Path | None, page_dir: Path | None) -> Path | None:
    """Show a figure that recurs on many pages: drawn by `draw()` (returns a matplotlib figure) only when
    the site does not have it yet, then linked from `page_dir`; without a site, embedded. Returns the file."""
    if site_dir is None:
        show_fig_alt(draw(), alt)
        return None
    import matplotlib.pyplot as plt
    from IPython.display import HTML, display

    path = shared_path(site_dir, key)
    if not path.exists():
        fig = draw()
        png = figure_png(fig)
        plt.close(fig)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            Path(tmp).write_bytes(png)
    rel = os.path.relpath(path, page_dir).replace(os.sep, "/")
    display(HTML(_img(rel, alt)))
    return path


def digest_files(files) -> str:
    """sha256 over the names and bytes of files (outputs a stamp compares to notice edits behind its back)."""
    h = hashlib.sha256()
    for p in sorted(Path(f) for f in files):
        h.update(p.name.encode())
        h.update(p.read_bytes() if p.exists() else b"<missing>")
    return h.hexdigest()
