"""ml.sql_export: a fitted pipeline scored in SQL gives the probabilities scikit-learn gives, on DuckDB and on
PostgreSQL alike, with SQL the Redshift checks accept; what it cannot write it refuses by name."""

from __future__ import annotations

import numpy as np
import pytest

from ml.sql_export import UnsupportedModel, literal, logistic_sql, probability_sql, raw_score_sql

FEATURES = ["amount_usd", "transactions_1h", "minutes_since_login", "is_new_device"]


def _data(seed: int = 3, n: int = 600):
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.lognormal(4, 1.2, n), rng.poisson(1.5, n).astype(float),
                         rng.exponential(300, n), (rng.random(n) < 0.1).astype(float)])
    z = -4 + 0.004 * x[:, 0] + 0.6 * x[:, 1] - 0.002 * x[:, 2] + 2.5 * x[:, 3]
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    x[rng.random(n) < 0.05, 2] = np.nan  # some customers never logged in
    return x, y


def _models():
    from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = _data()
    return {
        "logistic": make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(C=0.5)).fit(x, y),
        "boosted_trees": make_pipeline(SimpleImputer(strategy="median"),
                                       GradientBoostingClassifier(n_estimators=40, max_depth=3, random_state=0)).fit(x, y),
        # missing values handled by the trees themselves (no imputer)
        "hist_boosted_trees": HistGradientBoostingClassifier(max_iter=30, max_leaf_nodes=8, min_samples_leaf=10,
                                                             early_stopping=False, random_state=0).fit(x, y),
    }


@pytest.fixture(scope="module")
def models():
    return _models()


def _rows():
    x, _ = _data(seed=11, n=250)
    x[0] = [np.nan, np.nan, np.nan, np.nan]  # every feature missing: the imputer's fills
    x[1] = [1e6, 40, 0, 1]  # far outside the training range: the logistic function must not overflow
    return x


def _values_sql(x: np.ndarray) -> str:
    cells = lambda v: "null" if np.isnan(v) else literal(v)  # noqa: E731
    rows = ", ".join(f"({i}, {', '.join(cells(v) for v in row)})" for i, row in enumerate(x))
    return f"(values {rows}) as t(row_id, {', '.join(FEATURES)})"


def _score(run, model, x) -> np.ndarray:
    sql = f"select row_id, {probability_sql(model, FEATURES)} as p from {_values_sql(x)} order by row_id"
    return np.array([p for _, p in run(sql)], dtype=float)


def _duckdb(sql):
    import duckdb

    return duckdb.connect().execute(sql).fetchall()


@pytest.mark.parametrize("name", ["logistic", "boosted_trees", "hist_boosted_trees"])
def test_duckdb_scores_equal_scikit_learn(models, name):
    x = _rows()
    expected = models[name].predict_proba(x)[:, 1]
    got = _score(_duckdb, models[name], x)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert 0 < got.min() and got.max() <= 1


def test_postgres_scores_equal_duckdb_to_1e_9(models, postgres_server):
    import psycopg2

    x = _rows()
    with psycopg2.connect(**postgres_server.dsn, dbname="postgres") as pg, pg.cursor() as cur:
        def run(sql):
            cur.execute(sql)
            return cur.fetchall()

        for name, model in models.items():
            np.testing.assert_allclose(_score(run, model, x), _score(_duckdb, model, x), rtol=0, atol=1e-9,
                                       err_msg=name)


def test_the_sql_is_portable_to_redshift(models):
    import sqlglot

    from tests.dbt.test_redshift_compile import redshift_violations

    for name, model in models.items():
        sql = f"select {probability_sql(model, FEATURES)} as p from features"
        sqlglot.parse_one(sql, read="redshift")
        assert redshift_violations(sql) == [], name


def test_a_large_ensemble_scores_from_its_raw_column(models):
    model = models["boosted_trees"]
    x = _rows()
    sql = (f"select row_id, {logistic_sql('raw')} as p from (select row_id, {raw_score_sql(model, FEATURES)} as raw "
           f"from {_values_sql(x)}) as scored order by row_id")
    np.testing.assert_allclose([p for _, p in _duckdb(sql)], model.predict_proba(x)[:, 1], rtol=0, atol=1e-12)


def test_what_cannot_be_written_is_refused_by_name():
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler

    x, y = _data()
    x = np.nan_to_num(x)
    with pytest.raises(UnsupportedModel, match="RandomForestClassifier"):
        probability_sql(RandomForestClassifier(n_estimators=2).fit(x, y), FEATURES)
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(UnsupportedModel, match="MinMaxScaler"):
        probability_sql(make_pipeline(MinMaxScaler(), LogisticRegression()).fit(x, y), FEATURES)
    with pytest.raises(UnsupportedModel, match="fitted on 4 features, 3 named"):
        probability_sql(LogisticRegression().fit(x, y), FEATURES[:3])
