{{ config(alias='mart_payout_process') }}
-- Payout process (PA*; PA03 years only) wide: one row per unit and period, one value column per indicator.
-- Built from published.indicator_values, so suppressed cells are already NULL here.
{{ pivot_indicator_values('payouts', with_suppressed_list=false) }}
