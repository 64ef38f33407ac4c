-- CM06 plan reviewed on time. Denominator: plan versions of CM cases whose review due date falls in
-- P and whose case is not closed before that date (closed on the due date or later, or open:
-- counted). Numerator: of those, versions followed by a higher version of the same plan drawn up by
-- due date + 14 days (int_plan_version_reviews). One row per case and period, its versions summed.
-- v2: CM cases only; a version due less than 14 days before R (or after R) has no known outcome
-- yet and counts in neither numerator nor denominator, i.e. only due dates <= R - 14 count.
-- Built by provider (macros/incremental_by_provider.sql): only the providers whose inputs changed.
{{ built_by_provider() }}
with reviews as (
    select * from {{ ref('int_plan_version_reviews') }}
    where {{ changed_providers('provider') }}
),

periods as (
    select * from {{ ref('int_periods') }}
),

due as (
    select
        provider,
        case_id,
        is_reviewed_on_time,
        unnest({{ periods_of_date('review_due_on') }}) as period
    from reviews
    where
        review_due_on is not null
        and is_case_management
        and not is_case_closed_before_review_due
        and review_due_on <= {{ reference_date() }} - 14
)

select
    'CM06' as indicator_id,
    due.period,
    periods.period_type,
    due.provider,
    'case' as entity_type,
    due.case_id as entity_id,
    count(*) filter (where due.is_reviewed_on_time) as numerator,
    count(*) as denominator
from due
inner join periods on due.period = periods.period
group by due.period, periods.period_type, due.provider, due.case_id
