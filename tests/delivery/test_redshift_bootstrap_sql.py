"""The bootstrap's generated SQL: derived from the dbt project and the contracts, idempotent, least privilege."""

from __future__ import annotations

import re

import pytest
import sqlglot
from sqlglot import exp

from glue_jobs.contracts import load_all
from infra.constructs import redshift_bootstrap as rb

DBT_ROLE_NAME = "Prod-Orchestration-DbtRunnerRole1A2B3C"
GLUE_DATABASE = "fintech_prod_raw"
SPECTRUM_ROLE = "arn:aws:iam::333333333333:role/Prod-Storage-SpectrumRole"
LOGIN_SECRET = "arn:aws:secretsmanager:eu-west-1:333333333333:secret:QuickSightLogin-AbCdEf"


@pytest.fixture(scope="module")
def schemas():
    return rb.dbt_schemas(target_name="prod")


@pytest.fixture(scope="module")
def views():
    return rb.staging_views()


@pytest.fixture(scope="module")
def statements(schemas, views):
    return rb.bootstrap_statements(schemas=schemas, external_schema=rb.source_schema(), glue_database=GLUE_DATABASE,
                                   spectrum_role_arn=SPECTRUM_ROLE, dbt_role_name=DBT_ROLE_NAME, views=views,
                                   quicksight_user="quicksight", quicksight_secret_arn=LOGIN_SECRET)


def by_name(statements):
    return {s.name: s for s in statements}


def test_schemas_follow_dbt_default_schema_naming(schemas):
    # dbt_project.yml: staging/intermediate/marts models, seeds (reference), snapshots; target schema "analytics".
    assert schemas.target == "analytics"
    assert schemas.of("staging") == "analytics_staging"
    assert schemas.of("marts") == "analytics_marts"
    assert set(schemas.all) >= {"analytics", "analytics_intermediate", "analytics_reference", "analytics_snapshots"}
    with pytest.raises(rb.BootstrapPlanError, match="no '\\+schema' for 'gold'"):
        schemas.of("gold")


def test_a_generate_schema_name_override_stops_the_plan(tmp_path):
    import shutil

    project = tmp_path / "dbt"
    shutil.copytree(rb.DBT_PROJECT_DIR / "macros", project / "macros")
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(rb.DBT_PROJECT_DIR / name, project / name)
    (project / "macros" / "schemas.sql").write_text("{% macro generate_schema_name(custom, node) %}x{% endmacro %}")
    with pytest.raises(rb.BootstrapPlanError, match="generate_schema_name"):
        rb.dbt_schemas(project, target_name="prod")


def test_every_dbt_schema_and_the_masked_schema_are_created(statements, schemas):
    created = [m.group(1) for s in statements if (m := re.fullmatch(r"create schema if not exists (\w+)", s.sql))]
    assert created == [*schemas.all, "analytics_staging_masked"]


def test_external_schema_is_the_dbt_source_schema_over_the_glue_database(statements):
    sql = by_name(statements)["create external schema raw"].sql
    assert sql == (f"create external schema if not exists raw from data catalog database '{GLUE_DATABASE}' "
                   f"iam_role '{SPECTRUM_ROLE}'")


def test_every_statement_is_rerun_safe(statements):
    for s in statements:
        sql = s.sql.lower()
        safe = (
            bool(s.skip_if)
            or " if not exists " in sql
            or sql.startswith(("grant usage", "grant select", "alter default privileges", "drop view if exists",
                               "alter user", "revoke "))
            # a masked view is created right after its DROP ... IF EXISTS
            or (sql.startswith("create view") and statements[statements.index(s) - 1].sql.startswith("drop view if exists"))
        )
        assert safe, f"{s.name!r} would fail or duplicate on a re-run: {s.sql}"
    assert len({s.name for s in statements}) == len(statements), "statement names must be unique (errors name them)"


def test_no_login_may_create_tables_in_public_and_only_dbt_creates_elsewhere(statements):
    named = by_name(statements)
    assert named["revoke create on public"].sql == "revoke create on schema public from public"
    creators = [s.sql for s in statements if "create on schema" in s.sql and s.sql.startswith("grant")]
    assert creators and all(sql.endswith(f"to role {rb.DBT_ROLE}") for sql in creators)


def test_roles_users_and_grants_without_if_not_exists_have_an_existence_check(statements):
    named = by_name(statements)
    for role in (rb.DBT_ROLE, rb.QUICKSIGHT_ROLE, rb.ANALYST_ROLE):
        assert named[f"create role {role}"].skip_if == f"select 1 from svv_roles where role_name = '{role}'"
    user = named["create dbt user"]
    assert user.sql == f'create user "IAMR:{DBT_ROLE_NAME}" password disable'
    assert f"lower('IAMR:{DBT_ROLE_NAME}')" in user.skip_if
    assert named[f"grant role {rb.DBT_ROLE} to dbt user"].sql == f'grant role dbt_runner to "IAMR:{DBT_ROLE_NAME}"'


def test_quicksight_user_holds_only_the_reader_role_and_its_password_only_comes_from_the_secret(statements):
    named = by_name(statements)
    created, password, granted = (named["create quicksight user"], named["set quicksight user password"],
                                  named[f"grant role {rb.QUICKSIGHT_ROLE} to quicksight user"])
    assert (created.sql, created.skip_if) == ("create user quicksight password disable",
                                              "select 1 from pg_user where usename = 'quicksight'")
    # the one statement carrying the password: the Lambda puts the hash where the token is, from this secret
    assert (password.sql, password.password_secret) == (f"alter user quicksight password {rb.PASSWORD_MD5}", LOGIN_SECRET)
    assert [s.name for s in statements if s.password_secret] == [password.name]
    assert granted.sql == "grant role quicksight_reader to quicksight" and "user_name = 'quicksight'" in granted.skip_if
    order = [s.name for s in statements]
    assert order.index("create role quicksight_reader") < order.index(created.name) < order.index(password.name) \
        < order.index(granted.name)
    # nothing else is ever granted to the user itself: its rights are the role's (marts only, below)
    assert [s.name for s in statements if re.search(r"\bto quicksight\b", s.sql)] == [granted.name]


def test_no_quicksight_user_without_its_login_secret(schemas, views):
    common = dict(schemas=schemas, external_schema="raw", glue_database=GLUE_DATABASE, spectrum_role_arn=SPECTRUM_ROLE,
                  dbt_role_name=DBT_ROLE_NAME, views=views)
    assert not [s for s in rb.bootstrap_statements(**common) if "quicksight user" in s.name]
    with pytest.raises(rb.BootstrapPlanError, match="needs the ARN of its login secret"):
        rb.bootstrap_statements(**common, quicksight_user="quicksight")


def _schemas_granted(statements, role):
    found = set()
    for s in statements:
        if s.sql.endswith(f"to role {role}"):
            found.update(re.findall(r"(?:on|in) schema (\w+)", s.sql))
    return found


def test_quicksight_reads_marts_only_and_analysts_marts_and_masked_staging(statements, schemas):
    assert _schemas_granted(statements, rb.QUICKSIGHT_ROLE) == {"analytics_marts"}
    assert _schemas_granted(statements, rb.ANALYST_ROLE) == {"analytics_marts", "analytics_staging_masked"}
    for role in (rb.QUICKSIGHT_ROLE, rb.ANALYST_ROLE):
        role_sql = [s.sql for s in statements if s.sql.endswith(f"to role {role}")]
        assert all(" create" not in sql.split(" to role")[0] for sql in role_sql), "readers never get CREATE"
        # tables dbt creates after the bootstrap stay readable: default privileges for the dbt user on marts
        assert (f'alter default privileges for user "IAMR:{DBT_ROLE_NAME}" in schema analytics_marts '
                f"grant select on tables to role {role}") in role_sql
    assert _schemas_granted(statements, rb.DBT_ROLE) == {"raw", *schemas.all}


def _view_columns(sql: str) -> dict[str, exp.Expression]:
    tree = sqlglot.parse_one(sql.replace("\nwith no schema binding", ""), read="redshift")
    select = tree.expression
    return {e.alias_or_name: (e.this if isinstance(e, exp.Alias) else e) for e in select.expressions}


def test_masked_views_mask_every_pii_column_by_its_contract_class(statements, views):
    contracts = load_all()
    named = by_name(statements)
    assert {v.model for v in views} == {f"stg_{c.source_system}__{c.name}" for c in contracts.values()}
    for view in views:
        contract = contracts[view.model.split("__", 1)[1]]
        columns = _view_columns(named[f"create masked view {view.model}"].sql)
        sql = named[f"create masked view {view.model}"].sql
        assert sql.endswith(f"from analytics_staging.{view.model}\nwith no schema binding")
        referenced = {c.name for c in sqlglot.parse_one(sql.replace("\nwith no schema binding", ""),
                                                        read="redshift").find_all(exp.Column)}
        exposed = [c for c in contract.columns if c.pii != "direct"]
        # stage_source() keeps the contract's column order (renamed where the model says so)
        assert len(columns) == len(exposed) + len(rb.STAGING_METADATA_COLUMNS)
        for column, out in zip(exposed, columns, strict=False):
            expression = columns[out].sql(dialect="redshift").lower()
            if column.pii == "identifier":
                assert expression.startswith("sha2("), (view.model, out, expression)
            elif column.pii == "quasi":
                assert expression != out, f"{view.model}.{out} (quasi) is not masked"
            else:
                assert expression == out
        for column in contract.columns:
            if column.pii == "direct":
                assert column.name not in referenced, f"{view.model} exposes direct PII {column.name}"
        assert list(columns)[-4:] == list(rb.STAGING_METADATA_COLUMNS)


def test_masked_view_uses_the_staging_models_renamed_columns(views):
    login = next(v for v in views if v.model == "stg_auth__login_activity")
    names = [c for c, _ in login.columns]
    assert "login_at" in names and "login_timestamp" not in names  # renames={'login_timestamp': 'login_at'}
    assert dict(login.columns)["ip_address"] == "cast(null as varchar)"
    assert dict(login.columns)["latitude"] == "round(cast(latitude as decimal(18, 6)), 1)"
    customers = next(v for v in views if v.model == "stg_core_banking__customers")
    assert dict(customers.columns)["date_of_birth"] == "cast(date_trunc('year', date_of_birth) as date)"
    assert not {"first_name", "last_name", "email", "phone", "address"} & {c for c, _ in customers.columns}


def test_staging_metadata_columns_match_the_stage_source_macro():
    macro = (rb.DBT_PROJECT_DIR / "macros" / "staging.sql").read_text()
    for column in rb.STAGING_METADATA_COLUMNS:
        assert re.search(rf"\bas {column}\b", macro), f"stage_source() no longer writes {column}"


def test_masked_views_are_granted_after_they_are_created(statements):
    names = [s.name for s in statements]
    last_view = max(i for i, n in enumerate(names) if n.startswith("create masked view"))
    assert names.index("grant select analytics_staging_masked to analyst") > last_view
    assert names.index("create role dbt_runner") < names.index("grant role dbt_runner to dbt user")


def test_a_staging_model_missing_from_staging_models_stops_the_plan(tmp_path):
    import shutil

    project = tmp_path / "dbt"
    shutil.copytree(rb.DBT_PROJECT_DIR / "macros", project / "macros")
    shutil.copytree(rb.DBT_PROJECT_DIR / "models" / "staging", project / "models" / "staging")
    (project / "models" / "staging" / "auth" / "stg_auth__devices.sql").write_text("select 1")
    with pytest.raises(rb.BootstrapPlanError, match="stg_auth__devices.sql is not in staging_models"):
        rb.staging_views(project)
    assert {v.model for v in rb.staging_views()} == set(rb.staging_spec())
