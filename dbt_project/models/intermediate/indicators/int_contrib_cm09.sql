-- CM09 positive closures. Denominator: CM cases closed (abschluss_datum) in P, the first and the
-- last day of P included. Numerator: of those, closure reason ZIELE_ERREICHT or AUSZUG_AU. One row
-- per case and period.
-- Built by provider and period (macros/incremental_by_provider.sql): the rows of the providers
-- whose own inputs changed, and of every provider those of the periods that changed.
{{ built_by_provider(by_period=true) }}
with cases as (
    select * from {{ ref('int_cases') }}
    where {{ changed_dates('provider', 'closure_date') }}
),

periods as (
    select * from {{ ref('int_periods') }}
),

closures as (
    select
        provider,
        case_id,
        closure_reason in ('ZIELE_ERREICHT', 'AUSZUG_AU') as is_positive,
        unnest({{ periods_of_date('closure_date') }}) as period
    from cases
    where
        is_case_management
        and closure_date is not null
),

closed as (
    select * from closures
    where {{ changed_rows('provider', 'period') }}
)

select
    'CM09' as indicator_id,
    closed.period,
    periods.period_type,
    closed.provider,
    'case' as entity_type,
    closed.case_id as entity_id,
    case when closed.is_positive then 1 else 0 end as numerator,
    1 as denominator
from closed
inner join periods on closed.period = periods.period
