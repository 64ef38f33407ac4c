"""Indicators recover the generator's known true rates on `demo` data.

The generator draws each provider's rates (plan coverage, goal attainment, goal-linked share,
share obliged to leave) and writes them to ground_truth.json *before* any data is derived; the
warehouse never sees that file. If a definition or a join is wrong, the indicators drift away
from the truth or stop ranking providers the way their true rates do.
"""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from core.settings import Settings

# Demo scale (see conftest.demo_world): run by `make test-long`, outside `make test`.
pytestmark = [pytest.mark.slow, pytest.mark.long]

# Tolerances: sampling noise on demo data (a few hundred cases per year at LAND level) plus the
# known ~1 % downward bias of CM01 (a first signature later than 8 weeks can fall after P.end).
# EL02 is drawn per PERSON (status is stable during counselling) but counted per contact: with
# 319 persons behind the demo's 2025 LAND value (base_n) and a true share of ~3.4 %, the standard
# error is about sqrt(0.034 * 0.966 / 319) ≈ 0.010, so 0.025 is ~2.5 standard errors (seed 1
# lands at -0.020; the raw rows give the same 22 / 1612 contacts).
LAND_TOLERANCE = {"CM01": 0.05, "CM05": 0.05, "CM08": 0.03, "EL02": 0.025}
MIN_SPEARMAN_CM01 = 0.8


@pytest.fixture(scope="module")
def demo_build(demo_world):
    """The session's demo build (tests/conftest.py), shared with the outcome-truth tests."""
    return demo_world


def values(settings: Settings, sql: str, params: list) -> pl.DataFrame:
    # The build database keeps unsuppressed values; recovery is about the computation, not privacy.
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        return con.sql(sql, params=params).pl()


@pytest.mark.parametrize("indicator", sorted(LAND_TOLERANCE))
def test_land_values_recover_the_ground_truth(demo_build, indicator):
    settings, truth = demo_build
    period = truth["land_period"]
    got = values(
        settings,
        "SELECT value FROM marts.indicator_values "
        "WHERE indicator_id = ? AND level = 'LAND' AND period = ?",
        [indicator, period],
    )
    assert got.height == 1, f"{indicator} {period} missing at LAND level"
    expected = truth["land"][indicator]
    assert got["value"][0] == pytest.approx(expected, abs=LAND_TOLERANCE[indicator])


def test_provider_values_rank_providers_like_their_true_plan_coverage(demo_build):
    settings, truth = demo_build
    # Every provider's CM01 over the complete years in which all demo providers were active
    # (Gemeinden hand over to the Kreise at the end of 2024), pooled as sum/sum of the yearly
    # numerators and denominators so each provider rests on 100+ case-years.
    measured = values(
        settings,
        """
        SELECT unit_code AS provider, sum(numerator) / sum(denominator) AS cm01
        FROM marts.indicator_values
        WHERE indicator_id = 'CM01' AND level = 'TRAEGER' AND period_type = 'YEAR'
          AND period BETWEEN '2018' AND '2024'
        GROUP BY unit_code
        """,
        [],
    )
    true_rates = pl.DataFrame(
        {
            "provider": list(truth["providers"]),
            "plan_coverage": [p["plan_coverage"] for p in truth["providers"].values()],
        }
    )
    joined = measured.join(true_rates, on="provider", how="inner")
    assert joined.height == len(truth["providers"]), "every provider must have a CM01 value"
    rho = joined.select(pl.corr("cm01", "plan_coverage", method="spearman")).item()
    assert rho >= MIN_SPEARMAN_CM01, f"Spearman rho {rho:.3f} < {MIN_SPEARMAN_CM01}"
