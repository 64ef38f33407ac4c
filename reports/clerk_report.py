"""The clerk's delivery report per provider: `aktuell.html` (German), `aktuell_en.html` (English).

One page a municipality's clerk can act on without knowing the warehouse: the provider's name
(Kreis from the seed `kreise_bw.csv`; a Gemeinde by its code and its Kreis), one summary sentence
with correct plurals, each problem as a plain sentence with its line numbers and what to do, and
the value as delivered where that is safe — never for ids (the clerk has the file; line and
column find the row), never a pseudonym, never for columns whose value the gate sees typed (dates
and numbers would be shown re-formatted). Jinja2 templates in `reports/templates/`, autoescaped,
CSS inline: nothing is fetched when the file is opened.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import jinja2

from contract.spec import EXTRACTS, ColumnType
from core.settings import DBT_PROJECT_DIR
from core.words import plural
from ingest.load import ACCEPTED, DUPLICATE, REJECTED, FileVerdict, Shrinkage

TEMPLATES = Path(__file__).parent / "templates"
KREISE_SEED = DBT_PROJECT_DIR / "seeds" / "kreise_bw.csv"
LINES_SHOWN = 20
VALUES_SHOWN = 5
_VERBATIM_TYPES = {ColumnType.CODE, ColumnType.TEXT, ColumnType.AGS, ColumnType.AGS8}
"""Columns whose value the gate sees as delivered (strings); typed ones are re-formatted."""


@cache
def kreise() -> dict[str, tuple[str, str]]:
    """Kreis AGS → (name, type), from the dbt seed."""
    with KREISE_SEED.open(encoding="utf-8", newline="") as fh:
        return {r["kreis_ags"]: (r["kreis_name"], r["kreis_typ"]) for r in csv.DictReader(fh, delimiter=";")}  # fmt: skip  # noqa: E501


def provider_name(provider: str, lang: str = "de") -> str:
    """`Landkreis Böblingen (08115)`; a Gemeinde by its code: `Gemeinde 08115003 im Landkreis
    Böblingen`; the authority and unknown codes by their code."""
    if provider.isdigit() and len(provider) == 5 and provider in kreise():
        name, kind = kreise()[provider]
        return f"{kind} {name} ({provider})"
    if provider.isdigit() and len(provider) == 8 and provider[:5] in kreise():
        name, kind = kreise()[provider[:5]]
        word, prep = ("Gemeinde", "im") if lang == "de" else ("municipality", "in")
        return f"{word} {provider} {prep} {kind} {name}"
    if provider == "08":
        return "Land Baden-Württemberg (08)" if lang == "de" else "State of Baden-Württemberg (08)"
    return provider


@dataclass(frozen=True)
class Problem:
    sentence: str
    lines: str
    todo: str
    values: list[tuple[int, str]]


def _is(extract: str | None, column: str, kinds: set[ColumnType]) -> bool:
    if extract is None or extract not in EXTRACTS:
        return False
    return any(c.name == column and c.type in kinds for c in EXTRACTS[extract].columns)


def problems_of(
    v: FileVerdict, errors: list[dict], texts: Mapping, text_of, lang: str
) -> list[Problem]:
    """One problem per rule and column of a file's quarantined rows."""
    by_rule: dict[tuple[str, str], list[dict]] = {}
    for e in errors:
        by_rule.setdefault((e["rule"], e["column"]), []).append(e)
    out = []
    for (rule, column), rows in by_rule.items():
        de, en = text_of(texts, rule, column)
        total = rows[0]["rule_total"]
        shown = ", ".join(str(e["line"]) for e in rows[:LINES_SHOWN])
        more = total - min(len(rows), LINES_SHOWN)
        if lang == "de":
            sentence = (f"{plural(total, 'Zeile', 'Zeilen')} in Spalte „{column}“ "
                        f"{'wurde' if total == 1 else 'wurden'} zurückgewiesen: {de}.")  # fmt: skip
            lines = f"{'Zeile' if total == 1 else 'Zeilen'} {shown}" + (
                f" und {plural(more, 'weitere', 'weitere')}" if more > 0 else ""
            )
            todo = "Bitte im Fachverfahren korrigieren und die Datei vollständig neu liefern."
        else:
            sentence = f"{plural(total, 'row', 'rows')} rejected in column “{column}”: {en}."
            lines = f"{'line' if total == 1 else 'lines'} {shown}" + (
                f" and {more} more" if more > 0 else ""
            )
            todo = "Please correct them at the source and deliver the whole file again."
        verbatim = rule.startswith("type:") and not _is(v.extract, column, {ColumnType.ID})
        verbatim = verbatim or _is(v.extract, column, _VERBATIM_TYPES)
        values = (
            [(e["line"], e["value"]) for e in rows if e["value"] is not None][:VALUES_SHOWN]
            if verbatim
            else []
        )
        out.append(Problem(sentence.replace("..", "."), lines, todo, values))
    return out


def summary(verdicts: list[FileVerdict], lang: str) -> str:
    clean = sum(v.verdict == ACCEPTED and not v.rows_quarantined for v in verdicts)
    partly = sum(v.verdict == ACCEPTED and v.rows_quarantined > 0 for v in verdicts)
    rejected = sum(v.verdict == REJECTED for v in verdicts)
    duplicate = sum(v.verdict == DUPLICATE for v in verdicts)
    rows = sum(v.rows_quarantined for v in verdicts)
    if lang == "de":
        parts = [plural(clean, "Datei", "Dateien") + " angenommen"]
        if partly:
            parts.append(f"{partly} mit zurückgewiesenen Zeilen angenommen")
        parts.append(f"{rejected} abgelehnt")
        if duplicate:
            parts.append(f"{duplicate} bereits vorhanden")
        text = ", ".join(parts)
        return text + f"; {plural(rows, 'Zeile', 'Zeilen')} zurückgewiesen."
    parts = [plural(clean, "file", "files") + " accepted"]
    if partly:
        parts.append(f"{partly} accepted with rejected rows")
    parts.append(f"{rejected} rejected")
    if duplicate:
        parts.append(f"{duplicate} already delivered")
    return ", ".join(parts) + f"; {plural(rows, 'row', 'rows')} rejected."


VERDICT = {
    "de": {"ok": "angenommen", "partly": "angenommen, mit zurückgewiesenen Zeilen",
           REJECTED: "abgelehnt", DUPLICATE: "bereits vorhanden"},
    "en": {"ok": "accepted", "partly": "accepted, some rows rejected",
           REJECTED: "rejected", DUPLICATE: "already delivered"},
}  # fmt: skip


def _verdict_key(v: FileVerdict) -> str:
    if v.verdict == ACCEPTED:
        return "partly" if v.rows_quarantined else "ok"
    return v.verdict


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(
    provider: str,
    processed_at: datetime,
    verdicts: list[FileVerdict],
    errors: dict[int, list[dict]],
    shrunk: list[Shrinkage],
    texts_of,
    text_of,
    lang: str,
) -> str:
    files = []
    for v in verdicts:
        key = _verdict_key(v)
        files.append(
            {
                "name": v.file_name,
                "verdict": VERDICT[lang][key],
                "css": {"ok": "ok", "partly": "warn", REJECTED: "bad", DUPLICATE: "info"}[key],
                "rows_delivered": v.rows_delivered,
                "rows_loaded": v.rows_loaded,
                "rows_quarantined": v.rows_quarantined,
                "message": v.message_de if lang == "de" else v.message_en,
                "rejected": v.verdict == REJECTED,
                "duplicate": v.verdict == DUPLICATE,
                "problems": problems_of(
                    v, errors.get(v.delivery_id, []), texts_of(v.extract), text_of, lang
                ),
                "extra_columns": list(v.extra_columns or []),
            }
        )
    template = _environment().get_template(f"aktuell_{lang}.html.j2")
    return template.render(
        provider=provider_name(provider, lang),
        processed=f"{processed_at:%d.%m.%Y %H:%M}",
        summary=summary(verdicts, lang),
        files=files,
        shrunk=shrunk,
    )
