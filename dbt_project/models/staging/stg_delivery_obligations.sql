-- generated from contract/spec.py by `imw contract --write`; do not edit
-- Delivery obligations: which providers a grant obliges to deliver case data, and from when (contract 1.1). Renames delivered (German) columns to warehouse names.
with source as (
    select * from {{ source('raw', 'meldepflichten_current') }}
),

renamed as (
    select
        _provider as provider,
        _batch_id as batch_id,
        bescheid_nr as grant_id,
        traeger_ags as obliged_provider,
        gueltig_ab as valid_from,
        gueltig_bis as valid_to
    from source
)

select * from renamed
