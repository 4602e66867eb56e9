"""The dbt runner: a CodeBuild project that runs the repository's dbt project against Redshift Serverless.

Choices (issue 5):
- Packages: CodeArtifact with a PyPI upstream, reached through the VPC's codeartifact.api/.repositories interface
  endpoints (the network construct creates them) — not a prebuilt image. A custom image would need Docker to build
  and an ECR pipeline to patch; CodeBuild's curated image is patched by AWS, and the pinned requirements file
  (infra/assets/dbt_runner/requirements.txt, the full dependency closure, installed with --no-deps) keeps the
  installed set exact. CodeArtifact also caches every version it served, so a package pulled from PyPI later still
  installs.
- Source: the dbt/ folder is an S3 asset (no Git credentials in the account); the runner scripts are a second asset.
- Models: each build first fetches the promoted models' dbt macros by the retraining step's manifest
  (models/promoted.json in the artifacts bucket; fetch_models.py checks every hash) - read-only on those keys.
- Redshift: dbt-redshift `method: iam_role` (dbt/profiles.yml) — the build role calls
  redshift-serverless:GetCredentials; no password is stored anywhere. The database user is IAMR:<role name>.
- Isolation: isolated subnets, own security group (HTTPS to endpoints, 5439 to the workgroup only); CloudWatch logs
  encrypted with the logs key; build artifacts and uploads encrypted with the data key.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_codeartifact as codeartifact
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from ml.artifacts import MANIFEST as MODELS_MANIFEST
from ml.artifacts import PREFIX as MODELS_PREFIX

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt"
RUNNER_ASSET_DIR = REPO_ROOT / "infra" / "assets" / "dbt_runner"
# Local build output and state never ship (they would also change the asset hash on every local run).
DBT_ASSET_EXCLUDES = ["target", "logs", "dbt_packages", "*.duckdb", "*.duckdb.wal", ".user.yml", "__pycache__"]
RUNNER_SOURCE_ID = "runner"
# CodeBuild standard:7.0 (Ubuntu 22.04) ships Python 3.12, a version dbt-core 1.11 supports.
BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0
PYTHON_RUNTIME = "3.12"
REDSHIFT_PORT = 5439
ARTIFACTS_PREFIX = "dbt-runs"


class DbtRunner(Construct):
    """Attributes: ``project`` (codebuild.Project), ``project_name``, ``role``, ``log_group``, ``security_group``,
    ``codeartifact_domain_name``, ``codeartifact_repository_name``, ``artifacts_prefix``, ``timeout``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        endpoint_security_group: ec2.ISecurityGroup,
        data_key: kms.IKey,
        logs_key: kms.IKey,
        artifacts_bucket: s3.IBucket,
        codeartifact_domain_name: str,
        workgroup_name: str,
        workgroup_arn: str,
        workgroup_security_group: ec2.ISecurityGroup,
        database_name: str,
        dbt_target: str,
        timeout: Duration,
        heartbeat_seconds: int,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
        dbt_project_dir: Path = DBT_PROJECT_DIR,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.timeout = timeout
        self.artifacts_prefix = ARTIFACTS_PREFIX
        if not (dbt_project_dir / "dbt_project.yml").is_file():
            raise FileNotFoundError(f"{dbt_project_dir}/dbt_project.yml not found: the dbt runner ships that folder")

        # --- package mirror: PyPI through CodeArtifact (fixed names: the buildspec logs in by name) -------------
        self.codeartifact_domain_name = codeartifact_domain_name
        self.codeartifact_repository_name = "dbt-runner"
        domain = codeartifact.CfnDomain(self, "PackageDomain", domain_name=codeartifact_domain_name)
        pypi_store = codeartifact.CfnRepository(
            self,
            "PypiStore",
            domain_name=domain.attr_name,
            repository_name="pypi-store",
            description="Cache of public PyPI (external connection)",
            external_connections=["public:pypi"],
        )
        repository = codeartifact.CfnRepository(
            self,
            "RunnerRepository",
            domain_name=domain.attr_name,
            repository_name=self.codeartifact_repository_name,
            description="Packages of the dbt runner; upstream: the PyPI cache",
            upstreams=[pypi_store.attr_name],
        )

        # --- sources: the dbt project and the runner scripts, as assets -------------------------------------------
        dbt_asset = s3_assets.Asset(self, "DbtProject", path=str(dbt_project_dir), exclude=DBT_ASSET_EXCLUDES)
        runner_asset = s3_assets.Asset(self, "RunnerScripts", path=str(RUNNER_ASSET_DIR))

        self.security_group = build_security_group(self, vpc=vpc, description="dbt runner (CodeBuild)",
                                                   endpoint_security_group=endpoint_security_group,
                                                   workgroup_security_group=workgroup_security_group, purpose="dbt")

        self.log_group = logs.LogGroup(
            self, "BuildLogs", encryption_key=logs_key, retention=log_retention, removal_policy=removal_policy
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
            description="dbt runner: read sources, log in to CodeArtifact, connect to Redshift via IAM, write artifacts",
        )
        environment_variables = {
            "DBT_TARGET": dbt_target,
            "REDSHIFT_HOST": f"{workgroup_name}.{stack.account}.{stack.region}.redshift-serverless.amazonaws.com",
            "REDSHIFT_PORT": str(REDSHIFT_PORT),
            "REDSHIFT_DATABASE": database_name,
            "CODEARTIFACT_DOMAIN": codeartifact_domain_name,
            "CODEARTIFACT_DOMAIN_OWNER": stack.account,
            "CODEARTIFACT_REPOSITORY": self.codeartifact_repository_name,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "HEARTBEAT_SECONDS": str(heartbeat_seconds),
            # What dbt scores with: the retraining step's manifest (run_dbt.sh build -> fetch_models.py).
            "MODELS_MANIFEST_S3_URI": f"s3://{artifacts_bucket.bucket_name}/{MODELS_PREFIX}/{MODELS_MANIFEST}",
        }
        runner = f"$CODEBUILD_SRC_DIR_{RUNNER_SOURCE_ID}/run_dbt.sh"
        self.project = codebuild.Project(
            self,
            "Project",
            description="Runs dbt source freshness then dbt build for one pipeline execution",
            role=self.role,
            source=codebuild.Source.s3(bucket=dbt_asset.bucket, path=dbt_asset.s3_object_key),
            secondary_sources=[
                codebuild.Source.s3(
                    bucket=runner_asset.bucket, path=runner_asset.s3_object_key, identifier=RUNNER_SOURCE_ID
                )
            ],
            environment=codebuild.BuildEnvironment(
                build_image=BUILD_IMAGE,
                compute_type=codebuild.ComputeType.SMALL,
                environment_variables={
                    k: codebuild.BuildEnvironmentVariable(value=v) for k, v in environment_variables.items()
                },
            ),
            build_spec=codebuild.BuildSpec.from_object(
                {
                    "version": "0.2",
                    "env": {"shell": "bash"},
                    "phases": {
                        "install": {
                            "runtime-versions": {"python": PYTHON_RUNTIME},
                            "commands": [f'bash "{runner}" install'],
                        },
                        "build": {
                            "commands": [f'bash "{runner}" build'],
                            # Runs even when dbt fails: the callback needs run_results.json to name failing tests.
                            "finally": [f'bash "{runner}" upload'],
                        },
                    },
                }
            ),
            vpc=vpc,
            subnet_selection=subnets,
            security_groups=[self.security_group],
            encryption_key=data_key,
            timeout=timeout,
            queued_timeout=Duration.minutes(30),
            concurrent_build_limit=1,  # one dbt build at a time: two would race on the same schemas
            logging=codebuild.LoggingOptions(cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=self.log_group)),
        )
        self.project_name = self.project.project_name

        dbt_asset.grant_read(self.role)
        runner_asset.grant_read(self.role)
        artifacts_bucket.grant_put(self.role, f"{ARTIFACTS_PREFIX}/*")
        # The promoted models: the manifest and the dbt macros it names (the retraining step writes both).
        self.role.add_to_policy(iam.PolicyStatement(
            sid="PromotedModelsRead", actions=["s3:GetObject"],
            resources=[artifacts_bucket.arn_for_objects(f"{MODELS_PREFIX}/{MODELS_MANIFEST}"),
                       artifacts_bucket.arn_for_objects(f"{MODELS_PREFIX}/dbt_macros/*")]))
        # No manifest yet (no retraining has run) must read as a 404, not a 403: ListBucket on that prefix only.
        self.role.add_to_policy(iam.PolicyStatement(
            sid="PromotedModelsList", actions=["s3:ListBucket"], resources=[artifacts_bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": f"{MODELS_PREFIX}/*"}}))
        # The heartbeat (run_dbt.sh) reads the waiting task's token that start_dbt_build stored for the execution.
        self.role.add_to_policy(iam.PolicyStatement(
            actions=["s3:GetObject"],
            resources=[artifacts_bucket.arn_for_objects(f"{ARTIFACTS_PREFIX}/*/orchestration/task-token")]))
        data_key.grant_encrypt_decrypt(self.role)
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="RedshiftIamAuth",
                # dbt-redshift iam_role on serverless: temporary credentials for the build role's database user.
                actions=["redshift-serverless:GetCredentials", "redshift-serverless:GetWorkgroup"],
                resources=[workgroup_arn],
            )
        )
        self._codeartifact_arns = (domain.attr_arn, repository.attr_arn)
        self.grant_package_read(self.role)

    def grant_package_read(self, role: iam.IRole) -> None:
        """Log in to the runner's CodeArtifact repository and read packages from it (also the model trainer's)."""
        domain_arn, repository_arn = self._codeartifact_arns
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="CodeArtifactToken", actions=["codeartifact:GetAuthorizationToken"], resources=[domain_arn]))
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="CodeArtifactRead", actions=["codeartifact:GetRepositoryEndpoint", "codeartifact:ReadFromRepository"],
            resources=[repository_arn]))
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="CodeArtifactBearerToken", actions=["sts:GetServiceBearerToken"],
            resources=["*"],  # the action has no resource type; the condition scopes it to CodeArtifact
            conditions={"StringEquals": {"sts:AWSServiceName": "codeartifact.amazonaws.com"}}))


def build_security_group(scope: Construct, *, vpc: ec2.IVpc, description: str,
                         endpoint_security_group: ec2.ISecurityGroup, workgroup_security_group: ec2.ISecurityGroup,
                         purpose: str) -> ec2.SecurityGroup:
    """A CodeBuild project's security group in the isolated subnets: HTTPS to the endpoints, 5439 to the workgroup."""
    group = ec2.SecurityGroup(scope, "SecurityGroup", vpc=vpc, description=description, allow_all_outbound=False)
    group.connections.allow_to(endpoint_security_group, ec2.Port.tcp(443), "AWS APIs via endpoints")
    # S3 (assets, artifacts, CodeArtifact package storage) goes through the gateway endpoint, which has no
    # security group; with no internet route in the isolated subnets, HTTPS egress reaches nothing else.
    group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "S3 gateway endpoint")
    group.connections.allow_to(workgroup_security_group, ec2.Port.tcp(REDSHIFT_PORT),
                               f"{purpose} to Redshift Serverless")
    return group
