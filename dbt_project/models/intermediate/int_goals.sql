-- Goals with the case they serve, found through their plan (the case of the plan's highest
-- version). case_id is NULL when the goal's plan is not in the current plan snapshot.
with goals as (
    select * from {{ ref('stg_goals') }}
),

plans as (
    select * from {{ ref('int_plans') }}
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
    goals.status,
    goals.assessed_on
from goals
left join plans
    on
        goals.provider = plans.provider
        and goals.plan_id = plans.plan_id
