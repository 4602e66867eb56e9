from __future__ import annotations

from typing import Any

from aws_cdk import Stack, aws_kms as kms
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.audit_trail import AuditTrail
from infra.constructs.data_lake import DataLake
from infra.stacks.common import log_retention, removal_policy


class AuditStack(Stack):
    """CloudTrail and its bucket/log group. Separate from SecurityStack because the trail's S3 data events name the
    lake buckets, and the lake buckets use the keys: keys → lake → trail is a line, keys+trail ↔ lake a cycle."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, logs_key: kms.IKey,
                 lake: DataLake, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.audit = AuditTrail(
            self,
            "Trail",
            logs_key=logs_key,
            access_logs_bucket=lake.access_logs,
            data_event_buckets=[lake.landing, lake.raw],
            log_retention=log_retention(config),
            noncurrent_version_expiry_days=config.retention.noncurrent_version_expiry_days,
            object_lock_days=config.retention.audit_object_lock_days,
            removal_policy=removal_policy(config),
        )
