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
    if (isinstance(value, bool) or not isinstance(value, (int, str))
            or (isinstance(value, str) and not re.fullmatch(r"\d{4}", value.strip()))):
        raise ParameterError(f"year must be a whole number like 2020, got {value!r} ({type(value).__name__})")
    year = int(value)
    if available is not None and year not in available:
        raise ParameterError(f"no data for year {year}; years with data: {_ranges(available)}")
    return year


def as_province(value, allow_none: bool = False) -> str | None:
    """A province code string ('67') from a code ("67", 67, "1") or a name ("Đắk Nông", "Ha Noi", "TP.HCM").

    An int (papermill's `-p province 67`) is read as its code; names go through the crosswalk
    (`provinces.to_code`), never a fuzzy guess.
    """
    from .errors import UnknownProvinceError
    from .provinces import provinces, to_code

    if allow_none and (value is None or (isinstance(value, str) and value.strip() in ("", "None"))):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ParameterError(f"province must be a code like \"67\" or a name like \"Đắk Nông\", "
                             f"got {value!r} ({type(value).__name__})")
    try:
        return to_code(value)
    except UnknownProvinceError as e:
        known = provinces().set_index("code")["name"]
        close = f" (closest names: {', '.join(e.suggestions)})" if e.suggestions else ""
        raise ParameterError(f"unknown province code {value!r}: neither a 2-digit code nor a province name{close}; "
                             "codes are 2-digit strings, e.g. "
                             + ", ".join(f"{c} {n}" for c, n in list(known.items())[:5])
                             + " … (see `cchc_analysis.provinces.provinces()`)") from None


def as_int(name: str, value, lo: int, hi: int) -> int:
    """A whole number from lo to hi (bools and strings rejected)."""
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


# Folders an output_dir may never be in, even when the user names them (the system's own).
SYSTEM_DIRS = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/root", "/run",
               "/sbin", "/snap", "/srv", "/sys", "/usr", "/var")
SYSTEM_EXCEPTIONS = ("/var/tmp",)


def safe_dir(value, default: Path, allowed_roots: list[Path] | None = None) -> Path:
    """An output directory: the default inside the project, or the folder the user names.

    Relative paths are taken from the project root. A folder outside the project is accepted
    (the user named it) unless it is, or lies in, a system folder (`SYSTEM_DIRS`: /etc, /usr, …)
    or is the file-system root; symlinks and '..' are resolved before the check. `allowed_roots`
    and the environment variable CCHC_OUTPUT_ROOT name roots that are always accepted.
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
    if any(p == r or p.is_relative_to(r) for r in roots):
        return p
    if not Path(value).is_absolute():  # a relative path that climbs out with '..' is a slip, not a choice
        raise ParameterError(f"output_dir {value!r} climbs out of the project ({paths.ROOT}); name a folder "
                             "outside the project by its absolute path, e.g. ~/cchc-reports expanded")
    if _is_system(p):
        raise ParameterError(f"output_dir {value!r} is outside the project ({paths.ROOT}) in a system folder "
                             f"({p}); name a folder of your own, e.g. ~/cchc-reports")
    return p


def _is_system(p: Path) -> bool:
    """True for the file-system root and anything in a system folder (resolved paths)."""
    if p == Path(p.anchor):
        return True
    for d in SYSTEM_DIRS:
        base = Path(d).resolve()
        if (p == base or p.is_relative_to(base)) and not any(p == Path(x) or p.is_relative_to(Path(x))
                                                              for x in SYSTEM_EXCEPTIONS):
            return True
    return False


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


# --------------------------------------------------------------------------- papermill's injected names

INJECTED_HEADER = "# Parameters"  # first line of the cell papermill injects (tag `injected-parameters`)


def injected_names(history: list[str] | None = None) -> list[str]:
    """Names assigned by papermill's injected-parameters cell in this kernel (empty outside papermill).

    Reads the kernel's input history (IPython `In`): papermill runs its injected cell, which starts
    with the line "# Parameters", right after the notebook's own parameters cell. Parsed, never run.
    """
    import ast

    if history is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return []
        ip = get_ipython()
        history = list(ip.user_ns.get("In", [])) if ip is not None else []
    names: list[str] = []
    injected = [s for s in history if isinstance(s, str) and s.splitlines()[:1] == [INJECTED_HEADER]]
    try:  # the latest injected cell only: a reused kernel's history holds earlier notebooks' cells too
        tree = ast.parse(injected[-1]) if injected else ast.Module(body=[], type_ignores=[])
    except SyntaxError:
        return []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return list(dict.fromkeys(names))


def check_injected(valid, notebook: str = "this notebook", history: list[str] | None = None) -> None:
    """Stop when papermill injected a name that is not a parameter (`-p provnce 01`: papermill only warns)."""
    unknown = sorted(set(injected_names(history)) - set(valid))
    if unknown:
        raise ParameterError(f"{notebook}: unknown parameter(s) {', '.join(unknown)}; "
                             f"valid parameters: {', '.join(sorted(valid))}")
