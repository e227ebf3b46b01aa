"""Notebook parameters: declared names, checked types, safe output paths. Values are never evaluated."""
from __future__ import annotations

import os
import re
from pathlib import Path

from . import paths
from .errors import CchcError


class ParameterError(CchcError, ValueError):
    """A report parameter is unknown, of the wrong type, or names data that does not exist."""


def check_names(notebook: Path, given: dict) -> dict:
    """Compare parameter names with the notebook's `parameters` cell (papermill.inspect_notebook).

    Unknown names are an error (papermill itself only warns). Returns the declared parameters.
    """
    import papermill

    declared = papermill.inspect_notebook(str(notebook))
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ParameterError(f"{Path(notebook).name}: unknown parameter(s) {', '.join(unknown)}; "
                             f"the notebook declares: {', '.join(sorted(declared))}")
    return declared


def as_year(value, available: list[int] | None = None) -> int:
    """An int year (bools and floats with decimals rejected); with `available`, one that has data."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or (isinstance(value, str) and not re.fullmatch(r"\d{4}", value.strip())):
        raise ParameterError(f"year must be a whole number like 2020, got {value!r} ({type(value).__name__})")
    year = int(value)
    if available is not None and year not in available:
        raise ParameterError(f"no data for year {year}; years with data: {_ranges(available)}")
    return year


def as_province(value, allow_none: bool = False) -> str | None:
    """A province code string ('67'). An int (papermill's `-p province 67`) is read as its code.
    With allow_none, None or "" (a national page) gives None."""
    from .provinces import provinces

    if allow_none and (value is None or (isinstance(value, str) and value.strip() in ("", "None"))):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ParameterError(f"province must be a code like \"67\", got {value!r} ({type(value).__name__})")
    code = str(value).strip().zfill(2)
    known = provinces().set_index("code")["name"]
    if not re.fullmatch(r"\d{2}", code) or code not in known.index:
        raise ParameterError(f"unknown province code {value!r}; codes are 2-digit strings, e.g. "
                             + ", ".join(f"{c} {n}" for c, n in list(known.items())[:5]) + " … (see `cchc_analysis.provinces.provinces()`)")
    return code


def as_int(name: str, value, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ParameterError(f"{name} must be a whole number from {lo} to {hi}, got {value!r}")
    return value


def as_indices(value, available: list[str]) -> list[str]:
    """None → every index with data that year; else a list/comma string of known ids."""
    if value is None or value == "" or value == []:
        return list(available)
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
        raise ParameterError(f"indices must be a list of index ids like ['pci', 'papi'], got {value!r}")
    items = [i.strip().lower() for i in items]
    bad = [i for i in items if i not in available]
    if bad:
        raise ParameterError(f"no data for {', '.join(bad)} in this year; available: {', '.join(available)}")
    return items


def safe_dir(value, default: Path, allowed_roots: list[Path] | None = None) -> Path:
    """An output directory inside the project or under an allowed root (e.g. the one the user named).

    Relative paths are taken from the project root; '..' escapes and other absolute paths are refused.
    Without a value, a relative `default` is placed under the scratch folder (`scratch/`).
    """
    if value is None or value == "":
        # a relative default (a notebook run by hand) goes to the scratch folder, never into the site `reports/`;
        # the site runner always passes its folder explicitly
        return (paths.SCRATCH / default).resolve() if not Path(default).is_absolute() else Path(default).resolve()
    p = _resolve("output_dir", value)
    roots = [paths.ROOT.resolve()] + [Path(r).resolve() for r in (allowed_roots or [])]
    env = os.environ.get("CCHC_OUTPUT_ROOT")
    if env:
        roots.append(Path(env).resolve())
    if not any(p == r or p.is_relative_to(r) for r in roots):
        raise ParameterError(f"output_dir {value!r} is outside the project ({paths.ROOT}); set CCHC_OUTPUT_ROOT "
                             "to allow another directory")
    return p


def safe_input(value, allowed_roots: list[Path] | None = None) -> Path | None:
    """An optional input file that must exist (dossier export)."""
    if value is None or value == "":
        return None
    p = _resolve("dossiers_path", value)
    if not p.is_file():
        raise ParameterError(f"dossiers_path {value!r}: no such file")
    return p


def _resolve(name: str, value) -> Path:
    """A path parameter, relative to the project root unless absolute, resolved (symlinks, '..')."""
    if not isinstance(value, (str, os.PathLike)):
        raise ParameterError(f"{name} must be a path, got {value!r}")
    p = Path(value)
    return (paths.ROOT / p if not p.is_absolute() else p).resolve()


def _ranges(years: list[int]) -> str:
    ys = sorted(set(years))
    out, start = [], None
    for i, y in enumerate(ys):
        if start is None:
            start = y
        if i + 1 == len(ys) or ys[i + 1] != y + 1:
            out.append(f"{start}–{y}" if start != y else str(y))
            start = None
    return ", ".join(out)
