-- generated from contract/spec.py by `imw contract --write`; do not edit
-- Goals agreed in an integration plan. Renames delivered (German) columns to warehouse names.
with source as (
    select * from {{ source('raw', 'ziele_current') }}
),

renamed as (
    select
        _provider as provider,
        _batch_id as batch_id,
        ziel_id as goal_id,
        plan_id,
        handlungsfeld as field,
        vereinbart_am as agreed_on,
        zieldatum as target_date,
        messkriterium_vorhanden as has_measurable_criterion,
        status,
        bewertet_am as assessed_on
    from source
)

select * from renamed
