-- EL02 contacts with people obliged to leave. Denominator: contacts dated in P. Numerator: of
-- those, contacts at whose date the person's residence status is in category AUSREISEPFLICHTIG.
-- One row per person and period (YEAR and QUARTER); the status logic is in int_contact_status.
-- A view, not a table: a projection of int_person_period_contacts, which holds the rows once.
{{ config(materialized='view') }}
with person_period_contacts as (
    select * from {{ ref('int_person_period_contacts') }}
)

select
    'EL02' as indicator_id,
    period,
    period_type,
    provider,
    entity_type,
    entity_id,
    contacts_obliged_to_leave as numerator,
    contacts as denominator
from person_period_contacts
