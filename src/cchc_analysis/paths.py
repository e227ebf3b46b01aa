"""Where the project's folders are. Override the root with CCHC_ROOT."""
from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The project folder: $CCHC_ROOT when set, else the clone this package is in."""
    env = os.environ.get("CCHC_ROOT")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parents[2]


ROOT = project_root()
RAW = ROOT / "data" / "raw"
PROCESSED = ROOT / "data" / "processed"
REFERENCE = ROOT / "data" / "reference"
NOTEBOOKS = ROOT / "notebooks"
REPORTS = ROOT / "reports"
SCRATCH = ROOT / "scratch"  # where notebooks run by hand write their tables


def raw_relpath(path: Path | str) -> str:
    """Path of a raw file relative to the project root, with forward slashes."""
    p = Path(path).resolve()
    try:
        return p.relative_to(ROOT).as_posix()
    except ValueError:
        return p.as_posix()
