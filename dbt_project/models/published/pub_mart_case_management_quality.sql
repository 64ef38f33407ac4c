{{ config(alias='mart_case_management_quality') }}
-- Case-management quality (CM*) wide: one row per unit and period, one value column per indicator.
-- Built from published.indicator_values, so suppressed cells are already NULL here.
{{ pivot_indicator_values('case_management', with_suppressed_list=true) }}
