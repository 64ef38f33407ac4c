"""`imw export` — a privacy-safe case-level dataset for one evaluation study.

imw export --study NAME --key-file FILE [--from YYYY-MM-DD] [--to YYYY-MM-DD]
           [--format parquet,csv,dta] [--k 5] --out DIR [--home DIR]

Reads the build database of `--home` ($IMW_HOME), writes cases, case-months, codebook and
manifest into DIR (export/evaluator.py). Exit 0 written, 1 failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core import progress
from core.settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `export` on the `imw` sub-command parsers."""
    e = subparsers.add_parser(
        "export",
        help="write a pseudonymised, k-anonymous case-level dataset for an evaluation study",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    e.add_argument("--study", required=True, help="study name (letters, digits, _ and -)")
    e.add_argument(
        "--key-file",
        required=True,
        help="file whose bytes (>= 16) are the study's own pseudonymisation key",
    )
    e.add_argument("--from", dest="date_from", help="first day of case start, YYYY-MM-DD")
    e.add_argument("--to", dest="date_to", help="last day of case start, YYYY-MM-DD")
    e.add_argument(
        "--format", dest="formats", default="parquet,csv,dta", help="comma-separated formats"
    )
    e.add_argument("--k", type=int, default=5, help="k-anonymity: persons per combination")
    e.add_argument("--out", required=True, help="new or empty folder (or an earlier export)")
    e.add_argument("--home", help="warehouse home (default $IMW_HOME or ./data)")
    e.add_argument("--quiet", action="store_true", help="no progress lines")
    e.set_defaults(func=cmd_export)
    return e


def cmd_export(args: argparse.Namespace) -> int:
    from export.evaluator import (
        ExportError,
        ExportParams,
        ExportUsageError,
        parse_date,
        run_export,
    )

    try:
        params = ExportParams(
            study=args.study,
            key_file=Path(args.key_file),
            date_from=parse_date(args.date_from, "--from"),
            date_to=parse_date(args.date_to, "--to"),
            formats=tuple(f.strip().lower() for f in args.formats.split(",") if f.strip()),
            k=args.k,
            out=Path(args.out),
        )
    except ValueError as err:
        print(f"imw export: {err}", file=sys.stderr)
        return EXIT_USAGE
    settings = Settings.from_env(home=args.home)
    try:
        with progress.reporting(args.quiet):
            result = run_export(settings, params)
    except ExportUsageError as err:
        print(f"imw export: {err}", file=sys.stderr)
        return EXIT_USAGE
    except ExportError as err:
        print(f"imw export FAILED: {err}", file=sys.stderr)
        return EXIT_FAILED
    print(result.summary())
    return EXIT_OK
