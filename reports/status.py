"""`imw status`: the state of a warehouse home at a glance, for the operator on call.

Reads only files and read-only databases (no Dagster import), so it is fast and safe to run while
a build is going on: the last build from `logs/builds.jsonl`, rejected deliveries from
`raw.deliveries`, the published database's age and row counts from its `build_info`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from core.database import connect
from core.periods import period_label
from core.settings import Settings
from publish.analyst_db import BUILD_INFO_TABLE
from reports.build_guard import dead_markers, is_locked
from reports.build_record import REPORT_NAME, BuildRecord, died_record, read_records
from reports.operator import OPERATOR_FOLDER

FRESHNESS_LIMIT = timedelta(hours=36)
"""Published indicators older than this are stale (two nightly builds missed)."""


@dataclass(frozen=True)
class PublishedInfo:
    path: Path
    publish_id: str
    published_at: datetime
    """UTC, aware."""
    row_counts: dict[str, int]
    reference_date: date | None = None
    """R of the published build (build_info.reference_date); None without R."""
    periods_to_date: tuple[str, ...] = ()
    """Published periods that end after R, labelled "2026 (bis 30.06.)"."""

    def age(self, now: datetime | None = None) -> timedelta:
        return (now or datetime.now(UTC)) - self.published_at

    def is_fresh(self, now: datetime | None = None) -> bool:
        return self.age(now) <= FRESHNESS_LIMIT


def published_info(published_db: Path) -> PublishedInfo | None:
    """What `build_info` of the published database says; None if there is none yet."""
    if not published_db.exists():
        return None
    with connect(published_db, read_only=True) as con:
        rows = con.execute(
            f"SELECT table_name, row_count, publish_id, published_at_utc FROM {BUILD_INFO_TABLE} "
            "ORDER BY table_name"
        ).fetchall()
        columns = {r[0] for r in con.execute(f"DESCRIBE {BUILD_INFO_TABLE}").fetchall()}
        reference = (
            con.execute(f"SELECT any_value(reference_date) FROM {BUILD_INFO_TABLE}").fetchone()[0]
            if "reference_date" in columns
            else None
        )
        incomplete = (
            con.execute(
                "SELECT DISTINCT period FROM indicator_values WHERE NOT period_complete "
                "ORDER BY period"
            ).fetchall()
            if "indicator_values" in {r[0] for r in rows} and reference is not None
            else []
        )
    if not rows:
        return None
    return PublishedInfo(
        path=published_db,
        publish_id=rows[0][2],
        published_at=rows[0][3].replace(tzinfo=UTC),
        row_counts={r[0]: r[1] for r in rows},
        reference_date=reference,
        periods_to_date=tuple(period_label(p, False, reference) for (p,) in incomplete),
    )


class BuildDatabaseBusy(RuntimeError):
    """A running build holds the build database's write lock."""


def rejected_since(build_db: Path, since: datetime | None) -> list[tuple[str, str, str, str]]:
    """(provider, file, received at, reason) of every file rejected since `since` (UTC)."""
    if not build_db.exists():
        return []
    try:
        con = connect(build_db, read_only=True)
    except duckdb.IOException as err:
        raise BuildDatabaseBusy(str(err).splitlines()[0]) from err
    with con:
        has_table = con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'raw' AND table_name = 'deliveries'"
        ).fetchall()[0][0]
        if not has_table:  # a build database no ingest has written to yet
            return []
        rows = con.execute(
            """
            SELECT coalesce(provider, '?'), file_name, strftime(received_at, '%Y-%m-%d %H:%M'),
                   coalesce(message_en, reason, '')
            FROM raw.deliveries
            WHERE verdict = 'REJECTED' AND (? IS NULL OR received_at >= ?)
            ORDER BY 1, 3, 2
            """,
            [since, since],
        ).fetchall()
    return rows


def _age_text(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def _since(record: BuildRecord) -> datetime:
    return datetime.fromisoformat(record.started_at).astimezone(UTC).replace(tzinfo=None)


def open_issues_report(settings: Settings) -> str:
    """`imw status --open`: the open problems per provider (raw.provider_issues)."""
    from reports.open_issues import read_open_issues, status_text

    if not settings.build_db.exists():
        return f"warehouse home: {settings.home}\nopen problems: no build database yet\n"
    try:
        con = connect(settings.build_db, read_only=True)
    except duckdb.IOException:
        return "open problems: unknown — a build is running (database locked)\n"
    with con:
        issues = read_open_issues(con)
    return "\n".join([f"warehouse home: {settings.home}", *status_text(issues)]) + "\n"


def status_report(settings: Settings, now: datetime | None = None) -> tuple[str, bool]:
    """The text `imw status` prints, and whether all is well (last build ok, published fresh)."""
    now = now or datetime.now(UTC)
    # A build that started and whose process is gone failed, whether or not anyone has written
    # its record yet (the next build does).
    recorded = {r.run_id for r in read_records(settings)}
    records = read_records(settings) + [
        died_record(m) for m in dead_markers(settings) if m.run_id not in recorded
    ]
    records.sort(key=lambda r: r.started_at)
    last = records[-1] if records else None
    last_ok = next((r for r in reversed(records) if r.ok), None)
    lines = [f"warehouse home: {settings.home}", ""]
    healthy = True
    if last is None:
        lines.append("last build:  none recorded yet (run `imw build`)")
        healthy = False
    else:
        lines.append(
            f"last build:  {last.result.upper()} — started {last.started_at[:19]} UTC, "
            f"{last.duration_s:.0f} s, trigger {last.trigger}"
        )
        lines += [
            f"  {s.stage:<10} {s.step:<45} {s.status:<8} "
            f"{'' if s.duration_s is None else f'{s.duration_s:7.1f} s'}"
            for s in last.steps
        ]
        lines += [f"  note: {note}" for note in last.notes]
        if not last.ok:
            healthy = False
            lines.append(f"  failed steps: {', '.join(last.failed_steps) or '-'}")
            lines.append(f"  reason: {last.error or last.reason}")
            if last.error and last.reason and last.error not in last.reason:
                lines.append(f"  details: {last.reason}")
            if last.file:
                lines.append(f"  file: {last.file}")
            if last.log:
                lines.append(f"  log: {last.log}")
            if last_ok is not None:
                lines.append(f"last successful build: {last_ok.started_at[:19]} UTC")
            else:
                lines.append("last successful build: none")
    running = is_locked(settings)
    if running:
        lines.append(f"running now: {running}")
    lines.append("")

    since = _since(last_ok) if last_ok is not None else None
    window = f"since {since:%Y-%m-%d %H:%M} UTC" if since else "ever"
    try:
        rejected = rejected_since(settings.build_db, since)
        lines.append(f"rejected files {window}: {len(rejected)}")
    except BuildDatabaseBusy:
        rejected = []
        lines.append(f"rejected files {window}: unknown — a build is running (database locked)")
    for provider in sorted({r[0] for r in rejected}):
        mine = [r for r in rejected if r[0] == provider]
        lines.append(f"  {provider}: {len(mine)} file(s)")
        lines += [f"    {name} ({at}): {reason}" for _, name, at, reason in mine]
    lines.append("")

    info = published_info(settings.published_db)
    if info is None:
        lines.append(f"published:   nothing yet at {settings.published_db}")
        healthy = False
    else:
        fresh = info.is_fresh(now)
        healthy = healthy and fresh
        limit = int(FRESHNESS_LIMIT.total_seconds() // 3600)
        state = "fresh" if fresh else f"STALE (older than {limit} h)"
        lines.append(
            f"published:   {info.path} — {info.published_at:%Y-%m-%d %H:%M} UTC, "
            f"age {_age_text(info.age(now))}, {state}"
        )
        lines.append(
            f"  reference date R: {info.reference_date}; periods to date: "
            f"{', '.join(info.periods_to_date) or 'none'}"
            if info.reference_date is not None
            else "  reference date R: none (no accepted provider snapshot; tables are empty)"
        )
        lines += [f"  {table:<36} {n:>10,} rows" for table, n in info.row_counts.items()]
    lines += [
        "",
        "reports:",
        f"  last build            {settings.reports_dir / OPERATOR_FOLDER / REPORT_NAME}.md",
        f"  mart gate             {settings.reports_dir / OPERATOR_FOLDER / 'mart_gate.md'}",
        f"  data quality          {settings.reports_dir / OPERATOR_FOLDER / 'datenqualitaet.md'}",
        f"  deliveries            {settings.reports_dir}/<provider>/aktuell.md",
        f"  extract gate docs     {settings.reports_dir / 'data_docs/extracts/index.html'}",
        f"  build logs            {settings.logs_dir}",
    ]
    return "\n".join(lines) + "\n", healthy
