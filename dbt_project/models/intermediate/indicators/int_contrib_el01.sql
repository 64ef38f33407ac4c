-- EL01 contacts with prospect of staying. Denominator: contacts dated in P. Numerator: of those,
-- contacts at whose date the person's residence status has prospect JA (BEDINGT, NEIN and
-- UNBEKANNT do not count). One row per person and period (YEAR and QUARTER); the status logic is in
-- int_contact_status.
-- A view, not a table: a projection of int_person_period_contacts, which holds the rows once.
{{ config(materialized='view') }}
with person_period_contacts as (
    select * from {{ ref('int_person_period_contacts') }}
)

select
    'EL01' as indicator_id,
    period,
    period_type,
    provider,
    entity_type,
    entity_id,
    contacts_with_prospect as numerator,
    contacts as denominator
from person_period_contacts
