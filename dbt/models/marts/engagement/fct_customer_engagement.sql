{{ config(dist='customer_id', sort=['customer_id']) }}
-- Engagement at the reporting date and a churn-risk score built from it (no label is read).

with reporting as (
    select {{ reporting_date() }} as as_of_date
),

windows as (
    select
        a.customer_id,
        sum(case when a.activity_date > {{ add_days('r.as_of_date', -30) }} then a.successful_logins else 0 end) as logins_30d,
        sum(case when a.activity_date > {{ add_days('r.as_of_date', -30) }} then a.failed_logins else 0 end) as failed_logins_30d,
        sum(case when a.activity_date > {{ add_days('r.as_of_date', -30) }} then a.completed_transaction_count else 0 end) as transactions_30d,
        sum(case when a.activity_date > {{ add_days('r.as_of_date', -30) }} then a.completed_amount_usd else 0 end) as transaction_amount_30d_usd,
        sum(case when a.activity_date <= {{ add_days('r.as_of_date', -30) }} and a.activity_date > {{ add_days('r.as_of_date', -60) }}
                 then a.successful_logins else 0 end) as logins_prev_30d,
        sum(case when a.activity_date <= {{ add_days('r.as_of_date', -30) }} and a.activity_date > {{ add_days('r.as_of_date', -60) }}
                 then a.completed_transaction_count else 0 end) as transactions_prev_30d,
        max(case when a.successful_logins > 0 then a.activity_date end) as last_login_date,
        max(case when a.completed_transaction_count > 0 then a.activity_date end) as last_transaction_date
    from {{ ref('int_customer_daily_activity') }} as a
    cross join reporting as r
    where a.activity_date <= r.as_of_date
    group by a.customer_id
),

measured as (
    select
        c.customer_id,
        r.as_of_date,
        c.customer_segment,
        c.tenure_months,
        coalesce(w.logins_30d, 0) as logins_30d,
        coalesce(w.failed_logins_30d, 0) as failed_logins_30d,
        coalesce(w.transactions_30d, 0) as transactions_30d,
        coalesce(w.transaction_amount_30d_usd, 0) as transaction_amount_30d_usd,
        coalesce(w.logins_prev_30d, 0) as logins_prev_30d,
        coalesce(w.transactions_prev_30d, 0) as transactions_prev_30d,
        {{ days_between('w.last_login_date', 'r.as_of_date') }} as days_since_last_login,
        {{ days_between('w.last_transaction_date', 'r.as_of_date') }} as days_since_last_transaction
    from {{ ref('dim_customers') }} as c
    cross join reporting as r
    left join windows as w on c.customer_id = w.customer_id
),

trended as (
    select
        *,
        transactions_30d + logins_30d as activity_30d,
        transactions_prev_30d + logins_prev_30d as activity_prev_30d,
        case
            when transactions_prev_30d + logins_prev_30d > 0 then
                cast((transactions_30d + logins_30d) - (transactions_prev_30d + logins_prev_30d) as double precision)
                / (transactions_prev_30d + logins_prev_30d)
        end as activity_trend_pct
    from measured
),

scored as (
    select
        *,
        case
            when tenure_months < 2 then 'new'
            when activity_30d = 0 and activity_prev_30d = 0 then 'inactive'
            when activity_trend_pct is null then 'growing'
            when activity_trend_pct > 0.2 then 'growing'
            when activity_trend_pct < -0.2 then 'declining'
            else 'stable'
        end as activity_trend,
        least(100,
            -- silence: up to 40 points, full at 30+ days without a transaction
            case when days_since_last_transaction is null then 40
                 else least(40, cast(floor(days_since_last_transaction * 40.0 / 30) as integer)) end
            -- decline: up to 30 points, proportional to the drop in activity
            + case when activity_trend_pct is null then 0
                   when activity_trend_pct < 0 then cast(floor(-activity_trend_pct * 30 + 0.5) as integer) else 0 end
            -- digital silence: 20 points with no successful login in 30 days
            + case when logins_30d = 0 then 20 else 0 end
            -- friction: 10 points when the last 30 days had failed logins and no success
            + case when failed_logins_30d > 0 and logins_30d = 0 then 10 else 0 end
        ) as churn_risk_score
    from trended
)

select
    customer_id,
    as_of_date,
    customer_segment,
    cast(logins_30d as integer) as logins_30d,
    cast(failed_logins_30d as integer) as failed_logins_30d,
    cast(transactions_30d as integer) as transactions_30d,
    cast(transaction_amount_30d_usd as numeric(18, 2)) as transaction_amount_30d_usd,
    cast(logins_prev_30d as integer) as logins_prev_30d,
    cast(transactions_prev_30d as integer) as transactions_prev_30d,
    cast(days_since_last_login as integer) as days_since_last_login,
    cast(days_since_last_transaction as integer) as days_since_last_transaction,
    activity_trend_pct,
    activity_trend,
    cast(churn_risk_score as integer) as churn_risk_score,
    case when churn_risk_score >= 70 then 'high' when churn_risk_score >= 40 then 'medium' else 'low' end
        as churn_risk_band
from scored
