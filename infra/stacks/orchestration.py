from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration, Stack, aws_kms as kms, aws_s3 as s3
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.data_lake import DataLake
from infra.constructs.network import PlatformNetwork
from infra.constructs.orchestration import Orchestration
from infra.constructs.warehouse import Warehouse
from infra.stacks.common import log_retention, removal_policy


class OrchestrationStack(Stack):
    """The pipeline: CodeBuild dbt runner, orchestration Lambdas, Step Functions, triggers, alerts, dashboard.

    ``ingest_jobs`` ({source table: Glue job name}) and ``quicksight_dataset_ids`` come from the ingestion and
    QuickSight stacks; either may be empty while that stack does not exist (the pipeline then has no such step).
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, data_key: kms.IKey,
                 logs_key: kms.IKey, lake: DataLake, network: PlatformNetwork, warehouse: Warehouse,
                 ingest_jobs: Mapping[str, str], quicksight_dataset_ids: Sequence[str], **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # The artifacts bucket comes in through an explicit export: IAM resources then carry the same
        # Fn::ImportValue before and during synthesis, so the nag acknowledgments of its per-prefix wildcards
        # (infra/compliance.py) match both (an implicit cross-stack reference renders differently in each).
        artifacts_arn = Stack.of(lake.artifacts).export_value(
            lake.artifacts.bucket_arn, name=f"{config.resource_prefix}-artifacts-bucket-arn")
        artifacts = s3.Bucket.from_bucket_attributes(self, "ArtifactsBucket", bucket_arn=artifacts_arn,
                                                     encryption_key=data_key)
        # The raw bucket the same way (the report job reads the ingest manifests under manifests/).
        raw_arn = Stack.of(lake.raw).export_value(lake.raw.bucket_arn, name=f"{config.resource_prefix}-raw-bucket-arn")
        raw = s3.Bucket.from_bucket_attributes(self, "RawBucket", bucket_arn=raw_arn, encryption_key=data_key)
        self.orchestration = Orchestration(
            self,
            "Orchestration",
            name_prefix=config.resource_prefix,
            vpc=network.vpc,
            subnets=network.subnets,
            endpoint_security_group=network.endpoint_security_group,
            data_key=data_key,
            logs_key=logs_key,
            artifacts_bucket=artifacts,
            raw_bucket=raw,
            access_logs_bucket=lake.access_logs,
            workgroup_name=warehouse.workgroup_name,
            workgroup_arn=warehouse.workgroup_arn,
            workgroup_security_group=warehouse.security_group,
            database_name=warehouse.database_name,
            # dbt/profiles.yml has one Redshift target per environment, named like it.
            dbt_target=config.name,
            ingest_jobs=ingest_jobs,
            quicksight_dataset_ids=quicksight_dataset_ids,
            alert_emails=config.alert_emails,
            schedule_expression=config.pipeline.schedule_expression,
            schedule_enabled=config.pipeline.schedule_enabled,
            usage_limit_rpu_hours=config.warehouse.usage_limit_rpu_hours,
            usage_limit_period=config.warehouse.usage_limit_period,
            retrain_schedule_expression=config.models.retrain_schedule_expression,
            retrain_enabled=config.models.retrain_enabled,
            training_compute=config.models.training_compute,
            training_timeout=Duration.minutes(config.models.training_timeout_minutes),
            executive_schedule_expression=config.reports.executive_schedule_expression,
            executive_enabled=config.reports.executive_enabled,
            regulatory_after_pipeline=config.reports.regulatory_after_pipeline,
            reports_object_lock_days=config.reports.object_lock_days,
            noncurrent_version_expiry_days=config.retention.noncurrent_version_expiry_days,
            log_retention=log_retention(config),
            removal_policy=removal_policy(config),
        )
