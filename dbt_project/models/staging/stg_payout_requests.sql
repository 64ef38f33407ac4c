-- generated from contract/spec.py by `imw contract --write`; do not edit
-- Payout requests. Renames delivered (German) columns to warehouse names.
with source as (
    select * from {{ source('raw', 'mittelabrufe_current') }}
),

renamed as (
    select
        _provider as provider,
        _batch_id as batch_id,
        abruf_id as request_id,
        bescheid_nr as grant_id,
        jahr as funding_year,
        eingegangen_am as received_on,
        betrag_beantragt_eur as amount_requested_eur,
        rueckfragen as queries,
        ausgezahlt_am as paid_on,
        betrag_ausgezahlt_eur as amount_paid_eur
    from source
)

select * from renamed
