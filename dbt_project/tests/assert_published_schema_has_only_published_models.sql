-- A failure means schema `published` holds a table or view that is not one of the published
-- models listed here (e.g. a leftover of a renamed model): the publish step copies everything in
-- that schema to the analysts' database, so it would ship something nobody reviewed.
-- A new model in models/published must be added to this list (the refs also make this check run
-- after the models are built).
{{ config(meta={'dagster': {'ref': {'name': 'pub_indicator_values'}}}) }}
{%- set published_models = [
    ref('pub_indicator_values'),
    ref('pub_indicator_definitions'),
    ref('pub_mart_case_management_quality'),
    ref('pub_mart_eligibility'),
    ref('pub_mart_funding'),
    ref('pub_mart_payout_process'),
    ref('pub_mart_data_quality'),
    ref('pub_mart_goal_attainment_by_field'),
    ref('pub_mart_contact_topics'),
    ref('pub_units'),
    ref('pub_provider_open_issues'),
] %}
{#- Tables the Python steps after dbt write into the same schema (orchestration/forecast_assets.py:
    the needs forecast and the funding simulator), present from the second build on. -#}
{%- set python_published = ['forecast_caseload', 'forecast_backtest', 'forecast_assumptions',
                            'funding_scenarios'] %}
select
    table_name,
    table_type
from information_schema.tables
where
    table_catalog = current_database()
    and table_schema = 'published'
    and table_name not in (
        {%- for relation in published_models %}
            '{{ relation.identifier }}',
        {%- endfor %}
        {{ sql_list(python_published) }}
    )
