"""How a period is shown to people: an incomplete period (one that ends after the reference date R)
is a period to date, labelled e.g. "2026 (bis 30.06.)" (docs/indicators.md v2)."""

from __future__ import annotations

from datetime import date


def period_label(period: str, period_complete: bool, reference_date: date | None) -> str:
    """`2025`, `2025Q3`; a period to date gets "(bis TT.MM.)", the day of R."""
    if period_complete or reference_date is None:
        return period
    return f"{period} (bis {reference_date:%d.%m.})"
