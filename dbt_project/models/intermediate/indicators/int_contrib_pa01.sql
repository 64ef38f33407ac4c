-- PA01 payouts within 30 days, YEAR and QUARTER. Denominator: payout requests with ausgezahlt_am in
-- P; numerator: of those, ausgezahlt_am - eingegangen_am <= 30 days. One row per request and
-- period, counted for the grant's applicant; the periods come from the payment date.
with payout_requests as (
    select * from {{ ref('int_payout_requests') }}
),

periods as (
    select * from {{ ref('int_periods') }}
),

paid as (
    select
        provider,
        request_id,
        days_to_payment,
        unnest({{ periods_of_date('paid_on') }}) as period
    from payout_requests
    where is_paid and provider is not null
)

select
    'PA01' as indicator_id,
    periods.period,
    periods.period_type,
    paid.provider,
    'payout_request' as entity_type,
    paid.request_id as entity_id,
    case when paid.days_to_payment <= 30 then 1 else 0 end as numerator,
    1 as denominator
from paid
inner join periods on paid.period = periods.period
