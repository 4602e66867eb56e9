"""The promoted model scored inside the warehouse: dbt compiles fct_transaction_model_scores with the SQL the
promotion gate wrote, and DuckDB and PostgreSQL give the same probabilities (to 1e-9) - the ones scikit-learn
gives on the same features; a deployment whose model artifact is missing stops the build with one clear line."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from ml.features import FRAUD
from ml.promotion import write_dbt_macros
from ml.models import FRAUD_SPEC
from ml.train import train
from tests.fixtures.dbt import run_dbt

COMPILED = Path("compiled") / "fintech_analytics" / "models" / "marts" / "fraud" / "fct_transaction_model_scores.sql"


@pytest.fixture(scope="module")
def promoted(dbt_duckdb_build, duckdb_marts, tmp_path_factory):
    """A fraud classifier trained on the test warehouse (a short bank: a week judged, two weeks left to mature) and
    the dbt macros the gate writes for it."""
    frame = FRAUD_SPEC.frame(duckdb_marts)
    trained = train(FRAUD, frame, name="fraud_classifier", baseline=FRAUD_SPEC.baseline, baseline_threshold=50,
                    eval_days=7, maturity_days=14)
    folder = tmp_path_factory.mktemp("promoted")
    write_dbt_macros(folder, trained.name, trained.version, trained.sql, "test model", reference=trained.card["reference"])
    write_dbt_macros(folder, "churn_propensity", None, None, "not trained in this test")  # every model: a state
    return trained, folder, frame


def _compiled_select(build, promoted_dir: Path, target_path: Path, **env) -> str:
    run = run_dbt(["compile", "--select", "fct_transaction_model_scores"], target=build.target, target_path=target_path,
                  env={**build.env, "DBT_PROMOTED_MODELS_DIR": str(promoted_dir), **env})
    assert run.returncode == 0, run.output[-3000:]
    return (target_path / COMPILED).read_text()


def test_duckdb_and_postgres_score_alike_and_as_scikit_learn_does(promoted, dbt_duckdb_build, dbt_postgres_build,
                                                                  tmp_path):
    import duckdb
    import psycopg2

    trained, folder, frame = promoted
    # DuckDB: a copy of the built warehouse (the session's file is open read-only for other tests)
    copy = tmp_path / "copy.duckdb"
    shutil.copy(dbt_duckdb_build.duckdb_path, copy)
    duck_sql = _compiled_select(dbt_duckdb_build, folder, tmp_path / "duck_target", DBT_DUCKDB_PATH=str(copy))
    with duckdb.connect(str(copy), read_only=True) as con:
        duck = dict(con.execute(f"select transaction_id, model_score from ({duck_sql}) as s").fetchall())
        versions = {v for (v,) in con.execute(f"select distinct model_version from ({duck_sql}) as s").fetchall()}
    pg_sql = _compiled_select(dbt_postgres_build, folder, tmp_path / "pg_target")
    with psycopg2.connect(**dbt_postgres_build.pg_dsn, dbname=dbt_postgres_build.pg_dbname) as pg, pg.cursor() as cur:
        cur.execute(f"select transaction_id, model_score from ({pg_sql}) as s")
        pg_scores = dict(cur.fetchall())

    assert versions == {trained.version}
    assert set(duck) == set(pg_scores) == set(frame[FRAUD.key]) and len(duck) > 1000
    ids = sorted(duck)
    np.testing.assert_allclose([pg_scores[i] for i in ids], [duck[i] for i in ids], rtol=0, atol=1e-9)
    rows = frame.set_index(FRAUD.key).loc[ids]
    expected = trained.pipeline.predict_proba(rows[list(FRAUD.features)].to_numpy(float))[:, 1]
    np.testing.assert_allclose([duck[i] for i in ids], expected, rtol=0, atol=1e-12)


def test_alerts_carry_the_model_reason_when_the_promoted_model_alerts(promoted, dbt_duckdb_build, tmp_path):
    import duckdb

    trained, folder, _ = promoted
    copy = tmp_path / "copy.duckdb"
    shutil.copy(dbt_duckdb_build.duckdb_path, copy)
    run = run_dbt(["build", "--select", "fct_transaction_model_scores+", "--vars", "{fraud_model_threshold: 0.2}"],
                  target="local", target_path=tmp_path / "target",
                  env={**dbt_duckdb_build.env, "DBT_DUCKDB_PATH": str(copy), "DBT_PROMOTED_MODELS_DIR": str(folder)})
    assert run.returncode == 0 and not run.problems(), run.output[-3000:]
    with duckdb.connect(str(copy), read_only=True) as con:
        over, alerted, model_reason, model_only = con.execute("""
            select count(*), count(a.alert_id),
                   sum(case when a.reason_codes like '%MODEL%' then 1 else 0 end),
                   sum(case when a.primary_reason_code = 'MODEL' then 1 else 0 end)
            from analytics_marts.fct_transaction_model_scores as s
            left join analytics_marts.fraud_alerts as a on a.entity_id = s.transaction_id
            where s.model_score >= 0.2""").fetchone()
        below_rules = con.execute("""
            select count(*) from analytics_marts.fraud_alerts
            where primary_reason_code = 'MODEL' and (fraud_score >= 50 or model_score < 0.2)""").fetchone()[0]
    assert over > 0 and alerted == over == model_reason  # every transaction over the threshold is an alert, MODEL among its reasons
    assert below_rules == 0 and model_only <= over

    # drift: the warehouse bins the latest week as training did - its PSI is ml.drift's on the same rows
    from ml import drift

    with duckdb.connect(str(copy), read_only=True) as con:
        mart = {f: p for f, p in con.execute("select feature, psi from analytics_marts.fct_model_drift "
                                             "where model_name = 'fraud_classifier'").fetchall()}
        latest = con.execute("""
            select f.*, s.model_score from analytics_features.ml_transaction_features as f
            left join analytics_marts.fct_transaction_model_scores as s using (transaction_id)
            where f.transaction_at >= (select max(transaction_at) - interval 7 day
                                       from analytics_features.ml_transaction_features)""").df()
    columns = {f: latest[f].to_numpy(float) for f in FRAUD.features}
    expected = drift.report(trained.card["reference"], {**columns, drift.SCORE: latest["model_score"].to_numpy(float)})
    assert set(mart) == set(expected) == {*FRAUD.features, drift.SCORE}
    for feature, value in expected.items():
        assert abs(mart[feature] - value) < 1e-5, feature  # the card rounds to 6 places


def test_a_missing_model_artifact_stops_the_build_with_one_clear_line(dbt_duckdb_build, tmp_path):
    empty = tmp_path / "artifacts"
    empty.mkdir()
    run = run_dbt(["compile", "--select", "fct_transaction_model_scores"], target="local", target_path=tmp_path / "t",
                  env={**dbt_duckdb_build.env, "DBT_DUCKDB_PATH": str(tmp_path / "none.duckdb"),
                       "DBT_PROMOTED_MODELS_DIR": str(empty)})
    assert run.returncode != 0
    assert f"no promoted fraud_classifier (macros fraud_classifier_version/_score) in {empty}" in run.output
    assert "the model artifact is missing" in run.output


def test_the_shipped_state_scores_nothing_and_says_so(duckdb_marts):
    versions = duckdb_marts.execute("select model_version, count(model_score), count(*), "
                                    "sum(case when is_model_alert then 1 else 0 end) "
                                    "from analytics_marts.fct_transaction_model_scores group by 1").fetchall()
    assert len(versions) == 1 and versions[0][0] == "none" and versions[0][1] == 0 and versions[0][3] == 0
    assert versions[0][2] == duckdb_marts.execute(
        "select count(*) from analytics_marts.fct_transaction_fraud_indicators").fetchone()[0]
