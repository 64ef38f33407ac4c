"""Per-provider delivery reports: which files were accepted or rejected, and why.

Written after every ingest under `$IMW_HOME/reports/<provider>/` as HTML for the municipality's
clerk (`aktuell.html` German, `aktuell_en.html` English; `aktuell.pdf` printed from the German page
where a Chromium is installed: `reports.pdf`), the quarantined rows as CSV, Markdown and JSON (for
machines). The `aktuell.*` files always hold the latest report. Reports name files, lines,
columns and rules — never an id in clear or a free-text value (quarantined values of id and text
columns are not even stored).
"""

from __future__ import annotations

import functools
import json
import re
import shutil
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from types import MappingProxyType

from contract.spec import EXTRACTS, ColumnType
from core.csv_safety import neutralise
from core.database import connect
from ingest.load import (
    ACCEPTED,
    DUPLICATE,
    REJECTED,
    UNASSIGNED_PROVIDER,
    FileVerdict,
    IngestResult,
    Shrinkage,
)

ROW_ERRORS_SHOWN_PER_RULE = 20

TYPE_RULE_TEXTS = {
    "type:date": ("Datum nicht lesbar: erlaubt sind JJJJ-MM-TT und TT.MM.JJJJ",
                  "date not readable: use YYYY-MM-DD or DD.MM.YYYY"),
    "type:int": ("keine Ganzzahl: Ziffern ohne Trennzeichen angeben",
                 "not an integer: digits without separators"),
    "type:decimal": ("keine Dezimalzahl: z. B. 1234,56 oder 1.234,56 oder 1234.56",
                     "not a decimal: e.g. 1234,56 or 1.234,56 or 1234.56"),
    "type:bool": ("kein Wahrheitswert: ja/nein, j/n, 1/0, true/false",
                  "not a boolean: ja/nein, j/n, 1/0, true/false"),
    "type:id_length": ("Kennung zu lang: höchstens 64 Zeichen",
                       "id too long: 64 characters at most"),
    "type:ags8": ("AGS muss 8 Ziffern haben, mit 08 beginnen und in einem der 44 Kreise liegen",
                  "AGS must have 8 digits, start with 08 and lie in one of the 44 districts"),
    "type:ags": ("AGS muss 5 oder 8 Ziffern haben, mit 08 beginnen und in einem der 44 Kreise "
                 "liegen", "AGS must have 5 or 8 digits, start with 08 and lie in one of the 44 "
                 "districts"),
    "row:too_many_fields": ("Zeile hat mehr Felder als die Kopfzeile (Trennzeichen im Text?)",
                            "row has more fields than the header (a delimiter inside a value?)"),
    "row:too_few_fields": ("Zeile hat weniger Felder als die Kopfzeile (Trennzeichen fehlt?)",
                           "row has fewer fields than the header (a delimiter missing?)"),
}  # fmt: skip
"""What to fix, for the readers' type rules; gate rules carry their texts in the suite's meta."""

_VERDICT_DE = {ACCEPTED: "angenommen", REJECTED: "abgelehnt", DUPLICATE: "bereits vorhanden"}


@functools.cache
def rule_texts(extract: str | None) -> Mapping[tuple[str, str], tuple[str, str]]:
    """(rule, column) → (German, English) text of what to fix, from the extract gate's suite.

    Built once per extract and process: the suite is generated from the contract, which does
    not change while a process runs. Built anew for every delivered file and language (4,810
    times after a `bw` ingest), the texts made the 301 delivery reports take 1.8–2.2 s instead
    of 0.3–0.7 s (2026-12-07, the AMD EPYC). Read-only, since every caller shares it."""
    if extract is None:
        return MappingProxyType({})
    from expectations.extract_suites import build_suite

    texts = {}
    for expectation in build_suite(extract).expectations:
        meta = expectation.meta or {}
        texts[(meta.get("rule"), meta.get("column"))] = (meta.get("text_de"), meta.get("text_en"))
    return MappingProxyType(texts)


def _text(texts: Mapping, rule: str, column: str) -> tuple[str, str]:
    return TYPE_RULE_TEXTS.get(rule) or texts.get((rule, column)) or (rule, rule)


def _row_errors(build_db: Path, delivery_ids: list[int]) -> dict[int, list[dict]]:
    if not delivery_ids:
        return {}
    with connect(build_db, read_only=True) as con:
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


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def md(text: object) -> str:
    """Text from a delivery (file names, messages quoting them) made safe for one Markdown line
    or table cell: control characters (a newline would start a forged row) shown as `?`, pipes
    and backticks escaped."""
    return _CONTROL.sub("?", str(text)).replace("|", "\\|").replace("`", "'")


def rows_rejected(v: FileVerdict) -> int | str:
    """Rows of a file that were not accepted: all of them when the file was rejected whole
    (docs/indicators.md v2, DQ02), as far as they could be read; else its quarantined rows."""
    if v.verdict == REJECTED:
        return "" if v.rows_delivered is None else v.rows_delivered
    return v.rows_quarantined


def _markdown(
    provider: str,
    processed_at: datetime,
    verdicts: list[FileVerdict],
    errors: dict[int, list[dict]],
    shrunk: list[Shrinkage] | None = None,
) -> str:
    lines = [
        f"# Lieferbericht / Delivery report — Träger {provider}",
        "",
        f"Verarbeitet / processed: {processed_at:%Y-%m-%d %H:%M} UTC",
        "",
        "| Datei / file | Ergebnis / verdict | Zeilen / rows | angenommen / loaded "
        "| zurückgewiesen / rejected |",
        "|---|---|---|---|---|",
    ]
    for v in verdicts:
        delivered = "" if v.rows_delivered is None else v.rows_delivered
        lines.append(
            f"| `{md(v.file_name)}` | {_VERDICT_DE[v.verdict]} / {v.verdict.lower()} | {delivered} "
            f"| {v.rows_loaded} | {rows_rejected(v)} |"
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
            lines += [f"- `{md(v.file_name)}`", f"  - DE: {md(v.message_de)}",
                      f"  - EN: {md(v.message_en)}"]  # fmt: skip
    duplicates = [v for v in verdicts if v.verdict == DUPLICATE]
    if duplicates:
        lines += ["", "## Doppelte Lieferungen / Duplicate deliveries", ""]
        lines += [
            f"- `{md(v.file_name)}`: {md(v.message_de)} / {md(v.message_en)}" for v in duplicates
        ]
    with_errors = [v for v in verdicts if errors.get(v.delivery_id)]
    if with_errors:
        lines += [
            "", "## Zurückgewiesene Zeilen / Quarantined rows", "",
            "Diese Zeilen wurden nicht übernommen. Bitte im Fachverfahren korrigieren und die "
            "Datei vollständig neu liefern. / These rows were not loaded: please correct them at "
            "the source and deliver the whole file again.", "",
        ]  # fmt: skip
        for v in with_errors:
            texts = rule_texts(v.extract)
            lines += [f"### `{md(v.file_name)}`", ""]
            by_rule: dict[tuple[str, str], list[dict]] = {}
            for e in errors[v.delivery_id]:
                by_rule.setdefault((e["rule"], e["column"]), []).append(e)
            for (rule, column), rows in by_rule.items():
                de, en = _text(texts, rule, column)
                shown = ", ".join(str(e["line"]) for e in rows)
                more = rows[0]["rule_total"] - len(rows)
                lines += [
                    f"- **{de}** (Spalte `{column}`, Regel `{rule}`; {rows[0]['rule_total']} "
                    f"Zeilen) — {en}",
                    f"  - Zeilen / lines: {shown}" + (f" … und {more} weitere / and {more} more"
                                                       if more > 0 else ""),
                ]  # fmt: skip
                # Pseudonyms of ids mean nothing to the clerk; the line number is what they need.
                is_id = v.extract is not None and any(
                    c.name == column and c.type is ColumnType.ID
                    for c in EXTRACTS[v.extract].columns
                )
                values = (
                    []
                    if is_id
                    else [
                        f"{e['line']}: `{md(e['value'])}`"
                        for e in rows[:5]
                        if e["value"] is not None
                    ]
                )
                if values:
                    lines.append("  - Werte / values: " + "; ".join(values))
            lines.append("")
    warned = [v for v in verdicts if v.extra_columns]
    shrunk = shrunk or []
    if warned or shrunk:
        lines += ["", "## Hinweise / Warnings", ""]
    if warned:
        lines += [
            f"- `{md(v.file_name)}`: unbekannte Spalten ignoriert / unknown columns ignored: "
            + ", ".join(f"`{md(c)}`" for c in v.extra_columns)
            for v in warned
        ]
    if shrunk:
        lines += [
            f"- `{md(s.file_name)}`: {s.rows} Zeilen statt {s.previous_rows} im vorigen Stand "
            f"(`{md(s.previous_file)}`). Ist der Auszug vollständig? / {s.rows} rows instead of "
            f"{s.previous_rows} in the previous snapshot: is the extract complete?"
            for s in shrunk
        ]
    return "\n".join(lines) + "\n"


def _errors_csv(build_db: Path, delivery_ids: list[int]) -> str:
    """Every quarantined row of these deliveries, for the clerk's spreadsheet (`;`, UTF-8 BOM)."""
    header = "datei;zeile;spalte;regel;wert\n"
    if not delivery_ids:
        return "\ufeff" + header
    with connect(build_db, read_only=True) as con:
        frame = con.sql(
            """
            SELECT file_name AS datei, line AS zeile, column_name AS spalte, rule AS regel,
                   value AS wert
            FROM raw.quarantined_rows WHERE delivery_id IN (SELECT unnest(?::BIGINT[]))
            ORDER BY file_name, line, column_name, rule
            """,
            params=[delivery_ids],
        ).pl()
    return "\ufeff" + neutralise(frame).write_csv(separator=";")


def write_delivery_reports(result: IngestResult, build_db: Path, reports_dir: Path) -> list[Path]:
    """One report per provider that delivered anything in this run."""
    errors = _row_errors(build_db, [v.delivery_id for v in result.verdicts if v.rows_quarantined])
    stamp = f"{result.started_at:%Y%m%dT%H%M%S}"
    written = []
    printable: list[tuple[Path, Path]] = []
    for provider in result.providers:
        verdicts = [v for v in result.verdicts if (v.provider or UNASSIGNED_PROVIDER) == provider]
        folder = reports_dir / provider
        folder.mkdir(parents=True, exist_ok=True)
        shrunk = [s for s in result.shrunk if s.provider == provider]
        text_md = _markdown(provider, result.started_at, verdicts, errors, shrunk)
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
        csv_text = _errors_csv(build_db, [v.delivery_id for v in verdicts if v.rows_quarantined])
        html = {
            lang: clerk_report.render(
                provider, result.started_at, verdicts, errors, shrunk, rule_texts, _text, lang
            )
            for lang in ("de", "en")
        }
        for name, content in (
            (f"lieferbericht_{stamp}.html", html["de"]),
            ("aktuell.html", html["de"]),
            ("aktuell_en.html", html["en"]),
            (f"lieferbericht_{stamp}_zeilen.csv", csv_text),
            ("aktuell_zeilen.csv", csv_text),
            (f"lieferbericht_{stamp}.md", text_md),
            (f"lieferbericht_{stamp}.json", text),
            ("aktuell.md", text_md),
            ("aktuell.json", text),
        ):
            (folder / name).write_text(content, encoding="utf-8")
        written.append(folder / f"lieferbericht_{stamp}.md")
        # an older aktuell.pdf would describe an older delivery: gone before a new one is made
        (folder / "aktuell.pdf").unlink(missing_ok=True)
        printable.append(
            (folder / f"lieferbericht_{stamp}.html", folder / f"lieferbericht_{stamp}.pdf")
        )
    browser = pdf.find_browser()
    if browser is not None:
        for printed in pdf.print_to_pdf(browser, printable):
            shutil.copyfile(printed, printed.with_name("aktuell.pdf"))
    return written


from reports import clerk_report, pdf  # noqa: E402  (they import nothing from this module)
