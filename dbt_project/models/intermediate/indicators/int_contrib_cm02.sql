-- CM02 plan within 8 weeks. Denominator: CM cases whose first signature falls in P. Numerator: of
-- those, cases with first signature - first contact <= 56 days (signed on the first-contact day:
-- 0 days, counts). One row per case and period: a case has one first signature, so it counts in
-- the one year and the one quarter that signature falls in.
-- Built by provider and period (macros/incremental_by_provider.sql): the rows of the providers
-- whose own inputs changed, and of every provider those of the periods that changed.
{{ built_by_provider(by_period=true) }}
with cases as (
    select * from {{ ref('int_cases') }}
    where {{ changed_inputs('provider') }}
),

first_signatures as (
    select * from {{ ref('int_case_first_signature') }}
    where {{ changed_dates('provider', 'first_signed_on') }}
),

periods as (
    select * from {{ ref('int_periods') }}
),

signatures as (
    select
        cases.provider,
        cases.case_id,
        date_diff('day', cases.first_contact_date, first_signatures.first_signed_on) as days_to_signature,
        unnest({{ periods_of_date('first_signatures.first_signed_on') }}) as period
    from cases
    inner join first_signatures
        on
            cases.provider = first_signatures.provider
            and cases.case_id = first_signatures.case_id
    where
        cases.is_case_management
        and first_signatures.first_signed_on is not null
),

signed_cases as (
    select * from signatures
    where {{ changed_rows('provider', 'period') }}
)

select
    'CM02' as indicator_id,
    signed_cases.period,
    periods.period_type,
    signed_cases.provider,
    'case' as entity_type,
    signed_cases.case_id as entity_id,
    case when signed_cases.days_to_signature <= {{ var('plan_within_days') }} then 1 else 0 end as numerator,
    1 as denominator
from signed_cases
inner join periods on signed_cases.period = periods.period
