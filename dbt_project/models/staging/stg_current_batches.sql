-- The newest accepted snapshot per provider and extract (raw.current_batches, ingest/raw.py).
with source as (
    select * from {{ source('raw', 'current_batches') }}
),

renamed as (
    select
        batch_id,
        provider,
        extract,
        stand,
        file_name,
        row_count as rows_loaded,
        rows_delivered,
        rows_quarantined,
        loaded_at
    from source
)

select * from renamed
