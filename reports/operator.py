"""The operator's report of the mart gate: what blocked (or did not block) publication."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from expectations.mart_gate import MartGateResult

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
        "errors": result.errors,
        "warnings": result.warnings,
    }
    (folder / "mart_gate.json").write_text(
        json.dumps(payload, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
    return folder / "mart_gate.md"
