"""Disclosure control one calendar year at a time (`disclosure.chunks`): the pattern and the
audit of the whole problem, on the `tiny` world's real tables (nine years, every kind of sum),
and what the years add up to."""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from tiny_world import TinyWorld

from disclosure import chunks, engine
from disclosure.chunks import YEAR, _sum_figures, audit_by_year, protect_by_year, years_of
from disclosure.engine import Started
from disclosure.memo import (
    audit_keeping,
    protect_keeping,
    published_view,
    year_entries,
    year_key,
    year_memo,
)
from disclosure.tables import (
    CELL_KEY,
    contact_topic_cells,
    goal_field_cells,
    indicator_cells,
    numbered_cells,
    numbered_problem,
    problem_of,
)
from expectations.mart_suites import SMALL_CELL

pytestmark = pytest.mark.slow
SOURCES = ("indicator_values", "mart_goal_attainment_by_field", "mart_contact_topics")


def _read(path, schema: str) -> dict[str, pl.DataFrame]:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = {n: con.sql(f'SELECT * FROM "{schema}"."{n}"').pl() for n in SOURCES}
        tables["catalogue"] = con.sql("SELECT * FROM reference.indicator_catalogue").pl()
        if schema == "marts":
            tables["pattern"] = con.sql("SELECT * FROM marts.disclosure_pattern").pl()
    return tables


@pytest.fixture(scope="module")
def marts(tiny_world: TinyWorld) -> dict[str, pl.DataFrame]:
    """The unsuppressed marts the pattern model reads, and the pattern the build wrote."""
    return _read(tiny_world.settings.build_db, "marts")


@pytest.fixture(scope="module")
def published(tiny_world: TinyWorld) -> dict[str, pl.DataFrame]:
    """The published tables the mart gate audits (their flags say what is hidden)."""
    return _read(tiny_world.settings.build_db, "published")


def _cells(tables: dict[str, pl.DataFrame], year: str | None = None) -> pl.DataFrame:
    """All cells, or one year's, as the pattern model and the gate make them."""

    def of(name: str) -> pl.DataFrame:
        return tables[name] if year is None else tables[name].filter(YEAR.eq(year))

    return pl.concat(
        [
            indicator_cells(of("indicator_values"), tables["catalogue"]),
            goal_field_cells(of("mart_goal_attainment_by_field")),
            contact_topic_cells(of("mart_contact_topics")),
        ]
    )


def _years(tables: dict[str, pl.DataFrame]) -> list[str]:
    return years_of(*(tables[n] for n in SOURCES))


def test_the_years_of_the_tiny_world():
    frame = pl.DataFrame({"period": ["2024", "2024Q3", "2017Q1", "2025", None]})
    assert years_of(frame, None) == ["2017", "2024", "2025"]  # sorted, no None


def test_the_pattern_year_by_year_is_the_whole_pattern(marts):
    years = _years(marts)
    assert len(years) >= 9  # tiny: 2017 to the stand's year, 2026
    problem, numbered = problem_of(_cells(marts).with_columns(pl.lit(False).alias("hidden")))
    whole = protect_keeping(problem, None)
    expected = (
        numbered.select(*CELL_KEY)
        .with_columns(whole.suppression())
        .filter(pl.col("suppression").is_not_null())
        .sort(list(CELL_KEY))
    )
    chunked = protect_by_year(
        years, lambda y: _cells(marts, y).with_columns(pl.lit(False).alias("hidden")), None
    )
    assert expected.height > 50  # tiny has many small cells: a pattern worth comparing
    assert chunked.pattern.equals(expected)
    # the build (which ran the chunked model) wrote that very pattern
    assert marts["pattern"].sort(list(CELL_KEY)).equals(expected)
    figures = chunked.figures
    assert figures["years"] == len(years)
    assert figures["cells"] == problem.n_cells  # the years' cells add up to the whole's
    assert figures["parts"] == whole.parts  # no part crosses a year
    assert (figures["suppressed_primary"], figures["suppressed_secondary"]) == (
        whole.figures()["suppressed_primary"],
        whole.figures()["suppressed_secondary"],
    )
    # the memo of the years serves the next build: every part kept, the same pattern
    again = protect_by_year(
        years,
        lambda y: _cells(marts, y).with_columns(pl.lit(False).alias("hidden")),
        chunked.memo,
    )
    assert again.figures["parts_kept"] == again.figures["parts"] == whole.parts
    assert again.pattern.equals(expected)


def test_years_solved_a_year_ahead_on_two_workers_give_the_pattern_of_one_process(
    marts, monkeypatch
):
    # every year's parts on two worker processes, the next year's submitted while the year
    # before is solved: the same pattern, memo and pattern audit as one process year by year
    years = _years(marts)

    def cells(year: str) -> pl.DataFrame:
        return _cells(marts, year).with_columns(pl.lit(False).alias("hidden"))

    monkeypatch.setattr(engine, "PARTS_PARALLEL_MIN_CELLS", 0)
    monkeypatch.setenv(engine.WORKERS_ENV, "2")
    ahead = protect_by_year(years, cells, None)
    monkeypatch.setenv(engine.WORKERS_ENV, "1")
    alone = protect_by_year(years, cells, None)
    assert ahead.pattern.height > 50 and ahead.pattern.equals(alone.pattern)
    assert ahead.memo.equals(alone.memo)
    # the final audits' ranges: the same parts and exact flags, the same bounds to the last
    # bits (a sum of published floats may add in another order in a part's own problem)
    assert ahead.audit_memo.height == ahead.figures["parts"]  # every part was protected anew
    assert ahead.audit_memo["key"].to_list() == alone.audit_memo["key"].to_list()
    for column, dtype in (("low", np.float64), ("high", np.float64), ("exact", np.uint8)):
        left = np.concatenate([np.frombuffer(b, dtype=dtype) for b in ahead.audit_memo[column]])
        right = np.concatenate([np.frombuffer(b, dtype=dtype) for b in alone.audit_memo[column]])
        np.testing.assert_allclose(left, right, rtol=1e-9, atol=1e-9)
    # the seconds are the wall time of it all, the engine's share within it
    assert 0 < ahead.figures["solved_anew"]["pattern_seconds"] <= ahead.figures["seconds"]


def test_a_year_that_fails_withdraws_the_year_begun_before_it(marts, monkeypatch):
    years = _years(marts)
    withdrawn: list[int] = []
    monkeypatch.setattr(Started, "cancel", lambda self: withdrawn.append(1))

    def cells(year: str) -> pl.DataFrame:
        if year == years[-3]:  # deliberately broken: the third newest year's marts cannot be read
            raise OSError("the marts of a year could not be read")
        return _cells(marts, year).with_columns(pl.lit(False).alias("hidden"))

    with pytest.raises(OSError, match="could not be read"):
        protect_by_year(years, cells, None)
    # newest first: the newest year was collected when the second newest began; the second,
    # begun, is withdrawn
    assert withdrawn == [1]


def test_a_year_whose_solving_fails_withdraws_the_year_begun_after_it(monkeypatch):
    # the first year's parts (the newest year's: years are taken newest first) fail on the
    # workers (as a worker that ran out of memory would): the failure is raised when that year
    # is collected, after the second year was begun — the second year's parts are withdrawn, and
    # no third year is begun
    begun: list[str] = []
    withdrawn: list[str] = []

    class Running(Started):
        year: str = ""

        def cancel(self) -> None:
            withdrawn.append(self.year)

    def started(problem, memo):
        def finish():
            raise MemoryError("a worker ran out of memory")  # deliberately: every year fails

        running = Running(finish)
        object.__setattr__(running, "year", problem)
        begun.append(problem)
        return running

    # each year's "problem" is its name: the engine is replaced, only the order is watched
    monkeypatch.setattr(chunks, "numbered_cells", lambda cells: cells)
    monkeypatch.setattr(chunks, "numbered_problem", lambda cells: (cells["year"][0], cells))
    monkeypatch.setattr(chunks, "year_key", lambda cells, *_, **__: cells["year"][0])
    monkeypatch.setattr(chunks, "protect_keeping_started", started)
    with pytest.raises(MemoryError, match="ran out of memory"):
        protect_by_year(["2017", "2018", "2019"], lambda y: pl.DataFrame({"year": [y]}), None)
    # newest first, the second begun before the first was collected
    assert begun == ["2019", "2018"]
    assert withdrawn == ["2018"]


def test_the_audit_year_by_year_is_the_whole_audit(published):
    years = _years(published)
    problem, numbered = problem_of(_cells(published), published=True)
    hidden = numbered.get_column("hidden").to_numpy()
    whole = audit_keeping(problem, hidden, SMALL_CELL, None)
    chunked = audit_by_year(years, lambda y: _cells(published, y), SMALL_CELL, None)
    assert int(hidden.sum()) > 50
    # numbered as the whole problem numbers its cells, so ranges compare row by row
    assert chunked.cells.select("cell", *CELL_KEY).equals(numbered.select("cell", *CELL_KEY))
    assert chunked.result is not None
    # the same ranges; to 1e-12, not bit for bit: the LP solver's last bits on fractional
    # case-months depend on which worker process solved a component and in which order
    # (measured: 3.6e-15 at most; with IMW_DISCLOSURE_WORKERS=1 the frames are equal)
    close = {"check_exact": False, "rel_tol": 1e-12, "abs_tol": 1e-12}
    assert_frame_equal(chunked.result.ranges, whole.result.ranges, **close)
    assert_frame_equal(chunked.result.failures, whole.result.failures, **close)
    for figure in ("cells", "equations", "suppressed", "variables", "components"):
        assert getattr(chunked.result, figure) == getattr(whole.result, figure), figure
    assert (chunked.n_cells, chunked.n_equations) == (problem.n_cells, problem.n_equations)
    assert chunked.parts == whole.parts
    # with the years' memo every part's ranges come from there, and they are the same
    kept = audit_by_year(years, lambda y: _cells(published, y), SMALL_CELL, chunked.memo)
    assert kept.parts_kept == kept.parts == whole.parts
    assert kept.result is not None
    assert_frame_equal(kept.result.ranges, whole.result.ranges, **close)


def test_a_year_whose_published_numbers_contradict_its_sums_fails_the_audit(published):
    years = _years(published)
    # one published Land numerator of the second year set to -1000: a count below 0 that
    # its sums cannot give (Land = Σ RB, year = Σ quarters), whether or not a term of them is
    # suppressed (a suppressed count is at least 0)
    tampered = _tampered(published, years[1])
    chunked = audit_by_year(years, lambda y: _cells(tampered, y), SMALL_CELL, None)
    assert chunked.result is None and chunked.memo is None
    # every year's cells are still numbered and counted (the gate's figures)
    whole, _ = problem_of(_cells(tampered), published=True)
    assert chunked.cells.height == chunked.n_cells == whole.n_cells


def _tampered(published: dict[str, pl.DataFrame], year: str) -> dict[str, pl.DataFrame]:
    """The published tables with one Land numerator of `year` set to -1000: a count below 0
    that its sums cannot give, so that year contradicts its sums."""
    values = published["indicator_values"]
    bad = (
        (pl.col("level") == "LAND")
        & YEAR.eq(year)
        & (pl.col("period_type") == "YEAR")
        & (pl.col("indicator_id") == "EL01")
        & ~pl.col("suppressed").fill_null(False)
    )
    assert values.filter(bad).height == 1
    numerator = pl.when(bad).then(pl.lit(-1000.0)).otherwise(pl.col("numerator"))
    return {**published, "indicator_values": values.with_columns(numerator.alias("numerator"))}


def _same_audit(a: chunks.ChunkedAudit, b: chunks.ChunkedAudit) -> None:
    assert a.cells.equals(b.cells)
    assert (a.result is None) == (b.result is None)
    if a.result is not None:
        assert a.result.ranges.equals(b.result.ranges)
        assert a.result.failures.equals(b.result.failures)
        for figure in ("cells", "equations", "suppressed", "variables", "components"):
            assert getattr(a.result, figure) == getattr(b.result, figure), figure
    assert (a.memo is None) == (b.memo is None)
    if a.memo is not None:
        assert a.memo.equals(b.memo)
    for figure in ("n_cells", "n_equations", "parts", "parts_kept", "years_kept"):
        assert getattr(a, figure) == getattr(b, figure), figure


def test_years_audited_side_by_side_give_what_one_after_the_other_gives(published, monkeypatch):
    """`AUDIT_THREADS` years at a time, joined in their order: the same cells, ranges, memo and
    figures as one year after the other — also when a year contradicts its sums and the years
    after it are in the last audit's year memo (counted, neither taken nor audited)."""
    years = _years(published)
    audited = audit_by_year(years, lambda y: _cells(published, y), SMALL_CELL, None)
    tampered = _tampered(published, years[1])
    runs = {}
    for threads in (1, 2):
        monkeypatch.setattr(chunks, "AUDIT_THREADS", threads)
        runs[threads] = [
            audit_by_year(years, lambda y: _cells(published, y), SMALL_CELL, None),
            audit_by_year(
                years, lambda y: _cells(published, y), SMALL_CELL, None, None, audited.year_memo
            ),
            audit_by_year(
                years, lambda y: _cells(tampered, y), SMALL_CELL, None, None, audited.year_memo
            ),
        ]
    for one, two in zip(runs[1], runs[2], strict=True):
        _same_audit(one, two)
    fresh, kept, contradicted = runs[2]
    assert fresh.result is not None and fresh.years_kept == 0
    assert kept.years_kept == len(years)
    # the first year is taken from the memo, the second contradicts its sums, and the seven
    # after it — all in the memo — are counted but not taken: no result, no memo
    assert contradicted.result is None and contradicted.memo is None
    assert contradicted.years_kept == 1
    whole, _ = problem_of(_cells(tampered), published=True)
    assert contradicted.n_cells == whole.n_cells == contradicted.cells.height
    assert contradicted.n_equations == whole.n_equations


def test_figures_of_the_years_add_up():
    a = {"cells": 10, "seconds": 0.5, "narrowest_base_n_range": 7.0, "solved_anew": None}
    b = {"cells": 5, "seconds": 0.25, "narrowest_base_n_range": 4.0,
         "solved_anew": {"linear_programs": 3, "narrowest_base_n_range": np.inf}}  # fmt: skip
    c = {"cells": 1, "seconds": 0.125, "narrowest_base_n_range": None,
         "solved_anew": {"linear_programs": 2, "narrowest_base_n_range": 9.0}}  # fmt: skip
    assert _sum_figures([a, b, c]) == {
        "cells": 16,  # 10 + 5 + 1
        "seconds": 0.875,  # 0.5 + 0.25 + 0.125
        "narrowest_base_n_range": 4.0,  # the smallest of 7 and 4 (None: no suppressed base_n)
        "solved_anew": {"linear_programs": 5, "narrowest_base_n_range": 9.0},  # 3 + 2; min
    }


def _without_topics_of(tables: dict[str, pl.DataFrame], year: str) -> dict[str, pl.DataFrame]:
    """The tables without the contact topics of `year`: a whole block of one year gone, so its
    cells change and every sum left still holds (no sum links topics to other tables)."""
    topics = tables["mart_contact_topics"]
    assert topics.filter(YEAR.eq(year)).height > 0  # there is something to take away
    return {**tables, "mart_contact_topics": topics.filter(~YEAR.eq(year))}


def test_years_kept_whole_give_the_pattern_and_the_audit_of_every_year_set_up_anew(
    marts, published
):
    """`kept_years`: a year whose cells are those of the last build takes its pattern (its
    audit) from the year memo without being set up; a changed year is set up and solved; a
    damaged memo row is not taken. Each result equals the one without the year memo."""
    years = _years(marts)

    def pattern_cells(tables):
        return lambda y: _cells(tables, y).with_columns(pl.lit(False).alias("hidden"))

    # the key is of the cells, not of how they lie in memory: the same rows read in another
    # order and in other chunks (as DuckDB may return them) give the same key
    cells = pattern_cells(marts)(years[-1])
    half = cells.height // 2
    moved = pl.concat([cells.slice(half), cells.slice(0, half)], rechunk=False)
    for frame in (moved, moved.sample(fraction=1.0, shuffle=True, seed=7)):
        assert year_key(numbered_cells(frame), "protect", 5, last_resort=True) == year_key(
            numbered_cells(cells), "protect", 5, last_resort=True
        )
    first = protect_by_year(years, pattern_cells(marts), None)
    assert first.figures["years_kept"] == 0
    assert first.year_memo.height == len(years)  # one row per year with cells
    kept = protect_by_year(years, pattern_cells(marts), first.memo, first.year_memo)
    assert kept.figures["years_kept"] == len(years)
    assert kept.figures["parts_kept"] == kept.figures["parts"] == first.figures["parts"]
    assert kept.figures["solved_anew"] is None
    assert kept.pattern.equals(first.pattern)
    assert kept.memo.sort("key").equals(first.memo.sort("key"))  # the next build's part memo
    assert kept.year_memo.sort("key").equals(first.year_memo.sort("key"))

    # one year's contact topics are gone: that year is set up again, the others are kept
    changed_year = years[-2]
    changed = _without_topics_of(marts, changed_year)
    again = protect_by_year(years, pattern_cells(changed), first.memo, first.year_memo)
    fresh = protect_by_year(years, pattern_cells(changed), None)
    assert again.figures["years_kept"] == len(years) - 1
    assert again.pattern.equals(fresh.pattern)
    assert again.memo.sort("key").equals(fresh.memo.sort("key"))

    # a damaged row (its check no longer holds) is not taken: that year is set up again
    damaged = first.year_memo.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("0" * 64))
        .otherwise(pl.col("check"))
        .alias("check")
    )
    mended = protect_by_year(years, pattern_cells(marts), first.memo, damaged)
    assert mended.figures["years_kept"] == len(years) - 1
    assert mended.pattern.equals(first.pattern)
    # a row whose check holds but whose figures lack a count (a memo of other code) neither
    entries = list(year_entries(first.year_memo, 2).items())
    other_code = year_memo(
        [
            (key, e.stored, {} if n == 0 else e.figures, e.fingerprint)
            for n, (key, e) in enumerate(entries)
        ]
    )
    assert (
        protect_by_year(years, pattern_cells(marts), first.memo, other_code).figures["years_kept"]
        == len(years) - 1
    )

    # the audit: kept whole, the same ranges and failures; a changed year audited anew
    audited = audit_by_year(years, lambda y: _cells(published, y), SMALL_CELL, None)
    assert audited.result is not None and audited.years_kept == 0
    assert audited.year_memo is not None and audited.year_memo.height == len(years)
    taken = audit_by_year(
        years, lambda y: _cells(published, y), SMALL_CELL, None, None, audited.year_memo
    )
    assert taken.years_kept == len(years) and taken.parts_kept == taken.parts == audited.parts
    assert taken.result is not None and taken.result.linear_programs == 0
    assert taken.cells.equals(audited.cells)
    assert taken.result.ranges.equals(audited.result.ranges)
    assert taken.result.failures.equals(audited.result.failures)
    for figure in ("cells", "equations", "suppressed", "variables"):
        assert getattr(taken.result, figure) == getattr(audited.result, figure), figure
    assert (taken.n_cells, taken.n_equations) == (audited.n_cells, audited.n_equations)
    assert taken.memo is not None and taken.memo.sort("key").equals(audited.memo.sort("key"))
    changed_published = _without_topics_of(published, changed_year)
    both = [
        audit_by_year(years, lambda y: _cells(changed_published, y), SMALL_CELL, None, None, memo)
        for memo in (audited.year_memo, None)
    ]
    assert both[0].years_kept == len(years) - 1 and both[1].years_kept == 0
    assert both[0].result is not None and both[1].result is not None
    assert both[0].cells.equals(both[1].cells)
    assert both[0].result.ranges.equals(both[1].result.ranges)
    assert both[0].result.failures.equals(both[1].result.failures)


def _same_year_rows(a: pl.DataFrame, b: pl.DataFrame) -> None:
    """Two year memos with the same rows: keys, frames (as stored), figures and checks."""
    assert a.sort("key").equals(b.sort("key"))


def test_a_years_audit_made_by_the_pattern_is_the_gates_own_and_taken_only_as_published(
    marts, published
):
    """`ChunkedPattern.audit_year_memo`: the pattern makes the gate's audit of each year it
    sets up anew from its own problem (module docstring, "A year's audit from the pattern").
    The gate takes a year from there only when the published cells have the key it was made
    under, and what it takes is what it would have made itself, frame for frame."""
    years = _years(marts)

    def pattern_cells(tables):
        return lambda y: _cells(tables, y).with_columns(pl.lit(False).alias("hidden"))

    def gate_cells(tables):
        return lambda y: _cells(tables, y)

    first = protect_by_year(years, pattern_cells(marts), None)
    # a first build: every part solved anew, so every year's ranges are known: a row per year
    assert first.audit_year_memo.height == len(years)

    # the problem the row was made on is the gate's: the published cells of a year, set up as
    # the gate sets them up, equal the pattern's problem with its suppressed values unknown
    year = years[-2]
    numbered = numbered_cells(pattern_cells(marts)(year))
    problem, numbered = numbered_problem(numbered)
    status = protect_keeping(problem, None).suppression()
    as_published = chunks.as_published(numbered, status)
    assert as_published.equals(numbered_cells(gate_cells(published)(year)))
    gates, _ = numbered_problem(as_published, published=True)
    view = published_view(problem, status.is_not_null().to_numpy())
    for frame in ("cells", "values", "terms"):
        assert getattr(view, frame).equals(getattr(gates, frame)), frame

    # each year's row is what the gate makes of that year from the same part memo, byte for
    # byte: the year protected alone, its final audit handed to the gate as today (every part's
    # ranges from there, the year set up by the gate), and the two year memo rows compared
    for year in years:
        alone = protect_by_year([year], pattern_cells(marts), None)
        gate = audit_by_year([year], gate_cells(published), SMALL_CELL, None, alone.audit_memo)
        assert gate.parts_from_pattern == gate.parts and gate.year_memo is not None
        assert alone.audit_year_memo.height == 1
        _same_year_rows(alone.audit_year_memo, gate.year_memo)
        assert alone.audit_year_memo.row(0) in first.audit_year_memo.rows()

    # the gate as today, all years: every part's ranges from the pattern's final audit
    parts_only = audit_by_year(years, gate_cells(published), SMALL_CELL, None, first.audit_memo)
    assert parts_only.parts_from_pattern == parts_only.parts and parts_only.years_from_pattern == 0
    # with the pattern's years: every year taken whole, not one set up, and the same verdicts.
    # Not every range is the same: a part whose key recurs in another year (a table alike in
    # every published number) takes, by parts, the memo's one entry for that key, and, by
    # years, its own year's; each is a span the same linear programs showed for that key
    taken = audit_by_year(
        years,
        gate_cells(published),
        SMALL_CELL,
        None,
        first.audit_memo,
        None,
        first.audit_year_memo,
    )
    assert taken.years_from_pattern == len(years) and taken.years_kept == 0
    assert taken.parts_from_pattern == taken.parts == parts_only.parts
    assert taken.result is not None and parts_only.result is not None
    assert taken.result.linear_programs == 0
    assert taken.cells.equals(parts_only.cells)
    assert taken.result.failures.equals(parts_only.result.failures)
    assert taken.result.ranges.select("cell", "measure").equals(
        parts_only.result.ranges.select("cell", "measure")
    )
    for figure in ("cells", "equations", "suppressed", "variables"):
        assert getattr(taken.result, figure) == getattr(parts_only.result, figure), figure
    assert taken.memo is not None and parts_only.memo is not None
    assert set(taken.memo.get_column("key")) == set(parts_only.memo.get_column("key"))
    # and the verdicts of an audit that solves every part itself: the same failures (none: the
    # build published this pattern), the same suppressed values; a span the pattern's witnesses
    # showed lies within the exact range (`test_disclosure_memo`: the pattern's final audit)
    own = audit_by_year(years, gate_cells(published), SMALL_CELL, None)
    assert own.result is not None and own.result.linear_programs > 0
    assert taken.result.failures.is_empty() and own.result.failures.is_empty()
    both = taken.result.ranges.join(own.result.ranges, on=["cell", "measure"], suffix="_own")
    assert both.height == own.result.ranges.height == taken.result.ranges.height
    exact = both.filter(pl.col("exact_own"))
    assert (exact["low"] >= exact["low_own"] - 1e-7).all()
    assert (exact["high"] <= exact["high_own"] + 1e-7).all()

    # published otherwise than the pattern saw it: one Land numerator of the second year is
    # -1000 in the published tables (`_tampered`). That year's key is another, so the gate
    # sets it up itself, and finds the contradiction; the year before is taken
    tampered = _tampered(published, years[1])
    refused = audit_by_year(
        years,
        gate_cells(tampered),
        SMALL_CELL,
        None,
        first.audit_memo,
        None,
        first.audit_year_memo,
    )
    assert refused.result is None and refused.years_from_pattern == 1
    # a year published without a suppression the pattern made (one suppressed topic cell of
    # the last year shown): another key, so audited by the gate, which refuses it
    topics = published["mart_contact_topics"]
    shown = (
        pl.int_range(pl.len())
        == topics.select(
            (YEAR.eq(years[-1]) & pl.col("suppressed").fill_null(False)).arg_max()
        ).item()
    )
    assert topics.filter(shown).get_column("suppressed").item()
    unsuppressed = {
        **published,
        "mart_contact_topics": topics.with_columns(
            pl.when(shown).then(False).otherwise(pl.col("suppressed")).alias("suppressed"),
            pl.when(shown).then(None).otherwise(pl.col("suppression")).alias("suppression"),
            pl.when(shown).then(0).otherwise(pl.col("contacts")).alias("contacts"),
            pl.when(shown).then(0).otherwise(pl.col("base_n")).alias("base_n"),
        ),
    }
    exposed = audit_by_year(
        years,
        gate_cells(unsuppressed),
        SMALL_CELL,
        None,
        first.audit_memo,
        None,
        first.audit_year_memo,
    )
    assert exposed.years_from_pattern == len(years) - 1
    assert exposed.result is None or not exposed.result.failures.is_empty()

    # the next build, in which the pattern's year memo is lost and a few parts of one year
    # are missing from its part memo: every year is set up anew, those parts are solved again
    # (to the same pattern), and every part's ranges come from the gate's last audit
    # (`audit_memo`, which holds them all): a row for every year, and the gate, whose own year
    # memo is lost too, takes each of them; byte for byte what it makes from that part memo
    alone = protect_by_year([years[-2]], pattern_cells(marts), None)
    lost = alone.memo.get_column("key").head(5)
    again = protect_by_year(
        years,
        pattern_cells(marts),
        first.memo.filter(~pl.col("key").is_in(lost.implode())),
        None,
        audit_memo=taken.memo,
    )
    assert again.figures["years_kept"] == 0 and again.figures["parts_kept"] == (
        first.figures["parts"] - 5
    )
    assert again.pattern.equals(first.pattern)
    assert again.audit_year_memo.height == len(years)
    with_rows, without = (
        audit_by_year(
            years,
            gate_cells(published),
            SMALL_CELL,
            taken.memo,
            again.audit_memo,
            None,
            pattern_years,
        )
        for pattern_years in (again.audit_year_memo, None)
    )
    assert (with_rows.years_kept, with_rows.years_from_pattern) == (0, len(years))
    assert (without.years_kept, without.years_from_pattern) == (0, 0)
    _same_audit(with_rows, without)
    assert with_rows.parts_kept == with_rows.parts  # the figures say where the ranges came from
    assert with_rows.year_memo is not None and without.year_memo is not None
    _same_year_rows(with_rows.year_memo, without.year_memo)
    # without the gate's last audit the ranges of the parts kept are not known: no row
    blind = protect_by_year(
        years,
        pattern_cells(marts),
        first.memo.filter(~pl.col("key").is_in(lost.implode())),
        None,
    )
    assert blind.audit_year_memo.height == 0


def _relations(tables: dict[str, pl.DataFrame]) -> tuple[duckdb.DuckDBPyConnection, list]:
    """The three tables in an in-memory DuckDB, as the pattern model gets them (relations)."""
    con = duckdb.connect()
    for name in SOURCES:
        con.register(f"{name}_frame", tables[name].to_arrow())
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_frame")
    return con, [con.table(name) for name in SOURCES]


def test_a_year_whose_tables_are_unchanged_is_taken_by_its_fingerprint_without_being_read(marts):
    """`fingerprints`: a year whose rows are those of the last build takes its memo row without
    its cells being read or keyed; a changed year is read and set up anew; the pattern, the part
    memo and the year memo are those of a build without fingerprints."""
    con, relations = _relations(marts)
    catalogue = marts["catalogue"]
    prints = chunks.year_fingerprints(relations, catalogue)
    years = sorted(prints)
    assert years == _years(marts)  # the fingerprints' years are the tables' years
    read: list[str] = []
    cells_of = chunks.pattern_cells_of(*relations, catalogue)

    def counted(year: str) -> pl.DataFrame:
        read.append(year)
        return cells_of(year)

    def without_fingerprints(tables):
        return protect_by_year(
            years, lambda y: _cells(tables, y).with_columns(pl.lit(False).alias("hidden")), None
        )

    first = protect_by_year(years, counted, None, None, prints)
    assert sorted(read) == years  # nothing kept yet: every year read
    plain = without_fingerprints(marts)
    assert first.pattern.equals(plain.pattern)
    assert first.memo.sort("key").equals(plain.memo.sort("key"))
    # the year memo has the keys and figures of the one without fingerprints (its frames hold
    # the rows above, in the order the cells were read), each row with its year's fingerprint
    assert (
        first.year_memo.select("key", "figures")
        .sort("key")
        .equals(plain.year_memo.select("key", "figures").sort("key"))
    )
    assert sorted(first.year_memo["fingerprint"].to_list()) == sorted(prints.values())

    read.clear()
    kept = protect_by_year(years, counted, first.memo, first.year_memo, prints)
    assert read == []  # no year read, none keyed
    assert kept.figures["years_kept"] == len(years) and kept.figures["solved_anew"] is None
    assert kept.pattern.equals(first.pattern)
    assert kept.memo.sort("key").equals(first.memo.sort("key"))
    assert kept.year_memo.sort("key").equals(first.year_memo.sort("key"))

    # one year's contact topics are gone: only its fingerprint changes, only it is read
    changed_year = years[-2]
    con.execute(f"DELETE FROM mart_contact_topics WHERE left(period, 4) = '{changed_year}'")
    new_prints = chunks.year_fingerprints(relations, catalogue)
    assert [y for y in years if new_prints[y] != prints[y]] == [changed_year]
    read.clear()
    again = protect_by_year(years, counted, first.memo, first.year_memo, new_prints)
    assert read == [changed_year]
    assert again.figures["years_kept"] == len(years) - 1
    fresh = without_fingerprints(_without_topics_of(marts, changed_year))
    assert again.pattern.equals(fresh.pattern)
    assert again.memo.sort("key").equals(fresh.memo.sort("key"))

    # a fingerprint damaged in the memo (its check no longer holds): that year is read again
    # (and, its cells unchanged, taken by its key)
    damaged = first.year_memo.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit(prints[years[0]]))
        .otherwise(pl.col("fingerprint"))
        .alias("fingerprint")
    )
    assert damaged["fingerprint"][0] != first.year_memo["fingerprint"][0]  # newest year's row
    read.clear()
    mended = protect_by_year(years, counted, first.memo, damaged, new_prints)
    assert len(read) == 2 and changed_year in read  # the changed year and the damaged row's
    assert mended.pattern.equals(again.pattern)
    con.close()


def test_the_gates_text_counts_whole_years_in_the_singular_and_plural():
    from expectations.mart_suites import _kept_text

    text = _kept_text(
        {"parts": 5, "parts_audited_before": 4, "years_audited_before": 9,
         "parts_from_pattern": 1, "years_from_pattern": 1}
    )  # fmt: skip
    # 9 years kept from the audit before, 1 from the pattern
    assert "(9 whole years of them published as then" in text
    assert "; 1 whole year published exactly as the pattern saw them" in text
