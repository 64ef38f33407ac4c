-- generated from contract/spec.py by `imw contract --write`; do not edit
-- Counselling cases (case management or short counselling). Renames delivered (German) columns to warehouse names.
with source as (
    select * from {{ source('raw', 'faelle_current') }}
),

renamed as (
    select
        _provider as provider,
        _batch_id as batch_id,
        fall_id as case_id,
        person_id,
        stellen_id as position_id,
        fallart as case_type,
        erstkontakt_datum as first_contact_date,
        abschluss_datum as closure_date,
        abschluss_grund as closure_reason
    from source
)

select * from renamed
