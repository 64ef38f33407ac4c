-- generated from contract/spec.py by `imw contract --write`; do not edit
-- Outcome observations for outcome studies. Renames delivered (German) columns to warehouse names.
with source as (
    select * from {{ source('raw', 'ergebnisse_current') }}
),

renamed as (
    select
        _provider as provider,
        _batch_id as batch_id,
        fall_id as case_id,
        erhoben_am as observed_on,
        bereich as domain,
        wert as outcome_value
    from source
)

select * from renamed
