-- Per provider, how many of its dates the contract leaves uncapped lie on or before the reference
-- date R: plan versions drawn up and signed (int_plan_versions), goals agreed and assessed
-- (int_goals). Models that read R only through these dates and dates capped at the stand keep a
-- provider's rows when R moves, unless one of its dates lies between the old R and the new one:
-- each count grows or shrinks with R exactly then. int_provider_inputs puts the counts into the
-- provider's own inputs (macros/incremental_by_provider.sql). A table, built in every run before
-- the models built by provider, so that the view int_provider_inputs does not count them again
-- each time it is read (14 ms a time on `bw`): by int_inputs_to_build once per run, by the data
-- tests' `__changed_providers__` filter, by a run that did not build int_inputs_to_build, and
-- twice by the record written after the run (orchestration/dbt_project.py).
with plan_versions as (
    select
        provider,
        count(*) filter (where created_on <= {{ reference_date() }}) as created,
        count(*) filter (where signed_on <= {{ reference_date() }}) as signed
    from {{ ref('stg_plan_versions') }}
    group by provider
),

goals as (
    select
        provider,
        count(*) filter (where agreed_on <= {{ reference_date() }}) as agreed,
        count(*) filter (where assessed_on <= {{ reference_date() }}) as assessed
    from {{ ref('stg_goals') }}
    group by provider
)

select
    coalesce(plan_versions.provider, goals.provider) as provider,
    concat_ws(
        ',',
        coalesce(plan_versions.created, 0),
        coalesce(plan_versions.signed, 0),
        coalesce(goals.agreed, 0),
        coalesce(goals.assessed, 0)
    ) as dates_known
from plan_versions
full outer join goals on plan_versions.provider = goals.provider
