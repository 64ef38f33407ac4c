"""Disclosure control on a real `tiny` build: no published table shows a count of a suppressed
cell, and an audit run here, from the published database alone, finds every suppressed cell
protected (docs/indicators.md, "Output").
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from tiny_world import TinyWorld

from disclosure.engine import SECONDARY, audit
from disclosure.tables import (
    contact_topic_cells,
    goal_field_cells,
    indicator_cells,
    problem_of,
)

pytestmark = pytest.mark.slow
KEY_COLUMNS = {
    "level", "unit_code", "period", "period_type", "topic", "field", "indicator_id",
    "horizon_months",  # the forecast's month offset, a key like `month`
}  # fmt: skip
# The forecast's scenario parameters, the same on every row (no count of anybody): shown on
# suppressed Kreis rows too.
PARAMETER_COLUMNS = {"caseload_target", "rate_eur_per_fte"}


@pytest.fixture(scope="module")
def published(tiny_world: TinyWorld) -> Path:
    """The analysts' file of the shared tiny world (`imw build` in a subprocess, seed 7)."""
    return tiny_world.settings.published_db


def tables(path: Path) -> dict[str, pl.DataFrame]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = [
            n
            for (n,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
        ]
        return {n: con.sql(f'SELECT * FROM "{n}"').pl() for n in names}


def test_no_suppressed_row_shows_a_count(published):
    """Every Boolean `suppressed` / `<block>_suppressed` column of every published table: where
    true, every number of its block (the block's columns; for the unprefixed flag, those of no
    other block) is NULL."""
    flagged = 0
    for name, frame in tables(published).items():
        flags = [
            c
            for c, t in frame.schema.items()
            if t == pl.Boolean and (c == "suppressed" or c.endswith("_suppressed"))
        ]
        prefixes = [f.removesuffix("suppressed") for f in flags]
        for flag, prefix in zip(flags, prefixes, strict=True):
            others = [p for p in prefixes if p and p != prefix]
            numbers = [
                c
                for c, t in frame.schema.items()
                if t.is_numeric()
                and c not in KEY_COLUMNS
                and c not in PARAMETER_COLUMNS
                and c.startswith(prefix)
                and not any(c.startswith(o) for o in others)
            ]
            hidden = frame.filter(pl.col(flag))
            flagged += hidden.height
            shown = hidden.filter(pl.any_horizontal(pl.col(numbers).is_not_null()))
            assert shown.is_empty(), (name, flag, shown.head(3))
            if name == "forecast_caseload":
                # the forecast's pattern (forecast/disclosure.py, the engine on open_at_origin):
                # a flag without a kind and without base_n; its numbers are checked above
                continue
            # a suppressed row says why; an unsuppressed one does not
            kind = f"{prefix}suppression"
            assert frame.filter(pl.col(flag) != pl.col(kind).is_not_null()).is_empty()
            # base_n of 1 to 4 is never published
            base_n = f"{prefix}base_n"
            small = frame.filter(~pl.col(flag) & pl.col(base_n).is_between(1, 4))
            if name != "indicator_values":
                assert small.is_empty(), (name, small.head(3))
    # tiny data are full of small cells: the scan looked at suppressed rows
    assert flagged > 0


def test_small_indicator_rows_are_suppressed_and_land_secondary_only_as_last_resort(published):
    values = tables(published)["indicator_values"]
    small = values.filter(
        pl.col("indicator_id").str.contains("^(CM|EL)") & pl.col("base_n").is_between(1, 4)
    )
    assert small.is_empty()  # a published base_n of 1 to 4 would be a primary cell shown
    # LAND rows are secondary only as the engine's last resort (disclosure/engine.py, `protect`:
    # e.g. a LAND quarter of 1–4 cases is the LAND year minus the other LAND quarters, a sum of
    # LAND rows only); the mart gate reports every one of them to the operator as a warning.
    land = values.filter(pl.col("level") == "LAND")
    land_secondary = land.filter(pl.col("suppression") == "secondary").height
    gate = (published.parents[1] / "reports" / "_betrieb" / "mart_gate.md").read_text()
    warned = re.search(
        r"`published.indicator_values` \| `land_secondary` \| [^|]+ \| (\d+) \|", gate
    )
    assert (int(warned.group(1)) if warned else 0) == land_secondary
    assert land_secondary < 0.05 * land.height  # a last resort, not the rule
    # FI*, PA*, DQ* are never suppressed
    assert values.filter(
        pl.col("indicator_id").str.contains("^(FI|PA|DQ)") & pl.col("suppressed")
    ).is_empty()
    # "no cases" is published, not suppressed: value NULL, denominator 0, base_n 0 — except
    # CM10, whose denominator is FTE and base_n its cases: 0 cases on 0.5 FTE is a value of 0
    none = values.filter((pl.col("base_n") == 0) & (pl.col("indicator_id") != "CM10"))
    assert not none.is_empty()
    assert (none.get_column("denominator") == 0).all() and none.get_column("value").is_null().all()
    cm10 = values.filter((pl.col("base_n") == 0) & (pl.col("indicator_id") == "CM10"))
    assert (cm10.get_column("numerator") == 0).all()
    staffed = cm10.filter(pl.col("denominator") > 0)
    assert (staffed.get_column("value") == 0).all()


def test_independent_audit_of_the_published_tables(published):
    """The audit from the published tables alone (their suppressed flags and keys), not from
    the build's pattern."""
    t = tables(published)
    catalogue = t["indicator_definitions"].select("indicator_id", pl.col("suppress_small_cells"))
    cells = pl.concat(
        [
            indicator_cells(t["indicator_values"], catalogue),
            goal_field_cells(t["mart_goal_attainment_by_field"]),
            contact_topic_cells(t["mart_contact_topics"]),
        ]
    )
    problem, numbered = problem_of(cells, published=True)
    hidden = numbered.get_column("hidden").to_numpy()
    result = audit(problem, hidden)
    assert hidden.sum() > 0
    assert result.passed, result.failures.head(10)
    assert result.narrowest_base_n_range >= 5
    # the published kinds: primary and secondary both occur on tiny data
    kinds = set(numbered.get_column("suppression").drop_nulls())
    assert kinds == {"primary", "secondary"}
    assert not (numbered.get_column("suppression").to_numpy() == SECONDARY)[
        np.asarray(numbered.get_column("level").to_numpy() == "LAND")
    ].any()
