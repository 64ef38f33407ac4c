"""The suppression pattern and its audit kept between builds: a part that did not change is not
protected, nor audited, again.

**Why this is exact.** `engine.protect` decides every cell from its own *part* of the problem:
the cells linked to it by sums, directly or through other cells (a connected component of the
graph cells ↔ equations; in the warehouse one block of one table for one year: its units, its
quarters and, for topics, its topic groups). Every step of `protect` looks only along
equations — the greedy step per equation, the audit per component of suppressed values (inside
a part), the candidates and the last-resort LAND rows through the failing value's equations —
so a part's pattern is a function of that part alone: its cells in their order, their flags,
their values and their sums. Solved on its own, or beside any other parts, it comes out the
same (`tests/test_disclosure_memo.py` checks this on random tables).

**The memo** holds, for each part of the last build, a SHA-256 key of everything the part's
pattern depends on (see `part_keys`: cell flags, values, sums in local numbering, the minimum,
the last-resort switch, this engine's source and the solver's version) and the part's pattern
(one status byte per cell). `protect_keeping` takes the pattern of every part whose key it
finds, and runs `protect` once on the parts it does not find. A delivery that changes one
provider's values changes the parts its values reach (its tables, up to the LAND totals, for the
periods it touches); every other part is taken as it was.

**The audit's memo** (`audit_keeping`, the mart gate's): the same parts, keyed with their
suppressed cells as well, hold the ranges of their suppressed values. A part's ranges depend on
that part alone too (each component of suppressed values lies inside one part), so a part
published with the same values, sums and suppressed cells as at its last audit takes that
audit's ranges; every other part is audited. A pattern that differs from the one audited (a
re-solved part, or a damaged pattern memo) has another key, so it is audited.

The memos hold no ids and no values, but their keys are digests of unsuppressed counts: they are
as confidential as the build database they sit beside, and nothing publishes or exports them;
whoever may write them may write the build database too. A memo that cannot be read, an entry
whose check does not hold (damaged on disk), or one whose length or codes do not fit, is not
used (the part is solved or audited again).
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from core.digests import code_digest, frame_digest
from disclosure import engine
from disclosure.engine import (
    CELL_MINIMUM,
    NONE,
    PRIMARY,
    SECONDARY,
    AuditResult,
    Pattern,
    Problem,
    Started,
    audit,
    parts,
    protect_started,
    subproblem,
)

__all__ = [
    "AUDIT_MEMO_SCHEMA",
    "MEMO_SCHEMA",
    "YEAR_MEMO_SCHEMA",
    "KeptAudit",
    "KeptPattern",
    "PatternAudits",
    "YearEntry",
    "audit_keeping",
    "part_keys",
    "parts",
    "pattern_audit_memo",
    "pattern_audits",
    "protect_keeping",
    "protect_keeping_started",
    "published_view",
    "read_memo",
    "write_memo",
    "year_entries",
    "year_key",
    "year_memo",
]

MEMO_SCHEMA = {"key": pl.String, "status": pl.Binary, "check": pl.String}
"""One row per part: `key` (hex SHA-256, `part_keys`), `status` (one byte per cell of the part,
in cell order: 0 none, 1 primary, 2 secondary), `check` (`_check` of the row: an entry damaged
on disk is not used)."""


def _check(key: str, payload: Sequence[bytes]) -> str:
    """SHA-256 over a memo row's key and its byte columns, each with its length."""
    digest = hashlib.sha256(key.encode())
    for data in payload:
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def _memo_frame(keys: list[str], payload: dict[str, list[bytes]], schema: dict) -> pl.DataFrame:
    """A memo of `schema`: the keys, their byte columns and each row's check."""
    checks = [_check(k, [payload[c][i] for c in payload]) for i, k in enumerate(keys)]
    return pl.DataFrame({"key": keys, **payload, "check": checks}, schema=schema)


def _entries(memo: pl.DataFrame | None) -> dict[str, tuple[bytes, ...]]:
    """key → byte columns of every memo row whose check holds (a loop over parts, not rows)."""
    if memo is None:
        return {}
    entries = {}
    for key, *payload, check in memo.iter_rows():
        if _check(key, payload) == check:
            entries[key] = tuple(payload)
    return entries


def _code_version() -> bytes:
    """What else a pattern depends on: the engine's and this module's source, and the versions of
    the solver and of the libraries that compute with the values. A change to any of them
    invalidates every kept pattern."""
    return code_digest(
        (Path(engine.__file__), Path(__file__)), ("highspy", "numpy", "polars", "scipy")
    )


_CODE_VERSION = _code_version()
SIGNIFICANT_DIGITS = 12
"""Values enter a key to this many significant digits: the precision at which two builds of
the same deliveries agree. DuckDB adds case-months (the CM07 and CM10 denominators) in an order
that varies between runs, so their last bits do too (measured on `tiny`: one of two re-builds
without a new delivery changed 7 of its 234 keys when keyed on every bit)."""


def _significant(value: np.ndarray) -> tuple[pl.Series, pl.Series]:
    """`value` as (digits, exponent): value ≈ digits · 10^(exponent − SIGNIFICANT_DIGITS + 1),
    digits rounded to a whole number (NaN, a value not given, stays NaN)."""
    finite = np.isfinite(value) & (value != 0)
    exponent = np.zeros(len(value), dtype=np.int64)
    exponent[finite] = np.floor(np.log10(np.abs(value[finite]))).astype(np.int64)
    digits = np.round(value * 10.0 ** (SIGNIFICANT_DIGITS - 1 - exponent))
    return pl.Series("digits", digits), pl.Series("exponent", exponent)


def part_keys(
    problem: Problem,
    labels: np.ndarray,
    minimum: int = CELL_MINIMUM,
    *,
    last_resort: bool = True,
    hidden: np.ndarray | None = None,
) -> list[str]:
    """The key of each part (in part order): SHA-256 over everything its pattern depends on, in
    the part's own numbering (cells in order from 0, sums in order from 0), so the same table
    has the same key whatever else the problem holds; values to `SIGNIFICANT_DIGITS`.

    With `hidden` (a flag per cell: suppressed), the key of the part's audit instead: everything
    its ranges depend on, the suppressed cells among it (a key of another kind, never equal to a
    pattern's), and their values left out (an audit does not know them, and the published tables
    hold NULL there): so the problem `protect` solved and the one the mart gate reads from the
    published tables have the same audit key when they publish the same."""
    n_parts = int(labels.max()) + 1 if len(labels) else 0
    order = np.argsort(labels, kind="stable")
    start = np.searchsorted(labels[order], np.arange(n_parts + 1))
    local = np.empty(problem.n_cells, dtype=np.int64)
    local[order] = np.arange(problem.n_cells) - start[labels[order]]
    measures = sorted(problem.values.get_column("measure").unique().to_list())
    codes = {m: i for i, m in enumerate(measures)}
    purpose = "protect" if hidden is None else "audit"
    header = hashlib.sha256(
        _CODE_VERSION
        + f"|{purpose}|minimum={minimum}|last_resort={last_resort or hidden is not None}"
        f"|measures={measures}|".encode()
    )

    flags = problem.cells.select(
        pl.col("primary_rule").fill_null(False).cast(pl.Int8),
        pl.col("may_be_secondary").fill_null(False).cast(pl.Int8),
    ).to_numpy()
    if hidden is not None:
        flags = np.column_stack([flags, np.asarray(hidden, dtype=np.int8)])
    cell_rows = np.ascontiguousarray(flags[order], dtype=np.int8)

    def by_part(frame: pl.DataFrame, columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The frame's rows as bytes records, sorted by part, and where each part starts."""
        frame = frame.sort(["part", *columns], maintain_order=True)
        record = np.rec.fromarrays([frame.get_column(c).to_numpy() for c in columns], names=columns)
        part = frame.get_column("part").to_numpy()
        return record, np.searchsorted(part, np.arange(n_parts + 1))

    value_cell = problem.values.get_column("cell").to_numpy()
    value = problem.values.get_column("value").cast(pl.Float64)
    if hidden is not None:  # what the audit cannot know: the published tables hold NULL there
        value = value.scatter(np.flatnonzero(np.asarray(hidden, dtype=bool)[value_cell]), None)
    values = problem.values.select(
        pl.Series("part", labels[value_cell]),
        pl.Series("local", local[value_cell]),
        pl.col("measure").replace_strict(codes, return_dtype=pl.Int8),
        *_significant(value.to_numpy()),
    )
    value_rows, value_start = by_part(values, ["local", "measure", "digits", "exponent"])
    term_cell = problem.terms.get_column("cell").to_numpy()
    terms = problem.terms.select(
        pl.Series("part", labels[term_cell]),
        "equation",
        pl.Series("local", local[term_cell]),
        pl.col("measure").replace_strict(codes, return_dtype=pl.Int8),
        pl.col("coefficient").cast(pl.Float64),
    ).with_columns((pl.col("equation").rank("dense").over("part") - 1).cast(pl.Int64))
    term_rows, term_start = by_part(terms, ["equation", "local", "measure", "coefficient"])

    keys = []
    for p in range(n_parts):
        digest = header.copy()
        digest.update(cell_rows[start[p] : start[p + 1]].tobytes())
        digest.update(b"|values|")
        digest.update(value_rows[value_start[p] : value_start[p + 1]].tobytes())
        digest.update(b"|sums|")
        digest.update(term_rows[term_start[p] : term_start[p + 1]].tobytes())
        keys.append(digest.hexdigest())
    return keys


def _to_solve(problem: Problem, todo: np.ndarray) -> tuple[Problem, np.ndarray]:
    """The subproblem of the cells in `todo` and their numbers; the problem itself when that is
    every cell (a first build, or every table changed): a renumbered copy of all of it was the
    largest allocation of the mart gate's audit (measured on `bw`: the audit's peak 2.58 ->
    2.28 GiB with it left out, the same ranges)."""
    if todo.all():
        return problem, np.arange(problem.n_cells)
    return subproblem(problem, todo)


@dataclass(frozen=True)
class KeptPattern:
    """The pattern of a whole problem: `status` per cell, `memo` (the memo of this problem: one
    row per part, `MEMO_SCHEMA`), how many parts and cells were taken from the memo, and
    `protect`'s result on the parts solved anew (None when every part was kept), with the
    numbers of their cells in the problem (`solved_cells`: `solved`'s cell i is cell
    `solved_cells[i]`)."""

    status: np.ndarray
    memo: pl.DataFrame
    parts: int
    parts_kept: int
    cells_kept: int
    solved: Pattern | None
    seconds: float
    solved_cells: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def suppressed(self) -> np.ndarray:
        return self.status > NONE

    def suppression(self) -> pl.Series:
        """'primary' / 'secondary' / null per cell."""
        return pl.Series("suppression", self.status).replace_strict(
            {NONE: None, **engine.SUPPRESSION_NAMES}, return_dtype=pl.String
        )

    def figures(self) -> dict[str, float | int | None]:
        solved = {} if self.solved is None else self.solved.figures()
        return {
            "cells": len(self.status),
            "parts": self.parts,
            "parts_kept": self.parts_kept,
            "cells_kept": self.cells_kept,
            "suppressed_primary": int((self.status == PRIMARY).sum()),
            "suppressed_secondary": int((self.status == SECONDARY).sum()),
            "solved_anew": {k: v for k, v in solved.items() if k != "cells"} or None,
            "seconds": round(self.seconds, 3),
        }


def protect_keeping(
    problem: Problem,
    memo: pl.DataFrame | None,
    minimum: int = CELL_MINIMUM,
    *,
    last_resort: bool = True,
) -> KeptPattern:
    """`engine.protect`'s pattern of `problem`, taking each part whose key is in `memo` (a frame
    of `MEMO_SCHEMA`, or None) from there and protecting the other parts together."""
    return protect_keeping_started(problem, memo, minimum, last_resort=last_resort).result()


def protect_keeping_started(
    problem: Problem,
    memo: pl.DataFrame | None,
    minimum: int = CELL_MINIMUM,
    *,
    last_resort: bool = True,
) -> Started[KeptPattern]:
    """`protect_keeping`, begun: the parts not in `memo` are handed to `engine.protect_started`
    (on the workers, the caller free meanwhile); `result()` puts the pattern together,
    `cancel()` withdraws the parts not begun."""
    started = time.perf_counter()
    labels = parts(problem)
    keys = part_keys(problem, labels, minimum, last_resort=last_resort)
    n_parts = len(keys)
    order = np.argsort(labels, kind="stable")
    start = np.searchsorted(labels[order], np.arange(n_parts + 1))
    sizes = np.diff(start)

    status = np.zeros(problem.n_cells, dtype=np.int8)
    kept = np.zeros(n_parts, dtype=bool)
    known = _entries(memo)
    if known:
        for p in np.flatnonzero([k in known for k in keys]):  # a loop over tables, not rows
            stored = np.frombuffer(known[keys[p]][0], dtype=np.int8)
            if len(stored) != sizes[p] or not np.isin(stored, (NONE, PRIMARY, SECONDARY)).all():
                continue  # not this part's pattern (a damaged memo): solved again
            status[order[start[p] : start[p + 1]]] = stored
            kept[p] = True

    solving = None
    cells = np.zeros(0, dtype=np.int64)
    todo = ~kept[labels]
    if todo.any():
        sub, cells = _to_solve(problem, todo)
        solving = protect_started(sub, minimum, last_resort=last_resort)

    def finish() -> KeptPattern:
        solved = None if solving is None else solving.result()
        if solved is not None:
            status[cells] = solved.status
        memo_out = _memo_frame(
            keys,
            {"status": [status[order[start[p] : start[p + 1]]].tobytes() for p in range(n_parts)]},
            MEMO_SCHEMA,
        )
        return KeptPattern(
            status=status,
            memo=memo_out,
            parts=n_parts,
            parts_kept=int(kept.sum()),
            cells_kept=int(sizes[kept].sum()),
            solved=solved,
            seconds=time.perf_counter() - started,
            solved_cells=cells,
        )

    return Started(finish, () if solving is None else solving.futures)


AUDIT_MEMO_SCHEMA = {
    "key": pl.String,
    "low": pl.Binary,
    "high": pl.Binary,
    "exact": pl.Binary,
    "check": pl.String,
}
"""One row per part: `key` (`part_keys` with the suppressed cells), the ranges of the part's
suppressed values in (cell, measure) order — `low`, `high` (float64 each), `exact` (one byte) —
and `check` (as in `MEMO_SCHEMA`)."""


@dataclass(frozen=True)
class KeptAudit:
    """`engine.audit`'s result on a whole problem (`result`; its `components` and
    `linear_programs` count the parts audited anew), this audit's memo (`AUDIT_MEMO_SCHEMA`), and
    how many parts the memo of the last audit gave (`parts_kept`) and how many the final audits
    of this build's `protect` (`parts_from_pattern`)."""

    result: AuditResult
    memo: pl.DataFrame
    parts: int
    parts_kept: int
    parts_from_pattern: int = 0


@dataclass(frozen=True)
class _AuditLayout:
    """The suppressed values of a problem as the audit memo stores them: `variables` (cell,
    measure, var: the audit's order, that of `problem.values`), and per part the positions of
    its variables in (cell, measure) order (`slices`)."""

    variables: pl.DataFrame
    slices: list[np.ndarray]


def _audit_layout(problem: Problem, labels: np.ndarray, hidden: np.ndarray) -> _AuditLayout:
    value_cell = problem.values.get_column("cell").to_numpy()
    variables = (
        problem.values.select("cell", "measure")
        .with_columns(pl.Series("part", labels[value_cell]))
        .filter(pl.Series(hidden[value_cell]))
        .with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("var"))
    )
    canonical = variables.sort("part", "cell", "measure")
    var_order = canonical.get_column("var").to_numpy()
    n_parts = int(labels.max()) + 1 if len(labels) else 0
    var_start = np.searchsorted(canonical.get_column("part").to_numpy(), np.arange(n_parts + 1))
    slices = [var_order[var_start[p] : var_start[p + 1]] for p in range(n_parts)]
    return _AuditLayout(variables.drop("part"), slices)


def _audit_memo(
    keys: list[str],
    slices: list[np.ndarray],
    ranges: tuple[np.ndarray, np.ndarray, np.ndarray],
    which: np.ndarray,
) -> pl.DataFrame:
    """The audit memo rows (`AUDIT_MEMO_SCHEMA`) of the parts `which` (numbers), each part's
    ranges (low, high, exact over the audit's variables) in its (cell, measure) order."""
    low, high, exact = ranges
    chosen = [slices[p] for p in which]
    return _memo_frame(
        [keys[p] for p in which],
        {
            "low": [low[i].tobytes() for i in chosen],
            "high": [high[i].tobytes() for i in chosen],
            "exact": [exact[i].astype(np.uint8).tobytes() for i in chosen],
        },
        AUDIT_MEMO_SCHEMA,
    )


def published_view(problem: Problem, hidden: np.ndarray) -> Problem:
    """`problem` as the mart gate sets it up from the published tables
    (`disclosure.tables.numbered_problem(..., published=True)` of the published cells): the
    suppressed cells' values not known (NULL, as the published tables hold them), the cells and
    the sums the same. What is found from the sums once (`Problem.part_labels`, `term_rows`,
    `measure_codes`) is the problem's, so it is handed on, not found again."""
    cells = problem.values.get_column("cell").to_numpy()
    known = pl.Series(~np.asarray(hidden, dtype=bool)[cells])
    view = Problem(
        cells=problem.cells,
        values=problem.values.with_columns(pl.when(known).then(pl.col("value")).alias("value")),
        terms=problem.terms,
    )
    for name in ("part_labels", "term_rows", "measure_codes"):  # cached properties
        if name in problem.__dict__:
            view.__dict__[name] = problem.__dict__[name]
    return view


@dataclass(frozen=True)
class PatternAudits:
    """What a pattern's final audit gives the mart gate (`pattern_audits`): `memo`, the audit
    memo rows of the parts it solved anew (`AUDIT_MEMO_SCHEMA`), and `whole`, the audit of the
    whole problem as published with that pattern — the `KeptAudit` that `audit_keeping` would
    make of it — when every part's ranges are known without a linear program (None otherwise)."""

    memo: pl.DataFrame
    whole: KeptAudit | None = None


def pattern_audit_memo(
    problem: Problem, pattern: KeptPattern, minimum: int = CELL_MINIMUM
) -> pl.DataFrame:
    """The audit memo (`AUDIT_MEMO_SCHEMA`) of the parts `protect_keeping` solved anew: their
    ranges from `protect`'s final audit, which is an audit of exactly the final pattern (every
    suppressed value's range under the published values and the sums, by the same linear
    programs; `engine.protect`), keyed as `audit_keeping` keys the part (`part_keys` with the
    suppressed cells, their values left out). The mart gate, reading the published tables, finds
    a part there only when they publish exactly that part with exactly that pattern; any other
    part it audits itself. Parts taken from the pattern memo get no row (no audit ran on them in
    this build: their ranges come from the mart gate's own memo, or it audits them)."""
    return pattern_audits(problem, pattern, minimum, whole=False).memo


def pattern_audits(
    problem: Problem,
    pattern: KeptPattern,
    minimum: int = CELL_MINIMUM,
    audit_memo: pl.DataFrame | None = None,
    *,
    whole: bool = True,
) -> PatternAudits:
    """`pattern_audit_memo`, and with `whole` the audit of the whole problem as the mart gate
    would make it of the published tables (`audit_keeping(published_view(problem, hidden),
    hidden, minimum, audit_memo, from_pattern=<the memo rows>)`), when no part of it needs a
    linear program: each part's ranges from `audit_memo` (the gate's last audit, first, as the
    gate takes them) or else from this pattern's final audit. None when a part is in neither
    (the gate audits it), or when the published numbers contradict a sum (the gate says so).

    The gate sets up each year's published cells as a problem, keys its parts and looks them up:
    on `bw` most of its audit's time. With the whole audit at hand, made here from the problem
    the pattern set up anyway, the gate takes a year published exactly so by its key
    (`disclosure.chunks`), as it takes a year audited in the build before."""
    started = time.perf_counter()
    hidden = pattern.suppressed
    labels = parts(problem)
    layout = _audit_layout(problem, labels, hidden)
    n_parts, n_vars = len(layout.slices), layout.variables.height
    low, high = np.full(n_vars, np.nan), np.full(n_vars, np.nan)
    exact = np.zeros(n_vars, dtype=bool)
    solved = pattern.solved
    anew = np.zeros(n_parts, dtype=bool)
    covered = np.zeros(n_parts, dtype=bool)
    if solved is not None:
        found = solved.audit.ranges.select(
            pl.Series(
                "cell", pattern.solved_cells[solved.audit.ranges.get_column("cell").to_numpy()]
            ),
            "measure",
            "low",
            "high",
            "exact",
        )
        ranged = layout.variables.join(
            found, on=["cell", "measure"], how="left", maintain_order="left"
        )
        low = ranged.get_column("low").to_numpy().copy()
        high = ranged.get_column("high").to_numpy().copy()
        exact = ranged.get_column("exact").fill_null(False).to_numpy().copy()
        for p, idx in enumerate(layout.slices):  # a loop over tables, not rows
            covered[p] = not np.isnan(low[idx]).any()
        anew[np.unique(labels[pattern.solved_cells])] = True
    which = np.flatnonzero(anew & covered)
    keys = part_keys(problem, labels, minimum, hidden=hidden) if len(which) or whole else []
    memo = (
        _audit_memo(keys, layout.slices, (low, high, exact), which)
        if len(which)
        else pl.DataFrame(schema=AUDIT_MEMO_SCHEMA)
    )
    if not whole:
        return PatternAudits(memo)
    # the ranges exactly as `audit_keeping` takes them, from the same two memos: parts of the
    # same key (two tables alike in every published number) take the one entry the memo keeps
    # for that key, not each its own final audit
    bounds, kept, seeded = _kept_ranges(keys, layout, audit_memo, memo)
    if not (kept | seeded).all():
        return PatternAudits(memo)
    view = published_view(problem, hidden)
    if not engine.published_sums_hold(view, hidden):
        return PatternAudits(memo)
    return PatternAudits(
        memo, _kept_audit(view, hidden, minimum, keys, layout, bounds, kept, seeded, started)
    )


def _kept_ranges(
    keys: list[str],
    layout: _AuditLayout,
    memo: pl.DataFrame | None,
    from_pattern: pl.DataFrame | None,
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray, np.ndarray]:
    """The ranges (low, high, exact over the audit's variables; NaN where not known) of the
    parts whose key is in `memo` (the last audit's) or else in `from_pattern` (this build's
    pattern audit), and which parts each gave."""
    n_vars = layout.variables.height
    bounds = (np.full(n_vars, np.nan), np.full(n_vars, np.nan), np.zeros(n_vars, dtype=bool))
    kept = _take_ranges(_entries(memo), keys, layout.slices, bounds)
    seeded = _take_ranges(_entries(from_pattern), keys, layout.slices, bounds, skip=kept)
    return bounds, kept, seeded


def _kept_audit(
    problem: Problem,
    hidden: np.ndarray,
    minimum: int,
    keys: list[str],
    layout: _AuditLayout,
    bounds: tuple[np.ndarray, np.ndarray, np.ndarray],
    kept: np.ndarray,
    seeded: np.ndarray,
    started: float,
    *,
    components: int = 0,
    programs: int = 0,
) -> KeptAudit:
    """The `KeptAudit` of `problem` (as published) from every part's ranges (`bounds`)."""
    result = engine._audit_result(
        problem,
        hidden,
        layout.variables.select("cell", "measure"),
        bounds,
        minimum,
        components=components,
        programs=programs,
        started=started,
    )
    memo_out = _audit_memo(keys, layout.slices, bounds, np.arange(len(keys)))
    return KeptAudit(result, memo_out, len(keys), int(kept.sum()), int(seeded.sum()))


def _take_ranges(
    source: dict[str, tuple[bytes, ...]],
    keys: list[str],
    slices: list[np.ndarray],
    bounds: tuple[np.ndarray, np.ndarray, np.ndarray],
    skip: np.ndarray | None = None,
) -> np.ndarray:
    """Put the stored ranges of each part whose key is in `source` (an audit memo's entries)
    into `bounds` (low, high, exact over the audit's variables), but not of the parts `skip`
    marks; returns which parts were taken. An entry whose length is not the part's is not
    taken (a damaged memo: that part is audited again)."""
    taken = np.zeros(len(keys), dtype=bool)
    if not source:
        return taken
    low, high, exact = bounds
    for p in np.flatnonzero([k in source for k in keys]):  # a loop over tables, not rows
        if skip is not None and skip[p]:
            continue
        stored_low, stored_high, stored_exact = (
            np.frombuffer(source[keys[p]][i], dtype=dtype)
            for i, dtype in enumerate((np.float64, np.float64, np.uint8))
        )
        idx = slices[p]
        if not len(stored_low) == len(stored_high) == len(stored_exact) == len(idx):
            continue
        low[idx], high[idx], exact[idx] = stored_low, stored_high, stored_exact.astype(bool)
        taken[p] = True
    return taken


def audit_keeping(
    problem: Problem,
    suppressed: np.ndarray,
    minimum: int = CELL_MINIMUM,
    memo: pl.DataFrame | None = None,
    *,
    from_pattern: pl.DataFrame | None = None,
) -> KeptAudit:
    """`engine.audit(problem, suppressed, minimum)`, taking the ranges of each part whose key
    (with its suppressed cells) is in `memo` (the last audit's) or in `from_pattern` (this
    build's `pattern_audit_memo`) from there and auditing the other parts together. A part's
    ranges depend on that part alone (its components of suppressed values lie inside it), so
    the result is the audit's. Raises what `audit` raises for the parts it audits."""
    started = time.perf_counter()
    hidden = np.asarray(suppressed, dtype=bool)
    labels = parts(problem)
    keys = part_keys(problem, labels, minimum, hidden=hidden)
    layout = _audit_layout(problem, labels, hidden)
    variables = layout.variables
    bounds, kept, seeded = _kept_ranges(keys, layout, memo, from_pattern)
    low, high, exact = bounds

    components = programs = 0
    todo = ~(kept | seeded)[labels]
    if todo.any():
        sub, cells = _to_solve(problem, todo)
        solved = audit(sub, hidden[cells], minimum)
        components, programs = solved.components, solved.linear_programs
        ranges = solved.ranges.with_columns(
            pl.Series("cell", cells[solved.ranges.get_column("cell").to_numpy()])
        ).join(variables, on=["cell", "measure"])
        idx = ranges.get_column("var").to_numpy()
        low[idx] = ranges.get_column("low").to_numpy()
        high[idx] = ranges.get_column("high").to_numpy()
        exact[idx] = ranges.get_column("exact").to_numpy()

    return _kept_audit(
        problem,
        hidden,
        minimum,
        keys,
        layout,
        bounds,
        kept,
        seeded,
        started,
        components=components,
        programs=programs,
    )


YEAR_MEMO_SCHEMA = {
    "key": pl.String,
    "frames": pl.List(pl.Binary),
    "figures": pl.String,
    "fingerprint": pl.String,
    "check": pl.String,
}
"""One row per year of the last build (`disclosure.chunks`): `key` (hex SHA-256, `year_key`),
`frames` (what that year gave, Arrow IPC), `figures` (its counts, JSON), `fingerprint` (of the
tables the year's cells were made from, `disclosure.chunks.year_fingerprints`; null where none
was taken), `check` (over all of them)."""


def year_key(frame: pl.DataFrame, purpose: str, minimum: int, *, last_resort: bool) -> str:
    """The key of one year's cells for `purpose` ("protect" or "audit"), numbered already
    (`disclosure.tables.numbered_cells`: a year is numbered once, for its key and its
    problem): SHA-256 of those cells (every column, flags, `hidden` and `suppression`
    included), values to `SIGNIFICANT_DIGITS` as the parts' keys take them, the minimum, the
    last-resort switch and `_CODE_VERSION`. Equal keys: the same problem, so the same pattern,
    or the same audit (each a function of the problem alone)."""
    floats = [name for name, dtype in frame.schema.items() if dtype == pl.Float64]
    keyed = frame.drop(floats).with_columns(
        s.alias(f"{name}_{s.name}")
        for name in floats
        for s in _significant(frame.get_column(name).to_numpy())
    )
    digest = hashlib.sha256(
        _CODE_VERSION + f"|year {purpose}|minimum={minimum}|last_resort={last_resort}|".encode()
    )
    digest.update(frame_digest(keyed))
    return digest.hexdigest()


@dataclass(frozen=True)
class YearEntry:
    """What one year gave in the last build: its frames (in the order its writer chose) and
    its figures."""

    frames: tuple[pl.DataFrame, ...]
    figures: dict
    stored: tuple[bytes, ...] = ()
    """The frames as stored: a year kept is written back as it was read."""
    fingerprint: str | None = None
    """The fingerprint of the tables the year's cells were made from (None: not taken)."""


def _frame_bytes(frame: pl.DataFrame | bytes) -> bytes:
    if isinstance(frame, bytes):
        return frame
    buffer = io.BytesIO()
    frame.write_ipc(buffer, compression="uncompressed")
    return buffer.getvalue()


YearRow = tuple[str, Sequence[pl.DataFrame | bytes], dict, str | None]
"""A year memo's row as written: key, frames, figures, fingerprint (or None)."""


def _year_check(key: str, data: Sequence[bytes], figures: str, fingerprint: str | None) -> str:
    return _check(key, [*data, figures.encode(), (fingerprint or "").encode()])


def year_memo(rows: Sequence[YearRow]) -> pl.DataFrame:
    """A year memo (`YEAR_MEMO_SCHEMA`) of (key, frames, figures, fingerprint) per year; a frame
    may be given as stored (`YearEntry.stored`)."""
    keys, frames, figures, fingerprints, checks = [], [], [], [], []
    for key, year_frames, year_figures, fingerprint in rows:
        data = [_frame_bytes(f) for f in year_frames]
        text = json.dumps(year_figures, sort_keys=True)
        keys.append(key)
        frames.append(data)
        figures.append(text)
        fingerprints.append(fingerprint)
        checks.append(_year_check(key, data, text, fingerprint))
    return pl.DataFrame(
        {
            "key": keys,
            "frames": frames,
            "figures": figures,
            "fingerprint": fingerprints,
            "check": checks,
        },
        schema=YEAR_MEMO_SCHEMA,
    )


def year_entries(memo: pl.DataFrame | None, n_frames: int) -> dict[str, YearEntry]:
    """key → entry of every row of a year memo whose check holds and whose `n_frames` frames
    can be read (a damaged row is left out: that year is done again)."""
    if memo is None:
        return {}
    entries = {}
    for row in memo.iter_rows(named=True):  # a loop over years, not rows
        key, data, text, fingerprint = row["key"], row["frames"], row["figures"], row["fingerprint"]
        if (
            data is None
            or len(data) != n_frames
            or _year_check(key, data, text, fingerprint) != row["check"]
        ):
            continue
        try:
            frames = tuple(pl.read_ipc(io.BytesIO(d)) for d in data)
            entries[key] = YearEntry(frames, json.loads(text), tuple(data), fingerprint)
        except Exception:  # unreadable: that year is done again
            continue
    return entries


def read_memo(
    path: Path | None, schema: dict[str, pl.DataType] = MEMO_SCHEMA
) -> tuple[pl.DataFrame | None, str]:
    """The memo at `path` (of `schema`: `MEMO_SCHEMA` or `AUDIT_MEMO_SCHEMA`), or None with the
    reason it is not used (absent, unreadable, another schema)."""
    if path is None:
        return None, "no memo location"
    if not path.is_file():
        return None, f"no memo at {path}"
    try:
        memo = pl.read_parquet(path)
    except Exception as exc:  # a damaged file costs a full solve, never a build
        return None, f"memo {path} not readable ({type(exc).__name__}): every part anew"
    if dict(memo.schema) != schema:
        return None, f"memo {path} has another schema: every part anew"
    return memo, f"memo {path}: {memo.height:,} parts"


def write_memo(memo: pl.DataFrame, path: Path) -> None:
    """Write the memo whole or not at all (a new file, renamed over the old one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    memo.write_parquet(tmp)
    tmp.replace(path)
