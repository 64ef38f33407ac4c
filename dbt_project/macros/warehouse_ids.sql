{#- Unit tests write ids as readable words (`case_id: c_cm`), but ids are warehouse ids: the first
    128 bits of the HMAC pseudonym, as UHUGEINT (ingest/pseudonymise.py). dbt casts every fixture
    value to its column's type through `safe_cast`; for a UHUGEINT column given as text, the
    word's bytes, right-padded with zeros to 16 and read as one big-endian integer, become the id:
    distinct words stay distinct and keep their order (`c1` < `c2` as text and as integers), so a
    tie broken by id comes out as the test says. tests/dbt_fixture.py maps the fixture CSVs' ids
    the same way (`fixture_id`). -#}
{% macro duckdb__safe_cast(field, type) -%}
{%- if type | lower == 'uhugeint' and field is string and field.startswith("'") -%}
{%- if field | length > 18 -%}
{{ exceptions.raise_compiler_error("unit test id " ~ field ~ " is longer than 16 characters: it would not fit a warehouse id (UHUGEINT)") }}
{%- endif -%}
cast('0x' || rpad(hex(encode({{ field }})), 32, '0') as uhugeint)
{%- else -%}
cast({{ field }} as {{ type }})
{%- endif -%}
{%- endmacro %}

{#- A warehouse id as text: its 32 lowercase hex characters, as ingest/pseudonymise.py's
    `id_sql_text` writes it. Never `cast(id as varchar)`: DuckDB writes a UHUGEINT in decimal
    about 150 times slower (27 s against 0.18 s for 875,000 ids, measured), which made FI03 take
    33 s of a `bw` build. -#}
{% macro id_text(column) -%}
format('{:032x}', {{ column }})
{%- endmacro %}

{#- `entity_id` of a contribution model as text: `id_text` where the model's entity_id is a
    warehouse id, a cast where it already is text (grant-years, providers, files). The type is
    read from the built relation; at parse time, and for a relation not built yet, the cast. -#}
{% macro entity_id_text(relation) -%}
{%- set ns = namespace(is_id=false) -%}
{%- if execute -%}
{%- for column in adapter.get_columns_in_relation(relation) -%}
{%- if column.name | lower == 'entity_id' and column.dtype | lower == 'uhugeint' -%}
{%- set ns.is_id = true -%}
{%- endif -%}
{%- endfor -%}
{%- endif -%}
{%- if ns.is_id -%}{{ id_text('entity_id') }}{%- else -%}cast(entity_id as varchar){%- endif -%}
{%- endmacro %}
