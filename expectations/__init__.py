"""Great Expectations gates of the warehouse.

- `extract_suites`, `extract_gate`: the extract gate — delivered rows against the extract
  contract (`contract.spec`), before they enter the raw layer.
- `mart_gate`: every published table after dbt, before publish (a blocking Dagster asset check).

Every import of Great Expectations is in this package, so `scipy.stats`, which GX imports for
expectations the gates never use, is deferred here, before any of them
(`expectations.deferred_import`).
"""

from expectations.deferred_import import defer

defer("scipy.stats")
