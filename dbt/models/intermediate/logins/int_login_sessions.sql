{{
    config(
        materialized='incremental',
        unique_key='session_id',
        incremental_strategy='delete+insert',
        dist='customer_id',
        sort=['session_start_at'],
    )
}}
-- Login attempts grouped into sessions: a new session starts after 30 minutes without an attempt.
{# Incremental runs reopen every session that ended less than a day before the look-back start (an attempt
    30 minutes after it would extend it) and rebuild each such customer's sessions from the first reopened one,
    numbering on from the sessions before it; other customers' new attempts start new sessions after their
    last one. On-time data gives exactly the full build; an attempt arriving later than the look-back window
    that falls within 30 minutes of an older session is merged into it only by a full refresh. #}
{% set order = 'login_at, login_id' %}

{% if is_incremental() %}
{%- set reopen_after = add_days(lookback_start('session_start_at'), -1) -%}
with reopened as (
    select
        customer_id as resume_customer_id,
        min(session_start_at) as resume_at,
        min(session_number) - 1 as sessions_before
    from {{ this }}
    where session_end_at >= {{ reopen_after }}
    group by customer_id
),

previous_sessions as (
    select customer_id as previous_customer_id, max(session_number) as sessions_before
    from {{ this }}
    group by customer_id
),

attempts_in_range as (
    select l.*, coalesce(r.sessions_before, p.sessions_before, 0) as sessions_before
    from ({{ staged_rows('stg_auth__login_activity', 'login_at',
                         '(select least(' ~ reopen_after ~ ', min(resume_at)) from reopened)') }}) as l
    left join reopened as r on l.customer_id = r.resume_customer_id
    left join previous_sessions as p on l.customer_id = p.previous_customer_id
    where l.login_at >= coalesce(r.resume_at, {{ reopen_after }})
),
{% else %}
with attempts_in_range as (
    select *, 0 as sessions_before
    from {{ ref('stg_auth__login_activity') }}
),
{% endif %}

attempts as (
    select
        *,
        lag(login_at) over (partition by customer_id order by {{ order }}) as previous_attempt_at
    from attempts_in_range
),

marked as (
    select
        *,
        case
            when previous_attempt_at is null then 1
            when {{ seconds_between('previous_attempt_at', 'login_at') }} > 1800 then 1
            else 0
        end as is_session_start
    from attempts
),

numbered as (
    select
        *,
        sessions_before + sum(is_session_start) over (
            partition by customer_id order by {{ order }} rows between unbounded preceding and current row
        ) as session_number
    from marked
)

select
    customer_id || '-' || cast(session_number as varchar(20)) as session_id,
    customer_id,
    session_number,
    min(login_at) as session_start_at,
    max(login_at) as session_end_at,
    count(*) as attempt_count,
    sum(case when login_status = 'failed' then 1 else 0 end) as failed_attempt_count,
    sum(case when login_status = 'success' then 1 else 0 end) as successful_attempt_count,
    count(distinct device_id) as device_count,
    count(distinct location_country) as country_count,
    max(location_country) as location_country,
    max(channel) as channel
from numbered
group by customer_id, session_number
