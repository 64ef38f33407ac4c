"""What disclosure control kept between builds (`disclosure.memo`), read back from a build's home.

- the pattern: the last `disclosure_pattern: <memo>; {figures}` line the dbt model printed into
  the build's log (`parts`, `parts_kept`, `seconds`; the engine's own seconds on the parts solved
  anew under `solved_anew.pattern_seconds`);
- the mart gate's audit: `disclosure` in `reports/_betrieb/mart_gate.json` (`parts`,
  `parts_audited_before`, `parts_from_pattern`: the parts whose ranges came from the pattern's
  own final audit in this build, `years_audited_before` and `years_from_pattern`: the years
  taken whole, not set up, `seconds`).

Either is None when the build wrote none (a failed build, or a build before the memos).
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

_PATTERN_LINE = re.compile(r"disclosure_pattern: [^\n]*?; (\{.*\})\s*$", re.MULTILINE)


def pattern_figures(log: Path | None) -> dict[str, float | int | None] | None:
    """Parts, parts kept and seconds of the last pattern the build's log reports."""
    if log is None or not Path(log).is_file():
        return None
    found = _PATTERN_LINE.findall(Path(log).read_text(encoding="utf-8", errors="replace"))
    if not found:
        return None
    figures = ast.literal_eval(found[-1])
    solved = figures.get("solved_anew") or {}
    return {
        "parts": figures.get("parts"),
        "parts_kept": figures.get("parts_kept"),
        "seconds": figures.get("seconds"),
        "engine_seconds": solved.get("pattern_seconds", 0.0),
    }


def gate_figures(reports_dir: Path) -> dict[str, float | int | None] | None:
    """Parts, parts taken from the audit before and seconds of the gate's disclosure audit."""
    path = Path(reports_dir) / "_betrieb" / "mart_gate.json"
    if not path.is_file():
        return None
    disclosure = json.loads(path.read_text(encoding="utf-8")).get("disclosure") or {}
    if "parts" not in disclosure:
        return None
    return {
        "parts": disclosure["parts"],
        "parts_audited_before": disclosure.get("parts_audited_before", 0),
        "parts_from_pattern": disclosure.get("parts_from_pattern", 0),
        "years_audited_before": disclosure.get("years_audited_before", 0),
        "years_from_pattern": disclosure.get("years_from_pattern", 0),
        "seconds": disclosure.get("seconds"),
    }


def text(label: str, pattern: dict | None, gate: dict | None) -> str:
    """One line for the bench's markdown ('' when neither was found)."""
    said = []
    if pattern:
        said.append(
            f"pattern {pattern['parts_kept']} of {pattern['parts']} parts kept "
            f"({pattern['seconds']:,.1f} s, of which the engine {pattern['engine_seconds']:,.1f} s)"
        )
    if gate:
        years = [
            f"{n} from the {source}"
            for n, source in (
                (gate.get("years_audited_before", 0), "audit before"),
                (gate.get("years_from_pattern", 0), "pattern's"),
            )
            if n
        ]
        said.append(
            f"mart gate {gate['parts_audited_before']} of {gate['parts']} parts from the audit "
            f"before, {gate.get('parts_from_pattern', 0)} from the pattern's final audit"
            + (f"; whole years, not set up: {', '.join(years)}" if years else "")
            + f" ({gate['seconds']:,.1f} s)"
        )
    return f"Disclosure control in the {label} build: {'; '.join(said)}." if said else ""
