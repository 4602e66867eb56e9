{{
    config(
        materialized='incremental',
        unique_key='login_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        dist='customer_id',
        sort=['login_at'],
    )
}}
{#- Incremental runs recompute the look-back window, reading as context the attempts of the burst window just
    before it (failed_burst_window_minutes) so the burst rules see the attempts they reach back to; whether a device or country is new, and the previous located attempt, come from
    the rows already in this table before that (exactly what a full build computes for them). -#}
{%- set order = 'login_at, login_id' -%}
{%- set rules = login_anomaly_rules() -%}
{%- set burst = var('failed_burst_min_attempts') -%}
{%- set burst_seconds = var('failed_burst_window_minutes') * 60 -%}
{%- set incremental = is_incremental_with_columns(['device_id', 'latitude', 'longitude']) -%}
{%- set since = lookback_start('login_at') if incremental else none -%}
{%- set context_since = dbt.dateadd('minute', -var('failed_burst_window_minutes'), since) if incremental else none -%}

with logins as (
    select
        *,
        login_status = 'failed' as is_failed,
        latitude is not null and longitude is not null as has_location
    from ({{ staged_rows('stg_auth__login_activity', 'login_at', context_since) }}) as attempts
),

{% if incremental %}
earlier_customers as (
    select distinct customer_id as earlier_customer_id from {{ this }} where login_at < {{ context_since }}
),

earlier_devices as (
    select distinct customer_id as earlier_device_customer_id, device_id as earlier_device_id
    from {{ this }}
    where login_at < {{ context_since }} and device_id is not null
),

earlier_countries as (
    select distinct customer_id as earlier_country_customer_id, location_country as earlier_country
    from {{ this }}
    where login_at < {{ context_since }} and location_country is not null
),

earlier_location as (
    select
        customer_id as earlier_location_customer_id,
        login_at as earlier_login_at,
        latitude as earlier_latitude,
        longitude as earlier_longitude
    from (
        select
            customer_id, login_at, latitude, longitude,
            row_number() over (partition by customer_id order by login_at desc, login_id desc) as recency_rank
        from {{ this }}
        where login_at < {{ context_since }} and latitude is not null and longitude is not null
    ) as located
    where recency_rank = 1
),
{% endif %}

sequenced as (
    select
        l.*,
        {% if incremental -%}
        -- an attempt before the window makes the window's first attempt not the customer's first, and so on
        row_number() over (partition by l.customer_id order by {{ order }})
            + case when ec.earlier_customer_id is not null then 1 else 0 end as customer_attempt_number,
        row_number() over (partition by l.customer_id, l.device_id order by {{ order }})
            + case when ed.earlier_device_id is not null then 1 else 0 end as device_attempt_number,
        row_number() over (partition by l.customer_id, l.location_country order by {{ order }})
            + case when eco.earlier_country is not null then 1 else 0 end as country_attempt_number,
        {%- for column, alias in [('login_at', 'previous_located_at'), ('latitude', 'previous_latitude'), ('longitude', 'previous_longitude')] %}
        coalesce(
            lag(l.{{ column }}) over (partition by l.customer_id, l.has_location order by {{ order }}),
            case when l.has_location then el.earlier_{{ column }} end
        ) as {{ alias }},
        {%- endfor %}
        {%- else -%}
        row_number() over (partition by customer_id order by {{ order }}) as customer_attempt_number,
        row_number() over (partition by customer_id, device_id order by {{ order }}) as device_attempt_number,
        row_number() over (partition by customer_id, location_country order by {{ order }}) as country_attempt_number,
        lag(login_at) over (partition by customer_id, has_location order by {{ order }}) as previous_located_at,
        lag(latitude) over (partition by customer_id, has_location order by {{ order }}) as previous_latitude,
        lag(longitude) over (partition by customer_id, has_location order by {{ order }}) as previous_longitude,
        {%- endif %}
        {{ count_in_trailing_window('login_at', 'customer_id, is_failed', order, burst_seconds) }} as failed_run_length,
        {{ in_burst('login_at', 'customer_id, is_failed', order, burst, burst_seconds) }} as in_failed_burst,
        -- a success straight after `burst` consecutive failures within the window: the burst worked
        (
            {%- for k in range(1, burst + 1) %}
            coalesce(lag(is_failed, {{ k }}) over (partition by customer_id order by {{ order }}), false) and
            {%- endfor %}
            coalesce({{ seconds_between('lag(login_at, ' ~ burst ~ ') over (partition by customer_id order by ' ~ order ~ ')', 'login_at') }} <= {{ burst_seconds }}, false)
        ) as follows_failed_burst
    from logins as l
    {% if incremental -%}
    left join earlier_customers as ec on l.customer_id = ec.earlier_customer_id
    left join earlier_devices as ed
        on l.customer_id = ed.earlier_device_customer_id and l.device_id = ed.earlier_device_id
    left join earlier_countries as eco
        on l.customer_id = eco.earlier_country_customer_id and l.location_country = eco.earlier_country
    left join earlier_location as el on l.customer_id = el.earlier_location_customer_id
    {%- endif %}
),

measured as (
    select
        *,
        case when has_location then {{ haversine_km('previous_latitude', 'previous_longitude', 'latitude', 'longitude') }} end
            as distance_from_previous_km,
        case when has_location then {{ seconds_between('previous_located_at', 'login_at') }} end as seconds_from_previous
    from sequenced
),

flagged as (
    select
        *,
        case when is_failed then failed_run_length else 0 end as failed_attempts_in_window,
        {{ speed_kmh('distance_from_previous_km', 'seconds_from_previous') }} as speed_from_previous_kmh,
        (is_failed and in_failed_burst) or (not is_failed and follows_failed_burst) as is_failed_burst,
        device_id is not null and device_attempt_number = 1 and customer_attempt_number > 1 as is_new_device,
        location_country is not null and country_attempt_number = 1 and customer_attempt_number > 1 as is_new_country,
        {{ is_impossible_jump('distance_from_previous_km', speed_kmh('distance_from_previous_km', 'seconds_from_previous')) }}
            as is_geo_velocity
    from measured
),

scored as (
    select
        *,
{{ rule_columns(rules, 'anomaly_score') }}
    from flagged
)

select
    login_id,
    customer_id,
    login_at,
    cast(login_at as date) as login_date,
    login_status,
    device_id,
    device_type,
    location_country,
    latitude,
    longitude,
    channel,
    cast(failed_attempts_in_window as integer) as failed_attempts_in_window,
    distance_from_previous_km,
    speed_from_previous_kmh,
    is_failed_burst,
    is_new_device,
    is_new_country,
    is_geo_velocity,
    -- a burst that broke in, or a first-seen device arriving from a new country or an impossible distance
    is_failed_burst or (is_new_device and (is_new_country or is_geo_velocity)) as is_suspicious,
    cast(anomaly_score as integer) as anomaly_score,
    {{ risk_band('anomaly_score') }} as risk_band,
    reason_codes,
    primary_reason_code
from scored
{% if incremental -%}
where login_at >= {{ since }}
{%- endif %}
