-- Payout requests with the provider they count for: the grant's applicant (antragsteller_ags), as
-- for every funding indicator. provider stays NULL when the request's grant is not in the current
-- grant snapshot; such a request counts only where no provider is needed (FI04's cash view).
with payout_requests as (
    select * from {{ ref('stg_payout_requests') }}
),

grants as (
    select * from {{ ref('stg_grants') }}
)

select
    grants.applicant_ags as provider,
    payout_requests.request_id,
    payout_requests.grant_id,
    payout_requests.funding_year,
    payout_requests.received_on,
    payout_requests.amount_requested_eur,
    payout_requests.queries,
    payout_requests.paid_on,
    payout_requests.amount_paid_eur,
    payout_requests.paid_on is not null as is_paid,
    date_diff('day', payout_requests.received_on, payout_requests.paid_on) as days_to_payment
from payout_requests
left join grants on payout_requests.grant_id = grants.grant_id
