"""Load the raw Parquet lake into PostgreSQL schema `raw` for the dbt `ci` target.

    python -m scripts.load_postgres --lake demo_output/lake [--dbname analytics] [--create-database]

Reads <lake>/raw/<table>/ingest_date=YYYY-MM-DD/*.parquet for every contract table, creates raw.<table> with
column types mapped from the contract (plus the ingest job's metadata columns and ingest_date), and bulk-loads
it with COPY. Each table is replaced in one transaction, so a re-run never duplicates rows.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import psycopg2
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.dataset as ds
from psycopg2 import sql

from glue_jobs.contracts import INGEST_PARTITION, load_all
from scripts import local_postgres
from scripts.generate_dbt_sources import INGESTION_COLUMNS

_SIMPLE = {"string": "text", "integer": "integer", "bigint": "bigint", "double": "double precision",
           "boolean": "boolean", "date": "date", "timestamp": "timestamp"}


def pg_type(contract_type: str) -> str:
    if contract_type.startswith("decimal("):
        return contract_type.replace("decimal", "numeric")
    return _SIMPLE[contract_type]


def table_columns(table: str) -> list[tuple[str, str]]:
    contract = load_all()[table]
    return [(c.name, pg_type(c.type)) for c in contract.columns] + [(n, pg_type(t)) for n, t, _ in INGESTION_COLUMNS]


def read_raw(lake: Path, table: str, columns: list[str]) -> pa.Table:
    folder = lake / "raw" / table
    if not folder.is_dir():
        raise SystemExit(f"no raw data at {folder}: run the local ingest first (see README, 'Local pipeline')")
    partitioning = ds.partitioning(pa.schema([(INGEST_PARTITION, pa.date32())]), flavor="hive")
    dataset = ds.dataset(str(folder), format="parquet", partitioning=partitioning)
    present = set(dataset.schema.names)
    missing = [c for c in columns if c not in present]
    if missing:
        raise SystemExit(f"raw {table} lacks columns {missing}: re-run the ingest with the current contracts")
    data = dataset.to_table(columns=columns)
    # COPY parses naive timestamps; the lake stores UTC instants
    fixed = []
    for field, col in zip(data.schema, data.columns):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            col = col.cast(pa.timestamp(field.type.unit))
        fixed.append(col)
    return pa.table(fixed, names=data.column_names)


def load_table(conn, lake: Path, table: str, schema: str) -> int:
    columns = table_columns(table)
    names = [n for n, _ in columns]
    data = read_raw(lake, table, names)
    buffer = io.BytesIO()
    pa_csv.write_csv(data, buffer, pa_csv.WriteOptions(include_header=False, quoting_style="needed"))
    buffer.seek(0)
    target = sql.Identifier(schema, table)
    with conn.cursor() as cur:
        cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
        cur.execute(sql.SQL("drop table if exists {}").format(target))
        cur.execute(sql.SQL("create table {} ({})").format(
            target, sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in columns)))
        cur.copy_expert(
            sql.SQL("copy {} ({}) from stdin with (format csv, null '')").format(
                target, sql.SQL(", ").join(map(sql.Identifier, names))).as_string(conn),
            buffer,
        )
    conn.commit()
    return data.num_rows


def create_database(dsn: dict, dbname: str) -> None:
    admin = psycopg2.connect(**{**dsn, "dbname": "postgres"})
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("select 1 from pg_database where datname = %s", (dbname,))
        if cur.fetchone() is None:
            cur.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
    admin.close()


def drop_database(dsn: dict, dbname: str) -> None:
    admin = psycopg2.connect(**{**dsn, "dbname": "postgres"})
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname)))
    admin.close()


def load_lake(lake: Path, *, port: int, host: str = "127.0.0.1", user: str = "postgres",
              dbname: str = "analytics", schema: str = "raw", create: bool = False) -> dict[str, int]:
    dsn = {"host": host, "port": port, "user": user}
    try:
        if create:
            create_database(dsn, dbname)
        conn = psycopg2.connect(**dsn, dbname=dbname)
    except psycopg2.OperationalError as exc:
        raise SystemExit(f"cannot reach PostgreSQL at {host}:{port} ({exc.args[0].strip()}); start it: make postgres") from exc
    try:
        return {table: load_table(conn, lake, table, schema) for table in load_all()}
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", type=Path, required=True, help="lake root holding raw/<table>/ingest_date=...")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None,
                        help="default: DBT_PG_PORT, else this checkout's server (make postgres)")
    parser.add_argument("--user", default="postgres")
    parser.add_argument("--dbname", default="analytics")
    parser.add_argument("--schema", default="raw")
    parser.add_argument("--create-database", action="store_true", help="create --dbname if it does not exist")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    port = args.port or local_postgres.default_port()
    counts = load_lake(args.lake, host=args.host, port=port, user=args.user, dbname=args.dbname,
                       schema=args.schema, create=args.create_database)
    for table, rows in counts.items():
        print(f"{args.schema}.{table}: {rows} rows")
    print(f"loaded in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
