"""CM02, CM03, CM04, CM06, CM07, CM08, CM09 and CM10 end to end.

A small hand-written raw layer (tests/fixtures/indicators_cm02_to_cm10/*.csv, every row's `note`
says why it is there) is loaded into a fresh DuckDB file, `dbt build` runs against it once for the
module, and the tests read marts.indicator_values (unsuppressed: the arithmetic) and
published.indicator_values (what publication withholds: primary cells where 0 < base_n < 5, and v2's
secondary cells).

Fixture in short — providers 08115003 (Gemeinde "A", Kreis 08115, RB 081), 08115 (the Kreis itself,
"B") and 08212 (Stadtkreis Karlsruhe "C", RB 082); all snapshots have stand 2026-01-15, so the
periods run from 2024 (first contact of a4) to 2026. Checked: the year 2025 and the quarter
2025Q2 = 2025-04-01..06-30 at every level. KREIS 08115 and RB 081 hold A and B; KREIS 08212 and
RB 082 hold C alone; LAND holds all three.

Cases (first contact -> closure, reason):
  A: a1 CM 01-10 open | a2 CM 02-01 open | a3 CM 03-01 -> 06-30 ZIELE_ERREICHT |
     a4 CM 2024-03-01 -> 04-01 WEGZUG | a5 KB 04-15 -> 05-15 AUSZUG_AU | a6 KB 01-05 open |
     a7 CM 05-01 open | a8 CM 06-10 -> 11-30 AUSZUG_AU | a9 CM 01-15 -> 02-28 KONTAKTABBRUCH
  B: b1 CM 02-01 open | b2 CM 03-01 -> 04-20 KONTAKTABBRUCH | b3 CM 01-15 -> 09-30
     ZIELE_ERREICHT | b4 KB 05-01 open
  C: c1 CM 01-01 open | c2 CM 06-01 -> 09-30 AUSZUG_AU | c3 CM 04-01 -> 12-31 ZIELE_ERREICHT |
     c4 CM 01-20 -> 05-10 WEGZUG | c5 KB 03-01 open | c6 CM 05-20 open
(all dates 2025 unless a year is given).

Secondary suppression (v2, docs/indicators.md "Output"): published numbers are linked by the sums
Land = RB 081 + RB 082, RB 081 = Kreis 08115 (alone), RB 082 = Kreis 08212 = C (alone),
Kreis 08115 = A + B, and a Land row is never chosen as a secondary cell (docs/indicators.md; the
one Land row withheld as secondary anyway is explained in test_cm06). Two consequences explain
every other secondary cell checked below (`secondary(...)` names which one at each call):
  (C) where C is primary, Kreis 08212 and RB 082 are the same primary cell, so RB 081 must be
      withheld (else RB 082 = Land - RB 081) and with it Kreis 08115 (else RB 081 = Kreis 08115);
  (AB) where one of A and B is primary, the sum Kreis 08115 = A + B holds a suppressed cell and
      one more cell of it is sacrificed, the one with the smallest base_n: the other provider
      (fewer cases than the Kreis, which adds both).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from dbt_fixture import (
    assert_rows_follow_the_disclosure_pattern,
    built_warehouse,
    fixture_id,
    indicator_suppression,
)

FIXTURES = Path(__file__).parent / "fixtures" / "indicators_cm02_to_cm10"
# docs/indicators.md: case-months = case-days / 30.4375
DAYS_PER_MONTH = 30.4375

pytestmark = pytest.mark.slow

A, B, C = "08115003", "08115", "08212"
YEAR, QUARTER = "2025", "2025Q2"

# (indicator_id, period, level, unit_code)
Key = tuple[str, str, str, str]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    con = built_warehouse(tmp_path_factory.mktemp("indicators_cm02_to_cm10"), FIXTURES)
    yield con
    con.close()


def fetch(con: duckdb.DuckDBPyConnection, schema: str, key: Key) -> tuple:
    # schema is one of two literals in this module, never data. v2: marts has no suppressed
    # flag (the pattern is marts.disclosure_pattern, see suppression()).
    found = con.execute(
        f"""
        SELECT numerator, denominator, value, base_n FROM {schema}.indicator_values
        WHERE indicator_id = ? AND period = ? AND level = ? AND unit_code = ?
        """,
        list(key),
    ).fetchall()
    assert len(found) == 1, (schema, key, found)
    return found[0]


def suppression(con: duckdb.DuckDBPyConnection, key: Key) -> str | None:
    return indicator_suppression(con, *key)


def check(
    con: duckdb.DuckDBPyConnection,
    key: Key,
    numerator: float,
    denominator: float,
    base_n: int,
    *,
    withheld: str | None,
) -> None:
    """marts holds the unsuppressed numbers; published shows them, or, where the row is withheld
    (`withheld` = its suppression, 'primary' or 'secondary'), none of them."""
    value = numerator / denominator if denominator else None
    expected = (
        pytest.approx(numerator),
        pytest.approx(denominator),
        None if value is None else pytest.approx(value),
        base_n,
    )
    assert fetch(con, "marts", key) == expected, key
    assert suppression(con, key) == withheld, key
    if withheld:
        # v2: a suppressed row withholds base_n too
        assert fetch(con, "published", key) == (None, None, None, None), key
    else:
        assert fetch(con, "published", key) == expected, key


def shown(
    con: duckdb.DuckDBPyConnection, key: Key, numerator: float, denominator: float, base_n: int
) -> None:
    """A row with base_n >= 5 that no secondary suppression takes: published as it is."""
    assert base_n >= 5
    check(con, key, numerator, denominator, base_n, withheld=None)


def hidden(
    con: duckdb.DuckDBPyConnection, key: Key, numerator: float, denominator: float, base_n: int
) -> None:
    """A primary cell (0 < base_n < 5): marts keeps its numbers, published withholds them."""
    assert 0 < base_n < 5
    check(con, key, numerator, denominator, base_n, withheld="primary")


def secondary(
    con: duckdb.DuckDBPyConnection, key: Key, numerator: float, denominator: float, base_n: int
) -> None:
    """A row with base_n >= 5 (no primary cell) that secondary suppression withholds: marts
    keeps its numbers, published withholds them. Why is said at each call."""
    assert base_n >= 5
    check(con, key, numerator, denominator, base_n, withheld="secondary")


def traeger(indicator_id: str, period: str, provider: str) -> Key:
    return (indicator_id, period, "TRAEGER", provider)


def kreis(indicator_id: str, period: str, code: str) -> Key:
    return (indicator_id, period, "KREIS", code)


def rb(indicator_id: str, period: str, code: str) -> Key:
    return (indicator_id, period, "RB", code)


def land(indicator_id: str, period: str) -> Key:
    return (indicator_id, period, "LAND", "08")


# --- CM02 plan within 8 weeks ------------------------------------------------------------------
# Denominator: CM cases whose first signature falls in P; numerator: first signature - first
# contact <= 56 days. First signatures: a1 01-10 (0 days), a2 04-01 (59), a3 04-26 (exactly 56),
# a4 2024-03-15, a7 07-01 (61); b1 03-01 (28), b3 05-01 (106); c1 02-25 (55), c2 06-10 (9),
# c3 07-15 (105), c4 01-25 (5), c6 06-01 (12). a8 has a draft only; a9, b2 have no plan.


def test_cm02(warehouse: duckdb.DuckDBPyConnection) -> None:
    con = warehouse
    # A 2025: a1 (0 days: in), a2 (59: out), a3 (56: in), a7 (61: out); a4 signed in 2024 -> 2/4
    hidden(con, traeger("CM02", YEAR, A), 2, 4, 4)
    # A 2025Q2: a2 (out), a3 (in); a1 signed in Q1, a7 in Q3 -> 1/2
    hidden(con, traeger("CM02", QUARTER, A), 1, 2, 2)
    # B 2025: b1 (in), b3 (out) -> 1/2; 2025Q2: b3 only -> 0/1
    hidden(con, traeger("CM02", YEAR, B), 1, 2, 2)
    hidden(con, traeger("CM02", QUARTER, B), 0, 1, 1)
    # Kreis 08115 = A + B: 2025 3/6 on 6 cases (shown); 2025Q2 1/3 (suppressed); RB 081 the same
    shown(con, kreis("CM02", YEAR, B), 3, 6, 6)
    hidden(con, kreis("CM02", QUARTER, B), 1, 3, 3)
    shown(con, rb("CM02", YEAR, "081"), 3, 6, 6)
    hidden(con, rb("CM02", QUARTER, "081"), 1, 3, 3)
    # C 2025: c1, c2, c4, c6 in, c3 out -> 4/5; 2025Q2: c2, c6 -> 2/2. C is Kreis 08212 and RB 082.
    for key in (traeger("CM02", YEAR, C), kreis("CM02", YEAR, C), rb("CM02", YEAR, "082")):
        shown(con, key, 4, 5, 5)
    for key in (traeger("CM02", QUARTER, C), kreis("CM02", QUARTER, C), rb("CM02", QUARTER, "082")):
        hidden(con, key, 2, 2, 2)
    # Land: 2025 3/6 + 4/5 = 7/11; 2025Q2 1/3 + 2/2 = 3/5 on 5 cases: shown
    shown(con, land("CM02", YEAR), 7, 11, 11)
    shown(con, land("CM02", QUARTER), 3, 5, 5)


# --- CM03 plans with agreed goals --------------------------------------------------------------
# Denominator: distinct plans of cases active in P with a version signed <= P.end; numerator: of
# those, plans with a goal agreed <= P.end. Plans (first signature; first goal agreed):
# a_pl1 (01-10; 01-10), a_pl1b (05-10; none), a_pl2 (04-01; 07-01), a_pl3 (04-26; 04-26),
# a_pl4 (2024-03-15; 2024-03-15), a_pl7 (07-01; 06-01), a_pl8 (draft; 06-20);
# b_pl1 (03-01; 03-01), b_pl3 (05-01; 05-01); c_pl1 (02-25; 02-25), c_pl2 (06-10; 06-10),
# c_pl3 (07-15; 07-15), c_pl4 (01-25; none), c_pl6 (06-01; 06-01).


def test_cm03(warehouse: duckdb.DuckDBPyConnection) -> None:
    con = warehouse
    # A 2025: a_pl1 (goal), a_pl1b (no goal), a_pl2 (goal 07-01 <= 12-31), a_pl3, a_pl4 (a4 active
    # until 04-01), a_pl7 -> 5/6 on cases a1, a2, a3, a4, a7; a_pl8 is a draft: never.
    # v2: secondary (AB): B is primary in 2025 (below), and A's 5 cases are fewer than the
    # Kreis's 7.
    secondary(con, traeger("CM03", YEAR, A), 5, 6, 5)
    # A 2025Q2: a_pl1 (in), a_pl1b (no goal), a_pl2 (goal agreed 07-01, after P.end: not in the
    # numerator), a_pl3 (in), a_pl4 (in); a_pl7 is signed only 07-01 (excluded) -> 3/5, 4 cases
    hidden(con, traeger("CM03", QUARTER, A), 3, 5, 4)
    # B: b_pl1 and b_pl3 both signed and with goals by 06-30 -> 2/2 in 2025 and in 2025Q2
    hidden(con, traeger("CM03", YEAR, B), 2, 2, 2)
    hidden(con, traeger("CM03", QUARTER, B), 2, 2, 2)
    # Kreis 08115 / RB 081: 2025 5/6 + 2/2 = 7/8 on 7 cases; 2025Q2 3/5 + 2/2 = 5/7 on 6 cases.
    # 2025 stays shown: A and B are both withheld, and A + B = 7 leaves each in [0, 7]; C is no
    # primary cell.
    for key in (kreis("CM03", YEAR, B), rb("CM03", YEAR, "081")):
        shown(con, key, 7, 8, 7)
    # v2: 2025Q2 is secondary (C): C is primary in 2025Q2 (3/4 on 4 cases, below).
    for key in (kreis("CM03", QUARTER, B), rb("CM03", QUARTER, "081")):
        secondary(con, key, 5, 7, 6)
    # C 2025: c_pl1, c_pl2, c_pl3, c_pl6 with goals, c_pl4 without -> 4/5; 2025Q2: c_pl3 is
    # signed 07-15 (excluded) -> 3/4
    for key in (traeger("CM03", YEAR, C), kreis("CM03", YEAR, C), rb("CM03", YEAR, "082")):
        shown(con, key, 4, 5, 5)
    for key in (traeger("CM03", QUARTER, C), kreis("CM03", QUARTER, C), rb("CM03", QUARTER, "082")):
        hidden(con, key, 3, 4, 4)
    # Land: 2025 7/8 + 4/5 = 11/13 on 12 cases; 2025Q2 5/7 + 3/4 = 8/11 on 10 cases
    shown(con, land("CM03", YEAR), 11, 13, 12)
    shown(con, land("CM03", QUARTER), 8, 11, 10)


# --- CM04 SMART goals --------------------------------------------------------------------------
# Denominator: goals agreed in P; numerator: with a target date and a measurable criterion.
# Goals (agreed; SMART?): a_g1 (01-10; yes), a_g2 (04-21; target date, no criterion: no),
# a_g3 (07-01; yes), a_g4 (04-26; criterion, no target date: no), a_g5 (2024), a_g7 (06-01; yes),
# a_g8 (06-20; yes, of a draft plan); b_g1 (03-01; yes), b_g3 (05-01; no); c_g1 (02-25; yes),
# c_g2 (06-10; yes), c_g3 (07-15; no), c_g6 (06-01; target date, no criterion: no).


def test_cm04(warehouse: duckdb.DuckDBPyConnection) -> None:
    con = warehouse
    # A 2025: a_g1, a_g3, a_g7, a_g8 of a_g1..a_g4, a_g7, a_g8 -> 4/6 on a1, a2, a3, a7, a8.
    # v2: secondary (AB): B is primary in 2025 (1/2 on 2 cases), A's 5 cases < the Kreis's 7.
    secondary(con, traeger("CM04", YEAR, A), 4, 6, 5)
    # A 2025Q2: a_g2 (no), a_g4 (no), a_g7 (yes), a_g8 (yes) -> 2/4 on a1, a3, a7, a8
    hidden(con, traeger("CM04", QUARTER, A), 2, 4, 4)
    # B 2025: b_g1 (yes), b_g3 (no) -> 1/2; 2025Q2: b_g3 -> 0/1
    hidden(con, traeger("CM04", YEAR, B), 1, 2, 2)
    hidden(con, traeger("CM04", QUARTER, B), 0, 1, 1)
    # Kreis 08115 / RB 081: 2025 4/6 + 1/2 = 5/8 on 7 cases; 2025Q2 2/4 + 0/1 = 2/5 on 5 cases.
    # v2: both secondary (C): C is primary in 2025 (2/4 on 4 cases) and in 2025Q2 (1/2 on 2).
    for key in (kreis("CM04", YEAR, B), rb("CM04", YEAR, "081")):
        secondary(con, key, 5, 8, 7)
    for key in (kreis("CM04", QUARTER, B), rb("CM04", QUARTER, "081")):
        secondary(con, key, 2, 5, 5)
    # C 2025: c_g1, c_g2 of 4 -> 2/4; 2025Q2: c_g2 (yes), c_g6 (no) -> 1/2
    for key in (traeger("CM04", YEAR, C), kreis("CM04", YEAR, C), rb("CM04", YEAR, "082")):
        hidden(con, key, 2, 4, 4)
    for key in (traeger("CM04", QUARTER, C), kreis("CM04", QUARTER, C), rb("CM04", QUARTER, "082")):
        hidden(con, key, 1, 2, 2)
    # Land: 2025 5/8 + 2/4 = 7/12 on 11 cases; 2025Q2 2/5 + 1/2 = 3/7 on 7 cases
    shown(con, land("CM04", YEAR), 7, 12, 11)
    shown(con, land("CM04", QUARTER), 3, 7, 7)


# --- CM06 plan reviewed on time ----------------------------------------------------------------
# Denominator: versions due for review in P whose case was not closed before the due date;
# numerator: followed by a higher version drawn up <= due + 14. Versions (due; follow-up):
# a_pl1 v1 (04-10; v2 04-20: on time), v2 (07-20; v3 08-04 = due + 15: late), v3 (2026);
# a_pl2 v1 (06-30; v2 07-14 = due + 14: on time), v2 (2026); a_pl3 v1 (07-15; a3 closed 06-30:
# excluded); a_pl4 v1 (03-15; none: late); a_pl7 v1 (12-01; v2 11-20, before the due date: on
# time); a_pl8 v1 (11-30 = a8's closure day: counted; none: late);
# b_pl1 v1 (06-01; v2 06-10: on time), v2 (12-01; late); b_pl3 v1 (10-15; b3 closed 09-30:
# excluded); c_pl1 v1 (05-25; v2 06-08 = due + 14: on time), v2 (12-08; late); c_pl2 v1 (09-10;
# v2 09-25 = due + 15: late), v2 (2026); c_pl3 v1 (12-31 = c3's closure day: counted; late);
# c_pl4 v1 (05-20; c4 closed 05-10: excluded); c_pl6 v1 (06-30; v2 06-20, before: on time).


def test_cm06(warehouse: duckdb.DuckDBPyConnection) -> None:
    con = warehouse
    # A 2025: a_pl1 v1 (1), v2 (0), a_pl2 v1 (1), a_pl4 v1 (0), a_pl7 v1 (1), a_pl8 v1 (0) -> 3/6
    # on a1, a2, a4, a7, a8. v2: secondary (AB): B is primary in 2025 (1/2 on 1 case), and A's 5
    # cases are fewer than the Kreis's 6.
    secondary(con, traeger("CM06", YEAR, A), 3, 6, 5)
    # A 2025Q2: a_pl1 v1 (04-10), a_pl2 v1 (06-30 = P.end) -> 2/2
    hidden(con, traeger("CM06", QUARTER, A), 2, 2, 2)
    # B 2025: b_pl1 v1 (1), v2 (0) -> 1/2 on one case; 2025Q2: b_pl1 v1 -> 1/1
    hidden(con, traeger("CM06", YEAR, B), 1, 2, 1)
    hidden(con, traeger("CM06", QUARTER, B), 1, 1, 1)
    # Kreis 08115 / RB 081: 2025 3/6 + 1/2 = 4/8 on 6 cases; 2025Q2 2/2 + 1/1 = 3/3 on 3.
    # v2: 2025 is secondary (C): C is primary in 2025 (2/5 on 4 cases, below).
    for key in (kreis("CM06", YEAR, B), rb("CM06", YEAR, "081")):
        secondary(con, key, 4, 8, 6)
    for key in (kreis("CM06", QUARTER, B), rb("CM06", QUARTER, "081")):
        hidden(con, key, 3, 3, 3)
    # C 2025: c_pl1 v1 (1), v2 (0), c_pl2 v1 (0), c_pl3 v1 (0), c_pl6 v1 (1) -> 2/5 on c1, c2, c3,
    # c6; 2025Q2: c_pl1 v1, c_pl6 v1 -> 2/2 (c_pl4 v1 due 05-20 is excluded: c4 closed 05-10)
    for key in (traeger("CM06", YEAR, C), kreis("CM06", YEAR, C), rb("CM06", YEAR, "082")):
        hidden(con, key, 2, 5, 4)
    for key in (traeger("CM06", QUARTER, C), kreis("CM06", QUARTER, C), rb("CM06", QUARTER, "082")):
        hidden(con, key, 2, 2, 2)
    # Land: 2025 4/8 + 2/5 = 6/13 on 10 cases; 2025Q2 3/3 + 2/2 = 5/5 on 5 cases.
    shown(con, land("CM06", YEAR), 6, 13, 10)
    # v2: Land 2025Q2 is withheld as a secondary cell. Reviews due are dated, so the Land's four
    # quarters sum to its year, numerator and denominator (disclosure/tables.py counts CM06 among
    # these sums; docs/indicators.md names only CM07, CM08, EL01-EL03 and the topics). Land
    # 2025Q1 (a_pl4 v1: 0/1, 1 case) and 2025Q3 (c_pl2 v1 and a_pl1 v2: 0/2, 2 cases) are
    # primary; with 2025Q2 (5/5) and 2025Q4 (a_pl7 v1 1, b_pl1 v2 0, c_pl1 v2 0, a_pl8 v1 0,
    # c_pl3 v1 0: 1/5 on 5 cases) published, their numerators would be 6 - 5 - 1 = 0 each,
    # recovered exactly from a total that is not 0, which the rule forbids. Every other cell of
    # that sum is a Land row, so one is taken as a secondary cell after all (although
    # docs/indicators.md says a Land row never is; disclosure/engine.py's `last_resort`): 2025Q2
    # and 2025Q4 both rest on 5 cases, and the tie goes to the earlier quarter.
    hidden(con, land("CM06", "2025Q1"), 0, 1, 1)
    hidden(con, land("CM06", "2025Q3"), 0, 2, 2)
    shown(con, land("CM06", "2025Q4"), 1, 5, 5)
    secondary(con, land("CM06", QUARTER), 5, 5, 5)


# --- CM07 contacts per case-month --------------------------------------------------------------
# Denominator: case-months (case-days / 30.4375, both ends counted) of all cases (CM and KB)
# active in P; numerator: contacts dated in P. base_n: cases active in P.


def months(case_days: int) -> float:
    return case_days / DAYS_PER_MONTH


def test_cm07(warehouse: duckdb.DuckDBPyConnection) -> None:
    con = warehouse
    # A 2025 case-days: a1 356 (01-10..12-31), a2 334, a3 122 (03-01..06-30), a4 91 (..04-01),
    # a5 31 (04-15..05-15), a6 361, a7 245, a8 174 (06-10..11-30), a9 45 (01-15..02-28) = 1759;
    # contacts in 2025: a1 5, a2 3, a3 2, a4 1 (the other is 2024), a5 2, a6 2, a7 2, a8 1, a9 2
    # = 20, on 9 active cases. v2: secondary (AB): B is primary in 2025 (4 cases, below) and A's
    # 9 cases are fewer than the Kreis's 13.
    secondary(con, traeger("CM07", YEAR, A), 20, months(1759), 9)
    # A 2025Q2 case-days: a1, a2, a3 (closed 06-30), a6 91 each, a4 1 (closed on 04-01), a5 31,
    # a7 61, a8 21 = 478; contacts: a1 3 (04-01, 05-15, 06-30), a2 1, a3 1, a4 1, a5 2, a7 2,
    # a8 1 and a9's 04-10 contact (a9 closed in Q1: counted, but a9 is not in base_n) = 12.
    # v2: secondary (AB): B is primary in 2025Q2 (4 cases), A's 8 < the Kreis's 12.
    secondary(con, traeger("CM07", QUARTER, A), 12, months(478), 8)
    # B 2025: b1 334, b2 51 (03-01..04-20), b3 259 (01-15..09-30), b4 245 = 889 days, 9 contacts
    hidden(con, traeger("CM07", YEAR, B), 9, months(889), 4)
    # B 2025Q2: b1 91, b2 20, b3 91, b4 61 = 263 days; contacts b1 2, b2 1, b4 2 = 5
    hidden(con, traeger("CM07", QUARTER, B), 5, months(263), 4)
    # Kreis 08115 / RB 081: 2025 20 + 9 = 29 contacts over 1759 + 889 = 2648 days, 13 cases;
    # 2025Q2 12 + 5 = 17 over 478 + 263 = 741 days, 12 cases
    for key in (kreis("CM07", YEAR, B), rb("CM07", YEAR, "081")):
        shown(con, key, 29, months(2648), 13)
    for key in (kreis("CM07", QUARTER, B), rb("CM07", QUARTER, "081")):
        shown(con, key, 17, months(741), 12)
    # C 2025: c1 365, c2 122, c3 275 (04-01..12-31), c4 111, c5 306, c6 226 = 1405 days;
    # contacts c1 3, c2 2, c3 2, c4 1, c5 2, c6 2 = 12
    for key in (traeger("CM07", YEAR, C), kreis("CM07", YEAR, C), rb("CM07", YEAR, "082")):
        shown(con, key, 12, months(1405), 6)
    # C 2025Q2: c1 91, c2 30, c3 91, c4 40 (..05-10), c5 91, c6 42 = 385 days; contacts c1 1,
    # c2 2, c3 1, c5 1, c6 2 = 7
    for key in (traeger("CM07", QUARTER, C), kreis("CM07", QUARTER, C), rb("CM07", QUARTER, "082")):
        shown(con, key, 7, months(385), 6)
    # Land: 2025 41 contacts over 4053 days on 19 cases; 2025Q2 24 over 1126 days on 18 cases
    shown(con, land("CM07", YEAR), 41, months(4053), 19)
    shown(con, land("CM07", QUARTER), 24, months(1126), 18)


def test_cm07_contact_of_inactive_case_counts_without_the_case(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    rows = warehouse.execute(
        """
        SELECT entity_type, entity_id, numerator, denominator
        FROM intermediate.int_contrib_cm07
        WHERE period = '2025Q2' AND provider = ? AND entity_id IN (?, ?)
        """,
        [A, fixture_id("a9"), fixture_id("a_k21")],
    ).fetchall()
    assert rows == [("contact", fixture_id("a_k21"), 1, 0)]


# --- CM08 goal-linked contacts -----------------------------------------------------------------
# Denominator: contacts of CM cases dated in P; numerator: those with a goal. KB cases' contacts
# (a5, a6, b4, c5) never count.


def test_cm08(warehouse: duckdb.DuckDBPyConnection) -> None:
    con = warehouse
    # A 2025: a1 5 (3 with goal), a2 3 (0), a3 2 (1), a4 1 (1), a7 2 (1), a8 1 (0), a9 2 (0)
    # -> 6/16 on 7 cases. v2: secondary (AB): B is primary in 2025 (3 cases, below), A's 7 cases
    # are fewer than the Kreis's 10.
    secondary(con, traeger("CM08", YEAR, A), 6, 16, 7)
    # A 2025Q2: a1 3 (2), a2 1 (0), a3 1 (1), a4 1 (1), a7 2 (1), a8 1 (0), a9 1 (0) -> 5/10 on
    # 7 cases. v2: secondary (AB): B is primary in 2025Q2 (2 cases), 7 < the Kreis's 9.
    secondary(con, traeger("CM08", QUARTER, A), 5, 10, 7)
    # B 2025: b1 3 (2), b2 2 (0), b3 2 (1) -> 3/7; 2025Q2: b1 2 (1), b2 1 (0) -> 1/3
    hidden(con, traeger("CM08", YEAR, B), 3, 7, 3)
    hidden(con, traeger("CM08", QUARTER, B), 1, 3, 2)
    # Kreis 08115 / RB 081: 2025 9/23 on 10 cases; 2025Q2 6/13 on 9 cases. v2: 2025Q2 is
    # secondary (C): C is primary in 2025Q2 (3/6 on 4 cases, below).
    for key in (kreis("CM08", YEAR, B), rb("CM08", YEAR, "081")):
        shown(con, key, 9, 23, 10)
    for key in (kreis("CM08", QUARTER, B), rb("CM08", QUARTER, "081")):
        secondary(con, key, 6, 13, 9)
    # C 2025: c1 3 (2), c2 2 (1), c3 2 (0), c4 1 (0), c6 2 (1) -> 4/10 on 5 cases;
    # 2025Q2: c1 1 (1), c2 2 (1), c3 1 (0), c6 2 (1) -> 3/6 on 4 cases
    for key in (traeger("CM08", YEAR, C), kreis("CM08", YEAR, C), rb("CM08", YEAR, "082")):
        shown(con, key, 4, 10, 5)
    for key in (traeger("CM08", QUARTER, C), kreis("CM08", QUARTER, C), rb("CM08", QUARTER, "082")):
        hidden(con, key, 3, 6, 4)
    # Land: 2025 13/33 on 15 cases; 2025Q2 9/19 on 13 cases
    shown(con, land("CM08", YEAR), 13, 33, 15)
    shown(con, land("CM08", QUARTER), 9, 19, 13)


# --- CM09 positive closures --------------------------------------------------------------------
# Denominator: CM cases closed in P; numerator: reason ZIELE_ERREICHT or AUSZUG_AU.


def test_cm09(warehouse: duckdb.DuckDBPyConnection) -> None:
    con = warehouse
    # A 2025: a3 (+), a4 (-), a8 (+), a9 (-) -> 2/4; a5 is KB
    hidden(con, traeger("CM09", YEAR, A), 2, 4, 4)
    # A 2025Q2: a3 closed on 06-30 (P.end, +), a4 on 04-01 (P.start, -) -> 1/2
    hidden(con, traeger("CM09", QUARTER, A), 1, 2, 2)
    # B 2025: b2 (-), b3 (+) -> 1/2; 2025Q2: b2 (04-20, -) -> 0/1
    hidden(con, traeger("CM09", YEAR, B), 1, 2, 2)
    hidden(con, traeger("CM09", QUARTER, B), 0, 1, 1)
    # Kreis 08115 / RB 081: 2025 3/6 on 6 cases; 2025Q2 1/3. v2: 2025 is secondary (C): C is
    # primary in 2025 (2/3 on 3 cases, below).
    for key in (kreis("CM09", YEAR, B), rb("CM09", YEAR, "081")):
        secondary(con, key, 3, 6, 6)
    for key in (kreis("CM09", QUARTER, B), rb("CM09", QUARTER, "081")):
        hidden(con, key, 1, 3, 3)
    # C 2025: c2 (+), c3 (12-31 = P.end, +), c4 (-) -> 2/3; 2025Q2: c4 (05-10, -) -> 0/1
    for key in (traeger("CM09", YEAR, C), kreis("CM09", YEAR, C), rb("CM09", YEAR, "082")):
        hidden(con, key, 2, 3, 3)
    for key in (traeger("CM09", QUARTER, C), kreis("CM09", QUARTER, C), rb("CM09", QUARTER, "082")):
        hidden(con, key, 0, 1, 1)
    # Land: 2025 3/6 + 2/3 = 5/9 on 9 cases; 2025Q2 1/3 + 0/1 = 1/4: suppressed even at Land
    shown(con, land("CM09", YEAR), 5, 9, 9)
    hidden(con, land("CM09", QUARTER), 1, 4, 4)


# --- CM10 caseload per FTE ---------------------------------------------------------------------
# Numerator: cases (CM and KB) open at P.end (a case closed on P.end is not open); denominator:
# FTE of positions with beginn <= P.end and (ende empty or >= P.end). base_n: the open cases.


def test_cm10(warehouse: duckdb.DuckDBPyConnection) -> None:
    con = warehouse
    # A at 2025-12-31: a1, a2, a6 (KB), a7 open -> 4 cases; FTE a_s1 1.0 (a_s2 ended 06-30)
    hidden(con, traeger("CM10", YEAR, A), 4, 1.0, 4)
    # A at 2025-06-30: a1, a2, a6, a7, a8 open (a3 closed on 06-30 is not) -> 5 cases; FTE a_s1
    # 1.0 + a_s2 0.5 (ends on 06-30: still held) = 1.5. v2: secondary (AB): B is primary at
    # 06-30 (3 cases, below), and A's 5 cases are fewer than the Kreis's 8.
    secondary(con, traeger("CM10", QUARTER, A), 5, 1.5, 5)
    # B at 2025-12-31: b1, b4 -> 2; FTE b_s1 0.5 + b_s2 1.0 = 1.5. At 06-30: b1, b3 (closed
    # 09-30), b4 -> 3; FTE b_s1 0.5 (b_s2 begins 07-01)
    hidden(con, traeger("CM10", YEAR, B), 2, 1.5, 2)
    hidden(con, traeger("CM10", QUARTER, B), 3, 0.5, 3)
    # Kreis 08115 / RB 081: 2025 6 cases over 2.5 FTE; 2025Q2 8 over 2.0. v2: 2025 is secondary
    # (C): C is primary at 2025-12-31 (3 open cases, below).
    for key in (kreis("CM10", YEAR, B), rb("CM10", YEAR, "081")):
        secondary(con, key, 6, 2.5, 6)
    for key in (kreis("CM10", QUARTER, B), rb("CM10", QUARTER, "081")):
        shown(con, key, 8, 2.0, 8)
    # C at 2025-12-31: c1, c5, c6 (c3 closed on 12-31 is not open) -> 3; at 06-30: c1, c2, c3, c5,
    # c6 -> 5. FTE both times c_s2 0.75 (begins on 06-30); c_s1 ended 06-29
    for key in (traeger("CM10", YEAR, C), kreis("CM10", YEAR, C), rb("CM10", YEAR, "082")):
        hidden(con, key, 3, 0.75, 3)
    for key in (traeger("CM10", QUARTER, C), kreis("CM10", QUARTER, C), rb("CM10", QUARTER, "082")):
        shown(con, key, 5, 0.75, 5)
    # Land: 2025 9 cases over 3.25 FTE; 2025Q2 13 over 2.75
    shown(con, land("CM10", YEAR), 9, 3.25, 9)
    shown(con, land("CM10", QUARTER), 13, 2.75, 13)


# --- the published pattern -----------------------------------------------------------------------


def test_published_rows_follow_the_disclosure_pattern(warehouse: duckdb.DuckDBPyConnection) -> None:
    # the whole grid (test below) of these eight indicators: 12 periods x 8 units each; where
    # this fixture needs it, the engine takes a Land row as the last resort
    ids = ["CM02", "CM03", "CM04", "CM06", "CM07", "CM08", "CM09", "CM10"]
    assert assert_rows_follow_the_disclosure_pattern(warehouse, ids, land_secondary=True) == (
        8 * 12 * 8
    )


# --- grid ----------------------------------------------------------------------------------------


def test_grid_has_every_period_and_unit_for_these_indicators(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    # 12 periods x 8 units (3 providers, Kreise 08115 and 08212, RB 081 and 082, Land) per
    # indicator, in both schemas. v2: the periods end with the quarter of R = 2026-01-15 — 2024
    # and 2025 with their quarters, 2026 and 2026Q1 (v1: all four quarters of 2026, 15 periods).
    for schema in ("marts", "published"):
        counts = warehouse.execute(
            f"""
            SELECT indicator_id, count(*) FROM {schema}.indicator_values
            WHERE indicator_id IN ('CM02', 'CM03', 'CM04', 'CM06', 'CM07', 'CM08', 'CM09', 'CM10')
            GROUP BY indicator_id ORDER BY indicator_id
            """
        ).fetchall()
        assert counts == [
            (i, 12 * 8) for i in ("CM02", "CM03", "CM04", "CM06", "CM07", "CM08", "CM09", "CM10")
        ]
