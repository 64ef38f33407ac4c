"""`imw build`'s Dagster instance (orchestration/dagster_storage.py): its event log keeps one
SQLite connection per file, and writes the history the stock instance — the UI's, the daemon's —
reads back event for event."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from core.settings import SHIPPED_DAGSTER_YAML
from orchestration.dagster_storage import PooledSqliteEventLogStorage, build_instance


@dg.asset
def first() -> int:
    return 1


@dg.asset
def second(first: int) -> int:
    return first + 1


@dg.asset_check(asset=second)
def second_is_two(second: int) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=second == 2)


JOB = dg.define_asset_job("two_assets", selection=[first, second])
DEFS = dg.Definitions(assets=[first, second], asset_checks=[second_is_two], jobs=[JOB])


def _home(tmp_path: Path) -> Path:
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_bytes(SHIPPED_DAGSTER_YAML.read_bytes())
    return home


def _events(instance: dg.DagsterInstance, run_id: str) -> list[tuple[str, str]]:
    return [
        (e.dagster_event.event_type_value, e.dagster_event.step_key or "")
        for e in instance.all_logs(run_id)
        if e.dagster_event is not None
    ]


def test_the_stock_instance_reads_the_history_written_by_build_instance(tmp_path):
    home = _home(tmp_path)
    with build_instance(home) as instance:
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        job = DEFS.resolve_job_def("two_assets")
        result = job.execute_in_process(instance=instance)
        assert result.success
        written = _events(instance, result.run_id)
        # two runs in a row: the second reuses the engines the first opened
        second = job.execute_in_process(instance=instance)
        assert second.success
        materialized = instance.get_latest_materialization_event(dg.AssetKey("second"))
        assert materialized is not None and materialized.run_id == second.run_id
    with dg.DagsterInstance.from_config(str(home)) as stock:
        assert not isinstance(stock.event_log_storage, PooledSqliteEventLogStorage)
        # every event of the first run, in order, as the pooled storage wrote it
        assert _events(stock, result.run_id) == written
        # the asset's planned + done materialization and the check's planned + evaluated
        kinds = [kind for kind, _ in written]
        assert kinds.count("ASSET_MATERIALIZATION") == 2  # first and second
        assert kinds.count("ASSET_MATERIALIZATION_PLANNED") == 2
        assert kinds.count("ASSET_CHECK_EVALUATION") == 1  # second_is_two
        assert {r.run_id for r in stock.get_runs()} == {result.run_id, second.run_id}
        check = stock.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey("second"), "second_is_two"), limit=5
        )
        assert [c.run_id for c in check] == [second.run_id, result.run_id]


def test_a_storage_chosen_in_dagster_yaml_is_kept(tmp_path):
    home = _home(tmp_path)
    other = tmp_path / "elsewhere"
    with (home / "dagster.yaml").open("a", encoding="utf-8") as config:
        config.write(f"\nstorage:\n  sqlite:\n    base_dir: {other}\n")
    with build_instance(home) as instance:
        assert not isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        assert DEFS.resolve_job_def("two_assets").execute_in_process(instance=instance).success
    assert (other / "history" / "runs.db").exists()  # the operator's storage was written
    assert not (home / "history").exists()


def test_the_event_log_commits_to_its_write_ahead_log_without_waiting_for_the_disk(tmp_path):
    """Every file of the pooled event log — the index and each run's — is in WAL mode (Dagster
    makes it so) and its connection at `synchronous=NORMAL` (1; SQLite's default is FULL, 2)."""
    home = _home(tmp_path)
    with build_instance(home) as instance:
        run_id = DEFS.resolve_job_def("two_assets").execute_in_process(instance=instance).run_id
        storage = instance.event_log_storage
        assert isinstance(storage, PooledSqliteEventLogStorage)
        shards = {"index", run_id}  # the run's own file and the index of every run
        assert shards <= set(storage._engines)
        for shard in shards:
            with storage._connect(shard) as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
    # a connection of its own (the stock instance's, the UI's) keeps SQLite's default
    with (
        dg.DagsterInstance.from_config(str(home)) as stock,
        stock.event_log_storage.run_connection(run_id) as conn,
    ):
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
