-- CM08 goal-linked contacts. Denominator: contacts of CM cases dated in P (KB cases' contacts and
-- contacts whose case is missing from the snapshot, so not known to be CM, do not count).
-- Numerator: of those, contacts with a goal (ziel_id). One row per case and period.
-- A view, not a table: a filter of int_case_period_contacts, which holds the rows once; writing
-- its ~2.4M rows again cost more than the few scans that read it (indicator_values, its tests).
{{ config(materialized='view') }}
with case_period_contacts as (
    select * from {{ ref('int_case_period_contacts') }}
)

select
    'CM08' as indicator_id,
    period,
    period_type,
    provider,
    'case' as entity_type,
    case_id as entity_id,
    goal_linked_contacts as numerator,
    contacts as denominator
from case_period_contacts
where is_case_management
