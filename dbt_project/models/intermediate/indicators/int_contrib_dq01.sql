-- DQ01 complete deliveries, YEAR and QUARTER. Denominator: providers with a grant whose
-- [zeitraum_von, zeitraum_bis] overlaps P (the grant's applicant); numerator: of those, providers
-- with an accepted snapshot of each of the 8 provider extracts with stand >= P.end. Any accepted
-- delivery counts (stg_deliveries), not only the current snapshot; a provider is therefore complete
-- for P exactly when, for every extract, its newest accepted stand is >= P.end, i.e. when the
-- earliest of those 8 newest stands (complete_through) is >= P.end. One row per provider and period.
with grants as (
    select * from {{ ref('stg_grants') }}
),

deliveries as (
    select * from {{ ref('stg_deliveries') }}
),

periods as (
    select * from {{ ref('int_periods') }}
),

newest_accepted_stand as (
    select
        provider,
        extract,
        max(stand) as newest_stand
    from deliveries
    where is_accepted and extract in ({{ sql_list(provider_extracts()) }})
    group by provider, extract
),

completeness as (
    select
        provider,
        min(newest_stand) as complete_through
    from newest_accepted_stand
    group by provider
    having count(distinct extract) = {{ provider_extracts() | length }}
),

funded_providers as (
    select distinct
        periods.period,
        periods.period_type,
        periods.period_end,
        grants.applicant_ags as provider
    from grants
    inner join periods
        on
            grants.period_from <= periods.period_end
            and grants.period_to >= periods.period_start
)

select
    'DQ01' as indicator_id,
    funded_providers.period,
    funded_providers.period_type,
    funded_providers.provider,
    'provider' as entity_type,
    funded_providers.provider as entity_id,
    case when completeness.complete_through >= funded_providers.period_end then 1 else 0 end
        as numerator,
    1 as denominator
from funded_providers
left join completeness on funded_providers.provider = completeness.provider
