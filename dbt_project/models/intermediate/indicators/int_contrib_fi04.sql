-- FI04 budget execution, YEAR and LAND only: a cash view. Denominator: ansatz_eur +
-- reste_vorjahr_eur of year Y (haushalt); numerator: all payouts with ausgezahlt_am in Y, whatever
-- their funding year and grant. The funding authority's own figures: one row per year for provider
-- '08', which int_unit_levels maps to the Land only.
with budget as (
    select * from {{ ref('stg_budget') }}
),

payout_requests as (
    select * from {{ ref('int_payout_requests') }}
),

periods as (
    select * from {{ ref('int_periods') }}
),

budget_by_year as (
    select
        cast(budget_year as varchar) as period,
        sum(appropriation_eur + carryover_eur) as budget_eur
    from budget
    group by budget_year
),

payouts_by_year as (
    select
        cast(year(paid_on) as varchar) as period,
        sum(amount_paid_eur) as paid_eur
    from payout_requests
    where is_paid
    group by year(paid_on)
)

select
    'FI04' as indicator_id,
    periods.period,
    periods.period_type,
    '08' as provider,
    'provider' as entity_type,
    '08' as entity_id,
    coalesce(payouts_by_year.paid_eur, 0) as numerator,
    coalesce(budget_by_year.budget_eur, 0) as denominator
from periods
left join budget_by_year on periods.period = budget_by_year.period
left join payouts_by_year on periods.period = payouts_by_year.period
where
    periods.period_type = 'YEAR'
    and (budget_by_year.period is not null or payouts_by_year.period is not null)
