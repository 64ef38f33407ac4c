-- CM04 SMART goals. Denominator: goals of CM cases agreed (vereinbart_am) in P (v2: CM cases only;
-- a goal whose case is unknown — its plan missing from the current snapshot — is not known to be
-- of a CM case and does not count, as contacts in CM08). Numerator: of those, goals with a target
-- date and a measurable criterion. One row per case (its goals summed). Goals agreed after R are
-- not known (int_goals).
-- Built by provider and period (macros/incremental_by_provider.sql): the rows of the providers
-- whose own inputs changed, and of every provider those of the periods that changed.
{{ built_by_provider(by_period=true) }}
with goals as (
    select * from {{ ref('int_goals') }}
    where {{ changed_dates('provider', 'agreed_on') }}
),

periods as (
    select * from {{ ref('int_periods') }}
),

agreements as (
    select
        provider,
        'case' as entity_type,
        case_id as entity_id,
        target_date is not null and coalesce(has_measurable_criterion, false) as is_smart,
        unnest({{ periods_of_date('agreed_on') }}) as period
    from goals
    where is_case_management
),

agreed as (
    select * from agreements
    where {{ changed_rows('provider', 'period') }}
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
