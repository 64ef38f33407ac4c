"""Files derived from the contract: municipal documentation, dbt sources/staging, code-list seeds.

`imw contract --write` regenerates them; `imw contract --check` (and a test) fails when a
committed file differs from what the contract produces, so the docs, the dbt layer and the
validation can never drift apart from the one definition in `contract.spec`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import yaml

from contract import catalogue
from contract.catalogue import PROJECT_ROOT
from contract.spec import (
    AUTHORITY_EXTRACTS,
    AUTHORITY_PROVIDER,
    CONTRACT_VERSION,
    CSV_MAX_HEADER_CHARS,
    CSV_MAX_SURPLUS_FIELDS,
    ECHO_MAX_CHARS,
    EXTRACTS,
    FALSE_SPELLINGS,
    ID_MAX_LENGTH,
    MAX_BAD_ROW_SHARE,
    OUTCOME_VALUES,
    PROGRAMME_START,
    PROVIDER_EXTRACTS,
    STAND_TOLERANCE_DAYS,
    STATUS_CODES,
    TRUE_SPELLINGS,
    TYPE_DOC_DE,
    XLSX_MAX_CELLS,
    XLSX_MAX_INFLATED_BYTES,
    Column,
    Extract,
    code_list,
)
from core.project_vars import FIXTURE_ONLY_TAG


def _fixture_only(**meta: list[str]) -> dict:
    """The config of a data test that runs on the fixtures in `make test`, not in every nightly
    build (docs/data_rules.md): the wide marts' tests restate the pivot (levels and period types
    of published.indicator_values) or a mart gate rule (`key_unique` on every published mart).
    A new dict each time: PyYAML writes a shared one as an anchor and its aliases."""
    return {"tags": [FIXTURE_ONLY_TAG], **({"meta": meta} if meta else {})}


GENERATED_NOTE = "generated from contract/spec.py by `imw contract --write`; do not edit"
STAGING_DIR = Path("dbt_project/models/staging")
SEEDS_DIR = Path("dbt_project/seeds")


# --------------------------------------------------------------------------------------------
# Municipal documentation (German)
# --------------------------------------------------------------------------------------------
def _rule_cell(c: Column) -> str:
    parts = [c.rule_de] if c.rule_de else []
    if c.codes and c.codes not in ("status_code", "staatsangehoerigkeit", "wert"):
        values = ", ".join(f"`{v.code}`" for v in code_list(c.codes))
        if not c.rule_de or "siehe Codelisten" in c.rule_de:
            parts.append(f"Werte: {values}")
    return "; ".join(parts)


def _extract_section(ex: Extract) -> str:
    lines = [
        f"### `{ex.name}` — {ex.title_de}",
        "",
        f"Dateiname: `{ex.name}_<AGS>_<Stand>.csv` oder `.xlsx`"
        + (f" (Träger `{AUTHORITY_PROVIDER}`)" if ex.source == "authority" else ""),
        "",
        "| Spalte | Typ | Pflicht | Regel |",
        "|---|---|---|---|",
    ]
    for c in ex.columns:
        required = "ja" if c.required else "nein"
        lines.append(f"| `{c.name}` | {TYPE_DOC_DE[c.type]} | {required} | {_rule_cell(c)} |")
    if ex.rules:
        lines += ["", "Zeilenregeln:", ""]
        lines += [f"- {r.text_de}" for r in ex.rules]
    return "\n".join(lines)


_GERMAN_COUNTS = {4: "vier", 5: "fünf", 6: "sechs"}


def _count_de(n: int) -> str:
    return _GERMAN_COUNTS.get(n, str(n))


def _code_table(title: str, codes) -> str:
    rows = [f"#### {title}", "", "| Code | Bedeutung |", "|---|---|"]
    rows += [f"| `{c.code}` | {c.label_de} |" for c in codes]
    return "\n".join(rows)


def _de(n: int) -> str:
    """A whole number with German thousands dots."""
    return f"{n:,}".replace(",", ".")


def render_contract_doc() -> str:
    provider = [e for e in EXTRACTS.values() if e.source == "provider"]
    authority = [e for e in EXTRACTS.values() if e.source == "authority"]
    status_rows = [
        "#### Aufenthaltsstatus (`aufenthalt.status_code`)",
        "",
        "| Code | Bedeutung | Kategorie | Bleibeperspektive |",
        "|---|---|---|---|",
        *(f"| `{s.code}` | {s.label_de} | {s.category} | {s.prospect} |" for s in STATUS_CODES),
    ]
    wert = "\n\n".join(
        _code_table(f"Ergebniswerte im Bereich `{bereich}` (`ergebnisse.wert`)", codes)
        for bereich, codes in OUTCOME_VALUES.items()
    )
    n_authority, ags08 = _count_de(len(authority)), AUTHORITY_PROVIDER
    return f"""<!-- {GENERATED_NOTE} -->
# Datenlieferung Integrationsmanagement — Schnittstellenbeschreibung v{CONTRACT_VERSION}

Diese Beschreibung richtet sich an die Träger (Gemeinden und Kreise) und an die
Bewilligungsstelle. Sie wird aus derselben Definition erzeugt, mit der das Data Warehouse jede
Lieferung prüft; was hier steht, wird genau so geprüft.

## Dateien

- Dateiname: `<Auszug>_<Träger>_<Stand>.<csv|xlsx>`, z. B. `kontakte_08115003_2026-03-31.csv`.
  - `Auszug`: einer der unten beschriebenen Namen.
  - `Träger`: AGS der liefernden Stelle, 8 Stellen (Gemeinde) oder 5 Stellen (Kreis), beginnend
    mit `08`. Die Bewilligungsstelle liefert ihre {n_authority} Auszüge mit Träger `{ags08}`.
  - `Stand`: Datum des Auszugs, `JJJJ-MM-TT`.
- Jede Lieferung ist ein **vollständiger Stand** aller Datensätze des Trägers für diesen Auszug.
  Verwendet wird je Träger und Auszug der neueste angenommene Stand (nach `Stand`, dann nach
  Eingang). Eine korrigierte Datei wird einfach mit gleichem oder späterem Stand erneut geliefert;
  eine byte-gleiche Datei ein zweites Mal zu liefern, ändert nichts.
- CSV: UTF-8 (mit oder ohne BOM) oder Windows-1252; Trennzeichen `;` (auch `,`, wenn sich die
  Kopfzeile nur so lesen lässt); genau eine Kopfzeile; Spaltennamen ohne Beachtung der Groß- und
  Kleinschreibung, in beliebiger Reihenfolge; unbekannte zusätzliche Spalten werden ignoriert und
  im Prüfbericht als Hinweis genannt.
- XLSX: erstes Tabellenblatt, Kopfzeile in Zeile 1, dieselben Spalten.
- `Stand`: nicht später als der Eingangstag (+{STAND_TOLERANCE_DAYS} Tag wegen Zeitzonen) und
  nicht vor dem Programmbeginn am {PROGRAMME_START:%d.%m.%Y}.
- `Träger`: nur die Ziffern 0–9; die ersten fünf Stellen sind einer der 44 Kreise
  Baden-Württembergs (ebenso jede AGS in den Daten, z. B. `wohngemeinde_ags`).
- Grenzen, jenseits derer eine Datei ganz abgelehnt wird, bevor sie gelesen wird: eine
  CSV-Kopfzeile mit mehr als {_de(CSV_MAX_HEADER_CHARS)} Zeichen; eine Zeile mit mehr als
  {CSV_MAX_SURPLUS_FIELDS} Feldern über der Kopfzeile (weniger: Zeilenfehler); eine
  XLSX-Arbeitsmappe, die entpackt größer als {XLSX_MAX_INFLATED_BYTES // 2**20} MB ist, deren
  erstes Blatt (laut Bereich `<dimension>` oder seinen Zellen) mehr als {_de(XLSX_MAX_CELLS)}
  Zellen umfasst, ausgeblendet ist oder Excel-Fehlerwerte (`#BEZUG!`, `#DIV/0!` …) enthält.
- Zeilen mit zu wenigen oder zu vielen Feldern (ein fehlendes oder zusätzliches Trennzeichen)
  werden als Zeilenfehler zurückgewiesen; keiner ihrer Werte erscheint im Prüfbericht. Andere
  Werte werden im Bericht nach {ECHO_MAX_CHARS} Zeichen mit „…“ gekürzt, Kennungen und Freitext
  nie wiedergegeben. Zeilenenden: LF, CRLF oder (ältere Mac-/Excel-Exporte) nur CR.
- Datum: `JJJJ-MM-TT` oder `TT.MM.JJJJ`; leere Zelle = fehlt. Dezimalzahlen: `1234,56`,
  `1.234,56` oder `1234.56`. Ganzzahlen ohne Trennzeichen. Wahrheitswerte:
  {", ".join(f"`{t}/{f}`" for t, f in zip(TRUE_SPELLINGS, FALSE_SPELLINGS, strict=True))}.
- Kennungen (`*_id`, `bescheid_nr`) sind trägerinterne Zeichenketten mit 1–{ID_MAX_LENGTH}
  Zeichen, eindeutig je Träger. Sie werden beim Eingang pseudonymisiert und nie im Klartext
  gespeichert. Freitext (`ziele.messkriterium`) wird nie gespeichert, nur ob er vorhanden ist.

## Was mit fehlerhaften Lieferungen geschieht

- Eine Datei, die sich als Ganzes nicht lesen lässt (unbekannter Auszug, falscher Dateiname, kein
  CSV/XLSX, fehlerhafte Zeichenkodierung, fehlende Pflichtspalte), wird **ganz abgelehnt**: Sie
  wird in die Quarantäne verschoben und im Prüfbericht des Trägers genannt; der zuletzt
  angenommene Stand bleibt in Gebrauch.
- Fehlerhafte Zeilen (falscher Code, ungültiges Datum, Wert außerhalb des Bereichs, doppelte
  Kennung, fehlender Bezug, verletzte Regel) werden **einzeln abgelehnt** und mit Zeilennummer,
  Spalte und Regel im Prüfbericht aufgeführt. Sind mehr als {MAX_BAD_ROW_SHARE:.0%} der Zeilen
  einer Datei fehlerhaft, wird die ganze Datei abgelehnt.
- Nichts geht stillschweigend verloren: jede gelieferte Zeile wird angenommen oder mit Grund
  zurückgewiesen.

## Auszüge der Träger

{chr(10).join(_extract_section(e) + chr(10) for e in provider)}
## Auszüge der Bewilligungsstelle (Träger `{AUTHORITY_PROVIDER}`)

{chr(10).join(_extract_section(e) + chr(10) for e in authority)}
## Codelisten

{chr(10).join(status_rows)}

{wert}

Staatsangehörigkeit (`personen.staatsangehoerigkeit`): ISO 3166-1 alpha-3, z. B. `SYR`, `AFG`,
`UKR`; `XXX` für staatenlos oder unbekannt. Die vollständige Liste steht in
`dbt_project/seeds/code_lists.csv` (Liste `staatsangehoerigkeit`).
"""


# --------------------------------------------------------------------------------------------
# dbt sources and staging
# --------------------------------------------------------------------------------------------
def _dump_yaml(data: dict) -> str:
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return f"# {GENERATED_NOTE}\n{body}"


def _source_column(c: Column) -> dict:
    desc = c.description_en
    if c.is_pseudonymised:
        desc += " Warehouse id: the first 128 bits of its HMAC-SHA256 pseudonym (UHUGEINT)."
    return {"name": c.raw_name, "description": f"`{c.name}` as delivered: {desc}"}


_BOOKKEEPING_SOURCES = [
    {
        "name": "current_batches",
        "meta": {"dagster": {"asset_key": ["raw", "current_batches"]}},
        "description": "The newest accepted snapshot per provider and extract (by stand, then "
        "arrival): one row per provider and extract.",
        "columns": [
            {"name": "batch_id", "description": "Load batch id (= delivery id)."},
            {"name": "file_name", "description": "Delivered file name."},
            {"name": "sha256", "description": "SHA-256 of the delivered bytes."},
            {"name": "provider", "description": "AGS of the provider (08 = funding authority)."},
            {"name": "extract", "description": "Extract name as in the contract."},
            {"name": "stand", "description": "Extract date from the file name."},
            {"name": "row_count", "description": "Rows loaded."},
            {"name": "rows_delivered", "description": "Rows in the delivered file."},
            {"name": "rows_quarantined", "description": "Rows not loaded (quarantined)."},
            {"name": "loaded_at", "description": "When the file was loaded."},
        ],
    },
    {
        "name": "deliveries",
        "meta": {"dagster": {"asset_key": ["raw", "deliveries"]}},
        "description": "Every processed file with its verdict (ACCEPTED, REJECTED, DUPLICATE).",
        "columns": [
            {"name": "delivery_id", "description": "Id of the delivery."},
            {"name": "file_name", "description": "Delivered file name."},
            {"name": "provider", "description": "AGS of the provider, if the name was readable."},
            {"name": "extract", "description": "Extract name, if the name was readable."},
            {"name": "stand", "description": "Extract date, if the name was readable."},
            {"name": "verdict", "description": "ACCEPTED, REJECTED or DUPLICATE."},
            {"name": "reason", "description": "Rejection reason code."},
            {"name": "rows_delivered", "description": "Rows in the delivered file."},
            {"name": "rows_loaded", "description": "Rows loaded."},
            {"name": "rows_quarantined", "description": "Rows not loaded."},
        ],
    },
    {
        "name": "provider_issues",
        "meta": {"dagster": {"asset_key": ["raw", "provider_issues"]}},
        "description": "Open problems: every rejected file and every quarantined rule of an "
        "accepted file not yet replaced by a later accepted delivery of the same extract.",
        "columns": [
            {"name": "provider", "description": "AGS of the provider ('?' if unreadable)."},
            {"name": "extract", "description": "Extract name, if the name was readable."},
            {"name": "delivery_id", "description": "Id of the delivery with the problem."},
            {"name": "kind", "description": "REJECTED (whole file) or QUARANTINED (rows)."},
            {"name": "rule", "description": "Rejection reason or violated rule."},
            {"name": "column_name", "description": "Column of the violated rule, if any."},
            {"name": "rows_affected", "description": "Rows concerned."},
        ],
    },
]


def render_sources() -> str:
    tables = []
    for ex in EXTRACTS.values():
        tables.append(
            {
                "name": f"{ex.raw_table}_current",
                "description": f"Current snapshot of `{ex.name}`: {ex.description_en} "
                f"Grain: {ex.grain_en} and provider.",
                "meta": {"dagster": {"asset_key": ["raw", ex.name]}},
                "columns": [
                    {"name": "_batch_id", "description": "Load batch (raw.load_batches)."},
                    {"name": "_provider", "description": "AGS of the delivering provider."},
                    {"name": "_line", "description": "Line of the row in the delivered file."},
                    *(_source_column(c) for c in ex.columns),
                ],
            }
        )
    tables += _BOOKKEEPING_SOURCES
    return _dump_yaml(
        {
            "version": 2,
            "sources": [
                {
                    "name": "raw",
                    "schema": "raw",
                    "description": "Raw layer: typed, pseudonymised rows of the newest accepted "
                    "snapshot per provider and extract (ingest/raw.py).",
                    "tables": tables,
                }
            ],
        }
    )


def _select_expr(c: Column) -> str:
    return c.raw_name if c.raw_name == c.stored_field else f"{c.raw_name} as {c.stored_field}"


def render_staging_sql(ex: Extract) -> str:
    columns = ",\n        ".join(_select_expr(c) for c in ex.columns)
    return f"""-- {GENERATED_NOTE}
-- {ex.description_en} Renames delivered (German) columns to warehouse names.
with source as (
    select * from {{{{ source('raw', '{ex.raw_table}_current') }}}}
),

renamed as (
    select
        _provider as provider,
        _batch_id as batch_id,
        {columns}
    from source
)

select * from renamed
"""


# Which data tests the staging models get. The raw layer holds only rows that passed the extract
# gate (expectations/extract_suites.py), and staging only renames, so a staging test repeating a
# gate rule re-checks millions of rows on every build and can never fail. Left out, each for its
# reason (measured on `bw`: about 45 test nodes and 4-5 s of a ~50 s `dbt build`):
# - `not_null` on required columns (ids included): the gate's `required` rule quarantines every row
#   with an empty required column, and pseudonymising a non-empty id gives a non-empty pseudonym.
# - `unique` (+ `not_null`) on a column the contract marks unique, and `unique_combination` on a
#   contract `unique_key`: the gate's `unique` / `unique_key` rules make the value unique within
#   the delivered file; the current snapshot of a provider and extract is exactly one file
#   (raw.current_batches); and ids are pseudonymised as HMAC(provider:id), so values of two
#   providers never coincide. The one key without an id (haushalt.haushaltsjahr) belongs to an
#   authority extract, which only provider 08 may deliver (ingest/readers.py), so it too comes
#   from a single file.
# - `not_null` on provider: raw tables declare `_provider NOT NULL` (ingest/raw.py).
# Kept: `relationships` (severity warn). The gate checks a reference against what the provider
# holds when the referencing file arrives; a later delivery of the referenced extract can drop
# the target, and only this test sees the dangling reference then.
def _staging_column(ex: Extract, c: Column) -> dict:
    entry: dict = {"name": c.stored_field, "description": f"{c.description_en} (`{c.name}`)"}
    tests: list = []
    if c.ref is not None:
        target = EXTRACTS[c.ref.extract]
        tests.append(
            {
                "relationships": {
                    "arguments": {
                        "to": f"ref('stg_{target.table}')",
                        "field": target.column(c.ref.column).stored_field,
                    },
                    # Cross-extract references are enforced at the door (extract gate); here a
                    # dangling one only warns, so one late file cannot stop every indicator.
                    "config": {"severity": "warn"},
                }
            }
        )
    if tests:
        entry["data_tests"] = tests
    return entry


def render_staging_yml() -> str:
    models = []
    for ex in EXTRACTS.values():
        model: dict = {
            "name": f"stg_{ex.table}",
            "description": f"{ex.description_en} Grain: {ex.grain_en}. Source: `{ex.name}`.",
            "columns": [
                {"name": "provider", "description": "AGS of the delivering provider."},
                {"name": "batch_id", "description": "Load batch the row came from."},
                *(_staging_column(ex, c) for c in ex.columns),
            ],
        }
        models.append(model)
    return _dump_yaml({"version": 2, "models": models})


# --------------------------------------------------------------------------------------------
# Seeds
# --------------------------------------------------------------------------------------------
def _csv(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def render_status_codes() -> str:
    return _csv(
        ["status_code", "label_de", "label_en", "category", "prospect"],
        [[s.code, s.label_de, s.label_en, s.category, s.prospect] for s in STATUS_CODES],
    )


def render_code_lists() -> str:
    rows: list[list[str]] = []
    names = sorted({c.codes for e in EXTRACTS.values() for c in e.columns if c.codes})
    for name in names:
        if name == "wert":
            for bereich, codes in OUTCOME_VALUES.items():
                rows += [[f"wert:{bereich}", c.code, c.label_de, c.label_en] for c in codes]
        else:
            rows += [[name, c.code, c.label_de, c.label_en] for c in code_list(name)]
    return _csv(["list_name", "code", "label_de", "label_en"], rows)


# --------------------------------------------------------------------------------------------
# dbt macros: the lists dbt needs from the contract and the catalogue
# --------------------------------------------------------------------------------------------
def _jinja_list(values: list[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def render_list_macros() -> str:
    """`macros/generated_lists.sql`: extract names, code lists and indicator ids as Jinja lists, so
    no model or test types one of them again."""
    code_lists = {
        name: [c.code for c in code_list(name)]
        for name in sorted({c.codes for e in EXTRACTS.values() for c in e.columns if c.codes})
        if name not in ("wert", "staatsangehoerigkeit")
    }
    code_lists.update({f"wert:{b}": [c.code for c in codes] for b, codes in OUTCOME_VALUES.items()})
    code_lines = ",\n".join(
        f"        '{name}': {_jinja_list(codes)}" for name, codes in sorted(code_lists.items())
    )
    domain_lines = ",\n".join(
        f"        '{d}': ["
        + ", ".join(
            f"{{'indicator_id': '{i.indicator_id}', 'column_name': '{i.column_name}'}}"
            for i in catalogue.by_domain(d)
        )
        + "]"
        for d in catalogue.DOMAINS
    )
    ids = [i.indicator_id for i in catalogue.indicators()]
    note = GENERATED_NOTE.replace("contract/spec.py", "contract/spec.py and the catalogue seed")
    return f"""{{#- {note}. -#}}

{{#- The provider extracts (contract/spec.py PROVIDER_EXTRACTS). -#}}
{{% macro provider_extracts() -%}}
    {{{{ return({_jinja_list([e.name for e in PROVIDER_EXTRACTS])}) }}}}
{{%- endmacro %}}

{{#- The funding authority's extracts (contract/spec.py AUTHORITY_EXTRACTS). -#}}
{{% macro authority_extracts() -%}}
    {{{{ return({_jinja_list([e.name for e in AUTHORITY_EXTRACTS])}) }}}}
{{%- endmacro %}}

{{#- The codes of a contract code list, in the contract's order ('wert:SPRACHE': the outcome values
    of one domain). -#}}
{{% macro code_list(name) -%}}
    {{{{ return({{
{code_lines}
    }}[name]) }}}}
{{%- endmacro %}}

{{#- Every indicator id of the catalogue, ordered. -#}}
{{% macro indicator_ids() -%}}
    {{{{ return({_jinja_list(ids)}) }}}}
{{%- endmacro %}}

{{#- The indicators of a catalogue domain with their wide-mart column names. -#}}
{{% macro domain_indicators(domain) -%}}
    {{{{ return({{
{domain_lines}
    }}[domain]) }}}}
{{%- endmacro %}}
"""


# --------------------------------------------------------------------------------------------
# Wide analyst marts: one value column per catalogue indicator of a domain
# --------------------------------------------------------------------------------------------
_BETTER = {
    "higher": "higher is better",
    "lower": "lower is better",
    "neutral": "no better direction (read against a target band)",
}


def _wide_value_column(ind: catalogue.Indicator) -> dict:
    null_when = "NULL where the denominator is 0"
    if ind.suppressible:
        null_when += " or the cell is suppressed (see suppressed_indicators)"
    return {
        "name": ind.column_name,
        "description": (
            f"{ind.indicator_id} {ind.name_en}: {ind.definition_en} Value = numerator / "
            f"denominator, unit {ind.unit}, {_BETTER[ind.better_direction]}. {null_when}."
        ),
        "data_type": "double",
    }


def render_wide_mart_yml(mart: catalogue.WideMart) -> str:
    inds = catalogue.by_domain(mart.domain)
    ids = [i.indicator_id for i in inds]
    suppressible = any(i.suppressible for i in inds)
    description = (
        f"{mart.title} ({ids[0]}–{ids[-1]}; {mart.answers}), wide, for analysts "
        f"(published.{mart.alias}). One row per level, unit_code and period of "
        f"published.indicator_values that has a row of a {mart.domain} indicator, one value "
        f"column per {mart.domain} indicator of the indicator catalogue ({', '.join(ids)}). "
        + (f"{mart.note} " if mart.note else "")
        + "Values are published.indicator_values.value, so suppression is already applied. "
        "Numerators, denominators and base_n are in published.indicator_values (indicator_id, "
        "period, level, unit_code). This file and the value columns are generated from "
        "seeds/indicator_catalogue.csv (contract/codegen.py, macros/generated_lists.sql)."
    )
    columns: list[dict] = [
        {
            "name": "level",
            "description": "Unit level, TRAEGER (provider), KREIS, RB (Regierungsbezirk) or LAND.",
            "data_type": "varchar",
            "constraints": [{"type": "not_null"}],
            "data_tests": [
                {
                    "accepted_values": {
                        "arguments": {"values": ["TRAEGER", "KREIS", "RB", "LAND"]},
                        "config": _fixture_only(),
                    }
                }
            ],
        },
        {
            "name": "unit_code",
            "description": (
                "AGS of the unit (provider AGS; Kreis 5 digits; RB 3 digits; Land '08')."
            ),
            "data_type": "varchar",
            "constraints": [{"type": "not_null"}],
        },
        {
            "name": "period",
            "description": "Period code, '2025' (year) or '2025Q3' (quarter).",
            "data_type": "varchar",
            "constraints": [{"type": "not_null"}],
        },
        {
            "name": "period_type",
            "description": "YEAR or QUARTER.",
            "data_type": "varchar",
            "constraints": [{"type": "not_null"}],
            "data_tests": [
                {
                    "accepted_values": {
                        "arguments": {"values": ["YEAR", "QUARTER"]},
                        "config": _fixture_only(),
                    }
                }
            ],
        },
        {
            "name": "period_complete",
            "description": (
                "True when the period ends on or before the reference date R "
                "(build_info.reference_date); false for a period to date (e.g. 2026 up to R), "
                "whose counts stop at R."
            ),
            "data_type": "boolean",
            "constraints": [{"type": "not_null"}],
        },
        {
            "name": "unit_name",
            "description": (
                "Name of the unit (units.unit_name): the Kreis's, RB's or Land's, a Kreis "
                "provider's; NULL for a Gemeinde, whose name the reference data does not have."
            ),
            "data_type": "varchar",
        },
        *(_wide_value_column(i) for i in inds),
    ]
    if suppressible:
        columns.append(
            {
                "name": "suppressed_indicators",
                "description": (
                    "Comma-separated ids of this row's indicators whose cells are suppressed "
                    "(their value columns are NULL), e.g. 'CM01,CM05'; NULL when nothing in the "
                    "row is suppressed. Tells a withheld value apart from a denominator of 0."
                ),
                "data_type": "varchar",
            }
        )
    model = {
        "name": mart.model,
        "description": description,
        "config": {"alias": mart.alias, "contract": {"enforced": True}},
        "data_tests": [
            {
                "unique_combination": {
                    "arguments": {"columns": ["level", "unit_code", "period"]},
                    "config": _fixture_only(mart_gate=["key_unique"]),
                }
            }
        ],
        "columns": columns,
    }
    body = yaml.safe_dump(
        {"version": 2, "models": [model]}, sort_keys=False, allow_unicode=True, width=100
    )
    note = GENERATED_NOTE.replace("contract/spec.py", "seeds/indicator_catalogue.csv")
    return f"# {note}\n{body}"


# --------------------------------------------------------------------------------------------
# docs/indicators.md: the prose is kept by hand, the indicator tables come from the catalogue
# --------------------------------------------------------------------------------------------
INDICATORS_DOC = Path("docs/indicators.md")
_BLOCK = re.compile(
    r"(<!-- generated from the catalogue: (?P<domain>[a-z_]+) -->\n)"
    r".*?"
    r"(<!-- end of generated: (?P=domain) -->)",
    re.DOTALL,
)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_catalogue_table(domain: str) -> str:
    rows = [
        "| id | name | denominator | numerator | unit | better |",
        "|---|---|---|---|---|---|",
    ]
    for ind in catalogue.by_domain(domain):
        denominator, _, numerator = ind.definition_en.partition("Numerator:")
        denominator = denominator.removeprefix("Denominator:").strip()
        rows.append(
            f"| {ind.indicator_id} | {_md_cell(ind.name_en)} ({_md_cell(ind.name_de)}) | "
            f"{_md_cell(denominator)} | {_md_cell(numerator.strip())} | {ind.unit} | "
            f"{ind.better_direction} |"
        )
    return "\n".join(rows) + "\n"


def render_indicators_doc() -> str:
    """docs/indicators.md with every generated block rewritten from the catalogue."""
    text = (PROJECT_ROOT / INDICATORS_DOC).read_text(encoding="utf-8")
    return _BLOCK.sub(
        lambda m: m.group(1) + render_catalogue_table(m.group("domain")) + m.group(3), text
    )


def derived_files() -> dict[Path, Callable[[], str]]:
    files: dict[Path, Callable[[], str]] = {
        Path("docs/extract-contract.md"): render_contract_doc,
        STAGING_DIR / "_sources.yml": render_sources,
        STAGING_DIR / "_stg_models.yml": render_staging_yml,
        SEEDS_DIR / "status_codes.csv": render_status_codes,
        SEEDS_DIR / "code_lists.csv": render_code_lists,
        Path("dbt_project/macros/generated_lists.sql"): render_list_macros,
        INDICATORS_DOC: render_indicators_doc,
    }
    for mart in catalogue.WIDE_MARTS:
        files[Path(f"dbt_project/models/published/{mart.model}.yml")] = lambda mart=mart: (
            render_wide_mart_yml(mart)
        )
    for ex in EXTRACTS.values():
        files[STAGING_DIR / f"stg_{ex.table}.sql"] = lambda ex=ex: render_staging_sql(ex)
    return files


def write_all(root: Path) -> list[Path]:
    written = []
    for rel, render in derived_files().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(), encoding="utf-8")
        written.append(rel)
    return written


def stale_files(root: Path) -> list[Path]:
    stale = []
    for rel, render in derived_files().items():
        path = root / rel
        if not path.exists() or path.read_text(encoding="utf-8") != render():
            stale.append(rel)
    return stale
