"""The raw layer in the build database, derived from the contract.

- `raw.<extract>`: every accepted row of every accepted file (history), typed, pseudonymised (ids
  are warehouse ids, `UHUGEINT`: `ingest.pseudonymise`), with `_batch_id`, `_provider` and
  `_line` (line in the delivered file).
- `raw.deliveries`: one row per processed file, accepted or not, with its verdict.
- `raw.load_batches`: the accepted deliveries — each accepted file is one load batch.
- `raw.current_batches`: per provider and extract the newest accepted snapshot (by `stand`, then
  by arrival).
- `raw.<extract>_current`: the rows of the current snapshots — what dbt reads.
- `raw.quarantined_rows`: rows that were not loaded, with file, line, column, rule.
- `raw.provider_issues`: every rejection and quarantine not yet replaced by a later accepted
  delivery of the same extract — the open problems per provider.
- `raw.warehouse_key`: the fingerprint (an HMAC) of the key the raw layer is pseudonymised with.
"""

from __future__ import annotations

import duckdb

from contract.spec import EXTRACTS, ColumnType, Extract
from ingest.pseudonymise import ID_TYPE, id_sql_from_text

SCHEMA = "raw"

_DELIVERIES = """
CREATE TABLE IF NOT EXISTS raw.deliveries (
    delivery_id      BIGINT PRIMARY KEY,
    file_name        VARCHAR NOT NULL,
    sha256           VARCHAR NOT NULL,
    provider         VARCHAR,
    extract          VARCHAR,
    stand            DATE,
    received_at      TIMESTAMP NOT NULL,
    verdict          VARCHAR NOT NULL,  -- ACCEPTED, REJECTED, DUPLICATE
    reason           VARCHAR,           -- rejection reason code
    message_de       VARCHAR,
    message_en       VARCHAR,
    rows_delivered   BIGINT,
    rows_loaded      BIGINT,
    rows_quarantined BIGINT,
    encoding         VARCHAR,
    delimiter        VARCHAR,
    extra_columns    VARCHAR[],
    stored_as        VARCHAR            -- path below IMW_HOME (archive/ or quarantine/)
)
"""

_QUARANTINED_ROWS = """
CREATE TABLE IF NOT EXISTS raw.quarantined_rows (
    delivery_id BIGINT NOT NULL,
    file_name   VARCHAR NOT NULL,
    provider    VARCHAR,
    extract     VARCHAR,
    line        BIGINT NOT NULL,
    column_name VARCHAR,
    rule        VARCHAR NOT NULL,
    value       VARCHAR  -- NULL for ids and free text: never echoed in clear
)
"""

_LOAD_BATCHES = """
CREATE OR REPLACE VIEW raw.load_batches AS
SELECT delivery_id AS batch_id, file_name, sha256, provider, extract, stand,
       rows_loaded AS row_count, rows_delivered, rows_quarantined, received_at AS loaded_at
FROM raw.deliveries
WHERE verdict = 'ACCEPTED'
"""

_CURRENT_BATCHES = """
CREATE OR REPLACE VIEW raw.current_batches AS
SELECT * EXCLUDE (rn) FROM (
    SELECT *, row_number() OVER (
        PARTITION BY provider, extract ORDER BY stand DESC, batch_id DESC) AS rn
    FROM raw.load_batches
) WHERE rn = 1
"""


def table_ddl(ex: Extract) -> str:
    columns = ",\n    ".join(f"{c.raw_name} {c.duckdb_type}" for c in ex.columns)
    return f"""
CREATE TABLE IF NOT EXISTS raw.{ex.raw_table} (
    _batch_id BIGINT NOT NULL,
    _provider VARCHAR NOT NULL,
    _line     BIGINT NOT NULL,
    {columns}
)"""


def current_view_ddl(ex: Extract) -> str:
    return f"""
CREATE OR REPLACE VIEW raw.{ex.raw_table}_current AS
SELECT t.* FROM raw.{ex.raw_table} AS t
JOIN raw.current_batches AS b ON t._batch_id = b.batch_id"""


_WAREHOUSE_KEY = """
CREATE TABLE IF NOT EXISTS raw.warehouse_key (
    fingerprint VARCHAR NOT NULL,  -- HMAC of a fixed message with the key; never the key
    recorded_at TIMESTAMP NOT NULL
)
"""


_PROVIDER_ISSUES = """
CREATE OR REPLACE VIEW raw.provider_issues AS
WITH problems AS (
    -- a rejected file: one problem, the reason of the rejection
    SELECT delivery_id, 'REJECTED' AS kind, reason AS rule, NULL::VARCHAR AS column_name,
           rows_delivered AS rows_affected, NULL::BIGINT[] AS first_lines
    FROM raw.deliveries WHERE verdict = 'REJECTED'
    UNION ALL
    -- an accepted file with quarantined rows: one problem per rule and column
    SELECT delivery_id, 'QUARANTINED', rule, column_name, count(DISTINCT line),
           list_sort(list_distinct(list(line)))[1:20]
    FROM raw.quarantined_rows
    WHERE delivery_id IN (SELECT delivery_id FROM raw.deliveries WHERE verdict = 'ACCEPTED')
    GROUP BY delivery_id, rule, column_name
)
SELECT coalesce(d.provider, '?') AS provider, d.extract, d.delivery_id, d.file_name, d.stand,
       d.received_at, p.kind, p.rule, p.column_name, p.rows_affected, p.first_lines,
       d.message_de, d.message_en
FROM problems AS p
JOIN raw.deliveries AS d USING (delivery_id)
-- open until a later accepted delivery of the same extract (of the same provider) replaces it;
-- a file whose extract could not be read is resolved by any later accepted file of the provider
WHERE NOT EXISTS (
    SELECT 1 FROM raw.deliveries AS later
    WHERE later.verdict = 'ACCEPTED'
      AND later.provider = d.provider
      AND (later.extract = d.extract OR d.extract IS NULL)
      AND later.delivery_id > d.delivery_id
)
"""
"""Every rejection and quarantine still unresolved (`imw status --open`, the reports)."""


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw layer if it is missing (idempotent)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    con.execute(_DELIVERIES)
    con.execute(_WAREHOUSE_KEY)
    con.execute(_QUARANTINED_ROWS)
    con.execute(_LOAD_BATCHES)
    con.execute(_CURRENT_BATCHES)
    con.execute(_PROVIDER_ISSUES)
    for ex in EXTRACTS.values():
        con.execute(table_ddl(ex))
    _compact_ids(con)
    for ex in EXTRACTS.values():  # after the conversion: a view records its columns' types
        con.execute(current_view_ddl(ex))


def _compact_ids(con: duckdb.DuckDBPyConnection) -> None:
    """Bring a raw layer written before the warehouse ids (#16) to them, once, in place.

    Its id columns hold the full pseudonym as 64 hex characters; the warehouse id is that
    pseudonym's first 128 bits (`ingest.pseudonymise`), so the conversion is exact and needs
    neither the key nor the deliveries: every row keeps its identity and history.
    """
    stale = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = ? AND data_type = 'VARCHAR'",
        [SCHEMA],
    ).fetchall()
    ids = {
        (ex.raw_table, c.raw_name)
        for ex in EXTRACTS.values()
        for c in ex.columns
        if c.type is ColumnType.ID
    }
    for table, column in sorted(set(stale) & ids):
        con.execute(
            f"ALTER TABLE {SCHEMA}.{table} ALTER {column} TYPE {ID_TYPE} "
            f"USING ({id_sql_from_text(column)})"
        )
