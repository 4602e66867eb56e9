"""One Stage per environment: the whole platform of dev, staging or prod, composed from stacks.

Stack graph (arrows = "depends on"; there are no cycles, keep it that way):

    Security (KMS keys)
      ^  Storage (lake buckets, access logs, Glue database)   <- Audit (CloudTrail, data events on landing/raw)
      ^  Network (isolated VPC, endpoints, flow logs)
      ^  Warehouse (Redshift Serverless; Storage, Network)
      ^  Ingestion (Glue jobs, raw catalog tables; Storage)
      ^  QuickSight (data source, datasets, dashboards; Network, Warehouse) - only with a QuickSight principal
      ^  Orchestration (CodeBuild dbt runner, Lambdas, Step Functions, SNS, alarms; Storage, Network, Warehouse,
      |                 Ingestion's job names, QuickSight's dataset ids)
      WarehouseBootstrap (schemas, roles, grants, masked views; Warehouse, Orchestration's dbt runner,
                          model trainer and report job roles)
      QuickSight also deploys after WarehouseBootstrap (its database user must exist first).

A new stack goes in ``PlatformStage.__init__`` below, after the stacks it uses, with a fixed construct id — the id
is part of every logical ID and stack name, so never rename one. CI/CD (CDK Pipelines) wraps Stages in app.py.

To avoid cross-stack cycles, grant in the *consumer's* stack (``lake.raw.grant_read(my_role)`` puts the statement
on ``my_role``; the data key's policy already delegates to IAM), never edit another stack's key or bucket policy
with references to your resources, and add your nag acknowledgments to infra/compliance.py.
"""

from __future__ import annotations

from aws_cdk import Environment, Stage, Tags
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.stacks.audit import AuditStack
from infra.stacks.ingestion import IngestionStack
from infra.stacks.network import NetworkStack
from infra.stacks.orchestration import OrchestrationStack
from infra.stacks.quicksight import QuickSightStack
from infra.stacks.redshift_bootstrap import RedshiftBootstrapStack
from infra.stacks.security import SecurityStack
from infra.stacks.storage import StorageStack
from infra.stacks.warehouse import WarehouseStack


class PlatformStage(Stage):
    """Attributes: ``config``, ``security``, ``storage``, ``audit``, ``network``, ``warehouse``, ``ingestion``,
    ``quicksight`` (None without a QuickSight principal), ``orchestration`` (the stacks)."""

    def __init__(self, scope: Construct, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, config.stage_id, env=Environment(account=config.account, region=config.region))
        self.config = config
        # Pin the AZ lookup the VPC would otherwise do against the account (needs credentials at synth): this is
        # the value `cdk context` would cache in cdk.context.json, taken from the config instead.
        self.node.set_context(f"availability-zones:account={config.account}:region={config.region}",
                              config.availability_zones)
        common = dict(config=config, termination_protection=config.production)

        def name(stack_id: str) -> str:
            return f"{config.resource_prefix}-{stack_id.lower()}"

        self.security = SecurityStack(self, "Security", stack_name=name("Security"),
                                      description="KMS keys for data and logs", **common)
        self.storage = StorageStack(self, "Storage", stack_name=name("Storage"), data_key=self.security.data_key,
                                    description="Data lake buckets and Glue database", **common)
        self.audit = AuditStack(self, "Audit", stack_name=name("Audit"), logs_key=self.security.logs_key,
                                lake=self.storage.lake, description="CloudTrail with S3 data events", **common)
        self.network = NetworkStack(self, "Network", stack_name=name("Network"), logs_key=self.security.logs_key,
                                    description="Isolated VPC, endpoints, flow logs", **common)
        self.warehouse = WarehouseStack(self, "Warehouse", stack_name=name("Warehouse"),
                                        data_key=self.security.data_key, logs_key=self.security.logs_key,
                                        lake=self.storage.lake, network=self.network.network,
                                        description="Redshift Serverless warehouse", **common)
        self.ingestion = IngestionStack(self, "Ingestion", stack_name=name("Ingestion"),
                                        data_key=self.security.data_key, logs_key=self.security.logs_key,
                                        lake=self.storage.lake, description="Glue ingest jobs and raw catalog tables",
                                        **common)
        # QuickSight is optional per environment: an empty quicksight.principal_arn skips it (no subscription).
        self.quicksight = (
            QuickSightStack(self, "QuickSight", stack_name=name("QuickSight"), network=self.network.network,
                            warehouse=self.warehouse.warehouse, description="QuickSight datasets and dashboards",
                            **common)
            if config.quicksight.principal_arn else None
        )
        # The pipeline starts the ingestion stack's Glue jobs ({table: job name}) and refreshes the QuickSight
        # stack's datasets (empty = no such step, e.g. an environment without a QuickSight principal).
        self.orchestration = OrchestrationStack(self, "Orchestration", stack_name=name("Orchestration"),
                                                data_key=self.security.data_key, logs_key=self.security.logs_key,
                                                lake=self.storage.lake, network=self.network.network,
                                                warehouse=self.warehouse.warehouse,
                                                ingest_jobs=self.ingestion.ingestion.job_names,
                                                quicksight_dataset_ids=(self.quicksight.analytics.dataset_ids
                                                                        if self.quicksight else []),
                                                description="Pipeline: dbt runner, Lambdas, Step Functions, alerts",
                                                **common)
        # After Orchestration: the bootstrap grants the dbt runner's role (database user IAMR:<role name>).
        self.warehouse_bootstrap = RedshiftBootstrapStack(
            self, "WarehouseBootstrap", stack_name=name("WarehouseBootstrap"), data_key=self.security.data_key,
            logs_key=self.security.logs_key, lake=self.storage.lake, network=self.network.network,
            warehouse=self.warehouse.warehouse, dbt_runner_role=self.orchestration.orchestration.dbt_runner.role,
            model_trainer_role=self.orchestration.orchestration.model_trainer.role,
            report_job_role=self.orchestration.orchestration.report_job.role,
            description="Redshift schemas, roles, grants and masked views (SQL via the Data API)", **common)

        if self.quicksight:
            # The data source signs in as the database user the bootstrap creates: deploy the user first.
            self.quicksight.add_stack_dependency(self.warehouse_bootstrap, "QuickSight's database user must exist")

        for stack in self.stacks:
            Tags.of(stack).add("project", config.name_prefix)
            Tags.of(stack).add("environment", config.name)
            Tags.of(stack).add("data-classification", "confidential")

    @property
    def stacks(self) -> list:
        """Every stack of the stage, in dependency order (new stacks append themselves here via node children)."""
        from aws_cdk import Stack

        return [c for c in self.node.children if isinstance(c, Stack)]
