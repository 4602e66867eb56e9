"""dbt at realistic history (issue 16): banks of one daily volume with 90, 180 and 365 days of history.

Per history length: the bank is generated and written as typed raw Parquet (scripts.raw_lake; the Spark ingest is
not what is measured), the lake minus its last ingest day is built (`dbt seed`, `dbt run --full-refresh`: "full
build"), then the last day is added and `dbt run` runs incrementally ("incremental daily"). Each is reported in
wall time and in model time - from dbt's run_results.json, the span from the first node's start to the last
node's end - with dbt's own start-up (parse, connection, manifest) the difference, reported apart.
The ingest job's time for one day's batch is the Glue job's transforms on local Spark (glue_jobs.local_run,
ingest_all with ingest_dates = the last day): every table's landing files of that day, one SparkSession shared by
the history lengths (its start-up reported once, apart).
Goals: at 365 days the incremental run's model time <= 5 % of the full build's; the incremental run's model time
grows <= 20 % from 90 to 365 days (cost follows new data, not history).
Scale: env BENCH_HISTORY_DAYS (default "90,180,365") and BENCH_HISTORY_CUSTOMERS (default 8000: with 3.8
transactions a customer-day, ~29k transactions a day, >= 10 M over 365 days).
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bench.bench_dbt import hold_back_last_day, restore_last_day
from bench.run import Measurement
from scripts.raw_lake import write_raw_lake
from tests.fixtures.dbt import dbt_env, run_dbt

TXN_PER_DAY = 3.8


def _model_seconds(results: list[dict]) -> float:
    """The span of dbt's node execution: first node started to last node completed (run_results timing)."""
    starts, ends = [], []
    for r in results:
        for t in r.get("timing", []):
            if t.get("started_at") and t.get("completed_at"):
                starts.append(datetime.fromisoformat(t["started_at"].replace("Z", "+00:00")))
                ends.append(datetime.fromisoformat(t["completed_at"].replace("Z", "+00:00")))
    return (max(ends) - min(starts)).total_seconds() if starts else 0.0


def _timed(args, target, env) -> tuple[float, float, list[dict]]:
    run = run_dbt(args, target="local", target_path=target, env=env)
    if run.returncode != 0:
        raise RuntimeError(f"dbt {' '.join(args)} failed:\n{run.output[-2000:]}")
    return run.seconds, _model_seconds(run.results or []), run.results or []


def ingest_one_day(spark, landing: Path, day: str, work: Path) -> tuple[float, int]:
    """The Glue job's transforms over one ingest day of every table: (seconds, rows in)."""
    from glue_jobs.local_run import ingest_all

    started = time.perf_counter()
    manifests = ingest_all(spark, landing, work / "ingested", "bench-day", ingest_dates=[day])
    return time.perf_counter() - started, sum(m.rows_in for m in manifests.values())


def bench_history(days: int, customers: int, work: Path, spark=None, warm_up: bool = False) -> dict:
    from synthetic_bank import BankConfig, generate

    started = time.perf_counter()
    bank = generate(BankConfig(seed=11, customers=customers, days=days, txn_per_day=TXN_PER_DAY), work / "bank")
    counts = write_raw_lake(bank.landing, work / "lake")
    prepare = time.perf_counter() - started
    last = hold_back_last_day(work / "lake", work / "held")
    ingest_seconds, ingest_rows = 0.0, 0
    if spark is not None:
        day = last.split("=", 1)[1]
        if warm_up:  # the session's first ingest pays the JVM's class loading and JIT: not the history's doing
            ingest_one_day(spark, bank.landing, day, work / "warm_up")
        ingest_seconds, ingest_rows = ingest_one_day(spark, bank.landing, day, work)
    env = dbt_env(DBT_RAW_ROOT=str(work / "lake"), DBT_DUCKDB_PATH=str(work / "fintech_analytics.duckdb"))
    target = work / "target"
    _timed(["seed"], target, env)
    full_wall, full_models, _ = _timed(["run", "--full-refresh"], target, env)
    restore_last_day(work / "lake", work / "held", last)
    inc_wall, inc_models, inc_results = _timed(["run"], target, env)
    slowest = sorted(((r["execution_time"], r["unique_id"].split(".")[-1]) for r in inc_results), reverse=True)[:3]
    return {"days": days, "transactions": counts["transactions"], "prepare": prepare,
            "full_wall": full_wall, "full_models": full_models, "inc_wall": inc_wall, "inc_models": inc_models,
            "inc_sum": sum(r["execution_time"] for r in inc_results),
            "per_model": {r["unique_id"].split(".")[-1]: round(r["execution_time"], 2) for r in inc_results},
            "ingest_seconds": ingest_seconds, "ingest_rows": ingest_rows,
            "slowest": ", ".join(f"{name} {s:.1f} s" for s, name in slowest)}


def run() -> list[Measurement]:
    lengths = [int(d) for d in os.environ.get("BENCH_HISTORY_DAYS", "90,180,365").split(",") if d.strip()]
    customers = int(os.environ.get("BENCH_HISTORY_CUSTOMERS", "8000"))
    from glue_jobs.local_run import local_spark

    rows, out = [], []
    started = time.perf_counter()
    spark = local_spark(app_name="bench-history", shuffle_partitions=8, driver_memory="4g")
    spark_start = time.perf_counter() - started
    try:
        for days in lengths:
            with tempfile.TemporaryDirectory(prefix=f"bench_history_{days}_") as tmp:
                rows.append(bench_history(days, customers, Path(tmp), spark, warm_up=not rows))
    finally:
        spark.stop()
    out.append(Measurement("local Spark session start (once)", round(spark_start, 1), "s"))
    for r in rows:
        days = r["days"]
        label = f"{days} d ({r['transactions']:,} txns)"
        out += [
            Measurement(f"{label} data prep", round(r["prepare"], 1), "s"),
            Measurement(f"{label} ingest job, one day's batch", round(r["ingest_seconds"], 1), "s",
                        detail=f"{r['ingest_rows']:,} rows in, every table, Glue transforms on local Spark (warm JVM)"),
            Measurement(f"{label} full build: wall / models", round(r["full_wall"], 1), "s",
                        detail=f"models {r['full_models']:.1f} s, dbt start-up {r['full_wall'] - r['full_models']:.1f} s"),
            Measurement(f"{label} incremental day: wall / models", round(r["inc_wall"], 1), "s",
                        detail=f"models {r['inc_models']:.1f} s, dbt start-up {r['inc_wall'] - r['inc_models']:.1f} s; "
                               f"sum of model times {r['inc_sum']:.1f} s; slowest {r['slowest']}"),
        ]
        share = 100 * r["inc_models"] / r["full_models"] if r["full_models"] else 0
        out.append(Measurement(f"{label} incremental / full (model time)", round(share, 1), "%",
                               goal="<= 5 % at 365 d" if days == 365 else "",
                               met=(share <= 5) if days == 365 else None))
    first, longest = rows[0], rows[-1]
    if len(rows) > 1 and first["inc_models"]:
        growth = 100 * (longest["inc_models"] / first["inc_models"] - 1)
        # the models whose daily time grew most with history: where to look next
        grew = sorted(((longest["per_model"].get(m, 0) - t, m) for m, t in first["per_model"].items()), reverse=True)[:4]
        out.append(Measurement(f"incremental model time growth {first['days']} -> {longest['days']} d",
                               round(growth, 1), "%", goal="<= 20 %", met=growth <= 20,
                               detail="grew most: " + ", ".join(f"{m} +{d:.2f} s" for d, m in grew)))
    return out
