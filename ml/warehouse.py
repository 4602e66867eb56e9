"""Where the models read their frames: a `Reader` is `read(sql) -> pandas.DataFrame` over the warehouse dbt built.

- `duckdb_reader(path)`: the local warehouse (make demo, tests), read-only.
- `redshift_reader(workgroup, database, region)`: Redshift Serverless through redshift_connector with IAM - the
  driver calls redshift-serverless:GetCredentials for the caller's role (the retraining CodeBuild role, database
  user IAMR:<role name>, granted read on the features and marts schemas by the warehouse bootstrap); no password
  exists anywhere. NUMERIC columns arrive as floats (numeric_to_float), as DuckDB returns them.

The schemas are dbt's `<target schema>_<+schema>`: the target schema is `analytics` on every target
(dbt/profiles.yml), so the same SQL reads both.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

Reader = Callable[[str], pd.DataFrame]
SCHEMAS = {"features": "analytics_features", "marts": "analytics_marts"}


def duckdb_reader(path: Path) -> Reader:
    import duckdb

    def read(sql: str) -> pd.DataFrame:
        with duckdb.connect(str(path), read_only=True) as con:
            return con.execute(sql).df()

    return read


def redshift_reader(*, workgroup: str, database: str, region: str, connect=None) -> Reader:
    """`connect` defaults to redshift_connector.connect (tests pass a stand-in to see the arguments)."""
    if connect is None:
        import redshift_connector

        connect = redshift_connector.connect

    def read(sql: str) -> pd.DataFrame:
        con = connect(iam=True, is_serverless=True, serverless_work_group=workgroup, database=database,
                      region=region, ssl=True, sslmode="verify-full", numeric_to_float=True, timeout=60)
        try:
            cursor = con.cursor()
            cursor.execute(sql)
            columns = [d[0] for d in cursor.description]
            return pd.DataFrame(cursor.fetchall(), columns=columns)
        finally:
            con.close()

    return read
