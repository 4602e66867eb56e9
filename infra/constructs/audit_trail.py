"""CloudTrail: multi-region management events plus S3 data events on the buckets holding customer data."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import RemovalPolicy
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.constructs.secure_bucket import SecureBucket


class AuditTrail(Construct):
    """Attributes: ``trail``, ``trail_bucket``, ``log_group``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        logs_key: kms.IKey,
        access_logs_bucket: s3.IBucket,
        data_event_buckets: Sequence[s3.IBucket],
        log_retention: logs.RetentionDays,
        noncurrent_version_expiry_days: int,
        object_lock_days: int,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.trail_bucket = SecureBucket(
            self,
            "TrailBucket",
            encryption_key=logs_key,
            access_logs_bucket=access_logs_bucket,
            # Locked objects cannot be deleted anyway; never let a stack deletion try to drop audit evidence.
            removal_policy=RemovalPolicy.RETAIN if object_lock_days else removal_policy,
            noncurrent_version_expiry_days=noncurrent_version_expiry_days,
            object_lock_days=object_lock_days,
        ).bucket
        self.log_group = logs.LogGroup(
            self,
            "TrailLogGroup",
            encryption_key=logs_key,
            retention=log_retention,
            removal_policy=removal_policy,
        )
        self.trail = cloudtrail.Trail(
            self,
            "Trail",
            bucket=self.trail_bucket,
            encryption_key=logs_key,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_file_validation=True,
            management_events=cloudtrail.ReadWriteType.ALL,
            send_to_cloud_watch_logs=True,
            cloud_watch_log_group=self.log_group,
        )
        # Object-level reads and writes of customer data (who touched which extract/partition) — PCI DSS 10.2.
        self.trail.add_s3_event_selector(
            [cloudtrail.S3EventSelector(bucket=b) for b in data_event_buckets],
            include_management_events=True,
            read_write_type=cloudtrail.ReadWriteType.ALL,
        )
