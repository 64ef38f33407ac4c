"""The least-loss generalisation search of the evaluator exports (export/anonymity.py)
on hand-built frames whose optimum is worked out by hand in the comments.

Entropy losses (non-uniform entropy) are −log2 P(value | generalised value) per row and QI, with
P from the frame's own rows; a suppressed row loses −log2 P(value) for every QI."""

from __future__ import annotations

import math

import polars as pl
import pytest

from export import codebook as cb
from export.anonymity import (
    LEVELS,
    QI_ORDER,
    AnonymityError,
    all_nodes,
    failure_table,
    k_anonymise,
)


def lg(x: float) -> float:
    return -math.log2(x)


def _rows(n: int, person: str, kreis: str, nat: str, year: int | None, **kw) -> list[dict]:
    """n cases of distinct persons `person0..` (or one person's cases when kw['same_person']);
    every coarser level derived as the export derives it."""
    age = kw.get("age", "25_34")
    wide = {"18_24": "18_34", "25_34": "18_34", "35_44": "35_54", "45_54": "35_54"}.get(age, age)
    month = kw.get("start", "2024-03")
    return [
        {
            "person_id": person if kw.get("same_person") else f"{person}{i}",
            "kreis": kreis,
            "rb": kreis[:3],
            "age_band": age,
            "age_band_wide": wide,
            "age_group": "U18" if age == "U18" else "18_PLUS",
            "sex": kw.get("sex", "m"),
            "nationality_group": kw.get("group", nat),
            "nationality_region": cb.NATIONALITY_REGION[nat],
            "arrival_year": year,
            "arrival_period": None if year is None else f"{year // 2 * 2}-{year // 2 * 2 + 1}",
            "arrival_period_4": None if year is None else f"{year // 4 * 4}-{year // 4 * 4 + 3}",
            "start_month": month,
            "start_quarter": f"{month[:4]}-Q{(int(month[5:]) - 1) // 3 + 1}",
            "start_year": int(month[:4]),
            "status_category_at_start": kw.get("status", "SCHUTZ"),
        }
        for i in range(n)
    ]


def _levels(result) -> dict[str, str | None]:
    return {q: LEVELS[q][lv] for q, lv in zip(QI_ORDER, result.chosen.levels, strict=True)}


BOTTOM = {
    "area": "kreis",
    "age": "age_band",
    "sex": "sex",
    "nationality": "nationality_group",
    "arrival": "arrival_year",
    "start": "start_month",
}


def test_lattice_has_every_level_of_every_quasi_identifier():
    assert LEVELS == {
        "area": ("kreis", "rb", None),
        "age": ("age_band", "age_band_wide", "age_group", None),
        "sex": ("sex", None),
        "nationality": ("nationality_group", "nationality_region", None),
        "arrival": ("arrival_year", "arrival_period", "arrival_period_4", None),
        "start": ("start_month", "start_quarter", "start_year"),
    }
    assert len(all_nodes()) == 3 * 4 * 2 * 3 * 4 * 3  # 864 combinations


@pytest.fixture
def hand_frame() -> pl.DataFrame:
    # 10 persons, all QIs but Kreis and nationality equal (so generalising them costs 0 bits and
    # the tie-break keeps them detailed):
    return pl.DataFrame(
        _rows(5, "syr", "08115", "SYR", 2016)  # 5 Syrians in Kreis Böblingen
        + _rows(4, "irq", "08115", "IRQ", 2016)  # RISKY: only 4 Iraqis there
        + _rows(1, "afg", "08116", "AFG", 2016)  # RISKY: the only person in Kreis Esslingen
    )


def test_hand_known_optimum_with_one_case_of_suppression_allowed(hand_frame):
    # Budget 10 % of 10 = 1 case. Feasible (area, nationality) nodes and their loss in bits:
    # (kreis, region):  classes NME@08115 = 9, SCA@08116 = 1 → suppress the Afghan.
    #   kept: 5 Syrians −log2(5/9) + 4 Iraqis −log2(4/9) = 8.9197 (region NME holds 9 rows);
    #   suppressed: Kreis −log2(1/10) + nationality −log2(1/10) = 6.6439 → 15.5636
    # (kreis, none):   suppress the Afghan; kept 5·−log2(5/10) + 4·−log2(4/10) = 10.2877 → 16.9316
    # (rb, region):    suppress the Afghan; + Kreis → RB 9·−log2(9/10) = 1.3680 → 16.9316
    # (rb, none):      one class of 10, nothing suppressed: 1.3680 + −log2(1/10)
    #                  + 10.2877 + −log2(1/10) = 18.2996
    # (kreis, group) and (rb, group) leave classes of 4 Iraqis and 1 Afghan: 5 cases, infeasible.
    result = k_anonymise(hand_frame, k=5, max_suppressed_share=0.1)
    assert _levels(result) == {**BOTTOM, "nationality": "nationality_region"}
    expected = 5 * lg(5 / 9) + 4 * lg(4 / 9) + 2 * lg(1 / 10)
    assert result.chosen.loss == pytest.approx(expected, abs=1e-9)
    assert result.suppressed_rows == 1
    assert result.keep.to_list() == [True] * 9 + [False]
    assert result.k_reached == 9
    # the path: bottom (suppresses 5), then nationality → region (suppresses 1)
    assert [s.suppressed for s in result.path] == [5, 1]


def test_hand_known_optimum_without_suppression(hand_frame):
    # Budget 0: only nodes that join the Afghan with the others, i.e. (rb or Land, none) — both
    # cost 18.2996 bits (all three Kreise... two Kreise are in RB 081, so Land = RB here); the
    # lower one (rb) wins the tie.
    result = k_anonymise(hand_frame, k=5, max_suppressed_share=0.0)
    assert _levels(result) == {**BOTTOM, "area": "rb", "nationality": None}
    expected = 9 * lg(9 / 10) + lg(1 / 10) + 5 * lg(5 / 10) + 4 * lg(4 / 10) + lg(1 / 10)
    assert result.chosen.loss == pytest.approx(expected, abs=1e-9)
    assert result.suppressed_rows == 0 and result.k_reached == 10
    assert result.columns == ["rb", "age_band", "sex", "arrival_year", "start_month"]


def test_rare_nationality_in_small_kreis_suppressed_or_generalised_by_budget():
    frame = pl.DataFrame(
        _rows(6, "syr", "08115", "SYR", 2016)  # safe: 6 persons
        + _rows(5, "afg", "08115", "AFG", 2016)  # safe: exactly k = 5 persons
        # RISKY: the only Gambian, in a small Kreis of RB Tübingen; only Land + no nationality
        # gives it company (its region, RB and arrival year are unique too)
        + _rows(1, "gmb", "08436", "GMB", 2016, group="OTHER")
    )
    # No suppression allowed: Kreis → Land and nationality left out, one class of 12.
    result = k_anonymise(frame, k=5, max_suppressed_share=0.0)
    assert _levels(result) == {**BOTTOM, "area": None, "nationality": None}
    assert result.suppressed_rows == 0 and result.k_reached == 12
    # 10 % (1 case) allowed: suppressing the Gambian costs −log2(1/12) twice = 7.17 bits,
    # coarsening everybody 11·−log2(11/12) + −log2(1/12) + 6·1 + 5·−log2(5/12) + −log2(1/12)
    # = 20.87 bits: the search suppresses.
    result = k_anonymise(frame, k=5, max_suppressed_share=0.1)
    assert _levels(result) == BOTTOM
    assert result.chosen.loss == pytest.approx(2 * lg(1 / 12), abs=1e-9)
    assert result.keep.to_list() == [True] * 11 + [False]
    assert result.generalisations == [] and result.k_reached == 5


def test_generalisation_counts_persons_and_treats_missing_as_a_class():
    frame = pl.DataFrame(
        # RISKY at the detailed level: 3 Iraqi and 2 Syrian men, classes of 3 and 2; as
        # NEAR_MIDDLE_EAST they form one class of 5
        _rows(3, "irq", "08115", "IRQ", 2016)
        + _rows(2, "syr", "08115", "SYR", 2016)
        # RISKY: 5 cases of Eritrean women but of only 4 persons (one counselled twice)
        + _rows(3, "eri", "08212", "ERI", 2018, sex="w")
        + _rows(2, "eri_twice", "08212", "ERI", 2018, sex="w", same_person=True)
        # RISKY: the fifth Eritrean woman has no arrival year; NULL is a class of its own
        + _rows(1, "unk", "08212", "ERI", None, sex="w")
    )
    result = k_anonymise(frame, k=5, max_suppressed_share=0.0)
    # Men and women already differ by Kreis, so sex and Kreis stay; IRQ + SYR need the region;
    # the Eritreans need the missing arrival year merged, which only leaving arrival out does
    # (a band keeps NULL apart): classes of 5 and 5 persons. Loss: region 3·−log2(3/5) +
    # 2·−log2(2/5); arrival left out: 5·−log2(5/11) (2016) + 5·−log2(5/11) (2018) +
    # −log2(1/11) (missing).
    assert _levels(result) == {**BOTTOM, "nationality": "nationality_region", "arrival": None}
    expected = 3 * lg(3 / 5) + 2 * lg(2 / 5) + 10 * lg(5 / 11) + lg(1 / 11)
    assert result.chosen.loss == pytest.approx(expected, abs=1e-9)
    assert result.suppressed_rows == 0 and result.k_reached == 5
    # Counted in rows, not persons, the Eritrean class (5 rows, 4 persons) would pass without
    # the missing year: check that persons decide — with k = 6 nothing short of one class of
    # all 10 persons works.
    result = k_anonymise(frame, k=6, max_suppressed_share=0.0)
    assert result.k_reached == 10 and result.chosen.classes == 1


def test_nothing_to_do():
    frame = pl.DataFrame(_rows(5, "syr", "08115", "SYR", 2016))
    result = k_anonymise(frame, k=5, max_suppressed_share=0.0)
    assert _levels(result) == BOTTOM
    assert result.chosen.loss == 0 and result.suppressed_rows == 0 and result.k_reached == 5


def test_start_month_is_a_quasi_identifier():
    # 5 persons alike but for the month they started: each month alone is a class of 1; the
    # quarter (2024-Q1) joins them. Quarter: 5·−log2(1/5) = 11.61 bits; year: the same (all in
    # 2024), so the lower level (quarter) wins.
    frame = pl.DataFrame(
        _rows(2, "a", "08115", "SYR", 2016, start="2024-01")
        + _rows(2, "b", "08115", "SYR", 2016, start="2024-02")
        + _rows(1, "c", "08115", "SYR", 2016, start="2024-03")
    )
    result = k_anonymise(frame, k=5, max_suppressed_share=0.0)
    assert _levels(result) == {**BOTTOM, "start": "start_quarter"}
    assert result.chosen.loss == pytest.approx(4 * lg(2 / 5) + lg(1 / 5), abs=1e-9)


def test_l_diversity_suppresses_homogeneous_classes():
    frame = pl.DataFrame(
        _rows(5, "syr", "08115", "SYR", 2016, status="SCHUTZ")
        + _rows(1, "syr_g", "08115", "SYR", 2016, status="GESTATTUNG")
        # RISKY for ℓ = 2: a class of 5 Afghans who all hold protection status — knowing one is
        # Afghan in Böblingen tells the status
        + _rows(5, "afg", "08115", "AFG", 2016, status="SCHUTZ")
    )
    off = k_anonymise(frame, k=5, max_suppressed_share=0.0)
    assert off.suppressed_rows == 0 and _levels(off) == BOTTOM
    on = k_anonymise(frame, k=5, max_suppressed_share=0.0, ell=2)
    # nationality region still separates SYR (NME) and AFG (SCA): it must be left out
    assert _levels(on) == {**BOTTOM, "nationality": None}
    assert on.suppressed_rows == 0


def test_no_feasible_node_fails_with_the_best_candidates():
    # RISKY: 4 persons in all; k = 5 can never be met, every node suppresses all 4
    frame = pl.DataFrame(_rows(4, "syr", "08115", "SYR", 2016))
    with pytest.raises(AnonymityError) as err:
        k_anonymise(frame, k=5, max_suppressed_share=0.5)
    assert "at most 2" in str(err.value)
    best = err.value.best
    assert len(best) == 10 and all(b.suppressed == 4 for b in best)
    table = failure_table(best, 4)
    assert "100.00%" in table and "area=kreis" in table


def test_empty_window_needs_nothing():
    frame = pl.DataFrame(_rows(1, "x", "08115", "SYR", 2016)).clear()
    result = k_anonymise(frame, k=5, max_suppressed_share=0.01)
    assert result.suppressed_rows == 0 and result.k_reached is None


def test_open_cases_do_not_give_the_start_month_away_when_it_is_generalised():
    from export.evaluator import hide_start_month

    cases = pl.DataFrame(
        {
            "case_id": ["a", "b", "c"],
            "is_closed": [0, 0, 1],  # a and b open at the stand, c closed
            "start_month": ["2024-01", "2024-03", "2024-01"],
            "duration_days": [100, 40, 50],
        }
    )
    # RISKY: with the stand known, a's 6 panel months say "January", b's 4 say "March"
    panel = pl.DataFrame(
        {
            "case_id": ["a"] * 6 + ["b"] * 4 + ["c"] * 2,
            "month_index": [*range(6), *range(4), 0, 1],
        }
    )
    kept_cases, kept_panel = hide_start_month(cases, panel, 0)
    assert kept_cases.equals(cases) and kept_panel.equals(panel), "month level: nothing to hide"
    hidden_cases, hidden_panel = hide_start_month(cases, panel, 1)  # quarter 2024-Q1
    # open cases lose their duration; closed c keeps its 50 days
    assert hidden_cases.get_column("duration_days").to_list() == [None, None, 50]
    # a is cut by 2 months (January → as if March), b by 0: both 4 months; c untouched
    lengths = dict(hidden_panel.group_by("case_id").len().sort("case_id").iter_rows())
    assert lengths == {"a": 4, "b": 4, "c": 2}
    # by year: a (January) is cut by 11 months — past its whole panel; b (March) by 9
    _, by_year = hide_start_month(cases, panel, 2)
    assert set(by_year.get_column("case_id")) == {"c"}
