-- generated from contract/spec.py by `imw contract --write`; do not edit
-- Grants (funding decisions). Renames delivered (German) columns to warehouse names.
with source as (
    select * from {{ source('raw', 'bewilligungen_current') }}
),

renamed as (
    select
        _provider as provider,
        _batch_id as batch_id,
        bescheid_nr as grant_id,
        antragsteller_ags as applicant_ags,
        bewilligt_am as granted_on,
        zeitraum_von as period_from,
        zeitraum_bis as period_to,
        foerdersumme_eur as amount_eur,
        vzae_bewilligt as fte_granted
    from source
)

select * from renamed
