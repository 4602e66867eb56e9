{{
    config(
        materialized='incremental',
        unique_key='revenue_date',
        incremental_strategy='delete+insert',
        dist='customer_id',
        sort=['revenue_date'],
    )
}}
-- Every revenue event in USD before aggregation: one row per fee-bearing transaction and per account-day.
-- Rates and fees come from the reference seeds; nothing is hard-coded here. Incremental by whole days (the
-- look-back days are recomputed and replace their rows).

{%- set since = lookback_start('revenue_date') if is_incremental() else none %}

with transactions as (
    select *
    from {{ ref('int_transactions_enriched') }}
    where status = 'completed'
    {% if is_incremental() -%}
    and transaction_date >= {{ since }}
    {%- endif %}
),

account_days as (
    -- incremental: only the look-back days' snapshots, filtered before de-duplication (staged_rows)
    select a.*, fx.usd_per_unit
    from ({{ staged_rows('stg_core_banking__accounts', 'as_of_date',
                         since) }}) as a
    left join {{ ref('ref_fx_rates') }} as fx on a.currency = fx.currency
    where a.account_status <> 'closed'
),

fees as (
    select * from {{ ref('ref_fee_schedule') }}
),

interchange as (
    select
        t.transaction_date as revenue_date,
        t.customer_id,
        t.account_type as product,
        coalesce(t.channel, 'unknown') as channel,
        'interchange_fee' as revenue_type,
        t.amount_usd * r.rate + r.fixed_fee_usd as revenue_usd
    from transactions as t
    inner join {{ ref('ref_interchange_rates') }} as r
        on t.interchange_tier = r.interchange_tier and t.card_network = r.card_network
    where t.transaction_type = 'purchase'
),

fx_fees as (
    select
        t.transaction_date as revenue_date,
        t.customer_id,
        t.account_type as product,
        coalesce(t.channel, 'unknown') as channel,
        'fx_fee' as revenue_type,
        t.amount_usd * f.rate as revenue_usd
    from transactions as t
    inner join fees as f
        on f.fee_type = 'fx_fee' and f.product = t.account_type
    where t.transaction_type in ('purchase', 'withdrawal')
      and t.currency <> t.account_currency
),

interest as (
    -- daily accrual on the end-of-day amount owed: balance x annual rate / 365
    select
        as_of_date as revenue_date,
        customer_id,
        account_type as product,
        'account' as channel,
        'interest_income' as revenue_type,
        balance * interest_rate / 365 * usd_per_unit as revenue_usd
    from account_days
    where account_type in ('credit_card', 'personal_loan', 'mortgage')
      and balance > 0
      and interest_rate is not null
),

account_fees as (
    -- the monthly fee accrued daily (x 12 / 365): the account's own fee, else the schedule's default
    select
        a.as_of_date as revenue_date,
        a.customer_id,
        a.account_type as product,
        'account' as channel,
        'account_fee' as revenue_type,
        coalesce(a.monthly_fee * a.usd_per_unit, f.amount_usd) * 12 / 365 as revenue_usd
    from account_days as a
    left join fees as f
        on f.fee_type = 'account_fee' and f.product = a.account_type
    where coalesce(a.monthly_fee, f.amount_usd) > 0
),

overdraft_fees as (
    select
        a.as_of_date as revenue_date,
        a.customer_id,
        a.account_type as product,
        'account' as channel,
        'overdraft_fee' as revenue_type,
        f.amount_usd as revenue_usd
    from account_days as a
    inner join fees as f
        on f.fee_type = 'overdraft_fee' and f.product = a.account_type
    where a.balance < 0
),

unioned as (
    select * from interchange
    union all select * from fx_fees
    union all select * from interest
    union all select * from account_fees
    union all select * from overdraft_fees
)

select
    revenue_date,
    customer_id,
    coalesce(product, 'unknown') as product,
    channel,
    revenue_type,
    cast(revenue_usd as numeric(28, 10)) as revenue_usd
from unioned
