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

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.dbt_runner import DbtRunner
from infra.constructs.python_job import FINAL_FAILURES, failure_alert, grant_redshift_iam, python_job, schedule
from ml.artifacts import PREFIX as MODELS_PREFIX

__all__ = ["FINAL_FAILURES", "ModelTrainer"]
REQUIREMENTS = "infra/assets/model_trainer/requirements.txt"
# what ml.retrain reads: the package, the thresholds the models are judged at, the feature contracts
INCLUDED = ["ml/*.py", "dbt/dbt_project.yml", "dbt/models/features/*.yml"]


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
        job = python_job(
            self, included=INCLUDED, requirements=REQUIREMENTS, command="python -m ml.retrain",
            description="Retrains the fraud classifier and the churn propensity model, gates and promotes them",
            role_description="Model trainer: read features from Redshift via IAM, write models/ artifacts, "
                             "publish the promotion decision",
            security_group_description="Model trainer (CodeBuild)", purpose="model training",
            environment={
                "ARTIFACTS_BUCKET": artifacts_bucket.bucket_name,
                "MODELS_PREFIX": MODELS_PREFIX,
                "ALERTS_TOPIC_ARN": alerts_topic.topic_arn,
                "NOTICES_TOPIC_ARN": notices_topic.topic_arn,
                "NAME_PREFIX": name_prefix,
                "REDSHIFT_WORKGROUP": workgroup_name,
                "REDSHIFT_DATABASE": database_name,
            },
            dbt_runner=dbt_runner, vpc=vpc, subnets=subnets, endpoint_security_group=endpoint_security_group,
            workgroup_security_group=workgroup_security_group, data_key=data_key, logs_key=logs_key,
            compute_type=compute_type, timeout=timeout, queued_timeout=Duration.hours(1),  # two runs would race
            log_retention=log_retention, removal_policy=removal_policy,
        )
        self.project, self.role, self.log_group, self.security_group = job.project, job.role, job.log_group, \
            job.security_group
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
        grant_redshift_iam(self.role, workgroup_arn)
        dbt_runner.grant_package_read(self.role)
        self.schedule = schedule(self, self.project, dead_letter_queue=dead_letter_queue,
                                 expression=schedule_expression, enabled=schedule_enabled,
                                 description="Model retraining (config: models.retrain_schedule_expression)",
                                 role_description="EventBridge Scheduler: start the model retraining build")
        self.failure_rule = failure_alert(
            self, self.project, alerts_topic, description="Model retraining builds that did not succeed -> SNS alert",
            what="Model retraining build",
            consequence="nothing was promoted, dbt keeps scoring with the current models.")
