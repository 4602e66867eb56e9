{#- The shipped state: no fraud classifier trained on this bank's outcomes yet, so none scores (model_version
    'none', model_score null) and the rules alone alert. `python -m ml.train` (locally) or the retraining step (on
    AWS) trains one and, when it passes the promotion gate, writes this file's twin with the model's SQL into the
    directory DBT_PROMOTED_MODELS_DIR names. Same two macros in every state: ml/promotion.py. -#}
{% macro fraud_classifier_version() %}none{% endmacro %}
{% macro fraud_classifier_score() %}cast(null as double precision){% endmacro %}
{% macro fraud_classifier_reference() %}{{ return([]) }}{% endmacro %}
