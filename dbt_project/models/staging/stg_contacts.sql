-- generated from contract/spec.py by `imw contract --write`; do not edit
-- Counselling contacts. Renames delivered (German) columns to warehouse names.
with source as (
    select * from {{ source('raw', 'kontakte_current') }}
),

renamed as (
    select
        _provider as provider,
        _batch_id as batch_id,
        kontakt_id as contact_id,
        fall_id as case_id,
        datum as contact_date,
        dauer_min as duration_min,
        kontaktart as contact_mode,
        thema as topic,
        ziel_id as goal_id,
        verweisung as referral
    from source
)

select * from renamed
