{{ config(dist='customer_id', sort=['detection_date']) }}
-- The suspicious activity report (SAR) case queue: a customer's fraud alerts grouped into cases, an alert joining
-- the case of the customer's previous alert when it falls within var sar_case_window_days (30) of it (overlapping
-- 30-day windows merge); a longer gap opens a new case. Detection is the date of the case's first alert (the daily
-- pipeline raises it from that day's batch); the SAR is due var sar_filing_days (30) calendar days later
-- (31 CFR 1020.320(b)(3)). Reasons: the rules' primary reasons of its alerts; model_alerts counts alerts where the
-- fraud model's probability reached its threshold (reason MODEL).

with alerts as (
    select
        *,
        lag(alert_at) over (partition by customer_id order by alert_at, alert_id) as previous_alert_at
    from {{ ref('fraud_alerts') }}
),

numbered as (
    select
        *,
        sum(case when previous_alert_at is null
                      or alert_at > {{ dbt.dateadd('day', var('sar_case_window_days'), 'previous_alert_at') }}
                 then 1 else 0 end)
            over (partition by customer_id order by alert_at, alert_id rows between unbounded preceding and current row)
            as case_number
    from alerts
),

cased as (
    select
        *,
        customer_id || ':' || cast(min(alert_date) over (partition by customer_id, case_number) as varchar(10)) as case_id
    from numbered
),

reasons as (
    select case_id, {{ dbt.listagg('primary_reason_code', "', '", 'order by primary_reason_code') }} as rule_reasons
    from (select distinct case_id, primary_reason_code from cased where primary_reason_code <> 'MODEL') as r
    group by case_id
),

countries as (
    select case_id, {{ dbt.listagg('country', "', '", 'order by country') }} as countries
    from (select distinct case_id, country from cased where country is not null) as c
    group by case_id
)

select
    a.case_id,
    a.customer_id,
    min(a.alert_date) as detection_date,
    {{ add_days('min(a.alert_date)', var('sar_filing_days')) }} as filing_deadline,
    count(*) as alerts,
    sum(case when a.entity_type = 'transaction' then 1 else 0 end) as transaction_alerts,
    sum(case when a.entity_type = 'login' then 1 else 0 end) as login_alerts,
    cast(coalesce(sum(a.amount_usd), 0) as numeric(38, 2)) as amount_usd,
    min(a.alert_at) as first_activity_at,
    max(a.alert_at) as last_activity_at,
    max(a.fraud_score) as max_rules_score,
    max(a.model_score) as max_model_score,
    sum(case when a.reason_codes like '%MODEL%' then 1 else 0 end) as model_alerts,
    max(case when a.risk_band = 'critical' then 1 else 0 end) = 1 as has_critical_alert,
    max(r.rule_reasons) as rule_reasons,
    max(co.countries) as countries,
    max(c.country) as customer_country,
    max(c.customer_segment) as customer_segment
from cased as a
left join reasons as r on a.case_id = r.case_id
left join countries as co on a.case_id = co.case_id
left join {{ ref('dim_customers') }} as c on a.customer_id = c.customer_id
group by a.case_id, a.customer_id
