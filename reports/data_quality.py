"""The operator's data-quality report (`reports/_betrieb/datenqualitaet.md` + `.json`): the build's
reference date R, whether delivery obligations (meldepflichten, contract 1.1) are known — without a
current snapshot DQ01 and FI03 have denominator 0 and this report says why — the obliged providers
that never delivered, and the providers that deliver without an obligation (docs/indicators.md
v2: they are listed here, not counted in DQ01). Codes (AGS) only: no person-related content."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from core.database import connect
from reports.operator import OPERATOR_FOLDER

REPORT_NAME = "datenqualitaet"


@dataclass(frozen=True)
class DataQualityFacts:
    reference_date: date | None
    reference_date_explicit: bool
    obligations_stand: date | None
    """Stand of the current meldepflichten snapshot; None when there is none."""
    obligations: int
    obliged_never_delivered: list[str]
    delivering_without_obligation: list[str]


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    row = con.execute(sql).fetchone()
    return row[0] if row else None


def data_quality_facts(build_db: Path) -> DataQualityFacts:
    """Read the facts from the build database after dbt ran (intermediate and staging models)."""
    with connect(build_db, read_only=True) as con:
        reference, explicit = con.execute(
            "SELECT reference_date, is_explicit FROM intermediate.int_reference_date"
        ).fetchone()
        stand = _scalar(
            con,
            "SELECT max(stand) FROM staging.stg_current_batches WHERE extract = 'meldepflichten'",
        )
        obligations = _scalar(con, "SELECT count(*) FROM intermediate.int_delivery_obligations")
        never = [
            r[0]
            for r in con.execute(
                """
                SELECT provider FROM intermediate.int_indicator_providers
                WHERE is_obliged AND NOT has_delivered_files ORDER BY provider
                """
            ).fetchall()
        ]
        # a provider delivers without an obligation when none is in force on the day of its
        # newest current snapshot (capped at R)
        without = [
            r[0]
            for r in con.execute(
                """
                WITH delivering AS (
                    SELECT provider, least(max(stand), (SELECT reference_date
                        FROM intermediate.int_reference_date)) AS on_day
                    FROM staging.stg_current_batches
                    WHERE provider <> '08'
                    GROUP BY provider
                )
                SELECT d.provider FROM delivering AS d
                WHERE NOT EXISTS (
                    SELECT 1 FROM intermediate.int_delivery_obligations AS o
                    WHERE o.obliged_provider = d.provider AND o.valid_from <= d.on_day
                      AND (o.valid_to IS NULL OR o.valid_to >= d.on_day)
                )
                ORDER BY d.provider
                """
            ).fetchall()
        ]
    return DataQualityFacts(reference, bool(explicit), stand, int(obligations or 0), never, without)


def render(facts: DataQualityFacts, now: datetime) -> str:
    lines = [
        "# Datenqualität / Data quality",
        "",
        f"Run: {now:%Y-%m-%d %H:%M} UTC",
        "",
    ]
    if facts.reference_date is None:
        lines += [
            "**Kein Stichtag / no reference date**: keine angenommene Lieferung eines Trägers — "
            "es gibt keine Perioden, die veröffentlichten Tabellen sind leer. / No accepted "
            "snapshot of any provider extract: there are no periods, the published tables are "
            "empty.",
            "",
        ]
    else:
        how = "--reference-date" if facts.reference_date_explicit else "newest provider stand"
        lines += [f"Stichtag / reference date R: **{facts.reference_date}** ({how})", ""]
    lines += ["## Meldepflichten / delivery obligations", ""]
    if facts.obligations_stand is None:
        lines += [
            "**Keine aktuelle Lieferung `meldepflichten`**: DQ01 (vollständige Lieferungen) und "
            "FI03 (Kosten je aktivem Fall) haben den Nenner 0 und keinen Wert; das Warehouse rät "
            "die Meldepflichten nicht. / **No current `meldepflichten` snapshot**: DQ01 and FI03 "
            "have denominator 0 (value NULL); the warehouse does not guess the obligations. The "
            "funding authority should deliver `meldepflichten_08_<stand>.csv`.",
            "",
        ]
    else:
        lines += [
            f"Stand {facts.obligations_stand}: {facts.obligations} Meldepflichten / obligations.",
            "",
        ]
    lines += [
        "## Verpflichtet, nie geliefert / obliged, never delivered",
        "",
        "Zählen in DQ01 als unvollständig. / Counted in DQ01 as incomplete.",
        "",
        *([f"- `{p}`" for p in facts.obliged_never_delivered] or ["- keine / none"]),
        "",
        "## Liefert ohne Meldepflicht / delivers without an obligation",
        "",
        "Keine Meldepflicht am Tag des neuesten Stands; nicht in DQ01 gezählt. / No obligation in "
        "force on the day of its newest snapshot; not counted in DQ01.",
        "",
        *([f"- `{p}`" for p in facts.delivering_without_obligation] or ["- keine / none"]),
        "",
    ]
    return "\n".join(lines)


def write_data_quality_report(build_db: Path, reports_dir: Path) -> Path:
    facts = data_quality_facts(build_db)
    folder = reports_dir / OPERATOR_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    path = folder / f"{REPORT_NAME}.md"
    path.write_text(render(facts, now), encoding="utf-8")
    (folder / f"{REPORT_NAME}.json").write_text(
        json.dumps({"run_at": now.isoformat(), **asdict(facts)}, indent=2, default=str) + "\n",
        encoding="utf-8",
    )
    return path
