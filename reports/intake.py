"""The operator's view of the landing folder after an ingest: what was left alone there, and
which snapshots shrank (`reports/_betrieb/eingang.md` + `.json`).

Hidden files, partial uploads and folders are not deliveries, but a file that waits there for
ever is a delivery nobody sees; a snapshot that lost most of its rows is accepted (it may be
right) but must not go unnoticed.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from ingest.load import IngestResult
from reports.delivery import md
from reports.operator import OPERATOR_FOLDER

REPORT_NAME = "eingang"


def write_intake_report(result: IngestResult, reports_dir: Path) -> Path:
    folder = reports_dir / OPERATOR_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Eingang / Intake",
        "",
        f"Verarbeitet / processed: {result.started_at:%Y-%m-%d %H:%M} UTC — "
        f"{len(result.verdicts)} Dateien / files",
        "",
        "## Nicht verarbeitet im Eingangsordner / Left alone in the landing folder",
        "",
    ]
    lines += [f"- `{md(entry)}`" for entry in result.ignored] or ["- keine / none"]
    lines += ["", "## Geschrumpfte Stände / Shrunken snapshots", ""]
    lines += [
        f"- Träger {s.provider}, `{s.extract}`: `{md(s.file_name)}` has {s.rows} rows, the "
        f"previous snapshot `{md(s.previous_file)}` had {s.previous_rows}"
        for s in result.shrunk
    ] or ["- keine / none"]
    path = folder / f"{REPORT_NAME}.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    payload = {
        "processed_at": result.started_at.isoformat(),
        "ignored": result.ignored,
        "shrunk": [asdict(s) for s in result.shrunk],
    }
    (folder / f"{REPORT_NAME}.json").write_text(
        json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return path
