"""German number and date formats and the statistical table symbols of the report.

Symbols as in DIN 55301 and Destatis' tables:
  "."  value suppressed for confidentiality (geheim zu halten)
  "–"  nothing (nichts vorhanden): no cases, no counts
  "x"  not meaningful (Aussage nicht sinnvoll), e.g. a ratio whose denominator is 0
"""

from __future__ import annotations

from datetime import date

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

LOCALE = "de_DE"
SUPPRESSED = "."
NOTHING = "–"
NOT_MEANINGFUL = "x"
NBSP = "\u00a0"

SYMBOL_KEY = (
    (SUPPRESSED, "Zahlenwert geheim zu halten (Geheimhaltung kleiner Fallzahlen)"),
    (NOTHING, "nichts vorhanden (keine Fälle)"),
    (NOT_MEANINGFUL, "Aussage nicht sinnvoll (Nenner 0)"),
)

# How a value of each catalogue unit is written; the unit strings are the catalogue's.
_VALUE_PATTERNS = {
    "share": None,  # percent, one decimal
    "ratio": "#,##0.00",
    "contacts per case-month": "#,##0.00",
    "cases per FTE": "#,##0.0",
    "EUR per FTE": "#,##0",
    "EUR per case": "#,##0",
    "queries per request": "#,##0.00",
}
_UNIT_SUFFIX = {"EUR per FTE": f"{NBSP}€", "EUR per case": f"{NBSP}€"}
UNIT_LABEL_DE = {
    "share": "Anteil in %",
    "ratio": "Verhältnis",
    "contacts per case-month": "Kontakte je Fallmonat",
    "cases per FTE": "Fälle je VZÄ",
    "EUR per FTE": "Euro je VZÄ",
    "EUR per case": "Euro je Fall",
    "queries per request": "Rückfragen je Mittelabruf",
}
# Counts behind the ratios: integers, except FTE, euro sums and case-months.
_AMOUNT_UNITS = {"ratio", "EUR per FTE", "EUR per case", "contacts per case-month", "cases per FTE"}


def decimal(x: float, pattern: str = "#,##0.0") -> str:
    return format_decimal(x, format=pattern, locale=LOCALE)


def value(x: float | None, unit: str) -> str:
    """A published value in the catalogue's unit: 45,3 %, 1,12, 64.312 €."""
    if x is None:
        return NOT_MEANINGFUL
    if unit == "share":
        return format_percent(x, format=f"#,##0.0{NBSP}%", locale=LOCALE)
    return decimal(x, _VALUE_PATTERNS.get(unit, "#,##0.00")) + _UNIT_SUFFIX.get(unit, "")


def count(x: float | None, unit: str) -> str:
    """A numerator or denominator: 0 is "–" (nothing), amounts keep what their unit needs."""
    if x is None:
        return NOTHING
    if x == 0:
        return NOTHING
    if unit in _AMOUNT_UNITS and not float(x).is_integer():
        return decimal(x, "#,##0.0")
    return decimal(x, "#,##0")


def cell(suppressed: bool, x: float | None, unit: str, kind: str) -> str:
    """One table cell of a published row; `kind` is value, count or base_n."""
    if suppressed:
        return SUPPRESSED
    if kind == "value":
        return value(x, unit)
    if kind == "base_n":
        return NOTHING if x is None or x == 0 else decimal(x, "#,##0")
    return count(x, unit)


def change(delta: float | None, unit: str) -> str:
    """Change against the year before: percentage points for shares."""
    if delta is None:
        return NOT_MEANINGFUL
    sign = "+" if delta > 0 else ("−" if delta < 0 else "±")
    if unit == "share":
        return f"{sign}{decimal(abs(delta) * 100, '#,##0.0')}{NBSP}Pp."
    return sign + value(abs(delta), unit)


def day(d: date) -> str:
    """TT.MM.JJJJ"""
    return format_date(d, "dd.MM.yyyy", locale=LOCALE)


def day_month(d: date) -> str:
    """TT.MM."""
    return format_date(d, "dd.MM.", locale=LOCALE)
