-- generated from contract/spec.py by `imw contract --write`; do not edit
-- Persons counselled by the provider. Renames delivered (German) columns to warehouse names.
with source as (
    select * from {{ source('raw', 'personen_current') }}
),

renamed as (
    select
        _provider as provider,
        _batch_id as batch_id,
        person_id,
        geburtsjahr as birth_year,
        geschlecht as sex,
        staatsangehoerigkeit as nationality,
        einreisedatum as arrival_date,
        au_beginn as au_start,
        au_ende as au_end,
        wohngemeinde_ags as residence_ags
    from source
)

select * from renamed
