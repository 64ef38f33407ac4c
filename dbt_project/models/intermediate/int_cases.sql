-- Cases with the case-end semantics of docs/indicators.md: closure_date stays NULL for an open case,
-- which means "infinitely late"; compare through the case_end() macro, never through closure_date.
-- Only what is known at the reference date R: a case first contacted after R is not yet known, and
-- a closure after R has not yet happened (the case is open at R).
-- Built by provider (macros/incremental_by_provider.sql): only the providers whose own snapshots
-- changed. It reads nothing the providers share but R, and R only through a case's first contact
-- and closure, dates the contract caps at the stand (erstkontakt_datum, abschluss_datum <= Stand):
-- with R the newest stand none lies after it, so a moved R rebuilds it only when set explicitly
-- (int_provider_inputs.own_inputs), as int_contact_status. Every model after it starts there.
{{ built_by_provider(own_only=true) }}
with cases as (
    select * from {{ ref('stg_cases') }}
    where {{ changed_providers('provider', own_only=true) }}
),

known as (
    select
        *,
        closure_date is not null and closure_date <= {{ reference_date() }} as is_closure_known
    from cases
    where first_contact_date <= {{ reference_date() }}
)

select
    provider,
    case_id,
    person_id,
    position_id,
    case_type,
    case_type = 'CM' as is_case_management,
    first_contact_date,
    case when is_closure_known then closure_date end as closure_date,
    case when is_closure_known then closure_reason end as closure_reason,
    is_closure_known as is_closed
from known
