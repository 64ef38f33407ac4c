-- Contacts per person and period for the eligibility indicators EL01-EL03: each contact counts in
-- the YEAR and the QUARTER that contain its date. The periods are derived from the date (two rows
-- per contact) rather than range-joined to int_periods, and the result is aggregated to person
-- grain here, once, so that millions of contacts become one row per person and period.
-- Built by provider and period (macros/incremental_by_provider.sql): the rows of the providers
-- whose own inputs changed, and of every provider those of the periods that changed.
{{ built_by_provider(by_period=true) }}
with contacts as (
    select * from {{ ref('int_contact_status') }}
    where {{ changed_dates('provider', 'contact_date') }}
),

periods as (
    select * from {{ ref('int_periods') }}
),

contact_periods as (
    select
        provider,
        contact_id,
        person_id,
        prospect,
        status_category,
        is_outside_au,
        unnest({{ periods_of_date('contact_date') }}) as period
    from contacts
),

dated as (
    select * from contact_periods
    where {{ changed_rows('provider', 'period') }}
)

select
    dated.period,
    periods.period_type,
    dated.provider,
    -- a contact whose case (and so person) is unknown still counts, as its own row, in no base_n
    case when dated.person_id is null then 'contact' else 'person' end as entity_type,
    coalesce(dated.person_id, dated.contact_id) as entity_id,
    count(*) as contacts,
    count(*) filter (where dated.prospect = 'JA') as contacts_with_prospect,
    count(*) filter (where dated.status_category = 'AUSREISEPFLICHTIG') as contacts_obliged_to_leave,
    count(*) filter (where dated.is_outside_au) as contacts_outside_au
from dated
inner join periods on dated.period = periods.period
group by
    dated.period,
    periods.period_type,
    dated.provider,
    case when dated.person_id is null then 'contact' else 'person' end,
    coalesce(dated.person_id, dated.contact_id)
