"""Day-by-day incremental runs reproduce a full build: the way the pipeline runs in production.

A small synthetic bank's landing zone is written as a raw lake with one ingest batch per day
(scripts.raw_lake), and some transactions of an earlier day arrive late, in the last day's batch. One DuckDB
database is built from the lake without its last two days, then `dbt run` adds each day in turn (the incremental
path: look-back window, literal high-water marks, pruning on _ingested_at, context rows before the window);
another is built once from the whole lake. Every table model must hold the same rows in both.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest

from scripts.raw_lake import write_raw_lake
from tests.fixtures.dbt import INCREMENTAL_MODELS, WINDOW_MODELS, dbt_env, run_dbt

LATE_ROWS = 25
LATE_BY_DAYS = 3  # within the default lookback_days (3) of the day before the one they arrive in


def _move_late_transactions(landing: Path, from_day: str, to_day: str) -> int:
    """Cut the last LATE_ROWS rows of `from_day`'s transactions file and append them to `to_day`'s."""
    source = next((landing / "transactions" / f"ingest_date={from_day}").glob("*.csv"))
    target = next((landing / "transactions" / f"ingest_date={to_day}").glob("*.csv"))
    with source.open(newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    kept, late = body[:-LATE_ROWS], body[-LATE_ROWS:]
    with source.open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([header, *kept])
    with target.open("a", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(late)
    return len(late)


def _dbt(args, work: Path, name: str, env: dict):
    run = run_dbt(args, target="local", target_path=work / f"target_{name}", env=env)
    assert run.returncode == 0 and not run.problems(), run.output[-4000:]
    return run


@pytest.fixture(scope="module")
def daily_builds(tmp_path_factory):
    from synthetic_bank import BankConfig, generate

    work = tmp_path_factory.mktemp("dbt_daily")
    bank = generate(BankConfig(seed=23, customers=300, days=21, txn_per_day=2.0), work / "bank")
    days = sorted(p.name.split("=", 1)[1] for p in (bank.landing / "transactions").iterdir())
    late = _move_late_transactions(bank.landing, days[-1 - LATE_BY_DAYS], days[-1])
    lake = work / "lake"
    write_raw_lake(bank.landing, lake)

    # the day-by-day lake starts without the last two ingest days
    daily_lake = work / "daily_lake"
    shutil.copytree(lake, daily_lake)
    for table_dir in (daily_lake / "raw").iterdir():
        for day in days[-2:]:
            shutil.rmtree(table_dir / f"ingest_date={day}", ignore_errors=True)

    daily_db, full_db = work / "daily" / "fintech_analytics.duckdb", work / "full" / "fintech_analytics.duckdb"
    daily_db.parent.mkdir()
    full_db.parent.mkdir()
    daily_env = dbt_env(DBT_RAW_ROOT=str(daily_lake), DBT_DUCKDB_PATH=str(daily_db))
    full_env = dbt_env(DBT_RAW_ROOT=str(lake), DBT_DUCKDB_PATH=str(full_db))
    _dbt(["seed"], work, "daily", daily_env)
    shutil.copy(daily_db, full_db)  # the same seeds (same file name: same catalog) for the full build
    first = _dbt(["run"], work, "daily", daily_env)
    increments = []
    for day in days[-2:]:
        for table_dir in (lake / "raw").iterdir():
            if (table_dir / f"ingest_date={day}").exists():
                shutil.copytree(table_dir / f"ingest_date={day}", daily_lake / "raw" / table_dir.name / f"ingest_date={day}")
        increments.append(_dbt(["run"], work, "daily", daily_env))
    _dbt(["run"], work, "full", full_env)
    return {"daily_db": daily_db, "full_db": full_db, "first": first, "increments": increments, "late": late,
            "daily_lake": daily_lake, "days": days}


def test_each_day_runs_the_incremental_path(daily_builds):
    """The days were added by delete+insert over a window that starts at a literal high-water mark, and the
    reads of the source were pruned to the recent batches (what makes a daily run cheap)."""
    work = daily_builds["daily_db"].parent.parent
    run_sql = {p.stem: p.read_text() for p in (work / "target_daily" / "run").rglob("*.sql")}
    for model in INCREMENTAL_MODELS:
        name = model.split(".")[1]
        assert "insert into" in run_sql[name], name
        assert ("delete from" in run_sql[name]) == (model not in WINDOW_MODELS), name  # those delete in a pre-hook
    run_log = (work / "target_daily" / "logs" / "dbt.log").read_text()
    for model in WINDOW_MODELS:
        table = model.split(".")[1]
        # the window replaced: rows from a literal date on, never the whole table
        assert re.search(rf'delete from "fintech_analytics"\."analytics_marts"\."{table}" where \w+ >= cast\(', run_log), table
    compiled = next((work / "target_daily" / "compiled").rglob("int_transactions_enriched.sql")).read_text()
    assert "select cast(cast(max(" not in compiled  # the mark is a literal, not a scalar subquery
    assert compiled.count("_ingested_at >= cast(") >= 2  # transactions and prior-day accounts read recent batches only


def test_daily_increments_reproduce_the_full_build(daily_builds):
    import duckdb

    con = duckdb.connect(str(daily_builds["daily_db"]), read_only=True)
    con.execute(f"attach '{daily_builds['full_db']}' as full_build (read_only)")
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = 'fintech_analytics' and table_type = 'BASE TABLE' "
        "and table_schema in ('analytics_intermediate', 'analytics_marts') order by 1, 2").fetchall()
    assert len(tables) >= 14
    mismatched = {}
    for schema, table in tables:
        # doubles summed in a different row order (a table rewritten in place vs built at once) may differ in
        # the last bits: compared to 9 decimals; everything else exactly
        columns = ", ".join(f"round({name}, 9)" if kind in ("DOUBLE", "FLOAT") else name
                            for name, kind, *_ in con.execute(f"describe {schema}.{table}").fetchall())
        (only_full,) = con.execute(f"select count(*) from (select {columns} from full_build.{schema}.{table} "
                                   f"except all select {columns} from {schema}.{table})").fetchone()
        (only_daily,) = con.execute(f"select count(*) from (select {columns} from {schema}.{table} "
                                    f"except all select {columns} from full_build.{schema}.{table})").fetchone()
        if only_full or only_daily:
            mismatched[f"{schema}.{table}"] = (only_full, only_daily)
    con.close()
    assert not mismatched, f"rows only in the full build / only in the day-by-day build: {mismatched}"


def test_late_transactions_reach_the_fraud_indicators(daily_builds):
    import duckdb

    con = duckdb.connect(str(daily_builds["daily_db"]), read_only=True)
    (late_scored,) = con.execute(
        "select count(*) from analytics_marts.fct_transaction_fraud_indicators f "
        "join analytics_staging.stg_core_banking__transactions s using (transaction_id) "
        "where s.ingest_date > cast(f.transaction_at as date) + 1").fetchone()
    con.close()
    assert late_scored == daily_builds["late"]


def test_a_row_later_than_the_look_back_fails_the_build_until_a_catch_up_run(daily_builds, tmp_path):
    """Beyond lookback_days a late row is outside every incremental window: the build must say so (a failing
    test, so the pipeline alerts and skips the dashboard refresh) and a catch-up run with a wider look-back must
    take it in."""
    import duckdb

    lake, db = tmp_path / "lake", tmp_path / "db" / "fintech_analytics.duckdb"
    shutil.copytree(daily_builds["daily_lake"], lake)
    db.parent.mkdir()
    shutil.copy(daily_builds["daily_db"], db)
    # one more batch, the day after the last, carrying a transaction that happened 9 days before it
    days = daily_builds["days"]
    batch = lake / "raw" / "transactions" / f"ingest_date={days[-1]}"
    new_batch = lake / "raw" / "transactions" / "ingest_date=2099-01-01"
    new_batch.mkdir()
    con = duckdb.connect()
    con.execute(f"""copy (select * exclude (ingest_date) replace (
                            'TXN99999999' as transaction_id,
                            transaction_date - interval 9 day as transaction_date,
                            _ingested_at + interval 1 day as _ingested_at)
                          from read_parquet('{batch}/*.parquet', hive_partitioning = true) limit 1)
                    to '{new_batch}/late.parquet' (format parquet)""")
    con.close()
    env = dbt_env(DBT_RAW_ROOT=str(lake), DBT_DUCKDB_PATH=str(db))
    _dbt(["run"], tmp_path, "late", env)
    check = ["test", "--select", "every_transaction_reaches_the_incremental_models"]
    failing = run_dbt(check, target="local", target_path=tmp_path / "target_late", env=env)
    assert failing.returncode != 0 and failing.statuses()["fail"] == 1, failing.output[-3000:]
    _dbt(["run", "--vars", "{lookback_days: 12}"], tmp_path, "late", env)
    _dbt(check, tmp_path, "late", env)
