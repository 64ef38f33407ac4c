-- "First signature" of a case (docs/indicators.md): the earliest signed_on over all versions of all its
-- plans. One row per case; NULL when the case has no plan or only unsigned drafts.
-- Built by provider (macros/incremental_by_provider.sql): only the providers whose own inputs
-- changed. It reads of the shared inputs only R, and R only through dates the contract caps at the
-- stand and plan and goal dates, which int_provider_dates counts into the own inputs: a moved R
-- rebuilds a provider's rows only when one of its dates lies between the old R and the new.
{{ built_by_provider(own_only=true) }}
with cases as (
    select * from {{ ref('int_cases') }}
    where {{ changed_providers('provider', own_only=true) }}
),

plans as (
    select * from {{ ref('int_plans') }}
    where {{ changed_providers('provider', own_only=true) }}
)

select
    cases.provider,
    cases.case_id,
    min(plans.first_signed_on) as first_signed_on
from cases
left join plans
    on
        cases.provider = plans.provider
        and cases.case_id = plans.case_id
group by cases.provider, cases.case_id
