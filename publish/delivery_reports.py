"""Per-provider delivery reports: which files were accepted or rejected, and why.

Written after every ingest under `$IMW_HOME/reports/<provider>/` as Markdown (German first, then
English, for the municipality's clerk) and JSON (for machines). `aktuell.md`/`aktuell.json` always
hold the latest report. Reports name files, lines, columns and rules — never an id in clear or a
free-text value (quarantined values of id and text columns are not even stored).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import duckdb

from ingest.load import (
    ACCEPTED,
    DUPLICATE,
    REJECTED,
    UNASSIGNED_PROVIDER,
    FileVerdict,
    IngestResult,
)

ROW_ERRORS_SHOWN_PER_RULE = 20

_VERDICT_DE = {ACCEPTED: "angenommen", REJECTED: "abgelehnt", DUPLICATE: "bereits vorhanden"}


def _row_errors(build_db: Path, delivery_ids: list[int]) -> dict[int, list[dict]]:
    if not delivery_ids:
        return {}
    with duckdb.connect(str(build_db), read_only=True) as con:
        rows = con.execute(
            """
            SELECT delivery_id, line, column_name, rule, value, n_rule
            FROM (
                SELECT *,
                    row_number() OVER (PARTITION BY delivery_id, rule, column_name
                                       ORDER BY line) AS rn,
                    count(*) OVER (PARTITION BY delivery_id, rule, column_name) AS n_rule
                FROM raw.quarantined_rows
                WHERE delivery_id IN (SELECT unnest(?::BIGINT[]))
            )
            WHERE rn <= ?
            ORDER BY delivery_id, column_name, rule, line
            """,
            [delivery_ids, ROW_ERRORS_SHOWN_PER_RULE],
        ).fetchall()
    out: dict[int, list[dict]] = {}
    for delivery_id, line, column, rule, value, n_rule in rows:
        out.setdefault(delivery_id, []).append(
            {"line": line, "column": column, "rule": rule, "value": value, "rule_total": n_rule}
        )
    return out


def _markdown(
    provider: str,
    processed_at: datetime,
    verdicts: list[FileVerdict],
    errors: dict[int, list[dict]],
) -> str:
    lines = [
        f"# Lieferbericht / Delivery report — Träger {provider}",
        "",
        f"Verarbeitet / processed: {processed_at:%Y-%m-%d %H:%M} UTC",
        "",
        "| Datei / file | Ergebnis / verdict | Zeilen / rows | angenommen / loaded "
        "| zurückgewiesen / quarantined |",
        "|---|---|---|---|---|",
    ]
    for v in verdicts:
        delivered = "" if v.rows_delivered is None else v.rows_delivered
        lines.append(
            f"| `{v.file_name}` | {_VERDICT_DE[v.verdict]} / {v.verdict.lower()} | {delivered} "
            f"| {v.rows_loaded} | {v.rows_quarantined} |"
        )
    rejected = [v for v in verdicts if v.verdict == REJECTED]
    if rejected:
        lines += ["", "## Abgelehnte Dateien / Rejected files", ""]
        lines += [
            "Die Datei wurde nicht übernommen; der zuletzt angenommene Stand bleibt in Gebrauch. "
            "Bitte korrigieren und erneut liefern.",
            "The file was not loaded; the previously accepted snapshot stays in use. Please fix "
            "and deliver again.",
            "",
        ]
        for v in rejected:
            lines += [f"- `{v.file_name}`", f"  - DE: {v.message_de}", f"  - EN: {v.message_en}"]
    duplicates = [v for v in verdicts if v.verdict == DUPLICATE]
    if duplicates:
        lines += ["", "## Doppelte Lieferungen / Duplicate deliveries", ""]
        lines += [f"- `{v.file_name}`: {v.message_de} / {v.message_en}" for v in duplicates]
    with_errors = [v for v in verdicts if errors.get(v.delivery_id)]
    if with_errors:
        lines += ["", "## Zurückgewiesene Zeilen / Quarantined rows", ""]
        for v in with_errors:
            lines += [
                f"### `{v.file_name}`",
                "",
                "| Zeile / line | Spalte / column | Regel / rule | Wert / value |",
                "|---|---|---|---|",
            ]
            for e in errors[v.delivery_id]:
                value = "" if e["value"] is None else f"`{e['value']}`"
                lines.append(f"| {e['line']} | `{e['column']}` | {e['rule']} | {value} |")
            lines.append("")
            lines.append(
                f"(je Regel höchstens {ROW_ERRORS_SHOWN_PER_RULE} Zeilen gezeigt / at most "
                f"{ROW_ERRORS_SHOWN_PER_RULE} rows shown per rule)"
            )
    warned = [v for v in verdicts if v.extra_columns]
    if warned:
        lines += ["", "## Hinweise / Warnings", ""]
        lines += [
            f"- `{v.file_name}`: unbekannte Spalten ignoriert / unknown columns ignored: "
            + ", ".join(f"`{c}`" for c in v.extra_columns)
            for v in warned
        ]
    return "\n".join(lines) + "\n"


def write_delivery_reports(result: IngestResult, build_db: Path, reports_dir: Path) -> list[Path]:
    """One report per provider that delivered anything in this run."""
    errors = _row_errors(build_db, [v.delivery_id for v in result.verdicts if v.rows_quarantined])
    stamp = f"{result.started_at:%Y%m%dT%H%M%S}"
    written = []
    for provider in result.providers:
        verdicts = [v for v in result.verdicts if (v.provider or UNASSIGNED_PROVIDER) == provider]
        folder = reports_dir / provider
        folder.mkdir(parents=True, exist_ok=True)
        md = _markdown(provider, result.started_at, verdicts, errors)
        payload = {
            "provider": provider,
            "processed_at": result.started_at.isoformat(),
            "files": [
                {**asdict(v), "stand": v.stand.isoformat() if v.stand else None,
                 "row_errors": errors.get(v.delivery_id, [])}
                for v in verdicts
            ],
        }  # fmt: skip
        text = json.dumps(payload, ensure_ascii=False, indent=2)
        for name, content in (
            (f"lieferbericht_{stamp}.md", md),
            (f"lieferbericht_{stamp}.json", text),
            ("aktuell.md", md),
            ("aktuell.json", text),
        ):
            (folder / name).write_text(content, encoding="utf-8")
        written.append(folder / f"lieferbericht_{stamp}.md")
    return written
