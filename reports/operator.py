"""The operator's report of the mart gate: what blocked (or did not block) publication."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from expectations.mart_gate import MartGateResult, disclosure_figures_text

OPERATOR_FOLDER = "_betrieb"


def write_mart_gate_report(result: MartGateResult, reports_dir: Path, published_db: Path) -> Path:
    """`reports/_betrieb/mart_gate.md` (+ .json): findings, and whether publication went ahead."""
    folder = reports_dir / OPERATOR_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    verdict = (
        "PASSED — publication goes ahead"
        if result.passed
        else f"FAILED — publication blocked; the last good database stays in place: {published_db}"
    )
    lines = [
        "# Mart gate / Prüfung der Auswertungstabellen",
        "",
        f"Run: {now:%Y-%m-%d %H:%M} UTC — **{verdict}**",
        "",
    ]
    if result.disclosure:
        d = result.disclosure
        narrowest = d.get("narrowest_base_n_range")
        lines += [
            "## Disclosure control / Geheimhaltung",
            "",
            disclosure_figures_text(d),
            "",
            "| figure | value |",
            "|---|---|",
            f"| cells | {d.get('cells', 0)} |",
            f"| equations (sums) | {d.get('equations', 0)} |",
            f"| suppressed, primary (1–4 cases) | {d.get('suppressed_primary', 0)} |",
            f"| suppressed, secondary | {d.get('suppressed_secondary', 0)} |",
            f"| of those LAND rows (last resort) | {d.get('land_secondary', 0)} |",
            f"| narrowest base_n range of a suppressed cell | "
            f"{'-' if narrowest is None else f'{narrowest:g}'} |",
            f"| pinned numerators/denominators | {d.get('pinned', 0)} |",
            f"| cells that break the rule | {d.get('failures', 0)} |",
            f"| published numbers consistent with the sums | {d.get('equations_consistent')} |",
            f"| linear programs | {d.get('linear_programs', 0)} |",
            f"| seconds | {d.get('seconds', 0)} |",
            "",
        ]
    if result.forecast_disclosure:
        f = result.forecast_disclosure
        lines += [
            "### Needs forecast / Bedarfsprognose (`forecast_caseload`)",
            "",
            disclosure_figures_text(f),
            f"Withheld cells (unit × case type) at Land level (last resort): "
            f"{f.get('land_suppressed', 0)}; cells that break the rule: {f.get('failures', 0)}; "
            f"published counts consistent with the sums: {f.get('equations_consistent')}.",
            "",
        ]
    for title, findings in (("Errors (blocking)", result.errors),
                            ("Warnings (flagged moves)", result.warnings)):  # fmt: skip
        if not findings:
            continue
        lines += [
            f"## {title}",
            "",
            "| table | rule | column | rows | what |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| `{f['table']}` | `{f['rule']}` | `{f['column']}` | {f['unexpected_count']} "
            f"| {f['text_en']} |"
            for f in findings
        ]
        lines.append("")
    (folder / "mart_gate.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    payload = {
        "run_at": now.isoformat(),
        "passed": result.passed,
        "disclosure": result.disclosure,
        "forecast_disclosure": result.forecast_disclosure,
        "errors": result.errors,
        "warnings": result.warnings,
    }
    (folder / "mart_gate.json").write_text(
        json.dumps(payload, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
    return folder / "mart_gate.md"
