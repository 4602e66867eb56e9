{#- Adapter-specific SQL lives only here, behind adapter.dispatch (default__/duckdb__/postgres__/redshift__). -#}

{#- A cast that yields null instead of failing on a malformed value (dbt.safe_cast is a plain cast). -#}
{% macro safe_cast(expression, sql_type) -%}
  {{ return(adapter.dispatch('safe_cast', 'fintech_analytics')(expression, sql_type)) }}
{%- endmacro %}
{% macro default__safe_cast(expression, sql_type) -%} cast({{ expression }} as {{ sql_type }}) {%- endmacro %}
{% macro duckdb__safe_cast(expression, sql_type) -%} try_cast({{ expression }} as {{ sql_type }}) {%- endmacro %}
{#- Redshift has no TRY_CAST for every type pair; raw Spectrum columns are already typed, so a cast suffices. -#}
{% macro redshift__safe_cast(expression, sql_type) -%} cast({{ expression }} as {{ sql_type }}) {%- endmacro %}

{#- SQL type for a contract type (glue_jobs/contracts): string, integer, bigint, double, boolean, date, timestamp, decimal(p,s). -#}
{% macro contract_sql_type(contract_type) -%}
  {{ return(adapter.dispatch('contract_sql_type', 'fintech_analytics')(contract_type)) }}
{%- endmacro %}
{% macro default__contract_sql_type(contract_type) -%}
  {%- set mapping = {'string': 'varchar', 'integer': 'integer', 'bigint': 'bigint', 'double': 'double precision',
                     'boolean': 'boolean', 'date': 'date', 'timestamp': 'timestamp'} -%}
  {%- if contract_type.startswith('decimal(') -%}{{ contract_type | replace('decimal', 'numeric') }}
  {%- else -%}{{ mapping[contract_type] }}{%- endif -%}
{%- endmacro %}
{#- Redshift `varchar` alone means varchar(256): keep strings as the external table declares them. -#}
{% macro redshift__contract_sql_type(contract_type) -%}
  {%- if contract_type == 'string' -%}varchar(65535){%- else -%}{{ default__contract_sql_type(contract_type) }}{%- endif -%}
{%- endmacro %}

{#- Salted SHA-256 (hex) of a value: pseudonymises PII consistently across engines. -#}
{% macro hash_pii(expression) -%}
  {{ return(adapter.dispatch('hash_pii', 'fintech_analytics')(expression)) }}
{%- endmacro %}
{% macro default__hash_pii(expression) -%}
  encode(sha256(convert_to('{{ var("pii_salt", env_var("DBT_PII_SALT", "local-synthetic-data-only")) }}' || cast({{ expression }} as varchar), 'UTF8')), 'hex')
{%- endmacro %}
{% macro duckdb__hash_pii(expression) -%}
  sha256('{{ var("pii_salt", env_var("DBT_PII_SALT", "local-synthetic-data-only")) }}' || cast({{ expression }} as varchar))
{%- endmacro %}
{% macro redshift__hash_pii(expression) -%}
  sha2('{{ var("pii_salt", env_var("DBT_PII_SALT", "local-synthetic-data-only")) }}' || cast({{ expression }} as varchar(65535)), 256)
{%- endmacro %}

{#- Elapsed seconds from start_ts to end_ts, as a double (fractional on engines that keep sub-seconds). -#}
{% macro seconds_between(start_ts, end_ts) -%}
  {{ return(adapter.dispatch('seconds_between', 'fintech_analytics')(start_ts, end_ts)) }}
{%- endmacro %}
{% macro default__seconds_between(start_ts, end_ts) -%}
  cast(extract(epoch from ({{ end_ts }}) - ({{ start_ts }})) as double precision)
{%- endmacro %}
{% macro duckdb__seconds_between(start_ts, end_ts) -%}
  cast(epoch({{ end_ts }}) - epoch({{ start_ts }}) as double)
{%- endmacro %}
{% macro redshift__seconds_between(start_ts, end_ts) -%}
  cast(datediff(second, {{ start_ts }}, {{ end_ts }}) as double precision)
{%- endmacro %}

{#- Great-circle distance in km (haversine, mean Earth radius 6371 km). Null when any coordinate is null. -#}
{% macro haversine_km(lat1, lon1, lat2, lon2) -%}
  {{ return(adapter.dispatch('haversine_km', 'fintech_analytics')(lat1, lon1, lat2, lon2)) }}
{%- endmacro %}
{#- least() skips nulls on every engine, so the clamp to 1 (rounding guard for antipodes) is a CASE: a null
    coordinate must give a null distance, not half the planet. -#}
{% macro default__haversine_km(lat1, lon1, lat2, lon2) -%}
  {%- set a -%}
      (power(sin(radians(({{ lat2 }}) - ({{ lat1 }})) / 2), 2)
       + cos(radians({{ lat1 }})) * cos(radians({{ lat2 }}))
         * power(sin(radians(({{ lon2 }}) - ({{ lon1 }})) / 2), 2))
  {%- endset -%}
  (2 * 6371.0 * asin(sqrt(case when {{ a }} > 1 then 1.0 else {{ a }} end)))
{%- endmacro %}

{#- Days from start_date to end_date (date arithmetic differs: DuckDB/Postgres subtract, Redshift datediff). -#}
{% macro days_between(start_date, end_date) -%}
  {{ return(adapter.dispatch('days_between', 'fintech_analytics')(start_date, end_date)) }}
{%- endmacro %}
{% macro default__days_between(start_date, end_date) -%}
  (cast({{ end_date }} as date) - cast({{ start_date }} as date))
{%- endmacro %}
{% macro redshift__days_between(start_date, end_date) -%}
  datediff(day, cast({{ start_date }} as date), cast({{ end_date }} as date))
{%- endmacro %}

{#- date + n days, as a date. -#}
{% macro add_days(date_expression, days) -%}
  {{ return(adapter.dispatch('add_days', 'fintech_analytics')(date_expression, days)) }}
{%- endmacro %}
{% macro default__add_days(date_expression, days) -%}
  cast(cast({{ date_expression }} as date) + ({{ days }}) as date)
{%- endmacro %}
{% macro redshift__add_days(date_expression, days) -%}
  cast(dateadd(day, {{ days }}, cast({{ date_expression }} as date)) as date)
{%- endmacro %}
