-- DQ01 complete deliveries, YEAR and QUARTER (docs/indicators.md v2). Denominator: providers with a
-- delivery obligation (int_delivery_obligations, from meldepflichten) overlapping [P.start, P.eend]
-- — an obliged provider that never delivered counts too (int_indicator_providers makes it a unit).
-- Numerator: of those, providers with an accepted current snapshot of each of the 8 provider
-- extracts with stand >= P.eend, i.e. whose earliest current stand over the 8 extracts
-- (complete_through) is >= P.eend. One row per obliged provider and period. A provider that
-- delivers without an obligation is not counted here; the operator report lists it.
with obligations as (
    select * from {{ ref('int_delivery_obligations') }}
),

current_batches as (
    select * from {{ ref('stg_current_batches') }}
),

periods as (
    select * from {{ ref('int_periods') }}
),

completeness as (
    select
        provider,
        min(stand) as complete_through
    from current_batches
    where extract in ({{ sql_list(provider_extracts()) }})
    group by provider
    having count(distinct extract) = {{ provider_extracts() | length }}
),

obliged_providers as (
    select distinct
        periods.period,
        periods.period_type,
        periods.period_eend,
        obligations.obliged_provider as provider
    from obligations
    inner join periods
        on
            obligations.valid_from <= periods.period_eend
            and (obligations.valid_to is null or obligations.valid_to >= periods.period_start)
    where obligations.obliged_provider <> '08'
)

select
    'DQ01' as indicator_id,
    obliged_providers.period,
    obliged_providers.period_type,
    obliged_providers.provider,
    'provider' as entity_type,
    obliged_providers.provider as entity_id,
    case when completeness.complete_through >= obliged_providers.period_eend then 1 else 0 end
        as numerator,
    1 as denominator
from obliged_providers
left join completeness on obliged_providers.provider = completeness.provider
