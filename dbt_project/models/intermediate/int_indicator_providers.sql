-- Providers that funding, payout and data-quality indicators attribute rows to without the
-- provider necessarily having a current accepted snapshot: grant applicants (antragsteller_ags,
-- e.g. a Kreis applying for the Gemeinden that deliver the case data) and providers whose files
-- were all rejected (DQ02 must show them). int_units must include them, or their rows reach no unit.
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

delivering as (
    -- files with a valid name only: for a misnamed file the provider is a guess from the name
    select distinct provider
    from deliveries
    where provider is not null and stand is not null
)

select
    coalesce(applicants.provider, delivering.provider) as provider,
    applicants.provider is not null as is_grant_applicant,
    delivering.provider is not null as has_delivered_files
from applicants
full outer join delivering on applicants.provider = delivering.provider
where coalesce(applicants.provider, delivering.provider) <> '08'
