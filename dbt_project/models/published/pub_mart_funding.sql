{{ config(alias='mart_funding') }}
-- Funding (FI*, years only; FI04 at LAND only) wide: one row per unit and year, one value column per indicator.
-- Built from published.indicator_values, so suppressed cells are already NULL here.
{{ pivot_indicator_values('funding', with_suppressed_list=false) }}
