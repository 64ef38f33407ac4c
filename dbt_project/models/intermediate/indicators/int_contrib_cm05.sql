-- CM05 goals met. Denominator: goals of CM cases with status ERREICHT, TEILWEISE or NICHT_ERREICHT
-- assessed in P (OFFEN and ENTFALLEN are no assessment of success). Numerator: of those, ERREICHT.
-- One row per case (its goals summed). v2: CM cases only; a goal whose case cannot be found (plan
-- missing from the current snapshot) is not known to be of a CM case and does not count. An
-- assessment after R has not yet happened (int_goals).
-- Built by provider and period (macros/incremental_by_provider.sql): the rows of the providers
-- whose own inputs changed, and of every provider those of the periods that changed.
{{ built_by_provider(by_period=true) }}
with goals as (
    select * from {{ ref('int_goals') }}
    where {{ changed_dates('provider', 'assessed_on') }}
),

periods as (
    select * from {{ ref('int_periods') }}
),

assessed as (
    select
        periods.period,
        periods.period_type,
        goals.provider,
        'case' as entity_type,
        goals.case_id as entity_id,
        goals.status
    from goals
    inner join periods
        on goals.assessed_on between periods.period_start and periods.period_eend
    where
        goals.is_case_management
        and goals.status in ('ERREICHT', 'TEILWEISE', 'NICHT_ERREICHT')
        and {{ changed_rows('goals.provider', 'periods.period') }}
)

select
    'CM05' as indicator_id,
    period,
    period_type,
    provider,
    entity_type,
    entity_id,
    count(*) filter (where status = 'ERREICHT') as numerator,
    count(*) as denominator
from assessed
group by period, period_type, provider, entity_type, entity_id
