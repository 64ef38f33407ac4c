"""`disclosure.chunks.year_fingerprints`: a year's fingerprint is the same exactly when that
year's rows are (as a multiset, floats to the significant digits the pattern's keys take)."""

from __future__ import annotations

from collections import Counter

import duckdb
import hypothesis.strategies as st
import polars as pl
import pytest
from hypothesis import given, settings

from disclosure.chunks import year_fingerprints

SCHEMA = {"period": pl.String, "unit": pl.String, "n": pl.Int64, "x": pl.Float64}
CATALOGUE = pl.DataFrame({"indicator_id": ["CM01", "CM02"], "unit": ["Anteil", "Anzahl"]})
ROWS = st.lists(
    st.tuples(
        st.sampled_from(["2024", "2025Q1", "2025Q2", "2025"]),
        st.one_of(st.none(), st.sampled_from(["08111", "08115", "081"])),
        st.one_of(st.none(), st.integers(0, 40)),
        # eighths: exact in binary, so no value lies on a rounding boundary
        st.one_of(st.none(), st.integers(-80, 80).map(lambda k: k / 8)),
    ),
    max_size=8,
)


def fingerprints(*frames: pl.DataFrame, catalogue: pl.DataFrame = CATALOGUE) -> dict[str, str]:
    con = duckdb.connect()
    relations = []
    for n, frame in enumerate(frames):
        con.register(f"f{n}", frame.to_arrow())
        con.execute(f"CREATE TABLE t{n} AS SELECT * FROM f{n}")
        relations.append(con.table(f"t{n}"))
    return year_fingerprints(relations, catalogue)


def frame(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def by_year(rows: list[tuple]) -> dict[str, Counter]:
    years: dict[str, Counter] = {}
    for row in rows:
        years.setdefault(row[0][:4], Counter())[row] += 1
    return years


@settings(max_examples=150, deadline=None)
@given(ROWS, ROWS)
def test_a_year_has_the_same_fingerprint_exactly_when_its_rows_are_the_same(first, second):
    a, b = fingerprints(frame(first)), fingerprints(frame(second))
    rows_a, rows_b = by_year(first), by_year(second)
    assert set(a) == set(rows_a) and set(b) == set(rows_b)  # a fingerprint per year with rows
    for year in set(a) & set(b):
        assert (a[year] == b[year]) == (rows_a[year] == rows_b[year]), year


@settings(max_examples=50, deadline=None)
@given(ROWS, st.randoms(use_true_random=False))
def test_the_order_of_the_rows_does_not_count(rows, random):
    shuffled = list(rows)
    random.shuffle(shuffled)
    assert fingerprints(frame(rows)) == fingerprints(frame(shuffled))


def test_floats_count_to_twelve_significant_digits_as_the_keys_take_them():
    def one(x: float) -> str:
        return fingerprints(frame([("2025", "081", 3, x)]))["2025"]

    # DuckDB adds case-months in varying order: the last bits differ between two builds
    assert one(0.1 + 0.2) == one(0.3)  # 0.30000000000000004 and 0.3
    assert one(1234.5678901234) == one(1234.5678901234 * (1 + 1e-15))
    # a difference in the 12th significant digit counts
    assert one(1234.56789012) != one(1234.56789013)
    assert one(0.0) != one(-1.0) != one(float("nan"))


def test_each_table_schema_and_catalogue_counts():
    rows = [("2025", "081", 3, 0.5)]
    base = fingerprints(frame(rows), frame([]))
    # the same row in the other table: another fingerprint
    assert fingerprints(frame([]), frame(rows)) != base
    # a column more (its values null): another fingerprint
    wider = frame(rows).with_columns(pl.lit(None, pl.String).alias("extra"))
    assert fingerprints(wider, frame([])) != base
    # another catalogue: another fingerprint, whatever the order of its rows
    assert fingerprints(frame(rows), frame([]), catalogue=CATALOGUE.reverse()) == base
    changed = CATALOGUE.with_columns(pl.lit("Anzahl").alias("unit"))
    assert fingerprints(frame(rows), frame([]), catalogue=changed) != base
    # a year's fingerprint does not change when only another year's rows do
    more = fingerprints(frame([*rows, ("2024Q3", "081", 9, 1.0)]), frame([]))
    assert more["2025"] == base["2025"] and set(more) == {"2024", "2025"}


def test_a_period_that_does_not_start_with_a_year_raises():
    # the fingerprints' keys are the years the pattern protects, each put into SQL text
    with pytest.raises(ValueError, match="start with no year"):
        fingerprints(frame([("2025", "081", 3, 0.5), ("x025", "081", 3, 0.5)]))
