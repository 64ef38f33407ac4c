"""Disclosure control of the published tables: which cells to suppress, and the proof that the
suppressed counts cannot be recovered from what is published (docs/indicators.md, "Output").

- `disclosure.engine`: the job itself on an abstract problem (cells, their values per measure,
  linear equations between them): primary + secondary suppression (`protect`) and the audit by
  linear programming (`audit`).
- `disclosure.tables`: the problem of the warehouse's published tables (cells and equations from
  `indicator_values`, `mart_goal_attainment_by_field`, `mart_contact_topics` and the needs
  forecast's `forecast_caseload`).
"""

from disclosure.engine import (
    BASE_N,
    CELL_MINIMUM,
    AuditResult,
    Pattern,
    Problem,
    audit,
    primary_cells,
    protect,
)

__all__ = [
    "BASE_N",
    "CELL_MINIMUM",
    "AuditResult",
    "Pattern",
    "Problem",
    "audit",
    "primary_cells",
    "protect",
]
