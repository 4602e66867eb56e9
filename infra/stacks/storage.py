from __future__ import annotations

from typing import Any

from aws_cdk import Stack, aws_kms as kms
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.data_lake import DataLake
from infra.stacks.common import removal_policy


class StorageStack(Stack):
    """The data lake buckets, the access-log bucket and the Glue Data Catalog database."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, data_key: kms.IKey,
                 **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.lake = DataLake(
            self,
            "Lake",
            data_key=data_key,
            retention=config.retention,
            removal_policy=removal_policy(config),
            glue_database_name=config.glue_database_name,
        )
