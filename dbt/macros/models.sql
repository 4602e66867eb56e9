{#- The promoted model `name` (ml/promotion.py writes <name>_version() and <name>_score() into the directory
    DBT_PROMOTED_MODELS_DIR names; dbt/promoted_models/ is the shipped "none yet" state): {version, score} with
    score the SQL of its probability over the model's feature columns, reference the training window's bins and
    shares per feature and score (ml/drift.py; [] with no model, or an artifact written before drift existed). A directory without the model's macros
    is a broken deployment, never an empty score: the build stops here, naming the directory. -#}
{% macro promoted_model(name) -%}
  {%- set version = context.get(name ~ '_version') -%}
  {%- set score = context.get(name ~ '_score') -%}
  {%- if version is none or score is none -%}
    {{ exceptions.raise_compiler_error("no promoted " ~ name ~ " (macros " ~ name ~ "_version/_score) in "
       ~ env_var('DBT_PROMOTED_MODELS_DIR', 'promoted_models') ~ ": the model artifact is missing; copy the promoted "
       ~ "models' dbt macros there (ml/promotion.py writes them) or unset DBT_PROMOTED_MODELS_DIR for rules only") }}
  {%- endif -%}
  {%- set reference = context.get(name ~ '_reference') -%}
  {{ return({'version': version() | trim, 'score': score() | trim, 'reference': reference() if reference else []}) }}
{%- endmacro %}
