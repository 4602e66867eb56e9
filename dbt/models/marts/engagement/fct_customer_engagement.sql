{{ config(dist='customer_id', sort=['customer_id']) }}
-- Engagement at the reporting date and the churn-risk heuristic built from it (macros/engagement.sql), beside the
-- promoted churn model's propensity for the same customers and date (fct_customer_churn_scores; null while no
-- model is promoted, and for customers with no activity in the last 30 days, whom the model does not score).
{{ customer_engagement('select ' ~ reporting_date() ~ ' as as_of_date') }}

select
    e.*,
    s.churn_propensity,
    s.churn_propensity_band,
    s.model_version as churn_model_version
from engagement as e
left join {{ ref('fct_customer_churn_scores') }} as s on e.customer_id = s.customer_id and e.as_of_date = s.as_of_date
