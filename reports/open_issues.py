"""Open problems per provider: every rejection and quarantine no later accepted delivery of the
same extract has replaced (`raw.provider_issues`, ingest/raw.py).

Shown by `imw status --open` (grouped by provider), written after every ingest for the operator
(`reports/_betrieb/offene_probleme.md`) and for each provider (`reports/<provider>/
offene_probleme.md`, German, for the clerk). Rules, columns, line numbers and counts only — never
a delivered value.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from core.database import connect
from core.words import plural
from reports.delivery import _text as text_of
from reports.delivery import rule_texts
from reports.operator import OPERATOR_FOLDER

FILE_NAME = "offene_probleme.md"
_COLUMNS = (
    "provider, extract, delivery_id, file_name, stand, received_at, kind, rule, column_name, "
    "rows_affected, first_lines, message_de, message_en"
)


def read_open_issues(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The open problems, oldest delivery first, from a connection to the build database."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'raw' AND table_name = 'provider_issues'"
    ).fetchall()[0][0]
    if not exists:
        return pl.DataFrame()
    return con.sql(
        f"SELECT {_COLUMNS} FROM raw.provider_issues "
        "ORDER BY provider, delivery_id, kind, rule, column_name"
    ).pl()


def _lines(lines: list[int] | None, rows: int) -> str:
    if not lines:
        return ""
    shown = ", ".join(str(x) for x in lines)
    return f"{shown}{' …' if rows > len(lines) else ''}"


def status_text(issues: pl.DataFrame) -> list[str]:
    """`imw status --open`: per provider, each file's open problems (English, for operators)."""
    if issues.is_empty():
        return ["open problems: none"]
    lines = [
        f"open problems: {issues.height} in {issues['delivery_id'].n_unique()} files of "
        f"{issues['provider'].n_unique()} providers"
    ]
    for (provider,), mine in issues.group_by("provider", maintain_order=True):
        lines.append(f"  {provider}: {plural(mine['delivery_id'].n_unique(), 'file', 'files')}")
        for row in mine.iter_rows(named=True):
            at = f"{row['received_at']:%Y-%m-%d %H:%M}"
            if row["kind"] == "REJECTED":
                lines.append(f"    {row['file_name']} ({at}) rejected: {row['message_en']}")
            else:
                lines.append(
                    f"    {row['file_name']} ({at}) {row['rows_affected']} rows quarantined: "
                    f"{row['rule']} on {row['column_name'] or '-'}, lines "
                    f"{_lines(row['first_lines'], row['rows_affected'])}"
                )
    return lines


def provider_markdown(provider: str, issues: pl.DataFrame) -> str:
    """The clerk's list of what is still to fix (German)."""
    head = [f"# Offene Probleme – Anbieter {provider}", ""]
    if issues.is_empty():
        return "\n".join([*head, "Keine offenen Probleme: alle Lieferungen sind angenommen.", ""])
    files = issues["delivery_id"].n_unique()
    head += [
        f"{plural(files, 'Lieferung hat', 'Lieferungen haben')} noch offene Probleme. Ein "
        "Problem ist erledigt, sobald eine neue Lieferung desselben Auszugs angenommen ist.",
        "",
    ]
    for (_, file_name), mine in issues.group_by(["delivery_id", "file_name"], maintain_order=True):
        first = mine.row(0, named=True)
        head.append(f"## {file_name} (eingegangen {first['received_at']:%d.%m.%Y})")
        head.append("")
        texts = rule_texts(first["extract"])
        for row in mine.iter_rows(named=True):
            if row["kind"] == "REJECTED":
                head.append(f"- Datei abgelehnt: {row['message_de']}")
                continue
            what = text_of(texts, row["rule"], row["column_name"])[0]
            head.append(
                f"- {plural(row['rows_affected'], 'Zeile', 'Zeilen')} zurückgewiesen, Spalte "
                f"`{row['column_name'] or '-'}`: {what} (Zeilen "
                f"{_lines(row['first_lines'], row['rows_affected'])})"
            )
        head.append("")
    return "\n".join(head)


def write_open_issues(build_db: Path, reports_dir: Path) -> pl.DataFrame:
    """Write the operator's and every provider's list; return the open problems."""
    with connect(build_db, read_only=True) as con:
        issues = read_open_issues(con)
    folder = reports_dir / OPERATOR_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    operator = ["# Offene Probleme / open problems", "", *status_text(issues), ""]
    (folder / FILE_NAME).write_text("\n".join(operator), encoding="utf-8")
    # Every provider with a report folder gets its list, also when it became empty.
    providers = {p.name for p in reports_dir.iterdir() if p.is_dir() and p.name.startswith("08")}
    if not issues.is_empty():
        providers |= set(issues["provider"].unique().to_list()) - {"?"}
    for provider in sorted(providers):
        mine = issues.filter(pl.col("provider") == provider) if not issues.is_empty() else issues
        (reports_dir / provider).mkdir(parents=True, exist_ok=True)
        (reports_dir / provider / FILE_NAME).write_text(
            provider_markdown(provider, mine), encoding="utf-8"
        )
    return issues
