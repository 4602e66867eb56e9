"""Typed, validated per-environment configuration (dev, staging, prod).

The values live in cdk.json under context key ``environments`` (one block per environment); ``app.py`` picks one
with ``-c env=NAME`` (default ``dev``), calls :func:`load_config` once, and passes the frozen result down as
keyword arguments. Constructs never read context or ``os.environ``.

Extending (Glue, pipeline, QuickSight, CI/CD owners): add a field to the matching section dataclass below (or add a
new section dataclass and a field of that type on :class:`EnvironmentConfig`), give it a default if older cdk.json
blocks may omit it, and attach a check with ``metadata=check(fn, "what a good value looks like")``. The loader
walks the dataclasses generically: type checks, unknown-key detection and the one-line error format come for free,
so nobody edits the loader to add a setting.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

ENVIRONMENT_NAMES = ("dev", "staging", "prod")
DEFAULT_ENVIRONMENT = "dev"
CONTEXT_KEY = "environments"


class ConfigError(ValueError):
    """A bad configuration value. The message is one line: where, what is wrong, how to fix it."""


# --- checks ---------------------------------------------------------------------------------------------------
# A check returns True for a good value. Its ``expected`` text becomes the "fix" half of the error line.


def check(fn: Callable[[Any], bool], expected: str) -> dict[str, Any]:
    """Field metadata attaching a validator; ``expected`` tells the user what a good value looks like."""
    return {"check": fn, "expected": expected}


_ACCOUNT = re.compile(r"^\d{12}$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_NAME_PREFIX = re.compile(r"^[a-z][a-z0-9-]{1,14}[a-z0-9]$")
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_SCHEDULE = re.compile(r"^(cron\(([^ )]+ ){5}[^ )]+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\))$")
_QUICKSIGHT_PRINCIPAL = re.compile(
    r"^arn:aws[a-z-]*:quicksight:[a-z0-9-]+:\d{12}:(group|user)/[A-Za-z0-9._@+=,-]+/[A-Za-z0-9._@+=,/-]+$"
)
# No quotes or semicolons: the rules become the literal rows of the RLS rules dataset's SQL.
_REGION_RULE = re.compile(r"^[A-Za-z0-9._@+=-]+:(\*|[A-Za-z0-9 ._-]+(,[A-Za-z0-9 ._-]+)*)$")
_CODECONNECTIONS = re.compile(r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}$")
# CloudWatch Logs accepts only these retention values (PutRetentionPolicy).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                      3288, 3653)
REPORT_RETENTION_DAYS = 1827  # five years, leap days included
GLUE_WORKER_TYPES = ("G.025X", "G.1X", "G.2X", "G.4X", "G.8X")


@lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    """Regions where Redshift Serverless exists, from botocore's bundled endpoint data (offline, never hand-listed)."""
    import boto3  # local import: only config validation needs it

    return frozenset(boto3.session.Session().get_available_regions("redshift-serverless"))


def _is_cidr(value: str) -> bool:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError:
        return False
    # /16../22: room for 3 isolated /24s per AZ-group plus growth; private ranges only (RFC 1918).
    return net.version == 4 and 16 <= net.prefixlen <= 22 and net.is_private


def _is_rpu(value: int) -> bool:
    # Redshift Serverless capacity: 8..1024 RPUs in steps of 8 (base); max capacity allows up to 5632.
    return 8 <= value <= 5632 and value % 8 == 0


# --- sections -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WarehouseConfig:
    """Redshift Serverless sizing and the spend guard."""

    base_rpu: int = field(default=8, metadata=check(lambda v: _is_rpu(v) and v <= 1024, "a multiple of 8 from 8 to 1024"))
    max_rpu: int = field(default=64, metadata=check(_is_rpu, "a multiple of 8 from 8 to 5632, and >= base_rpu"))
    # CreateUsageLimit amount: RPU-hours per period (see ARCHITECTURE.md: no CloudFormation resource exists).
    usage_limit_rpu_hours: int = field(default=200, metadata=check(lambda v: 1 <= v <= 1_000_000, "an integer >= 1"))
    usage_limit_period: str = field(default="monthly", metadata=check(lambda v: v in ("daily", "weekly", "monthly"),
                                                                      "one of daily, weekly, monthly"))
    usage_limit_breach_action: str = field(default="emit-metric", metadata=check(
        lambda v: v in ("log", "emit-metric", "deactivate"), "one of log, emit-metric, deactivate"))
    database_name: str = field(default="analytics", metadata=check(_IDENTIFIER.match, "lowercase letters, digits, _"))
    admin_username: str = field(default="platform_admin", metadata=check(
        lambda v: bool(_IDENTIFIER.match(v)) and v not in ("admin", "rdsadmin", "postgres"),
        "lowercase letters, digits, _ (not a reserved name)"))


@dataclass(frozen=True)
class RetentionConfig:
    """How long things live. Log retention values are the ones CloudWatch Logs accepts."""

    log_retention_days: int = field(default=365, metadata=check(lambda v: v in LOG_RETENTION_DAYS,
                                                                "a CloudWatch Logs retention value, e.g. 90, 365, 3653"))
    landing_expiry_days: int = field(default=30, metadata=check(lambda v: 1 <= v <= 3650, "1..3650"))
    # S3 requires >= 30 days in STANDARD before STANDARD_IA.
    raw_infrequent_access_days: int = field(default=90, metadata=check(lambda v: 30 <= v <= 3650, "30..3650"))
    raw_glacier_days: int = field(default=365, metadata=check(lambda v: 60 <= v <= 3650, "60..3650, > raw_infrequent_access_days"))
    noncurrent_version_expiry_days: int = field(default=90, metadata=check(lambda v: 1 <= v <= 3650, "1..3650"))
    # 0 = no object lock. Prod must lock the CloudTrail bucket (checked in EnvironmentConfig).
    audit_object_lock_days: int = field(default=0, metadata=check(lambda v: 0 <= v <= 3650, "0 (off) or 1..3650"))


@dataclass(frozen=True)
class GlueConfig:
    """Sizing of the Glue ingest jobs (used by the ingestion stack)."""

    worker_type: str = field(default="G.1X", metadata=check(lambda v: v in GLUE_WORKER_TYPES, "one of " + ", ".join(GLUE_WORKER_TYPES)))
    number_of_workers: int = field(default=2, metadata=check(lambda v: 2 <= v <= 299, "2..299"))
    flex_execution: bool = False
    timeout_minutes: int = field(default=60, metadata=check(lambda v: 1 <= v <= 2880, "1..2880"))


@dataclass(frozen=True)
class PipelineConfig:
    """When the Step Functions pipeline runs (EventBridge schedule expression)."""

    schedule_expression: str = field(default="cron(0 3 * * ? *)", metadata=check(
        _SCHEDULE.match, "an EventBridge expression like cron(0 3 * * ? *) or rate(1 day)"))
    schedule_enabled: bool = True


TRAINING_COMPUTE = ("small", "medium", "large", "2xlarge")


@dataclass(frozen=True)
class ModelsConfig:
    """Model retraining on AWS (the model-trainer CodeBuild project, infra/constructs/model_trainer.py)."""

    # Monthly by default: the 1st at 06:00 UTC, after the nightly pipeline (03:00) has built that day's features.
    retrain_schedule_expression: str = field(default="cron(0 6 1 * ? *)", metadata=check(
        _SCHEDULE.match, "an EventBridge expression like cron(0 6 1 * ? *) or rate(30 days)"))
    retrain_enabled: bool = True
    training_compute: str = field(default="medium", metadata=check(
        lambda v: v in TRAINING_COMPUTE, "one of " + ", ".join(TRAINING_COMPUTE) + " (CodeBuild general1 sizes)"))
    training_timeout_minutes: int = field(default=120, metadata=check(lambda v: 5 <= v <= 2160, "5..2160"))


@dataclass(frozen=True)
class ReportsConfig:
    """The report job (infra/constructs/report_job.py): when it runs and how long its reports are locked."""

    regulatory_after_pipeline: bool = True  # the regulatory report after every pipeline execution that succeeds
    # Monthly by default: the 1st at 07:00 UTC, after the nightly pipeline and the retraining.
    executive_schedule_expression: str = field(default="cron(0 7 1 * ? *)", metadata=check(
        _SCHEDULE.match, "an EventBridge expression like cron(0 7 1 * ? *)"))
    executive_enabled: bool = True
    # 0 = no object lock (dev). Production must keep reports >= 5 years (checked in EnvironmentConfig).
    object_lock_days: int = field(default=0, metadata=check(lambda v: 0 <= v <= 3650, "0 (off) or 1..3650"))


@dataclass(frozen=True)
class QuickSightConfig:
    """Who owns the QuickSight assets."""

    principal_arn: str = field(default="", metadata=check(
        lambda v: v == "" or bool(_QUICKSIGHT_PRINCIPAL.match(v)),
        "arn:aws:quicksight:<region>:<account>:group/default/<name> (or empty to skip QuickSight)"))
    # Row-level security by customer region: "<QuickSight group>:<country>[,<country>...]" or "<group>:*" (all
    # regions). Empty = no row-level security. With rules, a group without a rule sees no rows.
    region_access: tuple[str, ...] = field(default=(), metadata=check(
        lambda v: all(_REGION_RULE.match(r) for r in v),
        'a list like ["fintech-analysts:*", "uk-fraud-team:UK"] (group, then * or countries)'))


@dataclass(frozen=True)
class CicdConfig:
    """CDK Pipelines source (empty connection ARN = no pipeline for this environment)."""

    connection_arn: str = field(default="", metadata=check(
        lambda v: v == "" or bool(_CODECONNECTIONS.match(v)),
        "arn:aws:codeconnections:<region>:<account>:connection/<uuid> (or empty)"))
    repository: str = field(default="", metadata=check(lambda v: v == "" or bool(re.match(r"^[\w.-]+/[\w.-]+$", v)),
                                                        "owner/name (or empty)"))
    branch: str = field(default="main", metadata=check(lambda v: bool(re.match(r"^[\w./-]+$", v)), "a branch name"))


@dataclass(frozen=True)
class EnvironmentConfig:
    """Everything that differs between dev, staging and prod. Built only by :func:`load_config`."""

    name: str
    account: str = field(metadata=check(_ACCOUNT.match, "12 digits, e.g. 111111111111"))
    region: str = field(metadata=check(lambda v: v in known_regions(),
                                       "an AWS region with Redshift Serverless, e.g. eu-west-1"))
    name_prefix: str = field(metadata=check(_NAME_PREFIX.match, "3-16 chars: lowercase letters, digits, -"))
    vpc_cidr: str = field(metadata=check(_is_cidr, "a private IPv4 network /16../22, e.g. 10.20.0.0/16"))
    alert_emails: tuple[str, ...] = field(metadata=check(
        lambda v: len(v) >= 1 and all(_EMAIL.match(e) for e in v), "a list of e-mail addresses like ops@example.com"))
    # Production turns on the irreversible protections (RETAIN everywhere, object lock) and forbids opting out.
    production: bool = False
    # "destroy" lets `cdk destroy` delete buckets/keys; only for throwaway dev accounts, and never with production.
    removal_policy: str = field(default="retain", metadata=check(lambda v: v in ("retain", "destroy"), "retain or destroy"))
    # Redshift Serverless needs subnets in three AZs; names are account-independent (e.g. eu-west-1a).
    availability_zone_suffixes: tuple[str, ...] = field(default=("a", "b", "c"), metadata=check(
        lambda v: len(v) == 3 and len(set(v)) == 3 and all(re.match(r"^[a-z]$", s) for s in v),
        'three distinct letters, e.g. ["a", "b", "c"]'))
    warehouse: WarehouseConfig = WarehouseConfig()
    retention: RetentionConfig = RetentionConfig()
    glue: GlueConfig = GlueConfig()
    pipeline: PipelineConfig = PipelineConfig()
    models: ModelsConfig = ModelsConfig()
    reports: ReportsConfig = ReportsConfig()
    quicksight: QuickSightConfig = QuickSightConfig()
    cicd: CicdConfig = CicdConfig()

    @property
    def stage_id(self) -> str:
        """Construct id of this environment's Stage (``Dev``, ``Staging``, ``Prod``): part of every stack name."""
        return self.name.capitalize()

    @property
    def resource_prefix(self) -> str:
        """``<name_prefix>-<env>``: the few physical names that must be fixed (Redshift names) start with it."""
        return f"{self.name_prefix}-{self.name}"

    @property
    def glue_database_name(self) -> str:
        """Glue database of the raw tables (Glue names allow no hyphens)."""
        return f"{self.name_prefix}_{self.name}_raw".replace("-", "_")

    @property
    def availability_zones(self) -> list[str]:
        return [f"{self.region}{s}" for s in self.availability_zone_suffixes]

    @property
    def destroy_on_removal(self) -> bool:
        return self.removal_policy == "destroy"


def _cross_field_errors(cfg: EnvironmentConfig) -> list[tuple[str, str]]:
    """Rules that involve several fields: (field path, message incl. the fix)."""
    errors = []
    w, r = cfg.warehouse, cfg.retention
    if w.max_rpu < w.base_rpu:
        errors.append(("warehouse.max_rpu", f"{w.max_rpu} is below base_rpu {w.base_rpu}: set max_rpu >= base_rpu"))
    if r.raw_glacier_days <= r.raw_infrequent_access_days:
        errors.append(("retention.raw_glacier_days",
                       f"{r.raw_glacier_days} must be greater than raw_infrequent_access_days {r.raw_infrequent_access_days}"))
    if cfg.production and cfg.removal_policy != "retain":
        errors.append(("removal_policy", 'production environments must keep data: set "retain"'))
    if cfg.production and r.audit_object_lock_days == 0:
        errors.append(("retention.audit_object_lock_days",
                       "production needs object lock on the audit trail bucket: set e.g. 365"))
    if cfg.production and cfg.reports.object_lock_days < REPORT_RETENTION_DAYS:
        errors.append(("reports.object_lock_days",
                       f"{cfg.reports.object_lock_days} is below the 5-year record keeping of filed reports "
                       f"(31 CFR 1010.430): set at least {REPORT_RETENTION_DAYS}"))
    return errors


# --- loader ---------------------------------------------------------------------------------------------------


def _fail(env: str, path: str, message: str) -> ConfigError:
    return ConfigError(f"cdk.json context environments.{env}.{path}: {message}")


def _coerce(env: str, path: str, annotation: Any, value: Any) -> Any:
    """Check a raw JSON value against a dataclass field's type; nested dataclasses recurse."""
    if dataclasses.is_dataclass(annotation):
        if not isinstance(value, Mapping):
            raise _fail(env, path, f"expected an object, got {value!r}")
        return _build(env, path + ".", annotation, value)
    origin = typing.get_origin(annotation)
    if origin is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _fail(env, path, f"expected a list of strings, got {value!r}")
        return tuple(value)
    # bool is a subclass of int in Python: reject true/false where a number is expected, and vice versa.
    if annotation is int and (not isinstance(value, int) or isinstance(value, bool)):
        raise _fail(env, path, f"expected an integer, got {value!r}")
    if annotation is bool and not isinstance(value, bool):
        raise _fail(env, path, f"expected true or false, got {value!r}")
    if annotation is str and not isinstance(value, str):
        raise _fail(env, path, f"expected a string, got {value!r}")
    return value


def _build(env: str, prefix: str, cls: type, raw: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in fields or key == "name":
            raise _fail(env, prefix + key, f"unknown setting: remove it or use one of {', '.join(sorted(set(fields) - {'name'}))}")
    values: dict[str, Any] = dict(extra or {})
    for name, f in fields.items():
        if name in values:
            continue
        path = prefix + name
        if name not in raw:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise _fail(env, path, "missing: add it to this environment's block")
            continue
        value = _coerce(env, path, hints[name], raw[name])
        validator = f.metadata.get("check")
        if validator is not None and not validator(value):
            raise _fail(env, path, f"{raw[name]!r} is invalid: use {f.metadata['expected']}")
        values[name] = value
    return cls(**values)


def load_config(env_name: str | None, environments: Any) -> EnvironmentConfig:
    """Validate and freeze one environment's block of the ``environments`` context. Raises ConfigError (one line)."""
    env = env_name or DEFAULT_ENVIRONMENT
    if env not in ENVIRONMENT_NAMES:
        raise ConfigError(f"unknown environment {env!r}: use -c env=dev, -c env=staging or -c env=prod")
    if not isinstance(environments, Mapping):
        raise ConfigError(f'cdk.json context "{CONTEXT_KEY}" is missing or not an object: restore it from the repository')
    raw = environments.get(env)
    if not isinstance(raw, Mapping):
        raise ConfigError(f'cdk.json context environments.{env} is missing: add a block for "{env}"')
    cfg = _build(env, "", EnvironmentConfig, raw, extra={"name": env})
    errors = _cross_field_errors(cfg)
    if errors:
        path, message = errors[0]
        raise _fail(env, path, message)
    return cfg
