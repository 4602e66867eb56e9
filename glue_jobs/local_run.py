"""Run the Glue ingest job's transforms on local Spark.

    python -m glue_jobs.local_run --source transactions --landing demo_output/bank/landing \
        --output demo_output/lake --batch-id demo-001 [--ingest-date 2026-10-31 ...] [--quarantine-threshold 0.05]

Reads `<landing>/<source>/ingest_date=*/...` and writes `<output>/raw/<source>/`, `<output>/quarantine/<source>/`
and `<output>/manifests/<source>/<batch-id>.json`. `--source all` ingests every table with one SparkSession.
Exit status 3 (after writing) when the quarantined share exceeds the threshold, 2 on bad arguments.
From Python, `ingest_all(spark, landing, output, batch_id)` does the same for every table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from glue_jobs.contracts import TABLES, load_contract
from glue_jobs.ingest.pipeline import (
    DEFAULT_QUARANTINE_THRESHOLD,
    Manifest,
    QuarantineThresholdExceeded,
    as_date_list,
    ingest_table,
)

EXIT_THRESHOLD = 3


def local_spark(app_name: str = "glue-ingest-local", shuffle_partitions: int = 4, driver_memory: str = "2g",
                compile_huge_methods: bool = True):
    """A local[2] SparkSession configured like the Glue job (UTC, dynamic overwrite), bound to loopback.

    ``compile_huge_methods=False`` suits tiny inputs (tests), where compiling the huge methods costs more CPU
    than it saves."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    from glue_jobs.ingest.pipeline import SESSION_CONF

    builder = (
        SparkSession.builder.master("local[2]")
        .appName(app_name)
        .config("spark.driver.memory", driver_memory)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.adaptive.enabled", "true")
        # Whole-stage codegen of the contract validation (dozens of columns) makes methods above HotSpot's
        # 8,000-byte JIT limit, which then run interpreted: compiling them anyway cut the ingest's CPU by ~25 % at
        # 1 M rows (measured, bench/bench_ingest.py). Local mode: the driver JVM runs the tasks.
        .config("spark.driver.extraJavaOptions",
                "-Duser.timezone=UTC" + (" -XX:-DontCompileHugeMethods" if compile_huge_methods else ""))
        .config("spark.executor.extraJavaOptions", "-Duser.timezone=UTC")
    )
    for k, v in SESSION_CONF.items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _uri(path: str | Path) -> str:
    return Path(path).resolve().as_uri()


def ingest_one(spark, table: str, landing: str | Path, output: str | Path, batch_id: str,
               ingest_dates: list[str] | None = None,
               quarantine_threshold: float = DEFAULT_QUARANTINE_THRESHOLD) -> Manifest:
    """Ingest one table from a local landing folder into `<output>/raw|quarantine|manifests/<table>`."""
    out = Path(output)
    return ingest_table(
        spark, load_contract(table),
        landing_uri=_uri(Path(landing) / table),
        raw_uri=_uri(out / "raw" / table),
        quarantine_uri=_uri(out / "quarantine" / table),
        manifest_uri=_uri(out / "manifests" / table),
        batch_id=batch_id, ingest_dates=ingest_dates, quarantine_threshold=quarantine_threshold,
    )


def ingest_all(spark, landing: str | Path, output: str | Path, batch_id: str,
               ingest_dates: list[str] | None = None, tables: tuple[str, ...] = TABLES,
               quarantine_threshold: float = DEFAULT_QUARANTINE_THRESHOLD) -> dict[str, Manifest]:
    """Every table of a landing folder with ONE SparkSession. A table over the threshold still gets written and
    the others still run; QuarantineThresholdExceeded is raised at the end naming the first such table."""
    manifests, exceeded = {}, []
    for table in tables:
        try:
            manifests[table] = ingest_one(spark, table, landing, output, batch_id, ingest_dates, quarantine_threshold)
        except QuarantineThresholdExceeded as e:
            manifests[table] = e.manifest
            exceeded.append(e)
    if exceeded:
        raise exceeded[0]
    return manifests


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m glue_jobs.local_run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", required=True, choices=[*TABLES, "all"], help="source table (or all)")
    p.add_argument("--landing", required=True, type=Path, help="landing folder holding <table>/ingest_date=*/")
    p.add_argument("--output", required=True, type=Path, help="lake folder: raw/, quarantine/, manifests/")
    p.add_argument("--batch-id", required=True, help="batch id (manifest name, _batch_id column)")
    p.add_argument("--ingest-date", action="append", help="only this ingest date (repeatable); default all")
    p.add_argument("--quarantine-threshold", type=float, default=DEFAULT_QUARANTINE_THRESHOLD,
                   help="fail (after writing) when more than this share of rows is quarantined (default 0.05)")
    a = p.parse_args(argv)
    try:
        dates = as_date_list(a.ingest_date)
        if not 0 <= a.quarantine_threshold <= 1:
            raise ValueError("--quarantine-threshold must be between 0 and 1, e.g. 0.05")
        if not a.landing.is_dir():
            raise ValueError(f"landing folder {a.landing} does not exist; generate one with python -m synthetic_bank")
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    from pyspark.sql import SparkSession

    reused = SparkSession.getActiveSession() is not None  # called in-process (tests): leave the session running
    spark = local_spark()
    tables = TABLES if a.source == "all" else (a.source,)
    try:
        manifests = ingest_all(spark, a.landing, a.output, a.batch_id, dates, tables, a.quarantine_threshold)
        code = 0
    except QuarantineThresholdExceeded as e:
        print(f"error: {e}", file=sys.stderr)
        manifests, code = {e.manifest.table: e.manifest}, EXIT_THRESHOLD
    for t, m in manifests.items():
        print(json.dumps({"table": t, "rows_in": m.rows_in, "rows_valid": m.rows_valid,
                          "rows_quarantined": m.rows_quarantined, "rows_warned": m.rows_warned,
                          "status": m.status}))
    if not reused:
        spark.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())


# ---------------------------------------------------------------------------------------------------------------
SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
SAMPLES_INGEST_DATE = "2024-03-01"
SAMPLES_BATCH_ID = "seed-samples"


def land_samples(landing: str | Path) -> list[str]:
    """Copy the seed's sample extracts into `<landing>/<table>/ingest_date=2024-03-01/`; returns their tables."""
    import shutil

    tables = []
    for table in TABLES:
        src = SAMPLES_DIR / f"{table}.csv"
        if src.exists():
            dest = Path(landing) / table / f"ingest_date={SAMPLES_INGEST_DATE}"
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest / f"{table}_seed_samples.csv")
            tables.append(table)
    return tables


def landing_dates(landing: str | Path) -> list[str]:
    """Every ingest date present in a local landing folder, across tables."""
    return sorted({p.name.split("=", 1)[1] for p in Path(landing).glob("*/ingest_date=*") if p.is_dir()})


def build_local_lake(spark, out: str | Path, config=None, batch_id: str = "synthetic-001",
                     with_samples: bool = True) -> dict[str, object]:
    """Generate a synthetic bank under `<out>/bank`, land the seed samples as their own batch, and ingest
    everything into `<out>/lake` with the given SparkSession. Used by `make demo` and the test fixtures.

    Returns paths (landing, lake, ground_truth) and the manifests per batch and table."""
    from synthetic_bank import BankConfig, generate

    out = Path(out)
    bank = generate(config or BankConfig(), out / "bank")
    generated_dates = landing_dates(bank.landing)
    lake = out / "lake"
    manifests = {batch_id: ingest_all(spark, bank.landing, lake, batch_id, generated_dates)}
    if with_samples:
        if SAMPLES_INGEST_DATE in generated_dates:
            raise ValueError(f"the generated window overlaps the samples' date {SAMPLES_INGEST_DATE}; move --end-date")
        tables = tuple(land_samples(bank.landing))
        manifests[SAMPLES_BATCH_ID] = ingest_all(spark, bank.landing, lake, SAMPLES_BATCH_ID, [SAMPLES_INGEST_DATE],
                                                 tables)
    return {"landing": bank.landing, "lake": lake, "ground_truth": bank.ground_truth, "bank_rows": bank.rows,
            "manifests": manifests}
