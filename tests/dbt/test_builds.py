"""`dbt build` (models, seeds, snapshot, data tests and unit tests) is green on DuckDB and on PostgreSQL, the
incremental path reproduces the full build, and the two engines agree on the marts."""

import shutil

import pytest

from tests.fixtures.dbt import INCREMENTAL_MODELS, run_dbt

MARTS = ["fct_transaction_fraud_indicators", "fct_login_anomalies", "fraud_alerts", "fraud_geo_risk_summary",
         "dim_customers", "customer_segment_summary", "fct_daily_revenue", "fct_customer_engagement",
         "rpt_ctr_candidates", "rpt_ctr_transactions", "rpt_sar_cases"]


def _assert_green(build):
    assert build.build.returncode == 0, build.build.output[-4000:]
    assert not build.build.problems()
    statuses = build.build.statuses()
    kinds = {r["unique_id"].split(".")[0] for r in build.build.results}
    assert {"model", "seed", "snapshot", "test", "unit_test"} <= kinds
    assert statuses["success"] >= 20 and statuses["pass"] >= 100, statuses
    unit_tests = [r for r in build.build.results if r["unique_id"].startswith("unit_test.")]
    assert len(unit_tests) >= 12 and all(r["status"] == "pass" for r in unit_tests)
    assert build.incremental.returncode == 0, build.incremental.output[-4000:]
    assert len(build.incremental.results) == len(INCREMENTAL_MODELS) and not build.incremental.problems()


def test_duckdb_build_is_green(dbt_duckdb_build):
    _assert_green(dbt_duckdb_build)


def test_docs_generate_works(dbt_duckdb_build):
    assert dbt_duckdb_build.docs.returncode == 0, dbt_duckdb_build.docs.output[-3000:]
    catalog = (dbt_duckdb_build.target_path / "catalog.json").read_text()
    assert "fct_daily_revenue" in catalog and (dbt_duckdb_build.target_path / "index.html").exists()


@pytest.mark.postgres
def test_postgres_build_is_green(dbt_postgres_build):
    _assert_green(dbt_postgres_build)


def test_every_mart_is_populated(duckdb_marts):
    for mart in MARTS:
        (count,) = duckdb_marts.execute(f"select count(*) from analytics_marts.{mart}").fetchone()
        assert count > 0, mart


def test_incremental_rerun_reproduces_the_full_build(dbt_duckdb_build, duckdb_marts):
    """The look-back re-run recomputes the last days with their context: identical rows, no duplicates."""
    full = dbt_duckdb_build.duckdb_path.parent / "full_build" / dbt_duckdb_build.duckdb_path.name
    duckdb_marts.execute(f"attach '{full}' as full_build (read_only)")
    try:
        for table in INCREMENTAL_MODELS:
            (only_full,) = duckdb_marts.execute(
                f"select count(*) from (select * from full_build.{table} except all select * from {table})").fetchone()
            (only_incremental,) = duckdb_marts.execute(
                f"select count(*) from (select * from {table} except all select * from full_build.{table})").fetchone()
            assert only_full == only_incremental == 0, table
    finally:
        duckdb_marts.execute("detach full_build")


def test_incremental_rerun_keeps_one_row_per_key(duckdb_marts):
    for model, key, schema in [("int_transactions_enriched", "transaction_id", "analytics_intermediate"),
                               ("fct_transaction_fraud_indicators", "transaction_id", "analytics_marts")]:
        rows, keys = duckdb_marts.execute(f"select count(*), count(distinct {key}) from {schema}.{model}").fetchone()
        (staged,) = duckdb_marts.execute("select count(*) from analytics_staging.stg_core_banking__transactions").fetchone()
        assert rows == keys == staged, model


@pytest.mark.postgres
def test_duckdb_and_postgres_agree_on_the_marts(dbt_duckdb_build, dbt_postgres_build, duckdb_marts):
    import psycopg2

    queries = {
        "alerts": "select entity_type, entity_id, fraud_score, reason_codes from {s}.fraud_alerts",
        "segments": "select customer_id, rfm_segment, customer_segment, credit_band from {s}.dim_customers",
        "revenue": "select cast(revenue_date as varchar), product, customer_segment, customer_country, channel, revenue_type, "
                   "cast(revenue_usd as varchar) from {s}.fct_daily_revenue",
        "churn": "select customer_id, churn_risk_score, churn_risk_band from {s}.fct_customer_engagement",
        "geo": "select country, cast(transaction_date as varchar), transaction_count, alert_count, sum_fraud_score "
               "from {s}.fraud_geo_risk_summary",
        "ctr": "select ctr_id, cast(total_usd as varchar), transactions, cast(filing_due_date as varchar) "
               "from {s}.rpt_ctr_candidates",
        "sar": "select case_id, alerts, cast(amount_usd as varchar), rule_reasons, countries, "
               "cast(filing_deadline as varchar) from {s}.rpt_sar_cases",
    }
    with psycopg2.connect(**dbt_postgres_build.pg_dsn, dbname=dbt_postgres_build.pg_dbname) as pg:
        with pg.cursor() as cur:
            for name, sql in queries.items():
                cur.execute(sql.format(s="analytics_marts"))
                pg_rows = {tuple(r) for r in cur.fetchall()}
                duck_rows = {tuple(r) for r in duckdb_marts.execute(sql.format(s="analytics_marts")).fetchall()}
                assert pg_rows and pg_rows == duck_rows, f"{name}: {len(pg_rows ^ duck_rows)} rows differ"


def test_an_emptied_incremental_table_is_rebuilt_like_a_first_run(dbt_duckdb_build, tmp_path):
    """An incremental table that exists but holds no row (a truncate, a failed first load) loads everything on the
    next run instead of staying empty: its high-water mark is null, and a `>= null` window selects nothing."""
    import duckdb

    from tests.fixtures.dbt import INCREMENTAL_SELECTOR

    full = dbt_duckdb_build.duckdb_path.parent / "full_build" / dbt_duckdb_build.duckdb_path.name
    emptied = tmp_path / full.name
    shutil.copy(full, emptied)
    with duckdb.connect(str(emptied)) as con:
        for table in INCREMENTAL_MODELS:
            con.execute(f"delete from {table}")
    env = {**dbt_duckdb_build.env, "DBT_DUCKDB_PATH": str(emptied)}
    run = run_dbt(["run", "--select", INCREMENTAL_SELECTOR], target="local", target_path=tmp_path / "target", env=env)
    assert run.returncode == 0 and not run.problems(), run.output[-4000:]
    with duckdb.connect(str(emptied), read_only=True) as con:
        con.execute(f"attach '{full}' as full_build (read_only)")
        for table in INCREMENTAL_MODELS:
            (rows,) = con.execute(f"select count(*) from {table}").fetchone()
            (differ,) = con.execute(
                f"select count(*) from ((select * from full_build.{table} except all select * from {table}) "
                f"union all (select * from {table} except all select * from full_build.{table}))").fetchone()
            assert rows > 0 and differ == 0, f"{table}: {rows} rows, {differ} differ from the full build"
