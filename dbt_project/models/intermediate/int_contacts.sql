-- Counselling contacts with what the indicators need of their case: type (CM or KB) and person.
-- A contact whose case is missing from the current case snapshot keeps NULL case attributes
-- (is_case_known false): it still is a contact of its provider. A contact dated after the
-- reference date R is not yet known.
-- A view: consumers aggregate contacts right away (int_case_period_contacts) or pick out a few;
-- a table would write ~4.5M rows of random pseudonyms on every build for nothing.
{{ config(materialized='view') }}

with contacts as (
    select * from {{ ref('stg_contacts') }}
),

cases as (
    select * from {{ ref('int_cases') }}
)

select
    contacts.provider,
    contacts.contact_id,
    contacts.case_id,
    contacts.contact_date,
    contacts.goal_id,
    contacts.goal_id is not null as is_goal_linked,
    cases.case_id is not null as is_case_known,
    cases.person_id,
    cases.case_type,
    coalesce(cases.is_case_management, false) as is_case_management
from contacts
left join cases
    on
        contacts.provider = cases.provider
        and contacts.case_id = cases.case_id
where contacts.contact_date <= {{ reference_date() }}
