"""Redshift bootstrap custom resource: runs the ordered, idempotent SQL statements that infra/constructs/
redshift_bootstrap.py rendered at synth time (schemas dbt uses, the Spectrum external schema, roles, grants, masked
staging views) through the Redshift Data API, as the workgroup's admin (the Redshift-managed admin secret).

Why the SQL arrives as resource properties instead of being built here: the plan is derived from the source
contracts and the dbt project, which are not part of the Lambda asset, and a reviewer sees every statement in the
synthesized template (and in review/<env>.md). Any change to a statement changes the properties, so CloudFormation
sends an Update and the whole list runs again: every statement is written to be re-run safe (IF NOT EXISTS,
re-GRANTs, DROP/CREATE of views, or a ``skip_if`` existence query for the statements Redshift has no IF NOT EXISTS
for: CREATE ROLE, CREATE USER).

Passwords: a statement with ``password_secret`` (QuickSight's user) gets the password of that secret at run time,
sent to Redshift only as ``'md5' + md5(password + username)`` (Redshift's CREATE/ALTER USER hash form), so neither
the template, the resource properties, nor the statement text hold the password. Nothing here logs SQL, and a
failure's Redshift error text is redacted of the hash before it reaches the log or CloudFormation.

A statement that fails (or is aborted, or outlives the function) raises StatementFailed naming the statement: the
CDK provider framework reports that message to CloudFormation, which fails and rolls back the deployment.
Delete does nothing on purpose: dropping schemas would drop the warehouse's data with the stack.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from common.aws import client
from common.observability import logger
from common.settings import load_settings

FINAL_STATES = ("FINISHED", "FAILED", "ABORTED")
# Leave the provider framework time to report the failure before Lambda's own timeout kills this function.
DEADLINE_MARGIN_SECONDS = 20
# Module-level so tests can replace them without touching the time module everyone else uses.
_sleep = time.sleep
_clock = time.monotonic
# infra/constructs/redshift_bootstrap.py writes this token where the password's quoted md5 hash goes.
PASSWORD_MD5 = "{password_md5}"


class StatementFailed(RuntimeError):
    """A bootstrap statement did not finish: the message names it, so the CloudFormation event does too."""


@dataclass(frozen=True)
class Settings:
    workgroup_name: str
    database_name: str
    admin_secret_arn: str
    poll_interval_seconds: int = 1
    max_poll_interval_seconds: int = 10


@dataclass(frozen=True)
class Statement:
    """One step of the plan. ``skip_if``: a query whose returning any row means the step is already done."""

    name: str
    sql: str
    skip_if: str = ""
    password_secret: str = ""  # ARN: the SQL's PASSWORD_MD5 becomes the hash of this secret's password

    @classmethod
    def from_property(cls, raw: Mapping[str, Any]) -> Statement:
        if not raw.get("name") or not raw.get("sql"):
            raise ValueError(f"bootstrap statement {raw!r} lacks name or sql: redeploy from infra/constructs/redshift_bootstrap.py")
        statement = cls(name=str(raw["name"]), sql=str(raw["sql"]), skip_if=str(raw.get("skip_if") or ""),
                        password_secret=str(raw.get("password_secret") or ""))
        if (statement.sql.count(PASSWORD_MD5) == 1) != bool(statement.password_secret):
            raise ValueError(f"bootstrap statement {statement.name!r}: {PASSWORD_MD5} must appear exactly once in its sql "
                             "if and only if it names a password_secret; redeploy from infra/constructs/redshift_bootstrap.py")
        return statement


@functools.cache
def settings() -> Settings:
    return load_settings(Settings)


class DataApi:
    """Runs one SQL string to a final state through the Redshift Data API and polls it with capped back-off."""

    def __init__(self, cfg: Settings, *, deadline: float, sleep: Callable[[float], None] | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        self.cfg, self.deadline = cfg, deadline
        self.sleep, self.clock = sleep or _sleep, clock or _clock

    def run(self, name: str, sql: str) -> dict[str, Any]:
        api = client("redshift-data")
        statement_id = api.execute_statement(
            WorkgroupName=self.cfg.workgroup_name, Database=self.cfg.database_name,
            SecretArn=self.cfg.admin_secret_arn, Sql=sql, StatementName=name[:500], WithEvent=False,
        )["Id"]
        interval = float(self.cfg.poll_interval_seconds)
        while True:
            described = api.describe_statement(Id=statement_id)
            status = described["Status"]
            if status == "FINISHED":
                return described
            if status in FINAL_STATES:
                raise StatementFailed(f"Redshift bootstrap statement '{name}' {status}: "
                                      f"{described.get('Error', 'no error text')} (statement id {statement_id})")
            if self.clock() + interval > self.deadline:
                api.cancel_statement(Id=statement_id)
                raise StatementFailed(f"Redshift bootstrap statement '{name}' still {status} when the function ran "
                                      f"out of time: cancelled (statement id {statement_id}); check the workgroup "
                                      "is available and redeploy")
            self.sleep(interval)
            interval = min(interval * 2, float(self.cfg.max_poll_interval_seconds))

    def returns_rows(self, name: str, sql: str) -> bool:
        described = self.run(name, sql)
        if not described.get("HasResultSet"):
            return False
        result = client("redshift-data").get_statement_result(Id=described["Id"])
        return bool(result.get("Records"))


def password_md5(secret_arn: str) -> str:
    """Redshift's hash form of the secret's password: 'md5' + md5(password + username), as a quoted SQL literal."""
    secret = json.loads(client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"])
    try:
        password, username = secret["password"], secret["username"]
    except KeyError as missing:
        raise ValueError(f"secret {secret_arn} lacks {missing}: it must hold 'username' and 'password' "
                         "(infra/constructs/warehouse.py generates it that way)") from None
    # md5 is what Redshift accepts here (CREATE/ALTER USER), not a choice of ours: it keeps the password out of the SQL.
    return "'md5" + hashlib.md5((password + username).encode(), usedforsecurity=False).hexdigest() + "'"


def _run_with_password(statement: Statement, api: DataApi) -> None:
    hashed = password_md5(statement.password_secret)
    try:
        api.run(statement.name, statement.sql.replace(PASSWORD_MD5, hashed))
    except StatementFailed as failed:
        # Redshift's error text may quote the statement: the hash must not reach the log or CloudFormation.
        raise StatementFailed(str(failed).replace(hashed.strip("'"), "md5***")) from None


def apply(statements: Sequence[Statement], api: DataApi) -> dict[str, list[str]]:
    """Run the plan in order; stops at the first failure (StatementFailed). Returns executed/skipped names."""
    executed, skipped = [], []
    for statement in statements:
        if statement.skip_if and api.returns_rows(f"{statement.name} (exists?)", statement.skip_if):
            skipped.append(statement.name)
            logger.info("bootstrap statement already applied", extra={"statement": statement.name})
            continue
        if statement.password_secret:
            _run_with_password(statement, api)
        else:
            api.run(statement.name, statement.sql)
        executed.append(statement.name)
        logger.info("bootstrap statement applied", extra={"statement": statement.name})
    return {"executed": executed, "skipped": skipped}


def physical_id(cfg: Settings) -> str:
    # Stable across updates: CloudFormation never replaces (and so never deletes) the bootstrap.
    return f"redshift-bootstrap/{cfg.workgroup_name}/{cfg.database_name}"


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    cfg = settings()
    request_type = event.get("RequestType")
    if request_type == "Delete":
        logger.info("delete: database objects are kept (schemas hold the warehouse's data)")
        return {"PhysicalResourceId": event.get("PhysicalResourceId") or physical_id(cfg)}
    if request_type not in ("Create", "Update"):
        raise ValueError(f"unexpected RequestType {request_type!r}: invoke through the CDK provider framework")
    raw = (event.get("ResourceProperties") or {}).get("Statements")
    if not isinstance(raw, list) or not raw:
        raise ValueError("ResourceProperties.Statements is missing or empty: redeploy the bootstrap stack")
    statements = [Statement.from_property(s) for s in raw]
    deadline = _clock() + context.get_remaining_time_in_millis() / 1000 - DEADLINE_MARGIN_SECONDS
    outcome = apply(statements, DataApi(cfg, deadline=deadline))
    # Response data must stay under 4 KB: counts only (the names are in the function's log).
    return {"PhysicalResourceId": physical_id(cfg),
            "Data": {"Executed": len(outcome["executed"]), "Skipped": len(outcome["skipped"])}}
