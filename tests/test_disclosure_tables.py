"""`disclosure.tables.problem_of`: each cell takes part with the measures its table publishes,
in its values and in every sum (the `_publishes` lookup replaced joins of (cell, measure) pairs;
on `bw` it gives the same problem, frame for frame, README "Benchmark")."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from disclosure.tables import (
    _TYPES,
    CONTACT_TOPICS,
    INDICATOR_VALUES,
    _equation_number,
    problem_of,
)


def cell(table: str, block: str, level: str, unit: str, breakdown: str, group: str | None):
    return {
        "table_name": table, "block": block, "period": "2025", "period_type": "YEAR",
        "level": level, "unit_code": unit, "breakdown": breakdown, "breakdown_group": group,
        "primary_rule": True, "hidden": False, "suppression": None,
        # every measure has a number here; the table decides which ones take part
        "base_n": 10.0, "numerator": 4.0, "denominator": 9.0, "partly": 1.0,
    }  # fmt: skip


def test_cells_take_part_with_the_measures_their_table_publishes():
    cells = pl.DataFrame(
        [
            # topic ARBEIT of group G and the group itself, in the Land and in RB 081
            *(cell(CONTACT_TOPICS, "topic", lv, u, "ARBEIT", "G") for lv, u in LAND_RB),
            *(cell(CONTACT_TOPICS, "topic_group", lv, u, "G", None) for lv, u in LAND_RB),
            # an indicator row (CM01) in the Land and in RB 081
            *(cell(INDICATOR_VALUES, "CM01", lv, u, "", None) for lv, u in LAND_RB),
        ],
        schema=_TYPES,
    )
    problem, numbered = problem_of(cells)
    named = problem.values.join(numbered.select("cell", "block", "level"), on="cell")
    published = {(b, m) for b, m in named.select("block", "measure").unique().iter_rows()}
    # topics and topic groups publish base_n and a count (no denominator, no partly);
    # indicator rows base_n, numerator and denominator (partly belongs to CM05's goal fields)
    assert published == {
        ("topic", "base_n"), ("topic", "numerator"),
        ("topic_group", "base_n"), ("topic_group", "numerator"),
        ("CM01", "base_n"), ("CM01", "numerator"), ("CM01", "denominator"),
    }  # fmt: skip
    assert named.height == 2 * 2 + 2 * 2 + 2 * 3  # 2 units each: 14 values
    sums = problem.terms.join(numbered.select("cell", "block", "level"), on="cell")
    # every term is a published (cell, measure)
    assert sums.join(named, on=["cell", "measure"], how="anti").is_empty()
    # RB = Land for topic (2 measures), group (2) and CM01 (3); group = its topics in each
    # unit, for the count only (1 + 1): 9 sums, each a total (+1) and one part (-1)
    assert problem.terms.get_column("equation").n_unique() == 2 + 2 + 3 + 1 + 1
    per_sum = problem.terms.group_by("equation").agg(pl.col("coefficient").sort())
    assert all(c == [-1.0, 1.0] for c in per_sum.get_column("coefficient").to_list())


LAND_RB = (("LAND", "08"), ("RB", "081"))


def test_numbered_cells_keep_each_keys_first_row_in_key_order():
    from disclosure.tables import numbered_cells

    rows = [
        {**cell(INDICATOR_VALUES, "CM02", "LAND", "08", "", None), "base_n": 1.0},
        {**cell(INDICATOR_VALUES, "CM01", "RB", "081", "", None), "base_n": 2.0},
        # the same key as the first row, later: not a cell of its own, and not its numbers
        {**cell(INDICATOR_VALUES, "CM02", "LAND", "08", "", None), "base_n": 3.0},
        {**cell(INDICATOR_VALUES, "CM01", "LAND", "08", "", None), "base_n": 4.0},
    ]
    numbered = numbered_cells(pl.DataFrame(rows, schema=_TYPES))
    assert numbered.select("cell", "block", "level", "base_n").rows() == [
        (0, "CM01", "LAND", 4.0),  # CM01 before CM02, LAND before RB
        (1, "CM01", "RB", 2.0),
        (2, "CM02", "LAND", 1.0),  # the key's first row (base_n 1), not its second (3)
    ]
    assert numbered.get_column("cell").dtype == pl.Int64


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["hierarchy", "quarters", "last_quarter", "fields", "topics"]),
            st.integers(0, 40),
            st.sampled_from(["base_n", "numerator", "denominator", "partly"]),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_sums_are_numbered_in_the_order_of_kind_total_and_measure(links):
    frame = pl.DataFrame(links, schema=["kind", "total", "total_measure"], orient="row")
    numbered = frame.select(_equation_number(frame, 41)).to_series()
    # the plain statement: the dense rank of the (kind, total, measure) triple
    want = frame.select(pl.struct("kind", "total", "total_measure").rank("dense")).to_series()
    assert numbered.to_list() == want.cast(pl.Int64).to_list()
    # and by hand: numbers 1 … k in the sorted order of the distinct triples
    order = {t: i + 1 for i, t in enumerate(sorted(set(links)))}
    assert numbered.to_list() == [order[t] for t in links]
