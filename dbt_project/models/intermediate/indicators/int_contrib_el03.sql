-- EL03 contacts outside follow-up accommodation. Denominator: contacts dated in P. Numerator: of
-- those, contacts dated before the person's au_beginn or after their au_ende (both ends inside; an
-- empty au_ende is open). One row per person and period (YEAR and QUARTER); the AU logic is in
-- int_contact_status.
-- A view, not a table: a projection of int_person_period_contacts, which holds the rows once.
{{ config(materialized='view') }}
with person_period_contacts as (
    select * from {{ ref('int_person_period_contacts') }}
)

select
    'EL03' as indicator_id,
    period,
    period_type,
    provider,
    entity_type,
    entity_id,
    contacts_outside_au as numerator,
    contacts as denominator
from person_period_contacts
