-- What each provider's rows in the models built by provider are computed from
-- (macros/incremental_by_provider.sql): the provider's current snapshots (one batch per extract)
-- and what every provider shares — the reference date R, the periods and the funding
-- authority's current snapshots. `inputs` is a digest of both; `own_inputs` of the provider's
-- snapshots, of R only when set explicitly and of how many of the provider's uncapped dates lie
-- on or before R (int_provider_dates: plans and goals), for the models that read of the shared
-- inputs R only through those dates and dates the contract caps at the stand (int_cases,
-- int_contact_status, int_plans, ...) and for the models built by provider and period, whose
-- periods int_period_inputs compares; `changed`
-- and `own_changed` compare them with the record of the last build that built every such model
-- (meta.dbt_built_inputs). A provider in the record but without current snapshots (all refused or
-- gone) is listed with `inputs` NULL: its rows must go. A view, read live against the record as
-- it stands until the build records anew: once per run into int_inputs_to_build, which the models
-- built by provider ask, and by those models themselves in a run that did not build that row
-- (a run of some models only).
{{ config(materialized='view') }}

with batches as (
    select * from {{ ref('stg_current_batches') }}
),

periods as (
    select * from {{ ref('int_periods') }}
),

reference as (
    select * from {{ ref('int_reference_date') }}
),

shared as (
    select
        concat_ws(
            '|',
            (
                select concat_ws(',', reference_date, newest_provider_stand, is_explicit, authority_cutoff)
                from reference
            ),
            (
                select
                    string_agg(
                        concat_ws(',', period, period_start, period_end, period_eend),
                        ';'
                        order by period
                    )
                from periods
            ),
            (
                select string_agg(concat_ws(',', extract, batch_id), ';' order by extract, batch_id)
                from batches
                where provider = '08'
            )
        ) as shared_inputs,
        -- Without --reference-date, R is the newest stand: no date the contract caps at the
        -- stand (a case's first contact and closure, a contact) lies after it, so a model
        -- reading only those dates depends on R only when R is set explicitly.
        (
            select case when is_explicit then cast(reference_date as varchar) else 'newest stand' end
            from reference
        ) as explicit_reference_date
),

per_provider as (
    select
        provider,
        string_agg(concat_ws(',', extract, batch_id), ';' order by extract, batch_id) as own_inputs
    from batches
    where provider is not null and provider <> '08'
    group by provider
),

dates as (
    select * from {{ ref('int_provider_dates') }}
),

current_inputs as (
    select
        per_provider.provider,
        sha256(concat_ws('|', per_provider.own_inputs, shared.shared_inputs)) as inputs,
        sha256(
            concat_ws('|', per_provider.own_inputs, shared.explicit_reference_date, dates.dates_known)
        ) as own_inputs
    from per_provider
    cross join shared
    left join dates on per_provider.provider = dates.provider
),

recorded as (
    select
        provider,
        inputs,
        own_inputs
    from {{ dbt_built_inputs() }}
)

select
    coalesce(current_inputs.provider, recorded.provider) as provider,
    current_inputs.inputs,
    current_inputs.own_inputs,
    not coalesce(current_inputs.inputs = recorded.inputs, false) as changed,
    -- for the models that read nothing shared (changed_providers(column, own_only=true))
    not coalesce(current_inputs.own_inputs = recorded.own_inputs, false) as own_changed
from current_inputs
full outer join recorded on current_inputs.provider = recorded.provider
