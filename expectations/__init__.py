"""Great Expectations gates of the warehouse.

- `extract_suites`, `extract_gate`: the extract gate — delivered rows against the extract
  contract (`contract.spec`), before they enter the raw layer.
- `mart_gate`: every published table after dbt, before publish (a blocking Dagster asset check).
"""
