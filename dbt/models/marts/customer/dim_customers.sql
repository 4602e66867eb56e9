{{ config(dist='customer_id', sort=['customer_id']) }}
-- Customer dimension: the profile plus every segmentation rule (RFM quintiles, bands, business segment).

with profile as (
    select * from {{ ref('int_customer_profile') }}
),

quintiles as (
    select
        *,
        -- customers without recent spend all score 1; ties broken by id so the build is deterministic
        case when recency_days is null then 1
             else ntile(5) over (partition by recency_days is null order by recency_days desc, customer_id) end as r_score,
        case when frequency_90d = 0 then 1
             else ntile(5) over (partition by frequency_90d = 0 order by frequency_90d, customer_id) end as f_score,
        case when monetary_90d_usd = 0 then 1
             else ntile(5) over (partition by monetary_90d_usd = 0 order by monetary_90d_usd, customer_id) end as m_score
    from profile
),

banded as (
    select
        *,
        case
            when tenure_months < 12 then '<1y'
            when tenure_months < 36 then '1-3y'
            when tenure_months < 60 then '3-5y'
            else '5y+'
        end as tenure_band,
        case
            when age is null then 'unknown'
            when age < 18 then '<18'
            when age < 25 then '18-24'
            when age < 35 then '25-34'
            when age < 45 then '35-44'
            when age < 55 then '45-54'
            when age < 65 then '55-64'
            else '65+'
        end as age_band,
        coalesce(income_level, 'unknown') as income_band,
        case
            when credit_score is null then 'unknown'
            when credit_score < 580 then 'poor'
            when credit_score < 670 then 'fair'
            when credit_score < 740 then 'good'
            when credit_score < 800 then 'very_good'
            else 'exceptional'
        end as credit_band,
        case
            when frequency_90d = 0 then 'inactive'
            when tenure_months < 3 then 'new'
            when r_score >= 4 and f_score >= 4 and m_score >= 4 then 'champions'
            when f_score >= 4 then 'loyal'
            when r_score <= 2 and f_score >= 3 then 'at_risk'
            when r_score <= 2 then 'hibernating'
            else 'potential'
        end as rfm_segment
    from quintiles
)

select
    customer_id,
    country,
    state,
    city,
    occupation,
    kyc_status,
    risk_level,
    customer_since,
    tenure_months,
    tenure_band,
    age,
    age_band,
    income_band,
    product_count,
    has_checking,
    has_savings,
    has_credit_card,
    has_personal_loan,
    has_mortgage,
    deposit_balance_usd,
    credit_balance_usd,
    credit_score,
    credit_band,
    recency_days,
    frequency_90d,
    monetary_90d_usd,
    cast(r_score as integer) as r_score,
    cast(f_score as integer) as f_score,
    cast(m_score as integer) as m_score,
    rfm_segment,
    case
        when rfm_segment = 'inactive' and product_count = 0 then 'inactive'
        when income_band = 'high' and deposit_balance_usd >= 50000 then 'premium'
        when income_band = 'high' or deposit_balance_usd >= 25000 then 'mass_affluent'
        when age < 35 and income_band = 'medium' then 'young_professional'
        when tenure_months < 12 or income_band = 'low' then 'emerging'
        else 'mass_market'
    end as customer_segment
from banded
