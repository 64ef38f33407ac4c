-- Goals with the case they serve, found through their plan (the case of the plan's highest
-- version). case_id is NULL when the goal's plan is not in the current plan snapshot.
-- Only what is known at the reference date R: a goal agreed after R is not yet known, and an
-- assessment after R has not yet happened (the goal is OFFEN at R, without bewertet_am).
-- Built by provider (macros/incremental_by_provider.sql): only the providers whose own inputs
-- changed. It reads of the shared inputs only R, and R only through dates the contract caps at the
-- stand and plan and goal dates, which int_provider_dates counts into the own inputs: a moved R
-- rebuilds a provider's rows only when one of its dates lies between the old R and the new.
{{ built_by_provider(own_only=true) }}
with goals as (
    select * from {{ ref('stg_goals') }}
    where {{ changed_providers('provider', own_only=true) }}
),

plans as (
    select * from {{ ref('int_plans') }}
    where {{ changed_providers('provider', own_only=true) }}
)

select
    goals.provider,
    goals.goal_id,
    goals.plan_id,
    plans.case_id,
    goals.field,
    goals.agreed_on,
    goals.target_date,
    goals.has_measurable_criterion,
    case when goals.assessed_on > {{ reference_date() }} then 'OFFEN' else goals.status end as status,
    case when goals.assessed_on <= {{ reference_date() }} then goals.assessed_on end as assessed_on,
    coalesce(plans.is_case_management, false) as is_case_management
from goals
left join plans
    on
        goals.provider = plans.provider
        and goals.plan_id = plans.plan_id
where goals.agreed_on <= {{ reference_date() }}
