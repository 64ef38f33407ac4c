-- The review chain of plan versions (CM06): each version with its review due date and whether a
-- higher version of the same plan was drawn up by due date + 14 days — any higher version, so a
-- follow-up drawn up early, even before the due date, is on time. The case (the plan's case, as
-- in int_plans) comes with its closure date, for "not closed before the due date".
-- Built by provider (macros/incremental_by_provider.sql): only the providers whose own inputs
-- changed. It reads of the shared inputs only R, and R only through dates the contract caps at the
-- stand and plan and goal dates, which int_provider_dates counts into the own inputs: a moved R
-- rebuilds a provider's rows only when one of its dates lies between the old R and the new.
{{ built_by_provider(own_only=true) }}
with versions as (
    select * from {{ ref('int_plan_versions') }}
    where {{ changed_providers('provider', own_only=true) }}
),

plans as (
    select * from {{ ref('int_plans') }}
    where {{ changed_providers('provider', own_only=true) }}
),

cases as (
    select * from {{ ref('int_cases') }}
    where {{ changed_providers('provider', own_only=true) }}
),

chained as (
    select
        provider,
        plan_id,
        version,
        created_on,
        signed_on,
        review_due_on,
        -- earliest drawing-up of any higher version: "a higher version created by the deadline"
        -- exists exactly when this earliest one is by the deadline
        min(created_on) over (
            partition by provider, plan_id
            order by version
            rows between 1 following and unbounded following
        ) as next_version_created_on
    from versions
)

select
    chained.provider,
    chained.plan_id,
    chained.version,
    plans.case_id,
    chained.created_on,
    chained.signed_on,
    chained.review_due_on,
    chained.review_due_on + {{ var('review_grace_days') }} as review_deadline,
    chained.next_version_created_on,
    case
        when chained.review_due_on is not null
            then coalesce(chained.next_version_created_on <= chained.review_due_on + {{ var('review_grace_days') }}, false)
    end as is_reviewed_on_time,
    cases.case_id is not null as is_case_known,
    coalesce(cases.is_case_management, false) as is_case_management,
    cases.closure_date as case_closure_date,
    coalesce(cases.closure_date < chained.review_due_on, false) as is_case_closed_before_review_due
from chained
inner join plans
    on
        chained.provider = plans.provider
        and chained.plan_id = plans.plan_id
left join cases
    on
        plans.provider = cases.provider
        and plans.case_id = cases.case_id
