-- FI02 funding per FTE (EUR), YEAR only. Over the grant-years (g, Y) with a proof of use
-- (int_grant_years): denominator = vzae_ist, numerator = paid(g, Y). One row per grant-year,
-- counted for the grant's applicant.
with grant_years as (
    select * from {{ ref('int_grant_years') }}
),

periods as (
    select * from {{ ref('int_periods') }}
)

select
    'FI02' as indicator_id,
    periods.period,
    periods.period_type,
    grant_years.provider,
    'grant_year' as entity_type,
    {{ id_text('grant_years.grant_id') }} || '/' || cast(grant_years.funding_year as varchar) as entity_id,
    grant_years.paid_eur as numerator,
    grant_years.fte_actual as denominator
from grant_years
inner join periods
    on
        cast(grant_years.funding_year as varchar) = periods.period
        and periods.period_type = 'YEAR'
where grant_years.provider is not null
