{{
    config(
        materialized='incremental',
        unique_key='transaction_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        dist='customer_id',
        sort=['transaction_at'],
    )
}}
-- Transactions with their customer's home country, their account's product, network and currency, the
-- effective MCC and interchange tier, the USD amount, the merchant country's risk level and the account's
-- previous-day status.

{#- Incremental runs read only the look-back window from the source (filtered before de-duplication, see
    staged_rows) instead of the staging views, which de-duplicate the whole lake. -#}
{%- set since = lookback_start('transaction_at') if is_incremental() else none %}

with transactions as (
    {{ staged_rows('stg_core_banking__transactions', 'transaction_at', since) }}
),

prior_day_accounts as (
    {{ staged_rows('stg_core_banking__accounts', 'as_of_date', add_days(since, -1) if since else none) }}
),

category_default_mcc as (
    select merchant_category, mcc, interchange_tier
    from {{ ref('ref_mcc_codes') }}
    where is_category_default
)

select
    t.transaction_id,
    t.customer_id,
    t.account_id,
    t.transaction_type,
    t.amount,
    t.currency,
    cast(round(t.amount * fx.usd_per_unit, 2) as numeric(18, 2)) as amount_usd,
    t.merchant_name,
    t.merchant_category,
    coalesce(mcc.mcc, category_default.mcc) as effective_mcc,
    coalesce(mcc.interchange_tier, category_default.interchange_tier, 'standard') as interchange_tier,
    t.transaction_at,
    cast(t.transaction_at as date) as transaction_date,
    t.device_id,
    t.ip_address,
    t.status,
    t.is_fraudulent as is_confirmed_fraud,
    t.channel,
    t.merchant_country,
    t.merchant_city,
    t.latitude,
    t.longitude,
    t.card_present,
    coalesce(not t.card_present, t.channel in ('ecommerce', 'online_banking', 'mobile'), false) as is_card_not_present,
    coalesce(country_risk.risk_level, 'unknown') as country_risk_level,
    customers.country as home_country,
    accounts.account_type,
    accounts.card_network,
    accounts.currency as account_currency,
    prior_day.account_status as prior_day_account_status,
    prior_day.last_activity_date as prior_day_last_activity_date
from transactions as t
left join {{ ref('ref_fx_rates') }} as fx
    on t.currency = fx.currency
left join {{ ref('ref_mcc_codes') }} as mcc
    on t.mcc = mcc.mcc
left join category_default_mcc as category_default
    on t.merchant_category = category_default.merchant_category
left join {{ ref('ref_country_risk') }} as country_risk
    on t.merchant_country = country_risk.country
left join {{ ref('stg_core_banking__customers') }} as customers
    on t.customer_id = customers.customer_id
left join {{ ref('int_accounts_current') }} as accounts
    on t.account_id = accounts.account_id
-- the account as it stood at the end of the previous day (dormancy is judged before this transaction)
left join prior_day_accounts as prior_day
    on t.account_id = prior_day.account_id
    and prior_day.as_of_date = {{ add_days('cast(t.transaction_at as date)', -1) }}
