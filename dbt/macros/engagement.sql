{#- Engagement of every customer at each date of `as_of_dates` (SQL selecting a column as_of_date), from what was
    known on that date, and the churn-risk heuristic built from it (no label is read): fct_customer_engagement
    at the reporting date, features/ml_customer_features at each weekly cut-off (the churn model's inputs, and the
    heuristic's score beside it on the same dates). The score is domain logic: a customer drifting away transacts
    and logs in less than their own habit (decay of the last churn_recent_days against the churn_baseline_days
    before), lets more of their usual transactions go by since the last one (recency measured in their own
    cadence, not in days), and closes products. with_inputs adds the inputs the mart does not show (open
    accounts, the baseline's daily transactions). The caller writes the final select: the macro ends with the
    CTE `engagement`, one row per customer and as-of date (`{{ customer_engagement(...) }} select * from engagement`). -#}
{% macro customer_engagement(as_of_dates, with_inputs=false) -%}
{%- set recent = var('churn_recent_days') -%}
{%- set baseline = var('churn_baseline_days') %}
{%- set customer_start = 'greatest(p.history_start, coalesce(c.customer_since, p.history_start))' %}
with periods as (
    select
        d.as_of_date,
        (select min(activity_date) from {{ ref('int_customer_daily_activity') }}) as history_start
    from ({{ as_of_dates }}) as d
),

closures as (
    -- as each as-of date saw them: closed by then (within 90 days), open by then and not yet closed
    select
        a.customer_id,
        p.as_of_date,
        sum(case when a.account_status = 'closed' and a.close_date > {{ add_days('p.as_of_date', -90) }}
                      and a.close_date <= p.as_of_date then 1 else 0 end)
            as closed_accounts_90d,
        sum(case when coalesce(a.open_date <= p.as_of_date, true)
                      and (a.account_status <> 'closed' or coalesce(a.close_date > p.as_of_date, false)) then 1 else 0 end)
            as open_accounts
    from {{ ref('int_accounts_current') }} as a
    cross join periods as p
    group by a.customer_id, p.as_of_date
),

windows as (
    select
        a.customer_id,
        r.as_of_date,
        sum(case when a.activity_date > {{ add_days('r.as_of_date', -30) }} then a.successful_logins else 0 end) as logins_30d,
        sum(case when a.activity_date > {{ add_days('r.as_of_date', -30) }} then a.failed_logins else 0 end) as failed_logins_30d,
        sum(case when a.activity_date > {{ add_days('r.as_of_date', -30) }} then a.completed_transaction_count else 0 end) as transactions_30d,
        sum(case when a.activity_date > {{ add_days('r.as_of_date', -30) }} then a.completed_amount_usd else 0 end) as transaction_amount_30d_usd,
        sum(case when a.activity_date <= {{ add_days('r.as_of_date', -30) }} and a.activity_date > {{ add_days('r.as_of_date', -60) }}
                 then a.successful_logins else 0 end) as logins_prev_30d,
        sum(case when a.activity_date <= {{ add_days('r.as_of_date', -30) }} and a.activity_date > {{ add_days('r.as_of_date', -60) }}
                 then a.completed_transaction_count else 0 end) as transactions_prev_30d,
        sum(case when a.activity_date > {{ add_days('r.as_of_date', -recent) }} then a.completed_transaction_count else 0 end) as transactions_recent,
        sum(case when a.activity_date > {{ add_days('r.as_of_date', -recent) }} then a.successful_logins else 0 end) as logins_recent,
        sum(case when a.activity_date <= {{ add_days('r.as_of_date', -recent) }} and a.activity_date > {{ add_days('r.as_of_date', -(recent + baseline)) }}
                 then a.completed_transaction_count else 0 end) as transactions_baseline,
        sum(case when a.activity_date <= {{ add_days('r.as_of_date', -recent) }} and a.activity_date > {{ add_days('r.as_of_date', -(recent + baseline)) }}
                 then a.successful_logins else 0 end) as logins_baseline,
        max(case when a.successful_logins > 0 then a.activity_date end) as last_login_date,
        max(case when a.completed_transaction_count > 0 then a.activity_date end) as last_transaction_date
    from {{ ref('int_customer_daily_activity') }} as a
    cross join periods as r
    where a.activity_date <= r.as_of_date
    group by a.customer_id, r.as_of_date
),

customer_periods as (
    -- days each customer's windows actually cover, from the later of the history's start and the day the customer
    -- joined: a short history or a new customer shortens the baseline, never invents days of no activity (which
    -- would dilute the habit and hide its decay). prev_30d_days: the days of the 30 before the last 30 (the trend
    -- compares daily rates, so a short history does not read as growth).
    select
        c.customer_id,
        p.as_of_date,
        least({{ baseline }}, greatest(0, {{ days_between(customer_start, 'p.as_of_date') }} + 1 - {{ recent }})) as baseline_days,
        least(30, greatest(0, {{ days_between(customer_start, 'p.as_of_date') }} + 1 - 30)) as prev_30d_days
    from {{ ref('dim_customers') }} as c
    cross join periods as p
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
        {{ days_between('w.last_transaction_date', 'r.as_of_date') }} as days_since_last_transaction,
        -- habits as daily rates: the recent window against the baseline before it (null without a baseline)
        case when cp.baseline_days > 0 and coalesce(w.transactions_baseline, 0) > 0 then
            (cast(coalesce(w.transactions_recent, 0) as double precision) / {{ recent }})
            / (cast(w.transactions_baseline as double precision) / cp.baseline_days)
        end as transaction_rate_ratio,
        case when cp.baseline_days > 0 and coalesce(w.logins_baseline, 0) > 0 then
            (cast(coalesce(w.logins_recent, 0) as double precision) / {{ recent }})
            / (cast(w.logins_baseline as double precision) / cp.baseline_days)
        end as login_rate_ratio,
        case when cp.baseline_days > 0 then cast(coalesce(w.transactions_baseline, 0) as double precision) / cp.baseline_days end
            as baseline_transactions_per_day,
        coalesce(cl.closed_accounts_90d, 0) as closed_accounts_90d,
        coalesce(cl.open_accounts, 0) as open_accounts,
        cp.prev_30d_days
    from {{ ref('dim_customers') }} as c
    cross join periods as r
    inner join customer_periods as cp on c.customer_id = cp.customer_id and r.as_of_date = cp.as_of_date
    left join windows as w on c.customer_id = w.customer_id and r.as_of_date = w.as_of_date
    left join closures as cl on c.customer_id = cl.customer_id and r.as_of_date = cl.as_of_date
),

trended as (
    select
        *,
        transactions_30d + logins_30d as activity_30d,
        transactions_prev_30d + logins_prev_30d as activity_prev_30d,
        case
            when transactions_prev_30d + logins_prev_30d > 0 and prev_30d_days > 0 then
                (cast(transactions_30d + logins_30d as double precision) / 30)
                / (cast(transactions_prev_30d + logins_prev_30d as double precision) / prev_30d_days) - 1
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
        -- components are 0..weight each; the sum is at most 100
        -- decay: up to 40 points as the transaction rate falls below the customer's own baseline; a 20 %
        -- dead zone absorbs ordinary week-to-week variation
        cast(floor(40 * case
            when transaction_rate_ratio is null then 0
            when transaction_rate_ratio >= 0.8 then 0
            else (0.8 - transaction_rate_ratio) / 0.8 end + 0.5) as integer) as transaction_decay_points,
        -- login decline: up to 20 points, the same measure on successful logins
        cast(floor(20 * case
            when login_rate_ratio is null then 0
            when login_rate_ratio >= 0.8 then 0
            else (0.8 - login_rate_ratio) / 0.8 end + 0.5) as integer) as login_decay_points,
        -- recency in the customer's own cadence: transactions they would usually have made since their last
        -- one; nothing below 2 missed, 25 points at 7 or more. No transaction at all while the baseline had
        -- some counts as fully silent.
        case
            when baseline_transactions_per_day is null or baseline_transactions_per_day = 0 then 0
            when days_since_last_transaction is null then 25
            else cast(floor(25 * least(1.0, greatest(0.0,
                    (days_since_last_transaction * baseline_transactions_per_day - 2) / 5.0)) + 0.5) as integer)
        end as recency_points,
        -- products closed in the last 90 days: 10 points, 15 when nothing is left open
        case
            when closed_accounts_90d > 0 and open_accounts = 0 then 15
            when closed_accounts_90d > 0 then 10
            else 0
        end as closure_points
    from trended
),

totalled as (
    select
        *,
        least(100, transaction_decay_points + login_decay_points + recency_points + closure_points) as churn_risk_score
    from scored
),

engagement as (
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
        transaction_rate_ratio,
        login_rate_ratio,
        cast(closed_accounts_90d as integer) as closed_accounts_90d,
        {%- if with_inputs %}
        cast(open_accounts as integer) as open_accounts,
        baseline_transactions_per_day,
        {%- endif %}
        cast(transaction_decay_points as integer) as transaction_decay_points,
        cast(login_decay_points as integer) as login_decay_points,
        cast(recency_points as integer) as recency_points,
        cast(closure_points as integer) as closure_points,
        cast(churn_risk_score as integer) as churn_risk_score,
        case when churn_risk_score >= {{ var('churn_high_score') }} then 'high'
             when churn_risk_score >= {{ var('churn_medium_score') }} then 'medium' else 'low' end as churn_risk_band
    from totalled
)
{%- endmacro %}
