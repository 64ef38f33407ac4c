"""dbt's commands in the build's own process (`orchestration.dbt_in_process`).

Every build test runs its dbt through it (`WarehouseDbtResource`, `in_process` by default), so
the events, materialisations and asset checks of a real build are covered there; these tests pin
what a build cannot show: the lines handed to dagster-dbt are the ones dbt prints, a failing
command fails with dbt's error, and the process is given back as it was — working directory,
environment, the DuckDB file closed.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from dbt.adapters.events.types import SQLQuery
from dbt.events.types import MainReportVersion
from dbt_common.events.base_types import EventLevel, msg_from_base_event
from dbt_common.events.logger import LineFormat, LoggerConfig, _JsonLogger
from dbt_common.events.types import Note

from core.project_vars import REFERENCE_DATE_ENV
from core.settings import BUILD_DB_ENV, BUILD_DB_NAME, DBT_PROJECT_DIR
from orchestration.dbt_in_process import (
    PARTIAL_PARSE_FILE_NAME,
    DbtThread,
    _environment,
    quiet_args,
    stdout_line,
)
from orchestration.dbt_in_warehouse import dbt_working_dir
from orchestration.dbt_project import dbt_project
from orchestration.resources import WarehouseDbtResource, dbt_resource


def test_a_line_is_what_dbts_json_stdout_logger_prints() -> None:
    """dagster-dbt reads the lines dbt prints with `--log-format json`: the same JSON, for the
    same events (info and above; a debug event such as the SQL of a query is left out)."""
    info = msg_from_base_event(MainReportVersion(version="1.11", log_version=3))
    printed = _JsonLogger(LoggerConfig(name="t", line_format=LineFormat.Json)).create_line(info)
    assert stdout_line(info) == printed.encode()
    assert json.loads(stdout_line(info))["info"]["name"] == "MainReportVersion"
    warning = msg_from_base_event(Note(msg="careful"), level=EventLevel.WARN)
    assert json.loads(stdout_line(warning))["info"]["level"] == "warn"
    debug = msg_from_base_event(SQLQuery(conn_name="master", sql="select 1", node_info={}))
    assert debug.info.level == "debug"
    assert stdout_line(debug) is None


def test_quiet_args_turn_dbts_stdout_off_and_keep_its_debug_file() -> None:
    # dbt gives its log file the stdout level unless the file has one of its own
    assert quiet_args(["build"], {}) == [
        "build", "--log-level", "none", "--log-level-file", "debug"
    ]  # fmt: skip
    # a level asked for, on the command line or in dbt's variable, stays
    assert quiet_args(["build", "--log-level-file", "warn"], {}) == [
        "build", "--log-level-file", "warn", "--log-level", "none"
    ]  # fmt: skip
    assert quiet_args(["build"], {"DBT_LOG_LEVEL_FILE": "info"}) == [
        "build", "--log-level", "none"
    ]  # fmt: skip


def test_the_environment_is_given_back(monkeypatch) -> None:
    monkeypatch.setenv("IMW_TEST_KEPT", "same")
    monkeypatch.setenv("IMW_TEST_CHANGED", "before")
    monkeypatch.setenv("IMW_TEST_REMOVED", "there")
    monkeypatch.delenv("IMW_TEST_ADDED", raising=False)
    wanted = {
        **{k: v for k, v in os.environ.items() if k != "IMW_TEST_REMOVED"},
        "IMW_TEST_CHANGED": "during",
        "IMW_TEST_ADDED": "new",
    }
    before = dict(os.environ)
    with _environment(wanted):
        assert dict(os.environ) == wanted
    assert dict(os.environ) == before


def test_the_working_folder_is_the_build_databases(tmp_path) -> None:
    db = tmp_path / "w" / BUILD_DB_NAME
    assert dbt_working_dir({BUILD_DB_ENV: str(db)}) == db.parent
    assert db.parent.is_dir()  # made for dbt
    assert dbt_working_dir({}) is None  # a parse: dbt stays where it is
    with pytest.raises(ValueError, match=BUILD_DB_NAME):
        dbt_working_dir({BUILD_DB_ENV: str(tmp_path / "other.duckdb")})


def _dbt_env(tmp_path: Path) -> dict[str, str]:
    """What dagster-dbt gives a build's command, with an empty build database."""
    dbt_project()  # the prepared parse, copied so that dbt need not parse the project
    target = tmp_path / "target"
    target.mkdir()
    shutil.copy(DBT_PROJECT_DIR / "target" / PARTIAL_PARSE_FILE_NAME, target)
    return {
        **os.environ,
        BUILD_DB_ENV: str(tmp_path / "warehouse" / BUILD_DB_NAME),
        REFERENCE_DATE_ENV: "",
        "DBT_LOG_FORMAT": "json",
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(target),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_PROJECT_DIR": str(DBT_PROJECT_DIR),
    }


def test_a_failing_command_fails_with_dbts_error_and_gives_the_process_back(tmp_path) -> None:
    """A model that cannot be built (its source table does not exist in an empty database): the
    command ends with dbt's exit code for failures, the error reaches dagster-dbt as dbt's error
    event naming the model, dbt's debug log is written, and afterwards the working folder and
    the environment are as before and the database file opens in this process (closed by dbt)."""
    env = _dbt_env(tmp_path)
    cwd, environ = os.getcwd(), dict(os.environ)
    command = DbtThread(["imw-dbt", "run", "--select", "stg_persons"], env)
    lines = [json.loads(line) for line in command.stdout]
    assert command.wait() == 1
    errors = [line["info"]["msg"] for line in lines if line["info"]["level"] == "error"]
    assert any("stg_persons" in message for message in errors), errors
    assert all(line["info"]["level"] != "debug" for line in lines)
    assert (tmp_path / "target" / "dbt.log").stat().st_size > 0
    assert os.getcwd() == cwd
    assert dict(os.environ) == environ
    with duckdb.connect(str(tmp_path / "warehouse" / BUILD_DB_NAME), read_only=True) as con:
        # the project's on-run-start hook ran: dbt did connect, and has let go of the file
        assert con.execute("SELECT count(*) FROM meta.dbt_built_inputs").fetchall() == [(0,)]


def test_a_command_dbt_cannot_start_is_an_error_line(tmp_path) -> None:
    command = DbtThread(["imw-dbt", "no-such-command"], _dbt_env(tmp_path))
    lines = list(command.stdout)
    assert command.wait() == 2
    assert lines and lines[-1].startswith(b"dbt: ")
    assert b"no-such-command" in lines[-1]


def test_the_builds_resource_runs_dbt_here_and_the_parse_in_a_subprocess() -> None:
    assert isinstance(dbt_resource(), WarehouseDbtResource)
    assert dbt_resource().in_process
    assert not dbt_resource(in_process=False).in_process
