{{ config(alias='mart_eligibility') }}
-- Eligibility (EL*) wide: one row per unit and period, one value column per indicator.
-- Built from published.indicator_values, so suppressed cells are already NULL here.
{{ pivot_indicator_values('eligibility', with_suppressed_list=true) }}
