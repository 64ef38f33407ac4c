-- CM04 SMART goals. Denominator: goals agreed (vereinbart_am) in P, of any case type. Numerator:
-- of those, goals with a target date and a measurable criterion. One row per case (its goals
-- summed); as in CM05, a goal whose case is unknown (its plan is missing from the current
-- snapshot) counts as its own 'goal' row and adds no case to base_n.
with goals as (
    select * from {{ ref('int_goals') }}
),

periods as (
    select * from {{ ref('int_periods') }}
),

agreed as (
    select
        provider,
        case when case_id is null then 'goal' else 'case' end as entity_type,
        coalesce(case_id, goal_id) as entity_id,
        target_date is not null and coalesce(has_measurable_criterion, false) as is_smart,
        unnest({{ periods_of_date('agreed_on') }}) as period
    from goals
)

select
    'CM04' as indicator_id,
    agreed.period,
    periods.period_type,
    agreed.provider,
    agreed.entity_type,
    agreed.entity_id,
    count(*) filter (where agreed.is_smart) as numerator,
    count(*) as denominator
from agreed
inner join periods on agreed.period = periods.period
group by agreed.period, periods.period_type, agreed.provider, agreed.entity_type, agreed.entity_id
