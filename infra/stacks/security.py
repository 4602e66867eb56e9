from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.keys import PlatformKeys
from infra.stacks.common import removal_policy


class SecurityStack(Stack):
    """The customer-managed keys. Nothing else lives here, so every stack can depend on it (no cycles)."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.keys = PlatformKeys(self, "Keys", removal_policy=removal_policy(config))
        self.data_key = self.keys.data_key
        self.logs_key = self.keys.logs_key
