from __future__ import annotations

from typing import Any

from aws_cdk import Stack, aws_kms as kms
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.network import PlatformNetwork
from infra.stacks.common import log_retention, removal_policy


class NetworkStack(Stack):
    """The isolated VPC, its endpoints and flow logs."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, logs_key: kms.IKey,
                 **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.network = PlatformNetwork(
            self,
            "Network",
            cidr=config.vpc_cidr,
            availability_zones=config.availability_zones,
            logs_key=logs_key,
            log_retention=log_retention(config),
            removal_policy=removal_policy(config),
        )
