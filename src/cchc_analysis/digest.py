"""What a rebuild depends on: the package modules a step imports, and one hash over files.

The data build depends on the raw manifest, the reference files and the modules `data.py` imports
(readers, schemas, registries, derivations), never on plots or reports; a report depends on its
notebook, its parameters, the processed data stamp and the report/plot modules. Both are found by
following the package's relative imports (``from . import x``, ``from .x import y``), so a new
module is counted where it is used and nowhere else.
"""
from __future__ import annotations

import ast
import hashlib
from pathlib import Path

from . import paths

PACKAGE = paths.ROOT / "src" / "cchc_analysis"


def _module_file(dotted: str) -> Path | None:
    base = PACKAGE.joinpath(*dotted.split(".")) if dotted else PACKAGE
    for p in (base.with_suffix(".py"), base / "__init__.py"):
        if p.is_file():
            return p
    return None


def _imports(path: Path) -> set[str]:
    """Dotted names (relative to the package) of the package modules `path` imports."""
    pkg = list(path.relative_to(PACKAGE).parts[:-1])
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level == 0:  # absolute: `from cchc_analysis.x import y`
            if not (node.module or "").startswith("cchc_analysis"):
                continue
            mod = node.module.removeprefix("cchc_analysis").lstrip(".")
        else:
            parent = pkg[: len(pkg) - (node.level - 1)]
            mod = ".".join(parent + (node.module.split(".") if node.module else []))
        if mod and _module_file(mod):
            out.add(mod)
        for alias in node.names:  # `from . import provinces`: the names are modules
            sub = f"{mod}.{alias.name}" if mod else alias.name
            if _module_file(sub):
                out.add(sub)
    return out


def module_closure(roots: list[str], stop: frozenset[str] = frozenset()) -> list[Path]:
    """Source files of the modules `roots` import, directly or not (package __init__ files excluded;
    modules in `stop` and what only they import are left out)."""
    seen: set[str] = set()
    todo = [r for r in roots if r not in stop]
    while todo:
        mod = todo.pop()
        if mod in seen:
            continue
        seen.add(mod)
        f = _module_file(mod)
        if f is None:
            raise ImportError(f"module cchc_analysis.{mod} not found under {PACKAGE}")
        todo += [m for m in _imports(f) if m not in seen and m not in stop]
    files = {_module_file(m) for m in seen}
    return sorted(f for f in files if f is not None and not (f.name == "__init__.py" and f.parent == PACKAGE))


def files_digest(files, h=None) -> str:
    """sha256 over the files' project-relative names and bytes, in the given order."""
    h = h or hashlib.sha256()
    for p in files:
        p = Path(p)
        name = p.relative_to(paths.ROOT).as_posix() if p.is_relative_to(paths.ROOT) else p.name
        h.update(name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()
