from __future__ import annotations

from typing import Any

from aws_cdk import Stack, aws_iam as iam, aws_kms as kms
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.data_lake import DataLake
from infra.constructs.network import PlatformNetwork
from infra.constructs.redshift_bootstrap import RedshiftBootstrap
from infra.constructs.warehouse import Warehouse
from infra.stacks.common import log_retention, removal_policy


class RedshiftBootstrapStack(Stack):
    """Schemas, roles, grants and masked views inside the warehouse. Its own stack, after Orchestration: it needs the
    dbt runner's role name (database user ``IAMR:<role name>``), and the warehouse must exist before SQL can run."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, data_key: kms.IKey,
                 logs_key: kms.IKey, lake: DataLake, network: PlatformNetwork, warehouse: Warehouse,
                 dbt_runner_role: iam.IRole, model_trainer_role: iam.IRole, report_job_role: iam.IRole, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.bootstrap = RedshiftBootstrap(
            self,
            "Bootstrap",
            workgroup_name=warehouse.workgroup_name,
            workgroup_arn=warehouse.workgroup_arn,
            database_name=warehouse.database_name,
            admin_secret_arn=warehouse.admin_secret_arn,
            data_key=data_key,
            glue_database_name=lake.glue_database_name,
            spectrum_role_arn=warehouse.spectrum_role.role_arn,
            dbt_role_name=dbt_runner_role.role_name,
            trainer_role_name=model_trainer_role.role_name,
            report_role_name=report_job_role.role_name,
            # dbt/profiles.yml has one Redshift target per environment, named like it.
            dbt_target=config.name,
            quicksight_login=warehouse.quicksight_login,
            vpc=network.vpc,
            subnets=network.subnets,
            endpoint_security_group=network.endpoint_security_group,
            logs_key=logs_key,
            log_retention=log_retention(config),
            removal_policy=removal_policy(config),
        )
