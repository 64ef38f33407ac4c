-- Each contact with its person's residence status at the contact date and whether the date lies
-- outside the person's follow-up accommodation. The one range join on the status history
-- (macros/status_at.sql) is done here, so the eligibility indicators only count. Kept narrow (4.5M rows at BW scale): the
-- case and the AU dates are in int_contacts and stg_persons.
-- Built by provider (macros/incremental_by_provider.sql): only the providers whose own snapshots
-- changed. It reads nothing the providers share but R, and R only through int_contacts (contacts and
-- cases known at R, by dates the contract caps at the stand): a moved R rebuilds it only when set
-- explicitly (int_provider_inputs.own_inputs).
{{ built_by_provider(own_only=true) }}
with contacts as (
    select * from {{ ref('int_contacts') }}
    where {{ changed_providers('provider', own_only=true) }}
),

persons as (
    select * from {{ ref('stg_persons') }}
    where {{ changed_providers('provider', own_only=true) }}
),

residence_status as (
    select * from {{ ref('stg_residence_status') }}
    where {{ changed_providers('provider', own_only=true) }}
),

status_codes as (
    select * from {{ ref('status_codes') }}
),

status_periods as (
    -- A row overlaps when it starts on or before the latest end of the person's earlier-starting
    -- rows; touching periods (gueltig_bis = the next gueltig_ab) overlap on that day.
    select
        provider,
        person_id,
        status_code,
        valid_from,
        valid_to,
        coalesce(
            valid_from <= max(coalesce(valid_to, date '9999-12-31')) over (
                partition by provider, person_id
                order by valid_from
                rows between unbounded preceding and 1 preceding
            ),
            false
        ) as overlaps_earlier_row
    from residence_status
),

persons_with_overlaps as (
    select distinct
        provider,
        person_id
    from status_periods
    where overlaps_earlier_row
),

matching_status as (
    -- every status row covering the contact date; a contact without one keeps a NULL status row
    select
        contacts.provider,
        contacts.contact_id,
        contacts.person_id,
        contacts.contact_date,
        status_periods.status_code,
        status_periods.valid_from,
        status_periods.valid_to,
        persons_with_overlaps.person_id is not null as has_overlapping_status
    from contacts
    left join status_periods
        on
            contacts.provider = status_periods.provider
            and contacts.person_id = status_periods.person_id
            and {{ status_covers('status_periods', 'contacts.contact_date') }}
    left join persons_with_overlaps
        on
            contacts.provider = persons_with_overlaps.provider
            and contacts.person_id = persons_with_overlaps.person_id
),

status_at_contact as (
    -- Without overlapping periods at most one row matches: taken as it is, which spares a
    -- de-duplication of millions of contacts.
    select
        provider,
        contact_id,
        person_id,
        contact_date,
        status_code,
        case when status_code is null then 0 else 1 end as matching_status_rows
    from matching_status
    where not has_overlapping_status
    union all
    -- Otherwise two rows can match; status_at() picks one (macros/status_at.sql).
    select
        provider,
        contact_id,
        any_value(person_id) as person_id,
        any_value(contact_date) as contact_date,
        {{ status_at('matching_status') }} as status_code,
        count(status_code) as matching_status_rows
    from matching_status
    where has_overlapping_status
    group by provider, contact_id
)

select
    status_at_contact.provider,
    status_at_contact.contact_id,
    status_at_contact.person_id,
    status_at_contact.contact_date,
    coalesce(status_at_contact.status_code, 'UNBEKANNT') as status_code,
    coalesce(status_codes.category, 'UNBEKANNT') as status_category,
    coalesce(status_codes.prospect, 'UNBEKANNT') as prospect,
    status_at_contact.matching_status_rows,
    persons.person_id is not null as has_person_record,
    -- an empty au_ende is open (not after anything); an unknown person is not counted as outside
    coalesce(
        status_at_contact.contact_date < persons.au_start
        or status_at_contact.contact_date > persons.au_end,
        false
    ) as is_outside_au
from status_at_contact
left join status_codes
    on coalesce(status_at_contact.status_code, 'UNBEKANNT') = status_codes.status_code
left join persons
    on
        status_at_contact.provider = persons.provider
        and status_at_contact.person_id = persons.person_id
