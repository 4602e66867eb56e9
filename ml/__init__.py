"""Models beside the rules: training, SQL export and model cards for the fraud classifier and the churn propensity
model (issue 14). `ml.sql_export` turns a fitted scikit-learn pipeline into one SQL expression that DuckDB,
PostgreSQL and Redshift evaluate alike, so the warehouse scores with exactly the model that was trained."""
