"""The reference date R outside dbt: how `imw build --reference-date` reaches dbt, what a build
prints about R, and how a period to date is labelled (docs/indicators.md v2)."""

from __future__ import annotations

from datetime import date

from cli.main import parser, reference_date_line
from core.periods import period_label
from core.project_vars import REFERENCE_DATE_ENV
from core.settings import PROJECT_ROOT
from orchestration.assets import (
    NIGHTLY_FIXTURE_ONLY_EXCLUDED,
    NIGHTLY_UNIT_TESTS_EXCLUDED,
    dbt_build_args,
    dbt_build_env,
)


def test_reference_date_option_is_parsed_as_a_date():
    args = parser().parse_args(["build", "--reference-date", "2025-12-31"])
    assert args.reference_date == date(2025, 12, 31)
    assert parser().parse_args(["build"]).reference_date is None


def test_dbt_gets_an_explicit_reference_date_in_its_environment():
    # the same arguments with or without R: a dbt var would make dbt parse the whole project
    assert dbt_build_args() == [
        "build",
        *NIGHTLY_UNIT_TESTS_EXCLUDED,
        *NIGHTLY_FIXTURE_ONLY_EXCLUDED,
    ]
    # the model int_reference_date reads env_var('IMW_REFERENCE_DATE', '')
    assert dbt_build_env("2025-12-31", {})["IMW_REFERENCE_DATE"] == "2025-12-31"
    # empty without R, also when the operator's shell has the variable set
    assert dbt_build_env(None, {"IMW_REFERENCE_DATE": "2025-12-31"})["IMW_REFERENCE_DATE"] == ""
    sql = (PROJECT_ROOT / "dbt_project/models/intermediate/int_reference_date.sql").read_text()
    assert f"env_var('{REFERENCE_DATE_ENV}', '')" in sql


def test_what_a_build_says_about_r():
    assert reference_date_line(None) == "reference date: unknown (dbt did not run)"
    none = reference_date_line((None, None, False))
    assert "none" in none and "empty" in none  # no provider snapshot: says why tables are empty
    natural = reference_date_line((date(2026, 6, 30), date(2026, 6, 30), False))
    assert natural.startswith("reference date R: 2026-06-30 (newest stand")
    explicit = reference_date_line((date(2025, 12, 31), date(2026, 6, 30), True))
    assert "--reference-date" in explicit and "2026-06-30" in explicit


def test_a_period_to_date_is_labelled_with_the_day_of_r():
    r = date(2026, 6, 30)
    assert period_label("2026", False, r) == "2026 (bis 30.06.)"
    assert period_label("2026Q2", True, r) == "2026Q2"  # ends on R: complete
    assert period_label("2025", True, r) == "2025"


def test_dbt_logs_to_its_file_at_info_unless_the_operator_names_a_level():
    # the nightly level; dbt's own default would be debug (orchestration.assets)
    assert dbt_build_env(None, {}) == {"IMW_REFERENCE_DATE": "", "DBT_LOG_LEVEL_FILE": "info"}
    # an operator's DBT_LOG_LEVEL_FILE=debug reaches dbt as it is
    assert dbt_build_env(None, {"DBT_LOG_LEVEL_FILE": "debug"})["DBT_LOG_LEVEL_FILE"] == "debug"
    # set but empty: as if unset
    assert dbt_build_env(None, {"DBT_LOG_LEVEL_FILE": ""})["DBT_LOG_LEVEL_FILE"] == "info"
