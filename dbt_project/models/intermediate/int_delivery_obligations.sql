-- Delivery obligations (meldepflichten, contract 1.1) with the grant's applicant: which provider a
-- grant obliges to deliver case data, from valid_from to valid_to (NULL = open). DQ01's
-- denominator and FI03's cases come from here (docs/indicators.md v2). Used as delivered, up to the
-- authority's own stand; only an explicit `--reference-date` R cuts them (an obligation starting
-- after R is not yet known). Without a current meldepflichten snapshot this is empty, and DQ01 and
-- FI03 have denominator 0 (the operator report says why) — the warehouse does not guess.
with obligations as (
    select * from {{ ref('stg_delivery_obligations') }}
),

grants as (
    select * from {{ ref('stg_grants') }}
)

select
    obligations.grant_id,
    grants.applicant_ags,
    obligations.obliged_provider,
    obligations.valid_from,
    obligations.valid_to
from obligations
left join grants on obligations.grant_id = grants.grant_id
where
    obligations.obliged_provider is not null
    and obligations.valid_from <= {{ authority_cutoff() }}
