"""`imw` — the warehouse's command line.

imw build    [--home DIR] [--landing DIR] [--reference-date YYYY-MM-DD] [--full-refresh]
                                              run the nightly_build job once, in-process
imw status   [--home DIR]                     last build, rejections, published age (exit 0/1)
imw dagster-home [--home DIR]                 prepare and print the Dagster instance folder
imw generate --scale {tiny,demo,bw,federal} --out DIR --seed N [--stand YYYY-MM-DD] [--no-effect]
imw demo     [--home DIR]                     synthetic data → build → published values
imw report   [--home DIR] [--period 2025] [--out DIR]   the German HTML indicator report
imw export   --study NAME --key-file FILE --out DIR [...]   k-anonymous dataset for evaluators
imw forecast [--caseload-target N] [--rate EUR] [...]      needs forecast (24 months)
imw simulate-funding --rule flat --rate 55000 [--cap] [...]  funding-rate simulator
imw analyse-outcomes (--export DIR | the export's options) [--home DIR] [--no-publish]
                                              hazard models + Kaplan-Meier; publishes them
                                              for the report's Wirkung page
imw rekey    --confirm [--home DIR]           new key: re-pseudonymise the raw layer from archive/
imw check    FILE...                          pre-check delivery files with the extract gate
imw contract --write | --check                regenerate / verify files derived from the contract
                                              (--write also docs/data_rules.md: which data rule
                                              runs where, from the parsed dbt project)
imw ui | webserver | daemon [--home DIR]      Dagster services (refuse to start without a key)
imw serve-check [--issue-token AGS]           the clerks' pre-check web page (127.0.0.1:8081)
"""

from __future__ import annotations

import argparse
import errno
import gc
import json
import os
import shutil
import socket
import sys
import uuid
from collections.abc import Mapping, Sequence
from contextlib import redirect_stdout
from datetime import UTC, date, datetime
from pathlib import Path

from cli.export import add_analyse_parser
from cli.export import add_parser as add_export_parser
from cli.forecast import add_parsers as add_forecast_parsers
from cli.serve_check import add_parser as add_serve_check_parser
from cli.services import add_parsers as add_service_parsers
from core import progress
from core.collector import long_lived
from core.resources import says_out_of_memory
from core.settings import (
    DBT_PROJECT_DIR,
    DEMO_KEY,
    KEY_ENV,
    PROJECT_ROOT,
    MissingKeyError,
    Settings,
    applied_environment,
    pseudonym_key,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEMO_MARKER = ".imw-demo-home"
GENERATOR_SCALES = ("tiny", "demo", "bw", "federal")
"""`imw generate --scale`: synthetic.params.Scale, spelled out so `imw --help` does not import
the generator (tests/test_synthetic_parts.py checks that the two agree)."""


def run_build(
    settings: Settings,
    trigger: str = "cli",
    reference_date: date | None = None,
    *,
    full_refresh: bool = False,
) -> bool:
    """Run the `nightly_build` job in-process — the same definitions the UI and schedule use.

    The run goes into the warehouse's Dagster instance (`settings.dagster_home`), so it shows in
    the UI's run history; its record goes to `logs/builds.jsonl` and the operator report.
    """
    from reports.build_guard import home_lock, new_marker, reconcile_dead_builds, write_marker

    settings.ensure_dirs()
    started = datetime.now(UTC)
    log_path = settings.logs_dir / f"build_{started:%Y%m%dT%H%M%S}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    run_id = str(uuid.uuid4())
    marker = new_marker(run_id, trigger, log_path)
    # Raises BuildRunning at once when another build holds the home (the caller says so).
    with home_lock(settings, marker):
        for dead in reconcile_dead_builds(settings):
            print(f"recorded as FAILED ({dead.describe()}): its process died", file=sys.stderr)
        write_marker(settings, marker)
        # The run's dbt process starts first: its imports run beside this process's and
        # Dagster's start, not after them, and it is warm when a correction's ingest is done
        # (`dbt_prestart.start_early`). Started in the environment the run's own would see.
        from orchestration import dbt_prestart

        with applied_environment(settings.env()):
            early = dbt_prestart.start_early(dbt_prestart.dbt_executable(), DBT_PROJECT_DIR)
        try:
            return _run_locked(
                settings, trigger, started, log_path, run_id, reference_date, full_refresh
            )
        finally:
            dbt_prestart.release_early(early)  # no run took it: it failed before its run


def _run_locked(
    settings: Settings,
    trigger: str,
    started: datetime,
    log_path: Path,
    run_id: str,
    reference_date: date | None,
    full_refresh: bool = False,
) -> bool:
    # The build's modules and its definitions live as long as the process: made without the
    # collector running and moved out of its way (`core.collector`), so none of its
    # collections during the build walks them. Given back to it when the run ends.
    with long_lived():
        from orchestration.automation import active_runs
        from orchestration.dagster_storage import build_instance
        from orchestration.definitions import NIGHTLY_BUILD, build_definitions
        from orchestration.resources import WarehouseResource
        from reports.build_record import failed_before_run, record_from_run, save_record

    try:
        # dbt's event stream goes to the build log; the console gets warnings and the summary.
        with (
            applied_environment(settings.env()),
            log_path.open("w", encoding="utf-8") as log,
            redirect_stdout(log),
            build_instance(settings.ensure_dagster_home()) as instance,
        ):
            active_runs(instance, NIGHTLY_BUILD)  # marks runs of killed `imw build`s failed
            # ≈ 600,000 objects with the modules: a full collection during the build no longer
            # walks them (the build's 9 full collections took 1.5 s of a `bw` build without a
            # delivery, 2026-12-05)
            with long_lived():
                defs = build_definitions(
                    WarehouseResource(
                        home=str(settings.home),
                        landing=str(settings.landing),
                        reference_date=reference_date.isoformat() if reference_date else None,
                        full_refresh=full_refresh,
                    )
                )
                job = defs.resolve_job_def(NIGHTLY_BUILD)
            result = job.execute_in_process(
                instance=instance,
                run_id=run_id,
                raise_on_error=False,
                tags={
                    "imw/trigger": trigger,
                    "imw/host": socket.gethostname(),
                    "imw/pid": str(os.getpid()),
                },
                run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
            )
            record = record_from_run(instance, result.run_id, log_path, started)
    except Exception as err:
        record = failed_before_run(started, f"{type(err).__name__}: {err}", log_path, run_id)
        save_record(settings, record)
        raise
    finally:
        gc.unfreeze()
    save_record(settings, record)
    if not record.ok and _says_disk_full(record.reason or ""):
        print(DISK_FULL_MESSAGE.format(home=settings.home), file=sys.stderr)
    if not record.ok and says_out_of_memory(record.reason or ""):
        print(out_of_memory_message(), file=sys.stderr)
    if not record.ok:
        print(f"build FAILED in step(s): {', '.join(record.failed_steps) or 'unknown'}",
              file=sys.stderr)  # fmt: skip
        print(f"reason: {record.reason}", file=sys.stderr)
        print(f"details: {log_path}", file=sys.stderr)
    return record.ok


def print_build_summary(settings: Settings, since: datetime) -> None:
    from core.database import connect

    with connect(settings.build_db, read_only=True) as con:
        rows = con.execute(
            """
            SELECT verdict, count(*), coalesce(sum(rows_loaded), 0),
                   coalesce(sum(rows_quarantined), 0), coalesce(sum(rows_delivered), 0)
            FROM raw.deliveries WHERE received_at >= ? GROUP BY verdict ORDER BY verdict
            """,
            [since.replace(tzinfo=None)],
        ).fetchall()
        rejected = con.execute(
            "SELECT file_name, message_en FROM raw.deliveries "
            "WHERE received_at >= ? AND verdict = 'REJECTED' ORDER BY file_name",
            [since.replace(tzinfo=None)],
        ).fetchall()
    if not rows:
        print("no new files in the landing folder")
    for verdict, files, loaded, quarantined, delivered in rows:
        if verdict == "REJECTED":
            # a file rejected whole: every row it has (as far as readable) is rejected (DQ02)
            print(f"{verdict.lower():>9}: {files} files, {delivered} rows rejected")
            continue
        print(
            f"{verdict.lower():>9}: {files} files, {loaded} rows loaded, "
            f"{quarantined} rows quarantined"
        )
    for name, message in rejected:
        print(f"  rejected {name}: {message}")
    print(reference_date_line(reference_date_of(settings.build_db)))
    print(f"reports:   {settings.reports_dir}")
    print(f"published: {settings.published_db}")


def reference_date_of(build_db: Path) -> tuple[date | None, date | None, bool] | None:
    """(R, newest provider stand, explicit?) of the last dbt run in the build database; None
    when dbt has not built int_reference_date (e.g. the build failed before dbt)."""
    from core.database import connect

    with connect(build_db, read_only=True) as con:
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'intermediate' AND table_name = 'int_reference_date'"
        ).fetchone()[0]
        if not exists:
            return None
        return con.execute(
            "SELECT reference_date, newest_provider_stand, is_explicit "
            "FROM intermediate.int_reference_date"
        ).fetchone()


def reference_date_line(info: tuple[date | None, date | None, bool] | None) -> str:
    """What a build says about its reference date R (docs/indicators.md v2)."""
    if info is None:
        return "reference date: unknown (dbt did not run)"
    reference, newest, explicit = info
    if reference is None:
        return (
            "reference date: none — no accepted snapshot of any provider extract, so there are no "
            "periods and the published tables are empty"
        )
    how = (
        f"set by --reference-date (newest provider stand {newest})"
        if explicit
        else "newest stand of the providers' current snapshots"
    )
    return f"reference date R: {reference} ({how}); nothing after it is counted"


def cmd_build(args: argparse.Namespace) -> int:
    from ingest.pseudonymise import KeyMismatchError
    from reports.build_guard import BuildRunning

    settings = Settings.from_env(home=args.home, landing=args.landing)
    try:
        key = pseudonym_key()
        verify_warehouse_key(settings, key)
    except (MissingKeyError, KeyMismatchError) as err:
        print(f"imw build: {err}", file=sys.stderr)
        return EXIT_USAGE
    started = datetime.now(UTC)
    try:
        with progress.reporting(args.quiet):
            progress.report("build", f"home {settings.home} · landing {settings.landing}")
            ok = run_build(
                settings, reference_date=args.reference_date, full_refresh=args.full_refresh
            )
            progress.report(
                "done" if ok else "failed",
                f"build {'published' if ok else 'FAILED'} in "
                f"{(datetime.now(UTC) - started).total_seconds():.1f} s",
            )
    except BuildRunning as err:
        print(f"imw build: {err}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as err:
        if not disk_full(err):
            raise
        print(DISK_FULL_MESSAGE.format(home=settings.home), file=sys.stderr)
        return EXIT_FAILED
    if settings.build_db.exists() and not (args.quiet and ok):
        print_build_summary(settings, started)
    return EXIT_OK if ok else EXIT_FAILED


DISK_FULL_MESSAGE = (
    "imw build: FAILED — the disk is full (no space left to write). Nothing new was published; "
    "the last good published database stays in place. Free space under {home} and run the "
    "build again."
)


def out_of_memory_message(environ: Mapping[str, str] | None = None) -> str:
    """What an operator does when DuckDB ran out of its limit: which setting, its value now."""
    from core.resources import MEMORY_LIMIT_ENV, doubled_memory_limit, memory_limit

    limit = memory_limit(environ)
    return (
        f"imw build: FAILED — DuckDB needed more memory than {MEMORY_LIMIT_ENV}="
        f"{limit} (the limit of each of its databases). Nothing new was published; the last "
        "good published database stays in place. Set a higher limit, e.g. "
        f"{MEMORY_LIMIT_ENV}={doubled_memory_limit(limit)} (twice this one), and build again "
        "(README, Operators: ten times the `bw` data failed at the default 1GB and at 2GB, "
        "at 5GB now and then with two queries side by side, which a build now retries one at "
        "a time, and built at 4GB and 6GB)."
    )


def _says_disk_full(text: str) -> bool:
    return "disk is full" in text or "No space left on device" in text


def disk_full(err: BaseException) -> bool:
    """Whether an error (or one it was raised from) says the disk is full: OSError ENOSPC or
    EDQUOT, or SQLite's (Dagster's run storage) and DuckDB's wording of the same."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if _says_disk_full(str(current)):
            return True
        current = current.__cause__ or current.__context__
    return False


def verify_warehouse_key(settings: Settings, key: bytes) -> None:
    """Refuse a key the build database was not pseudonymised with (exit 2 before any work).

    The ingest checks again inside the build, for runs the daemon starts.
    """
    import duckdb

    from core.database import connect
    from ingest.pseudonymise import KeyMismatchError, fingerprint

    if not settings.build_db.exists():
        return
    try:
        con = connect(settings.build_db, read_only=True)
    except duckdb.IOException:
        return  # a running build holds it; the lock check says so next
    with con:
        tables = con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'raw' AND table_name = 'warehouse_key'"
        ).fetchone()[0]
        known = (
            con.execute(
                "SELECT fingerprint FROM raw.warehouse_key ORDER BY recorded_at DESC LIMIT 1"
            ).fetchone()
            if tables
            else None
        )
    if known is not None and known[0] != fingerprint(key):
        raise KeyMismatchError(
            f"{KEY_ENV} is not the key this warehouse was built with (fingerprints differ). Use "
            "the original key; to change it on purpose run `imw rekey --confirm` with the new "
            "key (see README, Data protection)."
        )


def cmd_generate(args: argparse.Namespace) -> int:
    from synthetic import NO_EFFECT, WITH_EFFECT, generate

    out = Path(args.out)
    started = datetime.now(UTC)
    with progress.reporting(args.quiet):
        progress.report("generate", f"scale {args.scale} · seed {args.seed} → {out}")
        result = generate(
            args.scale,
            out,
            seed=args.seed,
            stand=args.stand,
            defects=args.defects,
            effects=NO_EFFECT if args.no_effect else WITH_EFFECT,
        )
        progress.report(
            "done",
            f"{len(result.files)} files · {sum(result.rows.values()):,} rows in "
            f"{(datetime.now(UTC) - started).total_seconds():.1f} s",
        )
    if args.quiet:
        return EXIT_OK
    print(f"wrote {len(result.files)} files to {out}")
    for extract, n in sorted(result.rows.items()):
        print(f"  {extract:<22} {n:>10,} rows")
    print(f"ground truth: {result.truth_path}")
    if result.defects_path:
        print(f"defects manifest: {result.defects_path}")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """Pre-check files with the same gate as the warehouse, on a throw-away database."""
    import tempfile

    from ingest.load import ACCEPTED, DUPLICATE, Folders, ingest_landing
    from ingest.pseudonymise import throwaway_key
    from reports.delivery import write_delivery_reports

    paths = [Path(f) for f in args.files]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"imw check: no such file: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    with tempfile.TemporaryDirectory(prefix="imw-check-") as tmp:
        settings = Settings.from_env(home=tmp, environ={})
        settings.ensure_dirs()
        copies = []
        for i, path in enumerate(paths):
            # One folder per file: two files of the same name (a/x.csv, b/x.csv) stay two.
            copy = settings.landing / str(i) / path.name
            copy.parent.mkdir()
            shutil.copyfile(path, copy)
            copies.append(copy)
        folders = Folders.of(settings)
        # A throw-away key: nothing of this run is kept, and no real pseudonym is ever shown.
        result = ingest_landing(settings.build_db, folders, throwaway_key(), copies,
                                precheck=True)  # fmt: skip
        reports = write_delivery_reports(result, settings.build_db, settings.reports_dir)
        for report in reports:
            print(report.read_text(encoding="utf-8"))
    if result.unchecked_references:
        print("Nicht geprüfte Bezüge (Datei nicht dabei) / references not checked (file not "
              "included): " + ", ".join(result.unchecked_references))  # fmt: skip
    ok = all(v.verdict in (ACCEPTED, DUPLICATE) and not v.rows_quarantined for v in result.verdicts)
    return EXIT_OK if ok else EXIT_FAILED


def cmd_status(args: argparse.Namespace) -> int:
    from reports.status import status_report

    settings = Settings.from_env(home=args.home)
    text, healthy = status_report(settings)
    print(text, end="")
    if args.open:
        from reports.status import open_issues_report

        print()
        print(open_issues_report(settings), end="")
    return EXIT_OK if healthy else EXIT_FAILED


def cmd_dagster_home(args: argparse.Namespace) -> int:
    settings = Settings.from_env(home=args.home)
    print(settings.ensure_dagster_home())
    return EXIT_OK


def _fresh_demo_home(home: Path) -> None:
    if home.exists():
        if not (home / DEMO_MARKER).exists() and any(home.iterdir()):
            raise SystemExit(
                f"imw demo: {home} exists and is not a demo home; choose another --home"
            )
        shutil.rmtree(home)
    home.mkdir(parents=True)
    (home / DEMO_MARKER).write_text("created by `imw demo`; deleted by the next demo run\n")


def cmd_demo(args: argparse.Namespace) -> int:
    from cli.demo import demo_summary, next_steps
    from synthetic import generate

    home = Path(args.home or PROJECT_ROOT / "data" / "demo").resolve()
    _fresh_demo_home(home)
    settings = Settings.from_env(home=home)
    print(f"demo home: {home}")
    print(
        f"using the fixed DEMO pseudonymisation key ({KEY_ENV}={DEMO_KEY!r}) — "
        "never use it for real data"
    )
    result = generate(
        "demo",
        settings.landing,
        seed=args.seed,
        stand=args.stand,
        truth_path=home / "ground_truth.json",
    )
    print(f"generated {len(result.files)} synthetic extract files into {settings.landing}")
    with applied_environment({KEY_ENV: DEMO_KEY}):
        started = datetime.now(UTC)
        ok = run_build(settings)
    print_build_summary(settings, started)
    if not ok:
        return EXIT_FAILED
    print()
    print(demo_summary(settings.published_db, args.stand))
    from indicator_report.render import report_dir

    print(
        f"\nKennzahlenbericht (open in a browser): {report_dir(settings.published_db)}/index.html"
    )
    print()
    print(next_steps(home, DEMO_KEY))
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """Render the Kennzahlenbericht from the published database (never the build database)."""
    from indicator_report.queries import PublishedShapeError
    from indicator_report.render import OutDirError, build_report, report_dir

    settings = Settings.from_env(home=args.home)
    out = Path(args.out) if args.out else report_dir(settings.published_db)
    try:
        result = build_report(
            settings.published_db,
            out,
            args.period,
            settings.published_outcomes_dir,
            chart_cache=settings.report_charts,
        )
    except (FileNotFoundError, PublishedShapeError, OutDirError, ValueError) as err:
        print(f"imw report: {err}", file=sys.stderr)
        return EXIT_USAGE
    print(
        f"Kennzahlenbericht {result.year}: {result.pages} pages, "
        f"{result.bytes / 1e6:.1f} MB, {result.seconds:.1f} s (publish {result.publish_id}); "
        f"{result.charts_rendered} of {result.charts} charts rendered "
        f"({result.charts - result.charts_rendered} unchanged since the last report)"
    )
    print(f"report: {result.index}")
    return EXIT_OK


def cmd_rekey(args: argparse.Namespace) -> int:
    """Re-pseudonymise the raw layer with a new key, from the kept deliveries."""
    from ingest.rekey import RekeyError, rekey
    from reports.build_guard import BuildRunning, home_lock, new_marker

    settings = Settings.from_env(home=args.home)
    if not args.confirm:
        print(
            "imw rekey: rebuilds the raw layer from archive/ and quarantine/ with the key in "
            f"{KEY_ENV}; every pseudonym changes (evaluator exports made before cannot be joined "
            "with later ones). Run again with --confirm.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        key = pseudonym_key()
    except MissingKeyError as err:
        print(f"imw rekey: {err}", file=sys.stderr)
        return EXIT_USAGE
    try:
        with home_lock(settings, new_marker(f"rekey-{uuid.uuid4()}", "imw rekey")):
            result = rekey(settings.home, settings.build_db, settings.archive_dir,
                           settings.quarantine_dir, key)  # fmt: skip
    except (BuildRunning, RekeyError) as err:
        print(f"imw rekey: {err}", file=sys.stderr)
        return EXIT_FAILED
    counts = ", ".join(f"{n} {v.lower()}" for v, n in sorted(result.verdicts.items()))
    print(f"re-keyed: {result.files} deliveries in {result.runs} runs ({counts})")
    if result.skipped_links:
        print(f"  {result.skipped_links} refused links had no bytes to replay")
    print(f"old build database kept at {result.backup}: delete it once `imw build` has run")
    print("next: `imw build` rebuilds every model with the new pseudonyms")
    return EXIT_OK


def cmd_contract(args: argparse.Namespace) -> int:
    from contract.codegen import stale_files, write_all

    if args.write:
        for path in write_all(PROJECT_ROOT):
            print(f"wrote {path}")
        print(f"wrote {write_data_rules()}")
        return EXIT_OK
    # docs/data_rules.md is checked by tests/test_data_rules.py, not here: it needs the parsed dbt
    # project, and `make lint` runs this beside `make manifest`, which parses it.
    stale = stale_files(PROJECT_ROOT)
    for path in stale:
        print(f"stale: {path} (run `imw contract --write`)", file=sys.stderr)
    return EXIT_FAILED if stale else EXIT_OK


def write_data_rules() -> Path:
    """docs/data_rules.md from the dbt manifest (parsed first if the project changed since)."""
    from expectations.data_rules import write
    from orchestration.dbt_project import dbt_project

    manifest = json.loads(dbt_project().manifest_path.read_text(encoding="utf-8"))
    return write(PROJECT_ROOT, manifest)


def _date(text: str) -> date:
    return date.fromisoformat(text)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="imw", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="ingest landing files, run dbt, publish")
    b.add_argument("--home", help="warehouse home (default $IMW_HOME or ./data)")
    b.add_argument("--landing", help="landing folder (default $IMW_HOME/landing)")
    b.add_argument(
        "--reference-date",
        type=_date,
        help="YYYY-MM-DD: publish as of this earlier reference date R (rows dated after it are "
        "ignored, the funding authority's extracts cut at it); default: the newest stand of the "
        "providers' current snapshots",
    )
    b.add_argument(
        "--full-refresh",
        action="store_true",
        help="build every dbt model from scratch, not only the rows of the providers whose "
        "deliveries changed (done by itself when the dbt project changed)",
    )
    b.add_argument("--quiet", action="store_true", help="no progress; output only on failure")
    b.set_defaults(func=cmd_build)

    s = sub.add_parser(
        "status",
        help="last build, rejected files, age of the published database; exit 1 unless the last "
        "build succeeded and the published data are fresh",
    )
    s.add_argument("--home", help="warehouse home (default $IMW_HOME or ./data)")
    s.add_argument("--open", action="store_true",
                   help="also every open problem (rejection, quarantine) per provider")  # fmt: skip
    s.set_defaults(func=cmd_status)

    h = sub.add_parser(
        "dagster-home",
        help="prepare the Dagster instance folder ($DAGSTER_HOME, default $IMW_HOME/dagster) "
        "with the project's dagster.yaml and print its path",
    )
    h.add_argument("--home", help="warehouse home (default $IMW_HOME or ./data)")
    h.set_defaults(func=cmd_dagster_home)

    g = sub.add_parser("generate", help="write synthetic extracts in contract format")
    g.add_argument("--scale", choices=GENERATOR_SCALES, required=True)
    g.add_argument("--out", required=True, help="folder to write the extract files to")
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--stand", type=_date, default=date(2026, 6, 30), help="YYYY-MM-DD")
    g.add_argument(
        "--defects",
        type=float,
        default=0.0,
        help="share of rows to break in half of the providers' files (e.g. 0.02)",
    )
    g.add_argument(
        "--no-effect",
        action="store_true",
        help="a world where case management has no effect on outcomes (ground_truth.json)",
    )
    g.add_argument("--quiet", action="store_true", help="no progress and no summary")
    g.set_defaults(func=cmd_generate)

    d = sub.add_parser("demo", help="generate demo data into a fresh home, build, show values")
    d.add_argument("--home", help="demo home (default ./data/demo; wiped on every run)")
    d.add_argument("--seed", type=int, default=1)
    d.add_argument("--stand", type=_date, default=date(2026, 6, 30))
    d.set_defaults(func=cmd_demo)

    k = sub.add_parser("check", help="pre-check delivery files (no warehouse needed); exit 0/1")
    k.add_argument("files", nargs="+", help="extract files named <extract>_<AGS>_<stand>.csv|xlsx")
    k.set_defaults(func=cmd_check)

    r = sub.add_parser(
        "report", help="render the German HTML indicator report from the published database"
    )
    r.add_argument("--home", help="warehouse home (default $IMW_HOME or ./data)")
    r.add_argument("--period", help="year to report on (default: the latest complete year)")
    r.add_argument("--out", help="report folder (default $IMW_HOME/published/report)")
    r.set_defaults(func=cmd_report)

    add_export_parser(sub)
    add_forecast_parsers(sub)
    add_analyse_parser(sub)

    r = sub.add_parser(
        "rekey",
        help=f"change the pseudonymisation key: rebuild the raw layer with the key in {KEY_ENV} "
        "from the kept deliveries",
    )
    r.add_argument("--home", help="warehouse home (default $IMW_HOME or ./data)")
    r.add_argument("--confirm", action="store_true", help="really do it")
    r.set_defaults(func=cmd_rekey)
    add_service_parsers(sub)
    add_serve_check_parser(sub)

    c = sub.add_parser("contract", help="files derived from the extract contract")
    mode = c.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="regenerate them")
    mode.add_argument("--check", action="store_true", help="fail if any is stale")
    c.set_defaults(func=cmd_contract)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


def run() -> int:
    """The `imw` console script: `main`, then the heap frozen before the interpreter exits. Its
    exit collects the garbage of every module it tears down, walking the whole heap each time:
    2.0 s after a `bw` build had printed its summary (2026-12-05), 0.2 s frozen. Files, DuckDB
    databases and the Dagster instance are closed by then; nothing but the collection is
    skipped."""
    code = main()
    gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(run())
