"""Model retraining on AWS: a CodeBuild project that runs ``python -m ml.retrain`` on a schedule (monthly by default,
config ``models.retrain_schedule_expression``), built into the Orchestration construct.

Choices (issue 14):
- CodeBuild, not SageMaker Processing: the training is scikit-learn on one machine (a 1 M-transaction bank trains
  and scores in well under a minute, bench/bench_models.py), the same package closure installs from the same
  CodeArtifact mirror as the dbt runner, in the same isolated subnets with the same endpoints; SageMaker would add
  a container image (an ECR pipeline, no Docker here), its own VPC and KMS settings and a second way to run Python.
- Redshift with IAM: ml.warehouse.redshift_reader (redshift_connector, iam=True) - GetCredentials for this role,
  whose database user IAMR:<role name> the warehouse bootstrap grants read on the features and marts schemas only.
- Artifacts: ml.artifacts writes every candidate, the promoted model and the dbt macros under models/ in the
  artifacts bucket (KMS data key, versioned), the manifest last; the dbt runner reads only the manifest and the
  macros it names. A refused candidate keeps the current model and the trainer alerts (alerts topic) why; a
  promotion goes to the notices topic; a failed or timed-out build alerts through an EventBridge rule.
- Source: an S3 asset of exactly ml/, dbt/dbt_project.yml (the thresholds the models are judged at),
  dbt/models/features/*.yml (the feature contracts) and the pinned requirements - nothing else of the repository.
"""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import Duration, IgnoreMode, RemovalPolicy, Stack
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.dbt_runner import BUILD_IMAGE, PYTHON_RUNTIME, DbtRunner, build_security_group
from ml.artifacts import PREFIX as MODELS_PREFIX

REPO_ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = "infra/assets/model_trainer/requirements.txt"
# Git-style patterns over the repository root: everything out, then back in only what ml.retrain reads.
SOURCE_PATTERNS = ["*", "!/ml/", "!/ml/*.py", "!/dbt/", "!/dbt/dbt_project.yml", "!/dbt/models/",
                   "!/dbt/models/features/", "!/dbt/models/features/*.yml", "!/infra/", "!/infra/assets/",
                   "!/infra/assets/model_trainer/", f"!/{REQUIREMENTS}"]
FINAL_FAILURES = ["FAILED", "FAULT", "STOPPED", "TIMED_OUT"]


class ModelTrainer(Construct):
    """Attributes: ``project``, ``role``, ``log_group``, ``security_group``, ``schedule``, ``failure_rule``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        dbt_runner: DbtRunner,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        endpoint_security_group: ec2.ISecurityGroup,
        workgroup_security_group: ec2.ISecurityGroup,
        data_key: kms.IKey,
        logs_key: kms.IKey,
        artifacts_bucket: s3.IBucket,
        workgroup_name: str,
        workgroup_arn: str,
        database_name: str,
        alerts_topic: sns.ITopic,
        notices_topic: sns.ITopic,
        dead_letter_queue: sqs.IQueue,
        schedule_expression: str,
        schedule_enabled: bool,
        compute_type: codebuild.ComputeType,
        timeout: Duration,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        source = s3_assets.Asset(self, "Source", path=str(REPO_ROOT), exclude=SOURCE_PATTERNS,
                                 ignore_mode=IgnoreMode.GIT)
        self.security_group = build_security_group(self, vpc=vpc, description="Model trainer (CodeBuild)",
                                                   endpoint_security_group=endpoint_security_group,
                                                   workgroup_security_group=workgroup_security_group,
                                                   purpose="model training")
        self.log_group = logs.LogGroup(self, "BuildLogs", encryption_key=logs_key, retention=log_retention,
                                       removal_policy=removal_policy)
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
                             description="Model trainer: read features from Redshift via IAM, write models/ artifacts, "
                                         "publish the promotion decision")
        environment = {
            "ARTIFACTS_BUCKET": artifacts_bucket.bucket_name,
            "MODELS_PREFIX": MODELS_PREFIX,
            "ALERTS_TOPIC_ARN": alerts_topic.topic_arn,
            "NOTICES_TOPIC_ARN": notices_topic.topic_arn,
            "NAME_PREFIX": name_prefix,
            "REDSHIFT_WORKGROUP": workgroup_name,
            "REDSHIFT_DATABASE": database_name,
            "CODEARTIFACT_DOMAIN": dbt_runner.codeartifact_domain_name,
            "CODEARTIFACT_DOMAIN_OWNER": Stack.of(self).account,
            "CODEARTIFACT_REPOSITORY": dbt_runner.codeartifact_repository_name,
        }
        self.project = codebuild.Project(
            self, "Project",
            description="Retrains the fraud classifier and the churn propensity model, gates and promotes them",
            role=self.role,
            source=codebuild.Source.s3(bucket=source.bucket, path=source.s3_object_key),
            environment=codebuild.BuildEnvironment(
                build_image=BUILD_IMAGE, compute_type=compute_type,
                environment_variables={k: codebuild.BuildEnvironmentVariable(value=v) for k, v in environment.items()},
            ),
            build_spec=codebuild.BuildSpec.from_object({
                "version": "0.2",
                "env": {"shell": "bash"},
                "phases": {
                    "install": {
                        "runtime-versions": {"python": PYTHON_RUNTIME},
                        "commands": [
                            'aws codeartifact login --tool pip --domain "$CODEARTIFACT_DOMAIN" '
                            '--domain-owner "$CODEARTIFACT_DOMAIN_OWNER" --repository "$CODEARTIFACT_REPOSITORY"',
                            f"python -m pip install --no-cache-dir --disable-pip-version-check --no-deps -r {REQUIREMENTS}",
                        ],
                    },
                    "build": {"commands": ["python -m ml.retrain"]},
                },
            }),
            vpc=vpc, subnet_selection=subnets, security_groups=[self.security_group],
            encryption_key=data_key, timeout=timeout, queued_timeout=Duration.hours(1),
            concurrent_build_limit=1,  # two runs would race on the manifest
            logging=codebuild.LoggingOptions(cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=self.log_group)),
        )
        source.grant_read(self.role)
        self.role.add_to_policy(iam.PolicyStatement(
            sid="ModelArtifacts", actions=["s3:GetObject", "s3:PutObject"],
            resources=[artifacts_bucket.arn_for_objects(f"{MODELS_PREFIX}/*")]))
        # A first run finds no promoted model: with ListBucket on the prefix that is a 404, not a 403.
        self.role.add_to_policy(iam.PolicyStatement(
            sid="ModelArtifactsList", actions=["s3:ListBucket"], resources=[artifacts_bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": f"{MODELS_PREFIX}/*"}}))
        data_key.grant(self.role, "kms:Decrypt", "kms:GenerateDataKey")
        for topic in (alerts_topic, notices_topic):
            topic.grant_publish(self.role)  # with the topic key's kms:Decrypt/GenerateDataKey* (encrypted topics)
        self.role.add_to_policy(iam.PolicyStatement(
            sid="RedshiftIamAuth", actions=["redshift-serverless:GetCredentials", "redshift-serverless:GetWorkgroup"],
            resources=[workgroup_arn]))
        dbt_runner.grant_package_read(self.role)

        # --- schedule: EventBridge Scheduler starts a build (universal target, no Lambda in between) -----------
        scheduler_role = iam.Role(self, "SchedulerRole", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"),
                                  description="EventBridge Scheduler: start the model retraining build")
        scheduler_role.add_to_policy(iam.PolicyStatement(actions=["codebuild:StartBuild"],
                                                         resources=[self.project.project_arn]))
        scheduler_role.add_to_policy(iam.PolicyStatement(actions=["sqs:SendMessage"],
                                                         resources=[dead_letter_queue.queue_arn]))
        dead_letter_queue.encryption_master_key.grant(scheduler_role, "kms:GenerateDataKey", "kms:Decrypt")
        self.schedule = scheduler.CfnSchedule(
            self, "Schedule",
            description="Model retraining (config: models.retrain_schedule_expression)",
            schedule_expression=schedule_expression, schedule_expression_timezone="UTC",
            state="ENABLED" if schedule_enabled else "DISABLED",
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            target=scheduler.CfnSchedule.TargetProperty(
                arn="arn:aws:scheduler:::aws-sdk:codebuild:startBuild",
                role_arn=scheduler_role.role_arn,
                input=json.dumps({"ProjectName": self.project.project_name}),
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                    maximum_retry_attempts=3, maximum_event_age_in_seconds=3600),
                dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(arn=dead_letter_queue.queue_arn),
            ),
        )
        # --- a build that fails, times out or is stopped: nothing was promoted, and the alerts topic hears it ---
        self.failure_rule = events.Rule(
            self, "FailureEvents",
            description="Model retraining builds that did not succeed -> SNS alert",
            event_pattern=events.EventPattern(
                source=["aws.codebuild"], detail_type=["CodeBuild Build State Change"],
                detail={"project-name": [self.project.project_name], "build-status": FINAL_FAILURES},
            ),
            targets=[targets.SnsTopic(alerts_topic, authorize_using_role=True, message=events.RuleTargetInput.from_text(
                f"Model retraining build {events.EventField.from_path('$.detail.build-id')} ended "
                f"{events.EventField.from_path('$.detail.build-status')}: nothing was promoted, dbt keeps scoring "
                f"with the current models. Build log: "
                f"{events.EventField.from_path('$.detail.additional-information.logs.deep-link')}"))],
        )
