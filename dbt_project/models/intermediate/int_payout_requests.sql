-- Payout requests with the provider they count for: the grant's applicant (antragsteller_ags), as
-- for every funding indicator. provider stays NULL when the request's grant is not in the current
-- grant snapshot; such a request counts only where no provider is needed (FI04's cash view).
-- The funding authority's extracts are used as delivered, up to their own stand; only an explicit
-- `--reference-date` R cuts them (authority_cutoff()): a request received after R is not yet
-- known, and a payment after R has not yet happened.
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
    case when payout_requests.paid_on <= {{ authority_cutoff() }} then payout_requests.paid_on end
        as paid_on,
    case when payout_requests.paid_on <= {{ authority_cutoff() }} then payout_requests.amount_paid_eur end
        as amount_paid_eur,
    coalesce(payout_requests.paid_on <= {{ authority_cutoff() }}, false) as is_paid,
    case
        when payout_requests.paid_on <= {{ authority_cutoff() }}
            then date_diff('day', payout_requests.received_on, payout_requests.paid_on)
    end as days_to_payment
from payout_requests
left join grants on payout_requests.grant_id = grants.grant_id
where payout_requests.received_on <= {{ authority_cutoff() }}
