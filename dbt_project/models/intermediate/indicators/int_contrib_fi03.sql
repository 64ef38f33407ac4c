-- FI03 cost per active case (EUR), YEAR only. Denominator: cases (CM and KB) of the provider active
-- in Y; numerator: actual costs (personalkosten_ist_eur + sachkosten_ist_eur, as FI01's
-- denominator) of the grant-years (g, Y) whose applicant is the provider. Two kinds of rows: one
-- per active case (0 / 1, making base_n) and one per grant-year (costs / 0).
with case_periods as (
    select * from {{ ref('int_case_periods') }}
),

grant_years as (
    select * from {{ ref('int_grant_years') }}
),

periods as (
    select * from {{ ref('int_periods') }}
),

active_cases as (
    select
        period,
        period_type,
        provider,
        'case' as entity_type,
        case_id as entity_id,
        0 as numerator,
        1 as denominator
    from case_periods
    where period_type = 'YEAR'
),

costs as (
    select
        periods.period,
        periods.period_type,
        grant_years.provider,
        'grant_year' as entity_type,
        grant_years.grant_id || '/' || cast(grant_years.funding_year as varchar) as entity_id,
        grant_years.actual_cost_eur as numerator,
        0 as denominator
    from grant_years
    inner join periods
        on
            cast(grant_years.funding_year as varchar) = periods.period
            and periods.period_type = 'YEAR'
    where grant_years.provider is not null
)

select
    'FI03' as indicator_id,
    *
from active_cases
union all
select
    'FI03' as indicator_id,
    *
from costs
