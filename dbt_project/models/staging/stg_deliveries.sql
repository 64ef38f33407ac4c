-- Every processed file with its verdict (raw.deliveries, ingest/raw.py).
with source as (
    select * from {{ source('raw', 'deliveries') }}
),

renamed as (
    select
        delivery_id,
        file_name,
        provider,
        extract,
        stand,
        verdict,
        reason,
        rows_delivered,
        rows_loaded,
        rows_quarantined,
        verdict = 'ACCEPTED' as is_accepted
    from source
)

select * from renamed
