-- generated from contract/spec.py by `imw contract --write`; do not edit
-- Budget per year. Renames delivered (German) columns to warehouse names.
with source as (
    select * from {{ source('raw', 'haushalt_current') }}
),

renamed as (
    select
        _provider as provider,
        _batch_id as batch_id,
        jahr as budget_year,
        ansatz_eur as appropriation_eur,
        reste_vorjahr_eur as carryover_eur
    from source
)

select * from renamed
