"""The suppression pattern of every published table (docs/indicators.md, "Output"): one row per
suppressed cell — `indicator_values` rows, the CM04/CM05 blocks of
`mart_goal_attainment_by_field`, topics and topic groups of `mart_contact_topics` — with
`suppression` 'primary' or 'secondary'. Computed by the `disclosure` package (primary rule,
greedy secondary suppression, audit by linear programming) from the unsuppressed marts; the
published models apply it, so no model holds a second copy of the rule. Cells the engine could
not protect stay suppressed here and fail the mart gate's audit.
"""

import polars as pl

from disclosure.engine import protect
from disclosure.tables import (
    CELL_KEY,
    contact_topic_cells,
    goal_field_cells,
    indicator_cells,
    problem_of,
)


def model(dbt, session):
    dbt.config(materialized="table")
    catalogue = dbt.ref("indicator_catalogue").pl()
    cells = pl.concat(
        [
            indicator_cells(dbt.ref("indicator_values").pl(), catalogue),
            goal_field_cells(dbt.ref("mart_goal_attainment_by_field").pl()),
            contact_topic_cells(dbt.ref("mart_contact_topics").pl()),
        ]
    ).with_columns(pl.lit(False).alias("hidden"))
    problem, numbered = problem_of(cells)
    pattern = protect(problem)
    # dbt's log shows the engine's figures (cells, equations, suppressed, audit, seconds).
    print(f"disclosure_pattern: {pattern.figures()}")
    return (
        numbered.with_columns(pattern.suppression())
        .filter(pl.col("suppression").is_not_null())
        .select(*CELL_KEY, "suppression")
        .sort(list(CELL_KEY))
        .to_arrow()
    )
