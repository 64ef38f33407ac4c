"""The suppression pattern kept between builds (`disclosure.memo`): a part of the problem (cells
linked by sums) gets the same pattern alone or beside others, so a part whose key is in the memo
is taken from there, and the whole pattern is the one `protect` finds without a memo."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from disclosure import engine
from disclosure.engine import (
    BASE_N,
    NONE,
    PRIMARY,
    SECONDARY,
    AuditResult,
    Pattern,
    Problem,
    audit,
    protect,
    split_parts,
    subproblem,
)
from disclosure.memo import (
    _check,
    audit_keeping,
    part_keys,
    parts,
    pattern_audit_memo,
    protect_keeping,
    read_memo,
    write_memo,
)
from tests.test_disclosure import (
    ALL,
    hierarchies,
    hierarchy_problem,
    land_quarters,
    problem,
    unprotectable_pair,
)


def side_by_side(*problems: Problem) -> Problem:
    """One problem holding the given ones as separate parts, in that order."""
    cells, values, terms = [], [], []
    offset = equations = 0
    for p in problems:
        cells.append(p.cells.with_columns(pl.col("cell") + offset))
        values.append(p.values.with_columns(pl.col("cell") + offset))
        terms.append(p.terms.with_columns(pl.col("cell") + offset, pl.col("equation") + equations))
        offset += p.n_cells
        equations += int(p.terms.get_column("equation").max()) + 1
    return Problem(pl.concat(cells), pl.concat(values), pl.concat(terms))


def siblings(small: int, other: int) -> Problem:
    """K = G1 + G2 + G3 with base_n (3, `small`, `other`); numerators 1, 1, 5."""
    total = 3 + small + other
    return problem(
        {"K": (total, 7, total), "G1": (3, 1, 3), "G2": (small, 1, small), "G3": (other, 5, other)},
        [("K", ["G1", "G2", "G3"], ALL)],
    )[0]


def test_parts_are_the_tables_linked_by_sums():
    # cells 0–3 are one table (K and its three parts), 4–7 another: two parts, numbered in the
    # order of their first cell
    both = side_by_side(siblings(4, 50), siblings(40, 50))
    assert parts(both).tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    # and with the second table first, its cells are part 0
    assert parts(side_by_side(siblings(40, 50), siblings(4, 50))).tolist()[0] == 0


def test_each_part_becomes_a_problem_of_its_own():
    # siblings(4, 50) (cells 0–3, sums 0–2) and the LAND quarters (cells 4–12, sums 3–16)
    both = side_by_side(siblings(4, 50), land_quarters()[0])
    pieces = split_parts(both, parts(both))
    assert [cells.tolist() for _, cells in pieces] == [[0, 1, 2, 3], list(range(4, 13))]
    first, second = (piece for piece, _ in pieces)
    # each numbered from 0, its sums too: the same problems as the tables built alone
    for piece, alone in ((first, siblings(4, 50)), (second, land_quarters()[0])):
        for frame in ("cells", "values", "terms"):
            assert getattr(piece, frame).equals(getattr(alone, frame)), frame
    # the subproblem of a set of parts: the same pieces, together
    together, cells = subproblem(both, np.array([False] * 4 + [True] * 9))
    assert cells.tolist() == list(range(4, 13))
    assert together.terms.equals(second.terms)


def both_ways(splitter: str, run):
    """`run()` part by part on two processes (through `engine.<splitter>`), and whole in one;
    and how many parts each call that went part by part had."""
    calls: list[int] = []
    by_parts = getattr(engine, splitter)

    def counted(problem, labels, *args):
        calls.append(int(labels.max()) + 1)
        return by_parts(problem, labels, *args)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine, "PARTS_PARALLEL_MIN_CELLS", 0)
        mp.setattr(engine, splitter, counted)
        mp.setenv(engine.WORKERS_ENV, "2")
        parted = run()
        mp.setenv(engine.WORKERS_ENV, "1")
        whole = run()
    return parted, whole, calls


def protect_both_ways(p: Problem) -> tuple[Pattern, Pattern, list[int]]:
    return both_ways("_protect_parts", lambda: protect(p))


def audit_both_ways(p: Problem, hidden: np.ndarray) -> tuple[AuditResult, AuditResult, list[int]]:
    return both_ways("_audit_parts", lambda: audit(p, hidden))


def assert_same_audit(parted: AuditResult, whole: AuditResult) -> None:
    assert parted.ranges.equals(whole.ranges)
    assert parted.failures.equals(whole.failures)
    for figure in ("cells", "equations", "suppressed", "variables", "components"):
        assert getattr(parted, figure) == getattr(whole, figure), figure


def assert_same_pattern(parted: Pattern, whole: Pattern) -> None:
    assert (parted.status == whole.status).all()
    assert parted.rounds == whole.rounds
    assert parted.last_resort.tolist() == whole.last_resort.tolist()
    assert_same_audit(parted.audit, whole.audit)
    assert parted.unprotectable.equals(whole.unprotectable)


def test_protect_part_by_part_on_two_processes_finds_the_whole_pattern():
    # three tables side by side: the LAND quarters (cells 0–8: LY, LQ1, LQ2, RAY, RA1, RA2, RBY,
    # RB1, RB2), the pair nothing can protect (9–11: L, RB1, RB2) and siblings(40, 50)
    # (12–15: K, G1, G2, G3)
    p = side_by_side(land_quarters()[0], unprotectable_pair()[0], siblings(40, 50))
    parted, whole, calls = protect_both_ways(p)
    assert calls == [3]  # only the run on two processes went part by part, with three parts
    assert_same_pattern(parted, whole)
    # as the tables' own tests found them alone: LQ1, RA1, RB1 primary, RA2, RB2 and LQ2 (the
    # last resort) secondary; RB1 and RB2 of the pair primary; G1 (3) primary, G2 (40) secondary
    lq_table, pair, sibling_table = [0, 1, 2, 0, 1, 2, 0, 1, 2], [0, 1, 1], [0, 1, 2, 0]
    assert parted.status.tolist() == [*lq_table, *pair, *sibling_table]
    assert parted.last_resort.tolist() == [2]  # LQ2
    assert parted.unprotectable.select("cell", "measure").sort("cell").rows() == [
        (10, BASE_N),  # the pair's RB1 and RB2: RB1 + RB2 = 4, each in [0, 4]
        (11, BASE_N),
    ]
    assert parted.rounds == 2  # the LAND quarters took two rounds, the others one
    # the audit of that pattern, part by part: the same ranges; RB1 and RB2 of the pair fail
    parted_audit, whole_audit, calls = audit_both_ways(p, parted.suppressed)
    assert calls == [3]
    assert_same_audit(parted_audit, whole_audit)
    assert parted_audit.linear_programs == whole_audit.linear_programs
    assert parted_audit.failures.filter(pl.col("measure") == BASE_N)["cell"].to_list() == [10, 11]


@settings(max_examples=15, deadline=None)
@given(st.lists(hierarchies(), min_size=2, max_size=3))
def test_protect_part_by_part_is_protect_whole(tables):
    # the claim `protect` rests on when it splits a problem: every part comes out the same
    p = side_by_side(*(hierarchy_problem(t)[0] for t in tables))
    parted, whole, calls = protect_both_ways(p)
    assert calls == [int(parts(p).max()) + 1]
    assert_same_pattern(parted, whole)
    # and an audit of a pattern that is not protect's (the primary cells alone), part by part
    parted_audit, whole_audit, calls = audit_both_ways(p, engine.primary_cells(p))
    assert calls == [int(parts(p).max()) + 1]
    assert_same_audit(parted_audit, whole_audit)


def test_a_table_has_the_same_key_wherever_it_sits_and_a_new_one_when_a_value_changes():
    a, b = siblings(4, 50), siblings(40, 50)
    ab = side_by_side(a, b)
    ba = side_by_side(b, a)
    key_ab = part_keys(ab, parts(ab))
    key_ba = part_keys(ba, parts(ba))
    assert key_ab == key_ba[::-1]  # the same two tables, the same two keys, in their order
    assert len(set(key_ab)) == 2
    # one value of a changed (G3 51 instead of 50, so K 58): a's key changes, b's does not
    changed = side_by_side(siblings(4, 51), b)
    key_changed = part_keys(changed, parts(changed))
    assert key_changed[0] != key_ab[0]
    assert key_changed[1] == key_ab[1]

    # a float added in another order (the last bits of a sum of case-months): the same key; a
    # change in the 9th significant digit: another key
    def with_denominator(p: Problem, factor: float) -> Problem:
        scaled = (pl.col("measure") == "denominator") & (pl.col("cell") == 0)
        values = p.values.with_columns(
            pl.when(scaled).then(pl.col("value") * factor).otherwise(pl.col("value"))
        )
        return Problem(p.cells, values, p.terms)

    noisy, changed = with_denominator(ab, 1 + 4e-16), with_denominator(ab, 1 + 1e-9)
    assert noisy.values.get_column("value")[2] != ab.values.get_column("value")[2]  # K's, 57.0…
    assert part_keys(noisy, parts(noisy))[0] == key_ab[0]
    assert part_keys(changed, parts(changed))[0] != key_ab[0]
    # another minimum or no last resort: other patterns, other keys
    assert part_keys(ab, parts(ab), minimum=6) != key_ab
    assert part_keys(ab, parts(ab), last_resort=False) != key_ab


def test_a_kept_table_is_taken_from_the_memo_and_a_changed_one_solved_again():
    first = protect_keeping(side_by_side(siblings(4, 50), siblings(40, 50)), None)
    # table 1: G1 (3) and G2 (4) are primary; together 7 cases ≥ 5, so nothing more
    # table 2: G1 (3) primary, G2 (40) the smallest other part, secondary
    assert first.status.tolist() == [NONE, PRIMARY, PRIMARY, NONE, NONE, PRIMARY, SECONDARY, NONE]
    assert (first.parts, first.parts_kept, first.cells_kept) == (2, 0, 0)
    # the second build: table 1's G2 now has 2 cases (G1 + G2 = 5, still wide enough), table 2
    # unchanged: table 2 is kept (4 cells), table 1 solved again
    again = protect_keeping(side_by_side(siblings(2, 52), siblings(40, 50)), first.memo)
    assert (again.parts_kept, again.cells_kept) == (1, 4)
    assert again.solved is not None and again.solved.audit.cells == 4
    assert again.status.tolist() == [NONE, PRIMARY, PRIMARY, NONE, NONE, PRIMARY, SECONDARY, NONE]
    assert again.memo.get_column("key").to_list()[1] == first.memo.get_column("key").to_list()[1]


def with_status(memo: pl.DataFrame, status: list[bytes], *, recheck: bool) -> pl.DataFrame:
    """`memo` with other status bytes; `recheck`: with their checks re-written too (a memo
    written that way, not damaged on disk)."""
    changed = memo.with_columns(pl.Series("status", status, dtype=pl.Binary))
    if not recheck:
        return changed
    checks = [_check(k, [b]) for k, b in zip(changed["key"], changed["status"], strict=True)]
    return changed.with_columns(pl.Series("check", checks))


def test_a_damaged_memo_entry_is_solved_again():
    p = side_by_side(siblings(4, 50), siblings(40, 50))
    good = protect_keeping(p, None)
    # damaged on disk: table 2's secondary G2 turned to "none", a valid code, but the check of
    # the row no longer holds
    flipped = with_status(good.memo, [good.memo["status"][0], bytes([0, 1, 0, 0])], recheck=False)
    again = protect_keeping(p, flipped)
    assert again.parts_kept == 1  # table 1 only
    assert (again.status == good.status).all()
    # entries whose check holds but which cannot be a pattern of their part
    unfit = with_status(
        good.memo,
        [
            b"\x00\x01",  # table 1: two bytes for four cells
            bytes([0, 7, 2, 0]),  # table 2: 7 is no status
        ],
        recheck=True,
    )
    again = protect_keeping(p, unfit)
    assert again.parts_kept == 0
    assert (again.status == good.status).all()


def test_the_memo_file_round_trip_and_what_is_not_used(tmp_path):
    path = tmp_path / "warehouse" / "disclosure_memo.parquet"
    assert read_memo(None) == (None, "no memo location")
    memo, reason = read_memo(path)
    assert memo is None and "no memo at" in reason
    kept = protect_keeping(side_by_side(siblings(4, 50), siblings(40, 50)), None)
    write_memo(kept.memo, path)
    memo, reason = read_memo(path)
    assert memo is not None and memo.equals(kept.memo) and "2 parts" in reason
    assert not list(path.parent.glob(".*tmp"))  # the temporary file was renamed
    path.write_bytes(b"PAR1 not a parquet file")  # damaged: a full solve, not a failed build
    memo, reason = read_memo(path)
    assert memo is None and "not readable" in reason
    pl.DataFrame({"key": ["x"]}).write_parquet(path)  # another schema
    memo, reason = read_memo(path)
    assert memo is None and "another schema" in reason


# Property tests: random hierarchies side by side
# --------------------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(hierarchies(), hierarchies())
def test_a_part_gets_the_same_pattern_alone_or_beside_another(a, b):
    # the claim `protect_keeping` rests on: each part's pattern is a function of the part
    pa, pb = hierarchy_problem(a)[0], hierarchy_problem(b)[0]
    alone = np.concatenate([protect(pa).status, protect(pb).status])
    together = protect(side_by_side(pa, pb))
    assert (together.status == alone).all()
    assert together.audit.passed


@settings(max_examples=30, deadline=None)
@given(hierarchies(), hierarchies(), hierarchies(), st.booleans())
def test_a_pattern_from_the_memo_is_the_pattern_protect_finds(a, b, changed, swap):
    # build 1: tables a and b; build 2: a replaced by `changed`, b unchanged (and maybe the
    # tables in the other order): the pattern with the memo is protect's without it
    pa, pb, pc = (hierarchy_problem(h)[0] for h in (a, b, changed))
    first = protect_keeping(side_by_side(pa, pb), None)
    # without a memo every part is solved, on the problem itself (`memo._to_solve`)
    assert (first.status == protect(side_by_side(pa, pb)).status).all()
    second_problem = side_by_side(pb, pc) if swap else side_by_side(pc, pb)
    second = protect_keeping(second_problem, first.memo)
    assert (second.status == protect(second_problem).status).all()
    assert second.parts_kept >= 1  # b at least
    assert second.parts == 2


def test_an_empty_problem_has_no_parts():
    # no published table at all (a build before the first delivery): nothing to protect
    empty = Problem(
        pl.DataFrame(
            {"cell": [], "primary_rule": [], "may_be_secondary": []},
            schema={"cell": pl.Int64, "primary_rule": pl.Boolean, "may_be_secondary": pl.Boolean},
        ),
        pl.DataFrame(schema={"cell": pl.Int64, "measure": pl.String, "value": pl.Float64}),
        pl.DataFrame(
            schema={
                "equation": pl.Int64,
                "cell": pl.Int64,
                "measure": pl.String,
                "coefficient": pl.Float64,
            }
        ),
    )
    kept = protect_keeping(empty, None)
    assert (kept.parts, len(kept.status), kept.memo.height) == (0, 0, 0)


# The audit kept between builds (the mart gate's)
# --------------------------------------------------------------------------------------------
def test_the_audit_of_a_kept_table_is_taken_from_the_memo():
    p = side_by_side(siblings(4, 50), siblings(40, 50))
    status = protect(p).status
    first = audit_keeping(p, status > 0)
    # the audit's ranges, in the audit's order: table 1's G1 and G2 share 7 cases (each in
    # [0, 7]), table 2's G1 and G2 share 43 ([0, 43]); numerators share 2, denominators as base_n
    whole = audit(p, status > 0)
    assert first.result.ranges.equals(whole.ranges)
    assert first.result.failures.is_empty()
    assert (first.parts, first.parts_kept) == (2, 0)
    base_n = first.result.ranges.filter(pl.col("measure") == BASE_N)
    assert base_n.get_column("high").to_list() == [7.0, 7.0, 43.0, 43.0]
    # the next build: table 1 changed (G2 2 cases, G3 52), table 2 not: its ranges come from
    # the memo, table 1's are audited again (G1 + G2 = 5: [0, 5] each)
    q = side_by_side(siblings(2, 52), siblings(40, 50))
    q_status = protect(q).status
    again = audit_keeping(q, q_status > 0, memo=first.memo)
    assert again.parts_kept == 1
    assert again.result.ranges.equals(audit(q, q_status > 0).ranges)
    assert again.result.ranges.filter(pl.col("measure") == BASE_N).get_column("high").to_list() == [
        5.0,
        5.0,
        43.0,
        43.0,
    ]
    # another pattern on the same values is another audit: nothing kept
    other = status.copy()
    other[[6]] = 0  # table 2 without its secondary cell: G1 alone in its sum, pinned
    unkept = audit_keeping(p, other > 0, memo=first.memo)
    assert unkept.parts_kept == 1  # table 1 only
    assert not unkept.result.failures.is_empty()
    assert unkept.result.failures.equals(audit(p, other > 0).failures)


def test_a_pattern_key_never_serves_as_an_audit_key():
    p = side_by_side(siblings(4, 50), siblings(40, 50))
    labels = parts(p)
    status = protect(p).status
    assert not set(part_keys(p, labels)) & set(part_keys(p, labels, hidden=status > 0))


@settings(max_examples=30, deadline=None)
@given(hierarchies(), hierarchies(), hierarchies())
def test_an_audit_from_the_memo_is_the_audit(a, b, changed):
    pa, pb, pc = (hierarchy_problem(h)[0] for h in (a, b, changed))
    first_problem, second_problem = side_by_side(pa, pb), side_by_side(pc, pb)
    first = audit_keeping(first_problem, protect(first_problem).status > 0)
    hidden = protect(second_problem).status > 0
    second = audit_keeping(second_problem, hidden, memo=first.memo)
    whole = audit(second_problem, hidden)
    assert second.parts_kept >= 1
    assert second.result.ranges.equals(whole.ranges)
    assert second.result.failures.equals(whole.failures)


def test_a_tampered_pattern_memo_is_caught_by_the_kept_audit():
    # a pattern memo re-written with valid codes and checks (table 2's secondary G2 turned to
    # "none") is taken as it is, but the pattern then differs from the one audited: another
    # audit key, so the gate audits that table anew and finds G1 pinned (alone in its sum)
    p = side_by_side(siblings(4, 50), siblings(40, 50))
    good = protect_keeping(p, None)
    audited = audit_keeping(p, good.suppressed)
    assert audited.result.passed
    tampered = with_status(good.memo, [good.memo["status"][0], bytes([0, 1, 0, 0])], recheck=True)
    taken = protect_keeping(p, tampered)
    assert taken.parts_kept == 2  # valid codes, length and check: the memo cannot tell
    assert taken.status.tolist()[4:] == [NONE, PRIMARY, NONE, NONE]
    gate = audit_keeping(p, taken.suppressed, memo=audited.memo)
    assert gate.parts_kept == 1  # table 1 only
    assert not gate.result.passed
    assert gate.result.failures.get_column("cell").unique().to_list() == [5]  # table 2's G1


def test_a_damaged_audit_memo_entry_is_audited_again():
    # table 2's ranges damaged on disk (every `high` made 1e9, which would pass anything): the
    # row's check no longer holds, so that table is audited again and its true ranges reported
    p = side_by_side(siblings(4, 50), siblings(40, 50))
    hidden = protect(p).status > 0
    first = audit_keeping(p, hidden)
    n_high = len(first.memo["high"][1]) // 8
    damaged = first.memo.with_columns(
        pl.Series("high", [first.memo["high"][0], np.full(n_high, 1e9).tobytes()])
    )
    again = audit_keeping(p, hidden, memo=damaged)
    assert again.parts_kept == 1  # table 1 only
    assert again.result.ranges.equals(audit(p, hidden).ranges)


# The pattern's final audit, taken by the mart gate for the parts protected anew
# --------------------------------------------------------------------------------------------
def as_published(p: Problem, hidden: np.ndarray) -> Problem:
    """`p` as the mart gate reads it from the published tables: suppressed cells' values NULL."""
    values = p.values.with_columns(
        pl.when(pl.col("cell").is_in(np.flatnonzero(hidden).tolist()))
        .then(None)
        .otherwise(pl.col("value"))
        .alias("value")
    )
    return Problem(p.cells, values, p.terms)


def test_an_audit_key_does_not_hold_the_suppressed_values():
    # the audit cannot know them and the published tables hold NULL there: the problem protect
    # solved and the one read from the published tables share their audit keys
    p = side_by_side(siblings(4, 50), siblings(40, 50))
    hidden = protect(p).status > 0
    labels = parts(p)
    keys = part_keys(p, labels, hidden=hidden)
    assert part_keys(as_published(p, hidden), labels, hidden=hidden) == keys
    # a published value changed (table 2's G3 50 → 51, K 93 → 94): only table 2's key changes
    other = side_by_side(siblings(4, 50), siblings(40, 51))
    other_keys = part_keys(as_published(other, hidden), labels, hidden=hidden)
    assert other_keys[0] == keys[0] and other_keys[1] != keys[1]


def test_the_gate_takes_the_ranges_of_the_tables_protected_anew_from_the_pattern_audit():
    p = side_by_side(siblings(4, 50), siblings(40, 50))
    kept = protect_keeping(p, None)
    from_pattern = pattern_audit_memo(p, kept)
    assert from_pattern.height == 2  # both tables were protected anew
    published = as_published(p, kept.suppressed)
    gate = audit_keeping(published, kept.suppressed, from_pattern=from_pattern)
    assert (gate.parts, gate.parts_kept, gate.parts_from_pattern) == (2, 0, 2)
    assert gate.result.linear_programs == 0 and gate.result.components == 0  # nothing solved
    fresh = audit(published, kept.suppressed)
    # the same verdicts and ranges: table 1's G1 and G2 share 7 cases (each in [0, 7]), table
    # 2's G1 and G2 share 43 ([0, 43]); none fails
    assert gate.result.ranges.equals(fresh.ranges)
    assert gate.result.failures.is_empty() and fresh.failures.is_empty()
    base_n = gate.result.ranges.filter(pl.col("measure") == BASE_N)
    assert base_n.get_column("high").to_list() == [7.0, 7.0, 43.0, 43.0]
    # the gate's memo then holds both tables for the next build
    assert gate.memo.get_column("key").to_list() == from_pattern.get_column("key").to_list()


def test_a_table_published_otherwise_than_the_pattern_audited_is_audited_by_the_gate():
    p = side_by_side(siblings(4, 50), siblings(40, 50))
    kept = protect_keeping(p, None)
    from_pattern = pattern_audit_memo(p, kept)
    # table 2 published without its secondary cell (cell 6: G2, 40 cases): G1 (3) is then
    # alone under a published total and pinned — another audit key, so the gate solves it
    shown = kept.suppressed.copy()
    shown[6] = False
    gate = audit_keeping(as_published(p, shown), shown, from_pattern=from_pattern)
    assert (gate.parts_kept, gate.parts_from_pattern) == (0, 1)  # table 1 only
    assert gate.result.failures.get_column("cell").unique().to_list() == [5]  # table 2's G1
    assert gate.result.failures.equals(audit(p, shown).failures)
    # a table whose published value differs from the one protected (table 1's G3 51, not 50,
    # K 58): its key differs too, so it is audited anew (and passes: G1 + G2 still share 7)
    changed = side_by_side(siblings(4, 51), siblings(40, 50))
    again = audit_keeping(as_published(changed, kept.suppressed), kept.suppressed,
                          from_pattern=from_pattern)  # fmt: skip
    assert (again.parts_kept, again.parts_from_pattern) == (0, 1)  # table 2 only
    assert again.result.passed


def test_tables_taken_from_the_pattern_memo_get_no_pattern_audit():
    # no audit ran on them in this build: the gate's own memo has them, or it audits them
    p = side_by_side(siblings(4, 50), siblings(40, 50))
    first = protect_keeping(p, None)
    again = protect_keeping(p, first.memo)
    assert again.parts_kept == 2 and again.solved is None
    assert pattern_audit_memo(p, again).is_empty()
    # one table changed: only it is protected anew, and only it gets a pattern audit
    changed = side_by_side(siblings(2, 52), siblings(40, 50))
    third = protect_keeping(changed, first.memo)
    rows = pattern_audit_memo(changed, third)
    assert rows.get_column("key").to_list() == [
        part_keys(changed, parts(changed), hidden=third.suppressed)[0]
    ]


@settings(max_examples=30, deadline=None)
@given(hierarchies(), hierarchies(), hierarchies())
def test_the_pattern_audit_gives_the_gate_the_verdicts_of_its_own_audit(a, b, c):
    # protect's final audit (its cache and witnesses of earlier rounds) against a fresh audit
    # of the published tables: the same failures, the same exact ranges, and a span shown by
    # witnesses never wider than the exact range
    p = side_by_side(*(hierarchy_problem(h)[0] for h in (a, b, c)))
    kept = protect_keeping(p, None)
    published = as_published(p, kept.suppressed)
    gate = audit_keeping(published, kept.suppressed, from_pattern=pattern_audit_memo(p, kept))
    assert gate.parts_from_pattern == gate.parts == int(parts(p).max()) + 1
    fresh = audit(published, kept.suppressed)
    assert gate.result.failures.select("cell", "measure", "rule").equals(
        fresh.failures.select("cell", "measure", "rule")
    )
    both = gate.result.ranges.join(fresh.ranges, on=["cell", "measure"], suffix="_fresh")
    assert both.height == fresh.ranges.height
    exact = both.filter(pl.col("exact") & pl.col("exact_fresh"))
    assert ((exact["low"] - exact["low_fresh"]).abs() <= 1e-7).all()
    assert ((exact["high"] - exact["high_fresh"]).abs() <= 1e-7).all()
    # a fresh exact range bounds what the pattern's witnesses showed
    bounded = both.filter(pl.col("exact_fresh"))
    assert (bounded["low"] >= bounded["low_fresh"] - 1e-7).all()
    assert (bounded["high"] <= bounded["high_fresh"] + 1e-7).all()
