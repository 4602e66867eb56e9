"""Small translations from config values to CDK values, shared by the stacks."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs

from infra.config import LOG_RETENTION_DAYS, EnvironmentConfig

# RetentionDays lists CloudWatch's accepted values in ascending order, as config.LOG_RETENTION_DAYS does;
# tests/infra checks the synthesized RetentionInDays equals the configured number.
_RETENTION = dict(zip(LOG_RETENTION_DAYS, [r for r in logs.RetentionDays if r is not logs.RetentionDays.INFINITE], strict=True))


def removal_policy(config: EnvironmentConfig) -> RemovalPolicy:
    # RETAIN unless the environment explicitly opted into "destroy" (validation forbids it for production).
    return RemovalPolicy.DESTROY if config.destroy_on_removal else RemovalPolicy.RETAIN


def log_retention(config: EnvironmentConfig) -> logs.RetentionDays:
    return _RETENTION[config.retention.log_retention_days]
