from __future__ import annotations

from typing import Any

from aws_cdk import Stack, aws_kms as kms
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.data_lake import DataLake
from infra.constructs.network import PlatformNetwork
from infra.constructs.warehouse import Warehouse
from infra.stacks.common import log_retention, removal_policy


class WarehouseStack(Stack):
    """Redshift Serverless and its Spectrum role."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, data_key: kms.IKey,
                 logs_key: kms.IKey, lake: DataLake, network: PlatformNetwork, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.warehouse = Warehouse(
            self,
            "Warehouse",
            settings=config.warehouse,
            name=config.resource_prefix,
            vpc=network.vpc,
            subnets=network.subnets,
            data_key=data_key,
            spectrum_role=lake.spectrum_role,
            log_group_key=logs_key,
            log_retention=log_retention(config),
            removal_policy=removal_policy(config),
            # only where QuickSight exists (infra/stage.py): no login without a consumer
            quicksight_login=bool(config.quicksight.principal_arn),
        )
