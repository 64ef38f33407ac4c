-- CM01 plan coverage. Denominator: CM cases active in P with min(case_end, P.eend) - first contact
-- >= 56 days. Numerator: of those, cases whose first signature is <= min(case_end, P.eend), so a
-- plan signed after closure or after P.eend does not count (it counts in a later P, if active).
-- effective_end of int_case_periods is min(case_end, P.eend), P.eend = min(P.end, R).
-- Built by provider and period (macros/incremental_by_provider.sql): the rows of the providers
-- whose own inputs changed, and of every provider those of the periods that changed.
{{ built_by_provider(by_period=true) }}
with case_periods as (
    select * from {{ ref('int_case_periods') }}
    where {{ changed_rows('provider', 'period') }}
),

first_signatures as (
    select * from {{ ref('int_case_first_signature') }}
    where {{ changed_inputs('provider') }}
)

select
    'CM01' as indicator_id,
    case_periods.period,
    case_periods.period_type,
    case_periods.provider,
    'case' as entity_type,
    case_periods.case_id as entity_id,
    case when first_signatures.first_signed_on <= case_periods.effective_end then 1 else 0 end
        as numerator,
    1 as denominator
from case_periods
left join first_signatures
    on
        case_periods.provider = first_signatures.provider
        and case_periods.case_id = first_signatures.case_id
where
    case_periods.is_case_management
    and date_diff('day', case_periods.first_contact_date, case_periods.effective_end) >= {{ var('plan_within_days') }}
