{{ config(alias='mart_data_quality') }}
-- Data quality of deliveries (DQ*) wide: one row per unit and period, one value column per indicator.
-- Built from published.indicator_values, so suppressed cells are already NULL here.
{{ pivot_indicator_values('data_quality', with_suppressed_list=false) }}
