"""The synthetic world: everything that happens until the horizon, independent of `stand`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from synthetic import params as P
from synthetic.casework import (
    Cases,
    Persons,
    StatusRows,
    assign_closures,
    build_cases,
    build_persons,
    build_status,
)
from synthetic.casework_plans import (
    Contacts,
    Goals,
    Outcomes,
    PlanVersions,
    build_contacts,
    build_goals,
    build_plans,
    goal_met_share,
)
from synthetic.effects import WITH_EFFECT, Effects
from synthetic.funding import Funding, build_funding
from synthetic.outcomes import build_outcomes
from synthetic.providers import Positions, Providers, build_providers


@dataclass
class World:
    scale: str
    seed: int
    horizon: int
    providers: Providers
    positions: Positions
    cases: Cases
    persons: Persons
    status: StatusRows
    plans: PlanVersions
    goals: Goals
    contacts: Contacts
    outcomes: Outcomes
    funding: Funding


def build_world(
    scale: str,
    seed: int,
    horizon: int,
    reference: Path,
    effects: Effects = WITH_EFFECT,
    part: tuple[int, int] | None = None,
) -> World:
    """The world of `scale`, or of one `part` (index, count) of it: the Kreise of the part
    (`synthetic.providers.part_kreise`) with their Gemeinden, drawn from the part's own streams."""
    cfg = P.SCALES[scale]
    pv, pos = build_providers(scale, seed, reference, horizon, part)
    # the key of the random streams: a part has its own
    stream = scale if part is None else f"{scale}/part{part[0]}"
    cases = build_cases(P.rng_for(seed, stream, "cases"), pv, pos, cfg.case_factor, horizon)
    persons = build_persons(P.rng_for(seed, stream, "persons"), pv, cases)
    status = build_status(P.rng_for(seed, stream, "status"), persons)
    plans = build_plans(P.rng_for(seed, stream, "plans"), pv, cases, horizon)
    goals = build_goals(P.rng_for(seed, stream, "goals"), pv, cases, plans)
    assign_closures(
        P.rng_for(seed, stream, "closures"), cases, persons, goal_met_share(cases, goals)
    )
    contacts = build_contacts(
        P.rng_for(seed, stream, "contacts"), pv, cases, persons, goals, horizon
    )
    outcomes = build_outcomes(
        P.rng_for(seed, stream, "outcomes"), cases, persons, contacts, horizon, effects
    )
    funding = build_funding(P.rng_for(seed, stream, "funding"), pv, pos, horizon)
    return World(
        scale,
        seed,
        horizon,
        pv,
        pos,
        cases,
        persons,
        status,
        plans,
        goals,
        contacts,
        outcomes,
        funding,
    )
