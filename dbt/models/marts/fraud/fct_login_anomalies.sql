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
    before it (failed_burst_window_minutes) so the burst rules see the attempts they reach back to; when the
    customer first used each device and country, and the previous located attempt, come from the rows already in
    this table before that (exactly what a full build computes for them). A device (country) stays new for
    new_device_window_hours after its first attempt: an attacker whose first guess failed is still on a new device
    when the later guess succeeds. -#}
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
    select customer_id as earlier_customer_id, min(login_at) as earlier_first_seen_at
    from {{ this }}
    where login_at < {{ context_since }}
    group by customer_id
),

earlier_devices as (
    select
        customer_id as earlier_device_customer_id,
        device_id as earlier_device_id,
        min(login_at) as earlier_device_first_seen_at
    from {{ this }}
    where login_at < {{ context_since }} and device_id is not null
    group by customer_id, device_id
),

earlier_countries as (
    select
        customer_id as earlier_country_customer_id,
        location_country as earlier_country,
        min(login_at) as earlier_country_first_seen_at
    from {{ this }}
    where login_at < {{ context_since }} and location_country is not null
    group by customer_id, location_country
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
        -- an attempt before the window is earlier than any in it
        coalesce(ec.earlier_first_seen_at, min(l.login_at) over (partition by l.customer_id)) as customer_first_seen_at,
        coalesce(ed.earlier_device_first_seen_at, min(l.login_at) over (partition by l.customer_id, l.device_id))
            as device_first_seen_at,
        coalesce(eco.earlier_country_first_seen_at, min(l.login_at) over (partition by l.customer_id, l.location_country))
            as country_first_seen_at,
        {%- for column, alias in [('login_at', 'previous_located_at'), ('latitude', 'previous_latitude'), ('longitude', 'previous_longitude')] %}
        coalesce(
            lag(l.{{ column }}) over (partition by l.customer_id, l.has_location order by {{ order }}),
            case when l.has_location then el.earlier_{{ column }} end
        ) as {{ alias }},
        {%- endfor %}
        {%- else -%}
        -- first attempts: the minimum over the whole partition is never later than the row itself
        min(login_at) over (partition by customer_id) as customer_first_seen_at,
        min(login_at) over (partition by customer_id, device_id) as device_first_seen_at,
        min(login_at) over (partition by customer_id, location_country) as country_first_seen_at,
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
        -- first used after the customer's first attempt, and no more than new_device_window_hours ago
        device_id is not null and device_first_seen_at > customer_first_seen_at
            and device_first_seen_at >= {{ dbt.dateadd('hour', -var('new_device_window_hours'), 'login_at') }} as is_new_device,
        location_country is not null and country_first_seen_at > customer_first_seen_at
            and country_first_seen_at >= {{ dbt.dateadd('hour', -var('new_device_window_hours'), 'login_at') }} as is_new_country,
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
    -- the attempt alerts on its own (feeds ATO_TRANSFER): with the rule weights, a new device together with a
    -- failed burst, a new country or an impossible distance; a burst on the customer's own device (a forgotten
    -- password) or a trip with their own phone does not
    anomaly_score >= {{ var('fraud_alert_threshold') }} as is_suspicious,
    cast(anomaly_score as integer) as anomaly_score,
    {{ risk_band('anomaly_score') }} as risk_band,
    reason_codes,
    primary_reason_code
from scored
{% if incremental -%}
where login_at >= {{ since }}
{%- endif %}
