"""The suppression pattern of every published table (docs/indicators.md, "Output"): one row per
suppressed cell — `indicator_values` rows, the CM04/CM05 blocks of
`mart_goal_attainment_by_field`, topics and topic groups of `mart_contact_topics` — with
`suppression` 'primary' or 'secondary'. Computed by the `disclosure` package (primary rule,
greedy secondary suppression, audit by linear programming) from the unsuppressed marts; the
published models apply it, so no model holds a second copy of the rule. Cells the engine could
not protect stay suppressed here and fail the mart gate's audit.

The problem is set up and protected one calendar year at a time (`disclosure.chunks`: no sum
crosses a year, so the pattern is the whole problem's). The pattern of every table that did not
change since the last build is taken from the memo beside the build database (`disclosure.memo`:
exactly the pattern `protect` would find again); only the changed tables are protected anew,
and the memo is replaced by this build's. A year whose cells did not change at all takes its
whole pattern from the year memo beside it (`disclosure.chunks`), without being set up again;
a year whose three tables' rows are those of the last build (their fingerprint, computed in
DuckDB) takes it without its cells being read at all.
The final audits of the tables protected anew are written beside it for the mart gate
(`core.settings.PATTERN_AUDIT_NAME`), which takes them for the tables published with exactly
the numbers and pattern they audited; and so is the gate's audit of each year protected anew,
made from them and from the gate's last audit (`core.settings.PATTERN_AUDIT_YEAR_NAME`), which
the gate takes for a year published exactly so (`disclosure.chunks`).
"""

import os
from pathlib import Path

from core.resources import release_duckdb_cache
from core.settings import (
    AUDIT_MEMO_NAME,
    BUILD_DB_ENV,
    DISCLOSURE_MEMO_NAME,
    DISCLOSURE_YEAR_MEMO_NAME,
    PATTERN_AUDIT_NAME,
    PATTERN_AUDIT_YEAR_NAME,
)
from disclosure.chunks import pattern_cells_of, protect_by_year, year_fingerprints
from disclosure.memo import AUDIT_MEMO_SCHEMA, YEAR_MEMO_SCHEMA, read_memo, write_memo


def model(dbt, session):
    dbt.config(materialized="table")
    # DuckDB's cache of the models before this one, given back before the engine's workers take
    # their memory beside this process: the build's peak (core.resources.release_duckdb_cache)
    released = release_duckdb_cache(session)
    catalogue = dbt.ref("indicator_catalogue").pl()
    # literal names: dbt finds a Python model's dependencies by reading its source
    values = dbt.ref("indicator_values")
    fields = dbt.ref("mart_goal_attainment_by_field")
    topics = dbt.ref("mart_contact_topics")

    build_db = os.environ.get(BUILD_DB_ENV)
    memo_path = Path(build_db).with_name(DISCLOSURE_MEMO_NAME) if build_db else None
    memo, memo_note = read_memo(memo_path)
    year_path = memo_path.with_name(DISCLOSURE_YEAR_MEMO_NAME) if memo_path else None
    kept_years, _ = read_memo(year_path, YEAR_MEMO_SCHEMA)
    # the mart gate's last audit, per part: the ranges of the parts this pattern keeps
    audit_memo, _ = read_memo(
        memo_path.with_name(AUDIT_MEMO_NAME) if memo_path else None, AUDIT_MEMO_SCHEMA
    )
    # one grouped scan of each table: the years with rows, and each year's fingerprint
    fingerprints = year_fingerprints((values, fields, topics), catalogue)
    chunked = protect_by_year(
        sorted(fingerprints),
        pattern_cells_of(values, fields, topics, catalogue),
        memo,
        kept_years,
        fingerprints,
        audit_memo,
    )
    if memo_path is not None and year_path is not None:
        write_memo(chunked.memo, memo_path)
        write_memo(chunked.year_memo, year_path)
        # the final audits of the parts protected anew, for the mart gate (this build's only)
        write_memo(chunked.audit_memo, memo_path.with_name(PATTERN_AUDIT_NAME))
        write_memo(chunked.audit_year_memo, memo_path.with_name(PATTERN_AUDIT_YEAR_NAME))
    # dbt's log shows the memo used and the engine's figures (parts kept, suppressed, seconds).
    # (the figures last: bench/disclosure_parts.py reads them from the end of the line)
    cache = "DuckDB's cache given back" if released else "DuckDB's cache kept (pinned)"
    print(f"disclosure_pattern: {memo_note}; {cache}; {chunked.figures}")
    return chunked.pattern.to_arrow()
