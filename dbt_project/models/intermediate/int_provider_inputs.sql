-- What each provider's rows in the models built by provider are computed from
-- (macros/incremental_by_provider.sql): the provider's current snapshots (one batch per extract)
-- and what every provider shares — the reference date R, the periods and the funding
-- authority's current snapshots. `inputs` is a digest of both; `changed` compares it with the
-- record of the last build that built every such model (meta.dbt_built_inputs). A provider in
-- the record but without current snapshots (all refused or gone) is listed with `inputs` NULL:
-- its rows must go. A view: read live by every model built by provider (also when a run
-- builds only some models), against the record as it stands until the build records anew.
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
        ) as shared_inputs
),

per_provider as (
    select
        provider,
        string_agg(concat_ws(',', extract, batch_id), ';' order by extract, batch_id) as own_inputs
    from batches
    where provider is not null and provider <> '08'
    group by provider
),

current_inputs as (
    select
        per_provider.provider,
        sha256(concat_ws('|', per_provider.own_inputs, shared.shared_inputs)) as inputs
    from per_provider
    cross join shared
),

recorded as (
    select
        provider,
        inputs
    from {{ dbt_built_inputs() }}
)

select
    coalesce(current_inputs.provider, recorded.provider) as provider,
    current_inputs.inputs,
    not coalesce(current_inputs.inputs = recorded.inputs, false) as changed
from current_inputs
full outer join recorded on current_inputs.provider = recorded.provider
