"""`VARIABLES`: every exported variable in file order, assembled from the topic builders."""

from __future__ import annotations

from export.codebook import case_months, cases
from export.codebook.model import Variable

VARIABLES: tuple[Variable, ...] = (
    *cases.identity(),
    *cases.age_sex(),
    *cases.origin(),
    *cases.case_start(),
    *cases.course(),
    *cases.intensity(),
    *cases.plans(),
    *cases.goals(),
    *cases.outcomes(),
    *case_months.month_identity(),
    *case_months.month_intensity(),
    *case_months.month_plans_goals(),
    *case_months.month_status(),
)


def variables(table: str) -> list[Variable]:
    return [v for v in VARIABLES if v.table == table]
