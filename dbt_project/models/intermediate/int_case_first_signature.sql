-- "First signature" of a case (docs/indicators.md): the earliest signed_on over all versions of all its
-- plans. One row per case; NULL when the case has no plan or only unsigned drafts.
with cases as (
    select * from {{ ref('int_cases') }}
),

plans as (
    select * from {{ ref('int_plans') }}
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
