-- One row per integration plan (versions known at R, int_plan_versions). All versions of a plan
-- belong to one case (contract rule); should deliveries disagree, the case of the highest version
-- wins. is_case_management: the case is known and a CM case (CM03–CM06 count CM cases only).
-- Built by provider (macros/incremental_by_provider.sql): only the providers whose own inputs
-- changed. It reads of the shared inputs only R, and R only through dates the contract caps at the
-- stand and plan and goal dates, which int_provider_dates counts into the own inputs: a moved R
-- rebuilds a provider's rows only when one of its dates lies between the old R and the new.
{{ built_by_provider(own_only=true) }}
with versions as (
    select * from {{ ref('int_plan_versions') }}
    where {{ changed_providers('provider', own_only=true) }}
),

cases as (
    select * from {{ ref('int_cases') }}
    where {{ changed_providers('provider', own_only=true) }}
),

highest_version as (
    select
        provider,
        plan_id,
        case_id,
        version as latest_version
    from versions
    qualify row_number() over (partition by provider, plan_id order by version desc) = 1
),

per_plan as (
    select
        provider,
        plan_id,
        count(*) as version_count,
        min(created_on) as first_created_on,
        -- min() skips unsigned drafts (NULL): a plan with drafts only has no signature
        min(signed_on) as first_signed_on
    from versions
    group by provider, plan_id
)

select
    highest_version.provider,
    highest_version.plan_id,
    highest_version.case_id,
    highest_version.latest_version,
    per_plan.version_count,
    per_plan.first_created_on,
    per_plan.first_signed_on,
    coalesce(cases.is_case_management, false) as is_case_management
from highest_version
inner join per_plan
    on
        highest_version.provider = per_plan.provider
        and highest_version.plan_id = per_plan.plan_id
left join cases
    on
        highest_version.provider = cases.provider
        and highest_version.case_id = cases.case_id
