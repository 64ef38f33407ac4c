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
