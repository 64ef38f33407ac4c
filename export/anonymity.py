"""k-anonymity for the evaluator exports: the least-loss generalisation, found by search.

The quasi-identifiers (QIs) of an export and their levels, most detailed first (the columns are
variables of `export/codebook.py`; `None` = the QI is left out of the export):

    area         kreis → rb → None (Land)
    age          age_band (6) → age_band_wide (4) → age_group (minor/adult) → None
    sex          sex → None
    nationality  nationality_group → nationality_region → None
    arrival      arrival_year → arrival_period (2 years) → arrival_period_4 (4 years) → None
    start        start_month → start_quarter → start_year

A node of the generalisation lattice is one level per QI (3·4·2·3·4·3 = 864 nodes). Every node
is evaluated, as ARX and sdcMicro do for lattices of this size: DuckDB cross-joins the rows with
the nodes and counts, per node and equivalence class, the distinct persons (`GROUP BY`, no row
loop). A class with fewer than k persons (or, with ℓ-diversity, fewer than ℓ distinct status
categories at case start) is suppressed. A node is feasible when it suppresses at most
`max_suppressed_share` of the cases; the export takes the feasible node of least loss.

Loss measure: **non-uniform entropy** (Gionis & Tassa 2009; ARX's "non-uniform entropy"). A row
whose QI value v is published as the generalised value g loses −log2 P(v | g) bits, with P(v | g)
= rows with v / rows with g among all rows of the window; a suppressed row loses −log2 P(v) for
every QI (as if generalised to nothing). The loss of a node is the sum over rows and QIs. Why
this one: it charges a generalisation by what it actually blurs in these data — merging two
Kreise with few cases costs little, merging two big ones a lot, generalising a QI that is almost
constant costs almost nothing — where generalisation height (or a precision metric) charges every
step the same whether it merges 2 or 2,000 rows. Suppression counts in the same bits, so a node
that suppresses cases is not favoured over one that coarsens. Ties (equal loss, e.g. generalising
a constant QI) go to the node with fewer suppressed cases, then the lower one (sum of levels),
then the lexicographically smaller level vector, so the result is deterministic.

No feasible node (e.g. a window too small for k, or ℓ-diversity that no class can meet) is an
error: `AnonymityError` carries the best nodes and what each would suppress, and the export exits
1; it never writes more suppression than it promised.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import duckdb
import polars as pl

from core.database import connect
from export import codebook as cb

QI_ORDER = ("area", "age", "sex", "nationality", "arrival", "start")
LOSS_MEASURE = "non-uniform entropy (bits; suppressed rows count as fully generalised)"
STATUS_COLUMN = "status_category_at_start"
NODE_BATCH_ROWS = 20_000_000
"""Rows × nodes evaluated per query, which bounds DuckDB's memory on large windows."""


def levels() -> dict[str, tuple[str | None, ...]]:
    """Per QI its columns from the most detailed level up; None = left out (from the codebook)."""
    by_qi: dict[str, dict[int, str]] = {q: {} for q in QI_ORDER}
    for v in cb.variables(cb.CASES):
        if v.qi:
            by_qi[v.qi][v.detail] = v.name
    out: dict[str, tuple[str | None, ...]] = {}
    for q in QI_ORDER:
        cols = tuple(by_qi[q][d] for d in sorted(by_qi[q]))
        # the case-start period is never left out: a study needs calendar time
        out[q] = cols if q == "start" else (*cols, None)
    return out


LEVELS = levels()


class AnonymityError(RuntimeError):
    """No node of the lattice meets k (and ℓ) within the suppression limit."""

    def __init__(self, message: str, best: list[NodeResult]):
        super().__init__(message)
        self.best = best


@dataclass(frozen=True)
class NodeResult:
    levels: tuple[int, ...]
    """One level per QI, in QI_ORDER."""
    suppressed: int
    """Cases in classes below k (or ℓ)."""
    loss: float
    k_reached: int | None
    classes: int

    @property
    def columns(self) -> list[str]:
        return node_columns(self.levels)

    def describe(self) -> str:
        parts = [f"{q}={LEVELS[q][lv] or '-'}" for q, lv in zip(QI_ORDER, self.levels, strict=True)]
        return " ".join(parts)

    def as_dict(self, rows: int) -> dict[str, object]:
        return {
            "levels": {
                q: LEVELS[q][lv] or "(left out)"
                for q, lv in zip(QI_ORDER, self.levels, strict=True)
            },
            "suppressed_cases": self.suppressed,
            "suppressed_share": round(self.suppressed / rows, 6) if rows else 0.0,
            "loss_bits": round(self.loss, 4),
            "k_reached": self.k_reached,
            "classes": self.classes,
        }


@dataclass(frozen=True)
class AnonymityResult:
    keep: pl.Series
    """One boolean per input row: kept (True) or suppressed."""
    chosen: NodeResult
    path: list[NodeResult]
    """From the most detailed node to the chosen one, one QI step at a time."""
    nodes_evaluated: int
    feasible_nodes: int
    rows: int

    @property
    def columns(self) -> list[str]:
        return self.chosen.columns

    @property
    def suppressed_rows(self) -> int:
        return self.chosen.suppressed

    @property
    def k_reached(self) -> int | None:
        return self.chosen.k_reached

    @property
    def generalisations(self) -> list[str]:
        """One line per QI not kept at its most detailed level."""
        out = []
        for q, lv in zip(QI_ORDER, self.chosen.levels, strict=True):
            if lv:
                out.append(f"{q}: {LEVELS[q][0]} → {LEVELS[q][lv] or '(left out)'}")
        return out


def node_columns(node: tuple[int, ...]) -> list[str]:
    return [c for q, lv in zip(QI_ORDER, node, strict=True) if (c := LEVELS[q][lv]) is not None]


def all_nodes() -> list[tuple[int, ...]]:
    return list(itertools.product(*(range(len(LEVELS[q])) for q in QI_ORDER)))


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _prepare(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, diversity: bool) -> None:
    """qi_rows: per row the value and the entropy loss of every level of every QI, as lists."""
    cols = sorted({c for cs in LEVELS.values() for c in cs if c})
    selected = frame.select(
        pl.col("person_id").cast(pl.String),
        *(pl.col(c).cast(pl.String) for c in cols),
        *([pl.col(STATUS_COLUMN).cast(pl.String)] if diversity else []),
    ).with_row_index("rid")
    con.register("qi_frame", selected.to_arrow())
    values, losses, tops = [], [], []
    for q in QI_ORDER:
        base = _q(LEVELS[q][0])
        vals, ents = [], []
        for c in LEVELS[q]:
            if c is None:
                vals.append("'*'")
                ents.append(f"log2(count(*) OVER ()) - log2(count(*) OVER (PARTITION BY {base}))")
            else:
                vals.append(_q(c))
                # P(v | g) = rows with v and g / rows with g: the joint count, since a coarser
                # level need not nest (nationality OTHER spans several regions)
                ents.append(
                    f"log2(count(*) OVER (PARTITION BY {_q(c)})) "
                    f"- log2(count(*) OVER (PARTITION BY {base}, {_q(c)}))"
                )
        values.append(f"[{', '.join(vals)}] AS v_{q}")
        losses.append(f"[{', '.join(ents)}] AS e_{q}")
        tops.append(f"log2(count(*) OVER ()) - log2(count(*) OVER (PARTITION BY {base}))")
    status = STATUS_COLUMN if diversity else "NULL"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE qi_rows AS
        SELECT rid, person_id, {status} AS status, {", ".join(values)}, {", ".join(losses)},
               {" + ".join(tops)} AS e_top
        FROM qi_frame
        """
    )
    con.unregister("qi_frame")


def _evaluate(
    con: duckdb.DuckDBPyConnection, nodes: list[tuple[int, ...]], k: int, ell: int | None
) -> list[NodeResult]:
    # the lattice in itertools.product order, so node i is nodes[i]
    dims = [f"range({len(LEVELS[q])}) AS d{i}(l{i})" for i, q in enumerate(QI_ORDER)]
    lv = [f"l{i}" for i in range(len(QI_ORDER))]
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE qi_nodes AS
        SELECT CAST(row_number() OVER (ORDER BY {", ".join(lv)}) - 1 AS INTEGER) AS node,
               CAST([{", ".join(lv)}] AS INTEGER[]) AS lv
        FROM {", ".join(dims)}
        """
    )
    keys = ", ".join(f"r.v_{q}[n.lv[{i + 1}] + 1] AS k_{q}" for i, q in enumerate(QI_ORDER))
    kept = " + ".join(f"r.e_{q}[n.lv[{i + 1}] + 1]" for i, q in enumerate(QI_ORDER))
    group = ", ".join(f"k_{q}" for q in QI_ORDER)
    small = "persons < $k" + (" OR statuses < $ell" if ell else "")
    rows = con.execute("SELECT count(*) FROM qi_rows").fetchone()[0]
    per_batch = max(1, NODE_BATCH_ROWS // max(rows, 1))
    results: list[NodeResult] = []
    for lo in range(0, len(nodes), per_batch):
        found = con.execute(
            f"""
            WITH x AS (
                SELECT n.node, r.person_id, r.status, {keys}, {kept} AS e_kept, r.e_top
                FROM qi_nodes AS n CROSS JOIN qi_rows AS r
                WHERE n.node >= $lo AND n.node < $hi
            ),
            classes AS (
                SELECT node, count(DISTINCT person_id) AS persons, count(*) AS n_rows,
                       count(DISTINCT status) AS statuses, sum(e_kept) AS e_kept,
                       sum(e_top) AS e_top
                FROM x GROUP BY node, {group}
            )
            SELECT node,
                   coalesce(sum(n_rows) FILTER (WHERE {small}), 0) AS suppressed,
                   coalesce(sum(CASE WHEN {small} THEN e_top ELSE e_kept END), 0) AS loss,
                   min(persons) FILTER (WHERE NOT ({small})) AS k_reached,
                   count(*) FILTER (WHERE NOT ({small})) AS classes
            FROM classes GROUP BY node ORDER BY node
            """,
            {"lo": lo, "hi": lo + per_batch, "k": k, **({"ell": ell} if ell else {})},
        ).fetchall()
        results += [
            NodeResult(nodes[i], int(s), float(loss), kr, int(c)) for i, s, loss, kr, c in found
        ]
    return results


def _rank(r: NodeResult) -> tuple:
    # loss rounded to 1e-9 bits so that floating-point noise never beats the tie-breakers
    return (round(r.loss, 9), r.suppressed, sum(r.levels), r.levels)


def _path(chosen: NodeResult, by_node: dict[tuple[int, ...], NodeResult]) -> list[NodeResult]:
    """From the bottom to `chosen`, each step raising one QI by one level: the step that
    suppresses least (then loses least) first, so the manifest shows what each step bought."""
    node = tuple(0 for _ in QI_ORDER)
    path = [by_node[node]]
    while node != chosen.levels:
        steps = [
            tuple(lv + (j == i) for j, lv in enumerate(node))
            for i in range(len(node))
            if node[i] < chosen.levels[i]
        ]
        node = min(steps, key=lambda n: (by_node[n].suppressed, *_rank(by_node[n])))
        path.append(by_node[node])
    return path


def k_anonymise(
    frame: pl.DataFrame,
    k: int,
    max_suppressed_share: float,
    ell: int | None = None,
) -> AnonymityResult:
    """The least-loss node that keeps suppression within the limit, and which rows it keeps.

    `frame` has `person_id`, every column of LEVELS and, with `ell`, the status category at case
    start. Missing values form a class of their own (they are not wildcards).
    """
    budget = math.floor(max_suppressed_share * frame.height + 1e-9)
    with connect() as con:
        _prepare(con, frame, diversity=ell is not None)
        nodes = all_nodes()
        results = _evaluate(con, nodes, k, ell)
        if frame.height == 0:
            # an empty window: nothing to protect, nothing to generalise
            results = [NodeResult(n, 0, 0.0, None, 0) for n in nodes]
        by_node = {r.levels: r for r in results}
        feasible = [r for r in results if r.suppressed <= budget]
        if not feasible:
            best = sorted(results, key=lambda r: (r.suppressed, *_rank(r)))[:10]
            raise AnonymityError(
                f"no generalisation keeps k = {k}"
                + (f" and ℓ = {ell}" if ell else "")
                + f" with at most {max_suppressed_share:.2%} of {frame.height} cases suppressed "
                f"(at most {budget}); the best levels found suppress at least {best[0].suppressed}",
                best,
            )
        chosen = min(feasible, key=_rank)
        keys = [f"v_{q}[{lv + 1}]" for q, lv in zip(QI_ORDER, chosen.levels, strict=True)]
        small = "count(DISTINCT person_id) OVER w < $k" + (
            " OR count(DISTINCT status) OVER w < $ell" if ell else ""
        )
        keep = con.sql(
            f"""
            SELECT NOT ({small}) AS keep FROM qi_rows
            WINDOW w AS (PARTITION BY {", ".join(keys)})
            ORDER BY rid
            """,
            params={"k": k, **({"ell": ell} if ell else {})},
        ).to_arrow_table()
    return AnonymityResult(
        keep=pl.from_arrow(keep).get_column("keep").alias("keep"),
        chosen=chosen,
        path=_path(chosen, by_node),
        nodes_evaluated=len(results),
        feasible_nodes=len(feasible),
        rows=frame.height,
    )


def failure_table(best: list[NodeResult], rows: int) -> str:
    """The best nodes of a failed search as a plain-text table (stderr of `imw export`)."""
    header = f"  {'suppressed':>10} {'share':>7} {'loss (bits)':>12}  levels"
    lines = [header]
    for r in best:
        share = r.suppressed / rows if rows else 0.0
        lines.append(f"  {r.suppressed:>10} {share:>7.2%} {r.loss:>12.1f}  {r.describe()}")
    return "\n".join(lines)
