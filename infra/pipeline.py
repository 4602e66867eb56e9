"""Delivery pipeline on merge: a self-mutating CDK Pipelines CodePipeline that tests, synthesizes and deploys the
platform dev -> staging -> (manual approval) -> prod.

``cdk deploy -c pipeline=true`` builds it instead of one environment (app.py). It is hosted in the account and
region of the ONE environment whose ``cicd.connection_arn`` is set in cdk.json (prod in this repository: the most
restricted account deploys into the others, never the other way round); the other accounts trust it through
``cdk bootstrap --trust`` (README "Deploy").

- Source: the repository and branch of ``cicd`` through a CodeConnections (GitHub/GitLab/Bitbucket) connection,
  triggered on every push to the branch, i.e. on merge.
- Synth step (Debian bookworm image, see SYNTH_IMAGE): ``make install`` (pinned .venv + Node 22/CDK CLI from
  package-lock), ``.ci/run`` (the whole test suite, PostgreSQL included: the same entry point pull requests run),
  then ``cdk synth -c pipeline=true``. A failing test stops the release before anything is deployed.
- Artifacts: the pipeline's own SecureBucket (versioned, TLS-only, access-logged, RETAIN) encrypted with a
  customer-managed KMS key (rotation on). CDK Pipelines grants the target accounts' deploy roles on bucket and key
  (what ``cross_account_keys`` would do with a bucket of its own, which would not be access-logged or versioned);
  the CodeBuild projects encrypt their output with the same key.
- Self-mutation: the pipeline updates itself from the synthesized assembly before deploying, with the pinned CLI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App, Duration, Environment, RemovalPolicy, Stack, Tags
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_kms as kms
from aws_cdk import pipelines
from cdk_nag import NagPack
from constructs import Construct

from infra import compliance
from infra.config import CONTEXT_KEY, ENVIRONMENT_NAMES, ConfigError, EnvironmentConfig, load_config
from infra.constructs.secure_bucket import AccessLogsBucket, SecureBucket
from infra.stage import PlatformStage

REPO_ROOT = Path(__file__).resolve().parents[1]
PIPELINE_CONTEXT_KEY = "pipeline"
PIPELINE_STACK_ID = "Delivery"
PROMOTION_STEP = "PromoteToProd"
# The CLI the self-mutation and asset steps install: the version package.json pins, never "latest".
CDK_CLI_VERSION = json.loads((REPO_ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
SYNTH_COMMANDS = (
    "make install",
    ".ci/run",
    "node_modules/.bin/cdk synth -c pipeline=true --quiet",
)
# Self-mutation and asset publishing: CodeBuild's curated, AWS-patched image.
BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0
# The synth step runs the whole test suite, so it runs where the suite is known to pass: Debian bookworm with
# Python 3.11 (like .venv and the pull-request workflow), from the Docker official image mirrored on ECR Public (no
# Docker Hub rate limit, no credentials). The curated Ubuntu image cannot install Debian's chromium (Ubuntu ships it
# as a snap) that the dashboard rendering test needs.
SYNTH_IMAGE = "public.ecr.aws/docker/library/python:3.11-bookworm"
SYNTH_SYSTEM_PACKAGES = ("default-jre-headless", "nodejs", "npm")  # Java 17 for Spark; npm for the pinned CDK CLI


def wants_pipeline(app: App) -> bool:
    return str(app.node.try_get_context(PIPELINE_CONTEXT_KEY) or "").lower() in ("1", "true", "yes")


def load_all_configs(environments: Any) -> dict[str, EnvironmentConfig]:
    return {name: load_config(name, environments) for name in ENVIRONMENT_NAMES}


def pipeline_host(configs: dict[str, EnvironmentConfig]) -> EnvironmentConfig:
    hosts = [c for c in configs.values() if c.cicd.connection_arn]
    if len(hosts) != 1:
        names = ", ".join(c.name for c in hosts) or "none"
        raise ConfigError(f"cdk.json context environments.*.cicd.connection_arn: set in exactly one environment "
                          f"(the pipeline's host), found {names}: keep it only in the hosting environment")
    host = hosts[0]
    if not host.cicd.repository:
        raise ConfigError(f"cdk.json context environments.{host.name}.cicd.repository: missing: set owner/name of the "
                          "repository the pipeline builds")
    return host


class DeliveryPipelineStack(Stack):
    """Attributes: ``pipeline`` (pipelines.CodePipeline), ``stages`` ({env name: PlatformStage}), ``source``."""

    def __init__(self, scope: Construct, construct_id: str, *, host: EnvironmentConfig,
                 configs: dict[str, EnvironmentConfig], **kwargs: Any) -> None:
        super().__init__(scope, construct_id, env=Environment(account=host.account, region=host.region), **kwargs)
        cicd = host.cicd
        self.source = pipelines.CodePipelineSource.connection(
            cicd.repository, cicd.branch, connection_arn=cicd.connection_arn, trigger_on_push=True,
        )
        self.artifacts_key = kms.Key(self, "ArtifactsKey", enable_key_rotation=True, removal_policy=RemovalPolicy.RETAIN,
                                     description="Delivery pipeline artifacts (sources, cloud assembly)")
        access_logs = AccessLogsBucket(self, "AccessLogs", removal_policy=RemovalPolicy.RETAIN,
                                       noncurrent_version_expiry_days=host.retention.noncurrent_version_expiry_days,
                                       expiry_days=host.retention.log_retention_days).bucket
        self.artifacts_bucket = SecureBucket(
            self, "Artifacts", encryption_key=self.artifacts_key, access_logs_bucket=access_logs,
            removal_policy=RemovalPolicy.RETAIN,
            noncurrent_version_expiry_days=host.retention.noncurrent_version_expiry_days,
        ).bucket
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            code_pipeline=codepipeline.Pipeline(
                self, "CodePipeline", pipeline_name=f"{host.name_prefix}-delivery",
                artifact_bucket=self.artifacts_bucket, pipeline_type=codepipeline.PipelineType.V2,
                # Re-running a release must not race a newer one through the environments.
                execution_mode=codepipeline.ExecutionMode.QUEUED, restart_execution_on_update=True,
            ),
            self_mutation=True,
            cli_version=CDK_CLI_VERSION,
            # One asset-publishing project for all file assets instead of one per asset (fewer roles to review).
            publish_assets_in_parallel=False,
            # No Docker anywhere in this project (Lambda code is packaged without bundling).
            docker_enabled_for_synth=False,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(build_image=BUILD_IMAGE),
                timeout=Duration.minutes(30),
            ),
            synth=pipelines.CodeBuildStep(
                "Synth",
                input=self.source,
                build_environment=codebuild.BuildEnvironment(
                    build_image=codebuild.LinuxBuildImage.from_docker_registry(SYNTH_IMAGE),
                    # Spark + dbt on DuckDB and PostgreSQL + three synthesized environments: 15 GB, 8 vCPUs.
                    compute_type=codebuild.ComputeType.LARGE,
                ),
                install_commands=[
                    "apt-get update -qq",
                    "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "
                    + " ".join(SYNTH_SYSTEM_PACKAGES),
                ],
                env={"CDK_DISABLE_CLI_TELEMETRY": "true", "CDK_DISABLE_VERSION_CHECK": "true"},
                commands=list(SYNTH_COMMANDS),
                primary_output_directory="cdk.out",
                timeout=Duration.minutes(60),
            ),
        )
        self.stages: dict[str, PlatformStage] = {}
        for name in ENVIRONMENT_NAMES:
            stage = PlatformStage(self, config=configs[name])
            self.stages[name] = stage
            pre = []
            if configs[name].production:
                pre.append(pipelines.ManualApprovalStep(
                    PROMOTION_STEP,
                    comment=f"Promote to {name}: staging is deployed and the review pack (review/{name}.md) of this "
                            "commit is approved.",
                ))
            self.pipeline.add_stage(stage, pre=pre)
        # The Pipeline construct is built lazily; build it now so its resources exist for nag and acknowledgments.
        self.pipeline.build_pipeline()
        Tags.of(self).add("project", host.name_prefix)
        Tags.of(self).add("environment", "delivery")


@dataclass
class Delivery:
    app: App
    stack: DeliveryPipelineStack
    configs: dict[str, EnvironmentConfig]
    packs: list[NagPack]


def build_delivery_pipeline(app: App, *, acknowledge: bool = True, nag: bool = True) -> Delivery:
    """The pipeline app: every environment's Stage inside the pipeline stack. Raises ConfigError (one line)."""
    configs = load_all_configs(app.node.try_get_context(CONTEXT_KEY))
    host = pipeline_host(configs)
    stack = DeliveryPipelineStack(app, PIPELINE_STACK_ID, host=host, configs=configs,
                                  stack_name=f"{host.name_prefix}-delivery",
                                  description="Delivery pipeline: test, synth, dev -> staging -> approval -> prod",
                                  termination_protection=True)
    if acknowledge:
        for name, stage in stack.stages.items():
            compliance.apply_acknowledgments(stage, configs[name])
        compliance.apply_pipeline_acknowledgments(stack, host)
    packs = compliance.register_packs(app) if nag else []
    return Delivery(app=app, stack=stack, configs=configs, packs=packs)
