-- PA02 queries per payout request, YEAR and QUARTER. Denominator: payout requests with
-- eingegangen_am in P; numerator: the sum of their rueckfragen. One row per request and period,
-- counted for the grant's applicant; the periods come from the date received.
with payout_requests as (
    select * from {{ ref('int_payout_requests') }}
),

periods as (
    select * from {{ ref('int_periods') }}
),

received as (
    select
        provider,
        request_id,
        queries,
        unnest({{ periods_of_date('received_on') }}) as period
    from payout_requests
    where provider is not null
)

select
    'PA02' as indicator_id,
    periods.period,
    periods.period_type,
    received.provider,
    'payout_request' as entity_type,
    received.request_id as entity_id,
    coalesce(received.queries, 0) as numerator,
    1 as denominator
from received
inner join periods on received.period = periods.period
