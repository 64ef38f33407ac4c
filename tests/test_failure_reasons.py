"""Failure reasons (#12, item 2): every failure record names the root exception, the step, the
file involved if any, and the log — in `imw status`, `letzter_build.md`/`.json`; the Dagster
services refuse to start without a key."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from dagster._utils.error import SerializableErrorInfo

from cli.main import main, run_build
from core.settings import KEY_ENV
from reports.build_record import INTERRUPTED, read_records, root_error
from reports.status import status_report

KEY = "failure-reasons-key-0123456789"


def _error(cls: str, message: str, cause=None, context=None) -> SerializableErrorInfo:
    return SerializableErrorInfo(message=message, stack=[], cls_name=cls, cause=cause,
                                 context=context)  # fmt: skip


def test_root_error_is_the_end_of_the_chain_and_names_the_delivery_file():
    inner = _error("OSError", "OSError: cannot read faelle_08115003_2026-06-30.xlsx: truncated\n")
    # An error handled earlier ("during handling of …") is context, not the reason: ignored.
    handled = _error("CatalogException", "Table raw.deliveries does not exist")
    middle = _error("RuntimeError", "reader failed", cause=inner, context=handled)
    outer = _error(
        "DagsterExecutionStepExecutionError",
        "Error occurred while executing op raw_extracts:\n",
        cause=middle,
    )
    message, file = root_error(outer)
    # The innermost error of the `raise … from` chain, not Dagster's wrapper.
    assert message == "OSError: cannot read faelle_08115003_2026-06-30.xlsx: truncated"
    assert file == "faelle_08115003_2026-06-30.xlsx"
    # Dagster's wrapper with only an implicit context: the context is the reason.
    wrapped = _error("DagsterExecutionStepExecutionError", "Error occurred", context=inner)
    assert root_error(wrapped)[0].startswith("OSError: cannot read")
    # No delivery file in the chain: none named (a .py path in a message is no delivery).
    assert root_error(_error("ValueError", "bad value in /x/ingest/load.py")) == (
        "ValueError: bad value in /x/ingest/load.py",
        None,
    )


def test_a_build_stopped_by_a_signal_says_it_was_interrupted():
    # Dagster's interrupt alone: its message is only its class path
    interrupt = _error(
        "DagsterExecutionInterruptedError", "dagster._core.errors.DagsterExecutionInterruptedError"
    )
    assert root_error(interrupt) == (INTERRUPTED, None)
    # what the step ended with on its way out, raised while the interrupt was handled (before
    # dbt ended on the interrupt: dagster-dbt's wait for it timed out): the interrupt first
    waited = "Command 'imw-dbt build' timed out after 25 seconds"
    timeout = _error("TimeoutExpired", waited, context=interrupt)
    message, _ = root_error(_error("DagsterExecutionStepExecutionError", "Error", cause=timeout))
    assert message == f"{INTERRUPTED}; then TimeoutExpired: {waited}"
    # the same error without the interrupt behind it is the error alone
    alone = _error("TimeoutExpired", waited)
    assert root_error(alone)[0] == f"TimeoutExpired: {waited}"


def test_a_build_without_a_key_records_the_cause_step_and_log(settings, monkeypatch, capsys):
    # As the landing sensor would start it: the daemon has no key in its environment.
    monkeypatch.delenv(KEY_ENV, raising=False)
    assert run_build(settings, trigger="landing sensor") is False
    record = read_records(settings)[-1]
    assert record.failed_steps == ["raw_extracts"]
    assert record.error.startswith("MissingKeyError: IMW_PSEUDONYM_KEY is not set.")
    assert "Error occurred while executing" not in record.error
    assert record.log and (settings.logs_dir / record.log.split("/")[-1]).exists()
    text, healthy = status_report(settings)
    assert not healthy
    assert "reason: MissingKeyError: IMW_PSEUDONYM_KEY is not set." in text
    assert f"log: {record.log}" in text
    report = (settings.reports_dir / "_betrieb/letzter_build.md").read_text(encoding="utf-8")
    assert "- Schritt / step: `raw_extracts`" in report
    assert "- Ursache / cause: MissingKeyError: IMW_PSEUDONYM_KEY is not set." in report
    assert f"`{record.log}`" in report
    saved = json.loads((settings.reports_dir / "_betrieb/letzter_build.json").read_text())
    assert saved["error"] == record.error


def test_a_build_whose_database_is_locked_says_who_holds_it(settings, monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    settings.build_db.parent.mkdir(parents=True, exist_ok=True)
    # Another process (an analyst's tool, a stray script) holds the build database for writing.
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
         "time.sleep(3600)", str(settings.build_db)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        assert run_build(settings) is False
    finally:
        holder.kill()
        holder.wait()
    record = read_records(settings)[-1]
    assert record.failed_steps == ["raw_extracts"]
    # DuckDB's own words: the lock and the process holding it.
    assert "lock" in record.error.lower() and str(holder.pid) in record.error
    text, _ = status_report(settings)
    assert f"reason: {record.error}" in text


@pytest.mark.parametrize("service", ["ui", "webserver", "daemon"])
def test_dagster_services_refuse_to_start_without_a_key(service, monkeypatch, capsys):
    monkeypatch.delenv(KEY_ENV, raising=False)
    started = time.monotonic()
    assert main([service]) == 2
    err = capsys.readouterr().err
    assert f"imw {service}: not started. IMW_PSEUDONYM_KEY is not set." in err
    assert time.monotonic() - started < 5  # refused at once, nothing was launched


def test_make_ui_refuses_without_a_key():
    import os

    from core.settings import PROJECT_ROOT

    env = {k: v for k, v in os.environ.items() if k != KEY_ENV}
    done = subprocess.run(["make", "-s", "ui"], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2  # make's own code for a failed recipe; the recipe exited 2
    assert "imw ui: not started. IMW_PSEUDONYM_KEY is not set." in done.stderr
