-- generated from contract/spec.py by `imw contract --write`; do not edit
-- Residence status history of each person. Renames delivered (German) columns to warehouse names.
with source as (
    select * from {{ source('raw', 'aufenthalt_current') }}
),

renamed as (
    select
        _provider as provider,
        _batch_id as batch_id,
        person_id,
        status_code,
        gueltig_ab as valid_from,
        gueltig_bis as valid_to
    from source
)

select * from renamed
