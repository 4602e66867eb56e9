{{ config(dist='customer_id', sort=['customer_id']) }}
{#- The promoted churn model's propensity (probability of no activity in the next churn_label_days) for every
    customer active in the last 30 days, at the reporting date, from its features at that cut-off
    (features/ml_customer_features) through the SQL ml/sql_export.py wrote for it (macros/models.sql finds it).
    Bands: high >= churn_propensity_high, medium >= churn_propensity_medium. No model promoted yet: version
    'none', null propensity and band. -#}
{%- set model = promoted_model('churn_propensity') %}

with latest as (
    select * from {{ ref('ml_customer_features') }}
    where as_of_date = (select max(as_of_date) from {{ ref('ml_customer_features') }})
),

scored as (
    select customer_id, as_of_date, {{ model.score }} as churn_propensity
    from latest
)

select
    customer_id,
    as_of_date,
    cast(churn_propensity as double precision) as churn_propensity,
    case
        when churn_propensity >= {{ var('churn_propensity_high') }} then 'high'
        when churn_propensity >= {{ var('churn_propensity_medium') }} then 'medium'
        when churn_propensity is not null then 'low'
    end as churn_propensity_band,
    cast('{{ model.version }}' as varchar(64)) as model_version
from scored
