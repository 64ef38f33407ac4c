{#- Models built by provider (#16: "incremental by provider"). Such a model's rows of a provider
    depend only on that provider's current snapshots and on what every provider shares (the
    reference date, the periods, the funding authority's snapshots); `int_provider_inputs` holds a
    digest of exactly that per provider and says which changed since the last build that built
    every such model (`meta.dbt_built_inputs`, recorded by `imw build` after a dbt run of every model
    succeeded). A
    build then deletes and re-inserts the rows of those providers only; a new table, a
    `--full-refresh` (`imw build --full-refresh`, and every build whose dbt project changed), an
    empty record or a change that reaches every provider (R moved) makes the table anew
    (`should_full_refresh`, below).

    A model built by provider starts with `{{ built_by_provider() }}` (its configuration, below)
    and has `where {{ changed_providers('provider') }}` on every provider-keyed input it reads. A model
    that reads nothing the providers share passes `own_only=true` to both (int_contact_status):
    a moved R does not rebuild it. -#}

{% macro dbt_built_inputs() -%}meta.dbt_built_inputs{%- endmacro %}

{#- The record of the last complete build, created empty when missing (on-run-start). -#}
{% macro create_dbt_built_inputs() -%}
    create schema if not exists meta;
    create table if not exists {{ dbt_built_inputs() }} (
        provider varchar not null,
        inputs varchar not null,
        own_inputs varchar not null,
        project varchar not null
    )
{%- endmacro %}

{#- The providers to (re)build: a list, or none for all of them (no record to compare with).
    `own_only`: for a model that reads nothing the providers share (not the periods or the
    authority's snapshots; R only through dates the contract caps at the stand), only the
    providers whose own snapshots changed (or all when an explicit R changed). -#}
{% macro providers_to_build(own_only=false) -%}
{%- if not execute -%}{{ return(none) }}{%- endif -%}
{%- set recorded = run_query("select count(*) from " ~ dbt_built_inputs()) -%}
{%- if recorded.columns[0].values()[0] == 0 -%}{{ return(none) }}{%- endif -%}
{%- set changed = run_query(
    "select provider from " ~ ref('int_provider_inputs') ~ " where "
    ~ ("own_changed" if own_only else "changed") ~ " order by provider"
) -%}
{{ return(changed.columns[0].values() | list) }}
{%- endmacro %}

{#- True when every provider's rows are to be rebuilt: no record to compare with, or the inputs
    (`own_only`: the own inputs) of every provider changed — R moved, the periods or the funding
    authority's snapshots changed. -#}
{% macro every_provider_changed(own_only=false) -%}
{%- if not execute -%}{{ return(false) }}{%- endif -%}
{%- set found = run_query(
    "select (select count(*) from " ~ dbt_built_inputs() ~ ") = 0"
    ~ " or coalesce(bool_and(" ~ ("own_changed" if own_only else "changed") ~ "), false)"
    ~ " from " ~ ref('int_provider_inputs')
) -%}
{{ return(found.columns[0].values()[0]) }}
{%- endmacro %}

{#- dbt's `should_full_refresh` (the `full_refresh` config, else the --full-refresh flag), and for
    a model built by provider also when every provider's rows are to be rebuilt: its table is then
    made anew (dbt's incremental materialization in full-refresh mode: one `create table as` and a
    rename), as a full build makes it, instead of every row deleted, written to a temporary table
    and inserted from there. The rows are the same. On `bw` the day after (R moved: all 300
    providers; 2026-12-07, AMD EPYC, 2 cores, five pairs alternating) the 20 models built by
    provider took 29.2 s of node time by provider and 26.0 s made anew (one pair), and dbt's
    step 21.4 s by provider and 20.4 s made anew (means of five). dbt takes a project's macro
    of this name before its own; `is_incremental()` asks it too, so the model's SQL then reads
    every provider's rows. -#}
{% macro should_full_refresh() -%}
{%- set configured = config.get('full_refresh') -%}
{%- if configured is none -%}{%- set configured = flags.FULL_REFRESH -%}{%- endif -%}
{%- if not configured and execute and model is defined and model.resource_type == 'model' -%}
{%- set by_provider = (config.get('meta') or {}).get('built_by_provider') -%}
{%- if by_provider -%}
{%- set configured = every_provider_changed(own_only=(by_provider == 'own_only')) -%}
{%- endif -%}
{%- endif -%}
{{ return(configured) }}
{%- endmacro %}

{#- A condition on `column` (a provider code): true for every row in a full build, else for the
    rows of the providers whose inputs changed (false when none did). -#}
{% macro changed_providers(column, own_only=false) -%}
{%- set providers = providers_to_build(own_only) if is_incremental() else none -%}
{%- if not is_incremental() or providers is none -%}
true
{%- elif providers -%}
{{ column }} in ({% for p in providers %}'{{ p | replace("'", "''") }}'{{ ", " if not loop.last }}{% endfor %})
{%- else -%}
false
{%- endif -%}
{%- endmacro %}

{#- The pre-hook: the rows about to be rebuilt go first (in the model's transaction). -#}
{% macro delete_changed_providers(own_only=false) -%}
{%- if is_incremental() -%}
delete from {{ this }} where {{ changed_providers('provider', own_only) }}
{%- else -%}
select 1
{%- endif -%}
{%- endmacro %}

{#- The configuration of every model built by provider: incremental, appending after the pre-hook
    deleted the rows about to be rebuilt, failing on a changed schema (a changed project builds
    from scratch anyway), and built after int_provider_inputs, which its filters read. -#}
{% macro built_by_provider(own_only=false) -%}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_changed_providers(" ~ ("own_only=true" if own_only else "") ~ ") }}",
    meta={'built_by_provider': 'own_only' if own_only else 'shared'},
) }}
-- depends_on: {{ ref('int_provider_inputs') }}
{%- endmacro %}

{#- A data test of a model built by provider that needs to look at the rebuilt providers only gets
    `config: {where: "__changed_providers__"}`: the rows of the other providers are the rows that
    passed it in the last build of every model (the record is written only after a dbt run in which
    every test passed, so a failing provider stays "changed" until it passes), and they have not
    changed since. In a --full-refresh every row is tested. dbt's own `get_where_subquery`
    otherwise, for any other `where`. int_provider_inputs is named, not `ref`'d: a ref made while
    the test runs is a dependency dbt did not see when it parsed the test (and it is built before
    every model built by provider, so before their tests). -#}
{% macro get_where_subquery(relation) -%}
{%- set where = config.get('where', '') -%}
{%- if where == '__changed_providers__' -%}
{%- if flags.FULL_REFRESH -%}{%- do return(relation) -%}{%- endif -%}
{%- set filtered -%}
(select * from {{ relation }} where provider in (
    select provider from {{ relation.database }}.intermediate.int_provider_inputs where changed
)) dbt_subquery
{%- endset -%}
{%- do return(filtered) -%}
{%- endif -%}
{%- do return(dbt.default__get_where_subquery(relation)) -%}
{%- endmacro %}
