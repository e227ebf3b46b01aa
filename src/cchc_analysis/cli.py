"""Command line: `cchc build-data | report | coverage | export | manifest`."""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from . import paths
from .data import COVERAGE_HEADERS, coverage_table  # noqa: F401  (the README's coverage table)
from .errors import CchcError


def _years(text: str) -> list[int]:
    """'2006-2024' or '2019,2020' → years; a clear argparse error for anything else."""
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        bounds = [b.strip() for b in part.split("-")] if "-" in part else [part]
        if len(bounds) > 2 or not all(re.fullmatch(r"\d{4}", b) for b in bounds):
            raise argparse.ArgumentTypeError(f"{part!r} is not a year or a range of years; "
                                             "write e.g. 2020, 2006-2024 or 2019,2020")
        a, b = int(bounds[0]), int(bounds[-1])
        if a > b:
            raise argparse.ArgumentTypeError(f"the range {part!r} is reversed; write {b}-{a}")
        out += list(range(a, b + 1))
    if not out:
        raise argparse.ArgumentTypeError("no year given; write e.g. 2020 or 2006-2024")
    return out


def _jobs(text: str) -> int:
    """A positive number of parallel notebook runs."""
    if not re.fullmatch(r"\s*\d+\s*", text) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of 1 or more")
    return int(text)


def entry() -> int:
    """The console script `cchc`: :func:`main` in a process of its own (so the runner's startup trims apply)."""
    from .report import skip_unused_format_checker

    skip_unused_format_checker()
    return main()


def main(argv: list[str] | None = None) -> int:
    """The `cchc` command: parse the arguments, run the subcommand, return its exit status."""
    ap = argparse.ArgumentParser(prog="cchc", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build-data", help="build data/processed from data/raw")
    b.add_argument("--raw", type=Path, default=paths.RAW)
    b.add_argument("--out", type=Path, default=paths.PROCESSED)
    b.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    r = sub.add_parser("report", help="build the site: every year page and every province page, as HTML")
    r.add_argument("--years", type=_years, default=None, help="e.g. 2006-2024 or 2019,2020")
    r.add_argument("--notebooks", default=None, help="comma-separated notebook names (default: all)")
    r.add_argument("--jobs", type=_jobs, default=None, help="parallel notebook runs, 1 or more (default: CPUs + 1)")
    r.add_argument("--province", default=None,
                   help="one province (code or name): its page and year pages focused on it, built into "
                        "reports/province-<code>/ (or --out); default: the whole national site in reports/")
    r.add_argument("--out", type=Path, default=None, help="output folder (default reports/)")
    r.add_argument("--force", action="store_true", help="re-run even when nothing changed")
    r.add_argument("--timeout", type=int, default=600, help="seconds per notebook cell")
    c = sub.add_parser("coverage", help="print index × year coverage")
    c.add_argument("--markdown", action="store_true", help="as the Markdown table used in README.md")
    e = sub.add_parser("export", help="write the panel or a processed table as CSV, Parquet or Stata .dta")
    e.add_argument("table", help="panel, or a processed table: " + ", ".join(_tables()))
    e.add_argument("--format", dest="fmt", choices=["csv", "parquet", "dta"], default="csv")
    e.add_argument("--out", type=Path, required=True, help="file to write (the codebook goes beside it)")
    e.add_argument("--indices", default=None, help="panel: comma-separated index ids (default: all)")
    e.add_argument("--indicators", default="overall", help="panel: 'overall', 'all' or comma-separated ids")
    e.add_argument("--units", default="provinces", choices=["provinces", "2025"], help="panel: units")
    e.add_argument("--method", default=None, help="panel with --units 2025: mean | min | max")
    e.add_argument("--include-partial", action="store_true", help="panel: keep partial years (selected samples)")
    m = sub.add_parser("manifest", help="check (default) or rewrite data/raw/manifest.yaml")
    m.add_argument("--write", action="store_true")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "build-data":
            from .data import build_data
            build_data(args.raw, args.out, force=args.force)
        elif args.cmd == "coverage":
            from .data import coverage_markdown
            print(coverage_markdown() if args.markdown else coverage_table().to_string(index=False))
        elif args.cmd == "export":
            from . import export
            written = export.export(args.table, args.fmt, args.out, indices=args.indices, indicators=args.indicators,
                                    units=args.units, method=args.method, include_partial=args.include_partial)
            print("wrote " + ", ".join(str(p) for p in written))
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
    except BrokenPipeError:  # `cchc coverage | head`: the reader left; no traceback
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0


def _tables() -> list[str]:
    from .data import TABLES
    return TABLES


if __name__ == "__main__":
    sys.exit(entry())
