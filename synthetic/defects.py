"""Defects on purpose: rows that break the extract contract, and a manifest of every one of them.

`generate(..., defects=RATE)` passes each extract's clean frame through `DefectInjector.inject`
before it is written. The injector breaks rows of the *defective providers* only (every second
provider in sorted order, counted from the last; a single provider stays clean), so the other
providers' files stay byte-identical to a clean run of the same seed and their indicators equal
the clean build's. The funding authority `08` gets defects in its two leaf extracts
(`mittelabrufe`, `verwendungsnachweise`), and only in rows of defective providers' grants.

Per file of a defective provider about RATE of the rows end up bad: `floor(RATE × rows)` bad
lines, counting the partner rows a rule over several rows flags along (the other row of a duplicate)
and the rows that dangle because a row they reference is bad. Each changed row gets exactly one
injected defect, cycling through every kind of row error the contract knows and the extract's
columns and rules allow (`KINDS`, `SPECS`); the rest of the row stays as it was. One file, the
`ergebnisse` of the first defective provider, gets more than 5 % bad rows, all of kinds the readers
already catch, so the warehouse rejects it whole. `ergebnisse` because nothing references it and no
indicator uses it: a rejected first delivery leaves the provider without that extract, which for
`stellen` or `faelle` would leave every dependent row dangling and the provider without indicators.

Rejecting a row can make other rows fail (collateral); that is kept small and recorded:
- Rows are picked by how many rows of other extracts depend on them (transitively, counted in a
  first pass over the clean frames), fewest first. Defects that remove an id from the file (the
  overwritten row of a duplicate id) only hit rows nothing references, and ids that other extracts
  reference are never corrupted themselves (dangling references are new ids instead).
- A row rejected for another reason still carries its id, but the extract gate checks references
  against accepted rows, so rows referencing it fail too. The manifest lists them as `collateral`
  (with `when`: always, or only if references are checked against accepted rows) and they count
  towards the file's RATE: a file stays near RATE unless its referenced rows drag more along.

The manifest (`defects.json`, next to the ground truth, never in the landing folder) lists per file
the physical line (header = line 1, as `ingest.readers` counts: CSV line, XLSX sheet row), column,
kind, the rule the warehouse should report, and the delivered and clean values.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl

from contract.spec import (
    AUTHORITY_PROVIDER,
    EXTRACTS,
    MAX_BAD_ROW_SHARE,
    OUTCOME_VALUES,
    ColumnType,
    Extract,
    RowRule,
    RuleKind,
)
from synthetic import params as P
from synthetic.snapshot import PROVIDER
from synthetic.writers import EXTRA_FIELD, CellTexts, FileFormat, file_name

MANIFEST_NAME = "defects.json"
ROW_COLUMN = "_row"
"""Manifest column of a defect of the whole row (as `ingest.readers.ROW_COLUMN`)."""

DEFECTIVE_AUTHORITY_EXTRACTS = ("mittelabrufe", "verwendungsnachweise")
"""The authority's extracts that get defects: nothing references them."""
REJECTED_EXTRACT = "ergebnisse"
REJECTED_SHARE = 0.10
"""Bad-row share of the one file meant to be rejected whole (the limit is 5 %)."""


@dataclass(frozen=True)
class Kind:
    rule: str
    """The rule's family; `rule_of` gives the exact id per extract and column."""
    found_by: str  # "readers" (ingest.readers.parse_columns) or "validation"
    description: str


KINDS: dict[str, Kind] = {
    "bad_date": Kind("type:date", "readers", "date that does not parse (31.02., month 13, …)"),
    "bad_int": Kind("type:int", "readers", "integer that does not parse (`1985,0`, `k.A.`)"),
    "bad_decimal": Kind("type:decimal", "readers", "decimal that does not parse (`1,2,3`)"),
    "id_too_long": Kind("type:id_length", "readers", "id longer than 64 characters"),
    "bad_ags": Kind("type:ags8", "readers", "AGS that lost its leading zero (7 digits)"),
    "extra_field": Kind(
        "row:too_many_fields", "readers", "CSV row with one field more than the header"
    ),
    "bad_code": Kind("code", "validation", "value not in the column's code list"),
    "out_of_range": Kind("range", "validation", "number outside the column's range"),
    "after_stand": Kind("not_after_stand", "validation", "date after the stand"),
    "required_missing": Kind("required", "validation", "required value missing (empty cell)"),
    "duplicate_id": Kind(
        "unique", "validation", "id of another row copied into this row (both rows flagged)"
    ),
    "dangling_ref": Kind(
        "ref", "validation", "reference to an id that exists nowhere in the referenced extract"
    ),
    "date_order": Kind(RuleKind.DATE_ORDER.value, "validation", "end date before start date"),
    "required_iff": Kind(
        RuleKind.REQUIRED_IFF.value, "validation", "value without its partner or vice versa"
    ),
    "required_unless": Kind(
        RuleKind.REQUIRED_UNLESS.value, "validation", "bewertet_am missing on an assessed goal"
    ),
    "unique_key": Kind(
        RuleKind.UNIQUE_KEY.value, "validation", "key combination of another row (both flagged)"
    ),
    "same_within": Kind(
        RuleKind.SAME_WITHIN.value,
        "validation",
        "one version of a plan with another case (all versions of the plan flagged)",
    ),
    "no_overlap": Kind(
        RuleKind.NO_OVERLAP.value,
        "validation",
        "status period starting before the previous one ended (both rows flagged)",
    ),
    "code_by": Kind(RuleKind.CODE_BY.value, "validation", "wert valid for another bereich only"),
}

SPECS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "personen": (
        ("bad_ags", ("wohngemeinde_ags",)),
        ("after_stand", ("einreisedatum",)),
        ("out_of_range", ("geburtsjahr",)),
        ("date_order", ("au_ende",)),
        ("bad_int", ("geburtsjahr",)),
        ("bad_date", ("au_beginn", "einreisedatum", "au_ende")),
        ("bad_code", ("geschlecht", "staatsangehoerigkeit")),
        ("required_missing", ("au_beginn", "geburtsjahr", "wohngemeinde_ags")),
        ("duplicate_id", ("person_id",)),
        ("extra_field", (ROW_COLUMN,)),
    ),
    "aufenthalt": (
        ("no_overlap", ("gueltig_ab",)),
        ("date_order", ("gueltig_bis",)),
        ("bad_code", ("status_code",)),
        ("dangling_ref", ("person_id",)),
        ("bad_date", ("gueltig_bis", "gueltig_ab")),
        ("id_too_long", ("person_id",)),
        ("required_missing", ("status_code",)),
        ("extra_field", (ROW_COLUMN,)),
    ),
    "stellen": (
        ("bad_decimal", ("vzae",)),
        ("out_of_range", ("vzae",)),
        ("date_order", ("ende",)),
        ("bad_code", ("qualifikation",)),
        ("bad_date", ("beginn", "ende")),
        ("required_missing", ("qualifikation", "beginn")),
        ("duplicate_id", ("stellen_id",)),
        ("extra_field", (ROW_COLUMN,)),
    ),
    "faelle": (
        ("required_iff", ("abschluss_grund",)),
        ("after_stand", ("abschluss_datum", "erstkontakt_datum")),
        ("date_order", ("abschluss_datum",)),
        ("dangling_ref", ("person_id", "stellen_id")),
        ("bad_code", ("fallart", "abschluss_grund")),
        ("bad_date", ("erstkontakt_datum", "abschluss_datum")),
        ("id_too_long", ("stellen_id", "person_id")),
        ("required_missing", ("fallart", "erstkontakt_datum")),
        ("duplicate_id", ("fall_id",)),
        ("extra_field", (ROW_COLUMN,)),
    ),
    "plaene": (
        ("same_within", ("fall_id",)),
        ("unique_key", ("version",)),
        ("date_order", ("unterzeichnet_am",)),
        ("out_of_range", ("version",)),
        ("dangling_ref", ("fall_id",)),
        ("bad_int", ("version",)),
        ("bad_date", ("erstellt_am", "unterzeichnet_am", "naechste_pruefung_am")),
        ("required_missing", ("erstellt_am",)),
        ("id_too_long", ("fall_id",)),
        ("extra_field", (ROW_COLUMN,)),
    ),
    "ziele": (
        ("required_unless", ("bewertet_am",)),
        ("duplicate_id", ("ziel_id",)),
        ("dangling_ref", ("plan_id",)),
        ("bad_code", ("handlungsfeld", "status")),
        ("bad_date", ("vereinbart_am", "zieldatum", "bewertet_am")),
        ("id_too_long", ("plan_id",)),
        ("required_missing", ("vereinbart_am", "handlungsfeld")),
        ("extra_field", (ROW_COLUMN,)),
    ),
    "kontakte": (
        ("bad_date", ("datum",)),
        ("bad_int", ("dauer_min",)),
        ("id_too_long", ("kontakt_id", "fall_id", "ziel_id")),
        ("bad_code", ("kontaktart", "thema", "verweisung")),
        ("out_of_range", ("dauer_min",)),
        ("after_stand", ("datum",)),
        ("required_missing", ("kontaktart", "thema", "datum", "dauer_min")),
        ("duplicate_id", ("kontakt_id",)),
        ("dangling_ref", ("fall_id", "ziel_id")),
        ("extra_field", (ROW_COLUMN,)),
    ),
    "ergebnisse": (
        ("code_by", ("wert",)),
        ("unique_key", ("erhoben_am",)),
        ("bad_date", ("erhoben_am",)),
        ("id_too_long", ("fall_id",)),
        ("bad_code", ("wert", "bereich")),
        ("required_missing", ("erhoben_am", "wert")),
        ("dangling_ref", ("fall_id",)),
        ("extra_field", (ROW_COLUMN,)),
    ),
    "mittelabrufe": (
        ("bad_decimal", ("betrag_beantragt_eur", "betrag_ausgezahlt_eur")),
        ("required_iff", ("betrag_ausgezahlt_eur",)),
        ("date_order", ("ausgezahlt_am",)),
        ("out_of_range", ("rueckfragen", "betrag_beantragt_eur")),
        ("duplicate_id", ("abruf_id",)),
        ("dangling_ref", ("bescheid_nr",)),
        ("bad_date", ("eingegangen_am", "ausgezahlt_am")),
        ("bad_int", ("rueckfragen", "jahr")),
        ("id_too_long", ("abruf_id", "bescheid_nr")),
        ("required_missing", ("eingegangen_am", "betrag_beantragt_eur", "jahr")),
        ("extra_field", (ROW_COLUMN,)),
    ),
    "verwendungsnachweise": (
        ("unique_key", ("jahr",)),
        ("bad_decimal", ("personalkosten_ist_eur", "sachkosten_ist_eur", "vzae_ist")),
        ("out_of_range", ("personalkosten_ist_eur", "rueckforderung_eur", "vzae_ist")),
        ("dangling_ref", ("bescheid_nr",)),
        ("bad_int", ("jahr",)),
        ("bad_date", ("eingegangen_am", "geprueft_am")),
        ("id_too_long", ("bescheid_nr",)),
        ("required_missing", ("eingegangen_am", "vzae_ist")),
        ("extra_field", (ROW_COLUMN,)),
    ),
}
"""Per extract the kinds it gets, in cycling order, each with the columns it cycles through.
Kinds only one or two extracts can have come first, so small files still show them."""

REJECTED_SPEC: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("bad_date", ("erhoben_am",)),
    ("id_too_long", ("fall_id",)),
    ("extra_field", (ROW_COLUMN,)),
)
"""Kinds for the file meant to be rejected whole: all found by the readers already."""

BAD_CODES: dict[str, str] = {
    "geschlecht": "x",
    "staatsangehoerigkeit": "DDR",
    "status_code": "AE_99",
    "fallart": "BB",
    "abschluss_grund": "UMZUG",
    "handlungsfeld": "FREIZEIT",
    "ziel_status": "ERLEDIGT",
    "kontaktart": "VIDEO",
    "thema": "BEHOERDE",
    "verweisung": "TAFEL",
    "bereich": "GESUNDHEIT",
    "wert": "B3",
    "qualifikation": "MASTER",
}
"""One invalid code per code list (plausible typos and neighbouring vocabularies)."""

OUT_OF_RANGE: dict[str, tuple[float, ...]] = {
    "geburtsjahr": (1850,),  # and the year after the stand, added per run
    "dauer_min": (0, 601),
    "version": (0,),
    "vzae": (1.5, 0.1),
    "betrag_beantragt_eur": (0.0, -1250.0),
    "rueckfragen": (-1,),
    "personalkosten_ist_eur": (-1500.0,),
    "rueckforderung_eur": (-250.0,),
    "vzae_ist": (-0.5,),
}

_REQUIRED_IFF_FILL: dict[str, Callable[[dict[str, object]], object]] = {
    "abschluss_grund": lambda row: "SONSTIGES",
    "betrag_ausgezahlt_eur": lambda row: row["betrag_beantragt_eur"],
}
"""Value given to the dependent column of a `required_iff` rule where its partner is empty."""
_EXTRA_FIELD_TEXT = "siehe Akte"
Groups = tuple[np.ndarray, "np.ndarray | list[list[int]]"]
"""Candidate row groups for a rule over several rows: cost per group, rows per group (the row
to change first)."""
_MULTI_LINE_KINDS = frozenset({"duplicate_id", "unique_key", "same_within", "no_overlap"})

_REFERENCED: dict[str, str] = {
    c.ref.extract: c.ref.column for e in EXTRACTS.values() for c in e.columns if c.ref
}
"""Extracts referenced by others, with the referenced column."""


def _dependency_order() -> tuple[str, ...]:
    """All extracts, each after the extracts it references."""
    order: list[str] = []

    def visit(name: str) -> None:
        if name not in order:
            for c in EXTRACTS[name].columns:
                if c.ref:
                    visit(c.ref.extract)
            order.append(name)

    for name in EXTRACTS:
        visit(name)
    return tuple(order)


_DEPENDENCY_ORDER = _dependency_order()


# --------------------------------------------------------------------------------------------
# Who gets defects
# --------------------------------------------------------------------------------------------
def defective_providers(providers: Iterable[str]) -> list[str]:
    """Every second provider in sorted order, counted from the last; never all of them."""
    ordered = sorted(providers)
    if len(ordered) < 2:
        return []
    return sorted(ordered[::-1][::2])


def dependent_costs(
    frames: Iterable[tuple[str, pl.DataFrame]], providers: Iterable[str]
) -> dict[str, pl.DataFrame]:
    """Per referenced extract: (provider, key, cost), the rows of other extracts that lose their
    reference, transitively, if the rows with that key are rejected. Only `providers` are kept.

    Takes the clean frames (a first pass over `snapshot.iter_frames`), keeping only the provider,
    key and reference columns.
    """
    wanted = sorted(providers)
    kept: dict[str, pl.DataFrame] = {}
    for extract, frame in frames:
        ex = EXTRACTS[extract]
        if ex.source != "provider":
            continue
        refs = [c.name for c in ex.columns if c.ref]
        key = [_REFERENCED[extract]] if extract in _REFERENCED else []
        if not refs:
            continue
        rows = frame.filter(pl.col(PROVIDER).cast(pl.String).is_in(wanted)).select(
            pl.col(PROVIDER).cast(pl.String), *key, *refs
        )
        kept[extract] = rows.group_by(PROVIDER, *key, *refs).len("n")
    costs: dict[str, pl.DataFrame] = {}
    for extract in reversed(_DEPENDENCY_ORDER):  # dependents' costs first
        if extract not in kept:
            continue
        rows = kept[extract]
        own = pl.lit(0, pl.Int64)
        if extract in _REFERENCED:
            key = _REFERENCED[extract]
            rows = rows.join(costs.get(extract, _no_costs(key)), on=[PROVIDER, key], how="left")
            own = pl.col("cost").fill_null(0)
        for col in (c for c in EXTRACTS[extract].columns if c.ref):
            assert col.ref is not None
            target = col.ref.column
            add = (
                rows.filter(pl.col(col.name).is_not_null())
                .group_by(PROVIDER, pl.col(col.name).alias(target))
                .agg((pl.col("n") * (1 + own)).sum().alias("cost"))
            )
            before = costs.get(col.ref.extract, _no_costs(target))
            costs[col.ref.extract] = (
                pl.concat([before, add.cast(before.schema)])
                .group_by(PROVIDER, target)
                .agg(pl.col("cost").sum())
            )
    return costs


def _no_costs(key: str) -> pl.DataFrame:
    return pl.DataFrame(schema={PROVIDER: pl.String, key: pl.String, "cost": pl.Int64})


# --------------------------------------------------------------------------------------------
# The manifest's rows
# --------------------------------------------------------------------------------------------
@dataclass
class Entry:
    line: int
    column: str
    """The cell the defect changed (partner, collateral: the cell the rule looks at)."""
    kind: str
    role: str  # defect | partner | collateral
    rule: str
    rule_column: str
    """Where the warehouse reports the rule (a row rule: on its first column, as the gate)."""
    value: object
    original: object
    note: str | None = None
    when: str | None = None
    partner_of: int | None = None
    """For a partner: the line of the defect that drags it along."""

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "line": self.line,
            "column": self.column,
            "kind": self.kind,
            "rule": self.rule,
            "rule_column": self.rule_column,
            "role": self.role,
            "value": _json_value(self.value),
            "original": _json_value(self.original),
        }
        if self.note:
            out["note"] = self.note
        if self.when:
            out["when"] = self.when
        if self.partner_of is not None:
            out["partner_of"] = self.partner_of
        return out


def rule_of(ex: Extract, kind: str, column: str, value: object = None) -> tuple[str, str]:
    """(rule id, reported column) as `ingest.readers` and the extract gate name them.

    Row rules are `<kind>:<detail>` over the raw column names and reported on the rule's first
    column (a period overlap on its start); references are `ref:<extract>.<column>`.
    """
    if kind == "extra_field":
        return KINDS[kind].rule, ROW_COLUMN
    if kind in ("dangling_ref", "collateral"):
        ref = ex.column(column).ref
        assert ref is not None
        return f"ref:{ref.extract}.{ref.column}", column
    col = ex.column(column)
    above_min = isinstance(value, int | float) and value >= (col.min_value or 0)
    if kind == "out_of_range" and col.max_is_stand_year and above_min:
        return "max_stand_year", column  # in range except for the year of the stand
    if kind == "bad_ags" and col.type is ColumnType.AGS:
        return "type:ags", column
    if kind not in _ROW_RULE_KINDS:
        return KINDS[kind].rule, column
    rule = next(r for r in ex.rules if r.kind is _ROW_RULE_KINDS[kind] and column in r.columns)
    raw = [ex.column(c).raw_name for c in rule.columns]
    detail = {
        RuleKind.DATE_ORDER: f"{raw[0]}>={raw[1]}",
        RuleKind.REQUIRED_IFF: f"{raw[0]}<=>{raw[1]}",
        RuleKind.REQUIRED_UNLESS: f"{raw[0]}|{raw[1]}={rule.value}",
        RuleKind.UNIQUE_KEY: "+".join(raw),
        RuleKind.SAME_WITHIN: f"{raw[0]}/{raw[1]}",
        RuleKind.NO_OVERLAP: raw[0],
        RuleKind.CODE_BY: f"{raw[0]}/{raw[1]}",
    }[rule.kind]
    reported = rule.columns[1] if rule.kind is RuleKind.NO_OVERLAP else rule.columns[0]
    return f"{rule.kind.value}:{detail}", reported


_ROW_RULE_KINDS = {k.value: k for k in RuleKind}


def _json_value(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


ALWAYS = "always"
IF_ACCEPTED_ONLY = "if_references_are_checked_against_accepted_rows"


@dataclass
class FileDefects:
    name: str
    provider: str
    extract: str
    format: str
    rows: int
    entries: list[Entry] = field(default_factory=list)
    collateral: list[Entry] = field(default_factory=list)
    meant_to_be_rejected: bool = False

    @property
    def bad_lines(self) -> int:
        return len({e.line for e in self.entries})

    def verdict(self, bad: int) -> str:
        return "REJECTED" if self.rows and bad / self.rows > MAX_BAD_ROW_SHARE else "ACCEPTED"

    def as_json(self) -> dict[str, object]:
        with_collateral = self.bad_lines + len({e.line for e in self.collateral})
        return {
            "provider": self.provider,
            "extract": self.extract,
            "format": self.format,
            "rows": self.rows,
            "bad_lines": self.bad_lines,
            "bad_share": round(self.bad_lines / self.rows, 6) if self.rows else 0.0,
            "expected_verdict": self.verdict(self.bad_lines),
            "collateral_lines": with_collateral - self.bad_lines,
            "expected_verdict_with_collateral": self.verdict(with_collateral),
            "meant_to_be_rejected": self.meant_to_be_rejected,
            "defects": [e.as_json() for e in sorted(self.entries, key=_entry_order)],
            "collateral": [e.as_json() for e in sorted(self.collateral, key=_entry_order)],
        }


def _entry_order(e: Entry) -> tuple[int, int, str]:
    return (e.line, 0 if e.role == "defect" else 1, e.column)


# --------------------------------------------------------------------------------------------
# Planning the defects of one file
# --------------------------------------------------------------------------------------------
class _FilePlanner:
    """Chooses rows of one provider's part of an extract and the edits that break them.

    `edits` are typed values for the frame, `texts` literal cell texts for what the frame's types
    cannot hold. Rows are tried cheapest first (`cost`: dependent rows elsewhere), ties in a
    random order drawn per file.
    """

    def __init__(
        self,
        ex: Extract,
        part: pl.DataFrame,
        costs: tuple[np.ndarray, np.ndarray],
        base: np.ndarray,
        rng: np.random.Generator,
        fmt: FileFormat,
        stand: date,
        counters: dict[tuple[str, ...], int],
    ) -> None:
        self.ex, self.part, self.base = ex, part, base
        self.cost, self.key_cost = costs
        """Per row: dependents lost if the row is rejected; if all rows of its key are."""
        self.rng, self.fmt, self.stand, self.counters = rng, fmt, stand, counters
        self.n = part.height
        self.used = np.zeros(self.n, dtype=bool)
        self.rank = rng.permutation(self.n)
        self.order = np.lexsort((self.rank, self.cost))
        self.edits: dict[str, dict[int, object]] = {}
        self.texts: dict[tuple[int, str], str] = {}
        self.entries: list[Entry] = []
        self.budget = 0
        self.bad = 0
        """Rows flagged so far (defects and partners)."""
        self._values: dict[str, list] = {}
        self._cands: dict[tuple, list] = {}

    # --- helpers -------------------------------------------------------------------------
    @property
    def remaining(self) -> int:
        return self.budget - self.bad

    def values(self, column: str) -> list:
        if column not in self._values:
            self._values[column] = self.part[column].to_list()
        return self._values[column]

    def mask(self, expr: pl.Expr) -> np.ndarray:
        return self.part.select(expr.fill_null(False)).to_series().to_numpy() & self.base

    def eligible(self, kind: str, column: str) -> np.ndarray:
        """Rows with a value in `column` that may get a defect of `kind` there."""
        extra = _ELIGIBLE.get((self.ex.name, kind, column))
        filled = self.notnull(column)
        return filled if extra is None else filled & self.mask(extra)

    def notnull(self, column: str) -> np.ndarray:
        return self.part[column].is_not_null().to_numpy() & self.base

    def rule(self, kind: RuleKind, first: str) -> RowRule:
        return next(r for r in self.ex.rules if r.kind is kind and r.columns[0] == first)

    def variant(self, *key: str) -> int:
        k = ("variant", self.ex.name, *key)
        self.counters[k] = self.counters.get(k, 0) + 1
        return self.counters[k] - 1

    def pick(self, key: tuple, mask: Callable[[], np.ndarray]) -> int | None:
        """The cheapest unused row where `mask` holds (mask computed once per file and key)."""
        if key not in self._cands:
            m = mask()
            self._cands[key] = [self.order[m[self.order]].tolist(), 0]
        cands = self._cands[key]
        rows, i = cands
        while i < len(rows) and self.used[rows[i]]:
            i += 1
        cands[1] = i
        return rows[i] if i < len(rows) else None

    def pick_group(self, key: tuple, groups: Callable[[], Groups]) -> list[int] | None:
        """The cheapest group of rows (first row = the one changed) whose rows are all unused
        and fit the remaining budget (groups computed once per file and key)."""
        if key not in self._cands:
            costs, members = groups()
            first = np.array([m[0] for m in members], dtype=np.int64)
            order = np.lexsort((self.rank[first], costs)) if len(members) else first
            self._cands[key] = [members, order.tolist(), 0]
        cands = self._cands[key]
        members, order = cands[0], cands[1]
        while cands[2] < len(order) and self.used[members[order[cands[2]]]].any():
            cands[2] += 1  # a group with a used row never becomes free again
        for j in range(cands[2], len(order)):
            rows = members[order[j]]
            if len(rows) <= self.remaining and not self.used[rows].any():
                return [int(r) for r in rows]
        return None

    def original(self, row: int, column: str) -> object:
        return None if column == ROW_COLUMN else self.values(column)[row]

    def defect(
        self,
        row: int,
        column: str,
        kind: str,
        value: object = None,
        *,
        text: str | None = None,
        note: str | None = None,
    ) -> None:
        if text is not None:
            self.texts[(row, EXTRA_FIELD if column == ROW_COLUMN else column)] = text
        else:
            self.edits.setdefault(column, {})[row] = value
        self.used[row] = True
        self.bad += 1
        shown = text if text is not None else value
        rule, reported = rule_of(self.ex, kind, column, value)
        self.entries.append(
            Entry(
                row + 2,
                column,
                kind,
                "defect",
                rule,
                reported,
                shown,
                self.original(row, column),
                note,
            )
        )

    def partner(self, row: int, of: int, column: str, kind: str, note: str) -> None:
        self.used[row] = True
        self.bad += 1
        original = self.original(row, column)
        rule, reported = rule_of(self.ex, kind, column)
        self.entries.append(
            Entry(
                row + 2,
                column,
                kind,
                "partner",
                rule,
                reported,
                original,
                original,
                note,
                partner_of=of + 2,
            )
        )

    # --- the cycle -----------------------------------------------------------------------
    def run(self, spec: tuple[tuple[str, tuple[str, ...]], ...], budget: int, cycle: str) -> None:
        """Inject defects until `budget` rows are bad, cycling through `spec`'s kinds (and each
        kind's columns) where the last file with the same `cycle` name stopped."""
        self.budget = min(budget, self.n)
        misses = 0
        while self.remaining > 0 and misses < len(spec):
            position = self.counters.get(("kind", cycle), 0)
            kind, columns = spec[position % len(spec)]
            if kind in _MULTI_LINE_KINDS and self.remaining < 2:
                # the kind keeps its turn for a file with room for it; a one-row kind fills in
                singles = [(k, c) for k, c in spec if k not in _MULTI_LINE_KINDS]
                position = self.counters.get(("single", cycle), 0)
                self.counters[("single", cycle)] = position + 1
                kind, columns = singles[position % len(singles)]
            else:
                self.counters[("kind", cycle)] = position + 1
            if kind == "extra_field" and self.fmt.xlsx:
                misses += 1  # XLSX has no delimiter to get wrong
                continue
            start = self.counters.get(("column", cycle, kind), 0)
            for j in range(len(columns)):
                column = columns[(start + j) % len(columns)]
                if getattr(self, f"_{kind}")(column):
                    self.counters[("column", cycle, kind)] = start + j + 1
                    misses = 0
                    break
            else:
                misses += 1

    # --- kinds found by the readers ------------------------------------------------------
    def _bad_date(self, column: str) -> bool:
        row = self.pick(("bad_date", column), lambda: self.eligible("bad_date", column))
        if row is None:
            return False
        d: date = self.values(column)[row]
        german = self.fmt.german_dates
        texts = (
            f"31.02.{d.year}" if german else f"{d.year}-02-30",
            f"01.13.{d.year}" if german else f"{d.year}-13-01",
            f"{d:%d.%m.%y}" if german else f"{d:%Y/%m/%d}",
        )
        self.defect(row, column, "bad_date", text=texts[self.variant("bad_date") % 3])
        return True

    def _bad_int(self, column: str) -> bool:
        row = self.pick(("bad_int", column), lambda: self.notnull(column))
        if row is None:
            return False
        v = self.values(column)[row]
        texts = (f"{v},0", "k.A.", f"ca. {v}")
        self.defect(row, column, "bad_int", text=texts[self.variant("bad_int") % 3])
        return True

    def _bad_decimal(self, column: str) -> bool:
        row = self.pick(("bad_decimal", column), lambda: self.notnull(column))
        if row is None:
            return False
        v = self.values(column)[row]
        texts = (f"{v:.2f} EUR".replace(".", ","), "k.A.", "1,2,3")
        self.defect(row, column, "bad_decimal", text=texts[self.variant("bad_decimal") % 3])
        return True

    def _id_too_long(self, column: str) -> bool:
        row = self.pick(("id_too_long", column), lambda: self.eligible("ref", column))
        if row is None:
            return False
        v: str = self.values(column)[row]
        self.defect(row, column, "id_too_long", f"{v}-" + "0" * max(1, 64 - len(v)))
        return True

    def _bad_ags(self, column: str) -> bool:
        row = self.pick(("bad_ags", column), lambda: self.notnull(column))
        if row is None:
            return False
        self.defect(row, column, "bad_ags", self.values(column)[row].removeprefix("0"))
        return True

    def _extra_field(self, column: str) -> bool:
        row = self.pick(("extra_field",), lambda: self.base.copy())
        if row is None:
            return False
        self.defect(row, ROW_COLUMN, "extra_field", text=_EXTRA_FIELD_TEXT)
        return True

    # --- kinds found by validation -------------------------------------------------------
    def _bad_code(self, column: str) -> bool:
        row = self.pick(("bad_code", column), lambda: self.notnull(column))
        if row is None:
            return False
        codes = self.ex.column(column).codes
        assert codes is not None
        self.defect(row, column, "bad_code", BAD_CODES[codes])
        return True

    def _out_of_range(self, column: str) -> bool:
        row = self.pick(("out_of_range", column), lambda: self.notnull(column))
        if row is None:
            return False
        options = list(OUT_OF_RANGE[column])
        if self.ex.column(column).max_is_stand_year:
            options.append(self.stand.year + 1)
        value = options[self.variant("out_of_range", column) % len(options)]
        if isinstance(self.values(column)[row], float):
            value = float(value)
        self.defect(row, column, "out_of_range", value)
        return True

    def _after_stand(self, column: str) -> bool:
        extra = _ELIGIBLE.get((self.ex.name, "after_stand", column), pl.lit(True))
        row = self.pick(("after_stand", column), lambda: self.mask(extra))
        if row is None:
            return False
        later = self.stand + timedelta(days=int(self.rng.integers(1, 91)))
        self.defect(row, column, "after_stand", later)
        return True

    def _required_missing(self, column: str) -> bool:
        row = self.pick(("required_missing", column), lambda: self.notnull(column))
        if row is None:
            return False
        self.defect(row, column, "required_missing", None)
        return True

    def _duplicate_id(self, column: str) -> bool:
        if self.remaining < 2:
            return False
        # the overwritten row's id leaves the file: only where nothing references it
        target = self.pick(
            ("duplicate_id", column, "target"), lambda: self.notnull(column) & (self.cost == 0)
        )
        if target is None:
            return False
        self.used[target] = True
        source = self.pick(("duplicate_id", column, "source"), lambda: self.notnull(column))
        self.used[target] = False
        if source is None:
            return False
        self.defect(
            target,
            column,
            "duplicate_id",
            self.values(column)[source],
            note=f"id copied from line {source + 2}; the line's own id was referenced nowhere",
        )
        self.partner(
            source, target, column, "duplicate_id", f"its id was copied into line {target + 2}"
        )
        return True

    def _dangling_ref(self, column: str) -> bool:
        row = self.pick(("dangling_ref", column), lambda: self.eligible("ref", column))
        if row is None:
            return False
        self.defect(row, column, "dangling_ref", f"{self.values(column)[row]}-X")
        return True

    def _date_order(self, column: str) -> bool:
        other = self.rule(RuleKind.DATE_ORDER, column).columns[1]
        row = self.pick(
            ("date_order", column),
            lambda: self.mask(pl.col(column).is_not_null() & pl.col(other).is_not_null()),
        )
        if row is None:
            return False
        before = self.values(other)[row] - timedelta(days=int(self.rng.integers(1, 31)))
        self.defect(row, column, "date_order", before, note=f"before {other}")
        return True

    def _required_iff(self, column: str) -> bool:
        other = self.rule(RuleKind.REQUIRED_IFF, column).columns[1]
        both = pl.col(column).is_not_null() & pl.col(other).is_not_null()
        neither = pl.col(column).is_null() & pl.col(other).is_null()
        add_first = self.variant("required_iff") % 2 == 1
        for add in (add_first, not add_first):
            row = self.pick(
                ("required_iff", column, add), lambda a=add: self.mask(neither if a else both)
            )
            if row is None:
                continue
            if add:
                value = _REQUIRED_IFF_FILL[column](self.part.row(row, named=True))
                self.defect(row, column, "required_iff", value, note=f"{other} is empty")
            else:
                self.defect(row, column, "required_iff", None, note=f"{other} is filled")
            return True
        return False

    def _required_unless(self, column: str) -> bool:
        rule = self.rule(RuleKind.REQUIRED_UNLESS, column)
        other = rule.columns[1]
        row = self.pick(
            ("required_unless", column),
            lambda: self.mask(
                pl.col(column).is_not_null()
                & pl.col(other).is_not_null()
                & (pl.col(other) != rule.value)
            ),
        )
        if row is None:
            return False
        self.defect(
            row, column, "required_unless", None, note=f"{other} = {self.values(other)[row]}"
        )
        return True

    def _code_by(self, column: str) -> bool:
        by = self.rule(RuleKind.CODE_BY, column).columns[1]
        row = self.pick(("code_by", column), lambda: self.notnull(by) & self.notnull(column))
        if row is None:
            return False
        domain = self.values(by)[row]
        own = {c.code for c in OUTCOME_VALUES[domain]}
        foreign = sorted({c.code for codes in OUTCOME_VALUES.values() for c in codes} - own)
        value = foreign[int(self.rng.integers(len(foreign)))]
        self.defect(row, column, "code_by", value, note=f"not a value of {by} {domain}")
        return True

    # --- rules over several rows ---------------------------------------------------------
    def _row_frame(self) -> pl.DataFrame:
        return self.part.with_row_index("_i").with_columns(
            pl.Series("_ok", self.base), pl.Series("_cost_key", self.key_cost)
        )

    def _unique_key(self, column: str) -> bool:
        rule = next(r for r in self.ex.rules if r.kind is RuleKind.UNIQUE_KEY)
        group = [c for c in rule.columns if c != column]

        def pairs() -> Groups:
            rows = (
                self._row_frame()
                .filter(pl.all_horizontal(pl.col(c).is_not_null() for c in rule.columns))
                .sort([*group, column])
                .with_columns(
                    pl.col("_i").shift(1).over(group).alias("_prev"),
                    pl.col("_ok").shift(1).over(group).alias("_prev_ok"),
                    pl.len().over(group).alias("_size"),
                )
                .filter(pl.col("_prev").is_not_null() & pl.col("_ok") & pl.col("_prev_ok"))
            )
            # a key whose only two rows are both flagged is gone (a plan: its goals dangle)
            cost = pl.when(pl.col("_size") <= 2).then(pl.col("_cost_key")).otherwise(0)
            return rows.select(cost).to_series().to_numpy(), rows.select("_i", "_prev").to_numpy()

        found = self.pick_group(("unique_key", column), pairs)
        if found is None:
            return False
        target, source = found
        self.defect(
            target,
            column,
            "unique_key",
            self.values(column)[source],
            note=f"same ({', '.join(rule.columns)}) as line {source + 2}",
        )
        self.partner(source, target, column, "unique_key", f"same key as line {target + 2}")
        return True

    def _same_within(self, column: str) -> bool:
        group = self.rule(RuleKind.SAME_WITHIN, column).columns[1]

        def groups() -> Groups:
            rows = self._row_frame().filter(pl.col(group).is_not_null())
            by_group = (
                rows.sort(group, "_i")
                .group_by(group, maintain_order=True)
                .agg(pl.col("_i"), pl.col("_ok").all(), pl.col("_cost_key").first())
                .filter((pl.col("_i").list.len() >= 2) & pl.col("_ok"))
            )
            # the last version changes; every version of the plan is flagged
            members = [[*idx[-1:], *idx[:-1]] for idx in by_group["_i"].to_list()]
            return by_group["_cost_key"].to_numpy(), members

        found = self.pick_group(("same_within", column), groups)
        if found is None:
            return False
        target, *others = found
        current = self.values(column)[target]
        choices = sorted({v for v in self.values(column) if v is not None and v != current})
        if not choices:
            return False
        value = choices[int(self.rng.integers(len(choices)))]
        self.defect(
            target, column, "same_within", value, note=f"other versions of its {group} differ"
        )
        for row in others:
            self.partner(row, target, column, "same_within", f"same {group} as line {target + 2}")
        return True

    def _no_overlap(self, column: str) -> bool:
        rule = next(r for r in self.ex.rules if r.kind is RuleKind.NO_OVERLAP)
        key, start, stop = rule.columns
        assert column == start

        def pairs() -> Groups:
            rows = (
                self._row_frame()
                .filter(pl.col(key).is_not_null() & pl.col(start).is_not_null())
                .sort(key, start)
                .with_columns(
                    pl.col("_i").shift(1).over(key).alias("_prev"),
                    pl.col("_ok").shift(1).over(key).alias("_prev_ok"),
                    pl.col(start).shift(1).over(key).alias("_prev_start"),
                    pl.col(stop).shift(1).over(key).alias("_prev_stop"),
                )
                .filter(
                    pl.col("_ok")
                    & pl.col("_prev_ok")
                    & (pl.col("_prev_stop") > pl.col("_prev_start"))
                    & (pl.col("_prev_stop") < pl.col(start))
                )
            )
            return np.zeros(rows.height, dtype=np.int64), rows.select("_i", "_prev").to_numpy()

        found = self.pick_group(("no_overlap", column), pairs)
        if found is None:
            return False
        target, previous = found
        prev_start, prev_stop = self.values(start)[previous], self.values(stop)[previous]
        back = int(self.rng.integers(0, min(30, (prev_stop - prev_start).days)))
        self.defect(
            target,
            column,
            "no_overlap",
            prev_stop - timedelta(days=back),
            note=f"starts before the period in line {previous + 2} ends",
        )
        self.partner(
            previous, target, column, "no_overlap", f"overlaps the period in line {target + 2}"
        )
        return True


_ELIGIBLE: dict[tuple[str, str, str], pl.Expr] = {
    # a period whose dates become unreadable must not turn into an overlap with its neighbours
    ("aufenthalt", "bad_date", "gueltig_ab"): pl.len().over("person_id") == 1,
    ("aufenthalt", "bad_date", "gueltig_bis"): pl.col("gueltig_ab")
    == pl.col("gueltig_ab").max().over("person_id"),
    # one injected defect per row: an open case's first contact, a closed case's closure
    ("faelle", "after_stand", "erstkontakt_datum"): pl.col("abschluss_datum").is_null(),
    ("faelle", "after_stand", "abschluss_datum"): pl.col("abschluss_datum").is_not_null(),
    ("personen", "after_stand", "einreisedatum"): pl.lit(True),
    ("kontakte", "after_stand", "datum"): pl.lit(True),
    # a plan's other versions would disagree on the case (same_within) if one version's changed
    ("plaene", "ref", "fall_id"): pl.len().over("plan_id") == 1,
}


# --------------------------------------------------------------------------------------------
# The injector
# --------------------------------------------------------------------------------------------
class DefectInjector:
    """Breaks rows of defective providers' extracts, one extract at a time, in stream order
    (referenced extracts before the extracts that reference them), and keeps the manifest."""

    def __init__(
        self,
        rate: float,
        providers: Iterable[str],
        *,
        seed: int,
        scale: str,
        stand: date,
        file_format: Callable[[str, str, int], FileFormat],
        costs: Mapping[str, pl.DataFrame],
        late: Mapping[tuple[str, str], date] | None = None,
    ) -> None:
        if not 0 <= rate <= 1:
            raise ValueError(f"defect rate {rate} is not between 0 and 1")
        self.rate, self.seed, self.scale, self.stand = rate, seed, scale, stand
        self.providers = sorted(providers)
        self.defective = defective_providers(self.providers)
        self.file_format = file_format
        self.costs = costs
        self.late = dict(late or {})
        """(extract, provider) the writer delivers with an earlier stand: its file's name."""
        self.counters: dict[tuple[str, ...], int] = {}
        self.files: dict[str, FileDefects] = {}
        self.rejected_file: str | None = None
        self.grant_provider: dict[str, str] = {}
        self.lost: dict[tuple[str, str], dict[str, str]] = {}
        """(provider, extract) -> referenced key without an accepted row -> `when` it dangles."""
        self.lost_in: dict[tuple[str, str], str] = {}
        self.done: set[str] = set()

    def inject(
        self, extract: str, frame: pl.DataFrame
    ) -> tuple[pl.DataFrame, dict[str, CellTexts]]:
        """The frame to write (typed edits applied) and the literal cell texts per provider."""
        if extract == "bewilligungen":
            self.grant_provider = dict(
                zip(
                    frame["bescheid_nr"].to_list(),
                    frame["antragsteller_ags"].to_list(),
                    strict=True,
                )
            )
        ex = EXTRACTS[extract]
        missing = [c.ref.extract for c in ex.columns if c.ref and c.ref.extract not in self.done]
        if missing:  # collateral rows are found by looking back at the referenced extracts
            raise ValueError(f"{extract} must come after {missing}")
        self.done.add(extract)
        codes = frame[PROVIDER].to_physical().to_numpy().astype(np.int64)
        category = {c: i for i, c in enumerate(frame[PROVIDER].dtype.categories)}  # type: ignore[attr-defined]
        by_code = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[by_code], np.arange(len(category) + 1))
        texts: dict[str, CellTexts] = {}
        updates: dict[str, tuple[list[int], list[object]]] = {}
        owners = [AUTHORITY_PROVIDER] if ex.source == "authority" else self.providers
        for provider in owners:
            code = category[provider]
            rows = by_code[bounds[code] : bounds[code + 1]]
            fmt = self.file_format(extract, provider, rows.size)
            report = FileDefects(
                file_name(extract, provider, self.late.get((extract, provider), self.stand), fmt),
                provider,
                extract,
                "xlsx" if fmt.xlsx else "csv",
                rows.size,
            )
            self.files[report.name] = report
            if provider not in self.defective and ex.source == "provider":
                continue  # clean: written exactly as without defects
            part = frame[rows].drop(PROVIDER)
            report.collateral = self._dangling(ex, provider, part)
            planner = self._plan(ex, provider, part, fmt, report)
            if planner is not None:
                report.entries = planner.entries
                if planner.texts:
                    texts[provider] = dict(planner.texts)
                for column, edits in planner.edits.items():
                    idx, values = updates.setdefault(column, ([], []))
                    for row, value in edits.items():
                        idx.append(int(rows[row]))
                        values.append(value)
            self._lose_keys(ex, provider, part, planner, report)
        if updates:
            frame = frame.with_columns(
                frame[c].scatter(idx, pl.Series(values, dtype=frame[c].dtype))
                for c, (idx, values) in updates.items()
            )
        return frame, texts

    def _plan(
        self, ex: Extract, provider: str, part: pl.DataFrame, fmt: FileFormat, report: FileDefects
    ) -> _FilePlanner | None:
        if part.is_empty() or ex.name not in SPECS:
            return None
        if ex.source == "authority":
            if ex.name not in DEFECTIVE_AUTHORITY_EXTRACTS:
                return None
            owner = part["bescheid_nr"].replace_strict(self.grant_provider, default=None)
            base = owner.is_in(self.defective).fill_null(False).to_numpy()
        elif provider in self.defective:
            base = np.ones(part.height, dtype=bool)
        else:
            return None
        rng = P.rng_for(self.seed, self.scale, f"defects/{ex.name}/{provider}")
        planner = _FilePlanner(
            ex, part, self._row_costs(ex, provider, part), base, rng, fmt, self.stand, self.counters
        )
        # rows that dangle already count as bad: the file stays near RATE and under the limit
        for e in report.collateral:
            planner.used[e.line - 2] = True
        budget = math.floor(self.rate * part.height + 1e-9) - len(report.collateral)
        if self._meant_to_be_rejected(ex, provider, part):
            report.meant_to_be_rejected = True
            self.rejected_file = report.name
            least = math.floor(MAX_BAD_ROW_SHARE * part.height) + 1
            budget = max(budget, least, math.ceil(REJECTED_SHARE * part.height))
            planner.run(REJECTED_SPEC, budget, f"{ex.name}/rejected")
        else:
            planner.run(SPECS[ex.name], budget, ex.name)
        return planner

    def _meant_to_be_rejected(self, ex: Extract, provider: str, part: pl.DataFrame) -> bool:
        return (
            ex.name == REJECTED_EXTRACT
            and self.rejected_file is None
            and provider in self.defective
            and part.height >= 20
        )

    def _row_costs(
        self, ex: Extract, provider: str, part: pl.DataFrame
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per row: the rows elsewhere lost if this row is rejected, and if its key is lost."""
        key = _REFERENCED.get(ex.name)
        if key is None or ex.source != "provider":
            zeros = np.zeros(part.height, dtype=np.int64)
            return zeros, zeros
        table = self.costs.get(ex.name, _no_costs(key)).filter(pl.col(PROVIDER) == provider)
        key_cost = (
            part.select(key)
            .join(table.select(key, "cost"), on=key, how="left", maintain_order="left")
            .select(pl.col("cost").fill_null(0).cast(pl.Int64))
            .to_series()
        )
        if ex.column(key).unique:
            return key_cost.to_numpy(), key_cost.to_numpy()
        # a key carried by several rows (plan versions) survives while one of them is accepted
        shared = part.select(pl.len().over(key) > 1).to_series().to_numpy()
        return np.where(shared, 0, key_cost.to_numpy()), key_cost.to_numpy()

    # --- collateral ----------------------------------------------------------------------
    def _dangling(self, ex: Extract, provider: str, part: pl.DataFrame) -> list[Entry]:
        """Rows that reference a row of an earlier extract that will not be accepted."""
        found: list[Entry] = []
        seen: set[int] = set()
        owner = AUTHORITY_PROVIDER if ex.source == "authority" else provider
        for col in (c for c in ex.columns if c.ref):
            assert col.ref is not None
            lost = self.lost.get((owner, col.ref.extract))
            if not lost:
                continue
            source = self.lost_in[(owner, col.ref.extract)]
            rule, reported = rule_of(ex, "collateral", col.name)
            for row, value in enumerate(part[col.name].to_list()):
                if row in seen or value not in lost:
                    continue
                seen.add(row)
                found.append(
                    Entry(
                        row + 2,
                        col.name,
                        "collateral",
                        "collateral",
                        rule,
                        reported,
                        value,
                        value,
                        note=f"references a row of {source} that is not accepted",
                        when=lost[value],
                    )
                )
        return found

    def _lose_keys(
        self,
        ex: Extract,
        provider: str,
        part: pl.DataFrame,
        planner: _FilePlanner | None,
        report: FileDefects,
    ) -> None:
        """Remember the keys of this file that no accepted row carries, for the extracts that
        reference it (they are looked at later: referenced extracts come first)."""
        key = _REFERENCED.get(ex.name)
        if key is None or part.is_empty():
            return
        flagged = np.zeros(part.height, dtype=bool)
        for e in (*report.entries, *report.collateral):
            flagged[e.line - 2] = True
        original = part[key].to_list()
        delivered = list(original)
        if planner is not None:
            for row, value in planner.edits.get(key, {}).items():
                delivered[row] = value
        present = set(delivered)
        if report.meant_to_be_rejected or report.verdict(report.bad_lines) == "REJECTED":
            lost = dict.fromkeys(original, ALWAYS)  # nothing of a rejected first delivery stays
        elif report.verdict(int(flagged.sum())) == "REJECTED":  # rejected for its collateral
            lost = {v: ALWAYS if v not in present else IF_ACCEPTED_ONLY for v in original}
        else:
            kept = {v for v, bad in zip(delivered, flagged, strict=True) if not bad}
            lost = {
                v: ALWAYS if v not in present else IF_ACCEPTED_ONLY
                for v in original
                if v not in kept
            }
        lost.pop(None, None)
        if lost:
            self.lost[(provider, ex.name)] = lost
            self.lost_in[(provider, ex.name)] = report.name

    # --- manifest ------------------------------------------------------------------------
    def manifest(self) -> dict[str, object]:
        defective = set(self.defective)
        return {
            "generator": "synthetic.defects",
            "scale": self.scale,
            "seed": self.seed,
            "stand": self.stand.isoformat(),
            "rate": self.rate,
            "defective_providers": self.defective,
            "clean_providers": [p for p in self.providers if p not in defective],
            "authority": {
                "provider": AUTHORITY_PROVIDER,
                "defective_extracts": list(DEFECTIVE_AUTHORITY_EXTRACTS),
                "rows_of": "grants of the defective providers only",
            },
            "rejected_file": self.rejected_file,
            "kinds": {
                name: {"rule": k.rule, "found_by": k.found_by, "description": k.description}
                for name, k in KINDS.items()
            },
            "notes": MANIFEST_NOTES,
            "files": {name: f.as_json() for name, f in sorted(self.files.items())},
        }


MANIFEST_NOTES = {
    "line": "Physical line in the written file as ingest.readers counts it: header = line 1; "
    "CSV line (no value spans lines), XLSX sheet row.",
    "roles": "defect: the row that was changed (exactly one injected defect). partner: an "
    "unchanged row the same rule flags too (the other row of a duplicate id or key, the other "
    "versions of a plan, the overlapped status period). collateral: an unchanged row whose "
    "reference points at a row that is not accepted, transitively; `when` tells whether that "
    "holds always (the id is gone from the file, or its file is rejected whole in a first "
    "delivery) or only if the warehouse checks references against accepted rows (as the extract "
    "gate does). A file whose defect, partner and collateral lines exceed 5 % loses all its "
    "rows in that case, and every row referencing them is collateral too.",
    "rule": "The rule the warehouse should report, with rule_column where it reports it. Kinds "
    "found by the readers use the readers' names (type:date, type:int, type:decimal, "
    "type:id_length, type:ags8, row:too_many_fields on column _row); the others use the extract "
    "gate's ids (expectations/extract_suites.py): code, range, max_stand_year, not_after_stand, "
    "required, unique, ref:<extract>.<column>, and <rule kind>:<detail> for row rules, reported "
    "on the rule's first column (no_overlap on the period start). A type defect empties the "
    "cell for later checks, so the same line may also break `required` or a rule that needs the "
    "value; the line is what counts.",
    "values": "value: as delivered (dates ISO, the literal text for kinds found by the readers); "
    "original: the clean value. For extra_field the value is the surplus field.",
    "expected_verdict": "From defect and partner lines: REJECTED when more than 5 % of the "
    "file's rows are bad. expected_verdict_with_collateral adds the collateral lines.",
    "clean_files": "Files of clean providers and of the authority's other extracts have no "
    "entries and are byte-identical to a run without defects.",
}


def manifest_text(manifest: Mapping[str, object]) -> str:
    """The manifest as JSON with one file summary and one entry per line: readable, easy to
    grep, and quick to write (json's C encoder only runs without `indent`)."""

    def dumps(value: object) -> str:
        return json.dumps(value, ensure_ascii=False)

    files = manifest["files"]
    assert isinstance(files, dict)
    head = {k: v for k, v in manifest.items() if k != "files"}
    out = [json.dumps(head, indent=1, ensure_ascii=False)[:-2] + ",", ' "files": {']
    for i, (name, report) in enumerate(files.items()):
        summary = {k: v for k, v in report.items() if k not in ("defects", "collateral")}
        out.append(f"  {dumps(name)}: {dumps(summary)[:-1]},")
        for key, last in (("defects", False), ("collateral", True)):
            items = report[key]
            end = "" if last else ","
            if not items:
                out.append(f'   "{key}": []{end}')
                continue
            out.append(f'   "{key}": [')
            out += [f"    {dumps(e)}," for e in items[:-1]]
            out += [f"    {dumps(items[-1])}", f"   ]{end}"]
        out.append("  }" + ("," if i < len(files) - 1 else ""))
    out += [" }", "}"]
    return "\n".join(out) + "\n"
