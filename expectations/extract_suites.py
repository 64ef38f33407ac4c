"""Great Expectations suites of the extract gate, generated from the contract alone.

Every expectation comes from a flag of a `Column` or from a `RowRule` in `contract.spec`; there
is no hand-written rule per extract, so changing the contract changes the gate. Each expectation
carries `meta = {"rule", "column", "text_de", "text_en"}`: a short rule id for the quarantine
report, the delivered column the clerk has to fix, and plain-language texts derived from the
contract (`Column.rule_de`, `RowRule.text_de` / `text_en`).

The suites validate the frame prepared by `expectations.extract_gate`: the contract columns
(free text only as `<name>_vorhanden`), `_file` (which delivered file a row comes from) and the
helper columns named below, which carry what one pandas row cannot see on its own:

- `_stand`, `_stand_year`: the extract date of the row's file. Files validated together have
  different stands, and a suite parameter (`$PARAMETER`) holds one value per validation run, so
  "not after the stand" is a column-pair comparison against the row's own stand instead.
- `_ref_<column>`: whether the referenced row exists (computed by the caller against the
  database), null where the column itself is empty (optional references).
- `_same_<a>_within_<b>`, `_no_overlap_<group>`: cross-row rules GX has no expectation for,
  computed per file with polars.

Great Expectations is imported inside the functions: it takes seconds to import, and modules
that only need the names here (or the loader, before it validates anything) should not pay that.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from contract import spec as contract
from contract.spec import Column, ColumnType, Extract, RowRule, RuleKind

if TYPE_CHECKING:
    import great_expectations as gx
    from great_expectations.expectations import Expectation

FILE = "_file"
"""Which delivered file a row comes from (uniqueness holds within one file)."""
LINE = "_line"
"""Line of the row in its delivered file (as set by `ingest.readers`)."""
STAND = "_stand"
STAND_YEAR = "_stand_year"

SUITE_PREFIX = "extract_gate"

# Rule ids of column rules; row rules are "<kind>:<detail>", references "ref:<extract>.<column>".
REQUIRED = "required"
CODE = "code"
RANGE = "range"
MAX_STAND_YEAR = "max_stand_year"
NOT_AFTER_STAND = "not_after_stand"
UNIQUE = "unique"

CONDITIONAL_CODE_LISTS: dict[str, dict[str, tuple[contract.Code, ...]]] = {
    "wert": contract.OUTCOME_VALUES,
}
"""For CODE_BY rules: the contract's per-value code lists, by the code list name of the
dependent column (`Column.codes`). The contract has exactly one such table."""

_SHORT_CODE_LIST = 12
"""Code lists up to this length are spelled out in the rule texts."""


def suite_name(extract: Extract | str) -> str:
    return f"{SUITE_PREFIX}.{resolve_extract(extract).name}"


def ref_column(column: str) -> str:
    return f"_ref_{column}"


def same_within_column(rule: RowRule) -> str:
    value_column, group_column = rule.columns
    return f"_same_{value_column}_within_{group_column}"


def no_overlap_column(rule: RowRule) -> str:
    return f"_no_overlap_{rule.columns[0]}"


def needs_stand(extract: Extract | str) -> bool:
    return any(c.not_after_stand or c.max_is_stand_year for c in resolve_extract(extract).columns)


def reference_columns(extract: Extract | str) -> tuple[Column, ...]:
    return tuple(c for c in resolve_extract(extract).columns if c.ref is not None)


def conditional_code_values(extract: Extract, rule: RowRule) -> dict[str, tuple[str, ...]]:
    """Allowed values of a CODE_BY rule's first column per value of its second column."""
    value_column, key_column = (extract.column(name) for name in rule.columns)
    table = CONDITIONAL_CODE_LISTS.get(value_column.codes or "")
    if table is None:
        raise ValueError(f"{extract.name}: no conditional code list for {value_column.name}")
    unknown = set(table) - set(contract.code_values(key_column.codes or ""))
    if unknown:
        raise ValueError(f"{extract.name}: {sorted(unknown)} are not codes of {key_column.name}")
    return {key: tuple(c.code for c in codes) for key, codes in table.items()}


def build_suite(extract: Extract | str) -> gx.ExpectationSuite:
    """The gate's expectation suite for one extract, derived from the contract only.

    A new, unregistered suite on every call; the gate registers one per extract and caches it.
    """
    import great_expectations as gx

    extract = resolve_extract(extract)
    expectations = list(_expectations(extract))
    # Passed to the constructor: `add_expectation` needs an active GX context, and the
    # constructor logs and drops an invalid expectation instead of raising, hence the count.
    suite = gx.ExpectationSuite(
        name=suite_name(extract),
        expectations=expectations,
        meta={"contract_version": contract.CONTRACT_VERSION, "extract": extract.name},
    )
    if len(suite.expectations) != len(expectations):
        raise ValueError(f"{extract.name}: GX dropped expectations of the generated suite")
    return suite


def _expectations(extract: Extract) -> Iterator[Expectation]:
    for column in extract.columns:
        yield from _column_expectations(column)
    for rule in extract.rules:
        yield from _row_rule_expectations(extract, rule)
    for column in reference_columns(extract):
        yield _reference_expectation(column)


# --------------------------------------------------------------------------------------------
# Column rules
# --------------------------------------------------------------------------------------------
def _column_expectations(column: Column) -> Iterator[Expectation]:
    import great_expectations.expectations as gxe

    name = column.raw_name
    rule_de = column.rule_de
    if column.required:
        texts = (f"{column.name} muss gefüllt sein", f"{column.name} is required")
        if column.type is ColumnType.TEXT:  # presence is a boolean, never null
            yield gxe.ExpectColumnValuesToBeInSet(
                column=name, value_set=[True], **_described(REQUIRED, column.name, *texts, rule_de)
            )
        else:
            yield gxe.ExpectColumnValuesToNotBeNull(
                column=name, **_described(REQUIRED, column.name, *texts, rule_de)
            )
    if column.codes:
        yield gxe.ExpectColumnValuesToBeInSet(
            column=name,
            value_set=list(contract.code_values(column.codes)),
            **_described(CODE, column.name, *_code_texts(column), rule_de),
        )
    if column.min_value is not None or column.max_value is not None:
        yield gxe.ExpectColumnValuesToBeBetween(
            column=name,
            min_value=column.min_value,
            max_value=column.max_value,
            strict_min=column.min_exclusive,
            **_described(RANGE, column.name, *_range_texts(column), rule_de),
        )
    if column.max_is_stand_year:
        yield gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=STAND_YEAR,
            column_B=name,
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            **_described(
                MAX_STAND_YEAR,
                column.name,
                f"{column.name} darf nicht nach dem Jahr des Stands liegen",
                f"{column.name} must not be after the year of the extract date (stand)",
                rule_de,
            ),
        )
    if column.not_after_stand:
        yield gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=STAND,
            column_B=name,
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            **_described(
                NOT_AFTER_STAND,
                column.name,
                f"{column.name} darf nicht nach dem Stand (Datum des Auszugs) liegen",
                f"{column.name} must not be after the extract date (stand)",
                rule_de,
            ),
        )
    if column.unique:
        yield gxe.ExpectCompoundColumnsToBeUnique(
            column_list=[FILE, name],
            ignore_row_if="any_value_is_missing",
            **_described(
                UNIQUE,
                column.name,
                f"{column.name} darf in einer Datei nur einmal vorkommen",
                f"{column.name} must be unique within the file",
                rule_de,
            ),
        )


def _reference_expectation(column: Column) -> Expectation:
    """The referenced row must exist; `_ref_<column>` is null where the column is empty, and GX
    skips nulls, so optional references are checked only where filled."""
    import great_expectations.expectations as gxe

    assert column.ref is not None
    target = f"{column.ref.extract}.{column.ref.column}"
    when_de, when_en = ("", "") if column.required else (" (wenn gefüllt)", " (when filled)")
    return gxe.ExpectColumnValuesToBeInSet(
        column=ref_column(column.name),
        value_set=[True],
        **_described(
            f"ref:{target}",
            column.name,
            f"{column.name} muss in {target} vorkommen{when_de}",
            f"{column.name} must exist in {target}{when_en}",
            column.rule_de,
        ),
    )


def _code_texts(column: Column) -> tuple[str, str]:
    codes = contract.code_values(column.codes or "")
    listed = f": {', '.join(codes)}" if len(codes) <= _SHORT_CODE_LIST else ""
    return (
        f"{column.name} muss ein Code der Liste „{column.codes}“ sein{listed}",
        f"{column.name} must be a code of the list '{column.codes}'{listed}",
    )


def _range_texts(column: Column) -> tuple[str, str]:
    lo, hi = column.min_value, column.max_value
    de, en = [], []
    if lo is not None and column.min_exclusive:
        de.append(f"größer als {_de(lo)}")
        en.append(f"> {_en(lo)}")
    elif lo is not None:
        de.append(f"mindestens {_de(lo)}")
        en.append(f">= {_en(lo)}")
    if hi is not None:
        de.append(f"höchstens {_de(hi)}")
        en.append(f"<= {_en(hi)}")
    return (
        f"{column.name} muss {' und '.join(de)} sein",
        f"{column.name} must be {' and '.join(en)}",
    )


def _de(number: float | None) -> str:
    return _en(number).replace(".", ",")


def _en(number: float | None) -> str:
    return f"{number:g}"


# --------------------------------------------------------------------------------------------
# Row rules
# --------------------------------------------------------------------------------------------
def _row_rule_expectations(extract: Extract, rule: RowRule) -> Iterator[Expectation]:
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column as Where

    columns = [extract.column(name) for name in rule.columns]
    if any(c.type is ColumnType.TEXT for c in columns):
        # Only presence of free text is kept; no row rule of contract v1 names it. Fail loudly
        # rather than validate a boolean as if it were the value.
        raise ValueError(f"{extract.name}: row rule {rule.kind} on a free-text column")
    raw = [c.raw_name for c in columns]
    first = rule.columns[0]
    texts = (rule.text_de, rule.text_en)

    if rule.kind is RuleKind.DATE_ORDER:
        yield gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=raw[0],
            column_B=raw[1],
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            **_described(f"date_order:{raw[0]}>={raw[1]}", first, *texts),
        )
    elif rule.kind is RuleKind.REQUIRED_IFF:
        rule_id = f"required_iff:{raw[0]}<=>{raw[1]}"
        yield gxe.ExpectColumnValuesToNotBeNull(
            column=raw[0],
            row_condition=Where(raw[1]).is_not_null(),
            **_described(
                rule_id,
                first,
                f"{rule.text_de} (hier fehlt {raw[0]})",
                f"{rule.text_en} ({raw[0]} is missing here)",
            ),
        )
        yield gxe.ExpectColumnValuesToBeNull(
            column=raw[0],
            row_condition=Where(raw[1]).is_null(),
            **_described(
                rule_id,
                first,
                f"{rule.text_de} (hier ist {raw[0]} gefüllt, {raw[1]} aber nicht)",
                f"{rule.text_en} ({raw[0]} is filled here but {raw[1]} is not)",
            ),
        )
    elif rule.kind is RuleKind.REQUIRED_UNLESS:
        if rule.value is None:
            raise ValueError(f"{extract.name}: required_unless rule without value")
        # An empty status is reported by its own required-check; it cannot decide this rule.
        yield gxe.ExpectColumnValuesToNotBeNull(
            column=raw[0],
            row_condition=Where(raw[1]).is_not_null() & (Where(raw[1]) != rule.value),
            **_described(f"required_unless:{raw[0]}|{raw[1]}={rule.value}", first, *texts),
        )
    elif rule.kind is RuleKind.UNIQUE_KEY:
        yield gxe.ExpectCompoundColumnsToBeUnique(
            column_list=[FILE, *raw],
            ignore_row_if="any_value_is_missing",
            **_described(f"unique_key:{'+'.join(raw)}", first, *texts),
        )
    elif rule.kind is RuleKind.SAME_WITHIN:
        yield gxe.ExpectColumnValuesToBeInSet(
            column=same_within_column(rule),
            value_set=[True],
            **_described(f"same_within:{raw[0]}/{raw[1]}", first, *texts),
        )
    elif rule.kind is RuleKind.NO_OVERLAP:
        # Reported on the period start: the clerk corrects the periods, not the person.
        yield gxe.ExpectColumnValuesToBeInSet(
            column=no_overlap_column(rule),
            value_set=[True],
            **_described(f"no_overlap:{raw[0]}", rule.columns[1], *texts),
        )
    elif rule.kind is RuleKind.CODE_BY:
        for key, values in conditional_code_values(extract, rule).items():
            yield gxe.ExpectColumnValuesToBeInSet(
                column=raw[0],
                value_set=list(values),
                row_condition=Where(raw[1]) == key,
                **_described(
                    f"code_by:{raw[0]}/{raw[1]}",
                    first,
                    f"{rule.text_de} ({raw[1]} {key}: {', '.join(values)})",
                    f"{rule.text_en} ({raw[1]} {key}: {', '.join(values)})",
                ),
            )
    else:  # a new rule kind must get an expectation before the gate can run
        raise ValueError(f"{extract.name}: no expectation for row rule kind {rule.kind}")


def _described(
    rule: str, column: str, text_de: str, text_en: str, contract_de: str = ""
) -> dict[str, Any]:
    """`meta` for the report and a `description` that Data Docs shows instead of GX's text."""
    if contract_de:
        text_de = f"{text_de} (Vertrag: {contract_de})"
    return {
        "meta": {"rule": rule, "column": column, "text_de": text_de, "text_en": text_en},
        # Data Docs insert the description into HTML as it is ("<= Stand" swallowed the rest).
        "description": html.escape(f"{text_de} — {text_en}", quote=False),
    }


def resolve_extract(extract: Extract | str) -> Extract:
    return extract if isinstance(extract, Extract) else contract.EXTRACTS[extract.lower()]
