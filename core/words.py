"""Counts in the warehouse's sentences, for people: one definition of the plural."""

from __future__ import annotations


def plural(n: int, one: str, many: str) -> str:
    """`n` and the word for it: "1 Zeile", "1.234 Zeilen" (thousands grouped the German way, in
    the German and the English sentences of the reports alike)."""
    return f"{n:,}".replace(",", ".") + " " + (one if n == 1 else many)
