"""The catalogue's fixed numbers, defined once in `dbt_project/dbt_project.yml` (`vars:`) and read
here by the Python side (gates, disclosure control), so dbt and Python can never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import yaml

from core.settings import DBT_PROJECT_DIR


@dataclass(frozen=True)
class ProjectVars:
    cell_minimum: int
    """A CM*/EL* cell resting on 0 < base_n < cell_minimum cases or persons is suppressed."""
    plan_within_days: int
    """CM01/CM02: days from first contact within which a plan should be signed."""
    review_grace_days: int
    """CM06: days after a review's due date within which the next version counts as on time."""


@cache
def project_vars() -> ProjectVars:
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    v = project["vars"]
    return ProjectVars(
        cell_minimum=int(v["cell_minimum"]),
        plan_within_days=int(v["plan_within_days"]),
        review_grace_days=int(v["review_grace_days"]),
    )
