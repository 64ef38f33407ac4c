-- Grant-years (g, Y) of the funding indicators: a grant-year exists only where a proof of use
-- (verwendungsnachweise) exists for grant g and year Y (docs/indicators.md). paid(g, Y) is the sum of
-- betrag_ausgezahlt_eur of g's paid payout requests with jahr = Y, whatever the payment date, so a
-- request for last year paid this year counts in last year. Payouts of a year without a proof of
-- use belong to no grant-year. A proof received after an explicit `--reference-date` R is not yet
-- known (authority_cutoff()); without one, proofs are used as delivered (a proof for 2025 received
-- in 2026 counts for 2025).
with proofs_of_use as (
    select * from {{ ref('stg_proofs_of_use') }}
),

grants as (
    select * from {{ ref('stg_grants') }}
),

payout_requests as (
    select * from {{ ref('int_payout_requests') }}
),

paid as (
    select
        grant_id,
        funding_year,
        sum(amount_paid_eur) as paid_eur,
        count(*) as paid_requests
    from payout_requests
    where is_paid
    group by grant_id, funding_year
)

select
    grants.applicant_ags as provider,
    proofs_of_use.grant_id,
    proofs_of_use.funding_year,
    proofs_of_use.staff_cost_eur,
    proofs_of_use.material_cost_eur,
    proofs_of_use.staff_cost_eur + proofs_of_use.material_cost_eur as actual_cost_eur,
    proofs_of_use.fte_actual,
    coalesce(proofs_of_use.recovery_eur, 0) as recovery_eur,
    coalesce(paid.paid_eur, 0) as paid_eur,
    coalesce(paid.paid_requests, 0) as paid_requests
from proofs_of_use
left join grants on proofs_of_use.grant_id = grants.grant_id
left join paid
    on
        proofs_of_use.grant_id = paid.grant_id
        and proofs_of_use.funding_year = paid.funding_year
where proofs_of_use.received_on <= {{ authority_cutoff() }}
