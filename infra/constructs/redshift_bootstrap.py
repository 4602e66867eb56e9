"""Redshift bootstrap as code: the database objects dbt, QuickSight and analysts need, created by a custom resource
(lambdas/redshift_bootstrap: Lambda + Redshift Data API, run as the workgroup's admin).

What it creates, all derived (never re-listed here):
- the schemas dbt builds into: dbt's default ``generate_schema_name`` gives ``<target schema>_<+schema>`` for every
  ``+schema`` in dbt/dbt_project.yml, plus the target schema itself (dbt/profiles.yml);
- the Spectrum external schema of the dbt sources (``schema:`` of dbt/models/staging/*/_*__sources.yml, i.e. ``raw``)
  over the Glue catalog database, with the lake's Spectrum role (the warehouse's default IAM role);
- roles: ``dbt_runner`` (granted to the database user of the CodeBuild role, ``IAMR:<role name>`` — dbt-redshift
  ``method: iam_role``, see ARCHITECTURE.md), ``quicksight_reader`` (marts only), ``analyst`` (marts + masked
  staging) and ``model_trainer`` (features + marts, read-only: the retraining build's IAM user
  ``IAMR:<trainer role name>``), with default privileges so tables dbt creates later are readable without a re-run;
- QuickSight's password user (``quicksight``, infra/constructs/warehouse.py), holding only ``quicksight_reader``; its
  password is never in the plan: the statement that sets it names the login's secret, and the Lambda reads the
  secret at run time and sends Redshift only ``md5(password + username)`` (``PASSWORD 'md5…'``);
- the masked staging schema ``<staging>_masked``: one late-binding view per dbt staging model, each column handled
  by its contract PII class (MASKING below). Late-binding views because the staging views do not exist until dbt's
  first build, and because dbt drops and re-creates them on every run — Redshift masking policies or column grants
  attached to dbt's views would be lost at the next build.

Re-run safety: every statement is idempotent (IF NOT EXISTS, re-GRANT, DROP+CREATE of the masked views, or a
``skip_if`` existence query for CREATE ROLE / CREATE USER / GRANT ROLE, which have no IF NOT EXISTS).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml
from aws_cdk import CustomResource, Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from glue_jobs.contracts import Column, Contract, load_contract
from infra.constructs.warehouse import DatabaseLogin

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt"

DBT_ROLE = "dbt_runner"
TRAINER_ROLE = "model_trainer"
REPORT_ROLE = "report_reader"
QUICKSIGHT_ROLE = "quicksight_reader"
ANALYST_ROLE = "analyst"
# Where the Lambda puts the quoted md5 hash of the password it reads from ``Statement.password_secret``
# (lambdas/redshift_bootstrap/app.py has the same token; tests/delivery checks they agree).
PASSWORD_MD5 = "{password_md5}"
MASKED_SUFFIX = "_masked"
# Columns dbt/macros/staging.sql (stage_source) appends to every staging model after the contract columns.
STAGING_METADATA_COLUMNS = ("dq_warnings", "ingested_at", "batch_id", "ingest_date")


class BootstrapPlanError(ValueError):
    """The dbt project no longer matches what the bootstrap derives from it; the message says what to change."""


# --- the plan: pure functions over the dbt project and the contracts (unit-tested without CDK) ---------------------


@dataclass(frozen=True)
class Statement:
    """One bootstrap step; ``skip_if`` returning any row means it is already applied (see lambdas/redshift_bootstrap).
    ``password_secret``: ARN of the secret whose password the Lambda hashes into ``PASSWORD_MD5`` in ``sql``."""

    name: str
    sql: str
    skip_if: str = ""
    password_secret: str = ""

    def as_property(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v}


@dataclass(frozen=True)
class DbtSchemas:
    target: str
    custom: dict[str, str]  # dbt folder/resource (staging, marts, reference, ...) -> schema name

    @property
    def all(self) -> list[str]:
        return [self.target, *self.custom.values()]

    def of(self, folder: str) -> str:
        if folder not in self.custom:
            raise BootstrapPlanError(f"dbt/dbt_project.yml has no '+schema' for {folder!r}: add one or update "
                                     "infra/constructs/redshift_bootstrap.py")
        return self.custom[folder]


@dataclass(frozen=True)
class StagingView:
    model: str  # dbt model name, e.g. stg_auth__login_activity
    columns: tuple[tuple[str, str], ...]  # (output column, masked select expression)


def _ident(name: str) -> str:
    """A Redshift identifier, double-quoted unless it is a plain lowercase name (IAMR:<role> users need quoting)."""
    return name if re.fullmatch(r"[a-z_][a-z0-9_]*", name) else '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def dbt_schemas(project_dir: Path = DBT_PROJECT_DIR, target_name: str = "prod") -> DbtSchemas:
    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text())
    macros = " ".join(p.read_text() for p in (project_dir / "macros").rglob("*.sql"))
    if re.search(r"macro\s+generate_schema_name", macros):
        raise BootstrapPlanError("dbt/macros overrides generate_schema_name: teach infra/constructs/"
                                 "redshift_bootstrap.py the new schema naming before deploying")
    profiles = yaml.safe_load((project_dir / "profiles.yml").read_text())
    output = profiles[project["profile"]]["outputs"][target_name]
    # The schema is an env_var() with a default: CodeBuild does not override it (infra/constructs/dbt_runner.py).
    match = re.search(r"env_var\(\s*'[A-Z_]+'\s*,\s*'([a-z_][a-z0-9_]*)'\s*\)", str(output["schema"]))
    target = match.group(1) if match else str(output["schema"])
    custom: dict[str, str] = {}
    name = project["name"]
    for section in ("models", "seeds", "snapshots"):
        config = (project.get(section) or {}).get(name) or {}
        if "+schema" in config:
            custom[section] = f"{target}_{config['+schema']}"
        for folder, folder_config in config.items():
            if isinstance(folder_config, Mapping) and "+schema" in folder_config:
                custom[folder] = f"{target}_{folder_config['+schema']}"
    return DbtSchemas(target=target, custom=custom)


def source_schema(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """The one schema every dbt source lives in (the Spectrum external schema)."""
    schemas = set()
    for path in sorted((project_dir / "models").rglob("_*__sources.yml")):
        for source in yaml.safe_load(path.read_text()).get("sources", []):
            schemas.add(source.get("schema", source["name"]))
    if len(schemas) != 1:
        raise BootstrapPlanError(f"dbt sources use schemas {sorted(schemas)}: the bootstrap creates exactly one "
                                 "external schema; put every source in the same schema")
    return schemas.pop()


def masked_expression(column: Column, name: str) -> str | None:
    """How an analyst sees a contract column in the masked staging views, by PII class. None = not exposed.

    direct: never (staging already drops names and contact details); identifier: SHA-256 pseudonym (stable, so the
    masked views still join with each other, but not back to a person without the marts' access); quasi: coarsened
    (dates to the year, coordinates/amounts to one decimal, ~11 km) or withheld (free text such as IP, device, city);
    none: as is.
    """
    if column.pii == "direct":
        return None
    if column.pii == "identifier":
        return f"sha2(cast({name} as varchar), 256)"
    if column.pii == "quasi":
        if column.type == "date":
            return f"cast(date_trunc('year', {name}) as date)"
        if column.type == "timestamp":
            return f"date_trunc('day', {name})"
        if column.type == "double" or column.decimal_precision_scale is not None:
            # via decimal: round(double precision, int) exists in Redshift but not in PostgreSQL, where the CI
            # test runs these views against the real staging models
            return f"round(cast({name} as decimal(18, 6)), 1)"
        return "cast(null as varchar)"
    return name


# dbt/macros/staging.sql: `staging_models()` returns {model: {'source', 'table', 'renames'}}, the one place the
# staging models' source tables and renames are written. Its body is a Jinja dict literal, which is also a Python one.
_STAGING_MODELS = re.compile(r"macro\s+staging_models\(\)\s*%\}\s*\{\{\s*return\((?P<spec>\{.*?\})\)\s*\}\}", re.DOTALL)


def staging_spec(project_dir: Path = DBT_PROJECT_DIR) -> dict[str, dict]:
    """{staging model: {'source', 'table', 'renames'}} as dbt/macros/staging.sql defines it."""
    for path in sorted((project_dir / "macros").rglob("*.sql")):
        match = _STAGING_MODELS.search(path.read_text())
        if match:
            try:
                return ast.literal_eval(match["spec"])
            except (ValueError, SyntaxError) as err:
                raise BootstrapPlanError(f"{path.relative_to(project_dir.parent)}: staging_models() is no longer a "
                                         f"plain dict literal ({err}): update infra/constructs/redshift_bootstrap.py") from None
    raise BootstrapPlanError("dbt/macros defines no staging_models(): the masked views need each staging model's "
                             "source table and renames; update infra/constructs/redshift_bootstrap.py")


def staging_views(project_dir: Path = DBT_PROJECT_DIR,
                  contract_loader=load_contract) -> list[StagingView]:
    """One masked view per dbt staging model, its columns in the order stage_source() writes them."""
    spec = staging_spec(project_dir)
    views = []
    for path in sorted((project_dir / "models" / "staging").rglob("stg_*.sql")):
        if path.stem not in spec:
            raise BootstrapPlanError(f"{path.relative_to(project_dir.parent)} is not in staging_models() "
                                     "(dbt/macros/staging.sql): the masked view needs its source table and renames")
        contract: Contract = contract_loader(spec[path.stem]["table"])
        renames = spec[path.stem].get("renames") or {}
        columns = []
        for column in contract.columns:
            out = renames.get(column.name, column.name)
            expression = masked_expression(column, out)
            if expression is not None:
                columns.append((out, expression))
        columns.extend((c, c) for c in STAGING_METADATA_COLUMNS)
        views.append(StagingView(model=path.stem, columns=tuple(columns)))
    return views


def bootstrap_statements(*, schemas: DbtSchemas, external_schema: str, glue_database: str, spectrum_role_arn: str,
                         dbt_role_name: str, views: Sequence[StagingView], quicksight_user: str = "",
                         quicksight_secret_arn: str = "", trainer_role_name: str = "",
                         report_role_name: str = "") -> list[Statement]:
    """The ordered SQL of the bootstrap. Names are what CloudFormation shows when one fails. ``quicksight_user`` (with
    the ARN of its login secret): QuickSight's password user, granted ``quicksight_reader``; empty = no such user.
    ``trainer_role_name`` / ``report_role_name``: the model trainer's / report job's IAM role, whose database user
    gets ``model_trainer`` / ``report_reader``; empty = none."""
    readers = [(role, iam_role, label) for role, iam_role, label in (
        (TRAINER_ROLE, trainer_role_name, "model trainer user"), (REPORT_ROLE, report_role_name, "report job user"))
        if iam_role]
    dbt_user = f"IAMR:{dbt_role_name}"
    marts, staging = schemas.of("marts"), schemas.of("staging")
    masked = staging + MASKED_SUFFIX
    out: list[Statement] = []
    for schema in (*schemas.all, masked):
        out.append(Statement(f"create schema {schema}", f"create schema if not exists {_ident(schema)}"))
    # Every user may create tables in `public` by default; nothing here builds there, so no login (QuickSight's,
    # an analyst's) can stage data of its own beside the marts. Idempotent.
    out.append(Statement("revoke create on public", "revoke create on schema public from public"))
    out.append(Statement(
        f"create external schema {external_schema}",
        f"create external schema if not exists {_ident(external_schema)} from data catalog database "
        f"{_literal(glue_database)} iam_role {_literal(spectrum_role_arn)}",
    ))
    for role in (DBT_ROLE, QUICKSIGHT_ROLE, ANALYST_ROLE, *(r for r, _, _ in readers)):
        out.append(Statement(f"create role {role}", f"create role {_ident(role)}",
                             skip_if=f"select 1 from svv_roles where role_name = {_literal(role)}"))
    # The CodeBuild role's user is created on first login by GetCredentials; create it now so it can be granted
    # before dbt ever runs. PASSWORD DISABLE: it can only sign in through IAM.
    out.extend(_iam_user(dbt_user, DBT_ROLE, label="dbt user"))
    if quicksight_user:
        out.extend(_password_user(quicksight_user, quicksight_secret_arn, QUICKSIGHT_ROLE, label="quicksight user"))
    out.append(Statement(f"grant {external_schema} to {DBT_ROLE}",
                         f"grant usage on schema {_ident(external_schema)} to role {DBT_ROLE}"))
    for schema in schemas.all:
        out.append(Statement(f"grant {schema} to {DBT_ROLE}",
                             f"grant usage, create on schema {_ident(schema)} to role {DBT_ROLE}"))
    for role in (QUICKSIGHT_ROLE, ANALYST_ROLE):
        out.extend(_read_grants(role, marts, dbt_user))
    for role, iam_role, label in readers:
        out.extend(_iam_user(f"IAMR:{iam_role}", role, label=label))
        for schema in (schemas.of("features"), marts):
            out.extend(_read_grants(role, schema, dbt_user))
    for view in views:
        relation = f"{_ident(masked)}.{_ident(view.model)}"
        select = ",\n  ".join(expr if expr == col else f"{expr} as {_ident(col)}" for col, expr in view.columns)
        # DROP + CREATE, not CREATE OR REPLACE: a contract change may change the view's columns, which OR REPLACE
        # rejects. The grant below is re-applied after the views exist again.
        out.append(Statement(f"drop masked view {view.model}", f"drop view if exists {relation}"))
        out.append(Statement(f"create masked view {view.model}",
                             f"create view {relation} as\nselect\n  {select}\nfrom {_ident(staging)}.{_ident(view.model)}"
                             "\nwith no schema binding"))
    out.append(Statement(f"grant {masked} to {ANALYST_ROLE}", f"grant usage on schema {_ident(masked)} to role {ANALYST_ROLE}"))
    out.append(Statement(f"grant select {masked} to {ANALYST_ROLE}",
                         f"grant select on all tables in schema {_ident(masked)} to role {ANALYST_ROLE}"))
    return out


def _iam_user(user: str, role: str, *, label: str) -> Iterable[Statement]:
    """An IAM role's database user (``IAMR:<role name>``), created ahead of its first GetCredentials login so it
    can be granted now; PASSWORD DISABLE: it can only sign in through IAM."""
    yield Statement(f"create {label}", f"create user {_ident(user)} password disable",
                    skip_if=f"select 1 from pg_user where lower(usename) = lower({_literal(user)})")
    yield Statement(f"grant role {role} to {label}", f"grant role {role} to {_ident(user)}",
                    skip_if=f"select 1 from svv_user_grants where lower(user_name) = lower({_literal(user)}) "
                            f"and role_name = {_literal(role)}")


def _password_user(user: str, secret_arn: str, role: str, *, label: str) -> Iterable[Statement]:
    if not secret_arn:
        raise BootstrapPlanError(f"database user {user!r} needs the ARN of its login secret (its password lives only "
                                 "there): pass the DatabaseLogin's secret")
    exists = f"select 1 from pg_user where usename = {_literal(user)}"
    # Created without a password, then ALTER USER sets the secret's on every run: one statement carries the
    # password, and a re-run re-syncs it with the secret's current value.
    yield Statement(f"create {label}", f"create user {_ident(user)} password disable", skip_if=exists)
    yield Statement(f"set {label} password", f"alter user {_ident(user)} password {PASSWORD_MD5}",
                    password_secret=secret_arn)
    yield Statement(f"grant role {role} to {label}", f"grant role {role} to {_ident(user)}",
                    skip_if=f"select 1 from svv_user_grants where user_name = {_literal(user)} "
                            f"and role_name = {_literal(role)}")


def _read_grants(role: str, schema: str, owner: str) -> Iterable[Statement]:
    yield Statement(f"grant {schema} to {role}", f"grant usage on schema {_ident(schema)} to role {role}")
    yield Statement(f"grant select {schema} to {role}", f"grant select on all tables in schema {_ident(schema)} to role {role}")
    # Tables dbt creates later (its user owns them) become readable without re-running the bootstrap.
    yield Statement(f"default select {schema} to {role}",
                    f"alter default privileges for user {_ident(owner)} in schema {_ident(schema)} "
                    f"grant select on tables to role {role}")


# --- the construct -----------------------------------------------------------------------------------------------


class RedshiftBootstrap(Construct):
    """Attributes: ``statements`` (the plan), ``function`` (the handler), ``provider``, ``resource``,
    ``security_group``. The resource's properties hold the whole plan, so any change re-runs it on deploy."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        workgroup_name: str,
        workgroup_arn: str,
        database_name: str,
        admin_secret_arn: str,
        data_key: kms.IKey,
        glue_database_name: str,
        spectrum_role_arn: str,
        dbt_role_name: str,
        trainer_role_name: str,
        report_role_name: str,
        dbt_target: str,
        quicksight_login: DatabaseLogin | None,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        endpoint_security_group: ec2.ISecurityGroup,
        logs_key: kms.IKey,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
        timeout: Duration = Duration.minutes(10),
    ) -> None:
        super().__init__(scope, construct_id)
        # Local import: the orchestration construct owns the Lambda packaging (code asset + pinned Powertools layer).
        from infra.constructs.orchestration import LAMBDA_RUNTIME, LAMBDAS_DIR, powertools_layer_dir

        self.statements = bootstrap_statements(
            schemas=dbt_schemas(target_name=dbt_target), external_schema=source_schema(),
            glue_database=glue_database_name, spectrum_role_arn=spectrum_role_arn, dbt_role_name=dbt_role_name,
            views=staging_views(),
            quicksight_user=quicksight_login.username if quicksight_login else "",
            quicksight_secret_arn=quicksight_login.secret.secret_arn if quicksight_login else "",
            trainer_role_name=trainer_role_name,
            report_role_name=report_role_name,
        )

        self.security_group = ec2.SecurityGroup(self, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
                                                description="Redshift bootstrap (Data API via its endpoint)")
        self.security_group.connections.allow_to(endpoint_security_group, ec2.Port.tcp(443),
                                                 "Redshift Data API, Secrets Manager, Logs via endpoints")
        # The provider framework answers CloudFormation's pre-signed S3 URL through the S3 gateway endpoint (no SG).
        self.security_group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "S3 gateway endpoint")

        def log_group(name: str) -> logs.LogGroup:
            return logs.LogGroup(self, name, encryption_key=logs_key, retention=log_retention,
                                 removal_policy=removal_policy)

        layer = lambda_.LayerVersion(self, "PowertoolsLayer", code=lambda_.Code.from_asset(powertools_layer_dir()),
                                     compatible_runtimes=[LAMBDA_RUNTIME],
                                     description="aws-lambda-powertools, pinned (requirements-dev.txt)")
        self.function = lambda_.Function(
            self, "Handler",
            runtime=LAMBDA_RUNTIME,
            handler="redshift_bootstrap.app.handler",
            code=lambda_.Code.from_asset(str(LAMBDAS_DIR), exclude=["**/__pycache__", "*.pyc", "README.md"]),
            layers=[layer],
            memory_size=256,
            timeout=timeout,
            # Deployments run it once at a time; one concurrent run also keeps two stacks' updates from racing.
            reserved_concurrent_executions=1,
            environment={
                "WORKGROUP_NAME": workgroup_name,
                "DATABASE_NAME": database_name,
                "ADMIN_SECRET_ARN": admin_secret_arn,
                "POWERTOOLS_SERVICE_NAME": "redshift_bootstrap",
                "POWERTOOLS_LOG_LEVEL": "INFO",
                # No active tracing for a once-per-deploy function: keeps the shared Tracer (lambdas/common) inert.
                "POWERTOOLS_TRACE_DISABLED": "true",
            },
            environment_encryption=data_key,
            log_group=log_group("HandlerLogs"),
            vpc=vpc, vpc_subnets=subnets, security_groups=[self.security_group],
        )
        self.function.add_to_role_policy(iam.PolicyStatement(actions=["redshift-data:ExecuteStatement"],
                                                             resources=[workgroup_arn]))
        # Describe/Get/Cancel have no resource type: limited to the statements this role itself submitted.
        self.function.add_to_role_policy(iam.PolicyStatement(
            actions=["redshift-data:DescribeStatement", "redshift-data:GetStatementResult",
                     "redshift-data:CancelStatement"],
            resources=["*"],
            conditions={"StringEquals": {"redshift-data:statement-owner-iam-userid": "${aws:userid}"}},
        ))
        # The admin secret (to run SQL) and QuickSight's login secret (its password, read at run time to set it in
        # Redshift): both encrypted with the data key.
        secrets = [admin_secret_arn, *([quicksight_login.secret.secret_arn] if quicksight_login else [])]
        self.function.add_to_role_policy(iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"],
                                                             resources=secrets))
        data_key.grant_decrypt(self.function)

        self.provider = cr.Provider(
            self, "Provider", on_event_handler=self.function, vpc=vpc, vpc_subnets=subnets,
            security_groups=[self.security_group], log_group=log_group("ProviderLogs"),
            provider_function_env_encryption=data_key,
        )
        self.resource = CustomResource(
            self, "Bootstrap", service_token=self.provider.service_token,
            resource_type="Custom::RedshiftBootstrap",
            properties={"Statements": [s.as_property() for s in self.statements]},
        )
