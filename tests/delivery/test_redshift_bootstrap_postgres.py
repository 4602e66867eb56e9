"""The masked staging views' SQL run against the real dbt staging models, on the session's PostgreSQL dbt build
(tests/fixtures/dbt.py; shared with tests/dbt, so `make test` builds it once).

Redshift is PostgreSQL-derived; two Redshift-only bits are bridged for the check: `sha2(text, bits)` becomes a
PostgreSQL function in the scratch schema, and `with no schema binding` (late binding) is dropped. Everything runs
in one transaction that is rolled back.
"""

from __future__ import annotations

import re

import pytest

from infra.constructs import redshift_bootstrap as rb


@pytest.fixture
def pg_cursor(dbt_postgres_build):
    import psycopg2

    con = psycopg2.connect(**dbt_postgres_build.pg_dsn, dbname=dbt_postgres_build.pg_dbname)
    try:
        yield con.cursor()
    finally:
        con.rollback()
        con.close()


def test_masked_views_select_every_staging_column_and_mask_pii(pg_cursor):
    schemas = rb.dbt_schemas(target_name="prod")
    staging, masked = schemas.of("staging"), schemas.of("staging") + rb.MASKED_SUFFIX
    plan = rb.bootstrap_statements(schemas=schemas, external_schema="raw", glue_database="unused",
                                   spectrum_role_arn="unused", dbt_role_name="unused", views=rb.staging_views())
    cur = pg_cursor
    cur.execute(f"create schema {masked}")
    cur.execute(f"create function {masked}.sha2(text, integer) returns text language sql immutable as "
                "$$ select encode(sha256(convert_to($1, 'UTF8')), 'hex') $$")
    cur.execute(f"set local search_path = {masked}, public")
    views = {v.model: v for v in rb.staging_views()}
    for statement in plan:
        if statement.name.startswith("create masked view"):
            cur.execute(statement.sql.replace("\nwith no schema binding", ""))
    for model, view in views.items():
        cur.execute("select column_name from information_schema.columns where table_schema = %s and table_name = %s",
                    (staging, model))
        staging_columns = {r[0] for r in cur.fetchall()}
        assert staging_columns, f"dbt built no {staging}.{model}"
        masked_columns = [c for c, _ in view.columns]
        # every column of the dbt staging model, and only those (renames and metadata derived correctly)
        assert set(masked_columns) == staging_columns, (model, set(masked_columns) ^ staging_columns)
        cur.execute(f"select * from {masked}.{model} limit 200")
        rows = cur.fetchall()
        assert rows, f"{masked}.{model} returned no rows"
        names = [d.name for d in cur.description]
        assert names == masked_columns
        for column, expression in view.columns:
            values = [r[names.index(column)] for r in rows if r[names.index(column)] is not None]
            if expression.startswith("sha2("):
                assert values and all(re.fullmatch(r"[0-9a-f]{64}", v) for v in values), (model, column)
            elif expression == "cast(null as varchar)":
                assert values == [], (model, column)
