-- Contacts per case and period: each contact counts in the year and the quarter its date falls in
-- (periods_of_date(): two rows per contact, matched to int_periods by code instead of a range join
-- of millions of contacts against every period). One row per case and period with contacts, so the
-- contact indicators (CM07, CM08) start from case grain. Activity of the case in the period is not
-- implied: a contact may be dated outside its case's first-contact..closure span.
-- Built by provider (macros/incremental_by_provider.sql): only the providers whose inputs changed.
{{ built_by_provider() }}
with contacts as (
    select * from {{ ref('int_contacts') }}
    where {{ changed_providers('provider') }}
),

periods as (
    select * from {{ ref('int_periods') }}
),

contact_periods as (
    select
        provider,
        case_id,
        is_case_known,
        is_case_management,
        is_goal_linked,
        unnest({{ periods_of_date('contact_date') }}) as period
    from contacts
),

per_case_period as (
    select
        provider,
        case_id,
        period,
        -- case attributes are the same on every contact of a case
        bool_or(is_case_known) as is_case_known,
        bool_or(is_case_management) as is_case_management,
        count(*) as contacts,
        count(*) filter (where is_goal_linked) as goal_linked_contacts
    from contact_periods
    group by provider, case_id, period
)

select
    per_case_period.provider,
    per_case_period.case_id,
    per_case_period.period,
    periods.period_type,
    per_case_period.is_case_known,
    per_case_period.is_case_management,
    per_case_period.contacts,
    per_case_period.goal_linked_contacts
from per_case_period
inner join periods on per_case_period.period = periods.period
