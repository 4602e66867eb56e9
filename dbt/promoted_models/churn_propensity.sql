{#- The shipped state: no churn model trained on this bank's history yet (model_version 'none', a null propensity);
    the heuristic churn_risk_score stands alone. See fraud_classifier.sql beside it. -#}
{% macro churn_propensity_version() %}none{% endmacro %}
{% macro churn_propensity_score() %}cast(null as double precision){% endmacro %}
{% macro churn_propensity_reference() %}{{ return([]) }}{% endmacro %}
