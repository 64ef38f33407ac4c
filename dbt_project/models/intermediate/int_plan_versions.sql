-- Plan versions as known at the reference date R (docs/indicators.md v2): a version drawn up
-- (erstellt_am) after R is not yet known, and a signature after R has not yet happened (the
-- version is an unsigned draft at R). int_plans and int_plan_version_reviews read plans from here.
{{ config(materialized='view') }}
with versions as (
    select * from {{ ref('stg_plan_versions') }}
)

select
    provider,
    plan_id,
    version,
    case_id,
    created_on,
    case when signed_on <= {{ reference_date() }} then signed_on end as signed_on,
    review_due_on
from versions
where created_on <= {{ reference_date() }}
