"""Suppression pattern and its audit, on an abstract problem of cells linked by sums.

A **problem** is three frames:

- `cells`: `cell` (0 … n−1, in order), `primary_rule` (the primary rule applies to the cell),
  `may_be_secondary` (the cell may be sacrificed as a secondary cell; false for LAND rows);
- `values`: `cell`, `measure` (`base_n`, `numerator`, `denominator`, or any other count the
  cell publishes), `value` (null: not published);
- `terms`: `equation`, `cell`, `measure`, `coefficient`: Σ coefficient · value = 0 over each
  equation's terms. Every equation here is a sum: one total with +1, its parts with −1.

**Primary suppression**: `primary_rule` and `0 < base_n < minimum` (`CELL_MINIMUM` = 5).

**The rule** a pattern must satisfy, for anyone who knows every published value and every
equation (and that counts are ≥ 0, but not the suppression rule itself — an attacker who used
"primary ⇒ base_n ≤ 4" would always win):

- a suppressed cell's base_n lies in an interval `[low, high]` with `high − low ≥ minimum`
  ("cannot be narrowed to an interval shorter than 5": a width of 5 is allowed, e.g. a true 2
  known to lie in [0, 5]; a width of 4 is not);
- none of its other measures is pinned (`high − low` ≤ `PIN_TOLERANCE`), unless it is pinned
  at 0 by published values of 0 (a part of a sum whose total is 0, or a total whose parts
  are all 0, where each 0 is published or itself so made 0: `_zero_forced`).

**The audit** (`audit`) computes `[low, high]` of every suppressed (cell, measure) by linear
programming (HiGHS through its `highspy` binding, `_Program`): published values are constants, so
only the suppressed values are variables; the variables split into connected components (two
are linked when an equation holds both), and each component is solved on its own — min and
max of each of its variables subject to its equations and non-negativity.

**On several processes** (`IMW_DISCLOSURE_WORKERS`, default: one per CPU). A problem's *parts*
(`parts`: the cells linked by sums; in the warehouse one block of one table for one year) share
no sum, and every step of `audit` and `protect` looks only along sums, so each part comes out the
same solved alone or beside the others. A problem of at least `PARTS_PARALLEL_MIN_CELLS` cells
with more than one part is therefore audited and protected part by part on worker processes, the
largest parts first (`_audit_parts`, `_protect_parts`): the same ranges and the same pattern, and
in `protect` a part that passes no longer costs the others' rounds. A large audit of one part
shares its components among the workers, each solved exactly as in one process (`_solve_jobs`).

**Secondary suppression** (`protect`) is greedy, then audited, until the audit passes:

1. in every equation with exactly one suppressed term, or whose suppressed parts (total
   published) sum to less than the minimum (base_n) or to 0 (other measures, total not 0),
   suppress one more cell: the candidate with the smallest base_n > 0 (a cell of 0 protects
   nothing; ties by cell number), never one with `may_be_secondary` false; repeated until no
   equation asks for more;
2. audit; a (cell, measure) that breaks the rule and would pass with every candidate
   suppressed gets the smallest candidate in an equation that holds it (or, where those have
   none left, in an equation of a suppressed neighbour); and go to 1. One that would still fail
   (suppressing more never narrows a range) gets no ordinary candidate: as a last resort a LAND
   row is taken (`Pattern.last_resort`), first from its own equations — a LAND quarter of 1 to
   4 cases is otherwise the LAND year minus the other LAND quarters. A failing value that even
   every LAND row could not protect cannot be protected: `Pattern.unprotectable` names it, and
   the audit fails.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import cached_property
from typing import Generic, TypeVar

import numpy as np
import polars as pl
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from core import worker_processes
from core.project_vars import project_vars
from core.resources import count_setting, threads

__all__ = [
    "BASE_N",
    "CELL_MINIMUM",
    "PIN_TOLERANCE",
    "PRIMARY",
    "SECONDARY",
    "AuditResult",
    "InconsistentEquations",
    "Pattern",
    "Problem",
    "Started",
    "audit",
    "parts",
    "primary_cells",
    "protect",
    "protect_started",
    "published_sums_hold",
    "split_parts",
    "subproblem",
]

CELL_MINIMUM = project_vars().cell_minimum
"""Cells resting on fewer than this many cases or persons are suppressed; a suppressed base_n
must stay uncertain over an interval at least this wide."""
BASE_N = "base_n"
PIN_TOLERANCE = 1e-6
"""A range this narrow (relative to the value, at least absolute) counts as pinned: case-months
and FTE are sums of floats."""
WITNESS_SPREAD = 10 * PIN_TOLERANCE
"""A measure other than base_n is shown not pinned by witnesses this far apart (relative to the
value, at least absolute): ten times the pin tolerance, so a witness never passes a value its
exact range would pin."""
TRUTH_TOLERANCE = 1e-8
"""`protect` counts the suppressed values themselves as one more solution of a component's sums
(`_component_ranges`, `truth`) only when they solve them this closely: ten times closer than
HiGHS's own solutions must (its primal feasibility tolerance, 1e-7), so they are as much a
solution as any witness the programs give."""
NONE, PRIMARY, SECONDARY = 0, 1, 2
SUPPRESSION_NAMES = {PRIMARY: "primary", SECONDARY: "secondary"}
LOCAL_HOPS = (2,)
"""How far from a failing value `protect` first looks for candidates when it asks whether more
suppression can fix the value at all (`_fixable`): equations away from it."""
MAX_ROUNDS = 10_000
"""Safety stop of `protect`: every round suppresses at least one more cell, so it ends anyway."""
WORKERS_ENV = "IMW_DISCLOSURE_WORKERS"
PARALLEL_MIN_VARIABLES = 50_000
"""An audit solves its components on several processes only when it has at least this many
suppressed values: below it, handing them over costs more than it saves (measured, `protect`
alone, idle: `tiny`, 24,000 values, 13.7 s in one process and 14.6 s on two; `demo`, 81,000 to
130,000 values, 80 s and 55 s)."""
DUAL_SIMPLEX, PRIMAL_SIMPLEX = 1, 4
"""HiGHS's `simplex_strategy` values: the first program of a component, and the re-solves."""
PRESOLVE_MIN_VARIABLES = 1_000
"""The first program of a component of at least this many values is presolved by HiGHS (the
later ones start from its basis, unpresolved). Measured on `federal`'s year 2017 in one process
(2026-12-07, the same pattern): its 885 first programs of more than 1,000 values took 96.5 s of
HiGHS's 172.8 s; with those presolved HiGHS took 131.5 s and the year 234.1 → 186.6 s (with every
first program presolved 143.6 s and 203.6 s). On small components presolve gains nothing and
returns other solutions (not always vertices), which show less spread as witnesses: with every
first program presolved, `bw`'s pattern took 61,552 programs instead of 60,793."""
CROSSOVER_MIN_VARIABLES = 300
"""A component of at least this many values whose suppressed values as they are solve its sums
(`_component_ranges`, `truth`) starts its first program from a basis that HiGHS's crossover finds
at those values (`_Program.start_at`), not from none by the dual simplex: a basis near a solution
already known is cheaper to find than one from scratch. Measured on `bw`'s pattern in one process
(2026-12-07, the same pattern): the 286 first programs of more than 1,000 values took 6.9 s, with
the crossover 0.3 s plus 2.4 s of crossover; those of 101 to 1,000 values 2.2 s against 1.7 s
(1.3 s plus 0.4 s of crossover for those of 300 and more). Smaller components are left out: the
first programs of all those of 100 values or fewer took 0.6 s. Only the witnesses differ, so the
pattern is the same (`_Witnesses`)."""
MAXIMISE_BATCH = 128
"""How many values of a component `_component_ranges` first raises together in one program
(their sum maximised), before each value left gets programs of its own. Measured on `bw`'s three
largest parts of 2017 (one process, the same patterns): 40.2 s with each value on its own, 32.5 s
with batches of 32, 29.4 s with 128, 30.1 s with 512; a whole first audit of a 5,602-value
component 4.9 s → 2.9 s (563 → 232 programs)."""
SPLIT_MIN_VARIABLES = 2_000
"""A targeted audit's component this large is split between the workers by its wanted values."""
CHUNKS_PER_WORKER = 8
PARTS_PARALLEL_MIN_CELLS = 10_000
"""`protect` and a whole `audit` go part by part on several processes only when the problem has at
least this many cells (and more than one part); below it, starting the workers costs more than it
saves."""


class InconsistentEquations(ValueError):
    """The published values contradict the equations (no non-negative solution exists)."""


@dataclass(frozen=True)
class Problem:
    """Cells, their values per measure and the sums that link them (see the module)."""

    cells: pl.DataFrame
    values: pl.DataFrame
    terms: pl.DataFrame

    def __post_init__(self) -> None:
        for name, frame, columns in (
            ("cells", self.cells, ("cell", "primary_rule", "may_be_secondary")),
            ("values", self.values, ("cell", "measure", "value")),
            ("terms", self.terms, ("equation", "cell", "measure", "coefficient")),
        ):
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise ValueError(f"{name}: column(s) {missing} missing")
        if not self.cells.get_column("cell").equals(
            pl.Series("cell", np.arange(self.cells.height), dtype=self.cells.schema["cell"])
        ):
            raise ValueError("cells: `cell` must be 0 … n−1 in order")
        if self.values.select("cell", "measure").is_duplicated().any():
            raise ValueError("values: more than one value per (cell, measure)")

    @property
    def n_cells(self) -> int:
        return self.cells.height

    @property
    def n_equations(self) -> int:
        return self.terms.get_column("equation").n_unique()

    @cached_property
    def measure_codes(self) -> dict[str, int]:
        """A number per measure (in name order): (cell, measure) is cell · len + number."""
        return {m: i for i, m in enumerate(sorted(self.values.get_column("measure").unique()))}

    @cached_property
    def term_rows(self) -> np.ndarray:
        """Per row of `terms`, the row of `values` with its (cell, measure), −1 for none: one
        join on a whole number per (cell, measure) (`measure_codes`), made once for the joins
        that need it (`_layout`, `_zero_links`, `published_sums_hold`): 30–40 ms, against 58–64 ms
        for each join on (cell, measure name) it replaces (one `bw` year). Read-only: shared."""
        identity = _identity(self.measure_codes).alias("identity")
        rows = (
            self.terms.select(identity)
            .join(
                self.values.select(identity, pl.int_range(pl.len(), dtype=pl.Int64).alias("row")),
                on="identity",
                how="left",
                maintain_order="left",
            )
            .get_column("row")
            .fill_null(-1)
            .to_numpy()
        )
        rows.flags.writeable = False
        return rows

    @cached_property
    def layout(self) -> _Layout:
        """The values and terms as arrays, for the many audits of one problem (`_layout`)."""
        return _layout(self)

    @cached_property
    def part_labels(self) -> np.ndarray:
        """`parts` of this problem, found once: a year's problem is asked for them by the
        memo's keys, by `protect` and by the pattern's audit memo (read-only: shared)."""
        labels = _part_labels(self)
        labels.flags.writeable = False
        return labels

    @cached_property
    def zero_links(self) -> _ZeroLinks:
        """The sums that can make a value 0 from published zeros (`_zero_links`)."""
        return _zero_links(self)

    def base_n(self) -> np.ndarray:
        """base_n per cell, NaN where a cell has none (or it is not published)."""
        out = np.full(self.n_cells, np.nan)
        rows = self.values.filter(
            (pl.col("measure") == BASE_N) & pl.col("value").is_not_null()
        ).select("cell", "value")
        out[rows.get_column("cell").to_numpy()] = rows.get_column("value").to_numpy()
        return out


@dataclass(frozen=True)
class AuditResult:
    """Ranges of every suppressed (cell, measure) and the ones that break the rule.

    `ranges`: cell, measure, low, high, width (`high` = inf when unbounded), zero_forced;
    `failures`: the rows of `ranges` that break the rule, with `rule` (`base_n_range` or
    `pinned`)."""

    ranges: pl.DataFrame
    failures: pl.DataFrame
    cells: int
    equations: int
    suppressed: int
    variables: int
    components: int
    linear_programs: int
    seconds: float
    minimum: int

    @property
    def passed(self) -> bool:
        return self.failures.is_empty()

    @property
    def narrowest_base_n_range(self) -> float | None:
        """Smallest `high − low` of a suppressed base_n (None without one; inf when every one is
        unbounded)."""
        widths = self.ranges.filter(pl.col("measure") == BASE_N).get_column("width")
        return None if widths.is_empty() else float(widths.min())

    @property
    def pinned(self) -> int:
        """Suppressed values (other than base_n) that can be recovered exactly, not counting
        those that published values of 0 make 0."""
        return self.failures.filter(pl.col("rule") == "pinned").height

    def figures(self) -> dict[str, float | int | None]:
        return {
            "cells": self.cells,
            "equations": self.equations,
            "suppressed": self.suppressed,
            "variables": self.variables,
            "components": self.components,
            "linear_programs": self.linear_programs,
            "narrowest_base_n_range": self.narrowest_base_n_range,
            "pinned": self.pinned,
            "failures": self.failures.height,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class Pattern:
    """The suppression pattern `protect` found: `status` per cell (0 none, `PRIMARY`,
    `SECONDARY`), the final audit, and the (cell, measure) that could not be protected."""

    status: np.ndarray
    audit: AuditResult
    unprotectable: pl.DataFrame
    rounds: int
    seconds: float
    last_resort: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Cells with `may_be_secondary` false taken as secondary cells (see `protect`)."""

    @property
    def suppressed(self) -> np.ndarray:
        return self.status > NONE

    def figures(self) -> dict[str, float | int | None]:
        return {
            **self.audit.figures(),
            "suppressed_primary": int((self.status == PRIMARY).sum()),
            "suppressed_secondary": int((self.status == SECONDARY).sum()),
            "secondary_last_resort": len(self.last_resort),
            "rounds": self.rounds,
            "pattern_seconds": round(self.seconds, 3),
        }

    def suppression(self) -> pl.Series:
        """'primary' / 'secondary' / null per cell."""
        return pl.Series("suppression", self.status).replace_strict(
            {NONE: None, **SUPPRESSION_NAMES}, return_dtype=pl.String
        )


# --------------------------------------------------------------------------------------------
# Primary suppression
# --------------------------------------------------------------------------------------------
def primary_cells(problem: Problem, minimum: int = CELL_MINIMUM) -> np.ndarray:
    """Cells the primary rule suppresses: rule applies and 0 < base_n < minimum."""
    base_n = problem.base_n()
    rule = problem.cells.get_column("primary_rule").fill_null(False).to_numpy()
    with np.errstate(invalid="ignore"):
        return rule & (base_n > 0) & (base_n < minimum)


def published_sums_hold(problem: Problem, suppressed: Sequence[bool] | np.ndarray) -> bool:
    """Whether every sum without a suppressed term holds as published (to `PIN_TOLERANCE`,
    relative: case-months and FTE are sums of floats). `audit` solves only the sums with a
    suppressed term and finds their contradictions itself (`InconsistentEquations`); together
    they say whether the published numbers agree with every sum."""
    hidden = np.asarray(suppressed, dtype=bool)[problem.terms.get_column("cell").to_numpy()]
    terms = problem.terms.select("equation", "coefficient").with_columns(
        _by_term_row(problem, problem.values.get_column("value")), pl.Series("hidden", hidden)
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


# --------------------------------------------------------------------------------------------
# Audit
# --------------------------------------------------------------------------------------------
_RANGE_SCHEMA = {
    "cell": pl.Int64,
    "measure": pl.String,
    "low": pl.Float64,
    "high": pl.Float64,
    "exact": pl.Boolean,
    "width": pl.Float64,
    "zero_forced": pl.Boolean,
}


def audit(
    problem: Problem,
    suppressed: Sequence[bool] | np.ndarray,
    minimum: int = CELL_MINIMUM,
    *,
    targets: np.ndarray | None = None,
    witnesses: _Witnesses | None = None,
) -> AuditResult:
    """Range of every suppressed (cell, measure) given the published values and the equations.

    `targets` (a flag per cell): only the ranges of those cells are computed and reported; the
    other suppressed values stay variables, but components without a target are not solved.

    `witnesses` (`_Witnesses`, as in `protect`'s trial audits, `_fixable`): values the
    suppressed values were seen to take in earlier audits of the same problem with fewer
    suppressed cells. With them, the suppressed values themselves count as one more witness
    where they solve a component's sums (`_component_ranges`, `truth`): such audits are
    `protect`'s, on tables it has not hidden anything in yet. `protect`'s own audits, round
    after round, are `_RoundAudits`'.

    Without `targets` and `witnesses` (a whole audit, as the mart gate's), a problem of at least
    `PARTS_PARALLEL_MIN_CELLS` cells with more than one part is audited part by part on
    `workers()` processes (`_audit_parts`): the same ranges.

    Raises `InconsistentEquations` when a component has no non-negative solution (published
    values that contradict the equations: a broken table, not a disclosure)."""
    started = time.perf_counter()
    hidden = np.asarray(suppressed, dtype=bool)
    if hidden.shape != (problem.n_cells,):
        raise ValueError(f"suppressed: {problem.n_cells} flags expected, got {hidden.shape}")
    if targets is None and witnesses is None:
        n = workers()
        if n >= 2 and problem.n_cells >= PARTS_PARALLEL_MIN_CELLS:
            labels = parts(problem)
            if labels.max(initial=0) > 0:
                return _audit_parts(problem, labels, hidden, minimum, n)
    variables, identity, hidden_rows, a, b = _system(problem, hidden)
    wanted = (
        None
        if targets is None
        else np.asarray(targets, dtype=bool)[variables.get_column("cell").to_numpy()]
    )
    solved = _solve_system(
        a,
        b,
        identity,
        _needed(problem, hidden_rows, minimum),
        wanted=wanted,
        witnesses=witnesses,
        truth=None if witnesses is None else _truth(problem, hidden_rows),
        audit_size=a.shape[1],
    )
    return _audit_result(
        problem,
        hidden,
        variables.select("cell", "measure"),
        (solved.low, solved.high, solved.exact),
        minimum,
        components=solved.n_components,
        programs=solved.programs,
        started=started,
        wanted=wanted,
    )


def _needed(problem: Problem, rows: np.ndarray, minimum: int) -> np.ndarray:
    """Per suppressed value (the rows of `problem.values` `rows` selects, a mask or indices),
    the width a witness must show before it passes without programs of its own: the minimum
    for base_n, NaN for the other measures (any spread beyond the pin tolerance)."""
    return np.where(problem.layout.value_base_n[rows], float(minimum), np.nan)


def _truth(problem: Problem, rows: np.ndarray) -> np.ndarray:
    """The suppressed values themselves (the rows `rows` selects), NaN where a value is not
    given: `protect` audits the unsuppressed tables, so it knows them (`_component_ranges`)."""
    layout = problem.layout
    return np.where(layout.value_null[rows], np.nan, layout.value[rows])


@dataclass(frozen=True)
class _Solved:
    """`_solve_system`'s answer: per variable its range (`low`, `high`, `exact`) and its
    component's number (0 … `n_components` − 1); the linear programs solved."""

    low: np.ndarray
    high: np.ndarray
    exact: np.ndarray
    component: np.ndarray
    n_components: int
    programs: int


def _solve_system(
    a: sp.csr_matrix,
    b: np.ndarray,
    identity: np.ndarray,
    needed: np.ndarray,
    *,
    wanted: np.ndarray | None,
    witnesses: _Witnesses | None,
    truth: np.ndarray | None,
    audit_size: int,
    learn: bool = False,
) -> _Solved:
    """The ranges of the variables of a·x = b, x ≥ 0 (per variable: its `identity`, the width
    `needed` of a witness, whether it is `wanted`, its value `truth`), component by component:
    the variables split into connected components (two are linked when an equation holds both);
    a component of one sum in closed form (`_one_sum_ranges`), every other by linear programs
    (`_component_ranges`, on `workers()` processes when `audit_size` is large: `_solve_jobs`).
    Components in no equation are only known to be ≥ 0; with `wanted`, those without a wanted
    variable are not solved. `learn`: the solutions found become `witnesses`.

    Rows and columns keep their order inside each component, so a component is solved alike
    whether `a` holds the whole problem (`audit`) or only the components a round changed
    (`_RoundAudits`)."""
    n_vars, n_rows = a.shape[1], a.shape[0]
    low = np.zeros(n_vars)
    high = np.full(n_vars, np.inf)
    exact = np.ones(n_vars, dtype=bool)
    # Components of the bipartite graph variables ↔ equations.
    graph = sp.bmat([[None, a.T], [a, None]], format="csr") if n_vars and n_rows else None
    if graph is not None:
        n_components, labels = connected_components(graph, directed=False)
    else:
        n_components, labels = n_vars, np.arange(n_vars + n_rows)
    var_labels, row_labels = labels[:n_vars], labels[n_vars:]
    order_v = np.argsort(var_labels, kind="stable")
    order_r = np.argsort(row_labels, kind="stable")
    bounds_v = np.searchsorted(var_labels[order_v], np.arange(n_components + 1))
    bounds_r = np.searchsorted(row_labels[order_r], np.arange(n_components + 1))
    programs = 0
    # components of one sum: their ranges in closed form, all at once (`_one_sum_ranges`)
    one_sum = (np.diff(bounds_r) == 1) & (np.diff(bounds_v) >= 1)
    if one_sum.any():
        in_one = np.flatnonzero(one_sum[var_labels])
        row_of = order_r[bounds_r[var_labels[in_one]]]  # the component's only row
        low[in_one], high[in_one] = _one_sum_ranges(
            np.asarray(a[row_of, in_one]).ravel(), b[row_of], row_of
        )
    jobs: list[_Job] = []
    # a with its rows and columns in component order: each component's equations are one
    # block of it (the rows `row_idx`, the columns `var_idx`, in their order)
    blocks = a[order_r][:, order_v] if n_vars and n_rows else a
    for component in range(n_components):
        if one_sum[component]:
            continue
        var_idx = order_v[bounds_v[component] : bounds_v[component + 1]]
        row_idx = order_r[bounds_r[component] : bounds_r[component + 1]]
        if len(row_idx) == 0 or len(var_idx) == 0:
            continue  # in no equation: only ≥ 0 is known
        if wanted is not None and not wanted[var_idx].any():
            continue
        jobs.append(
            _Job(
                var_idx,
                blocks[bounds_r[component] : bounds_r[component + 1]][
                    :, bounds_v[component] : bounds_v[component + 1]
                ],
                b[row_idx],
                needed[var_idx],
                None if wanted is None else wanted[var_idx],
                None if witnesses is None else witnesses.seen(identity[var_idx]),
                None if truth is None else truth[var_idx],
            )
        )
    for job, (lo, hi, solved, solves) in zip(jobs, _solve_jobs(jobs, audit_size), strict=True):
        programs += solves
        low[job.var_idx], high[job.var_idx], exact[job.var_idx] = lo, hi, solved
        if learn and witnesses is not None:
            witnesses.learn(identity[job.var_idx], lo, hi)
    return _Solved(low, high, exact, var_labels, int(n_components), programs)


def _system(
    problem: Problem, hidden: np.ndarray
) -> tuple[pl.DataFrame, np.ndarray, np.ndarray, sp.csr_matrix, np.ndarray]:
    """The audit's linear system for the suppressed cells `hidden` (a flag per cell):
    (variables, identity, hidden_rows, a, b) with a·x = b over the suppressed values x ≥ 0.

    - `variables`: cell, measure of each suppressed value, in the order of `problem.values`;
      `identity`: each one's (cell, measure) as one integer, the same across audits;
    - `hidden_rows`: per row of `problem.values`, whether it is suppressed;
    - one row of `a` and `b` per equation with a suppressed term, in the equations' order: the
      suppressed terms' coefficients in `a`, minus the sum of the published terms in `b`.

    In arrays over `Problem.layout`, made once per problem (`protect` audits one problem again
    and again): joining the frames per audit cost 14 of the 149 s of a `bw` pattern in one
    process (cProfile, 2026-12-06)."""
    layout = problem.layout
    hidden_rows = hidden[layout.value_cell]
    # the variable each suppressed row is: they are numbered in the rows' order
    var_of_row = np.cumsum(hidden_rows) - 1
    variables = problem.values.select("cell", "measure").filter(pl.Series(hidden_rows))
    identity = layout.value_identity[hidden_rows]
    _check_terms(problem, hidden_rows)
    term_hidden = hidden_rows[layout.term_row]
    equation = layout.term_equation
    published = ~term_hidden
    constant = np.bincount(
        equation[published],
        weights=layout.term_coefficient[published] * layout.value[layout.term_row[published]],
        minlength=layout.n_equations,
    )
    has_variable = np.bincount(equation[term_hidden], minlength=layout.n_equations) > 0
    row_of_equation = np.cumsum(has_variable) - 1
    a = sp.csr_matrix(
        (
            layout.term_coefficient[term_hidden],
            (
                row_of_equation[equation[term_hidden]],
                var_of_row[layout.term_row[term_hidden]],
            ),
        ),
        shape=(int(has_variable.sum()), variables.height),
    )
    a.sum_duplicates()
    return variables, identity, hidden_rows, a, -constant[has_variable]


def _check_terms(problem: Problem, hidden_rows: np.ndarray) -> None:
    """Every term names a value, and every published one is given (`hidden_rows`: per row of
    `problem.values`, whether it is suppressed): else a `ValueError` naming the terms."""
    layout = problem.layout
    unknown_term = layout.term_row < 0
    if unknown_term.any():
        raise ValueError(
            "terms name (cell, measure) without a value: "
            f"{problem.terms.filter(pl.Series(unknown_term)).head(3)}"
        )
    blank = ~hidden_rows[layout.term_row] & layout.value_null[layout.term_row]
    if blank.any():
        raise ValueError(
            "a published cell in an equation has no value: "
            f"{problem.terms.filter(pl.Series(blank)).head(3)}"
        )


def _audit_result(
    problem: Problem,
    hidden: np.ndarray,
    variables: pl.DataFrame,
    bounds: tuple[np.ndarray, np.ndarray, np.ndarray],
    minimum: int,
    *,
    components: int,
    programs: int,
    started: float,
    wanted: np.ndarray | None = None,
) -> AuditResult:
    """The audit's result from the ranges (`bounds`: low, high, exact) of `variables` (cell,
    measure: the suppressed values, in the order of `problem.values`), with which are made 0 by
    published zeros and which break the rule; only the `wanted` ones reported (all without).
    Shared by `audit` and `disclosure.memo.audit_keeping`."""
    low, high, exact = bounds
    hidden_rows = hidden[problem.values.get_column("cell").to_numpy()]
    published_zero = ~hidden_rows & (
        problem.values.get_column("value").abs().fill_null(np.inf).to_numpy() <= PIN_TOLERANCE
    )
    zero_forced = _zero_forced(problem.zero_links, published_zero)[hidden_rows]
    ranges = variables.select(
        "cell",
        "measure",
        pl.Series("low", low),
        pl.Series("high", high),
        pl.Series("exact", exact),
        pl.Series("zero_forced", zero_forced),
    ).with_columns((pl.col("high") - pl.col("low")).alias("width"))
    if wanted is not None:
        ranges = ranges.filter(pl.Series(wanted))
    ranges = ranges.select(list(_RANGE_SCHEMA)).cast(_RANGE_SCHEMA)
    return AuditResult(
        ranges=ranges,
        failures=_failures(ranges, minimum),
        cells=problem.n_cells,
        equations=problem.n_equations,
        suppressed=int(hidden.sum()),
        variables=variables.height,
        components=components,
        linear_programs=programs,
        seconds=time.perf_counter() - started,
        minimum=minimum,
    )


@dataclass(frozen=True)
class _Job:
    """One component to solve: its variables' indices in the audit, its equations (a·x = b)
    and, per variable, the width a witness must show, whether it is wanted, the least and
    greatest value earlier solutions showed it to take (`_Witnesses`; None: none) and its own
    value (`truth`; None: not known)."""

    var_idx: np.ndarray
    a: sp.csr_matrix
    b: np.ndarray
    needed: np.ndarray
    wanted: np.ndarray | None
    seen: tuple[np.ndarray, np.ndarray] | None = None
    truth: np.ndarray | None = None


_Ranges = tuple[np.ndarray, np.ndarray, np.ndarray, int]


def _solve_jobs(jobs: list[_Job], audit_size: int) -> list[_Ranges]:
    """`_component_ranges` of every job, in order: in this process, or on `workers()` processes
    when the audit is large (`audit_size` suppressed values, at least `PARALLEL_MIN_VARIABLES`;
    then also the few components a later audit of `protect` solves anew go to the workers).

    Whole components go to the workers as they are, so each is solved exactly as here (a fresh
    program, the same order of objectives): the ranges are identical. Where only some values
    are wanted (the targeted audits of `protect`), a component larger than
    `SPLIT_MIN_VARIABLES` is also split by its wanted values: each worker solves the whole
    component for its share of them. Their pass or fail is the same whichever witnesses a
    worker saw (a witness's spread is at most the exact range), so the pattern is the same;
    only the reported spans of values that passed by witnesses may differ, and a targeted
    audit reports nothing else. Measured on `bw` (2 cores): disclosure/ENGINE.md, "On both
    cores"."""
    n = workers()
    if n < 2 or audit_size < PARALLEL_MIN_VARIABLES or not any(j.a.shape[1] > 1 for j in jobs):
        return [_component_ranges(j.a, j.b, j.needed, j.wanted, j.seen, j.truth) for j in jobs]
    # tasks: (job index, wanted mask or None), the big targeted components split n ways
    tasks: list[tuple[int, np.ndarray | None]] = []
    for i, j in enumerate(jobs):
        if j.wanted is not None and j.a.shape[1] >= SPLIT_MIN_VARIABLES and j.wanted.sum() > 1:
            for part in np.array_split(np.flatnonzero(j.wanted), n):
                if not len(part):
                    continue
                mask = np.zeros(j.a.shape[1], dtype=bool)
                mask[part] = True
                tasks.append((i, mask))
        else:
            tasks.append((i, j.wanted))
    # cost of a task ≈ its programs × their size; biggest first, dealt into chunks so that
    # the pool balances the load and pickling stays a few calls per worker
    cost = np.array([jobs[i].a.shape[1] ** 2 for i, _ in tasks], dtype=float)
    order = np.argsort(-cost, kind="stable")
    # a new chunk wherever the load before a task passes another n·CHUNKS_PER_WORKER-th of it all
    before = (np.cumsum(cost[order]) - cost[order]) // (cost.sum() / (n * CHUNKS_PER_WORKER))
    chunks = [c.tolist() for c in np.split(order, np.flatnonzero(np.diff(before)) + 1)]
    by_task: dict[int, _Ranges] = {}
    try:
        futures = [
            _pool(n).submit(
                _solve_chunk,
                [
                    (
                        jobs[tasks[t][0]].a,
                        jobs[tasks[t][0]].b,
                        jobs[tasks[t][0]].needed,
                        tasks[t][1],
                        jobs[tasks[t][0]].seen,
                        jobs[tasks[t][0]].truth,
                    )
                    for t in chunk
                ],
            )
            for chunk in chunks
        ]
        for chunk, future in zip(chunks, futures, strict=True):
            by_task.update(zip(chunk, future.result(), strict=True))
    except BrokenProcessPool as exc:
        raise _pool_failure(n, exc) from exc
    results: list[_Ranges | None] = [None] * len(jobs)
    for t, (i, mask) in enumerate(tasks):
        lo, hi, solved, solves = by_task[t]
        if results[i] is None:  # arrays fresh from the worker: safe to fill in below
            results[i] = (lo, hi, solved, solves)
        else:  # another share of a split component: its wanted values come from here
            r_lo, r_hi, r_solved, r_solves = results[i]
            r_lo[mask], r_hi[mask], r_solved[mask] = lo[mask], hi[mask], solved[mask]
            results[i] = (r_lo, r_hi, r_solved, r_solves + solves)
    return results  # type: ignore[return-value]


_BROKEN_POOL = (
    "the disclosure engine's {n} worker processes stopped ({exc}). A script that runs the "
    "engine must keep its top level under `if __name__ == '__main__':` (the workers import "
    "it, as with any multiprocessing), or set " + WORKERS_ENV + "=1 to solve in-process."
)


class EngineStopped(RuntimeError):
    """The engine's worker processes were stopped on purpose (`stop_workers`): the work asked of
    them will not be done."""


def _pool_failure(n: int, exc: BrokenProcessPool) -> RuntimeError:
    """The error for a pool of `n` workers that broke: `EngineStopped` with the reason when
    `stop_workers` stopped it, else the hint for a script whose workers could not start."""
    _POOLS.pop(n, None)
    if _STOPPED:
        return EngineStopped(f"the disclosure engine was stopped: {_STOPPED[-1]}")
    return RuntimeError(_BROKEN_POOL.format(n=n, exc=exc))


def _solve_chunk(
    tasks: list[
        tuple[
            sp.csr_matrix,
            np.ndarray,
            np.ndarray,
            np.ndarray | None,
            tuple[np.ndarray, np.ndarray] | None,
            np.ndarray | None,
        ]
    ],
) -> list[_Ranges]:
    return [_component_ranges(*task) for task in tasks]


def workers() -> int:
    """Processes the audit's linear programs may use: `IMW_DISCLOSURE_WORKERS`, else the
    warehouse's threads (`IMW_THREADS`, else the CPUs this process may run on;
    `core.resources.threads`)."""
    return count_setting(WORKERS_ENV) or threads()


_POOLS: dict[int, ProcessPoolExecutor] = {}


_POOLS_LOCK = threading.Lock()


_STOPPED: list[str] = []
"""Why `stop_workers` stopped the engine (empty: it was not): no pool starts again after it."""


def _pool(n: int) -> ProcessPoolExecutor:
    """One pool of `n` worker processes per process, started on first use (forkserver: the
    workers do not inherit the threads of a caller such as dbt or DuckDB); one also when two
    threads ask at once (`start_workers` on a thread of its own). After `stop_workers`,
    `EngineStopped`."""
    with _POOLS_LOCK:
        if _STOPPED:
            raise EngineStopped(f"the disclosure engine was stopped: {_STOPPED[-1]}")
        if n not in _POOLS:
            _POOLS[n] = worker_processes.pool(n, "disclosure.engine")
        return _POOLS[n]


def stop_workers(reason: str) -> int:
    """End this process's worker processes now (SIGTERM), for a process that was interrupted:
    the work they hold is not wanted, and without this its caller — dbt waiting for the model
    that runs the engine, the interpreter's exit waiting for the pool — waits until they have
    done all of it (measured on `bw`, 2026-12-06: a build interrupted during the pattern ended
    after 38 s, when dagster-dbt's wait for dbt ran out). Every caller waiting for their results
    gets `EngineStopped` with `reason`, and so does any later use of the engine in this process.
    Safe in a signal handler: it only sends signals. Returns the number of processes ended."""
    _STOPPED.append(reason)
    ended = 0
    for pool in list(_POOLS.values()):
        # the executor's own table of its worker processes (CPython's, 3.8–3.14; 3.14's
        # `terminate_workers` ends the same processes)
        for process in list(getattr(pool, "_processes", {}).values()):
            if process.is_alive():
                process.terminate()
                ended += 1
    return ended


WARM_UP_S = 1.0
"""How long each task `start_workers` submits keeps its worker busy: long enough that no worker
is idle before the last is started (a pool starts a worker for a task only while none is)."""


def start_workers() -> int:
    """Start the pool of `workers()` processes now instead of at the engine's first use, where
    the caller waits for the forkserver to start and fork each worker: 0.39 s of the
    `disclosure_pattern` model in a `bw` correction (cProfile, 2026-12-05). For a process that
    will run the engine and can start it beside other work (the build's dbt process, on a thread
    of its own while dbt starts: `orchestration.dbt_in_warehouse`). Returns the number started
    (0: the engine solves in this process)."""
    n = workers()
    if n <= 1 or _STOPPED:
        return 0
    pool = _pool(n)
    for _ in range(n):
        pool.submit(time.sleep, WARM_UP_S)
    return n


def _shown_wide(seen_low: np.ndarray, seen_high: np.ndarray, needed: np.ndarray) -> np.ndarray:
    """Per variable, whether its witnesses already differ by what it needs: `needed` for a
    base_n (the minimum width), NaN for any other measure, which needs any spread beyond the pin
    tolerance."""
    with np.errstate(invalid="ignore"):  # inf − inf, and comparisons with NaN
        spread = seen_high - seen_low
        return np.where(
            np.isnan(needed),
            spread > WITNESS_SPREAD * np.maximum(1.0, np.abs(seen_high)),
            spread >= needed,
        )


def _shown_wide_one(seen_low: float, seen_high: float, needed: float) -> bool:
    """`_shown_wide` of one variable, in plain floats: `_component_ranges` asks it once or twice
    per program, where numpy's error-state context cost more than the test (226,000 calls, as in
    a `bw` full build: 1.15 s against 0.11 s). A test holds the two to the same answer."""
    spread = seen_high - seen_low
    if needed != needed:  # NaN: not base_n
        return spread > WITNESS_SPREAD * max(1.0, abs(seen_high))
    return spread >= needed


class _Witnesses:
    """The least and greatest value each (cell, measure) of one problem took in the solutions of
    earlier audits, kept by `protect` from round to round.

    Sound because its suppressed cells only grow: a solution of an earlier round, with every
    value suppressed since set to its published value, solves the later equations too (an
    equation that holds a value of the earlier component and a newly suppressed one held the
    latter as a constant, at that value). So what a value was seen to take, it can still take,
    and a value shown wide enough stays so without a program. Only audits of the pattern itself
    add to it (`learn`), not the audits of `_fixable` with candidates suppressed on trial, which
    a later pattern need not contain; those only read it. Witnesses never decide a failure (a
    value not shown wide enough gets its exact range), so the pattern is the same with or
    without them; only the spans reported for passing values may differ."""

    def __init__(self, size: int) -> None:
        self.low = np.full(size, np.inf)
        self.high = np.full(size, -np.inf)

    def seen(self, identity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.low[identity], self.high[identity]

    def learn(self, identity: np.ndarray, low: np.ndarray, high: np.ndarray) -> None:
        """Add values the variables `identity` were shown to take (an unbounded maximum is no
        value)."""
        low_ok, high_ok = np.isfinite(low), np.isfinite(high)
        self.low[identity[low_ok]] = np.minimum(self.low[identity[low_ok]], low[low_ok])
        self.high[identity[high_ok]] = np.maximum(self.high[identity[high_ok]], high[high_ok])


def _one_sum_ranges(
    coefficient: np.ndarray, constant: np.ndarray, row: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Exact (low, high) of each value of components made of one sum a·x = c, x ≥ 0, given per
    value its coefficient, its sum's constant and its sum's number (`row`): no linear program.

    Most components are one sum (a Kreis's suppressed providers under a published Kreis total, a
    year's suppressed quarters under the published year; measured on `bw`, 2023: 9,509 of
    10,890 components, 41,751 of 58,550 programs). With P the values of positive and N of
    negative coefficient, for a value j of P (N: the same with a and c negated):
      - greatest: c / a_j when N is empty, else unbounded (j grows with a value of N);
      - least: 0 when the rest can make up c (c = 0, or c > 0 and another value in P, or
        c < 0 and a value in N), else c / a_j (j alone carries c);
    a coefficient 0 leaves its value free: [0, ∞). A sum with c > 0 and P empty or c < 0 and N
    empty has no solution: the published values contradict it (`InconsistentEquations`).
    Constants within `PIN_TOLERANCE` of 0 count as 0 (sums of floats)."""
    c = np.where(np.abs(constant) <= PIN_TOLERANCE, 0.0, constant)
    rows = int(row.max()) + 1 if len(row) else 0
    positive = np.bincount(row, weights=coefficient > 0, minlength=rows)
    negative = np.bincount(row, weights=coefficient < 0, minlength=rows)
    infeasible = ((c > 0) & (positive[row] == 0)) | ((c < 0) & (negative[row] == 0))
    if infeasible.any():
        raise InconsistentEquations(
            f"published values contradict {np.unique(row[infeasible]).size} sum(s) of suppressed "
            f"values: a sum of values ≥ 0 with the constant {c[infeasible][0]}"
        )
    # in the orientation where j's coefficient is positive: c, and the values of each sign
    sign = np.sign(coefficient)
    c_j = c * sign
    same = np.where(sign > 0, positive[row], negative[row])
    other = np.where(sign > 0, negative[row], positive[row])
    with np.errstate(divide="ignore", invalid="ignore"):
        alone = c / coefficient  # j carrying c by itself
    high = np.where(other > 0, np.inf, alone)
    rest_can = (c_j == 0) | ((c_j > 0) & (same >= 2)) | ((c_j < 0) & (other >= 1))
    low = np.where(rest_can, 0.0, alone)
    free = sign == 0
    low[free], high[free] = 0.0, np.inf
    return low, high


def _solves(a: sp.csr_matrix, b: np.ndarray, x: np.ndarray) -> bool:
    """Whether `x` (no NaN, ≥ 0) solves a·x = b to `TRUTH_TOLERANCE`."""
    if np.isnan(x).any() or (x < 0).any():
        return False
    return bool(np.abs(a @ x - b).max(initial=0.0) <= TRUTH_TOLERANCE)


def _component_ranges(
    a: sp.csr_matrix,
    b: np.ndarray,
    needed: np.ndarray,
    wanted: np.ndarray | None = None,
    seen: tuple[np.ndarray, np.ndarray] | None = None,
    truth: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Range of each variable subject to a·x = b, x ≥ 0: (low, high, exact, programs solved).

    A variable's exact range needs two linear programs (min and max). Most suppressed values
    are far from any threshold, so every solution found is kept as a witness: a variable whose
    witnesses already differ by `needed` (the minimum width for base_n, more than the pin
    tolerance otherwise) passes without its own programs, and its range is the span of the
    witnesses (`exact` false: the true range is at least that wide). With `wanted`, only those
    variables get programs of their own (the others: the span of the witnesses). `seen`: the
    least and greatest value each variable took in solutions already known (`_Witnesses`), which
    count as witnesses from the start; when they prove every wanted variable, no program is
    solved at all. `truth`: the variables' own values (the suppressed values as they are), a
    witness too when they solve the sums (`_solves`): the first program's solution, which sets
    many values to 0, and the values themselves then show most values wide enough (measured on
    `bw`, the pattern in one process: 92,113 programs in 31.3 s of HiGHS → 60,793 in 21.3 s,
    the same cells). Solving the sums, they are also where the first program of a component of
    `CROSSOVER_MIN_VARIABLES` values or more starts from (`_Program.start_at`)."""
    k = a.shape[1]
    if k == 1:  # one value in its equations: each equation pins it
        column = a.toarray()[:, 0]
        x = b / column
        if np.ptp(x) > PIN_TOLERANCE * max(1.0, abs(x[0])) or x[0] < -PIN_TOLERANCE:
            raise InconsistentEquations(
                f"published values contradict the equations of one suppressed value: {x}"
            )
        return np.array([x[0]]), np.array([x[0]]), np.array([True]), 0
    if seen is None:
        seen_low, seen_high = np.full(k, np.inf), np.full(k, -np.inf)
    else:
        seen_low, seen_high = (np.array(bound, dtype=float) for bound in seen)
    solved_by_truth = truth is not None and _solves(a, b, truth)
    if solved_by_truth:
        np.minimum(seen_low, truth, out=seen_low)
        np.maximum(seen_high, truth, out=seen_high)
    low, high = np.zeros(k), np.full(k, np.nan)  # high: inf once a maximum is unbounded
    exact = np.zeros(k, dtype=bool)
    programs = 0
    asked = np.ones(k, dtype=bool) if wanted is None else np.asarray(wanted, dtype=bool)
    if seen is not None and _shown_wide(seen_low, seen_high, needed)[asked].all():
        return seen_low, seen_high, exact, 0

    solver = _Program(a, b)
    if solved_by_truth and k >= CROSSOVER_MIN_VARIABLES:
        solver.start_at(truth)

    def solve(objective: np.ndarray) -> float | None:
        """Optimum of objective·x (None: unbounded); the solution becomes a witness."""
        nonlocal programs
        programs += 1
        result = solver.minimise(objective)
        if result is None:
            return None
        value, x = result
        np.minimum(seen_low, x, out=seen_low)
        np.maximum(seen_high, x, out=seen_high)
        return value

    def proven(j: int) -> bool:
        return _shown_wide_one(float(seen_low[j]), float(seen_high[j]), float(needed[j]))

    solve(np.ones(k))
    objective = np.zeros(k)
    # the values the witnesses do not show wide enough yet, in one pass (they only widen, so a
    # value left out here would be skipped in the loop anyway)
    todo = np.flatnonzero(asked & ~_shown_wide(seen_low, seen_high, needed))
    # Many at once first: the greatest sum of a batch of them raises several in one program,
    # and its solution is a witness for every value. A batch size stays while a pass shows at
    # least half of its values wide enough, else it is quartered; the rest get programs of
    # their own below. Only witnesses come of it, so the verdicts are the same.
    batch = MAXIMISE_BATCH
    while batch > 1 and len(todo) > batch:
        for share in np.array_split(todo, -(-len(todo) // batch)):
            objective[share] = -1.0
            solve(objective)
            objective[share] = 0.0
        left = todo[~_shown_wide(seen_low[todo], seen_high[todo], needed[todo])]
        if len(left) > len(todo) // 2:
            batch //= 4
        todo = left
    for j in todo:
        if proven(j):
            continue
        objective[j] = -1.0
        best = solve(objective)
        objective[j] = 0.0
        if best is None:
            high[j] = np.inf
            continue
        if proven(j):
            continue  # the new witness shows enough spread
        objective[j] = 1.0
        least = solve(objective)
        objective[j] = 0.0
        low[j], high[j], exact[j] = least, -best, True
    spread = ~exact
    low[spread] = seen_low[spread]
    high = np.where(np.isnan(high), seen_high, high)
    return low, high, exact, programs


_THREAD = threading.local()


def _scheduler_started() -> None:
    """HiGHS's task scheduler started on this thread. HiGHS starts it per thread when it solves a
    program, and its crossover uses it without starting it: a crossover before any program on a
    thread crashed the process (a segmentation fault; highspy 1.15.1). A program of nothing
    (one value in no sum) starts it, once per thread."""
    if getattr(_THREAD, "scheduler", False):
        return
    import highspy
    from highspy._core import _Highs

    highs = _Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)  # as every `_Program`: HiGHS keeps one number per thread
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = 1, 0
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = np.zeros(1), np.zeros(1), np.ones(1)
    highs.passModel(lp)
    highs.run()
    _THREAD.scheduler = True


class _Program:
    """min c·x subject to a·x = b, x ≥ 0, for many objectives c over the same constraints.

    HiGHS (the solver behind `scipy.optimize.linprog(method="highs")`) through its own Python
    binding `highspy`: the model is passed once and each new objective re-solves from the last
    basis. Measured on `tiny` (2 cores, loaded): `linprog` spent about 20 ms per program on
    argument checks and copies, for programs of a few variables, where the re-solve takes well
    under a millisecond."""

    def __init__(self, a: sp.csr_matrix, b: np.ndarray) -> None:
        import highspy
        from highspy._core import _Highs

        # The binding's solver class itself: `highspy.Highs` (its subclass for callbacks and
        # keyboard interrupts, neither used here) registers a callback while HiGHS's output is
        # still on, and so wrote HiGHS's copyright banner into the build's output once per process.
        self._highs = _Highs()
        self._highs.setOptionValue("output_flag", False)
        # presolve for the first program of a large component only (`PRESOLVE_MIN_VARIABLES`)
        self._highs.setOptionValue(
            "presolve", "on" if a.shape[1] >= PRESOLVE_MIN_VARIABLES else "off"
        )
        # One thread: the solves here are serial simplex (the workers are processes), and with
        # the default (0: as many as the machine has) HiGHS counts the cores again on every
        # solve — 27 µs of a no-op re-solve against 13 µs (highspy 1.15.1; 1.16 reads /sys for
        # it, 92 µs against 44 µs, pyproject.toml). Every `_Program` sets the same: HiGHS keeps
        # its scheduler per thread, and another number on a thread that solved fails ("Not Set").
        self._highs.setOptionValue("threads", 1)
        # The first program (no basis yet) by the dual simplex, every later one by the primal
        # (`minimise`): a new objective leaves the last basis feasible, so primal goes on from
        # it (measured on `bw`, both cores, the same pattern and ranges' verdicts: `protect`
        # 90 → 71 s, the audit 43 → 36 s against the dual simplex throughout). From no basis
        # the primal is far slower: a `federal` component of 82,457 unknowns and 67,473 sums
        # took 128 s by the primal and 3.5 s by the dual (then 20 re-solves by the primal in
        # 1.9 and 1.6 s; disclosure/ENGINE.md, "The first program of a component by the dual
        # simplex").
        self._highs.setOptionValue("simplex_strategy", DUAL_SIMPLEX)
        self._status = highspy.HighsModelStatus
        k = a.shape[1]
        columns = sp.csc_matrix(a)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = k, a.shape[0]
        lp.col_cost_ = np.zeros(k)
        lp.col_lower_ = np.zeros(k)
        lp.col_upper_ = np.full(k, highspy.kHighsInf)
        lp.row_lower_ = lp.row_upper_ = np.asarray(b, dtype=float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = columns.indptr
        lp.a_matrix_.index_ = columns.indices
        lp.a_matrix_.value_ = columns.data
        self._highs.passModel(lp)
        self._k = k
        self._columns = np.arange(k, dtype=np.int32)
        self._primal = False
        self._feasible = False

    def start_at(self, x: np.ndarray) -> None:
        """Begin from a basis at a vertex near `x`, a solution of the constraints, found by HiGHS's
        crossover; the first program then goes on from it by the primal simplex, as every later
        one does (`CROSSOVER_MIN_VARIABLES`). Where the crossover does not end in such a basis,
        the first program starts from none, as without it."""
        import highspy

        _scheduler_started()
        solution = highspy.HighsSolution()
        solution.col_value = np.asarray(x, dtype=float)
        solution.value_valid = True
        highs = self._highs
        if (
            highs.crossover(solution) == highspy.HighsStatus.kOk
            and highs.getModelStatus() == self._status.kOptimal
            and highs.getBasis().valid
        ):
            highs.setOptionValue("simplex_strategy", PRIMAL_SIMPLEX)
            highs.setOptionValue("presolve", "off")
            self._primal = True
        else:
            highs.clearSolver()

    def minimise(self, objective: np.ndarray) -> tuple[float, np.ndarray] | None:
        """(optimum, solution), or None when unbounded below."""
        highs = self._highs
        highs.changeColsCost(self._k, self._columns, objective)
        highs.run()
        if not self._primal:
            # from the basis now held, as it is (the first program's may have been presolved)
            highs.setOptionValue("simplex_strategy", PRIMAL_SIMPLEX)
            highs.setOptionValue("presolve", "off")
            self._primal = True
        status = highs.getModelStatus()
        if status == self._status.kUnknown:
            # the warm start from the last basis can stall on a degenerate program (seen at
            # `demo` scale); solving it from scratch, with presolve, settles it
            highs.clearSolver()
            highs.setOptionValue("presolve", "on")
            highs.setOptionValue("simplex_strategy", DUAL_SIMPLEX)
            highs.run()
            highs.setOptionValue("presolve", "off")
            highs.setOptionValue("simplex_strategy", PRIMAL_SIMPLEX)
            status = highs.getModelStatus()
        if status == self._status.kOptimal:
            self._feasible = True
            solution = np.asarray(highs.getSolution().col_value)
            return highs.getObjectiveValue(), solution
        if status == self._status.kUnbounded or (
            self._feasible and status == self._status.kUnboundedOrInfeasible
        ):
            return None
        if status in (self._status.kInfeasible, self._status.kUnboundedOrInfeasible):
            raise InconsistentEquations(
                "published values contradict the equations of a component "
                f"({highs.getNumRow()} equations, {self._k} suppressed values)"
            )
        raise RuntimeError(f"HiGHS failed: {highs.modelStatusToString(status)}")


@dataclass(frozen=True)
class _ZeroLinks:
    """The sums that can make a value 0, over the rows of `Problem.values` (`_zero_links`):
    per link a part's row, its total's row and the sum (numbered 0 … k−1); per sum its number
    of parts."""

    part: np.ndarray
    total: np.ndarray
    equation: np.ndarray
    n_parts: np.ndarray


@dataclass(frozen=True)
class _Layout:
    """A problem's values and terms as arrays, made once for its many audits (`protect` audits
    one problem again and again, each time with more suppressed cells): per audit only the
    suppressed flags change, and array indexing replaces the joins of the frames (measured on
    `bw`, one process, cProfile: the audits' own work beside the solver 25.6 → 12.0 s).

    Per row of `values`: `value_cell`; `value_identity` (cell · the number of measures + the
    measure's number, `Problem.measure_codes`); `value_base_n` (the measure is base_n);
    `value_null` (not published); `value` (0 where null). Per row of `terms`: `term_row` (the
    row of `values` with its (cell, measure), −1 for none); `term_equation` (the equation's
    rank, 0 … `n_equations` − 1 in the equations' order); `term_coefficient`."""

    value_cell: np.ndarray
    value_identity: np.ndarray
    value_base_n: np.ndarray
    value_null: np.ndarray
    value: np.ndarray
    term_row: np.ndarray
    term_equation: np.ndarray
    term_coefficient: np.ndarray
    n_equations: int


def _layout(problem: Problem) -> _Layout:
    values = problem.values
    cell = values.get_column("cell").cast(pl.Int64).to_numpy()
    measure = values.get_column("measure")
    terms = problem.terms.select(
        (pl.col("equation").rank("dense") - 1).cast(pl.Int64).alias("equation"),
        pl.col("coefficient").cast(pl.Float64),
    )
    equation = terms.get_column("equation").to_numpy()
    return _Layout(
        value_cell=cell,
        value_identity=values.select(_identity(problem.measure_codes)).to_series().to_numpy(),
        value_base_n=(measure == BASE_N).to_numpy(),
        value_null=values.get_column("value").is_null().to_numpy(),
        value=values.get_column("value").cast(pl.Float64).fill_null(0.0).to_numpy(),
        term_row=problem.term_rows,
        term_equation=equation,
        term_coefficient=terms.get_column("coefficient").to_numpy(),
        n_equations=int(equation.max()) + 1 if len(equation) else 0,
    )


class _Grouped:
    """Items (0 … n−1) grouped by a key per item (0 … groups−1; −1: in no group): `members`
    of given groups at once, in the items' order — for the rounds of `protect`, which look
    only at the equations and values a round changed (`_RoundAudits`, `_EquationsHold`)."""

    def __init__(self, key: np.ndarray, groups: int) -> None:
        key = np.asarray(key)
        self._order = np.argsort(key, kind="stable")
        self._bounds = np.searchsorted(key[self._order], np.arange(groups + 1))

    def members(self, groups: np.ndarray) -> np.ndarray:
        """The items of `groups` (distinct group numbers), sorted."""
        groups = np.asarray(groups, dtype=np.int64)
        starts = self._bounds[groups]
        lengths = self._bounds[groups + 1] - starts
        # each group's run of positions in `_order`, laid end to end
        runs = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        return np.sort(self._order[runs + np.arange(int(lengths.sum()))])


def _identity(codes: dict[str, int]) -> pl.Expr:
    """(cell, measure) as one whole number: cell · the number of measures + the measure's number
    (`Problem.measure_codes`); null for a measure not among them."""
    return pl.col("cell").cast(pl.Int64) * len(codes) + pl.col("measure").replace_strict(
        codes, default=None, return_dtype=pl.Int64
    )


def _by_term_row(problem: Problem, per_value: pl.Series) -> pl.Series:
    """`per_value` (a column of `problem.values`, or one per its rows) for each term, null where
    the term's (cell, measure) has no value: what a left join of the terms on the values gives."""
    rows = pl.Series(problem.term_rows)
    return per_value.gather(rows.scatter(np.flatnonzero(problem.term_rows < 0), None))


def _zero_links(problem: Problem) -> _ZeroLinks:
    """Only the sums whose total or whose every part is 0 (or not given) can make a value 0, so
    the fixed point of `_zero_forced` runs over those (the ones of `tiny`: 31,709 of 56,924)."""
    # a value not given (a published table's withheld cell) may be 0
    zero = problem.values.select((pl.col("value").abs() <= PIN_TOLERANCE).fill_null(True))
    rows = pl.int_range(problem.values.height, dtype=pl.Int64, eager=True).alias("row")
    terms = problem.terms.select("equation", "coefficient").with_columns(
        _by_term_row(problem, rows), _by_term_row(problem, zero.to_series().alias("zero"))
    )
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
    equation = links.get_column("sum").to_numpy().astype(np.int64)
    return _ZeroLinks(
        part=links.get_column("row").to_numpy(),
        total=links.get_column("total").to_numpy(),
        equation=equation,
        n_parts=np.bincount(equation, minlength=useful.height),
    )


def _zero_forced(links: _ZeroLinks, published_zero: np.ndarray) -> np.ndarray:
    """Per row of `Problem.values`: is the value made 0 by published values of 0?

    Counts are ≥ 0, so a part of a sum whose total is 0 is 0, and a total whose parts are all
    0 is 0. Starting from the published values of 0 (`published_zero`, per row), both steps are
    repeated to a fixed point (the depth of the hierarchy): a suppressed quarter under a LAND
    quarter published as 0 is 0, and so is its suppressed year when the other quarters are
    published as 0. Such a value is known from published zeros alone, as the published "no
    cases" rows themselves are."""
    known = np.asarray(published_zero, dtype=bool).copy()
    while True:
        grown = known.copy()
        grown[links.part[known[links.total]]] = True  # downwards
        zero_parts = np.bincount(links.equation[known[links.part]], minlength=len(links.n_parts))
        complete = zero_parts == links.n_parts
        grown[links.total[complete[links.equation]]] = True  # upwards
        if (grown == known).all():
            return known
        known = grown


def _failures(ranges: pl.DataFrame, minimum: int) -> pl.DataFrame:
    is_base_n = pl.col("measure") == BASE_N
    tolerance = PIN_TOLERANCE * pl.max_horizontal(pl.col("low").abs(), pl.lit(1.0))
    pinned = pl.col("width") <= tolerance
    at_zero = pl.col("high").abs() <= tolerance
    return ranges.with_columns(
        pl.when(is_base_n & (pl.col("width") < minimum))
        .then(pl.lit("base_n_range"))
        .when(~is_base_n & pinned & ~(at_zero & pl.col("zero_forced")))
        .then(pl.lit("pinned"))
        .alias("rule")
    ).filter(pl.col("rule").is_not_null())


# --------------------------------------------------------------------------------------------
# Secondary suppression
# --------------------------------------------------------------------------------------------
def protect(problem: Problem, minimum: int = CELL_MINIMUM, *, last_resort: bool = True) -> Pattern:
    """Primary suppression, then greedy secondary suppression audited until the rule holds (or
    only values no candidate can protect fail).

    `last_resort`: when no candidate can protect a failing value, a cell with `may_be_secondary`
    false (a LAND row) whose primary rule applies may be taken after all, rather than publish a
    recoverable count (`Pattern.last_resort` lists them). A LAND quarter resting on 1 to 4
    cases is the case: LAND year − the other LAND quarters gives it away, and every cell of that
    sum is a LAND row. Without it, such cells end in `unprotectable`.

    Every step looks only along sums, so each *part* of the problem (`parts`: the cells linked
    by sums; in the warehouse one block of one table for one year) comes out the same solved
    alone or beside the others. A problem of at least `PARTS_PARALLEL_MIN_CELLS` cells and more
    than one part is therefore solved part by part on `workers()` processes (`_protect_parts`):
    the same pattern, and a part that is done no longer costs the others' rounds."""
    return protect_started(problem, minimum, last_resort=last_resort).result()


_T = TypeVar("_T")


@dataclass(frozen=True)
class Started(Generic[_T]):
    """Work under way (`protect_started`, `disclosure.memo.protect_keeping_started`): its parts
    submitted to the workers (`futures`); `result()` waits for them and puts the result
    together, `cancel()` withdraws the parts not begun."""

    finish: Callable[[], _T]
    futures: tuple[Future, ...] = ()

    def result(self) -> _T:
        return self.finish()

    def cancel(self) -> None:
        for future in self.futures:
            future.cancel()


def protect_started(
    problem: Problem, minimum: int = CELL_MINIMUM, *, last_resort: bool = True
) -> Started[Pattern]:
    """`protect`, begun: where `protect` solves part by part on the workers, the parts are
    submitted now and the caller may prepare the next problem while they are solved (as
    `disclosure.chunks.protect_by_year` does, a year ahead); otherwise solved at once. The
    pattern is `protect`'s either way: each part is solved alone, whenever it runs."""
    n = workers()
    if n >= 2 and problem.n_cells >= PARTS_PARALLEL_MIN_CELLS:
        labels = parts(problem)
        if labels.max(initial=0) > 0:
            return _protect_parts(problem, labels, minimum, last_resort, n)
    pattern = _protect(problem, minimum, last_resort)
    return Started(lambda: pattern)


class _RoundAudits:
    """`protect`'s audits of one problem, round after round: the suppressed cells only grow,
    so a component of suppressed values whose variables no newly suppressed value joined has
    the same equations and constants as in the last round, and keeps its ranges. Only the
    components of the newly suppressed values (with every earlier component they join) are
    built and solved anew (`_solve_system`), on the equations that hold them; the ranges are
    those a whole `audit` finds, component for component alike.

    Before, each round built the whole problem's system and components again and found the
    unchanged ones in a cache: a `federal` part of 171 rounds paid for the whole part in every
    round (py-spy, the year 2017 in one process, 247.5 s: the systems and components 42.1 s).

    Per row of `problem.values` it keeps the suppressed value's range and component; the
    suppressed values `learn` from each round's solutions into `witnesses`."""

    def __init__(self, problem: Problem, minimum: int, witnesses: _Witnesses) -> None:
        layout = problem.layout
        self._problem, self._minimum, self._witnesses = problem, minimum, witnesses
        n_rows = len(layout.value_cell)
        self._hidden = np.zeros(problem.n_cells, dtype=bool)  # as at the last round
        self._low = np.zeros(n_rows)
        self._high = np.full(n_rows, np.inf)
        self._exact = np.ones(n_rows, dtype=bool)
        self._component = np.full(n_rows, -1, dtype=np.int64)  # of each suppressed value
        self._components = 0  # how many there are
        self._next = 0  # the next component's number
        self._rows_of_cell = _Grouped(layout.value_cell, problem.n_cells)
        self._terms_of_row = _Grouped(layout.term_row, n_rows)
        self._terms_of_equation = _Grouped(layout.term_equation, layout.n_equations)

    def audit(self, suppressed: np.ndarray) -> AuditResult:
        """The audit of `suppressed` (a flag per cell, holding every cell of the last round's)."""
        started = time.perf_counter()
        problem, layout = self._problem, self._problem.layout
        hidden = np.asarray(suppressed, dtype=bool)
        if (self._hidden & ~hidden).any():
            raise ValueError("_RoundAudits: a suppressed cell of an earlier round is published")
        hidden_rows = hidden[layout.value_cell]
        if not self._hidden.any():
            # the first round: the whole problem's checks (later rounds only publish less)
            _check_terms(problem, hidden_rows)
        was_hidden = self._hidden[layout.value_cell]
        new = self._rows_of_cell.members(np.flatnonzero(hidden & ~self._hidden))
        # the earlier components that share an equation with a new value join its component
        near = layout.term_row[
            self._terms_of_equation.members(
                np.unique(layout.term_equation[self._terms_of_row.members(new)])
            )
        ]
        joined = np.unique(self._component[near[was_hidden[near]]])
        earlier = np.flatnonzero(was_hidden)
        rows = np.union1d(new, earlier[np.isin(self._component[earlier], joined)])
        # their system: every equation that holds one of them, in the equations' order, with
        # its terms in their order (so its constant is summed as `_system` sums it)
        equations = np.unique(layout.term_equation[self._terms_of_row.members(rows)])
        terms = self._terms_of_equation.members(equations)
        term_row = layout.term_row[terms]
        term_hidden = hidden_rows[term_row]
        published = ~term_hidden
        term_equation = np.searchsorted(equations, layout.term_equation[terms])
        coefficient = layout.term_coefficient[terms]
        constant = np.bincount(
            term_equation[published],
            weights=coefficient[published] * layout.value[term_row[published]],
            minlength=len(equations),
        )
        a = sp.csr_matrix(
            (
                coefficient[term_hidden],
                (term_equation[term_hidden], np.searchsorted(rows, term_row[term_hidden])),
            ),
            shape=(len(equations), len(rows)),
        )
        a.sum_duplicates()
        solved = _solve_system(
            a,
            -constant,
            layout.value_identity[rows],
            _needed(problem, rows, self._minimum),
            wanted=None,
            witnesses=self._witnesses,
            truth=_truth(problem, rows),
            audit_size=int(hidden_rows.sum()),
            learn=True,
        )
        self._low[rows], self._high[rows], self._exact[rows] = (
            solved.low,
            solved.high,
            solved.exact,
        )
        self._component[rows] = self._next + solved.component
        self._next += solved.n_components
        self._components += solved.n_components - len(joined)
        self._hidden = hidden.copy()
        return _audit_result(
            problem,
            hidden,
            problem.values.select("cell", "measure").filter(pl.Series(hidden_rows)),
            (self._low[hidden_rows], self._high[hidden_rows], self._exact[hidden_rows]),
            self._minimum,
            components=self._components,
            programs=solved.programs,
            started=started,
        )


def _protect(problem: Problem, minimum: int, last_resort: bool) -> Pattern:
    """`protect` in this process, on the whole problem at once."""
    started = time.perf_counter()
    status = np.zeros(problem.n_cells, dtype=np.int8)
    status[primary_cells(problem, minimum)] = PRIMARY
    base_n = problem.base_n()
    with np.errstate(invalid="ignore"):
        candidate = problem.cells.get_column("may_be_secondary").fill_null(False).to_numpy() & (
            base_n > 0
        )
    with np.errstate(invalid="ignore"):
        fallback = (
            problem.cells.get_column("primary_rule").fill_null(False).to_numpy()
            & ~candidate
            & (base_n > 0)
        )
    terms = _term_frame(problem, base_n, candidate)
    fallback_terms = terms.with_columns(
        pl.Series("candidate", fallback[terms.get_column("cell").to_numpy()])
    )
    # (equation, cell) of every term, for `_candidates_for`: the same rows in both frames
    by_cell = terms.select("equation", "cell").unique()
    given_up = pl.DataFrame(schema={"cell": pl.Int64, "measure": pl.String})
    neighbours = _Neighbours(problem)
    proven = rescuable = stuck_before = given_up.clear()
    taken_last: list[np.ndarray] = []
    rounds = 0
    # status only grows from round to round: what a value took before, it can still take
    witnesses = _Witnesses(problem.n_cells * len(problem.measure_codes))
    audits = _RoundAudits(problem, minimum, witnesses)
    step_1 = _EquationsHold(terms, problem.n_cells, minimum)
    while True:
        rounds += 1
        step_1.run(status)
        result = audits.audit(status > NONE)
        failures = result.failures.join(given_up, on=["cell", "measure"], how="anti")
        if failures.is_empty() or rounds >= MAX_ROUNDS:
            break
        # Only failures that ordinary candidates can fix at all are sent to them: suppressing
        # more never narrows a range, so one that still fails with every candidate suppressed
        # would only collect useless cells round after round.
        # Verdicts that stay true, so each value is asked once: status only grows and stays
        # within primary ∪ candidates ∪ fallback cells, so a value shown fixable by candidates
        # (`proven`) or by candidates and fallback cells (`rescuable`) stays so. A value once
        # stuck may be fixable later (a fallback cell taken meanwhile can help it); it is asked
        # again, but with every candidate at once (`stuck_before`).
        fixable = pl.concat(
            [
                failures.join(proven, on=KEY, how="semi"),
                _fixable(
                    problem,
                    status,
                    candidate,
                    failures.join(proven, on=KEY, how="anti"),
                    minimum,
                    neighbours,
                    far=stuck_before,
                    witnesses=witnesses,
                ),
            ]
        )
        proven = pl.concat([proven, _keys(fixable)]).unique()
        stuck = failures.join(fixable, on=KEY, how="anti")
        stuck_before = pl.concat([stuck_before, _keys(stuck)]).unique()
        picks = [_candidates_for(fixable, terms, status, by_cell).get_column("pick")]
        if not stuck.is_empty() and last_resort:
            rescued = pl.concat(
                [
                    stuck.join(rescuable, on=KEY, how="semi"),
                    _fixable(
                        problem,
                        status,
                        candidate | fallback,
                        stuck.join(rescuable, on=KEY, how="anti"),
                        minimum,
                        neighbours,
                        # with every fallback cell at once: measured on `demo`, round 1, 498
                        # values: 0.35 s (witnesses show the spread at once), near first 23 s
                        far=stuck,
                        witnesses=witnesses,
                    ),
                ]
            )
            rescuable = pl.concat([rescuable, _keys(rescued)]).unique()
            given_up = pl.concat([given_up, _keys(stuck.join(rescued, on=KEY, how="anti"))])
            # a fallback cell in an equation of the failing value itself first (a LAND quarter
            # is freed by another LAND quarter, and every part below it with it)
            last = _candidates_for(rescued, fallback_terms, status, by_cell, max_hops=1)
            if last.is_empty():
                last = _candidates_for(rescued, fallback_terms, status, by_cell)
            taken_last.append(last.get_column("pick").unique().to_numpy())
            picks.append(last.get_column("pick"))
        elif not stuck.is_empty():
            given_up = pl.concat([given_up, _keys(stuck)])
        chosen = pl.concat(picks).unique().to_numpy()
        if len(chosen) == 0:
            given_up = pl.concat([given_up, _keys(failures)])
            continue  # audit once more: the failures left are the unprotectable ones
        status[chosen] = SECONDARY
    unprotectable = result.failures.join(given_up, on=["cell", "measure"], how="semi")
    return Pattern(
        status=status,
        audit=result,
        unprotectable=unprotectable,
        rounds=rounds,
        seconds=time.perf_counter() - started,
        last_resort=np.unique(np.concatenate([np.zeros(0, dtype=np.int64), *taken_last])),
    )


# --------------------------------------------------------------------------------------------
# Parts: the cells linked by sums, solved one by one
# --------------------------------------------------------------------------------------------
def parts(problem: Problem) -> np.ndarray:
    """Per cell, the number of its part (cells linked by sums); parts are numbered in the order
    of their first cell, and a cell in no sum is a part of its own. Found once per problem
    (`Problem.part_labels`), read-only."""
    return problem.part_labels


def _part_labels(problem: Problem) -> np.ndarray:
    terms = problem.terms
    if terms.is_empty():
        return np.arange(problem.n_cells, dtype=np.int64)
    equation = terms.get_column("equation").to_numpy()
    cell = terms.get_column("cell").to_numpy()
    rows = np.unique(equation, return_inverse=True)[1]
    incidence = sp.csr_matrix(
        (np.ones(len(cell), dtype=np.int8), (rows, cell)), shape=(rows.max() + 1, problem.n_cells)
    )
    graph = sp.bmat([[None, incidence.T], [incidence, None]], format="csr")
    labels = connected_components(graph, directed=False)[1][: problem.n_cells]
    # number the parts by their first cell (connected_components nearly does; make it so)
    first = np.full(labels.max() + 1, problem.n_cells, dtype=np.int64)
    np.minimum.at(first, labels, np.arange(problem.n_cells))
    renumber = np.empty_like(first)
    renumber[np.argsort(first, kind="stable")] = np.arange(len(first))
    return renumber[labels].astype(np.int64)


def subproblem(problem: Problem, take: np.ndarray) -> tuple[Problem, np.ndarray]:
    """The problem of the flagged cells (whole parts: every sum stays whole), renumbered from 0
    in the same order (cells and sums), and the original numbers of its cells."""
    group = np.where(np.asarray(take, dtype=bool), 0, -1)
    return _split(problem, group, 1)[0]


def split_parts(problem: Problem, labels: np.ndarray) -> list[tuple[Problem, np.ndarray]]:
    """`subproblem` of each part (`labels`, from `parts`), in part order, in one pass."""
    return _split(problem, labels, int(labels.max(initial=-1)) + 1)


def _split(problem: Problem, group: np.ndarray, n_groups: int) -> list[tuple[Problem, np.ndarray]]:
    """The subproblem of each group 0 … n_groups−1 of whole parts (`group` per cell, −1: in
    none), cells and sums renumbered from 0 in their order, with the cells' original numbers."""
    order = np.argsort(group, kind="stable")
    start = np.searchsorted(group[order], np.arange(n_groups + 1))
    local = np.full(problem.n_cells, -1, dtype=np.int64)
    inside = group[order] >= 0
    local[order[inside]] = np.arange(problem.n_cells)[inside] - start[group[order[inside]]]

    def by_group(frame: pl.DataFrame, *, equations: bool = False) -> list[pl.DataFrame]:
        cell = frame.get_column("cell").to_numpy()
        renumbered = frame.with_columns(
            pl.Series("cell", local[cell], dtype=frame.schema["cell"]),
            pl.Series("_group", group[cell]),
        ).filter(pl.col("_group") >= 0)
        if equations:  # sums numbered from 0 in their order, within each group
            renumbered = renumbered.with_columns(
                (pl.col("equation").rank("dense").over("_group") - 1).cast(pl.Int64)
            )
        split = renumbered.partition_by("_group", as_dict=True, include_key=False)
        empty = renumbered.clear().drop("_group")
        return [split.get((g,), empty) for g in range(n_groups)]

    cells, values, terms = (
        by_group(problem.cells),
        by_group(problem.values),
        by_group(problem.terms, equations=True),
    )
    return [
        (Problem(cells[g], values[g], terms[g]), order[start[g] : start[g + 1]])
        for g in range(n_groups)
    ]


def _protect_parts(
    problem: Problem, labels: np.ndarray, minimum: int, last_resort: bool, n: int
) -> Started[Pattern]:
    """`protect` part by part on `n` worker processes (`_submit`), each part solved there in
    one process (`_protect_alone`), put together as one `Pattern` (`_joined`): the one `_protect`
    finds on the whole problem."""
    started = time.perf_counter()
    pieces = split_parts(problem, labels)
    futures = _submit(n, _protect_alone, [(piece, minimum, last_resort) for piece, _ in pieces])

    def finish() -> Pattern:
        solved = _collect(n, futures)
        return _joined(
            problem,
            [(cells, pattern) for (_, cells), pattern in zip(pieces, solved, strict=True)],
            minimum,
            started,
        )

    return Started(finish, tuple(futures))


def _protect_alone(problem: Problem, minimum: int, last_resort: bool) -> Pattern:
    """`_protect` in a worker process: it is one of the workers, so its audits stay in it."""
    os.environ[WORKERS_ENV] = "1"
    return _protect(problem, minimum, last_resort)


def _joined(
    problem: Problem, solved: list[tuple[np.ndarray, Pattern]], minimum: int, started: float
) -> Pattern:
    """One `Pattern` of `problem` from the patterns of its parts (with their cells' numbers):
    statuses, the final audits joined (`_joined_audit`, its seconds summed over the parts),
    unprotectable values as one audit would give them, the rounds the most any part took."""
    status = np.zeros(problem.n_cells, dtype=np.int8)
    for cells, pattern in solved:
        status[cells] = pattern.status
    result = _joined_audit(
        problem,
        [(cells, pattern.audit) for cells, pattern in solved],
        minimum,
        seconds=sum(pattern.audit.seconds for _, pattern in solved),
    )
    unprotectable = pl.concat(
        [_keys(_renumbered(pattern.unprotectable, cells)) for cells, pattern in solved]
    )
    return Pattern(
        status=status,
        audit=result,
        unprotectable=result.failures.join(unprotectable, on=KEY, how="semi"),
        rounds=max(pattern.rounds for _, pattern in solved),
        seconds=time.perf_counter() - started,
        last_resort=np.unique(
            np.concatenate([np.zeros(0, dtype=np.int64)] + [c[p.last_resort] for c, p in solved])
        ),
    )


def _joined_audit(
    problem: Problem, audited: list[tuple[np.ndarray, AuditResult]], minimum: int, seconds: float
) -> AuditResult:
    """One `AuditResult` of `problem` from the audits of its parts (with their cells' numbers):
    the ranges in the order of `problem.values`, as `audit` gives them, and their failures;
    counts summed (`linear_programs`: those the parts' audits solved)."""
    row = problem.values.select(pl.col("cell").cast(pl.Int64), "measure").with_row_index("_row")
    ranges = (
        pl.concat([_renumbered(result.ranges, cells) for cells, result in audited])
        .join(row, on=KEY)
        .sort("_row")
        .drop("_row")
    )
    results = [result for _, result in audited]
    return AuditResult(
        ranges=ranges,
        failures=_failures(ranges, minimum),
        cells=problem.n_cells,
        equations=problem.n_equations,
        suppressed=sum(r.suppressed for r in results),
        variables=sum(r.variables for r in results),
        components=sum(r.components for r in results),
        linear_programs=sum(r.linear_programs for r in results),
        seconds=seconds,
        minimum=minimum,
    )


def _renumbered(frame: pl.DataFrame, cells: np.ndarray) -> pl.DataFrame:
    """`frame` with each part's own cell numbers turned into the problem's (`cells`)."""
    return frame.with_columns(
        pl.Series("cell", cells[frame.get_column("cell").to_numpy()], dtype=pl.Int64)
    )


def _audit_parts(
    problem: Problem, labels: np.ndarray, hidden: np.ndarray, minimum: int, n: int
) -> AuditResult:
    """`audit` part by part on `n` worker processes, the largest parts first: each part's
    components are its own, so the ranges are the ones `audit` finds on the whole problem."""
    started = time.perf_counter()
    pieces = split_parts(problem, labels)
    audited = _on_workers(
        n, _audit_alone, [(piece, hidden[cells], minimum) for piece, cells in pieces]
    )
    return _joined_audit(
        problem,
        [(cells, result) for (_, cells), result in zip(pieces, audited, strict=True)],
        minimum,
        seconds=time.perf_counter() - started,
    )


def _audit_alone(problem: Problem, hidden: np.ndarray, minimum: int) -> AuditResult:
    """`audit` in a worker process: it is one of the workers, so it solves in itself."""
    os.environ[WORKERS_ENV] = "1"
    return audit(problem, hidden, minimum)


def _on_workers(n: int, function, arguments: list[tuple]) -> list:
    """`function(*a)` for each of `arguments` (each starting with a part's `Problem`), in order,
    on the pool of `n` workers (`_submit`, `_collect`)."""
    return _collect(n, _submit(n, function, arguments))


def _submit(n: int, function, arguments: list[tuple]) -> list[Future]:
    """`function(*a)` for each of `arguments` (each starting with a part's `Problem`) submitted to
    the pool of `n` workers, the largest parts (cells and terms) first, each to the next free
    worker (a big one started last would leave one worker alone at the end); the futures in the
    order of `arguments`."""
    sizes = [a[0].n_cells + a[0].terms.height for a in arguments]
    pool = _pool(n)
    try:
        futures = {
            int(i): pool.submit(function, *arguments[i]) for i in np.argsort(-np.asarray(sizes))
        }
    except BrokenProcessPool as exc:
        raise _pool_failure(n, exc) from exc
    return [futures[i] for i in range(len(arguments))]


def _collect(n: int, futures: list[Future]) -> list:
    """The results of `_submit`'s futures, in order."""
    try:
        return [future.result() for future in futures]
    except BrokenProcessPool as exc:
        raise _pool_failure(n, exc) from exc


KEY = ["cell", "measure"]


def _keys(failures: pl.DataFrame) -> pl.DataFrame:
    return failures.select(pl.col("cell").cast(pl.Int64), "measure").unique()


def _fixable(
    problem: Problem,
    status: np.ndarray,
    extra: np.ndarray,
    failures: pl.DataFrame,
    minimum: int,
    neighbours: _Neighbours,
    far: pl.DataFrame | None = None,
    witnesses: _Witnesses | None = None,
) -> pl.DataFrame:
    """The failing (cell, measure) that pass the rule once every `extra` cell is suppressed too
    (the most any choice among them can do: suppressing more never narrows a range).

    Asked first with only the `extra` cells near the failing ones suppressed (within
    `LOCAL_HOPS` equations): by the same monotony a value that passes then passes with every
    `extra` cell, and the audit stays on components of the usual size. Only the values that
    fail locally are asked again with every `extra` cell, whose components can span a whole
    table (measured on `bw`: one such audit of a topic table, 42,667 unknowns, 178 s for 224
    programs; the local one 12 s). The values in `far` (cell, measure) skip the local question:
    they failed it before, and would most likely fail it again. `witnesses`: those of the
    pattern's audits so far (`_Witnesses`; every trial suppresses more than they did)."""
    if failures.is_empty():
        return failures
    shown = []
    left = failures
    for hops in (*LOCAL_HOPS, None):
        asked = left if hops is None or far is None else left.join(far, on=KEY, how="anti")
        if asked.is_empty():
            continue
        targets = np.zeros(problem.n_cells, dtype=bool)
        targets[asked.get_column("cell").to_numpy()] = True
        near = extra if hops is None else extra & neighbours.within(targets, hops)
        best = audit(problem, (status > NONE) | near, minimum, targets=targets, witnesses=witnesses)
        passing = asked.join(best.failures, on=KEY, how="anti")
        shown.append(passing)
        left = left.join(passing, on=KEY, how="anti")
        if left.is_empty():
            break
    return pl.concat(shown) if shown else failures.clear()


class _Neighbours:
    """Cells that share an equation with given cells, and so on outwards (`within`)."""

    def __init__(self, problem: Problem) -> None:
        equation = problem.terms.get_column("equation").to_numpy()
        cell = problem.terms.get_column("cell").to_numpy()
        incidence = sp.csr_matrix(
            (np.ones(len(cell), dtype=np.float32), (equation, cell)),
            shape=(int(equation.max()) + 1 if len(equation) else 0, problem.n_cells),
        )
        self._cell_to_cell = (incidence.T @ incidence).tocsr()

    def within(self, cells: np.ndarray, hops: int) -> np.ndarray:
        """Flags of the cells at most `hops` equations away from the flagged `cells`."""
        reached = np.asarray(cells, dtype=bool).copy()
        for _ in range(hops):
            grown = reached | (self._cell_to_cell @ reached.astype(np.float32) > 0)
            if (grown == reached).all():
                break
            reached = grown
        return reached


def _term_frame(problem: Problem, base_n: np.ndarray, candidate: np.ndarray) -> pl.DataFrame:
    """Terms with their value, the cell's base_n and whether it may be chosen; per equation
    whether every term is a base_n, and its rank (`equation_rank`, `Problem.layout`'s: 0, 1, …
    in the equations' order, for counting per equation in arrays)."""
    # gathered by each term's value row and cell (`Problem.term_rows`), not joined: 23 against
    # 92 ms for one `bw` year's problem (2026-12-06)
    cell = problem.terms.get_column("cell").to_numpy()
    return problem.terms.with_columns(
        pl.Series("equation_rank", problem.layout.term_equation),
        _by_term_row(problem, problem.values.get_column("value")).fill_null(0.0),
        pl.Series("cell_base_n", np.asarray(base_n)[cell]),
        pl.Series("candidate", np.asarray(candidate)[cell]),
    ).with_columns((pl.col("measure") == BASE_N).all().over("equation").alias("base_n_equation"))


class _EquationsHold:
    """Step 1 of `protect` (`run`, in place on `status`): while an equation asks for another
    suppressed cell (one suppressed term; or suppressed parts, total published, that sum to less
    than the minimum (base_n) or to 0 (other measures, total not 0)), each such equation gets
    its candidate with the smallest base_n (then cell number) among those not suppressed (a cell
    with a term of 0 does not count where two or more terms are suppressed already).

    In arrays per term and per equation (the equations' ranks, `_term_frame`): a frame's
    group-by per pass cost 9 of 149 s of a `bw` pattern in one process (cProfile, 2026-12-06).
    Kept from round to round, it looks only at the equations that hold a cell suppressed since
    it last looked: after a pass no equation has an eligible candidate left, and an equation
    none of whose cells was suppressed since has the same counts and candidates. So each pass
    picks what a pass over every equation picks (a `federal` part of 171 rounds counted every
    sum again in each pass: 23.4 of 247.5 s of the year 2017 in one process, py-spy)."""

    def __init__(self, terms: pl.DataFrame, n_cells: int, minimum: int) -> None:
        self._equation = terms.get_column("equation_rank").to_numpy()
        self._n_equations = int(self._equation.max()) + 1 if len(self._equation) else 0
        self._cell = terms.get_column("cell").to_numpy()
        self._is_part = terms.get_column("coefficient").to_numpy() < 0
        magnitude = np.abs(terms.get_column("value").to_numpy())
        self._magnitude = magnitude
        self._nonzero = magnitude > PIN_TOLERANCE
        self._candidate = terms.get_column("candidate").to_numpy()
        self._base_n_equation = np.zeros(self._n_equations, dtype=bool)
        self._base_n_equation[self._equation] = terms.get_column("base_n_equation").to_numpy()
        self._total_value = np.bincount(
            self._equation,
            weights=np.where(self._is_part, 0.0, magnitude),
            minlength=self._n_equations,
        )
        self._cell_base_n = terms.get_column("cell_base_n").to_numpy()
        self._minimum = minimum
        self._terms_of_equation = _Grouped(self._equation, self._n_equations)
        self._terms_of_cell = _Grouped(self._cell, n_cells)
        self._looked: np.ndarray | None = None  # the suppressed cells when it last looked

    def run(self, status: np.ndarray) -> None:
        hidden_cells = status > NONE
        if self._looked is None:
            touched = np.arange(self._n_equations)
        else:
            touched = self._equations_of(np.flatnonzero(hidden_cells & ~self._looked))
        while len(touched):
            picked = self._pass(touched, hidden_cells)
            status[picked] = SECONDARY
            hidden_cells[picked] = True
            touched = self._equations_of(picked)
        self._looked = hidden_cells

    def _equations_of(self, cells: np.ndarray) -> np.ndarray:
        return np.unique(self._equation[self._terms_of_cell.members(cells)])

    def _pass(self, touched: np.ndarray, hidden_cells: np.ndarray) -> np.ndarray:
        """The cells one pass picks in the equations `touched` (sorted, distinct): per
        equation the counts of its suppressed terms in the terms' order, as over all terms."""
        terms = self._terms_of_equation.members(touched)
        equation = np.searchsorted(touched, self._equation[terms])
        n = len(touched)
        is_part = self._is_part[terms]
        hidden = hidden_cells[self._cell[terms]]
        n_hidden = np.bincount(equation[hidden], minlength=n)
        total_hidden = np.bincount(equation[hidden & ~is_part], minlength=n) > 0
        hidden_parts = np.bincount(
            equation, weights=np.where(hidden & is_part, self._magnitude[terms], 0.0), minlength=n
        )
        partial = (n_hidden >= 2) & ~total_hidden
        base_n_equation = self._base_n_equation[touched]
        needy = (
            (n_hidden == 1)
            | (partial & base_n_equation & (hidden_parts < self._minimum))
            | (
                partial
                & ~base_n_equation
                & (hidden_parts <= PIN_TOLERANCE)
                & (self._total_value[touched] > PIN_TOLERANCE)
            )
        )
        needs_nonzero = n_hidden >= 2
        eligible = (
            needy[equation]
            & self._candidate[terms]
            & ~hidden
            & (~needs_nonzero[equation] | self._nonzero[terms])
        )
        chosen = terms[eligible]
        # by equation, then base_n, then cell: the first one of each equation is taken
        ranked = chosen[
            np.lexsort((self._cell[chosen], self._cell_base_n[chosen], self._equation[chosen]))
        ]
        first = np.ones(len(ranked), dtype=bool)
        first[1:] = self._equation[ranked[1:]] != self._equation[ranked[:-1]]
        return np.unique(self._cell[ranked[first]])


def _candidates_for(
    failures: pl.DataFrame,
    terms: pl.DataFrame,
    status: np.ndarray,
    by_cell: pl.DataFrame,
    max_hops: int = 6,
) -> pl.DataFrame:
    """Per failing (cell, measure): `pick`, the smallest candidate in an equation holding it;
    where those equations have none left, in an equation of a suppressed cell that shares an
    equation with it, and so on outwards (at most `max_hops` steps through suppressed cells).
    `by_cell`: the distinct (equation, cell) of `terms`, which `protect` makes once (a `bw`
    pattern spent 6 of its 135 s making them and the suppressed ones anew per call; the
    suppressed ones are now made only when a step outwards is taken)."""
    hidden = pl.Series(status > NONE).gather(terms.get_column("cell"))
    frame = terms.with_columns(hidden.alias("hidden"))
    hidden_members: pl.DataFrame | None = None
    options = frame.filter(pl.col("candidate") & ~pl.col("hidden")).select(
        "equation",
        pl.col("cell").alias("pick"),
        "cell_base_n",
        (pl.col("value").abs() > PIN_TOLERANCE).alias("nonzero"),
    )
    # A pinned value gains no slack from a cell that adds 0 to the sum: for those only cells
    # with a non-zero term are taken (without this, demo-scale builds spent dozens of rounds
    # suppressing cells of 0 next to a numerator pinned at 0).
    pending = failures.group_by("cell", "measure").agg(
        (pl.col("rule") == "pinned").all().alias("pinned")
    )
    reach = pending.join(
        frame.select("equation", "cell", "measure"), on=["cell", "measure"]
    ).select("cell", "measure", "pinned", "equation")
    seen = reach
    chosen: list[pl.DataFrame] = []
    for _ in range(max_hops):
        found = (
            reach.join(options, on="equation")
            .filter(~pl.col("pinned") | pl.col("nonzero"))
            .sort("cell", "measure", "cell_base_n", "pick")
            .group_by("cell", "measure", maintain_order=True)
            .first()
            .select("cell", "measure", "pick")
        )
        chosen.append(found)
        reach = reach.join(found, on=["cell", "measure"], how="anti")
        if reach.is_empty():
            break
        # one step outwards: equations of the suppressed cells in the equations reached
        if hidden_members is None:
            hidden_members = frame.filter("hidden").select("equation", "cell").unique()
        reach = (
            reach.join(hidden_members.rename({"cell": "via"}), on="equation")
            .drop("equation")
            .join(by_cell.rename({"cell": "via"}), on="via")
            .select("cell", "measure", "pinned", "equation")
            .unique()
            .join(seen, on=["cell", "measure", "equation"], how="anti")
        )
        seen = pl.concat([seen, reach])
    return pl.concat(chosen)
