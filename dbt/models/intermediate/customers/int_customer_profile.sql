{{ config(dist='customer_id', sort=['customer_id']) }}
-- Everything known about a customer at the reporting date, before any segmentation rule: demographics,
-- tenure, product holdings and balances (latest snapshot, USD), latest credit score and 90-day activity.

with reporting as (
    select {{ reporting_date() }} as as_of_date
),

accounts as (
    select
        a.customer_id,
        count(distinct a.account_type) as product_count,
        max(case when a.account_type = 'checking' then 1 else 0 end) as has_checking,
        max(case when a.account_type = 'savings' then 1 else 0 end) as has_savings,
        max(case when a.account_type = 'credit_card' then 1 else 0 end) as has_credit_card,
        max(case when a.account_type = 'personal_loan' then 1 else 0 end) as has_personal_loan,
        max(case when a.account_type = 'mortgage' then 1 else 0 end) as has_mortgage,
        sum(case when a.account_type in ('checking', 'savings') then a.balance * fx.usd_per_unit else 0 end) as deposit_balance_usd,
        sum(case when a.account_type in ('credit_card', 'personal_loan', 'mortgage') then a.balance * fx.usd_per_unit else 0 end) as credit_balance_usd
    from {{ ref('int_accounts_current') }} as a
    left join {{ ref('ref_fx_rates') }} as fx on a.currency = fx.currency
    where a.account_status <> 'closed'
    group by a.customer_id
),

latest_scores as (
    select customer_id, credit_score
    from (
        select
            customer_id,
            credit_score,
            row_number() over (partition by customer_id order by score_date desc, score_id desc) as score_rank
        from {{ ref('stg_bureau__credit_scores') }}
    ) as ranked
    where score_rank = 1
),

activity as (
    select
        a.customer_id,
        max(case when a.completed_transaction_count > 0 then a.activity_date end) as last_transaction_date,
        sum(case when a.activity_date > {{ add_days('r.as_of_date', -90) }} then a.completed_transaction_count else 0 end) as frequency_90d,
        sum(case when a.activity_date > {{ add_days('r.as_of_date', -90) }} then a.completed_amount_usd else 0 end) as monetary_90d_usd
    from {{ ref('int_customer_daily_activity') }} as a
    cross join reporting as r
    where a.activity_date <= r.as_of_date
    group by a.customer_id
)

select
    c.customer_id,
    r.as_of_date,
    c.country,
    c.state,
    c.city,
    c.occupation,
    c.kyc_status,
    c.risk_level,
    c.income_level,
    c.customer_since,
    c.date_of_birth,
    cast(floor({{ days_between('c.customer_since', 'r.as_of_date') }} / 30.4375) as integer) as tenure_months,
    cast(floor({{ days_between('c.date_of_birth', 'r.as_of_date') }} / 365.25) as integer) as age,
    coalesce(a.product_count, 0) as product_count,
    coalesce(a.has_checking, 0) = 1 as has_checking,
    coalesce(a.has_savings, 0) = 1 as has_savings,
    coalesce(a.has_credit_card, 0) = 1 as has_credit_card,
    coalesce(a.has_personal_loan, 0) = 1 as has_personal_loan,
    coalesce(a.has_mortgage, 0) = 1 as has_mortgage,
    cast(round(coalesce(a.deposit_balance_usd, 0), 2) as numeric(18, 2)) as deposit_balance_usd,
    cast(round(coalesce(a.credit_balance_usd, 0), 2) as numeric(18, 2)) as credit_balance_usd,
    s.credit_score,
    {{ days_between('act.last_transaction_date', 'r.as_of_date') }} as recency_days,
    cast(coalesce(act.frequency_90d, 0) as integer) as frequency_90d,
    cast(coalesce(act.monetary_90d_usd, 0) as numeric(18, 2)) as monetary_90d_usd
from {{ ref('stg_core_banking__customers') }} as c
cross join reporting as r
left join accounts as a on c.customer_id = a.customer_id
left join latest_scores as s on c.customer_id = s.customer_id
left join activity as act on c.customer_id = act.customer_id
