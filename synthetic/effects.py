"""Known effects of case management on integration outcomes: the truth the outcome analysis
(`export/outcome_analysis.py`) must recover from the evaluator export.

Two outcomes are simulated month by month for every CM case, as discrete-time hazards with a
logit link (the model the analysis fits):

- first employment subject to social insurance or training (ARBEIT = SVB or AUSBILDUNG), for cases
  not so employed at the first contact:
  logit P(event in case-month m) = logit(EMPLOYMENT_BASE) + log(plan OR) · signed(m)
  with signed(m) = the case's first plan signature is on or before the last day of month m;
- first language level B1 or better (SPRACHE), for cases below B1 at the first contact:
  logit P(event in m) = logit(LANGUAGE_BASE) + log(goal-link OR) · share(m − 1)
  with share(m − 1) = goal-linked contacts / contacts of the case up to the end of month m − 1.

Month 0 is the calendar month of the first contact (the baseline observation) and not at risk;
months 1, 2, … follow in calendar months up to the case's end. Nothing else moves these hazards,
so adjusting for other covariates cannot bias the estimates. The event is recorded (an
`ergebnisse` row) on a random day of its month, so "first observed" is "happened".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

EMPLOYMENT_BASE = 0.025
"""Monthly probability of first employment without a signed plan."""
LANGUAGE_BASE = 0.02
"""Monthly probability of reaching B1 with no goal-linked contact."""


@dataclass(frozen=True)
class Effects:
    plan_on_employment: float = 2.0
    """Odds ratio of the monthly hazard of first employment with a signed plan in place."""
    goal_links_on_language: float = 4.0
    """Odds ratio of the monthly hazard of reaching B1 per unit share of goal-linked contacts
    (all contacts so far goal-linked against none)."""

    def truth(self) -> dict[str, object]:
        return {
            **asdict(self),
            "employment_base_monthly_probability": EMPLOYMENT_BASE,
            "language_base_monthly_probability": LANGUAGE_BASE,
            "model": "discrete-time hazard, logit link, per case-month of CM cases at risk; "
            "month 0 (month of first contact) not at risk",
            "terms": {
                "plan_on_employment": "outcome first_employment, term has_signed_plan "
                "(signed by the end of the month)",
                "goal_links_on_language": "outcome first_b1, term share_goal_linked (goal-linked "
                "contacts / contacts up to the end of the previous month)",
            },
            "note": "Odds ratios of the monthly hazard. With monthly hazards of a few per cent "
            "they equal hazard ratios within about 3 %.",
        }


WITH_EFFECT = Effects()
NO_EFFECT = Effects(plan_on_employment=1.0, goal_links_on_language=1.0)
