{{ config(dist='customer_id', sort=['session_start_at']) }}
-- Login attempts grouped into sessions: a new session starts after 30 minutes without an attempt.

with attempts as (
    select
        *,
        lag(login_at) over (partition by customer_id order by login_at, login_id) as previous_attempt_at
    from {{ ref('stg_auth__login_activity') }}
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
        sum(is_session_start) over (
            partition by customer_id order by login_at, login_id rows between unbounded preceding and current row
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
