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

{#- The providers to (re)build: a list, or none for all of them — no record to compare with, or
    the inputs (`own_only`: the own inputs) of every provider changed (R moved, the periods or the
    funding authority's snapshots changed). `own_only`: for a model that reads nothing the
    providers share (not the periods or the authority's snapshots; R only through dates the
    contract caps at the stand), only the providers whose own snapshots changed (or all when an
    explicit R changed). One query of one row. -#}
{% macro providers_to_build(own_only=false) -%}
{%- if not execute -%}{{ return(none) }}{%- endif -%}
{%- set flag = "own_changed" if own_only else "changed" -%}
{%- set found = run_query(
    "select (select count(*) from " ~ dbt_built_inputs() ~ ") = 0 or coalesce(bool_and("
    ~ flag ~ "), false), to_json(coalesce(list(provider order by provider) filter (where "
    ~ flag ~ "), []::varchar[]))::varchar from " ~ ref('int_provider_inputs')
) -%}
{%- if found.rows[0][0] -%}{{ return(none) }}{%- endif -%}
{{ return(fromjson(found.rows[0][1])) }}
{%- endmacro %}

{#- dbt's own answer to "make the table anew?": the model's `full_refresh` config, else the
    --full-refresh flag (dbt's `should_full_refresh`, which the project's below extends). -#}
{% macro full_refresh_configured() -%}
{%- set configured = config.get('full_refresh') -%}
{{ return(flags.FULL_REFRESH if configured is none else configured) }}
{%- endmacro %}

{#- dbt's `should_full_refresh` (the `full_refresh` config, else the --full-refresh flag), and for
    a model built by provider also when every provider's rows are to be rebuilt
    (`providers_to_build` is none): its table is then made anew (dbt's incremental materialization
    in full-refresh mode: one `create table as` and a rename), as a full build makes it, instead
    of every row deleted, written to a temporary table and inserted from there. The rows are the
    same. On `bw` the day after (R moved: all 300 providers; 2026-12-07 01:09–01:12, AMD EPYC, 2
    cores, three pairs alternating) dbt's step took 22.0, 19.1, 18.9 s by provider and 18.2, 18.3,
    18.0 s made anew, the whole build 33.9, 30.8, 30.6 against 29.3, 29.4, 29.1 s; a correction
    (one provider, R stays) the same either way (dbt 8.0, 7.8, 7.5 against 7.6, 7.7, 7.9 s).
    dbt takes a project's macro of this name before its own; `is_incremental()` asks it too, so
    the model's SQL then reads every provider's rows and its pre-hook deletes none. -#}
{% macro should_full_refresh() -%}
{%- set configured = full_refresh_configured() -%}
{%- if not configured and execute and model is defined and model.resource_type == 'model' -%}
{%- set by_provider = (config.get('meta') or {}).get('built_by_provider') -%}
{%- if by_provider -%}
{%- set configured = providers_to_build(own_only=(by_provider == 'own_only')) is none -%}
{%- endif -%}
{%- endif -%}
{{ return(configured) }}
{%- endmacro %}

{#- The providers whose rows this model's run rebuilds: none when its table is made anew (there is
    none yet, a full refresh, or every provider changed: `should_full_refresh`), else
    `providers_to_build`'s list. What `is_incremental()` and then `providers_to_build` would say,
    with one query: int_provider_inputs is a view, computed anew by every query (5.5 ms in DuckDB
    alone on `bw`, dbt's own cost per query besides), and a model asks in its SQL and in its
    pre-hook. -#}
{% macro rebuilt_providers(own_only=false) -%}
{%- if not execute -%}{{ return(none) }}{%- endif -%}
{%- if this is none -%}
{#- a dbt unit test (no relation of its own): its `is_incremental` override decides -#}
{{ return(providers_to_build(own_only) if is_incremental() else none) }}
{%- endif -%}
{%- set configured = full_refresh_configured() -%}
{%- set relation = adapter.get_relation(this.database, this.schema, this.table) -%}
{%- if configured or relation is none or relation.type != 'table' -%}{{ return(none) }}{%- endif -%}
{{ return(providers_to_build(own_only)) }}
{%- endmacro %}

{#- A condition on `column` (a provider code): true for every row in a build that makes the table
    anew, else for the rows of the providers whose inputs changed (false when none did). -#}
{% macro changed_providers(column, own_only=false) -%}
{{ provider_condition(column, rebuilt_providers(own_only)) }}
{%- endmacro %}

{#- `column` in `providers` (a list of provider codes; false when empty; true for none: all). -#}
{% macro provider_condition(column, providers) -%}
{%- if providers is none -%}
true
{%- elif providers -%}
{{ column }} in ({% for p in providers %}'{{ p | replace("'", "''") }}'{{ ", " if not loop.last }}{% endfor %})
{%- else -%}
false
{%- endif -%}
{%- endmacro %}

{#- The pre-hook: the rows about to be rebuilt go first (in the model's transaction); none when the
    table is made anew. -#}
{% macro delete_changed_providers(own_only=false) -%}
{%- set providers = rebuilt_providers(own_only) -%}
{%- if providers is none -%}
select 1
{%- else -%}
delete from {{ this }} where {{ provider_condition('provider', providers) }}
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
    changed since. For a model built by its providers' own snapshots (`own_only`, read from the
    tested model's configuration in the graph) those are the providers whose own inputs changed:
    a moved R rebuilt none of the others' rows (int_contact_status' uniqueness on `bw` the day
    after: 0.8 s over all 4.5 M rows). In a --full-refresh every row is tested. dbt's own
    `get_where_subquery` otherwise, for any other `where`. int_provider_inputs is named, not
    `ref`'d: a ref made while the test runs is a dependency dbt did not see when it parsed the
    test (and it is built before every model built by provider, so before their tests). -#}
{% macro get_where_subquery(relation) -%}
{%- set where = config.get('where', '') -%}
{%- if where == '__changed_providers__' -%}
{%- if flags.FULL_REFRESH -%}{%- do return(relation) -%}{%- endif -%}
{%- set tested = [] -%}
{%- for uid in model.depends_on.nodes if uid in graph.nodes -%}
{%- do tested.append((graph.nodes[uid].config.meta or {}).get('built_by_provider')) -%}
{%- endfor -%}
{%- set flag = 'own_changed' if tested == ['own_only'] else 'changed' -%}
{%- set filtered -%}
(select * from {{ relation }} where provider in (
    select provider from {{ relation.database }}.intermediate.int_provider_inputs where {{ flag }}
)) dbt_subquery
{%- endset -%}
{%- do return(filtered) -%}
{%- endif -%}
{%- do return(dbt.default__get_where_subquery(relation)) -%}
{%- endmacro %}
