"""dbt on DuckDB at 1 M and 10 M transactions: full build, incremental daily build, and the same compiled SQL
run bare in DuckDB.

Per scale: the synthetic bank is generated (synthetic_bank) and its landing CSVs are written as typed raw
Parquet with DuckDB (scripts.raw_lake: contract types, one batch per day; this bench measures dbt, not the Glue job). Then
  1. the lake minus its last ingest day is built: `dbt seed`, then `dbt run --full-refresh` -> "full build"
  2. every model's compiled SQL from step 1 is executed directly in a copy of that DuckDB file, in dependency
     order, as `create or replace table|view ... as <compiled sql>`                        -> "bare SQL"
  3. the last ingest day is added and `dbt run` runs incrementally                        -> "incremental daily"
(The full build covers all days but one, which keeps the 10 M run affordable on a 2-core machine.)
Goals (issue 4): dbt <= 2.5x bare SQL; incremental daily <= 5 % of a full refresh at 10 M.
Scales via env BENCH_DBT_SCALES (e.g. "1m" or "1m,10m"; default both).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from bench.run import Measurement
from glue_jobs.contracts import load_all
from scripts.raw_lake import write_raw_lake
from tests.fixtures.dbt import dbt_env, run_dbt

# customers x days x txn_per_day ~= the transaction count (the generator's mean is ~0.95 of the product)
SCALES = {
    "1m": dict(customers=5000, days=60, txn_per_day=3.5),
    "10m": dict(customers=20000, days=60, txn_per_day=8.7),
}


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed_dbt(args, target_path, env) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one dbt command. CPU seconds (dbt and DuckDB's threads, user + system) barely
    move when other jobs share the machine, so the incremental/full ratio is also reported on them."""
    cpu_before = _children_cpu_seconds()
    run = run_dbt(args, target="local", target_path=target_path, env=env)
    if run.returncode != 0:
        raise RuntimeError(f"dbt {' '.join(args)} failed:\n{run.output[-3000:]}")
    return run.seconds, _children_cpu_seconds() - cpu_before


def run_bare_sql(target_path: Path, dbt_db: Path, work: Path) -> float:
    """Execute every model's compiled SQL directly in a copy of the database (seeds kept), in DAG order."""
    import duckdb

    manifest = json.loads((target_path / "manifest.json").read_text())
    models = {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    order, seen = [], set()

    def visit(uid):
        if uid in seen or uid not in models:
            return
        seen.add(uid)
        for parent in models[uid]["depends_on"]["nodes"]:
            visit(parent)
        order.append(uid)

    for uid in sorted(models):
        visit(uid)
    bare_dir = work / "bare"
    bare_dir.mkdir(exist_ok=True)
    bare_db = bare_dir / dbt_db.name  # same file stem = same catalog name as the compiled relation names
    shutil.copy(dbt_db, bare_db)
    con = duckdb.connect(str(bare_db))
    con.execute("set TimeZone = 'UTC'")
    started = time.perf_counter()
    for uid in order:
        node = models[uid]
        kind = "view" if node["config"]["materialized"] == "view" else "table"
        con.execute(f"create or replace {kind} {node['relation_name']} as {node['compiled_code']}")
    seconds = time.perf_counter() - started
    con.close()
    return seconds


def hold_back_last_day(lake: Path, held: Path) -> str:
    """Move the last ingest day of every raw table out of the lake (to `held`); -> that day's folder name."""
    last = sorted(p.name for p in (lake / "raw" / "transactions").iterdir())[-1]
    for table in load_all():
        src = lake / "raw" / table / last
        if src.exists():
            (held / table).mkdir(parents=True, exist_ok=True)
            shutil.move(str(src), str(held / table / last))
    return last


def restore_last_day(lake: Path, held: Path, last: str) -> None:
    """Put the held-back day back: the next `dbt run` ingests one new day."""
    for table in load_all():
        src = held / table / last
        if src.exists():
            shutil.move(str(src), str(lake / "raw" / table / last))


def bench_scale(name: str, config: dict, work: Path) -> list[Measurement]:
    from synthetic_bank import BankConfig, generate

    started = time.perf_counter()
    bank = generate(BankConfig(seed=11, **config), work / "bank")
    lake = work / "lake"
    counts = write_raw_lake(bank.landing, lake)
    prepare = time.perf_counter() - started
    held = work / "held"
    last = hold_back_last_day(lake, held)

    db = work / "fintech_analytics.duckdb"
    env = dbt_env(DBT_RAW_ROOT=str(lake), DBT_DUCKDB_PATH=str(db))
    target = work / "target"
    _timed_dbt(["seed"], target, env)
    full, full_cpu = _timed_dbt(["run", "--full-refresh"], target, env)
    bare = run_bare_sql(target, db, work)  # same data, same compiled SQL as the full build just measured
    restore_last_day(lake, held, last)
    incremental, incremental_cpu = _timed_dbt(["run"], target, env)
    txns = counts["transactions"]
    detail = f"{txns:,} transactions, {counts['accounts']:,} account-days, {counts['login_activity']:,} logins"
    return [
        Measurement(f"{name} data prep (generate + raw parquet)", round(prepare, 1), "s", detail=detail),
        Measurement(f"{name} dbt full build (run --full-refresh)", round(full, 1), "s", detail=detail),
        Measurement(f"{name} dbt incremental daily (run)", round(incremental, 1), "s", detail="one new ingest day"),
        Measurement(f"{name} dbt CPU seconds full / incremental", round(full_cpu, 1), "s",
                    detail=f"incremental {incremental_cpu:.1f} s CPU"),
        Measurement(f"{name} bare compiled SQL in DuckDB", round(bare, 1), "s"),
        Measurement(f"{name} dbt / bare SQL", round(full / bare, 2), "x", goal="<= 2.5", met=full / bare <= 2.5),
        Measurement(f"{name} incremental / full refresh", round(100 * incremental / full, 1), "%",
                    goal="<= 5 % at 10m" if name == "10m" else "", met=(incremental / full <= 0.05) if name == "10m" else None),
        Measurement(f"{name} incremental / full refresh (CPU seconds)", round(100 * incremental_cpu / full_cpu, 1), "%"),
    ]


def run() -> list[Measurement]:
    scales = [s.strip() for s in os.environ.get("BENCH_DBT_SCALES", "1m,10m").split(",") if s.strip()]
    unknown = set(scales) - set(SCALES)
    if unknown:
        raise SystemExit(f"BENCH_DBT_SCALES has unknown scales {sorted(unknown)}; use {', '.join(SCALES)}")
    results: list[Measurement] = []
    for name in scales:
        with tempfile.TemporaryDirectory(prefix=f"bench_dbt_{name}_") as tmp:
            results += bench_scale(name, SCALES[name], Path(tmp))
    return results


if __name__ == "__main__":
    for m in run():
        print(m)
