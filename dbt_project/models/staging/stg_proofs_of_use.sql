-- generated from contract/spec.py by `imw contract --write`; do not edit
-- Proofs of use per grant and year. Renames delivered (German) columns to warehouse names.
with source as (
    select * from {{ source('raw', 'verwendungsnachweise_current') }}
),

renamed as (
    select
        _provider as provider,
        _batch_id as batch_id,
        bescheid_nr as grant_id,
        jahr as funding_year,
        personalkosten_ist_eur as staff_cost_eur,
        sachkosten_ist_eur as material_cost_eur,
        vzae_ist as fte_actual,
        eingegangen_am as received_on,
        geprueft_am as checked_on,
        rueckforderung_eur as recovery_eur
    from source
)

select * from renamed
