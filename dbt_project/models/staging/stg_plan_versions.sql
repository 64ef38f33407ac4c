-- generated from contract/spec.py by `imw contract --write`; do not edit
-- Integration plans, one row per plan version (Fortschreibung). Renames delivered (German) columns to warehouse names.
with source as (
    select * from {{ source('raw', 'plaene_current') }}
),

renamed as (
    select
        _provider as provider,
        _batch_id as batch_id,
        plan_id,
        version,
        fall_id as case_id,
        erstellt_am as created_on,
        unterzeichnet_am as signed_on,
        naechste_pruefung_am as review_due_on
    from source
)

select * from renamed
