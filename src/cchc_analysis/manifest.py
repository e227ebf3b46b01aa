"""The raw-data manifest: every file under data/raw with its checksum and provenance."""
from __future__ import annotations

import fnmatch
import hashlib
from pathlib import Path

import yaml

from . import paths
from .atomic import atomic_write_text

MANIFEST_NAME = "manifest.yaml"


def sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def raw_files(raw_dir: Path = paths.RAW) -> list[str]:
    """Paths (relative to raw_dir, posix) of every raw file except the manifest itself."""
    return sorted(p.relative_to(raw_dir).as_posix() for p in raw_dir.rglob("*")
                  if p.is_file() and p.name != MANIFEST_NAME)


def _provenance(rel: str, rules: list[dict]) -> dict:
    for rule in rules:
        if fnmatch.fnmatch(rel, rule["pattern"]):
            return {k: (list(v) if isinstance(v, list) else v) for k, v in rule.items() if k != "pattern"}
    raise KeyError(f"no provenance rule in data/reference/raw_sources.yaml matches data/raw/{rel}")


def build_manifest(raw_dir: Path = paths.RAW, rules_path: Path = paths.REFERENCE / "raw_sources.yaml") -> dict:
    """The manifest as a dict: {files: [{path, sha256, bytes, publisher, source, licence, covers, caveats}]}."""
    rules = yaml.safe_load(rules_path.read_text(encoding="utf-8"))
    entries = []
    for rel in raw_files(raw_dir):
        p = raw_dir / rel
        entries.append({"path": rel, "sha256": sha256(p), "bytes": p.stat().st_size, **_provenance(rel, rules)})
    return {"description": "Every file in data/raw, as published, with checksum and provenance. "
                           "Regenerate with `cchc manifest --write` only when a raw file is added.",
            "files": entries}


def write_manifest(raw_dir: Path = paths.RAW) -> Path:
    """Write data/raw/manifest.yaml from the raw files and their provenance rules."""
    out = raw_dir / MANIFEST_NAME
    atomic_write_text(out, yaml.safe_dump(build_manifest(raw_dir), allow_unicode=True, sort_keys=False, width=120))
    return out


def load_manifest(raw_dir: Path = paths.RAW) -> dict:
    """The raw manifest as a dict (files: path, sha256, bytes, provenance)."""
    return yaml.safe_load((raw_dir / MANIFEST_NAME).read_text(encoding="utf-8"))


def verify_manifest(raw_dir: Path = paths.RAW) -> list[str]:
    """Problems found: files missing from the manifest, listed but absent, or with another checksum."""
    listed = {e["path"]: e for e in load_manifest(raw_dir)["files"]}
    present = set(raw_files(raw_dir))
    problems = [f"data/raw/{p}: not in the manifest" for p in sorted(present - set(listed))]
    problems += [f"data/raw/{p}: in the manifest but missing" for p in sorted(set(listed) - present)]
    for p in sorted(present & set(listed)):
        if sha256(raw_dir / p) != listed[p]["sha256"]:
            problems.append(f"data/raw/{p}: checksum differs from the manifest (raw files are never edited)")
    return problems


def source_urls(raw_dir: Path = paths.RAW) -> dict[str, list[str]]:
    """raw path (data/raw/...) -> its source addresses, for tables that need a file-level address."""
    return {f"data/raw/{e['path']}": list(e["source"]) for e in load_manifest(raw_dir)["files"]}
