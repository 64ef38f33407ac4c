-- FI03 cost per active case (EUR), YEAR only (docs/indicators.md v2). Numerator: actual costs
-- (personalkosten_ist_eur + sachkosten_ist_eur, as FI01's denominator) of the grant-years (g, Y)
-- whose applicant is the provider. Denominator: cases (CM and KB) active in Y of the providers that
-- those grant-years' grants oblige to deliver in Y (int_delivery_obligations overlapping
-- [Y.start, Y.eend]), counted at the grant's applicant: a provider obliged by two applicants'
-- grants counts at both, a provider obliged twice by one applicant's grants once. Two kinds of
-- rows: one per active case of an obliged provider (0 / 1, making base_n) and one per grant-year
-- (costs / 0). Without obligations (no meldepflichten snapshot) the denominator is 0.
with case_periods as (
    select * from {{ ref('int_case_periods') }}
),

grant_years as (
    select * from {{ ref('int_grant_years') }}
),

obligations as (
    select * from {{ ref('int_delivery_obligations') }}
),

periods as (
    select * from {{ ref('int_periods') }}
),

year_grant_years as (
    select
        periods.period,
        periods.period_type,
        periods.period_start,
        periods.period_eend,
        grant_years.provider,
        grant_years.grant_id,
        grant_years.funding_year,
        grant_years.actual_cost_eur
    from grant_years
    inner join periods
        on
            cast(grant_years.funding_year as varchar) = periods.period
            and periods.period_type = 'YEAR'
    where grant_years.provider is not null
),

-- (applicant, obliged provider, year) once, however many of the applicant's grants oblige it
covered_providers as (
    select distinct
        year_grant_years.period,
        year_grant_years.provider as applicant,
        obligations.obliged_provider
    from year_grant_years
    inner join obligations
        on
            year_grant_years.grant_id = obligations.grant_id
            and year_grant_years.period_eend >= obligations.valid_from
            and (obligations.valid_to is null or year_grant_years.period_start <= obligations.valid_to)
),

active_cases as (
    select
        case_periods.period,
        case_periods.period_type,
        covered_providers.applicant as provider,
        'case' as entity_type,
        -- as text, as the grant-years' rows below: one type in the union
        {{ id_text('case_periods.case_id') }} as entity_id,
        0 as numerator,
        1 as denominator
    from case_periods
    inner join covered_providers
        on
            case_periods.period = covered_providers.period
            and case_periods.provider = covered_providers.obliged_provider
    where case_periods.period_type = 'YEAR'
),

costs as (
    select
        period,
        period_type,
        provider,
        'grant_year' as entity_type,
        {{ id_text('grant_id') }} || '/' || cast(funding_year as varchar) as entity_id,
        actual_cost_eur as numerator,
        0 as denominator
    from year_grant_years
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
