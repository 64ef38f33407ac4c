"""The engine's array forms of its per-audit work against the frames they replaced.

`audit`'s linear system (`engine._system`, over `Problem.layout`) and step 1 of `protect`
(`engine._EquationsHold`) run in numpy arrays since 2026-12-06, because
`protect` repeats them on one problem with more cells suppressed each round
(disclosure/ENGINE.md, "The audits' bookkeeping in arrays"). The frame versions below are the
code they replaced, kept here as the plain statement of what each must compute; on random
hierarchies with random suppressed cells and equation numbers that are neither 0-based nor
contiguous, both give the same.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from disclosure import engine
from disclosure.engine import BASE_N, KEY, NONE, PIN_TOLERANCE, PRIMARY, SECONDARY, Problem
from tests.test_disclosure import ALL, exact_ranges, hierarchies, hierarchy_problem, problem


# --------------------------------------------------------------------------------------------
# The frame versions (the code before 2026-12-06)
# --------------------------------------------------------------------------------------------
def frame_system(problem: Problem, hidden: np.ndarray):
    """`audit`'s system by joining the frames: (variables, dense a, b)."""
    values = problem.values.with_columns(
        pl.Series(hidden).gather(problem.values.get_column("cell")).alias("hidden")
    )
    variables = (
        values.filter("hidden")
        .select("cell", "measure")
        .with_row_index("var")
        .with_columns(pl.col("var").cast(pl.Int64))
    )
    terms = problem.terms.join(
        variables, on=["cell", "measure"], how="left", maintain_order="left"
    ).join(
        values.select("cell", "measure", pl.col("value").alias("published"), "hidden"),
        on=["cell", "measure"],
        how="left",
        maintain_order="left",
    )
    constants = (
        terms.filter(pl.col("var").is_null())
        .group_by("equation")
        .agg((pl.col("coefficient") * pl.col("published")).sum().alias("constant"))
    )
    linked = terms.filter(pl.col("var").is_not_null())
    rows = (
        linked.select("equation")
        .unique()
        .sort("equation")
        .with_row_index("row")
        .with_columns(pl.col("row").cast(pl.Int64))
        .join(constants, on="equation", how="left")
        .with_columns(pl.col("constant").fill_null(0.0))
    )
    linked = linked.join(rows.select("equation", "row"), on="equation")
    a = np.zeros((rows.height, variables.height))
    np.add.at(
        a,
        (linked.get_column("row").to_numpy(), linked.get_column("var").to_numpy()),
        linked.get_column("coefficient").to_numpy(),
    )
    return variables.select("cell", "measure"), a, -rows.get_column("constant").to_numpy()


def frame_step_one(terms: pl.DataFrame, status: np.ndarray, minimum: int) -> None:
    """Step 1 of `protect` by grouping the frame, in place on `status`."""
    while True:
        hidden = pl.Series(status > NONE).gather(terms.get_column("cell"))
        frame = terms.with_columns(hidden.alias("hidden"))
        is_part = pl.col("coefficient") < 0
        per_equation = frame.group_by("equation").agg(
            pl.col("hidden").sum().alias("n_hidden"),
            (pl.col("hidden") & ~is_part).any().alias("total_hidden"),
            pl.col("value").filter(pl.col("hidden") & is_part).abs().sum().alias("hidden_parts"),
            pl.col("value").filter(~is_part).abs().sum().alias("total_value"),
            pl.col("base_n_equation").first(),
        )
        partial = (pl.col("n_hidden") >= 2) & ~pl.col("total_hidden")
        needy = per_equation.filter(
            (pl.col("n_hidden") == 1)
            | (partial & pl.col("base_n_equation") & (pl.col("hidden_parts") < minimum))
            | (
                partial
                & ~pl.col("base_n_equation")
                & (pl.col("hidden_parts") <= PIN_TOLERANCE)
                & (pl.col("total_value") > PIN_TOLERANCE)
            )
        ).select("equation", (pl.col("n_hidden") >= 2).alias("needs_nonzero"))
        picks = (
            frame.join(needy, on="equation")
            .filter(
                pl.col("candidate")
                & ~pl.col("hidden")
                & (~pl.col("needs_nonzero") | (pl.col("value").abs() > PIN_TOLERANCE))
            )
            .sort("equation", "cell_base_n", "cell")
            .group_by("equation", maintain_order=True)
            .first()
            .get_column("cell")
            .unique()
            .to_numpy()
        )
        if len(picks) == 0:
            return
        status[picks] = SECONDARY


def frame_sums_hold(problem: Problem, suppressed: np.ndarray) -> bool:
    """`published_sums_hold` by joining the frames (the code before 2026-12-06)."""
    hidden = pl.Series(np.flatnonzero(np.asarray(suppressed, dtype=bool)), dtype=pl.Int64)
    terms = problem.terms.join(problem.values, on=["cell", "measure"], how="left").with_columns(
        pl.col("cell").is_in(hidden.implode()).alias("hidden")
    )
    sums = terms.group_by("equation").agg(
        (pl.col("hidden") | pl.col("value").is_null()).any().alias("open"),
        (pl.col("coefficient") * pl.col("value")).sum().alias("residual"),
        (pl.col("coefficient").abs() * pl.col("value").abs()).sum().alias("scale"),
    )
    return sums.filter(
        ~pl.col("open")
        & (pl.col("residual").abs() > PIN_TOLERANCE * pl.max_horizontal("scale", 1.0))
    ).is_empty()


def frame_zero_links(problem: Problem) -> tuple[set[tuple[int, int, int]], list[int]]:
    """`_zero_links` by joining the frames (the code before 2026-12-06): the links as a set of
    (part row, total row, sum) — their order is not part of the result — and the parts per sum."""
    rows = problem.values.select(
        "cell",
        "measure",
        pl.int_range(pl.len(), dtype=pl.Int64).alias("row"),
        (pl.col("value").abs() <= PIN_TOLERANCE).fill_null(True).alias("zero"),
    )
    terms = problem.terms.join(rows, on=["cell", "measure"], how="left")
    useful = (
        terms.group_by("equation")
        .agg(
            (pl.col("zero") & (pl.col("coefficient") > 0)).any().alias("zero_total"),
            pl.col("zero").filter(pl.col("coefficient") < 0).all().alias("zero_parts"),
        )
        .filter(pl.col("zero_total") | pl.col("zero_parts"))
        .select("equation")
        .sort("equation")
        .with_row_index("sum")
    )
    terms = terms.join(useful, on="equation")
    totals = terms.filter(pl.col("coefficient") > 0).select("sum", pl.col("row").alias("total"))
    links = terms.filter(pl.col("coefficient") < 0).select("sum", "row").join(totals, on="sum")
    found = set(links.select("row", "total", pl.col("sum").cast(pl.Int64)).iter_rows())
    return found, np.bincount(links.get_column("sum").to_numpy(), minlength=useful.height).tolist()


def frame_term_frame(problem: Problem, base_n: np.ndarray, candidate: np.ndarray) -> pl.DataFrame:
    """`_term_frame` by joining the frames (the code before 2026-12-06)."""
    cells = pl.DataFrame(
        {
            "cell": np.arange(problem.n_cells, dtype=np.int64),
            "cell_base_n": base_n,
            "candidate": candidate,
        }
    )
    return (
        problem.terms.with_columns(pl.Series("equation_rank", problem.layout.term_equation))
        .join(problem.values, on=["cell", "measure"], how="left")
        .join(cells, on="cell", how="left")
        .with_columns(
            (pl.col("measure") == BASE_N).all().over("equation").alias("base_n_equation"),
            pl.col("value").fill_null(0.0),
        )
    )


def renumbered(p: Problem, step: int, offset: int) -> Problem:
    """The same problem with equation numbers `step · e + offset` in reverse order of the rows:
    the arrays must use the equations' order, not assume 0 … n−1."""
    terms = p.terms.with_columns(pl.col("equation") * step + offset).reverse()
    return Problem(p.cells, p.values, terms)


def flags(data, n: int) -> np.ndarray:
    return np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))


def drawn_problem(providers, data, step: int, offset: int, *, nudge: bool) -> Problem:
    """A random hierarchy's problem with renumbered sums, some values withheld (NULL) and, with
    `nudge`, some values off by one."""
    p, _ = hierarchy_problem(providers)
    p = renumbered(p, step, offset)
    value = p.values.get_column("value").to_numpy().copy()
    if nudge:
        value += flags(data, len(value))
    withheld = np.flatnonzero(flags(data, len(value)))
    return Problem(
        p.cells, p.values.with_columns(pl.Series("value", value).scatter(withheld, None)), p.terms
    )


# --------------------------------------------------------------------------------------------
# Hand-checked case
# --------------------------------------------------------------------------------------------
def test_system_of_two_sums_by_hand():
    # T = A + B (30 = 20 + 10) and A = C + D (20 = 12 + 8), base_n only
    p, names = problem(
        {"T": (30, 0, 30), "A": (20, 0, 20), "B": (10, 0, 10), "C": (12, 0, 12), "D": (8, 0, 8)},
        [("T", ["A", "B"], (BASE_N,)), ("A", ["C", "D"], (BASE_N,))],
    )
    hidden = np.array([n in ("A", "C") for n in names])
    variables, identity, hidden_rows, a, b = engine._system(renumbered(p, 7, 3), hidden)
    # the suppressed values in the order of `values` (cell, then measure in ALL's order there)
    assert variables.rows() == [(1, m) for m in ALL] + [(3, m) for m in ALL]
    # identity: cell · 3 measures + the measure's number in name order (base_n 0, denominator
    # 1, numerator 2)
    assert identity.tolist() == [3, 5, 4, 9, 11, 10]
    assert hidden_rows.sum() == 6  # 2 cells × 3 measures
    # rows in the equations' order: T = A + B is 3 (0 · 7 + 3), A = C + D is 10 (1 · 7 + 3)
    # T − A − B = 0 → −A = −T + B = −30 + 10 = −20;  A − C − D = 0 → A − C = D = 8
    assert a.toarray().tolist() == [[-1, 0, 0, 0, 0, 0], [1, 0, 0, -1, 0, 0]]
    assert b.tolist() == [-20.0, 8.0]


# --------------------------------------------------------------------------------------------
# Bad input: the audit names the terms it cannot read
# --------------------------------------------------------------------------------------------
def test_a_term_without_a_value_is_named():
    p, _ = problem({"T": (9, 0, 9), "A": (4, 0, 4), "B": (5, 0, 5)}, [("T", ["A", "B"], ALL)])
    # deliberately bad: a term for measure "fte", which no cell has a value for
    bad = pl.DataFrame(
        {"equation": [99], "cell": [0], "measure": ["fte"], "coefficient": [1.0]},
        schema=p.terms.schema,
    )
    broken = Problem(p.cells, p.values, pl.concat([p.terms, bad]))
    with pytest.raises(ValueError, match=r"(?s)terms name \(cell, measure\) without a value.*fte"):
        engine.audit(broken, np.array([False, True, False]))


def test_a_published_term_without_a_value_is_named():
    p, _ = problem({"T": (9, 0, 9), "A": (4, 0, 4), "B": (5, 0, 5)}, [("T", ["A", "B"], ALL)])
    # deliberately bad: B's numerator withheld (null) though B is published and in a sum
    values = p.values.with_columns(
        pl.when((pl.col("cell") == 2) & (pl.col("measure") == "numerator"))
        .then(None)
        .otherwise(pl.col("value"))
        .alias("value")
    )
    broken = Problem(p.cells, values, p.terms)
    with pytest.raises(ValueError, match="a published cell in an equation has no value"):
        engine.audit(broken, np.array([False, True, False]))
    # suppressed, the same null is a variable like any other: no error
    assert engine.audit(broken, np.array([False, True, True])).suppressed == 2


def test_each_term_finds_its_value_row_and_a_term_without_one_gets_minus_one():
    p, _ = problem({"T": (9, 0, 9), "A": (4, 0, 4), "B": (5, 0, 5)}, [("T", ["A", "B"], ALL)])
    # deliberately bad: a term for measure "fte", which no cell has a value for
    bad = pl.DataFrame(
        {"equation": [99], "cell": [0], "measure": ["fte"], "coefficient": [1.0]},
        schema=p.terms.schema,
    )
    broken = Problem(p.cells, p.values, pl.concat([p.terms, bad]))
    rows = broken.term_rows
    # values are in (cell, measure) order with the measures of ALL as `problem` writes them:
    # row = cell · 3 + the measure's place in ALL (base_n 0, numerator 1, denominator 2)
    place = {m: i for i, m in enumerate(ALL)}
    want = [c * 3 + place[m] for c, m in p.terms.select("cell", "measure").iter_rows()]
    assert rows.tolist() == [*want, -1]
    assert rows is broken.term_rows  # found once per problem
    # each term's value as the left join gives it: the "fte" term's is null; the rows unchanged
    values = engine._by_term_row(broken, broken.values.get_column("value"))
    want_values = p.values.get_column("value").gather(want).to_list()
    assert values.to_list() == [*want_values, None]
    assert rows.tolist() == [*want, -1]
    with pytest.raises(ValueError, match="read-only"):
        rows[0] = 5  # shared by every user of the problem: nobody may change it


def test_the_parts_of_a_problem_are_found_once_and_cannot_be_changed():
    p, _ = problem(
        {"T": (9, 0, 9), "A": (4, 0, 4), "B": (5, 0, 5), "X": (3, 0, 3)}, [("T", ["A", "B"], ALL)]
    )
    labels = engine.parts(p)
    assert labels.tolist() == [0, 0, 0, 1]  # T, A, B linked; X in no sum: a part of its own
    assert engine.parts(p) is labels
    with pytest.raises(ValueError, match="read-only"):
        labels[3] = 0


# --------------------------------------------------------------------------------------------
# Property tests: arrays and frames agree
# --------------------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(hierarchies(), st.data(), st.integers(1, 9), st.integers(-50, 50))
def test_the_system_is_the_one_the_frames_give(providers, data, step, offset):
    p, _ = hierarchy_problem(providers)
    p = renumbered(p, step, offset)
    hidden = np.array(data.draw(st.lists(st.booleans(), min_size=p.n_cells, max_size=p.n_cells)))
    variables, identity, hidden_rows, a, b = engine._system(p, hidden)
    want_variables, want_a, want_b = frame_system(p, hidden)
    assert variables.equals(want_variables)
    assert np.array_equal(a.toarray(), want_a)
    assert np.array_equal(b, want_b)  # sums of whole numbers: exact either way
    codes = p.measure_codes
    assert identity.tolist() == [c * len(codes) + codes[m] for c, m in variables.rows()]
    assert hidden_rows.sum() == variables.height


@settings(max_examples=60, deadline=None)
@given(hierarchies(), st.data(), st.integers(1, 9), st.integers(-50, 50))
def test_step_one_suppresses_what_the_frames_suppress(providers, data, step, offset):
    p, _ = hierarchy_problem(providers)
    p = renumbered(p, step, offset)
    status = np.where(engine.primary_cells(p), PRIMARY, NONE).astype(np.int8)
    # some more cells suppressed at random, as after a round of `protect`
    extra = np.array(data.draw(st.lists(st.booleans(), min_size=p.n_cells, max_size=p.n_cells)))
    status[extra & (status == NONE)] = SECONDARY
    candidate = p.cells.get_column("may_be_secondary").to_numpy()
    terms = engine._term_frame(p, p.base_n(), candidate)
    by_arrays, by_frames = status.copy(), status.copy()
    engine._EquationsHold(terms, p.n_cells, engine.CELL_MINIMUM).run(by_arrays)  # one run
    frame_step_one(terms, by_frames, engine.CELL_MINIMUM)
    assert np.array_equal(by_arrays, by_frames)


@settings(max_examples=60, deadline=None)
@given(hierarchies(), st.data(), st.integers(1, 9), st.integers(-50, 50))
def test_sums_hold_and_zero_links_as_the_frames_give(providers, data, step, offset):
    # some published values off by one (the sums through them no longer hold), some withheld
    # (NULL, as in a published table), some hidden cells
    p = drawn_problem(providers, data, step, offset, nudge=True)
    hidden = flags(data, p.n_cells)
    assert engine.published_sums_hold(p, hidden) == frame_sums_hold(p, hidden)
    links = p.zero_links
    want_links, want_parts = frame_zero_links(p)
    found = zip(links.part.tolist(), links.total.tolist(), links.equation.tolist(), strict=True)
    assert set(found) == want_links
    assert links.n_parts.tolist() == want_parts


@settings(max_examples=60, deadline=None)
@given(hierarchies(), st.data(), st.integers(1, 9), st.integers(-50, 50))
def test_the_term_frame_is_the_one_the_joins_give(providers, data, step, offset):
    # some values withheld (NULL): the term frame takes 0 for them
    p = drawn_problem(providers, data, step, offset, nudge=False)
    candidate = flags(data, p.n_cells)
    base_n = p.base_n()
    got = engine._term_frame(p, base_n, candidate)
    want = frame_term_frame(p, base_n, candidate)
    key = ["equation", "cell", "measure"]
    assert got.columns == want.columns
    assert got.sort(key).equals(want.sort(key))
    # and in the terms' own order
    assert got.select(key).equals(p.terms.select(key))


# --------------------------------------------------------------------------------------------
# `protect`'s rounds: only what a round changed is looked at again (since 2026-12-07)
# --------------------------------------------------------------------------------------------
def growing(data, p: Problem, rounds: int) -> list[np.ndarray]:
    """Suppressed cells for `rounds` rounds, as `protect` makes them: the primary cells first,
    then each round some more at random (a round may add none)."""
    hidden = engine.primary_cells(p).copy()
    out = [hidden.copy()]
    for _ in range(rounds - 1):
        hidden = hidden | flags(data, p.n_cells)
        out.append(hidden.copy())
    return out


@settings(max_examples=60, deadline=None)
@given(hierarchies(), st.data(), st.integers(1, 9), st.integers(-50, 50))
def test_step_one_kept_between_rounds_suppresses_what_a_whole_pass_suppresses(
    providers, data, step, offset
):
    p, _ = hierarchy_problem(providers)
    p = renumbered(p, step, offset)
    candidate = p.cells.get_column("may_be_secondary").to_numpy()
    terms = engine._term_frame(p, p.base_n(), candidate)
    kept = engine._EquationsHold(terms, p.n_cells, engine.CELL_MINIMUM)
    status = np.where(engine.primary_cells(p), PRIMARY, NONE).astype(np.int8)
    by_frames = status.copy()
    for _ in range(3):
        kept.run(status)  # looks only at the equations of cells suppressed since its last run
        frame_step_one(terms, by_frames, engine.CELL_MINIMUM)  # every equation, every pass
        assert np.array_equal(status, by_frames)
        # the audit's picks of a round: some more cells at random, on both
        extra = flags(data, p.n_cells) & (status == NONE)
        status[extra] = by_frames[extra] = SECONDARY


def round_audits(p: Problem) -> engine._RoundAudits:
    return engine._RoundAudits(
        p, engine.CELL_MINIMUM, engine._Witnesses(p.n_cells * len(p.measure_codes))
    )


@settings(max_examples=40, deadline=None)
@given(hierarchies(), st.data(), st.integers(1, 9), st.integers(-50, 50))
def test_round_audits_find_the_ranges_of_a_whole_audit(providers, data, step, offset):
    """Round after round, with the components no new cell joined kept from the last round,
    `_RoundAudits` reports what an audit of the whole problem reports: the same values, the
    same failures and components, ranges exact where the oracle's are and otherwise within
    them; a round that suppresses nothing new solves nothing."""
    p, _ = hierarchy_problem(providers)
    p = renumbered(p, step, offset)
    rounds = round_audits(p)
    before = None
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(engine.WORKERS_ENV, "1")
        for hidden in growing(data, p, 3):
            kept = rounds.audit(hidden)
            whole = engine.audit(p, hidden)
            assert kept.ranges.select(KEY).equals(whole.ranges.select(KEY))
            assert kept.failures.select(*KEY, "rule").equals(whole.failures.select(*KEY, "rule"))
            assert (kept.components, kept.variables, kept.suppressed) == (
                whole.components,
                whole.variables,
                whole.suppressed,
            )
            oracle = exact_ranges(p, hidden)
            for cell, measure, low, high, exact in kept.ranges.select(
                *KEY, "low", "high", "exact"
            ).iter_rows():
                least, most = oracle[(cell, measure)]
                tolerance = 1e-6 * max(1.0, abs(least))
                if exact:
                    assert low == pytest.approx(least, abs=1e-6)
                    assert high == pytest.approx(most, abs=1e-6) or high == most == np.inf
                else:  # a span the witnesses showed: within the exact range
                    assert least - tolerance <= low <= high <= most + tolerance
            if before is not None and (hidden == before[0]).all():
                assert kept.linear_programs == 0
                assert kept.ranges.equals(before[1].ranges)
            before = (hidden, kept)


def test_a_round_builds_only_the_components_of_its_new_cells():
    # two sums apart: T1 = A + B + C (30 = 10 + 12 + 8) and T2 = D + E + F (33 = 11 + 9 + 13),
    # each for base_n, numerator and denominator: they share no cell, so their suppressed
    # values never meet in a component
    p, names = problem(
        {
            "T1": (30, 0, 30),
            "A": (10, 0, 10),
            "B": (12, 0, 12),
            "C": (8, 0, 8),
            "T2": (33, 0, 33),
            "D": (11, 0, 11),
            "E": (9, 0, 9),
            "F": (13, 0, 13),
        },
        [("T1", ["A", "B", "C"], ALL), ("T2", ["D", "E", "F"], ALL)],
    )
    built = []
    solve = engine._solve_system

    def recorded(a, *args, **kwargs):
        built.append(a.shape)  # (equations, suppressed values) of the system built
        return solve(a, *args, **kwargs)

    def hide(*hidden_names):
        return np.array([n in hidden_names for n in names])

    rounds = round_audits(p)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine, "_solve_system", recorded)
        first = rounds.audit(hide("A", "B"))
        second = rounds.audit(hide("A", "B", "D", "E"))
        third = rounds.audit(hide("A", "B", "C", "D", "E"))
        fourth = rounds.audit(hide("A", "B", "C", "D", "E"))
    assert built == [
        (3, 6),  # A, B: 3 measures each, in T1's 3 sums (one per measure)
        (3, 6),  # D, E only: A and B's components are kept
        (3, 9),  # C joins A and B in T1's sums: that component anew, D and E's kept
        (0, 0),  # nothing new: nothing built
    ]
    # each measure's sum is a component: 3, then 6; C joins the 3 of T1, so still 6
    assert (first.components, second.components, third.components) == (3, 6, 6)
    assert fourth.ranges.equals(third.ranges)
    # base_n of A after round 1: A + B = 30 − 8 = 22, so A in [0, 22]; after round 3, with
    # C hidden too, A + B + C = 30: A in [0, 30]
    base_n_of_a = pl.col("cell").eq(names.index("A")) & pl.col("measure").eq(BASE_N)
    assert first.ranges.filter(base_n_of_a).select("low", "high").row(0) == (0.0, 22.0)
    assert third.ranges.filter(base_n_of_a).select("low", "high").row(0) == (0.0, 30.0)


def test_round_audits_refuse_a_round_that_publishes_a_suppressed_cell():
    p, _ = problem({"T": (9, 0, 9), "A": (4, 0, 4), "B": (5, 0, 5)}, [("T", ["A", "B"], ALL)])
    rounds = round_audits(p)
    rounds.audit(np.array([False, True, True]))
    with pytest.raises(ValueError, match="a suppressed cell of an earlier round is published"):
        rounds.audit(np.array([False, True, False]))  # deliberately bad: B published again
