"""`dbt compile --target prod` works offline, and every compiled model is SQL Redshift accepts."""

import json

import pytest
import sqlglot
import yaml
from sqlglot import exp

from tests.fixtures.dbt import DBT_DIR, INCREMENTAL_MODELS, dbt_env, run_dbt

# Functions that exist on DuckDB/PostgreSQL but not on Redshift (or only on its leader node).
NOT_ON_REDSHIFT = {"GENERATE_SERIES", "EPOCH", "STRING_AGG", "ARRAY_AGG", "LIST", "TRY_CAST", "REGEXP_MATCHES",
                   "DATE_DIFF", "DATE_ADD", "STRFTIME", "STRPTIME", "UNNEST", "CONCAT_WS", "ENCODE", "CONVERT_TO"}


def redshift_violations(sql: str) -> list[str]:
    """Constructs Redshift lacks, found in the parsed SQL (empty list = acceptable)."""
    problems = []
    for statement in sqlglot.parse(sql, read="redshift"):
        if statement is None:
            continue
        for node in statement.walk():
            if isinstance(node, exp.Filter):
                problems.append("aggregate FILTER clause")
            elif isinstance(node, exp.WindowSpec) and (node.args.get("kind") or "").upper() == "RANGE":
                problems.append("RANGE window frame")
            elif isinstance(node, exp.Create) and (node.args.get("kind") or "").upper() == "INDEX":
                problems.append("CREATE INDEX")
            elif isinstance(node, exp.TryCast):
                problems.append("TRY_CAST")
            elif isinstance(node, (exp.GenerateSeries, exp.ExplodingGenerateSeries)):
                problems.append("function GENERATE_SERIES")  # leader-node only on Redshift
            elif isinstance(node, exp.Func):
                name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).upper()
                if name in NOT_ON_REDSHIFT:
                    problems.append(f"function {name}")
    return problems


@pytest.fixture(scope="module")
def redshift_compiled(tmp_path_factory):
    target_path = tmp_path_factory.mktemp("dbt_redshift") / "target"
    env = dbt_env(REDSHIFT_HOST="offline-compile.invalid")
    run = run_dbt(["compile", "--no-populate-cache", "--vars", "{offline_compile: true}"],
                  target="prod", target_path=target_path, env=env)
    assert run.returncode == 0, run.output[-4000:]
    return target_path


def test_prod_compiles_offline_and_every_model_parses_as_redshift(redshift_compiled):
    manifest = json.loads((redshift_compiled / "manifest.json").read_text())
    models = [n for n in manifest["nodes"].values() if n["resource_type"] in ("model", "snapshot")]
    assert len(models) >= 20
    checked = 0
    for node in models:
        sql = node.get("compiled_code")
        assert sql, f"{node['unique_id']} did not compile"
        assert not redshift_violations(sql), (node["unique_id"], redshift_violations(sql))
        checked += 1
    incremental = [n for n in models if n["config"]["materialized"] == "incremental"]
    # offline compile renders the incremental branch (look-back filter on the existing table)
    assert len(incremental) == len(INCREMENTAL_MODELS) and all("max(" in n["compiled_code"] for n in incremental)
    assert all(n["config"].get("bind") is False for n in models if n["name"].startswith("stg_"))
    assert checked == len(models)


LIVE_MARK = "2026-10-30"


@pytest.fixture(scope="module")
def redshift_live_compiled(tmp_path_factory):
    """The prod SQL a daily run sends: the high-water marks rendered as date literals, as a live run inlines them."""
    target_path = tmp_path_factory.mktemp("dbt_redshift_live") / "target"
    run = run_dbt(["compile", "--no-populate-cache", "--vars",
                   f"{{offline_compile: true, offline_high_water_mark: '{LIVE_MARK}'}}"],
                  target="prod", target_path=target_path, env=dbt_env(REDSHIFT_HOST="offline-compile.invalid"))
    assert run.returncode == 0, run.output[-4000:]
    return target_path


def test_the_live_daily_sql_parses_as_redshift_and_bounds_each_read_by_a_literal(redshift_live_compiled):
    manifest = json.loads((redshift_live_compiled / "manifest.json").read_text())
    incremental = {n["name"]: n["compiled_code"] for n in manifest["nodes"].values()
                   if n["resource_type"] == "model" and n["config"]["materialized"] == "incremental"}
    assert len(incremental) == len(INCREMENTAL_MODELS)
    for name, sql in incremental.items():
        assert not redshift_violations(sql), (name, redshift_violations(sql))
        # the mark minus lookback_days (3), as a literal: no scalar subquery on the model's own table left
        assert "cast('2026-10-27' as date)" in sql, name
        assert "dateadd(day, -3, cast(max(" not in sql, name


@pytest.mark.parametrize("sql, problem", [
    ("select count(*) filter (where x > 1) from t", "aggregate FILTER clause"),
    ("select sum(x) over (order by d range between interval '1 day' preceding and current row) from t",
     "RANGE window frame"),
    ("select * from generate_series(1, 3)", "function GENERATE_SERIES"),
    ("select try_cast(x as int) from t", "TRY_CAST"),
])
def test_the_checker_rejects_constructs_redshift_lacks(sql, problem):
    assert problem in redshift_violations(sql)


def test_the_checker_accepts_portable_sql():
    assert redshift_violations(
        "select lag(x, 2) over (partition by c order by t rows between unbounded preceding and current row), "
        "datediff(second, a, b), sha2(x, 256) from t") == []


def test_hash_identifiers_pseudonymises_every_identifier_column(tmp_path):
    from glue_jobs.contracts import load_all

    target_path = tmp_path / "target"
    run = run_dbt(["compile", "--no-populate-cache", "--select", "staging", "--vars",
                   "{offline_compile: true, hash_identifiers: true}"],
                  target="prod", target_path=target_path, env=dbt_env(DBT_PII_SALT="test-salt"))
    assert run.returncode == 0, run.output[-3000:]
    nodes = json.loads((target_path / "manifest.json").read_text())["nodes"].values()
    compiled = {n["name"]: n.get("compiled_code") for n in nodes if n["name"].startswith("stg_")}
    for table, contract in load_all().items():
        sql = compiled[f"stg_{contract.source_system}__{table}"]
        for col in contract.columns:
            if col.pii == "identifier":
                assert f"sha2('test-salt' || cast({col.name} as varchar(65535)), 256) as {col.name}" in sql
                assert f"{col.name} as {col.name}," not in sql


def test_redshift_targets_use_iam_and_no_password():
    profiles = yaml.safe_load((DBT_DIR / "profiles.yml").read_text())["fintech_analytics"]["outputs"]
    for target in ("dev", "staging", "prod"):
        cfg = profiles[target]
        assert cfg["type"] == "redshift" and cfg["method"] == "iam_role"
        assert "password" not in cfg and "env_var('REDSHIFT_HOST'" in cfg["host"]
