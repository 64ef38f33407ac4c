-- generated from contract/spec.py by `imw contract --write`; do not edit
-- Funded integration-manager positions. Renames delivered (German) columns to warehouse names.
with source as (
    select * from {{ source('raw', 'stellen_current') }}
),

renamed as (
    select
        _provider as provider,
        _batch_id as batch_id,
        stellen_id as position_id,
        vzae as fte,
        qualifikation as qualification,
        beginn as start_date,
        ende as end_date
    from source
)

select * from renamed
