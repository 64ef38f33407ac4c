"""A corrupted mart is stopped by the blocking mart gate: nothing is published, exit code 1."""

from __future__ import annotations

import hashlib
import os

import duckdb
import pytest

import orchestration.checks as checks
from cli.main import main
from core.settings import KEY_ENV, Settings
from synthetic import generate

# Several builds per test: run by `make test-long`, outside `make test`.
pytestmark = [pytest.mark.slow, pytest.mark.long]


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_corrupted_mart_blocks_publication_and_keeps_the_last_good_file(
    tmp_path, monkeypatch, capsys
):
    settings = Settings.from_env(home=tmp_path / "home", environ={})
    generate("tiny", settings.landing, seed=7, truth_path=tmp_path / "truth.json")
    monkeypatch.setenv(KEY_ENV, "mart-gate-key-0123456789")
    assert main(["build", "--home", str(settings.home)]) == 0
    good = sha(settings.published_db)

    real_check = checks.check_marts

    def check_after_a_broken_model(build_db, previous, **kwargs):
        # What a broken model would do: a plan-coverage share above 1, written after dbt ran and
        # before the gate looks — the moment the gate exists for.
        with duckdb.connect(str(build_db)) as con:
            con.execute(
                "UPDATE published.indicator_values SET value = 1.5 "
                "WHERE indicator_id = 'CM01' AND level = 'LAND' AND period_type = 'YEAR' "
                "AND NOT suppressed"
            )
        return real_check(build_db, previous, **kwargs)

    monkeypatch.setattr(checks, "check_marts", check_after_a_broken_model)
    capsys.readouterr()
    assert main(["build", "--home", str(settings.home)]) == 1
    assert "FAILED" in capsys.readouterr().err

    assert sha(settings.published_db) == good, "the last good published database is untouched"
    report = (settings.reports_dir / "_betrieb" / "mart_gate.md").read_text()
    assert "publication blocked" in report and "share_range" in report
    assert (settings.reports_dir / "data_docs" / "marts" / "index.html").exists()
    assert os.environ[KEY_ENV] == "mart-gate-key-0123456789"

    # The failure is on record: `imw status` exits 1 and names the step and the reason.
    assert main(["status", "--home", str(settings.home)]) == 1
    status = capsys.readouterr().out
    assert "last build:  FAILED" in status
    assert "failed steps: published__pub_indicator_values_mart_gate" in status
    assert "last successful build:" in status and "fresh" in status
    last = (settings.reports_dir / "_betrieb" / "letzter_build.md").read_text()
    assert "FEHLGESCHLAGEN" in last and "mart gate blocked publication" in last
