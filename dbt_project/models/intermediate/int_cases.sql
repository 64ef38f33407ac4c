-- Cases with the case-end semantics of docs/indicators.md: closure_date stays NULL for an open case,
-- which means "infinitely late"; compare through the case_end() macro, never through closure_date.
with cases as (
    select * from {{ ref('stg_cases') }}
)

select
    provider,
    case_id,
    person_id,
    position_id,
    case_type,
    case_type = 'CM' as is_case_management,
    first_contact_date,
    closure_date,
    closure_reason,
    closure_date is not null as is_closed
from cases
