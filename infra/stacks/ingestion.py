from __future__ import annotations

from typing import Any

from aws_cdk import Stack, aws_kms as kms
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.data_lake import DataLake
from infra.constructs.ingestion import Ingestion
from infra.stacks.common import log_retention, removal_policy


class IngestionStack(Stack):
    """The Glue ingest jobs (one per source table), their security configuration and role, and the raw catalog
    tables of one environment. ``ingestion.job_names`` ({table: job name}) feeds the orchestration stack."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, data_key: kms.IKey,
                 logs_key: kms.IKey, lake: DataLake, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.ingestion = Ingestion(
            self, "Ingestion", lake=lake, data_key=data_key, logs_key=logs_key, glue_config=config.glue,
            name_prefix=config.resource_prefix,
            # Flex (spare capacity, cheaper, may start later) only where the config allows it and never in prod.
            flex=config.glue.flex_execution and not config.production,
            log_retention=log_retention(config), removal_policy=removal_policy(config),
        )
