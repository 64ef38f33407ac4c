-- What each period's rows in the models built by provider and period are computed from
-- (macros/incremental_by_provider.sql): its start, end and effective end (int_periods). `changed`
-- compares them with the periods recorded by the last build that built every model built by
-- provider (meta.dbt_built_periods, written with meta.dbt_built_inputs): true for a period whose
-- start, end or effective end differs, a new one, and a recorded one no longer a period (its rows
-- must go; its start and end are the record's). A view, like int_provider_inputs: read live,
-- against the record as it stands until the build records anew, once per run into
-- int_inputs_to_build (or by the models in a run that did not build that row).
{{ config(materialized='view') }}

with current_periods as (
    select
        period,
        period_start,
        period_end,
        period_eend
    from {{ ref('int_periods') }}
),

recorded as (
    select
        period,
        period_start,
        period_end,
        period_eend
    from {{ dbt_built_periods() }}
)

select
    coalesce(current_periods.period, recorded.period) as period,
    coalesce(current_periods.period_start, recorded.period_start) as period_start,
    coalesce(current_periods.period_end, recorded.period_end) as period_end,
    current_periods.period is null
    or recorded.period is null
    or current_periods.period_start <> recorded.period_start
    or current_periods.period_end <> recorded.period_end
    or current_periods.period_eend <> recorded.period_eend as changed
from current_periods
full outer join recorded on current_periods.period = recorded.period
