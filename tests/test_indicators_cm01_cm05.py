"""CM01 (plan coverage) and CM05 (goals met) end to end.

A tiny hand-written raw layer (tests/fixtures/indicators_cm01_cm05/*.csv) is loaded into a fresh
DuckDB file, `dbt build` runs against it once for the module, and the tests read
marts.indicator_values (unsuppressed: the arithmetic) and published.indicator_values (what
publication withholds).

Fixture in short — providers 08115003 (Gemeinde, Kreis 08115, RB 081), 08115 (the Kreis itself)
and 08212 (Stadtkreis Karlsruhe, RB 082); current snapshots have stand 2026-01-15, so the periods
run from 2024 (first contact of a_c4) to the quarter of R = 2026-01-15 (2026 and 2026Q1, periods to
date). The quarter checked is 2025Q2 = 2025-04-01..06-30.

Suppression (docs/indicators.md, "Output"): a row with 0 < base_n < 5 is a primary cell; v2 adds
secondary suppression over the sums LAND = RB 081 + RB 082, RB 081 = Kreis 08115 (alone),
RB 082 = Kreis 08212 = provider 08212 (alone), Kreis 08115 = 08115003 + 08115, where a Land row is
never a secondary cell. So in a period where 08212 is primary, Kreis 08212 and RB 082 are primary
too, and RB 081 must be withheld (else RB 082 = Land - RB 081), and with it Kreis 08115 (else RB 081
= Kreis 08115): both are secondary cells. The tests derive each case from this and the fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from dbt_fixture import (
    Row,
    assert_rows_follow_the_disclosure_pattern,
    built_warehouse,
    indicator_row,
    indicator_suppression,
)

FIXTURES = Path(__file__).parent / "fixtures" / "indicators_cm01_cm05"

pytestmark = pytest.mark.slow

# Every table an analyst gets (the publish step copies the whole `published` schema).
PUBLISHED_TABLES = {
    "indicator_values",
    "indicator_definitions",
    "mart_case_management_quality",
    "mart_eligibility",
    "mart_funding",
    "mart_payout_process",
    "mart_data_quality",
    "mart_goal_attainment_by_field",
    "mart_contact_topics",
    "provider_open_issues",  # counts of open delivery problems (#12)
    "units",  # v2: every unit with its name
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    # dbt's unit tests run in this fixture build (and only here: dbt_fixture.built_warehouse)
    con = built_warehouse(
        tmp_path_factory.mktemp("indicators_cm01_cm05"), FIXTURES, unit_tests=True
    )
    yield con
    con.close()


def marts(con: duckdb.DuckDBPyConnection, *key: str) -> Row:
    return indicator_row(con, "marts", *key)


def published(con: duckdb.DuckDBPyConnection, *key: str) -> Row:
    return indicator_row(con, "published", *key)


suppression = indicator_suppression


def shown(numerator: float, denominator: float, base_n: int) -> Row:
    """A row that is no primary cell (base_n >= 5): published as is unless secondary
    suppression takes it."""
    assert base_n >= 5
    return Row(numerator, denominator, numerator / denominator, base_n, False)


def hidden(numerator: float, denominator: float, base_n: int) -> Row:
    """A primary cell's (0 < base_n < 5) unsuppressed numbers in marts."""
    assert 0 < base_n < 5
    value = numerator / denominator if denominator else None
    return Row(numerator, denominator, value, base_n, True)


def empty() -> Row:
    """A row resting on no case: 0 / 0, value NULL, base_n 0; v2: "no cases" is no primary cell
    and is published as it is."""
    return Row(0, 0, None, 0, False)


# The published form of a suppressed row: no number at all (v2: base_n withheld too).
WITHHELD = Row(None, None, None, None, True)


# --- CM01 plan coverage ------------------------------------------------------------------------
# Denominator: CM cases active in P with min(case_end, P.end) - first contact >= 56 days;
# numerator: of those, first signature <= min(case_end, P.end).


def test_cm01_year_traeger(warehouse: duckdb.DuckDBPyConnection) -> None:
    # 08115003 in 2025: a_c1 (signed on its first-contact day: in), a_c2 (signed 07-10: in),
    # a_c3 (no plan), a_c4 (active until 03-31, signed 2024: in), a_c5 (signed after closure: out),
    # a_c7 (draft only) -> 3 of 6 cases; a_c6 is KB and not counted at all.
    assert marts(warehouse, "CM01", "2025", "TRAEGER", "08115003") == shown(3, 6, 6)
    # v2: 6 cases is no primary cell, but the row is withheld as a secondary cell. In 2025 08212
    # (c_c1, c_c2: 2 cases) is primary, so RB 081 and Kreis 08115 are withheld (module docstring).
    # Kreis 08115 = 08115003 + 08115, and 08115 (b_c1, b_c3: 2 cases) is primary: were 08115003
    # published, the Land's 10 cases (published) = 6 + 08115 + 08212 would leave 08115 and 08212
    # 4 cases between them, so 08115's base_n would lie in [0, 4], an interval shorter than 5.
    # Any pattern that keeps the rule withholds 08115003 here.
    assert published(warehouse, "CM01", "2025", "TRAEGER", "08115003") == WITHHELD
    assert suppression(warehouse, "CM01", "2025", "TRAEGER", "08115003") == "secondary"


def test_cm01_quarter_traeger_is_suppressed(warehouse: duckdb.DuckDBPyConnection) -> None:
    # 08115003 in 2025Q2: a_c1 (in), a_c2 (exactly 56 days; signed 07-10 after P.end: out),
    # a_c5 (closed on 04-01 = P.start, so active; signed after closure: out), a_c7 (draft: out);
    # a_c3 has only 55 days, a_c4 closed on 03-31, the day before P -> 1 of 4, base_n 4 < 5.
    assert marts(warehouse, "CM01", "2025Q2", "TRAEGER", "08115003") == hidden(1, 4, 4)
    assert published(warehouse, "CM01", "2025Q2", "TRAEGER", "08115003") == Row(
        None, None, None, None, True
    )  # v2: base_n withheld too


def test_cm01_signature_after_period_end_counts_in_next_quarter(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    # 08115003 in 2025Q3: a_c1 (in), a_c2 (signed 07-10 <= 09-30: now in), a_c3 (148 days, no
    # plan), a_c7 (draft) -> 2 of 4.
    assert marts(warehouse, "CM01", "2025Q3", "TRAEGER", "08115003") == hidden(2, 4, 4)


def test_cm01_kreis_provider_and_kreis_level(warehouse: duckdb.DuckDBPyConnection) -> None:
    # 08115 as a provider in 2025: b_c1 (signed 03-01: in), b_c3 (signed 12-31 = P.end: in);
    # b_c2 closed after 50 days; b_old is in a superseded snapshot -> 2 of 2, suppressed.
    assert marts(warehouse, "CM01", "2025", "TRAEGER", "08115") == hidden(2, 2, 2)
    # Kreis 08115 = provider 08115003 (3 of 6) + provider 08115 (2 of 2) -> 5 of 8.
    assert marts(warehouse, "CM01", "2025", "KREIS", "08115") == shown(5, 8, 8)
    # v2: withheld as a secondary cell: 08212 (2 cases) is primary in 2025, so are Kreis 08212
    # and RB 082 (08212 alone); a published RB 081 would give RB 082 = Land (10) - RB 081, and a
    # published Kreis 08115 would give RB 081 (Kreis 08115 alone).
    assert published(warehouse, "CM01", "2025", "KREIS", "08115") == WITHHELD
    assert suppression(warehouse, "CM01", "2025", "KREIS", "08115") == "secondary"
    assert suppression(warehouse, "CM01", "2025", "RB", "081") == "secondary"
    # 2025Q2: 08115003 1 of 4; 08115: b_c1 (in), b_c3 (signed after P.end: out) -> 1 of 2;
    # together 2 of 6, base_n 6: no primary cell although both providers are.
    assert marts(warehouse, "CM01", "2025Q2", "KREIS", "08115") == shown(2, 6, 6)
    # v2: but secondary: in 2025Q2 08212 is c_c1 alone (c_c2 has only 29 days), 1 case, primary,
    # so Kreis 08212 and RB 082 (1 case each) are primary; the Land's 7 cases are published, so
    # RB 081 (6) would give RB 082 = 7 - 6 = 1, and Kreis 08115 would give RB 081: both withheld.
    assert suppression(warehouse, "CM01", "2025Q2", "RB", "082") == "primary"
    assert published(warehouse, "CM01", "2025Q2", "KREIS", "08115") == WITHHELD
    assert suppression(warehouse, "CM01", "2025Q2", "KREIS", "08115") == "secondary"
    assert suppression(warehouse, "CM01", "2025Q2", "RB", "081") == "secondary"


def test_cm01_land(warehouse: duckdb.DuckDBPyConnection) -> None:
    # 08212 in 2025: c_c1 (in), c_c2 (121 days to its closure 09-30, signed 06-10: in) -> 2 of 2.
    # Land 2025 = 3/6 + 2/2 + 2/2 -> 7 of 10 (sums, not an average of 0.5, 1 and 1).
    assert published(warehouse, "CM01", "2025", "LAND", "08") == shown(7, 10, 10)
    # 2025Q2: 1/4 + 1/2 + 08212 (c_c1 in; c_c2 only 29 days: out) 1/1 -> 3 of 7.
    assert published(warehouse, "CM01", "2025Q2", "LAND", "08") == shown(3, 7, 7)
    # RB 082 is 08212 alone
    assert marts(warehouse, "CM01", "2025", "RB", "082") == hidden(2, 2, 2)


def test_cm01_first_year(warehouse: duckdb.DuckDBPyConnection) -> None:
    # 2024 is the first year (a_c4's first contact): a_c4 (signed 2024-04-01: in), a_c5 (signed
    # in 2025: out) -> 1 of 2.
    assert marts(warehouse, "CM01", "2024", "TRAEGER", "08115003") == hidden(1, 2, 2)


# --- CM05 goals met ----------------------------------------------------------------------------
# Denominator: goals ERREICHT, TEILWEISE or NICHT_ERREICHT assessed in P; numerator: ERREICHT.
# base_n: distinct cases of those goals.


def test_cm05_year_traeger_base_n_of_exactly_5_is_shown(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    # 08115003 in 2025: a_g1 (E), a_g2 (T), a_g3 (N) of a_c1; a_g4 (E) of a_c2; a_g7 (E) of a_c4;
    # a_g8 (E) of a_c5; a_g9 (N) of a_c7 -> 4 of 7; a_g5 ENTFALLEN and a_g6 OFFEN do not count.
    # Five cases: base_n 5 is not < 5, so the primary rule leaves the row alone (v1: published;
    # the name is from then).
    assert marts(warehouse, "CM05", "2025", "TRAEGER", "08115003") == shown(4, 7, 5)
    # v2: it is withheld only as a secondary cell. 08115 (b_g1, b_g2 of b_c1) and 08212 (c_g1 of
    # c_c1) rest on 1 case each: primary, and so are Kreis 08212 and RB 082 (08212 alone); RB 081
    # and Kreis 08115 are withheld for RB 082's sake (module docstring). Were 08115003 published,
    # the Land's 7 cases (published) = 5 + 08115 + 08212 would leave 2 cases to 08115 and 08212:
    # an interval [0, 2] for each, shorter than 5.
    assert published(warehouse, "CM05", "2025", "TRAEGER", "08115003") == WITHHELD
    assert suppression(warehouse, "CM05", "2025", "TRAEGER", "08115003") == "secondary"


def test_cm05_quarter_traeger(warehouse: duckdb.DuckDBPyConnection) -> None:
    # 2025Q2: a_g1 (E, assessed 04-01 = P.start), a_g2 (T, 06-30 = P.end), a_g8 (E, 05-15);
    # a_g3 was assessed 03-31 -> 2 of 3, cases a_c1 and a_c5.
    assert marts(warehouse, "CM05", "2025Q2", "TRAEGER", "08115003") == hidden(2, 3, 2)
    # v2: a primary cell withholds base_n too
    assert published(warehouse, "CM05", "2025Q2", "TRAEGER", "08115003") == WITHHELD
    assert suppression(warehouse, "CM05", "2025Q2", "TRAEGER", "08115003") == "primary"


def test_cm05_kreis_and_land(warehouse: duckdb.DuckDBPyConnection) -> None:
    # 08115 in 2025: b_g1 (E), b_g2 (T) of b_c1 -> 1 of 2; Kreis 08115: 4/7 + 1/2 -> 5 of 9 on
    # 5 + 1 = 6 cases.
    assert marts(warehouse, "CM05", "2025", "KREIS", "08115") == shown(5, 9, 6)
    # 08212 in 2025: c_g1 (N) of c_c1 -> 0 of 1 on 1 case. v2: c_g3 (E), whose plan is missing,
    # is not known to be a CM case's goal and no longer counts (v1: 1 of 2). Land 2025: 4/7 +
    # 1/2 + 0/1 -> 5 of 10 on 7 cases (v1: 6 of 11).
    assert marts(warehouse, "CM05", "2025", "TRAEGER", "08212") == hidden(0, 1, 1)
    assert published(warehouse, "CM05", "2025", "LAND", "08") == shown(5, 10, 7)
    # 2025Q2 at Land: 2/3 + b_g1 1/1 + c_g1 0/1 -> 3 of 5 on 2 + 1 + 1 = 4 cases: suppressed
    # even at Land level.
    assert marts(warehouse, "CM05", "2025Q2", "LAND", "08") == hidden(3, 5, 4)
    assert published(warehouse, "CM05", "2025Q2", "LAND", "08") == Row(
        None, None, None, None, True
    )  # v2: base_n withheld too


def test_cm05_empty_cell_is_zero_not_missing(warehouse: duckdb.DuckDBPyConnection) -> None:
    # Nothing of 08115 was assessed in 2026: the grid still has the row, 0 / 0, value NULL.
    # v2: base_n 0 says "no cases" and is no primary cell (v1 suppressed it), so the published
    # row shows the same 0 / 0 and a reader can tell "no data" from "suppressed". The sums it is
    # in (Kreis 08115 = 08115003 + 08115; the year 2026 = its one quarter 2026Q1) are all 0 / 0:
    # nothing to protect there.
    assert marts(warehouse, "CM05", "2026", "TRAEGER", "08115") == empty()
    assert published(warehouse, "CM05", "2026", "TRAEGER", "08115") == empty()
    assert suppression(warehouse, "CM05", "2026", "TRAEGER", "08115") is None
    # 08212's c_g2 (E) was assessed 2026-01-10.
    assert marts(warehouse, "CM05", "2026Q1", "TRAEGER", "08212") == hidden(1, 1, 1)


def test_published_rows_follow_the_disclosure_pattern(warehouse: duckdb.DuckDBPyConnection) -> None:
    # every CM01 and CM05 row: the whole grid (test_grid_covers_every_period_and_unit), 12
    # periods x 8 units each; no Land row is a secondary cell here
    n = assert_rows_follow_the_disclosure_pattern(warehouse, ["CM01", "CM05"], land_secondary=False)
    assert n == 2 * 12 * 8


# --- grid and published tables -----------------------------------------------------------------


def test_grid_covers_every_period_and_unit(warehouse: duckdb.DuckDBPyConnection) -> None:
    # CM01 and CM05 each: 12 periods x 8 units (3 providers, Kreise 08115 and 08212, RB 081 and
    # 082, Land 08); the authority '08' is no provider. v2: the periods end with the quarter of
    # R = 2026-01-15 — 2024 and 2025 with their quarters, 2026 and 2026Q1 (v1: all of 2026, 15).
    for schema in ("marts", "published"):
        (n,) = warehouse.execute(
            f"SELECT count(*) FROM {schema}.indicator_values WHERE indicator_id IN ('CM01', 'CM05')"
        ).fetchone()
        assert n == 2 * 12 * 8
    units = warehouse.execute(
        "SELECT level, unit_code FROM marts.indicator_values GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert units == [
        ("KREIS", "08115"),
        ("KREIS", "08212"),
        ("LAND", "08"),
        ("RB", "081"),
        ("RB", "082"),
        ("TRAEGER", "08115"),
        ("TRAEGER", "08115003"),
        ("TRAEGER", "08212"),
    ]


def test_published_schema_holds_the_analyst_tables(warehouse: duckdb.DuckDBPyConnection) -> None:
    tables = warehouse.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'published' "
        "ORDER BY table_name"
    ).fetchall()
    assert {t[0] for t in tables} == PUBLISHED_TABLES
    definitions = warehouse.execute(
        "SELECT indicator_id, unit, better_direction, suppress_small_cells "
        "FROM published.indicator_definitions WHERE indicator_id IN ('CM01', 'CM05') "
        "ORDER BY indicator_id"
    ).fetchall()
    assert definitions == [("CM01", "share", "higher", True), ("CM05", "share", "higher", True)]


def test_contribution_ids_become_text_as_hex_never_by_a_cast(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    """The union view writes a warehouse id (UHUGEINT) as hex (`id_text`); the decimal cast
    `entity_id_text` falls back to for text ids is ~150 times slower on ids (FI03 took 33 s)."""
    id_models = {
        r[0]
        for r in warehouse.execute(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = "
            "'intermediate' AND table_name LIKE 'int_contrib_%' AND column_name = 'entity_id' "
            "AND data_type = 'UHUGEINT'"
        ).fetchall()
    }
    # the case, contact, person, position and payout-request models: more than a handful
    assert len(id_models) >= 10, id_models
    view = warehouse.execute(
        "SELECT sql FROM duckdb_views() WHERE view_name = 'int_indicator_contributions'"
    ).fetchall()[0][0]
    assert view.count("format('{:032x}', entity_id)") == len(id_models)
