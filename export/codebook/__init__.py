"""The one definition of the evaluator export's variables.

Column order, the codebook (Markdown and JSON) and the Stata variable and value labels all derive
from `VARIABLES`. Each variable names the SQL expression that computes it from the export views
(`exports.exp_cases` as `c`, `exports.exp_case_months` as `m`; dbt_project/models/exports) and,
where it rests on an indicator definition, the indicator ids of docs/indicators.md.

Quasi-identifiers come at several levels of detail (`qi`, `detail`: Kreis → Regierungsbezirk →
none; 6 → 4 → 2 age bands → none; sex → none; nationality group → region → none; arrival year →
2-year → 4-year band → none; start month → quarter → year); an export carries exactly one level
of each, chosen by the search over the generalisation lattice in `export/anonymity.py`.

The package: `model` (tables, kinds, quasi-identifier code lists, `Variable`), `cases` and
`case_months` (one builder per topic), `variables` (`VARIABLES` in file order), `document`
(the codebook as JSON and Markdown)."""

from __future__ import annotations

from contract.spec import Code
from export.codebook.document import codebook, codebook_markdown
from export.codebook.model import (
    AGE_BANDS,
    AGE_BANDS_WIDE,
    AGE_GROUPS,
    BOOLEAN,
    CASE_MONTHS,
    CASES,
    CATEGORY,
    ID,
    INTEGER,
    KINDS,
    MONTH,
    NATIONALITY_REGION,
    NOT_MISSING,
    NUMBER,
    OTHER_NATIONALITY,
    PROSPECTS,
    REGIONS,
    STATUS_CATEGORIES,
    TABLES,
    TOP_NATIONALITIES,
    Variable,
    country_codes,
)
from export.codebook.variables import VARIABLES, variables

__all__ = [
    "AGE_BANDS",
    "AGE_BANDS_WIDE",
    "AGE_GROUPS",
    "BOOLEAN",
    "CASES",
    "CASE_MONTHS",
    "CATEGORY",
    "ID",
    "INTEGER",
    "KINDS",
    "MONTH",
    "NATIONALITY_REGION",
    "NOT_MISSING",
    "NUMBER",
    "OTHER_NATIONALITY",
    "PROSPECTS",
    "REGIONS",
    "STATUS_CATEGORIES",
    "TABLES",
    "TOP_NATIONALITIES",
    "VARIABLES",
    "Code",
    "Variable",
    "codebook",
    "codebook_markdown",
    "country_codes",
    "variables",
]
