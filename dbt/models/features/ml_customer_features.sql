{{ config(materialized='view') }}
{#- One row per customer per weekly cut-off (the reporting date and the churn_cutoffs - 1 weeks before it): the
    churn model's features (contract: ml/features.py), each from what the bank knew on the cut-off - the same
    engagement measures the churn heuristic reads (macros/engagement.sql, so its churn_risk_score stands beside the
    model on the same dates), tenure on that date - and the label: is_churned when the customer had no transaction
    and no login in the churn_label_days after it, null while those days are not all in the data yet (the latest
    cut-offs: the rows the promoted model scores for the mart). Tests: ut_customer_features_point_in_time. -#}
{%- set horizon = var('churn_label_days') -%}
{%- set dates = [] -%}
{%- for week in range(var('churn_cutoffs')) -%}
  {%- do dates.append('select ' ~ add_days(reporting_date(), -7 * week) ~ ' as as_of_date') -%}
{%- endfor %}

{{ customer_engagement(dates | join(' union all '), with_inputs=true) }},

data_end as (
    select max(activity_date) as last_date from {{ ref('int_customer_daily_activity') }}
),

later_activity as (
    select e.customer_id, e.as_of_date,
           sum(a.completed_transaction_count + a.successful_logins + a.failed_logins) as events_after
    from engagement as e
    inner join {{ ref('int_customer_daily_activity') }} as a
        on e.customer_id = a.customer_id
        and a.activity_date > e.as_of_date
        and a.activity_date <= {{ add_days('e.as_of_date', horizon) }}
    group by e.customer_id, e.as_of_date
)

select
    e.customer_id || ':' || cast(e.as_of_date as varchar(10)) as customer_cutoff_id,
    e.customer_id,
    e.as_of_date,
    cast(e.logins_30d as integer) as logins_30d,
    cast(e.failed_logins_30d as integer) as failed_logins_30d,
    cast(e.transactions_30d as integer) as transactions_30d,
    cast(e.transaction_amount_30d_usd as double precision) as transaction_amount_30d_usd,
    cast(e.logins_prev_30d as integer) as logins_prev_30d,
    cast(e.transactions_prev_30d as integer) as transactions_prev_30d,
    cast(e.days_since_last_login as double precision) as days_since_last_login,
    cast(e.days_since_last_transaction as double precision) as days_since_last_transaction,
    cast(e.activity_trend_pct as double precision) as activity_trend_pct,
    cast(e.transaction_rate_ratio as double precision) as transaction_rate_ratio,
    cast(e.login_rate_ratio as double precision) as login_rate_ratio,
    cast(e.baseline_transactions_per_day as double precision) as baseline_transactions_per_day,
    cast(e.closed_accounts_90d as integer) as closed_accounts_90d,
    cast(e.open_accounts as integer) as open_accounts,
    cast(floor({{ days_between('c.customer_since', 'e.as_of_date') }} / 30.4375) as double precision) as tenure_months_at_cutoff,
    e.churn_risk_score,
    case
        when {{ add_days('e.as_of_date', horizon) }} > d.last_date then null
        else coalesce(l.events_after, 0) = 0
    end as is_churned
from engagement as e
cross join data_end as d
left join {{ ref('dim_customers') }} as c on e.customer_id = c.customer_id
left join later_activity as l on e.customer_id = l.customer_id and e.as_of_date = l.as_of_date
where e.transactions_30d + e.logins_30d > 0
