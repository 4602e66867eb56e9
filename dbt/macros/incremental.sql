{#- High-water mark minus the look-back window: incremental models reprocess everything from here so rows that
    arrive a few days late are still picked up (delete+insert on the key). On a live incremental run the mark is
    queried from {{ this }} and rendered as a date literal, so the warehouse can prune with it (DuckDB and
    Spectrum row-group and Redshift zone-map skipping need a constant, not a scalar subquery); an offline compile
    (no connection) renders the equivalent subquery, or with var offline_high_water_mark (a date: the mark) the
    live form, as if max(column) were that date. With `per` (a column), the mark is the earliest of each group's
    latest: a table fed by several upstreams (fraud_alerts: transactions and logins) restarts where the one that
    lags behind does. Each call is a query: a model sets it once
    (`{% set since = lookback_start(...) %}`) and derives other bounds from it with add_days. -#}
{% macro lookback_start(column, per=none) -%}
  {%- if per is none -%}
    {%- set expression = add_days('max(' ~ column ~ ')', -var('lookback_days')) ~ ' from ' ~ this -%}
  {%- else -%}
    {%- set expression = add_days('min(' ~ column ~ ')', -var('lookback_days')) ~ ' from (select max(' ~ column ~ ') as '
                         ~ column ~ ' from ' ~ this ~ ' group by ' ~ per ~ ') as per_group' -%}
  {%- endif -%}
  {%- set fixed_mark = var('offline_high_water_mark', none) if var('offline_compile', false) else none -%}
  {%- if execute and fixed_mark and is_incremental() -%}
    {#- offline, the live form with a given mark: the SQL a daily run sends, for checks and scan estimates -#}
    {%- set start = modules.datetime.date.fromisoformat(fixed_mark | string) - modules.datetime.timedelta(days=var('lookback_days')) -%}
    {{- "cast('" ~ start.isoformat() ~ "' as date)" -}}
  {%- elif execute and not var('offline_compile', false) and is_incremental() -%}
    {%- set mark = run_query('select ' ~ expression).columns[0].values()[0] -%}
    {{- "cast(null as date)" if mark is none else "cast('" ~ (mark | string)[:10] ~ "' as date)" -}}
  {%- else -%}
    (select {{ expression }})
  {%- endif -%}
{%- endmacro %}

{#- True when the current row belongs to some run of `n` consecutive rows (same partition, ordered) that spans
    at most `window_seconds`. Uses only ROWS-offset lag/lead (Redshift has no RANGE frames with intervals):
    the row can sit at any of the n positions of such a run. -#}
{% macro in_burst(ts, partition_by, order_by, n, window_seconds) -%}
  {%- set terms = [] -%}
  {%- for before in range(n) -%}
    {%- set after = n - 1 - before -%}
    {%- set start = ts if before == 0 else 'lag(' ~ ts ~ ', ' ~ before ~ ') over (partition by ' ~ partition_by ~ ' order by ' ~ order_by ~ ')' -%}
    {%- set stop = ts if after == 0 else 'lead(' ~ ts ~ ', ' ~ after ~ ') over (partition by ' ~ partition_by ~ ' order by ' ~ order_by ~ ')' -%}
    {%- do terms.append('coalesce(' ~ seconds_between(start, stop) ~ ' <= ' ~ window_seconds ~ ', false)') -%}
  {%- endfor -%}
  ({{ terms | join('\n        or ') }})
{%- endmacro %}

{#- Rows in the trailing window ending at this row (this row included), counted with ROWS offsets up to
    1 + max_lookback rows. -#}
{% macro count_in_trailing_window(ts, partition_by, order_by, window_seconds, max_lookback=10) -%}
  (1
  {%- for k in range(1, max_lookback + 1) %}
    + case when {{ seconds_between('lag(' ~ ts ~ ', ' ~ k ~ ') over (partition by ' ~ partition_by ~ ' order by ' ~ order_by ~ ')', ts) }} <= {{ window_seconds }} then 1 else 0 end
  {%- endfor %})
{%- endmacro %}

{#- Incremental models of whole rows derived from an incremental upstream - filters and date aggregates, e.g.
    fraud_alerts, fraud_geo_risk_summary - replace a window instead of merging keys: a pre-hook deletes every row
    from `since` on (all of them when since is none: a full recompute into the existing table), the model
    inserts what it computes for the same window (incremental_strategy 'append'). delete+insert on a key could
    not remove a row that no longer qualifies (an alert whose score fell below the threshold after late rows
    arrived). `since` must be at most the upstream's own window start: a model's own mark minus the same
    lookback_days is, as long as its rows never run ahead of the upstream's. Empty on a first or full build. -#}
{% macro delete_window(column, since) -%}
  {%- if is_incremental() -%}
    delete from {{ this }}{% if since is not none %} where {{ column }} >= {{ since }}{% endif %}
  {%- endif -%}
{%- endmacro %}
