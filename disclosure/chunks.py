"""The disclosure problem one calendar year at a time: the pattern and the audit of the whole
problem, with one year's cells, values and sums in memory instead of every year's.

**Why this is exact.** Every equation of `disclosure.tables` links cells of one calendar year:
a hierarchy and a breakdown link cells of one period, `quarters` and `last_quarter` a year and
its own quarters. So the cells of a year are a union of whole parts (`disclosure.memo`: the
cells linked by sums), and a part's pattern and its audit's ranges depend on that part alone.
Protecting or auditing the years one after another therefore gives exactly the whole problem's
pattern and ranges (`tests/test_disclosure_chunks.py` compares both on the `tiny` world's
nine years; `tests/test_disclosure_memo.py` checks part independence on random tables);
the memos are keyed per part, so they serve either way.

What is saved is the set-up: `problem_of` unpivots every cell's measures and joins every sum
of the whole problem at once, and the engine holds its arrays for all of them; a year is about
a tenth of that on `bw` (README, "Benchmark").

**A year kept whole.** A year's pattern, and its audit, are functions of that year's cells
alone (above). Each keeps what every year gave in a *year memo* (`disclosure.memo.year_memo`)
under `year_key`: a SHA-256 of the year's cells as `problem_of` numbers them (flags and, for
the audit, the published suppression included; values to the parts' precision). A year whose
key is there is not set up as a problem at all — no sums joined, no parts keyed — and takes its
pattern (its audit's ranges) and its rows of the part memo from there. A delivery changes the
years it reaches; the others cost a hash. The year memos hold what the part memos hold (no ids,
no values; digests of unsuppressed counts), and are as confidential.

**A year's fingerprint.** Reading a kept year's cells and keying them still cost ≈ 0.1 s a year
(`bw`: 1.0 of the 1.1 s of a pattern that kept all ten years). The pattern model therefore hands
`protect_by_year` a fingerprint per year (`year_fingerprints`: computed in DuckDB from the rows
of the three tables the cells are made from, in one grouped query each, ≈ 0.1 s for all years),
and the year memo keeps the fingerprint its row was written with. A year whose fingerprint is
unchanged takes its row without being read (the same pattern in 0.37 s instead of 1.39 s;
2026-12-05). Safety does not rest on the fingerprint: were two different years' rows to collide
in its 64-bit sums (≈ 2⁻⁶⁴), the year would keep a pattern made for other numbers, and the mart
gate — which audits the published cells under their own SHA-256 keys, never the fingerprint —
would refuse a pattern that does not protect them (its rules "base_n 3 not suppressed" and
"primary cell recoverable from its total" in `tests/test_mart_gate.py`): a refused
publication, not a disclosure. The audit takes no fingerprints.

**A year's audit from the pattern.** In a build that protects a year anew, the mart gate found
every part of that year in the pattern's final audit, yet still set up the year's published
cells as a problem and keyed its parts: on `bw` 4.4 of its 6.1 s (2026-12-07). The pattern has
that problem set up already, and its final audit, or the gate's last audit of a part kept, gives
every part's ranges; so it makes the gate's audit of the year itself
(`disclosure.memo.pattern_audits`: the same `_audit_result` on the problem with the suppressed
values unknown, `published_view`) and keys it as the gate will key the year's published cells
(`as_published`, `year_key`). The gate takes a year from there only under the SHA-256 key of
the cells it read from the published tables, as it takes a year from its own last audit: a
year published otherwise, or a pattern the published models did not apply, has another key and
is audited by the gate. `tests/test_disclosure_chunks.py` checks that each year so taken equals
the gate's own audit of it, frame for frame.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from core.digests import code_digest, frame_digest
from disclosure import tables
from disclosure.engine import (
    _RANGE_SCHEMA,
    CELL_MINIMUM,
    AuditResult,
    InconsistentEquations,
    Problem,
    Started,
    _failures,
    published_sums_hold,
)
from disclosure.memo import (
    _CODE_VERSION,
    AUDIT_MEMO_SCHEMA,
    MEMO_SCHEMA,
    SIGNIFICANT_DIGITS,
    YEAR_MEMO_SCHEMA,
    KeptAudit,
    KeptPattern,
    YearEntry,
    YearRow,
    audit_keeping,
    pattern_audits,
    protect_keeping_started,
    year_entries,
    year_key,
    year_memo,
)
from disclosure.tables import (
    CELL_KEY,
    MEASURES,
    numbered_cells,
    numbered_problem,
    published_table_cells,
)

__all__ = [
    "YEAR",
    "ChunkedAudit",
    "ChunkedPattern",
    "audit_by_year",
    "pattern_cells_of",
    "protect_by_year",
    "year_fingerprints",
    "years_of",
]

YEAR = pl.col("period").str.slice(0, 4)
"""The chunk of a cell: the calendar year of its period ('2025' of '2025' and of '2025Q3')."""

CellsOf = Callable[[str], pl.DataFrame]
"""The cells (`disclosure.tables.*_cells`, concatenated) of one year."""
Relation = Any
"""A DuckDB relation (`duckdb.DuckDBPyRelation`: `filter`, `pl`, `query`, `columns`, `types`), as
a dbt Python model gets it from `dbt.ref`."""

PATTERN_SCHEMA = {**{c: pl.String for c in CELL_KEY}, "suppression": pl.String}
_FAILURE_SCHEMA = {**_RANGE_SCHEMA, "rule": pl.String}
_PATTERN_COUNTS = ("cells", "parts", "suppressed_primary", "suppressed_secondary")
_AUDIT_COUNTS = ("cells", "equations", "suppressed", "variables", "parts")
_FINGERPRINT_CODE = code_digest((Path(tables.__file__), Path(__file__)), ("duckdb", "polars"))
"""What a year's cells are besides its tables' rows: the code that makes them from the rows and
reads the rows, and DuckDB's version (its `hash`)."""


def _fits(entry: YearEntry, counts: Sequence[str], *schemas: dict) -> bool:
    """The entry's frames have the schemas its reader expects and its figures the `counts` (else
    that year is done again: a memo written by other code)."""
    if not all(isinstance(entry.figures.get(name), int) for name in counts):
        return False
    return len(entry.frames) == len(schemas) and all(
        dict(frame.schema) == dict(schema)
        for frame, schema in zip(entry.frames, schemas, strict=True)
    )


def pattern_cells_of(
    values: Relation, fields: Relation, topics: Relation, catalogue: pl.DataFrame
) -> CellsOf:
    """The pattern's `CellsOf` on DuckDB relations of the three tables it protects
    (`indicator_values`, `mart_goal_attainment_by_field`, `mart_contact_topics`): each read a
    year at a time, none of its cells hidden."""

    def cells_of(year: str) -> pl.DataFrame:
        if not re.fullmatch(r"[0-9]{4}", year):  # the year goes into SQL text
            raise ValueError(f"not a calendar year: {year!r}")
        where = f"left(period, 4) = '{year}'"
        return published_table_cells(
            values.filter(where).pl(),
            fields.filter(where).pl(),
            topics.filter(where).pl(),
            catalogue,
        ).with_columns(pl.lit(False).alias("hidden"))

    return cells_of


def year_fingerprints(relations: Sequence[Relation], catalogue: pl.DataFrame) -> dict[str, str]:
    """year → the fingerprint of the rows of `relations` (DuckDB relations of the tables
    `pattern_cells_of` reads, each with a `period`) in that year, computed in DuckDB: per
    relation its column names and types, the year's row count and the sum of DuckDB's 64-bit
    `hash` of each row, its floating-point values to `SIGNIFICANT_DIGITS` as `year_key` takes
    them — a multiset of rows, their order not counted. With it go the catalogue, the pattern's
    parameters, the code that makes and keys the cells (`disclosure.tables`, this module, the
    engine and the memo: `_CODE_VERSION`) and DuckDB's version (its `hash`). Its keys are the
    years with rows in any of the tables: `protect_by_year`'s years (a period that does not
    start with a year raises).

    What it is for (module docstring, "A year's fingerprint"): a year whose fingerprint is
    unchanged takes its memo row without being read. Equal rows give equal fingerprints; rows
    that differ give different ones unless 64-bit sums collide (≈ 2⁻⁶⁴ for a changed year)."""
    sorted_catalogue = catalogue.sort(catalogue.columns)
    base = hashlib.sha256(_CODE_VERSION + _FINGERPRINT_CODE)
    base.update(f"|protect|minimum={CELL_MINIMUM}|last_resort=True|".encode())
    base.update(frame_digest(sorted_catalogue))
    per_relation = []
    for relation in relations:
        names, types = relation.columns, [str(t) for t in relation.types]
        found = {
            year: (count, total)
            for year, count, total in relation.query("t", _fingerprint_sql(names, types)).fetchall()
        }
        per_relation.append((repr(list(zip(names, types, strict=True))), found))
    years = sorted({year for _, found in per_relation for year in found if year is not None})
    bad = [y for y in years if not re.fullmatch(r"[0-9]{4}", y)]
    if bad:
        raise ValueError(f"periods that start with no year: {bad[:5]}")
    fingerprints = {}
    for year in years:
        digest = base.copy()
        digest.update(year.encode())
        for n, (schema, found) in enumerate(per_relation):
            count, total = found.get(year, (0, 0))
            digest.update(f"|{n}|{schema}|{count}|{total}".encode())
        fingerprints[year] = digest.hexdigest()
    return fingerprints


def _fingerprint_sql(names: Sequence[str], types: Sequence[str]) -> str:
    """Per year of relation `t`: the row count and the sum of each row's hash (HUGEINT: no
    overflow), a float as the digits and exponent of `disclosure.memo._significant`."""
    columns = []
    for name, kind in zip(names, types, strict=True):
        q = '"' + name.replace('"', '""') + '"'
        if kind in ("DOUBLE", "FLOAT"):
            exponent = f"floor(log10(abs({q})))"
            finite = f"isfinite({q}) AND {q} <> 0"
            digits = f"round({q} * pow(10, {SIGNIFICANT_DIGITS - 1} - {exponent}))"
            columns.append(f"CASE WHEN {finite} THEN {digits} ELSE {q} END")
            columns.append(f"CASE WHEN {finite} THEN {exponent} ELSE 0 END")
        else:
            columns.append(q)
    return (
        "SELECT left(period, 4) AS year, count(*) AS n, "
        f"sum(hash({', '.join(columns)})::HUGEINT) AS h FROM t GROUP BY ALL"
    )


def years_of(*frames: pl.DataFrame | None) -> list[str]:
    """The years of the periods in `frames` (each with a `period` column; None is skipped)."""
    found: set[str] = set()
    for frame in frames:
        if frame is not None:
            found |= set(frame.select(YEAR.unique()).to_series().drop_nulls().to_list())
    return sorted(found)


def _sum_figures(figures: Sequence[dict]) -> dict:
    """Figures of the years added up: counts and seconds summed, the narrowest range the
    smallest, a nested dict (the figures of the parts solved anew) likewise."""
    out: dict = {}
    for entry in figures:
        for key, value in entry.items():
            if isinstance(value, dict) or (value is None and isinstance(out.get(key), dict)):
                out[key] = _sum_figures([out.get(key) or {}, value or {}]) or None
            elif value is None:
                out.setdefault(key, None)
            elif out.get(key) is None:
                out[key] = value
            elif key == "narrowest_base_n_range":
                out[key] = min(out[key], value)
            else:
                out[key] = out[key] + value
    for key in ("seconds", "pattern_seconds"):
        if isinstance(out.get(key), float):
            out[key] = round(out[key], 3)
    return out


@dataclass(frozen=True)
class ChunkedPattern:
    """The pattern of every year: `pattern` (the suppressed cells, `CELL_KEY` + `suppression`,
    in `CELL_KEY` order), `memo` (every year's parts, `MEMO_SCHEMA`), `audit_memo` (the final
    audits of the parts solved anew, `disclosure.memo.pattern_audit_memo`), `figures` (as
    `KeptPattern.figures`, added up over the years, with `years` and `years_kept`),
    `year_memo` (every year's pattern, `YEAR_MEMO_SCHEMA`) and `audit_year_memo` (the mart
    gate's audit of each year set up anew, as its published cells will be keyed: "A year's
    audit from the pattern" in the module docstring)."""

    pattern: pl.DataFrame
    memo: pl.DataFrame
    figures: dict
    audit_memo: pl.DataFrame
    year_memo: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=YEAR_MEMO_SCHEMA))
    audit_year_memo: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=YEAR_MEMO_SCHEMA)
    )


def as_published(numbered: pl.DataFrame, suppression: pl.Series) -> pl.DataFrame:
    """A year's cells (`numbered_cells` of the unsuppressed marts, none hidden) as the mart gate
    will read them from the published tables once `suppression` ('primary', 'secondary' or
    null per cell) is applied: the published models (`pub_*`) keep a suppressed cell's key,
    flag it and say why, and publish none of its counts. Its `year_key` is the key of the
    gate's year when the tables are published so; any difference only costs the gate the
    year's set-up (its key is another)."""
    hidden = suppression.is_not_null()
    return numbered.with_columns(
        hidden.alias("hidden"),
        suppression.alias("suppression"),
        *(pl.when(~hidden).then(pl.col(m)).alias(m) for m in MEASURES),
    )


def _audit_row(key: str, kept: KeptAudit, size: tuple[int, int]) -> YearRow:
    """A year's row of the audit's year memo: its ranges, failures and part memo, and its
    counts (`_AUDIT_COUNTS`), as `audit_by_year` takes a kept year; and how many of its parts'
    ranges came from the last audit (`parts_kept`: the gate's figures of a year the pattern
    made say so)."""
    found = kept.result
    counts = {
        "cells": size[0],
        "equations": size[1],
        "suppressed": found.suppressed,
        "variables": found.variables,
        "parts": kept.parts,
        "parts_kept": kept.parts_kept,
    }
    return (key, (found.ranges, found.failures, kept.memo), counts, None)


def protect_by_year(
    years: Sequence[str],
    cells_of: CellsOf,
    memo: pl.DataFrame | None,
    kept_years: pl.DataFrame | None = None,
    fingerprints: Mapping[str, str] | None = None,
    audit_memo: pl.DataFrame | None = None,
) -> ChunkedPattern:
    """`protect_keeping` of the whole problem, one year's problem at a time, a year ahead: while
    the workers solve one year's parts, the next year's cells are read and its parts submitted
    behind them, so the workers need not wait at the end of each year for its largest part (on
    `bw` the largest part of a year took half of that year's work and more). At most two years'
    problems are held at once. Each part is solved alone, so the pattern is the same.

    The years are taken newest first: a delivery changes the newest years most often (a
    correction of this year's contacts, the next day's stand moving R), so a year to protect anew
    is begun first and solved by the workers while the older years — kept, most of them — are
    read and keyed, instead of after them (a `bw` correction of one provider: the
    `disclosure_pattern` model 3.54, 3.29, 3.34 s oldest first against 2.93, 2.95, 2.88 s newest
    first, alternating, 2026-12-05). The pattern, the memos' rows and the figures do not depend on
    the order (the pattern is sorted by `CELL_KEY`, the memos are read by key).

    `kept_years`: the year memo of the last build (`ChunkedPattern.year_memo`); a year found
    there takes its pattern from it (module docstring).

    `fingerprints`: year → `year_fingerprints` of the tables `cells_of` reads. A year whose
    fingerprint is the one its memo row was written with takes that row without its cells being
    read or keyed (module docstring, "A year's fingerprint").

    `figures["seconds"]` is the wall time of it all, `solved_anew.pattern_seconds` the part of
    it spent starting and awaiting the engine (reading the cells of the next year overlaps
    it).

    `audit_memo`: the mart gate's last part memo (`ChunkedAudit.memo`). Each year set up anew
    gets a row of `ChunkedPattern.audit_year_memo` when its audit needs no linear program
    (`disclosure.memo.pattern_audits`): the gate's own audit of that year, under the key of the
    year's cells as published (`as_published`; module docstring, "A year's audit from the
    pattern")."""
    started = time.perf_counter()
    rows, memos, audit_memos, figures = [], [], [], []
    year_rows: list[YearRow] = []
    audit_rows: list[YearRow] = []
    known = year_entries(kept_years, 2)
    by_fingerprint = {e.fingerprint: (k, e) for k, e in known.items() if e.fingerprint}
    fingerprints = fingerprints or {}
    engine_seconds = 0.0

    def take(key: str, entry: YearEntry | None, fingerprint: str | None) -> bool:
        """Take the year from its memo row, if that fits."""
        if entry is None or not _fits(entry, _PATTERN_COUNTS, PATTERN_SCHEMA, MEMO_SCHEMA):
            return False
        rows.append(entry.frames[0])
        memos.append(entry.frames[1])
        counts = entry.figures
        figures.append(
            {
                **counts,
                "parts_kept": counts["parts"],
                "cells_kept": counts["cells"],
                "solved_anew": None,
                "years_kept": 1,
            }
        )
        year_rows.append((key, entry.stored, counts, fingerprint))
        return True

    def collect(
        running: Started[KeptPattern],
        problem: Problem,
        numbered: pl.DataFrame,
        key: str,
        fingerprint: str | None,
    ) -> None:
        nonlocal engine_seconds
        waited = time.perf_counter()
        kept = running.result()
        engine_seconds += time.perf_counter() - waited
        suppression = kept.suppression()
        suppressed = (
            numbered.select(*CELL_KEY)
            .with_columns(suppression)
            .filter(pl.col("suppression").is_not_null())
        )
        rows.append(suppressed)
        memos.append(kept.memo)
        audits = pattern_audits(problem, kept, CELL_MINIMUM, audit_memo)
        audit_memos.append(audits.memo)
        if audits.whole is not None:
            published = as_published(numbered, suppression)
            audit_key = year_key(published, "audit", CELL_MINIMUM, last_resort=True)
            audit_rows.append(
                _audit_row(audit_key, audits.whole, (problem.n_cells, problem.n_equations))
            )
        found = kept.figures()
        figures.append(found)
        counts = {k: found[k] for k in _PATTERN_COUNTS}
        year_rows.append((key, (suppressed, kept.memo), counts, fingerprint))

    ahead: tuple[Started[KeptPattern], Problem, pl.DataFrame, str, str | None] | None = None
    try:
        for year in sorted(years, reverse=True):
            fingerprint = fingerprints.get(year)
            if fingerprint in by_fingerprint and take(*by_fingerprint[fingerprint], fingerprint):
                continue  # its tables are those of the last build: neither read nor keyed
            year_cells = cells_of(year)
            if year_cells.is_empty():
                continue  # a year of tables no rule suppresses (FI, PA, DQ only)
            numbered = numbered_cells(year_cells)
            key = year_key(numbered, "protect", CELL_MINIMUM, last_resort=True)
            if take(key, known.get(key), fingerprint):
                continue
            problem, numbered = numbered_problem(numbered)
            begun = time.perf_counter()
            running = protect_keeping_started(problem, memo)
            engine_seconds += time.perf_counter() - begun
            previous, ahead = ahead, (running, problem, numbered, key, fingerprint)
            if previous is not None:
                collect(*previous)  # a failure here withdraws the year just begun (below)
            del year_cells, problem, numbered, running, previous  # two years' problems at most
        if ahead is not None:
            collect(*ahead)
    except BaseException:
        if ahead is not None:
            ahead[0].cancel()  # a failed year: the parts of the year begun need not be solved
        raise
    pattern = pl.concat([pl.DataFrame(schema=PATTERN_SCHEMA), *rows]).sort(list(CELL_KEY))
    summed = {"years_kept": 0, **_sum_figures(figures)}
    if summed.get("solved_anew"):
        summed["solved_anew"]["pattern_seconds"] = round(engine_seconds, 3)
    return ChunkedPattern(
        pattern=pattern,
        memo=pl.concat([pl.DataFrame(schema=MEMO_SCHEMA), *memos]),
        figures={
            **summed,
            "seconds": round(time.perf_counter() - started, 3),
            "years": len(figures),
        },
        audit_memo=pl.concat([pl.DataFrame(schema=AUDIT_MEMO_SCHEMA), *audit_memos]),
        year_memo=year_memo(year_rows),
        audit_year_memo=year_memo(audit_rows),
    )


@dataclass(frozen=True)
class ChunkedAudit:
    """The audit of the published pattern of every year, as if of the whole problem.

    `cells`: every year's cells (`cell`, `CELL_KEY`, `hidden`, `suppression`), numbered as
    `problem_of` numbers the whole problem (in `CELL_KEY` order); `result`: the audit with
    ranges and failures in that numbering, None when the published numbers of a year contradict
    its sums (as `expectations.mart_gate` reports it); `memo`: the audit memo of every year
    (None then too); `n_cells`, `n_equations`, `parts`, `parts_kept`, `parts_from_pattern` of
    the whole; `year_memo`: every year's audit (`YEAR_MEMO_SCHEMA`; None with `memo`), and
    `years_kept`, the years taken from the last one (their parts counted in `parts_kept`), and
    `years_from_pattern`, the years taken from the pattern's (their parts counted in
    `parts_from_pattern`)."""

    cells: pl.DataFrame
    result: AuditResult | None
    memo: pl.DataFrame | None
    n_cells: int
    n_equations: int
    parts: int
    parts_kept: int
    parts_from_pattern: int = 0
    year_memo: pl.DataFrame | None = None
    years_kept: int = 0
    years_from_pattern: int = 0


def _chunk_cells(numbered: pl.DataFrame, chunk: int) -> pl.DataFrame:
    """A year's numbered cells as `ChunkedAudit.cells` holds them, before the whole's numbers."""
    return numbered.select(
        pl.lit(chunk).alias("chunk"),
        pl.col("cell").alias("local"),
        *CELL_KEY,
        "hidden",
        "suppression",
    )


def _by_local(numbered: pl.DataFrame) -> np.ndarray:
    """One year's whole-problem cell numbers (`cell`) in the order of its own (`local`), which
    must be 0…n-1."""
    ordered = numbered.sort("local")
    if not np.array_equal(ordered.get_column("local").to_numpy(), np.arange(ordered.height)):
        raise ValueError("a year's cells are not numbered 0…n-1")
    return ordered.get_column("cell").to_numpy()


@dataclass(frozen=True)
class _AuditedYear:
    """What `audit_by_year` found for one year (`_audit_year`), before the years are joined.

    `cells`: the year's numbered cells; `entry`: its row of the last audit's year memo, or of
    the pattern's (`from_pattern`), when it was taken from there; otherwise `problem_size`
    (cells, equations) and `kept` — the audit (`audit_keeping`), None when the published numbers
    contradict the sums — or `error`, an exception of the audit, raised where the year is
    joined."""

    key: str
    cells: pl.DataFrame
    entry: YearEntry | None = None
    from_pattern: bool = False
    problem_size: tuple[int, int] = (0, 0)
    kept: KeptAudit | None = None
    error: BaseException | None = None


AUDIT_THREADS = 2
"""Years audited at once by `audit_by_year`. A year's set-up and the keeping of its parts are
mostly polars' work, which lets go of the GIL; the mart gate's Great Expectations suites run
beside them on a third thread. The mart gate on a full `bw` build's database (every part from
the pattern's final audit; 2026-12-07, AMD EPYC, 2 cores, alternating): the audit 4.65, 4.64 s
one year after the other, 4.17, 4.00 s two at a time; the whole gate 6.38, 6.34 → 6.02, 5.69 s.
Every year kept from the last audit: the gate 2.30, 2.30 → 2.19, 2.17 s."""


def _audit_year(
    year_cells: pl.DataFrame,
    minimum: int,
    memo: pl.DataFrame | None,
    from_pattern: pl.DataFrame | None,
    known: Mapping[str, YearEntry],
    known_from_pattern: Mapping[str, YearEntry],
) -> _AuditedYear:
    """One year of `audit_by_year`: taken from the last audit's year memo when its key is
    there, else from the pattern's, else set up and audited (its own problem only: years share
    no sum)."""
    numbered_year = numbered_cells(year_cells)  # for the key, and a kept year's cells
    key = year_key(numbered_year, "audit", minimum, last_resort=True)
    for source, from_pattern_year in ((known, False), (known_from_pattern, True)):
        entry = source.get(key)
        if entry is not None and _fits(
            entry, _AUDIT_COUNTS, _RANGE_SCHEMA, _FAILURE_SCHEMA, AUDIT_MEMO_SCHEMA
        ):
            return _AuditedYear(key, numbered_year, entry=entry, from_pattern=from_pattern_year)
    problem, numbered = numbered_problem(numbered_year, published=True)
    size = (problem.n_cells, problem.n_equations)
    hidden = numbered.get_column("hidden").to_numpy()
    try:
        kept = None
        if published_sums_hold(problem, hidden):
            try:
                kept = audit_keeping(problem, hidden, minimum, memo, from_pattern=from_pattern)
            except (InconsistentEquations, ValueError):
                kept = None
    except Exception as error:  # raised where the year is joined, as if audited there
        return _AuditedYear(key, numbered, problem_size=size, error=error)
    return _AuditedYear(key, numbered, problem_size=size, kept=kept)


def audit_by_year(
    years: Sequence[str],
    cells_of: CellsOf,
    minimum: int,
    memo: pl.DataFrame | None,
    from_pattern: pl.DataFrame | None = None,
    kept_years: pl.DataFrame | None = None,
    pattern_years: pl.DataFrame | None = None,
) -> ChunkedAudit:
    """`audit_keeping` of the published pattern (`hidden`), with the last audit's `memo` and
    this build's `from_pattern` (`ChunkedPattern.audit_memo`), one year's problem at a time; a year
    whose published numbers contradict its sums (`published_sums_hold`, or the audit finds no
    solution) makes the result None, and the later years are numbered but not audited.
    `kept_years`: the last audit's year memo (`ChunkedAudit.year_memo`); a year published as
    then takes that audit whole (module docstring); `pattern_years`: this build's
    `ChunkedPattern.audit_year_memo`, whose years are taken the same way (module docstring, "A
    year's audit from the pattern").

    The years are keyed, set up and audited `AUDIT_THREADS` at a time (`_audit_year`; each its
    own problem, so each comes out as alone) and joined in their order here: a year after one
    whose numbers contradict its sums counts its cells and equations but neither takes its
    entry nor its audit, exactly as when they are done one after the other."""
    started = time.perf_counter()
    cells, ranges, failures, memos = [], [], [], []
    year_rows: list[YearRow] = []
    known = year_entries(kept_years, 3)
    known_from_pattern = year_entries(pattern_years, 3)
    del kept_years, pattern_years  # the entries hold what is needed of them (the caller's only)
    totals = dict.fromkeys(
        ("cells", "equations", "suppressed", "variables", "components", "linear_programs"), 0
    )
    parts = parts_kept = parts_from_pattern = years_kept = years_from_pattern = 0
    consistent = True

    def audited(year: str) -> _AuditedYear | None:
        year_cells = cells_of(year)
        if year_cells.is_empty():
            return None  # a year of tables no rule suppresses (FI, PA, DQ only)
        return _audit_year(year_cells, minimum, memo, from_pattern, known, known_from_pattern)

    with ThreadPoolExecutor(
        min(AUDIT_THREADS, max(len(years), 1)), thread_name_prefix="audit-year"
    ) as pool:
        # in the years' order; at most AUDIT_THREADS years' problems are held at once (a year
        # done keeps its cells and its audit's frames only, which are joined below anyway)
        for chunk, done in enumerate(pool.map(audited, years)):
            if done is None:
                continue
            if done.entry is not None:
                counts = done.entry.figures
                cells.append(_chunk_cells(done.cells, chunk))
                if not consistent:  # numbered, not audited: its problem's size only
                    totals["cells"] += counts["cells"]
                    totals["equations"] += counts["equations"]
                    continue
                for name in _AUDIT_COUNTS[:-1]:  # all but the parts
                    totals[name] += counts[name]
                year_ranges, year_failures, year_memo_rows = done.entry.frames
                ranges.append(year_ranges.with_columns(pl.lit(chunk).alias("chunk")))
                failures.append(year_failures.with_columns(pl.lit(chunk).alias("chunk")))
                memos.append(year_memo_rows)
                parts += counts["parts"]
                if done.from_pattern:  # its parts' ranges from the last audit or the pattern's
                    before = int(counts.get("parts_kept", 0))
                    parts_kept += before
                    parts_from_pattern += counts["parts"] - before
                    years_from_pattern += 1
                else:
                    parts_kept += counts["parts"]
                    years_kept += 1
                year_rows.append((done.key, done.entry.stored, counts, None))
                continue
            cells.append(_chunk_cells(done.cells, chunk))
            totals["cells"] += done.problem_size[0]
            totals["equations"] += done.problem_size[1]
            if not consistent:
                continue
            if done.error is not None:
                raise done.error
            if done.kept is None:
                consistent = False
                continue
            kept, found = done.kept, done.kept.result
            for figure in ("suppressed", "variables", "components", "linear_programs"):
                totals[figure] += getattr(found, figure)
            ranges.append(found.ranges.with_columns(pl.lit(chunk).alias("chunk")))
            failures.append(found.failures.with_columns(pl.lit(chunk).alias("chunk")))
            memos.append(kept.memo)
            parts += kept.parts
            parts_kept += kept.parts_kept
            parts_from_pattern += kept.parts_from_pattern
            year_rows.append(_audit_row(done.key, kept, done.problem_size))

    every = (
        pl.concat(cells)
        .sort(list(CELL_KEY))
        .with_row_index("cell")
        .with_columns(pl.col("cell").cast(pl.Int64))
        if cells
        else pl.DataFrame(
            schema={"cell": pl.Int64, "chunk": pl.Int32, "local": pl.Int64, **PATTERN_SCHEMA}
        )
    )
    result = None
    if consistent:
        # A year's cells are numbered 0…n-1 (`numbered_cells`), so its whole-problem numbers in
        # that order are an array its rows' numbers index: a gather, not a join per year (the
        # joins took 0.9 s of the gate's audit on `bw`, 2026-12-05).
        numbers = {
            chunk: _by_local(frame)
            for (chunk,), frame in every.select("chunk", "local", "cell")
            .partition_by("chunk", as_dict=True)
            .items()
        }

        def renumbered(frames: list[pl.DataFrame]) -> pl.DataFrame:
            """The years' rows with the whole problem's cell numbers, in (cell, measure) order
            (the order of the whole problem's values)."""
            global_numbered = []
            for frame in frames:
                (chunk,) = frame.get_column("chunk").unique().to_list() or [None]
                local = frame.get_column("cell").to_numpy()
                cell = numbers[chunk][local] if frame.height else local
                global_numbered.append(
                    frame.with_columns(pl.Series("cell", cell, dtype=pl.Int64)).drop("chunk")
                )
            return pl.concat(global_numbered).sort("cell", "measure")

        if ranges:
            merged_ranges, merged_failures = renumbered(ranges), renumbered(failures)
        else:  # no year: what an audit of nothing finds
            merged_ranges = pl.DataFrame(schema=_RANGE_SCHEMA)
            merged_failures = _failures(merged_ranges, minimum)
        result = AuditResult(
            ranges=merged_ranges,
            failures=merged_failures,
            cells=totals["cells"],
            equations=totals["equations"],
            suppressed=totals["suppressed"],
            variables=totals["variables"],
            components=totals["components"],
            linear_programs=totals["linear_programs"],
            seconds=time.perf_counter() - started,
            minimum=minimum,
        )
    return ChunkedAudit(
        cells=every.drop("chunk", "local"),
        result=result,
        memo=pl.concat([pl.DataFrame(schema=AUDIT_MEMO_SCHEMA), *memos]) if consistent else None,
        n_cells=totals["cells"],
        n_equations=totals["equations"],
        parts=parts,
        parts_kept=parts_kept,
        parts_from_pattern=parts_from_pattern,
        year_memo=year_memo(year_rows) if consistent else None,
        years_kept=years_kept,
        years_from_pattern=years_from_pattern,
    )
