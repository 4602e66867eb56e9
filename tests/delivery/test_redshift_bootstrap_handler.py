"""lambdas/redshift_bootstrap under moto: the Data API polling flow, skips, failures naming the statement, time-outs.

moto's redshift-data keeps every statement STARTED and answers every query with the same canned rows, so the
backend is patched to behave like Redshift: STARTED on the first describe, then FINISHED (or FAILED for the SQL a
test marks as failing), and rows only for the existence checks a test marks as already applied.
"""

from __future__ import annotations

import json

import pytest
from moto import mock_aws
from moto.redshiftdata.models import RedshiftDataAPIServiceBackend, StatementResult

from tests.fixtures.lambdas import ACCOUNT, REGION, FakeContext, reset_settings

STATEMENTS = [
    {"name": "create schema analytics_marts", "sql": "create schema if not exists analytics_marts"},
    {"name": "create role analyst", "sql": "create role analyst",
     "skip_if": "select 1 from svv_roles where role_name = 'analyst'"},
    {"name": "create external schema raw", "sql": "create external schema if not exists raw from data catalog "
                                                  "database 'fintech_dev_raw' iam_role 'arn:aws:iam::1:role/r'"},
    {"name": "grant analytics_marts to analyst", "sql": "grant usage on schema analytics_marts to role analyst"},
]


class FakeRedshift:
    def __init__(self) -> None:
        self.failing: dict[str, str] = {}  # SQL -> error text
        self.existing: set[str] = set()  # existence queries that return a row
        self.never_finishes: set[str] = set()
        self.describes: dict[str, int] = {}
        self.executed: list[str] = []  # SQL in execution order

    def describe(self, backend, statement_id):
        statement = backend.statements[statement_id]
        count = self.describes[statement_id] = self.describes.get(statement_id, 0) + 1
        sql = statement.query_string
        if count == 1:
            self.executed.append(sql)
        if sql in self.never_finishes or count == 1:
            return statement  # still STARTED (moto's default), like a statement Redshift is running
        if sql in self.failing:
            statement.status = "FAILED"
            statement.error = self.failing[sql]
        else:
            statement.status = "FINISHED"
            statement.has_result_set = sql.lstrip().lower().startswith("select")
        return statement


@pytest.fixture
def redshift(lambda_env, monkeypatch):
    """lambda_env (the offline AWS/Powertools environment, clients reset around the test) plus the function's
    settings and a Redshift Data API that behaves like Redshift."""
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "redshift_bootstrap")
    monkeypatch.setenv("WORKGROUP_NAME", "fintech-dev")
    monkeypatch.setenv("DATABASE_NAME", "analytics")
    monkeypatch.setenv("ADMIN_SECRET_ARN", f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:redshift!admin")
    fake = FakeRedshift()

    def describe(self, statement_id):
        return fake.describe(self, statement_id)

    def result(self, statement_id):
        sql = self.statements[statement_id].query_string
        rows = [[{"longValue": 1}]] if sql in fake.existing else []
        return StatementResult([], rows, len(rows))

    monkeypatch.setattr(RedshiftDataAPIServiceBackend, "describe_statement", describe)
    monkeypatch.setattr(RedshiftDataAPIServiceBackend, "get_statement_result", result)
    # moto's Statement does not serialize Error: add it the way the real API returns it
    from moto.redshiftdata import models

    original = models.Statement.__iter__

    def with_error(self):
        yield from original(self)
        if getattr(self, "error", None):
            yield "Error", self.error

    monkeypatch.setattr(models.Statement, "__iter__", with_error)
    with mock_aws():
        import redshift_bootstrap.app as app

        reset_settings(app)
        sleeps: list[float] = []
        monkeypatch.setattr(app, "_sleep", sleeps.append)
        fake.sleeps = sleeps
        yield fake
        reset_settings(app)


def event(request_type="Create", statements=STATEMENTS, **extra):
    return {"RequestType": request_type, "ResourceProperties": {"ServiceToken": "arn", "Statements": statements},
            "StackId": "stack", "RequestId": "req", "LogicalResourceId": "Bootstrap", **extra}


def handler():
    from redshift_bootstrap.app import handler as h

    return h


def test_create_runs_every_statement_in_order_and_polls_until_finished(redshift):
    response = handler()(event(), FakeContext())
    # the role's existence check runs before the role is created; all SQL goes out in plan order
    assert redshift.executed == [
        STATEMENTS[0]["sql"], STATEMENTS[1]["skip_if"], STATEMENTS[1]["sql"], STATEMENTS[2]["sql"], STATEMENTS[3]["sql"]
    ]
    assert all(count == 2 for count in redshift.describes.values())  # STARTED once, then FINISHED
    assert redshift.sleeps == [1.0] * 5
    assert response == {"PhysicalResourceId": "redshift-bootstrap/fintech-dev/analytics",
                        "Data": {"Executed": 4, "Skipped": 0}}


def test_rerun_skips_what_exists_and_reapplies_the_idempotent_rest(redshift):
    redshift.existing.add(STATEMENTS[1]["skip_if"])
    response = handler()(event("Update", PhysicalResourceId="redshift-bootstrap/fintech-dev/analytics"), FakeContext())
    assert STATEMENTS[1]["sql"] not in redshift.executed
    assert response["Data"] == {"Executed": 3, "Skipped": 1}
    assert response["PhysicalResourceId"] == "redshift-bootstrap/fintech-dev/analytics"  # never replaced


def test_a_failed_statement_fails_the_deployment_naming_it_and_stops(redshift):
    from redshift_bootstrap.app import StatementFailed

    redshift.failing[STATEMENTS[2]["sql"]] = "ERROR: permission denied for database analytics"
    with pytest.raises(StatementFailed, match=r"statement 'create external schema raw' FAILED: ERROR: permission denied"):
        handler()(event(), FakeContext())
    assert STATEMENTS[3]["sql"] not in redshift.executed


def test_polling_backs_off_and_cancels_a_statement_that_outlives_the_function(redshift, monkeypatch):
    import redshift_bootstrap.app as app

    redshift.never_finishes.add(STATEMENTS[0]["sql"])
    clock = [0.0]
    monkeypatch.setattr(app, "_sleep", lambda s: (redshift.sleeps.append(s), clock.__setitem__(0, clock[0] + s)))
    monkeypatch.setattr(app, "_clock", lambda: clock[0])
    context = FakeContext()
    context.get_remaining_time_in_millis = lambda: 60_000  # 60 s - 20 s margin = 40 s to work with
    with pytest.raises(app.StatementFailed, match="'create schema analytics_marts' still STARTED .* cancelled"):
        handler()(event(), context)
    assert redshift.sleeps == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]  # doubling, capped at 10 s, until the deadline
    from common.aws import client

    statement_id = next(iter(redshift.describes))
    assert client("redshift-data").describe_statement(Id=statement_id)["Status"] == "ABORTED"


def test_delete_keeps_the_database_objects(redshift):
    response = handler()(event("Delete", PhysicalResourceId="redshift-bootstrap/fintech-dev/analytics"), FakeContext())
    assert redshift.executed == []
    assert response == {"PhysicalResourceId": "redshift-bootstrap/fintech-dev/analytics"}


def test_a_malformed_plan_is_rejected_before_any_sql(redshift):
    with pytest.raises(ValueError, match="Statements is missing or empty"):
        handler()(event(statements=[]), FakeContext())
    with pytest.raises(ValueError, match="lacks name or sql"):
        handler()(event(statements=[{"name": "x"}]), FakeContext())
    assert redshift.executed == []


def test_the_synthesized_plan_round_trips_through_the_handler(redshift):
    from infra.constructs import redshift_bootstrap as rb

    plan = rb.bootstrap_statements(schemas=rb.dbt_schemas(target_name="dev"), external_schema=rb.source_schema(),
                                   glue_database="fintech_dev_raw", spectrum_role_arn="arn:aws:iam::1:role/r",
                                   dbt_role_name="DbtRole", views=rb.staging_views(), quicksight_user="quicksight",
                                   quicksight_secret_arn="arn:aws:secretsmanager:eu-west-1:1:secret:login")
    properties = json.loads(json.dumps([s.as_property() for s in plan]))  # what CloudFormation sends
    from redshift_bootstrap.app import Statement

    assert [Statement.from_property(p) for p in properties] == [Statement(s.name, s.sql, s.skip_if, s.password_secret)
                                                                for s in plan]
    # the roles/users part of the plan (every statement with an existence check) through the handler
    part = [p for p in properties if p.get("skip_if")]
    assert len(part) == 7  # three roles, the dbt user and its role grant, the quicksight user and its role grant
    redshift.existing.add(part[0]["skip_if"])
    response = handler()(event(statements=part), FakeContext())
    assert response["Data"] == {"Executed": len(part) - 1, "Skipped": 1}
    assert redshift.executed[0] == part[0]["skip_if"] and part[0]["sql"] not in redshift.executed


# --- QuickSight's password user: the password comes from Secrets Manager at run time and is never logged ----------

LOGIN_PASSWORD = "Pl41nTextPasswordThatMustNeverLeak"


@pytest.fixture
def login_secret(redshift):
    import boto3

    arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="quicksight-login", SecretString=json.dumps({"username": "quicksight", "password": LOGIN_PASSWORD}))["ARN"]
    return arn


@pytest.fixture
def bootstrap_log(monkeypatch):
    """Everything the handler's Powertools logger writes during the test."""
    import io

    from common.observability import logger

    stream = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", stream)
    return stream


def password_statements(secret_arn):
    from redshift_bootstrap.app import PASSWORD_MD5

    return [
        {"name": "create quicksight user", "sql": "create user quicksight password disable",
         "skip_if": "select 1 from pg_user where usename = 'quicksight'"},
        {"name": "set quicksight user password", "sql": f"alter user quicksight password {PASSWORD_MD5}",
         "password_secret": secret_arn},
    ]


def expected_md5():
    import hashlib

    # Redshift's documented form: 'md5' followed by the md5 of the password concatenated with the user name
    return "md5" + hashlib.md5(f"{LOGIN_PASSWORD}quicksight".encode()).hexdigest()


def test_the_password_reaches_redshift_only_as_its_md5_hash_and_never_the_log(redshift, login_secret, bootstrap_log):
    response = handler()(event(statements=password_statements(login_secret)), FakeContext())
    assert response["Data"] == {"Executed": 2, "Skipped": 0}
    assert redshift.executed[-1] == f"alter user quicksight password '{expected_md5()}'"
    assert not [sql for sql in redshift.executed if LOGIN_PASSWORD in sql]
    log = bootstrap_log.getvalue()
    assert "set quicksight user password" in log  # the log was captured: it names the statement ...
    assert LOGIN_PASSWORD not in log and expected_md5()[3:] not in log  # ... and holds neither password nor hash


def test_a_failed_password_statement_names_it_without_the_hash(redshift, login_secret, bootstrap_log):
    from redshift_bootstrap.app import StatementFailed

    sql = f"alter user quicksight password '{expected_md5()}'"
    redshift.failing[sql] = f'ERROR: syntax error at or near "{expected_md5()}" in: {sql}'  # Redshift may quote it
    with pytest.raises(StatementFailed) as failed:
        handler()(event(statements=password_statements(login_secret)), FakeContext())
    message = str(failed.value)
    assert "statement 'set quicksight user password' FAILED" in message and "md5***" in message
    assert expected_md5()[3:] not in message and failed.value.__cause__ is None and failed.value.__suppress_context__
    assert expected_md5()[3:] not in bootstrap_log.getvalue()


def test_a_password_statement_must_name_its_secret_and_place_the_hash(redshift):
    from redshift_bootstrap.app import PASSWORD_MD5

    for bad in ({"name": "x", "sql": "alter user quicksight password 'secret'", "password_secret": "arn:secret"},
                {"name": "x", "sql": f"alter user quicksight password {PASSWORD_MD5}"}):
        with pytest.raises(ValueError, match="must appear exactly once"):
            handler()(event(statements=[bad]), FakeContext())
    assert redshift.executed == []


def test_a_login_secret_without_username_or_password_stops_before_the_statement(redshift):
    import boto3

    arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="no-user", SecretString=json.dumps({"password": LOGIN_PASSWORD}))["ARN"]
    with pytest.raises(ValueError, match="lacks 'username'"):
        handler()(event(statements=password_statements(arn)[1:]), FakeContext())
    assert redshift.executed == []


def test_construct_and_handler_agree_on_the_password_token():
    from infra.constructs import redshift_bootstrap as rb
    from redshift_bootstrap.app import PASSWORD_MD5

    assert rb.PASSWORD_MD5 == PASSWORD_MD5
