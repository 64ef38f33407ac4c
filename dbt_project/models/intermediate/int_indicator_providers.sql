-- Providers that funding, payout and data-quality indicators attribute rows to without the
-- provider necessarily having a current accepted snapshot: grant applicants (antragsteller_ags,
-- e.g. a Kreis applying for the Gemeinden that deliver the case data), providers whose files
-- were all rejected (DQ02 must show them) and providers obliged to deliver (meldepflichten: an
-- obliged provider that never delivered is a unit of DQ01's grid). int_units must include them, or
-- their rows reach no unit.
-- The funding authority '08' is no provider.
with grants as (
    select * from {{ ref('stg_grants') }}
),

deliveries as (
    select * from {{ ref('stg_deliveries') }}
),

applicants as (
    select distinct applicant_ags as provider
    from grants
    where applicant_ags is not null
),

obliged as (
    select distinct obliged_provider as provider
    from {{ ref('int_delivery_obligations') }}
),

delivering as (
    -- files with a valid name only: for a misnamed file the provider is a guess from the name
    select distinct provider
    from deliveries
    where provider is not null and stand is not null
)

select
    coalesce(applicants.provider, delivering.provider, obliged.provider) as provider,
    applicants.provider is not null as is_grant_applicant,
    delivering.provider is not null as has_delivered_files,
    obliged.provider is not null as is_obliged
from applicants
full outer join delivering on applicants.provider = delivering.provider
full outer join obliged on coalesce(applicants.provider, delivering.provider) = obliged.provider
where coalesce(applicants.provider, delivering.provider, obliged.provider) <> '08'
