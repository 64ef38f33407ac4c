"""The suppression pattern of every published table (docs/indicators.md, "Output"): one row per
suppressed cell — `indicator_values` rows, the CM04/CM05 blocks of
`mart_goal_attainment_by_field`, topics and topic groups of `mart_contact_topics` — with
`suppression` 'primary' or 'secondary'. Computed by the `disclosure` package (primary rule,
greedy secondary suppression, audit by linear programming) from the unsuppressed marts; the
published models apply it, so no model holds a second copy of the rule. Cells the engine could
not protect stay suppressed here and fail the mart gate's audit.

The pattern of every table that did not change since the last build is taken from the memo
beside the build database (`disclosure.memo`: exactly the pattern `protect` would find again);
only the changed tables are protected anew, and the memo is replaced by this build's.
"""

import os
from pathlib import Path

import polars as pl

from core.settings import BUILD_DB_ENV, DISCLOSURE_MEMO_NAME
from disclosure.memo import protect_keeping, read_memo, write_memo
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
    build_db = os.environ.get(BUILD_DB_ENV)
    memo_path = Path(build_db).with_name(DISCLOSURE_MEMO_NAME) if build_db else None
    memo, memo_note = read_memo(memo_path)
    pattern = protect_keeping(problem, memo)
    if memo_path is not None:
        write_memo(pattern.memo, memo_path)
    # dbt's log shows the memo used and the engine's figures (parts kept, suppressed, seconds).
    print(f"disclosure_pattern: {memo_note}; {pattern.figures()}")
    return (
        numbered.with_columns(pattern.suppression())
        .filter(pl.col("suppression").is_not_null())
        .select(*CELL_KEY, "suppression")
        .sort(list(CELL_KEY))
        .to_arrow()
    )
