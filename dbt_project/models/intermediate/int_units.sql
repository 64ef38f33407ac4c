-- Organisational units: one row per provider with a current accepted snapshot or named by
-- int_indicator_providers (grant applicants, providers with rejected files only), placed in the
-- AGS hierarchy (Kreis = first 5 digits, RB = first 3, Land = 08). The funding authority ('08',
-- AUTHORITY_PROVIDER in contract/spec.py) delivers no case data and is no provider.
with providers as (
    select provider
    from {{ ref('stg_current_batches') }}
    where provider is not null and provider <> '08'
    union
    -- grant applicants (funding indicators count for them) and providers whose files were all
    -- rejected (DQ02), even without a current accepted snapshot
    select provider
    from {{ ref('int_indicator_providers') }}
),

kreise as (
    select * from {{ ref('kreise_bw') }}
)

select
    providers.provider,
    case when length(providers.provider) = 5 then 'KREIS' else 'GEMEINDE' end as provider_type,
    left(providers.provider, 5) as kreis_code,
    left(providers.provider, 3) as rb_code,
    '08' as land_code,
    kreise.kreis_name,
    kreise.rb_name
from providers
left join kreise on left(providers.provider, 5) = kreise.kreis_ags
