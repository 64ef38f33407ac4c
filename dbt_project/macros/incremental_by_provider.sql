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
    that reads of the shared inputs only R, and R only through dates the contract caps at the
    stand or through plan and goal dates, passes `own_only=true` to both (int_contact_status,
    int_goals): its providers' own inputs count how many of their plan and goal dates lie on or
    before R (`int_provider_dates`), so a moved R rebuilds only the providers with such a date
    between the old R and the new one.

    A model whose rows are keyed by provider and period and read of the shared inputs only the
    periods (R only through a period's effective end and through the dates above) is built by
    provider and period: `{{ built_by_provider(by_period=true) }}`. It rebuilds
    the rows of the providers whose own inputs changed and, of every provider, the rows of the
    periods whose start, end or effective end changed (`int_period_inputs`, against the periods
    recorded with the inputs, `meta.dbt_built_periods`). R moving from 2026-06-30 to 2026-07-01
    changes two periods: the year 2026 (its effective end) and 2026Q3 (new); the years and
    quarters before keep their rows. Its inputs are filtered with `changed_rows` (on a provider
    and a period column), `changed_dates` (on a provider and a date column: the dates in a
    rebuilt period), `changed_inputs` (on a provider column of an input without periods or
    dates) or, for a join of provider rows with the periods, `changed_parts` (one condition per
    part of a `union all`, each on one side of the join). -#}

{% macro dbt_built_inputs() -%}meta.dbt_built_inputs{%- endmacro %}

{% macro dbt_built_periods() -%}meta.dbt_built_periods{%- endmacro %}

{#- The record of the last complete build, created empty when missing (on-run-start). -#}
{% macro create_dbt_built_inputs() -%}
    create schema if not exists meta;
    create table if not exists {{ dbt_built_inputs() }} (
        provider varchar not null,
        inputs varchar not null,
        own_inputs varchar not null,
        project varchar not null
    );
    create table if not exists {{ dbt_built_periods() }} (
        period varchar not null,
        period_start date not null,
        period_end date not null,
        period_eend date not null
    )
{%- endmacro %}

{#- The providers to (re)build: a list, or none for all of them — no record to compare with, or
    the inputs (`own_only`: the own inputs) of every provider changed (R moved, the periods or the
    funding authority's snapshots changed). `own_only`: for a model that reads nothing the
    providers share (not the periods or the authority's snapshots; R only through dates the
    contract caps at the stand and through plan and goal dates), only the providers whose own
    inputs changed: their snapshots, or a plan or goal date between the old R and the new (or all
    when an explicit R changed). One query of one row. -#}
{% macro providers_to_build(own_only=false) -%}
{%- set found = inputs_to_build(own_only) -%}
{{ return(none if found is none else found.providers) }}
{%- endmacro %}

{#- `providers_to_build` and, with `periods`, the changed periods (`int_period_inputs`: their codes,
    calendar starts and ends) in the same query: none, or `{'providers': [...], 'periods':
    [{'period', 'start', 'end'}]}` (the periods empty without `periods`). Read from this run's
    `int_inputs_to_build` (one row, 2 ms), or from the views themselves (11 ms on `bw`) in a run
    that did not build it. -#}
{% macro inputs_to_build(own_only=false, periods=false) -%}
{%- if not execute -%}{{ return(none) }}{%- endif -%}
{%- set flag = "own_changed" if own_only else "changed" -%}
{%- set columns = "no_record or every_" ~ flag ~ ", " ~ flag ~ "_providers, "
    ~ ("changed_periods" if periods else "'[]'") -%}
{%- set memo = ref('int_inputs_to_build') -%}
{%- set found = run_query(
    "select " ~ columns ~ " from " ~ memo ~ " where invocation_id = '" ~ invocation_id ~ "'"
) -%}
{%- if not found.rows -%}
{%- set found = run_query("select " ~ columns ~ " from (" ~ inputs_to_build_sql(
    memo.incorporate(path={'identifier': 'int_provider_inputs'}),
    memo.incorporate(path={'identifier': 'int_period_inputs'}),
) ~ ")") -%}
{%- endif -%}
{%- if found.rows[0][0] -%}{{ return(none) }}{%- endif -%}
{{ return({'providers': fromjson(found.rows[0][1]), 'periods': fromjson(found.rows[0][2])}) }}
{%- endmacro %}

{#- The one row `inputs_to_build` reads, from `int_provider_inputs` and `int_period_inputs`
    (relations): whether there is no record to compare with; for `changed` and for `own_changed`
    whether every provider's inputs changed and the list of those that did (JSON); the changed
    periods (JSON). -#}
{% macro inputs_to_build_sql(provider_inputs, period_inputs) -%}
select
    (select count(*) from {{ dbt_built_inputs() }}) = 0 as no_record,
    coalesce(bool_and(changed), false) as every_changed,
    to_json(coalesce(list(provider order by provider) filter (where changed), []::varchar[]))::varchar
        as changed_providers,
    coalesce(bool_and(own_changed), false) as every_own_changed,
    to_json(coalesce(list(provider order by provider) filter (where own_changed), []::varchar[]))::varchar
        as own_changed_providers,
    (
        select
            coalesce(
                to_json(
                    list({'period': period, 'start': period_start, 'end': period_end} order by period)
                        filter (where changed)
                ),
                '[]'
            )
        from {{ period_inputs }}
    )::varchar as changed_periods
from {{ provider_inputs }}
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
{%- set configured = providers_to_build(own_only=(by_provider != 'shared')) is none -%}
{%- endif -%}
{%- endif -%}
{{ return(configured) }}
{%- endmacro %}

{#- The providers whose rows this model's run rebuilds: none when its table is made anew (there is
    none yet, a full refresh, or every provider changed: `should_full_refresh`), else
    `providers_to_build`'s list. What `is_incremental()` and then `providers_to_build` would say,
    with one query (dbt's own cost per query besides DuckDB's), and a model asks in its SQL and
    in its pre-hook. -#}
{% macro rebuilt_providers(own_only=false) -%}
{%- if not execute or table_made_anew() -%}{{ return(none) }}{%- endif -%}
{{ return(providers_to_build(own_only)) }}
{%- endmacro %}

{#- Whether this model's table is made anew whatever the providers' inputs: a full refresh, no
    such table yet (what `is_incremental()` checks besides `should_full_refresh`). In a dbt unit
    test (no relation of its own) its `is_incremental` override decides. -#}
{% macro table_made_anew() -%}
{%- if this is none -%}{{ return(not is_incremental()) }}{%- endif -%}
{%- set relation = adapter.get_relation(this.database, this.schema, this.table) -%}
{{ return(full_refresh_configured() or relation is none or relation.type != 'table') }}
{%- endmacro %}

{#- The rows a model built by provider and period rebuilds: none when its table is made anew
    (`table_made_anew`, or the own inputs of every provider changed: `should_full_refresh`),
    else `{'providers': [the providers whose own inputs changed], 'periods': [{'period',
    'start', 'end'}: the periods whose start, end or effective end changed, new ones and recorded
    ones gone, with their calendar start and end]}`. One query of one row. -#}
{% macro rebuilt_rows() -%}
{%- if not execute or table_made_anew() -%}{{ return(none) }}{%- endif -%}
{{ return(inputs_to_build(own_only=true, periods=true)) }}
{%- endmacro %}

{#- For a model built by provider and period: a condition on a provider and a period column (a
    period code), true for the rows it rebuilds (every row when its table is made anew). -#}
{% macro changed_rows(provider_column, period_column) -%}
{{ rows_condition(rebuilt_rows(), provider_column, period_column) }}
{%- endmacro %}

{#- ... on a provider and a date column: the rows of the changed providers, and of every
    provider those dated in a changed period (its calendar start to end). For an input whose
    periods a model derives from a date (`periods_of_date`): it reads only the dates that can
    fall in a rebuilt period, and `changed_rows` then keeps the rows of those periods. -#}
{% macro changed_dates(provider_column, date_column) -%}
{{ rows_condition(rebuilt_rows(), provider_column, none, date_column) }}
{%- endmacro %}

{#- ... on an input keyed by provider alone (no period or date to tell the rows of a period by)
    that a model built by provider and period joins to its period rows: the changed providers'
    rows, every provider's when a period changed. -#}
{% macro changed_inputs(provider_column) -%}
{%- set rows = rebuilt_rows() -%}
{%- if rows is not none and not rows.periods -%}
{{ provider_condition(provider_column, rows.providers) }}
{%- else -%}
true
{%- endif -%}
{%- endmacro %}

{#- `rows` (rebuilt_rows) as a condition on the columns given: `provider in (...)` or a period
    condition (`period_column in (...)`, or `date_column` in one of the periods' spans). -#}
{% macro rows_condition(rows, provider_column, period_column=none, date_column=none) -%}
{%- if rows is none -%}
true
{%- else -%}
{%- set any_of = [] -%}
{%- if rows.providers -%}
{%- do any_of.append(provider_condition(provider_column, rows.providers)) -%}
{%- endif -%}
{%- if rows.periods -%}
{%- do any_of.append(period_condition(rows.periods, period_column, date_column)) -%}
{%- endif -%}
({{ any_of | join(' or ') if any_of else 'false' }})
{%- endif -%}
{%- endmacro %}

{#- `period_column` in the periods' codes, or `date_column` in one of their calendar spans. -#}
{% macro period_condition(periods, period_column=none, date_column=none) -%}
{%- if period_column -%}
{{ period_column }} in ({% for p in periods %}'{{ p.period }}'{{ ", " if not loop.last }}{% endfor %})
{%- else -%}
({% for p in periods %}{{ date_column }} between date '{{ p.start }}' and date '{{ p.end }}'{{ " or " if not loop.last }}{% endfor %})
{%- endif -%}
{%- endmacro %}

{#- For a join of provider rows with the periods in a model built by provider and period: the
    conditions of the parts of a `union all`, each on the provider side and the period side
    apart, so that DuckDB filters each side before the join: the changed providers' rows with
    every period, the others' with the changed periods. ['true'] when the table is made anew,
    ['false'] when nothing changed. -#}
{% macro changed_parts(provider_column, period_column) -%}
{%- set rows = rebuilt_rows() -%}
{%- if rows is none -%}{{ return(['true']) }}{%- endif -%}
{%- set parts = [] -%}
{%- if rows.providers -%}
{%- do parts.append(provider_condition(provider_column, rows.providers)) -%}
{%- endif -%}
{%- if rows.periods -%}
{%- set others = ('not ' ~ provider_condition(provider_column, rows.providers) ~ ' and ') if rows.providers else '' -%}
{%- do parts.append(others ~ period_condition(rows.periods, period_column)) -%}
{%- endif -%}
{{ return(parts or ['false']) }}
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

{#- ... of a model built by provider and period. -#}
{% macro delete_changed_rows() -%}
{%- set rows = rebuilt_rows() -%}
{%- if rows is none -%}
select 1
{%- else -%}
delete from {{ this }} where {{ rows_condition(rows, 'provider', 'period') }}
{%- endif -%}
{%- endmacro %}

{#- The configuration of every model built by provider: incremental, appending after the pre-hook
    deleted the rows about to be rebuilt, failing on a changed schema (a changed project builds
    from scratch anyway), and built after int_inputs_to_build (this run's reading of
    int_provider_inputs and int_period_inputs), which its filters read. -#}
{% macro built_by_provider(own_only=false, by_period=false) -%}
{%- if by_period -%}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_changed_rows() }}",
    meta={'built_by_provider': 'by_period'},
) }}
-- depends_on: {{ ref('int_inputs_to_build') }}
{%- else -%}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_changed_providers(" ~ ("own_only=true" if own_only else "") ~ ") }}",
    meta={'built_by_provider': 'own_only' if own_only else 'shared'},
) }}
-- depends_on: {{ ref('int_inputs_to_build') }}
{%- endif -%}
{%- endmacro %}

{#- A data test of a model built by provider that needs to look at the rebuilt providers only gets
    `config: {where: "__changed_providers__"}`: the rows of the other providers are the rows that
    passed it in the last build of every model (the record is written only after a dbt run in which
    every test passed, so a failing provider stays "changed" until it passes), and they have not
    changed since. For a model built by its providers' own inputs (`own_only`, read from the
    tested model's configuration in the graph) those are the providers whose own inputs changed:
    a moved R rebuilt none of the others' rows (int_contact_status' uniqueness on `bw` the day
    after: 0.8 s over all 4.5 M rows). For any other model those whose inputs (own or shared)
    changed: of a model built by provider and period that is every provider when R moved, more
    than it rebuilt, never less. In a --full-refresh every row is tested. dbt's own
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
