"""The reference date R outside dbt: how `imw build --reference-date` reaches dbt, what a build
prints about R, and how a period to date is labelled (docs/indicators.md v2)."""

from __future__ import annotations

import json
from datetime import date

from cli.main import parser, reference_date_line
from core.periods import period_label
from orchestration.assets import NIGHTLY_DBT_EXCLUDES, dbt_build_args


def test_reference_date_option_is_parsed_as_a_date():
    args = parser().parse_args(["build", "--reference-date", "2025-12-31"])
    assert args.reference_date == date(2025, 12, 31)
    assert parser().parse_args(["build"]).reference_date is None


def test_dbt_gets_an_explicit_reference_date_as_a_var():
    assert dbt_build_args(None) == ["build", *NIGHTLY_DBT_EXCLUDES]
    args = dbt_build_args("2025-12-31")
    assert args[: len(NIGHTLY_DBT_EXCLUDES) + 1] == ["build", *NIGHTLY_DBT_EXCLUDES]
    # --vars takes YAML/JSON; the model int_reference_date reads var('reference_date')
    assert json.loads(args[args.index("--vars") + 1]) == {"reference_date": "2025-12-31"}


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
