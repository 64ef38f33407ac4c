"""Nothing is published that the mart gate has not passed, whatever starts the publish step.

The mart gate (a blocking Dagster asset check) stops `published_indicators` in the same run. But
the asset can be started alone (the UI's Materialize button, an asset selection), and dbt writes
the `published` schema before the gate looks at it, so after a failed gate the build database
holds exactly the rejected data. Hence a second lock, in the data itself:

- the gate records its verdict in `ops.mart_gate_runs` of the build database: the Dagster run
  id, the dbt invocation that built the tables (`run_results.json`), and a fingerprint of every
  table of the `marts` and `published` schemas;
- publish refuses (`PublishRefused`, with the reason) unless the newest verdict is a pass from
  this same Dagster run, for the dbt invocation whose results are current, on tables whose
  fingerprint is still the same (nobody edited them since).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from core.database import connect

GATED_SCHEMAS = ("marts", "published")
RUN_RESULTS = "run_results.json"

_GATE_RUNS = """
CREATE TABLE IF NOT EXISTS ops.mart_gate_runs (
    dagster_run_id    VARCHAR NOT NULL,
    dbt_invocation_id VARCHAR,
    marts_fingerprint VARCHAR NOT NULL,
    passed            BOOLEAN NOT NULL,
    checked_at        TIMESTAMP NOT NULL
)
"""


class PublishRefused(RuntimeError):
    """The mart gate has not passed on exactly what would be published."""


@dataclass(frozen=True)
class GateVerdict:
    dagster_run_id: str
    dbt_invocation_id: str | None
    marts_fingerprint: str
    passed: bool


def dbt_invocation_id(dbt_target_dir: Path) -> str | None:
    """The invocation id of the newest dbt command that wrote results into the target folder."""
    path = dbt_target_dir / RUN_RESULTS
    try:
        return json.loads(path.read_text(encoding="utf-8"))["metadata"]["invocation_id"]
    except (OSError, ValueError, KeyError):
        return None


def marts_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """Row count, sum and XOR of row hashes of every table of the gated schemas, in name order.

    Not cryptographic: it detects edits and rebuilds, not an adversary with write access to the
    build database (who could as well edit the published file).
    """
    tables = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema IN (SELECT unnest(?::VARCHAR[])) AND table_type = 'BASE TABLE' "
        "ORDER BY table_schema, table_name",
        [list(GATED_SCHEMAS)],
    ).fetchall()
    parts = []
    for schema, table in tables:
        name = f'"{schema}"."{table}"'
        count, total, xor = con.execute(
            f"SELECT count(*), sum(hash(t)::HUGEINT), bit_xor(hash(t)) FROM {name} AS t"
        ).fetchone()
        parts.append(f"{schema}.{table}:{count}:{total}:{xor}")
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


def record_gate(
    build_db: Path, dagster_run_id: str, dbt_target_dir: Path, passed: bool
) -> GateVerdict:
    """Write the mart gate's verdict on the current tables (called by the `mart_gate` check)."""
    with connect(build_db) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS ops")
        con.execute(_GATE_RUNS)
        verdict = GateVerdict(
            dagster_run_id, dbt_invocation_id(dbt_target_dir), marts_fingerprint(con), passed
        )
        con.execute(
            "INSERT INTO ops.mart_gate_runs VALUES (?, ?, ?, ?, ?)",
            [verdict.dagster_run_id, verdict.dbt_invocation_id, verdict.marts_fingerprint,
             verdict.passed, datetime.now(UTC).replace(tzinfo=None)],
        )  # fmt: skip
    return verdict


def require_gate(build_db: Path, dagster_run_id: str, dbt_target_dir: Path) -> GateVerdict:
    """Raise `PublishRefused` unless the mart gate passed in this run on these very tables."""
    with connect(build_db, read_only=True) as con:
        has_table = con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'ops' AND table_name = 'mart_gate_runs'"
        ).fetchone()[0]
        row = (
            con.execute(
                "SELECT dagster_run_id, dbt_invocation_id, marts_fingerprint, passed "
                "FROM ops.mart_gate_runs ORDER BY checked_at DESC LIMIT 1"
            ).fetchone()
            if has_table
            else None
        )
        if row is None:
            raise PublishRefused(
                "the mart gate has never checked this build database; publish runs only in the "
                "job nightly_build, after dbt and a passed mart gate"
            )
        last = GateVerdict(*row)
        if last.dagster_run_id != dagster_run_id:
            raise PublishRefused(
                f"the mart gate did not check the marts in this run ({dagster_run_id}; its last "
                f"check was in run {last.dagster_run_id}); publish runs only in the job "
                "nightly_build, after dbt and a passed mart gate"
            )
        if not last.passed:
            raise PublishRefused(
                "the mart gate FAILED in this run: see reports/_betrieb/mart_gate.md"
            )
        current = dbt_invocation_id(dbt_target_dir)
        if last.dbt_invocation_id != current:
            raise PublishRefused(
                f"dbt ran again (invocation {current}) after the mart gate checked invocation "
                f"{last.dbt_invocation_id}"
            )
        if marts_fingerprint(con) != last.marts_fingerprint:
            raise PublishRefused(
                "the marts changed after the mart gate passed (their fingerprint differs): "
                "someone or something edited the build database"
            )
    return last
