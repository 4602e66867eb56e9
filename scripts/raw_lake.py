"""Write a landing zone (synthetic_bank output) as the typed raw Parquet lake the ingest job produces, with DuckDB.

For dbt benchmarks and tests that measure dbt, not the Glue job: every contract column typed per the contract
(scripts.load_postgres.pg_type), the ingest job's metadata columns as a clean batch has them, partitioned by
ingest_date. Each landing day is one batch ingested when the day has closed (`_ingested_at` = the next midnight),
so no row is ingested before its event - the guarantee the ingest job gives by quarantining future-dated rows,
and the one incremental dbt reads prune on (dbt/macros/staging.sql, staged_rows).
"""

from __future__ import annotations

from pathlib import Path

from glue_jobs.contracts import load_all
from scripts.load_postgres import pg_type


def write_raw_lake(landing: Path, lake: Path) -> dict[str, int]:
    """`<landing>/<table>/ingest_date=.../*.csv` -> `<lake>/raw/<table>/ingest_date=.../*.parquet`; rows per table."""
    import duckdb

    counts = {}
    (lake / "raw").mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    for table, contract in load_all().items():
        cols = [f'cast(nullif("{c.name}", \'null\') as {pg_type(c.type)}) as {c.name}' for c in contract.columns]
        # the ingest job's metadata columns (scripts.generate_dbt_sources.INGESTION_COLUMNS), as a clean batch has them
        cols += ["cast(null as varchar) as _dq_warnings", "cast(ingest_date as timestamp) + interval 1 day as _ingested_at",
                 "'batch-' || cast(ingest_date as varchar) as _batch_id", "filename as _source_file", "ingest_date"]
        source = (f"read_csv('{landing}/{table}/*/*.csv', all_varchar = true, header = true, "
                  f"hive_partitioning = true, filename = true)")
        con.execute(f"copy (select {', '.join(cols)} from {source}) to '{lake}/raw/{table}' "
                    f"(format parquet, partition_by (ingest_date), overwrite_or_ignore true)")
        counts[table] = con.execute(f"select count(*) from read_parquet('{lake}/raw/{table}/*/*.parquet')").fetchone()[0]
    con.close()
    return counts
