-- Contacts per case and period: each contact counts in the year and the quarter its date falls in
-- (periods_of_date(): two rows per contact, matched to int_periods by code instead of a range join
-- of millions of contacts against every period). One row per case and period with contacts, so the
-- contact indicators (CM07, CM08) start from case grain. Activity of the case in the period is not
-- implied: a contact may be dated outside its case's first-contact..closure span.
-- Built by provider and period (macros/incremental_by_provider.sql): the rows of the providers
-- whose own inputs changed, and of every provider those of the periods that changed.
{{ built_by_provider(by_period=true) }}
with contacts as (
    select * from {{ ref('int_contacts') }}
    where {{ changed_dates('provider', 'contact_date') }}
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

rebuilt_contact_periods as (
    select * from contact_periods
    where {{ changed_rows('provider', 'period') }}
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
    from rebuilt_contact_periods
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
