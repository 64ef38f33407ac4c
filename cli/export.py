"""`imw export` — a privacy-safe case-level dataset for one evaluation study.

imw export --study NAME --key-file FILE [--from YYYY-MM-DD] [--to YYYY-MM-DD]
           [--format parquet,csv,dta] [--k 5] [--max-suppressed 1%] [--l-diversity L]
           --out DIR [--home DIR]

Reads the build database of `--home` ($IMW_HOME), writes cases, case-months, codebook and
manifest into DIR (export/evaluator.py). The generalisation of the quasi-identifiers is
the one of least information loss that suppresses at most --max-suppressed of the cases; when
none does, nothing is written and the best candidates are listed. Exit 0 written, 1 failed
(including: the suppression limit cannot be kept), 2 usage error.
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
    e.add_argument(
        "--max-suppressed",
        default="1%",
        help="at most this share of the cases may be suppressed: '1%%' or 0.01 (default 1%%)",
    )
    e.add_argument(
        "--l-diversity",
        dest="ell",
        type=int,
        default=None,
        help="also require L distinct status categories at case start per class (default off)",
    )
    e.add_argument("--out", required=True, help="new or empty folder (or an earlier export)")
    e.add_argument("--home", help="warehouse home (default $IMW_HOME or ./data)")
    e.add_argument("--quiet", action="store_true", help="no progress lines")
    e.set_defaults(func=cmd_export)
    return e


def add_analyse_parser(subparsers) -> argparse.ArgumentParser:
    """Register `analyse-outcomes` on the `imw` sub-command parsers."""
    a = subparsers.add_parser(
        "analyse-outcomes",
        help="export a study's data and fit time-to-outcome models on it (or on --export DIR)",
        description="Fit discrete-time hazard models and Kaplan-Meier curves of three outcomes "
        "(first employment, first B1, moving out of follow-up accommodation) on an evaluator "
        "export (export/outcome_analysis.py). With --export DIR: analyse that export folder. "
        "Otherwise the same options as `imw export` write the export first (formats: at least "
        "parquet). The tables go into the export folder; unless --no-publish, the models, "
        "curves and summary are then published into the warehouse home (published/outcomes) "
        "and the report there, if any, is rendered again with its Wirkung page. "
        "Exit 0 done, 1 failed, 2 usage error.",
    )
    a.add_argument("--export", dest="export_dir", help="analyse this existing export folder")
    a.add_argument("--study", help="study name (letters, digits, _ and -)")
    a.add_argument("--key-file", help="the study's key file (>= 16 bytes)")
    a.add_argument("--from", dest="date_from", help="first day of case start, YYYY-MM-DD")
    a.add_argument("--to", dest="date_to", help="last day of case start, YYYY-MM-DD")
    a.add_argument("--format", dest="formats", default="parquet,csv,dta")
    a.add_argument("--k", type=int, default=5)
    a.add_argument("--max-suppressed", default="1%")
    a.add_argument("--l-diversity", dest="ell", type=int, default=None)
    a.add_argument("--out", help="export folder (new, empty or an earlier export of the study)")
    a.add_argument("--home", help="warehouse home (default $IMW_HOME or ./data)")
    a.add_argument("--quiet", action="store_true", help="no progress lines")
    a.add_argument(
        "--no-publish",
        action="store_true",
        help="only write into the export folder: publish nothing into the home, keep the report",
    )
    a.set_defaults(func=cmd_analyse)
    return a


def cmd_analyse(args: argparse.Namespace) -> int:
    from export.outcome_analysis import AnalysisError, analyse_export

    if args.export_dir:
        folder = Path(args.export_dir)
    else:
        missing = [o for o in ("study", "key_file", "out") if not getattr(args, o)]
        if missing:
            names = ", ".join("--" + m.replace("_", "-") for m in missing)
            print(f"imw analyse-outcomes: give --export DIR, or {names}", file=sys.stderr)
            return EXIT_USAGE
        if "parquet" not in args.formats.split(","):
            print("imw analyse-outcomes: the analysis reads Parquet: keep it in --format",
                  file=sys.stderr)  # fmt: skip
            return EXIT_USAGE
        code = cmd_export(args)
        if code != EXIT_OK:
            return code
        folder = Path(args.out)
    try:
        result = analyse_export(folder)
    except AnalysisError as err:
        print(f"imw analyse-outcomes FAILED: {err}", file=sys.stderr)
        return EXIT_FAILED
    print("\n".join(result.lines()))
    if args.no_publish:
        return EXIT_OK
    return publish_analysis(Settings.from_env(home=args.home), folder)


def publish_analysis(settings: Settings, folder: Path) -> int:
    """Publish the analysis in `folder` into the home and render the home's report again, if it
    has one, so that its Wirkung page shows it; print one line saying what was published."""
    from export.outcome_publish import PublishOutcomesError, publish_outcomes
    from indicator_report.outcomes import PublishedOutcomesError
    from indicator_report.queries import PublishedShapeError
    from indicator_report.render import OutDirError, build_report, report_dir

    target = settings.published_outcomes_dir
    try:
        publish_outcomes(folder, target)
    except (OSError, PublishOutcomesError) as err:
        print(f"imw analyse-outcomes: not published: {err}", file=sys.stderr)
        return EXIT_FAILED
    report = report_dir(settings.published_db)
    if not ((report / "index.html").is_file() and settings.published_db.is_file()):
        print(
            f"published the outcome analysis of {folder} to {target}; no report in "
            f"{settings.home} yet (the next `imw report` or build shows it on its Wirkung page)"
        )
        return EXIT_OK
    try:
        result = build_report(settings.published_db, report, outcomes_dir=target)
    except (OSError, PublishedShapeError, PublishedOutcomesError, OutDirError, ValueError) as err:
        print(
            f"imw analyse-outcomes: published to {target}, but the report could not be rendered "
            f"again: {err}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    print(
        f"published the outcome analysis of {folder} to {target}; report rendered again: "
        f"{result.path / 'wirkung.html'}"
    )
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from export.evaluator import (
        ExportError,
        ExportParams,
        ExportUsageError,
        parse_date,
        parse_share,
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
            max_suppressed_share=parse_share(args.max_suppressed),
            ell=args.ell,
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
