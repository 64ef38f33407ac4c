"""What `imw demo` shows: LAND-level values from the published database and how to query it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from core.database import connect


def latest_complete_year(stand: date) -> int:
    return stand.year if (stand.month, stand.day) == (12, 31) else stand.year - 1


def land_values(published_db: Path, year: int) -> list[tuple]:
    with connect(published_db, read_only=True) as con:
        return con.execute(
            """
            SELECT v.indicator_id, d.name_en, v.numerator, v.denominator, v.value, v.base_n
            FROM indicator_values AS v
            JOIN indicator_definitions AS d USING (indicator_id)
            WHERE v.level = 'LAND' AND v.period = ? AND v.period_type = 'YEAR'
            ORDER BY v.indicator_id
            """,
            [str(year)],
        ).fetchall()


def _fmt(x: float | int | None) -> str:
    if x is None:
        return "–"
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{float(x):,.3f}"


def demo_summary(published_db: Path, stand: date) -> str:
    year = latest_complete_year(stand)
    rows = land_values(published_db, year)
    lines = [
        f"Published analyst database: {published_db}",
        "",
        f"LAND-level values (Baden-Württemberg), year {year}:",
        f"  {'id':<5} {'indicator':<36} {'numerator':>12} {'denominator':>12} {'value':>8} "
        f"{'base_n':>8}",
    ]
    for ind, name, num, den, val, base_n in rows:
        lines.append(
            f"  {ind:<5} {name[:36]:<36} {_fmt(num):>12} {_fmt(den):>12} {_fmt(val):>8} "
            f"{_fmt(base_n):>8}"
        )
    lines += [
        "",
        "Query it read-only (builds replace the file atomically and never wait for readers):",
        f"  uv tool run --from duckdb-cli duckdb -readonly {published_db}",
        "  # (the DuckDB CLI from the package registry), or from Python:",
        '  .venv/bin/python -c "import duckdb; print(duckdb.connect('
        f"'{published_db}', read_only=True).sql(\\\"SELECT * FROM indicator_values "
        "WHERE level = 'KREIS' AND period = '" + str(year) + "' ORDER BY indicator_id, "
        'unit_code\\"))"',
        "",
        "  SELECT indicator_id, period, level, unit_code, numerator, denominator, value, base_n",
        "  FROM indicator_values",
        f"  WHERE level = 'LAND' AND period_type = 'QUARTER' AND period LIKE '{year}Q%'",
        "  ORDER BY indicator_id, period;",
    ]
    return "\n".join(lines)


def next_steps(home: Path, key: str) -> str:
    """The one block to paste so every next command (`imw status`, `make docs`, `make ui`,
    `imw export`) works on the demo home instead of the default `./data`."""
    return "\n".join(
        [
            "Next steps on this demo home (imw status, imw report, imw export, make docs, make ui)",
            "— paste this once into your shell:",
            f"  export IMW_HOME={home.resolve()} IMW_PSEUDONYM_KEY={key}",
        ]
    )
