from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.network import PlatformNetwork
from infra.constructs.quicksight import QuickSightAnalytics
from infra.constructs.warehouse import REDSHIFT_PORT, Warehouse


class QuickSightStack(Stack):
    """QuickSight datasets and dashboards over the warehouse marts."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, network: PlatformNetwork,
                 warehouse: Warehouse, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        if warehouse.quicksight_login is None:
            raise ValueError("the warehouse has no QuickSight login: build it with quicksight_login=True (infra/stacks/"
                             "warehouse.py does when quicksight.principal_arn is set)")
        self.analytics = QuickSightAnalytics(
            self,
            "QuickSight",
            name_prefix=config.resource_prefix,
            principal_arn=config.quicksight.principal_arn,
            vpc=network.vpc,
            subnets=network.subnets,
            warehouse_security_group=warehouse.security_group,
            warehouse_host=warehouse.workgroup.attr_workgroup_endpoint_address,
            warehouse_port=REDSHIFT_PORT,
            database_name=warehouse.database_name,
            credentials=warehouse.quicksight_login,
            region_access=config.quicksight.region_access,
        )
