"""The mart gate's rules: what is checked, in German and English, and the Great Expectations
expectations that check it, generated from the catalogue. The runner (reading the build database,
helper columns, validation, findings) is `expectations/mart_gate.py`."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from core.words import plural
from disclosure.engine import CELL_MINIMUM
from disclosure.tables import FORECAST_NUMBERS

if TYPE_CHECKING:
    from great_expectations.expectations import Expectation


KEY = ("indicator_id", "period", "level", "unit_code")
"""Key of `indicator_values` (period_type follows from period)."""


MARTS_COLUMNS = (*KEY, "period_type", "numerator", "denominator", "value", "base_n")


VALUE_COLUMNS = (*MARTS_COLUMNS, "suppressed", "suppression")
"""Columns of the published `indicator_values` the gate reads (the marts table has no
suppression: the pattern is `marts.disclosure_pattern`)."""


UNIT_PERIOD_KEY = ("level", "unit_code", "period")
"""Key of every wide mart, extended by any of `MART_EXTRA_KEYS` it has."""


MART_EXTRA_KEYS = ("topic", "field")


SMALL_CELL = CELL_MINIMUM
"""Rows resting on 1 to 4 cases or persons are suppressed (docs/indicators.md): the disclosure
engine's constant, not a second copy."""


SUPPRESSIONS = ("primary", "secondary")


ROLLUP_TOLERANCE = 1e-6
"""Relative tolerance of parent = sum of children (floating-point sums of case-months, euros)."""


RATIO_TOLERANCE = 1e-9


MARTS_TOLERANCE = 1e-9


ROLLUPS = (
    ("LAND", "RB", "land_equals_rb_sum"),
    ("RB", "KREIS", "rb_equals_kreis_sum"),
    ("KREIS", "TRAEGER", "kreis_equals_traeger_sum"),
)
"""(parent level, child level, rule): parent numerator and denominator = sums over children."""


UNIT_CODE_LENGTH = {"LAND": 2, "RB": 3, "KREIS": 5}
"""A child unit belongs to the parent whose code is this prefix of its own (AGS)."""


ERROR, WARNING = "error", "warning"


WARNING_RULES = frozenset({"land_secondary", "movement_within_factor"})
"""Rules whose findings are listed as warnings, never blocking; every other rule's block."""


RULES: dict[str, tuple[str, str]] = {
    "key_not_null": ("Schlüsselspalte {column} ist leer.", "Key column {column} is empty."),
    "key_unique": (
        "Schlüssel ({column}) ist nicht eindeutig.",
        "Key ({column}) is not unique.",
    ),
    "grid_complete": (
        "Zeile fehlt: jeder Indikator des Katalogs braucht eine Zeile je Periode seiner "
        "Periodentypen (int_periods) und je Einheit seiner Ebenen (int_unit_levels).",
        "Row missing: every catalogue indicator needs a row for every period of its period "
        "types (int_periods) and every unit of its levels (int_unit_levels).",
    ),
    "period_within_reference_date": (
        "Periode beginnt nach dem Stichtag R, oder period_complete passt nicht zu P.end <= R.",
        "Period starts after the reference date R, or period_complete does not say P.end <= R "
        "(docs/indicators.md v2).",
    ),
    "grid_only": (
        "Zeile außerhalb des Rasters: Indikator, Periode mit Periodentyp, Ebene oder Einheit "
        "passt nicht zu Katalog, int_periods oder int_unit_levels.",
        "Row outside the grid: indicator, period with its period type, level or unit does not "
        "match the catalogue, int_periods or int_unit_levels.",
    ),
    "share_range": (
        "Anteil außerhalb von [0, 1] ({scope}).",
        "Share outside [0, 1] ({scope}).",
    ),
    "share_numerator_le_denominator": (
        "Zähler größer als Nenner bei einem Anteil ({scope}).",
        "Numerator greater than denominator for a share ({scope}).",
    ),
    "value_needs_denominator": (
        "Wert ohne Nenner: value ist gesetzt, obwohl denominator leer oder 0 ist.",
        "Value without a denominator: value is set although denominator is empty or 0.",
    ),
    "value_is_ratio": (
        "value ist nicht numerator / denominator.",
        "value is not numerator / denominator.",
    ),
    "numbers_present": (
        "{column} fehlt in einer nicht unterdrückten Zeile.",
        "{column} missing in a row that is not suppressed.",
    ),
    "base_n_as_catalogue": (
        "base_n passt nicht zum Katalog: gesetzt und ≥ 0 genau für Indikatoren mit "
        "base_n_entity ({scope}).",
        "base_n does not match the catalogue: set and ≥ 0 exactly for indicators with a "
        "base_n_entity ({scope}).",
    ),
    "suppression_applied": (
        "1 bis 4 Fälle/Personen, aber nicht primär unterdrückt ({scope}).",
        "1 to 4 cases/persons but not suppressed as primary ({scope}).",
    ),
    "primary_only_small_cells": (
        "Primär unterdrückt, obwohl base_n nicht zwischen 1 und 4 liegt ({scope}).",
        "Suppressed as primary although base_n is not between 1 and 4 ({scope}).",
    ),
    "suppressed_numbers_null": (
        "Unterdrückte Zeile zeigt {column}.",
        "Suppressed row shows {column}.",
    ),
    "suppression_only_suppressible": (
        "Unterdrückt, obwohl der Indikator nie unterdrückt wird (suppress_small_cells = false: "
        "{scope}).",
        "Suppressed although the indicator is never suppressed (suppress_small_cells = false: "
        "{scope}).",
    ),
    "suppression_flag_agrees": (
        "suppressed und suppression widersprechen sich.",
        "suppressed and suppression disagree.",
    ),
    "suppression_known": (
        "{column} ist weder 'primary' noch 'secondary'.",
        "{column} is neither 'primary' nor 'secondary'.",
    ),
    "secondary_allowed": (
        "Sekundär unterdrückt, obwohl die Zeile keine Fälle hat (0 schützt nichts).",
        "Suppressed as secondary although the row has no cases (0 protects nothing).",
    ),
    "land_secondary": (
        "LAND-Zeile sekundär unterdrückt (letzter Ausweg: sonst wäre eine kleine Zelle "
        "rekonstruierbar, z. B. ein LAND-Quartal aus Jahr minus übrige Quartale).",
        "LAND row suppressed as secondary (last resort: a small cell would be recoverable "
        "otherwise, e.g. a LAND quarter from the year minus the other quarters).",
    ),
    "disclosure_protected": (
        "Unterdrückter Wert aus veröffentlichten Zahlen und Summen rekonstruierbar "
        "(lineare Optimierung: base_n-Spanne < {minimum}, oder Zähler/Nenner eindeutig). {figures}",
        "Suppressed value recoverable from published numbers and sums (linear programming: "
        "base_n range < {minimum}, or numerator/denominator pinned). {figures}",
    ),
    "disclosure_equations_hold": (
        "Veröffentlichte Zahlen widersprechen den Summen (Ebenen, Quartale, Aufschlüsselungen).",
        "Published numbers contradict the sums (levels, quarters, breakdowns).",
    ),
    "published_matches_marts": (
        "Veröffentlichte Zeile weicht von marts.indicator_values ab (fehlt dort, oder "
        "Periodentyp oder nicht unterdrückte Zahlen samt base_n verschieden).",
        "Published row differs from marts.indicator_values (missing there, or period type or "
        "unsuppressed numbers, base_n included, differ).",
    ),
    "definition_in_catalogue": (
        "Definition eines Indikators, den der Katalog nicht kennt.",
        "Definition of an indicator the catalogue does not know.",
    ),
    "definitions_complete": (
        "Indikator des Katalogs ohne Definition.",
        "Catalogue indicator without a definition.",
    ),
    "movement_within_factor": (
        "Wert ({scope}) hat sich gegenüber der letzten Veröffentlichung um mehr als den "
        "Faktor {factor} verändert.",
        "Value ({scope}) moved by more than a factor of {factor} since the last publication.",
    ),
}


RULES.update(
    {
        rule: (
            f"Zähler und Nenner auf Ebene {parent} ≠ Summe der {child}-Zeilen darunter "
            f"(relative Toleranz {ROLLUP_TOLERANCE:g}).",
            f"{parent} numerator and denominator ≠ sum of the {child} rows below "
            f"(relative tolerance {ROLLUP_TOLERANCE:g}).",
        )
        for parent, child, rule in ROLLUPS
    }
)


def disclosure_figures_text(figures: dict[str, Any]) -> str:
    """One line of the audit's figures, for reports and Data Docs (`suppressed`: a table that
    publishes only whether a row is suppressed, not why: the needs forecast)."""
    narrowest = figures.get("narrowest_base_n_range")
    narrowest_text = "-" if narrowest is None else f"{narrowest:g}"
    suppressed = (
        f"{figures['suppressed']}"
        if "suppressed" in figures
        else f"{figures.get('suppressed_primary', 0)} primary / "
        f"{figures.get('suppressed_secondary', 0)} secondary"
    )
    return (
        f"LP audit: {figures.get('cells', 0)} cells, {figures.get('equations', 0)} equations, "
        f"suppressed {suppressed}, narrowest base_n range "
        f"{narrowest_text}, pinned {figures.get('pinned', 0)}, "
        f"{figures.get('seconds', 0):g} s{_kept_text(figures)}."
    )


def _whole_years(n: int) -> str:
    return plural(n, "whole year", "whole years")


def _kept_text(figures: dict[str, Any]) -> str:
    """How many parts took their ranges from the audit of an earlier build (unchanged) and how
    many from the final audit of this build's suppression pattern."""
    said = ""
    if figures.get("parts_audited_before"):
        said += (
            f"; {figures['parts_audited_before']} of {figures['parts']} parts (a table's block "
            "for one year) unchanged since the last audit, their ranges from it"
        )
    if figures.get("years_audited_before"):
        said += (
            f" ({_whole_years(figures['years_audited_before'])} of them published as then, "
            "not set up again)"
        )
    if figures.get("parts_from_pattern"):
        said += (
            f"; {figures['parts_from_pattern']} of {figures['parts']} parts protected anew in "
            "this build, their ranges from the pattern's final audit of the same published "
            "values, sums and suppressed cells"
        )
    if figures.get("years_from_pattern"):
        said += (
            f"; {_whole_years(figures['years_from_pattern'])} published exactly as the pattern "
            "saw them, their audit made from its problem, not set up again"
        )
    return said


# --------------------------------------------------------------------------------------------
# Expectations
# --------------------------------------------------------------------------------------------
def rule_expectation(
    kind: str,
    rule: str,
    table: str,
    *,
    fmt: dict[str, str] | None = None,
    **kwargs: Any,
) -> Expectation:
    """A GX expectation of class `kind` with meta {rule, table, column, severity, text_de,
    text_en} and a Data Docs description from `RULES` (formatted with the domain as `column`
    and `fmt`); the severity is a warning for `WARNING_RULES`, else an error."""
    import great_expectations.expectations as gxe

    severity = WARNING if rule in WARNING_RULES else ERROR
    column = kwargs.get("column") or ", ".join(
        kwargs.get("column_list") or [kwargs.get("column_A", ""), kwargs.get("column_B", "")]
    )
    text_de, text_en = (t.format(column=column, **(fmt or {})) for t in RULES[rule])
    meta = {
        "rule": rule,
        "table": table,
        "column": column,
        "severity": severity,
        "text_de": text_de,
        "text_en": text_en,
    }
    # Data Docs insert the description into HTML as it is.
    description = html.escape(f"{text_de} — {text_en}", quote=False)
    return getattr(gxe, kind)(**kwargs, meta=meta, description=description)


def rule_holds(rule: str, table: str, column: str) -> Expectation:
    """`rule` as a helper column that is True where the rule holds (null: does not apply)."""
    return rule_expectation(
        "ExpectColumnValuesToBeInSet", rule, table, column=column, value_set=[True]
    )


def condition_on(column: str) -> Any:
    from great_expectations.expectations.row_conditions import Column

    return Column(column)


def flag_is(column: str, value: bool) -> Any:
    """Row condition `column == value` on a Boolean column."""
    return condition_on(column) == value


def indicator_ids(catalogue: pl.DataFrame, condition: pl.Expr) -> list[str]:
    return sorted(catalogue.filter(condition).get_column("indicator_id").to_list())


def key_expectations(table: str, key: Sequence[str]) -> list[Expectation]:
    expectations = [
        rule_expectation("ExpectColumnValuesToNotBeNull", "key_not_null", table, column=c)
        for c in key
    ]
    if len(key) == 1:
        expectations.append(
            rule_expectation("ExpectColumnValuesToBeUnique", "key_unique", table, column=key[0])
        )
    else:
        expectations.append(
            rule_expectation(
                "ExpectCompoundColumnsToBeUnique", "key_unique", table, column_list=list(key)
            )
        )
    return expectations


def indicator_values_expectations(table: str, catalogue: pl.DataFrame) -> list[Expectation]:
    """Rules of published.indicator_values; catalogue lists become row conditions."""
    where = condition_on
    indicator = where("indicator_id")
    shares = indicator_ids(catalogue, pl.col("unit") == "share")
    suppressible = indicator_ids(catalogue, pl.col("suppress_small_cells"))
    never_suppressed = indicator_ids(catalogue, ~pl.col("suppress_small_cells"))
    with_base_n = indicator_ids(catalogue, pl.col("base_n_entity").is_not_null())
    without_base_n = indicator_ids(catalogue, pl.col("base_n_entity").is_null())
    suppressed, not_suppressed = flag_is("suppressed", True), flag_is("suppressed", False)

    e = [
        *key_expectations(table, list(KEY)),
        *(
            rule_expectation("ExpectColumnValuesToNotBeNull", "key_not_null", table, column=c)
            for c in ("period_type", "suppressed")
        ),
        rule_holds("grid_only", table, "_in_grid"),
        rule_holds("period_within_reference_date", table, "_period_within_r"),
        rule_holds("published_matches_marts", table, "_matches_marts"),
        rule_expectation(
            "ExpectColumnValuesToBeNull",
            "value_needs_denominator",
            table,
            column="value",
            row_condition=where("denominator").is_null() | (where("denominator") == 0),
        ),
        rule_holds("value_is_ratio", table, "_value_is_ratio"),
        *(
            rule_expectation(
                "ExpectColumnValuesToNotBeNull",
                "numbers_present",
                table,
                column=c,
                row_condition=not_suppressed,
            )
            for c in ("numerator", "denominator")
        ),
        *(
            rule_expectation(
                "ExpectColumnValuesToBeNull",
                "suppressed_numbers_null",
                table,
                column=c,
                row_condition=suppressed,
            )
            for c in ("numerator", "denominator", "value", "base_n")
        ),
        rule_holds("suppression_flag_agrees", table, "_flag_agrees"),
        rule_expectation(
            "ExpectColumnValuesToBeInSet",
            "suppression_known",
            table,
            column="suppression",
            value_set=list(SUPPRESSIONS),
        ),
        rule_holds("secondary_allowed", table, "_secondary_allowed"),
        rule_expectation(
            "ExpectColumnValuesToBeInSet",
            "land_secondary",
            table,
            column="_not_land_secondary",
            value_set=[True],
        ),
    ]
    if shares:
        scope = {"scope": ", ".join(shares)}
        e += [
            rule_expectation(
                "ExpectColumnValuesToBeBetween",
                "share_range",
                table,
                fmt=scope,
                column="value",
                min_value=0,
                max_value=1,
                row_condition=indicator.is_in(shares),
            ),
            rule_expectation(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                "share_numerator_le_denominator",
                table,
                fmt=scope,
                column_A="denominator",
                column_B="numerator",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                row_condition=indicator.is_in(shares),
            ),
        ]
    if with_base_n:
        scope = {"scope": ", ".join(with_base_n)}
        e += [
            rule_expectation(
                "ExpectColumnValuesToNotBeNull",
                "base_n_as_catalogue",
                table,
                fmt=scope,
                column="base_n",
                row_condition=indicator.is_in(with_base_n) & not_suppressed,
            ),
            rule_expectation(
                "ExpectColumnValuesToBeBetween",
                "base_n_as_catalogue",
                table,
                fmt=scope,
                column="base_n",
                min_value=0,
            ),
        ]
    if without_base_n:
        e.append(
            rule_expectation(
                "ExpectColumnValuesToBeNull",
                "base_n_as_catalogue",
                table,
                fmt={"scope": ", ".join(with_base_n) or "-"},
                column="base_n",
                row_condition=indicator.is_in(without_base_n),
            )
        )
    if suppressible:
        scope = {"scope": ", ".join(suppressible)}
        small = (where("marts_base_n") > 0) & (where("marts_base_n") < SMALL_CELL)
        e += [
            rule_expectation(
                "ExpectColumnValuesToBeInSet",
                "suppression_applied",
                table,
                fmt=scope,
                column="_suppression",
                value_set=["primary"],
                row_condition=indicator.is_in(suppressible) & small,
            ),
            rule_expectation(
                "ExpectColumnValuesToBeBetween",
                "primary_only_small_cells",
                table,
                fmt=scope,
                column="marts_base_n",
                min_value=1,
                max_value=SMALL_CELL - 1,
                row_condition=where("suppression") == "primary",
            ),
        ]
    if never_suppressed:
        e.append(
            rule_expectation(
                "ExpectColumnValuesToBeInSet",
                "suppression_only_suppressible",
                table,
                fmt={"scope": ", ".join(never_suppressed)},
                column="suppressed",
                value_set=[False],
                row_condition=indicator.is_in(never_suppressed),
            )
        )
    return e


def grid_expectations(table: str) -> list[Expectation]:
    return [rule_holds("grid_complete", table, "_present")]


def marts_expectations(table: str) -> list[Expectation]:
    """The unsuppressed marts table: key, whole numbers, and the level roll-ups."""
    return [
        *key_expectations(table, list(KEY)),
        *(
            rule_expectation("ExpectColumnValuesToNotBeNull", "numbers_present", table, column=c)
            for c in ("numerator", "denominator")
        ),
        *(rule_holds(rule, table, f"_{rule}") for _, _, rule in ROLLUPS),
    ]


def definition_expectations(table: str) -> list[Expectation]:
    return [
        *key_expectations(table, ["indicator_id"]),
        rule_holds("definition_in_catalogue", table, "_in_catalogue"),
    ]


def forecast_expectations(table: str) -> list[Expectation]:
    """Rules of published.forecast_caseload's rows: its only count, `open_at_origin`, is never
    published between 1 and 4, and a suppressed row shows no number (every scenario and month
    of a withheld unit and case type). Whether the withheld counts can be recovered from the
    published ones is the LP audit's check (`disclosure_protected`)."""
    return [
        rule_expectation(
            "ExpectColumnValuesToNotBeInSet",
            "suppression_applied",
            table,
            fmt={"scope": "open_at_origin"},
            column="open_at_origin",
            value_set=list(range(1, SMALL_CELL)),
            row_condition=flag_is("suppressed", False),
        ),
        *(
            rule_expectation(
                "ExpectColumnValuesToBeNull",
                "suppressed_numbers_null",
                table,
                column=c,
                row_condition=flag_is("suppressed", True),
            )
            for c in FORECAST_NUMBERS
        ),
    ]


def wide_mart_expectations(
    table: str, frame: pl.DataFrame, catalogue: pl.DataFrame
) -> list[Expectation]:
    """Key, share columns and small-cell blocks of one wide mart, found by column names:

    - key: level, unit_code, period and any of `MART_EXTRA_KEYS` the mart has;
    - shares: columns named `*_share`, and in marts keyed by unit and period only (one column
      per indicator) Double columns named `<indicator id>_*` of a catalogue share indicator;
    - small-cell blocks: a Boolean `suppressed` / `<p>_suppressed` with its `<p>_base_n` blanks
      the numeric columns of its prefix (for the unprefixed block: those of no other block).
    """
    extra = [c for c in MART_EXTRA_KEYS if c in frame.columns]
    key = [*UNIT_PERIOD_KEY, *extra]
    e = key_expectations(table, key)

    shares = set(indicator_ids(catalogue, pl.col("unit") == "share"))
    share_columns = [c for c in frame.columns if c.endswith("_share")]
    if not extra:
        share_columns += [
            c
            for c, dtype in frame.schema.items()
            if dtype == pl.Float64 and c.split("_", 1)[0].upper() in shares
        ]
    for column in sorted(set(share_columns)):
        e.append(
            rule_expectation(
                "ExpectColumnValuesToBeBetween",
                "share_range",
                table,
                fmt={"scope": column},
                column=column,
                min_value=0,
                max_value=1,
            )
        )

    flags = [
        c
        for c, dtype in frame.schema.items()
        if dtype == pl.Boolean and (c == "suppressed" or c.endswith("_suppressed"))
    ]
    prefixes = {flag: flag.removesuffix("suppressed") for flag in flags}
    others = [p for p in prefixes.values() if p]
    for flag, prefix in prefixes.items():
        base_n = f"{prefix}base_n"
        blanked = [
            c
            for c, dtype in frame.schema.items()
            if dtype.is_numeric()
            and c not in key
            and c.startswith(prefix)
            and not (prefix == "" and any(c.startswith(o) for o in others))
        ]
        scope = {"scope": flag}
        e += [
            # a published base_n of 1 to 4 is what primary suppression hides
            rule_expectation(
                "ExpectColumnValuesToNotBeInSet",
                "suppression_applied",
                table,
                fmt=scope,
                column=base_n,
                value_set=list(range(1, SMALL_CELL)),
                row_condition=flag_is(flag, False),
            ),
            rule_expectation(
                "ExpectColumnValuesToNotBeNull",
                "suppression_known",
                table,
                column=f"{prefix}suppression",
                row_condition=flag_is(flag, True),
            ),
            rule_expectation(
                "ExpectColumnValuesToBeInSet",
                "suppression_known",
                table,
                column=f"{prefix}suppression",
                value_set=list(SUPPRESSIONS),
            ),
            *(
                rule_expectation(
                    "ExpectColumnValuesToBeNull",
                    "suppressed_numbers_null",
                    table,
                    column=c,
                    row_condition=flag_is(flag, True),
                )
                for c in blanked
            ),
        ]
    return e
