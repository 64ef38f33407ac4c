{#- generated from contract/spec.py and the catalogue seed by `imw contract --write`; do not edit. -#}

{#- The provider extracts (contract/spec.py PROVIDER_EXTRACTS). -#}
{% macro provider_extracts() -%}
    {{ return(['personen', 'aufenthalt', 'faelle', 'plaene', 'ziele', 'kontakte', 'ergebnisse', 'stellen']) }}
{%- endmacro %}

{#- The funding authority's extracts (contract/spec.py AUTHORITY_EXTRACTS). -#}
{% macro authority_extracts() -%}
    {{ return(['bewilligungen', 'mittelabrufe', 'verwendungsnachweise', 'haushalt', 'meldepflichten']) }}
{%- endmacro %}

{#- The codes of a contract code list, in the contract's order ('wert:SPRACHE': the outcome values
    of one domain). -#}
{% macro code_list(name) -%}
    {{ return({
        'abschluss_grund': ['ZIELE_ERREICHT', 'AUSZUG_AU', 'WEGZUG', 'HOECHSTDAUER', 'KONTAKTABBRUCH', 'AUSREISE', 'SONSTIGES'],
        'bereich': ['SPRACHE', 'ARBEIT', 'WOHNEN', 'BILDUNG'],
        'fallart': ['CM', 'KB'],
        'geschlecht': ['m', 'w', 'd', 'u'],
        'handlungsfeld': ['SPRACHE', 'BILDUNG', 'ARBEIT', 'WOHNEN', 'GESUNDHEIT', 'FAMILIE', 'TEILHABE', 'AUFENTHALT', 'FINANZEN'],
        'kontaktart': ['PERSOENLICH', 'TELEFON', 'DIGITAL', 'AUFSUCHEND'],
        'qualifikation': ['BACHELOR', 'GLEICHWERTIG', 'MITTLERER_ABSCHLUSS'],
        'status_code': ['AE_25_1', 'AE_25_2_FL', 'AE_25_2_SUB', 'AE_25_3', 'AE_22_23', 'AE_24', 'AE_25_5', 'AE_25A_25B', 'AE_104C', 'AE_SONST', 'NE', 'EINGEBUERGERT', 'GEST_GUT', 'GEST_SONST', 'DUL_60A', 'DUL_60B', 'DUL_60C', 'DUL_60D', 'AUSREISE', 'UNBEKANNT'],
        'thema': ['SPRACHE', 'BILDUNG', 'ARBEIT', 'WOHNEN', 'GESUNDHEIT', 'FAMILIE', 'TEILHABE', 'AUFENTHALT', 'FINANZEN', 'ALLTAG', 'SONSTIGES'],
        'verweisung': ['SPRACHKURS', 'JOBCENTER', 'AGENTUR_FUER_ARBEIT', 'MIGRATIONSBERATUNG', 'JUGENDMIGRATIONSDIENST', 'GESUNDHEITSDIENST', 'SCHULE_KITA', 'SCHULDNERBERATUNG', 'RECHTSBERATUNG', 'SONSTIGE'],
        'wert:ARBEIT': ['KEINE', 'MINIJOB', 'SVB', 'AUSBILDUNG', 'SELBSTSTAENDIG', 'MASSNAHME'],
        'wert:BILDUNG': ['KEINE', 'INTEGRATIONSKURS', 'SCHULE', 'BERUFSSCHULE', 'STUDIUM', 'ANERKENNUNG'],
        'wert:SPRACHE': ['KEINE', 'A1', 'A2', 'B1', 'B2', 'C1', 'C2'],
        'wert:WOHNEN': ['AU', 'EIGENE_WOHNUNG', 'SONSTIGE'],
        'ziel_status': ['OFFEN', 'ERREICHT', 'TEILWEISE', 'NICHT_ERREICHT', 'ENTFALLEN']
    }[name]) }}
{%- endmacro %}

{#- Every indicator id of the catalogue, ordered. -#}
{% macro indicator_ids() -%}
    {{ return(['CM01', 'CM02', 'CM03', 'CM04', 'CM05', 'CM06', 'CM07', 'CM08', 'CM09', 'CM10', 'DQ01', 'DQ02', 'EL01', 'EL02', 'EL03', 'FI01', 'FI02', 'FI03', 'FI04', 'PA01', 'PA02', 'PA03']) }}
{%- endmacro %}

{#- The indicators of a catalogue domain with their wide-mart column names. -#}
{% macro domain_indicators(domain) -%}
    {{ return({
        'case_management': [{'indicator_id': 'CM01', 'column_name': 'cm01_plan_coverage'}, {'indicator_id': 'CM02', 'column_name': 'cm02_plan_within_8_weeks'}, {'indicator_id': 'CM03', 'column_name': 'cm03_plans_with_agreed_goals'}, {'indicator_id': 'CM04', 'column_name': 'cm04_smart_goals'}, {'indicator_id': 'CM05', 'column_name': 'cm05_goals_met'}, {'indicator_id': 'CM06', 'column_name': 'cm06_plan_reviewed_on_time'}, {'indicator_id': 'CM07', 'column_name': 'cm07_contacts_per_case_month'}, {'indicator_id': 'CM08', 'column_name': 'cm08_goal_linked_contacts'}, {'indicator_id': 'CM09', 'column_name': 'cm09_positive_closures'}, {'indicator_id': 'CM10', 'column_name': 'cm10_caseload_per_fte'}],
        'eligibility': [{'indicator_id': 'EL01', 'column_name': 'el01_contacts_with_prospect_of_staying'}, {'indicator_id': 'EL02', 'column_name': 'el02_contacts_with_people_obliged_to_leave'}, {'indicator_id': 'EL03', 'column_name': 'el03_contacts_outside_follow_up_accommodation'}],
        'funding': [{'indicator_id': 'FI01', 'column_name': 'fi01_funding_to_cost_ratio'}, {'indicator_id': 'FI02', 'column_name': 'fi02_funding_per_fte'}, {'indicator_id': 'FI03', 'column_name': 'fi03_cost_per_active_case'}, {'indicator_id': 'FI04', 'column_name': 'fi04_budget_execution'}],
        'payouts': [{'indicator_id': 'PA01', 'column_name': 'pa01_payouts_within_30_days'}, {'indicator_id': 'PA02', 'column_name': 'pa02_queries_per_payout_request'}, {'indicator_id': 'PA03', 'column_name': 'pa03_recovery_rate'}],
        'data_quality': [{'indicator_id': 'DQ01', 'column_name': 'dq01_complete_deliveries'}, {'indicator_id': 'DQ02', 'column_name': 'dq02_accepted_rows'}]
    }[domain]) }}
{%- endmacro %}
