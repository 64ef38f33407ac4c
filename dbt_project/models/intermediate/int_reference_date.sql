-- The build's reference date R (docs/indicators.md "Reference date, periods and units"): the newest
-- stand among the accepted current snapshots of the provider extracts — not the funding
-- authority's ('08'), whose later stand must not add periods. The environment variable
-- IMW_REFERENCE_DATE (core/project_vars.py; `imw build --reference-date` sets it) sets an earlier
-- R to reproduce a publication as of that day; a later one than the data's is capped to the data's
-- R, since nothing after it is known. Without any accepted provider snapshot there is no R (NULL)
-- and int_periods is empty.
-- One row, always. authority_cutoff cuts the funding authority's extracts only for an explicit R
-- (payouts by eingegangen_am/ausgezahlt_am, proofs by eingegangen_am, obligations by gueltig_ab);
-- otherwise they are used as delivered, up to their own stand.
{%- set explicit = env_var('IMW_REFERENCE_DATE', '') %}
with provider_stands as (
    select max(stand) as newest_provider_stand
    from {{ ref('stg_current_batches') }}
    where provider is not null and provider <> '08'
),

resolved as (
    select
        newest_provider_stand,
        {% if explicit -%}
            case
                when newest_provider_stand is not null
                    then least(cast('{{ explicit }}' as date), newest_provider_stand)
            end
        {%- else -%}
            newest_provider_stand
        {%- endif %} as reference_date,
        {{ 'true' if explicit else 'false' }} as is_explicit
    from provider_stands
)

select
    cast(reference_date as date) as reference_date,
    cast(newest_provider_stand as date) as newest_provider_stand,
    is_explicit,
    cast(case when is_explicit then reference_date else date '9999-12-31' end as date)
        as authority_cutoff
from resolved
