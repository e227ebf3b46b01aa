"""Command line: `cchc build-data | report | coverage | manifest`."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import paths
from .errors import CchcError


def _years(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-")
            out += list(range(int(a), int(b) + 1))
        elif part.strip():
            out.append(int(part))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="cchc", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build-data", help="build data/processed from data/raw")
    b.add_argument("--raw", type=Path, default=paths.RAW)
    b.add_argument("--out", type=Path, default=paths.PROCESSED)
    b.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    r = sub.add_parser("report", help="build the site: every year page and every province page, as HTML")
    r.add_argument("--years", type=_years, default=None, help="e.g. 2006-2024 or 2019,2020")
    r.add_argument("--notebooks", default=None, help="comma-separated notebook names (default: all)")
    r.add_argument("--jobs", type=int, default=None, help="parallel notebook runs (default: CPUs)")
    r.add_argument("--province", default=None,
                   help="one province (code): its page and year pages focused on it, built into "
                        "reports/province-<code>/ (or --out); default: the whole national site in reports/")
    r.add_argument("--out", type=Path, default=None, help="output folder (default reports/)")
    r.add_argument("--force", action="store_true", help="re-run even when nothing changed")
    r.add_argument("--timeout", type=int, default=600, help="seconds per notebook cell")
    c = sub.add_parser("coverage", help="print index × year coverage")
    c.add_argument("--markdown", action="store_true", help="as the Markdown table used in README.md")
    m = sub.add_parser("manifest", help="check (default) or rewrite data/raw/manifest.yaml")
    m.add_argument("--write", action="store_true")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "build-data":
            from .data import build_data
            build_data(args.raw, args.out, force=args.force)
        elif args.cmd == "coverage":
            from .data import coverage, coverage_markdown
            print(coverage_markdown() if args.markdown else coverage().to_string(index=False))
        elif args.cmd == "manifest":
            from . import manifest
            if args.write:
                print(f"wrote {manifest.write_manifest()}")
            else:
                problems = manifest.verify_manifest()
                print("\n".join(problems) or "data/raw matches the manifest")
                return 1 if problems else 0
        elif args.cmd == "report":
            from .report import run_reports
            notebooks = args.notebooks.split(",") if args.notebooks else None
            out = args.out
            province = args.province
            if province is not None:
                from .params import as_province
                province = as_province(province)
                out = out or paths.REPORTS / f"province-{province}"  # never over the national site
            return run_reports(years=args.years, notebooks=notebooks, jobs=args.jobs, province=province,
                               out_dir=out or paths.REPORTS, force=args.force, timeout=args.timeout)
    except CchcError as e:
        print(f"cchc {args.cmd}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
