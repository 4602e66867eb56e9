"""The report job on AWS: a CodeBuild project running ``python -m reports.job`` (the code the demo's reports step
runs), writing to its own reports bucket, built into the Orchestration construct.

Choices (issue 15):
- CodeBuild, not Lambda: the job needs pandas, reportlab and the dashboards' chart renderer (vl-convert, a
  native binary); a Lambda package of those would have to be built for the Lambda runtime's Python (binary wheels
  of another interpreter do not load) and would approach the 250 MB limit. CodeBuild installs the pinned closure
  from the same CodeArtifact mirror as the dbt runner and the model trainer (infra/constructs/python_job.py).
- When: the daily regulatory report starts from an EventBridge rule on the pipeline's SUCCEEDED executions (the
  report exists only for a published batch; a failed report never fails a published batch; the state machine
  stays as it is), with DBT_RUN_PREFIX = that execution's dbt artifacts for the data-quality section. The monthly
  executive pack starts from EventBridge Scheduler (config reports.executive_schedule_expression).
- Reads Redshift through the Data API with IAM (database user IAMR:<role name>; the warehouse bootstrap grants it
  read on the marts and features schemas only). Writes only regulatory/* and executive/* in the reports bucket:
  KMS (data key), TLS only, versioned, access-logged, and in prod object lock COMPLIANCE for
  reports.object_lock_days (>= 5 years, record keeping: 31 CFR 1010.430). The notice names the S3 key and counts,
  never customer data; a failed build alerts (EventBridge rule -> alerts topic).
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs.dbt_runner import ARTIFACTS_PREFIX, DbtRunner
from infra.constructs.python_job import failure_alert, grant_redshift_iam, python_job, schedule
from infra.constructs.secure_bucket import SecureBucket

REQUIREMENTS = "infra/assets/report_job/requirements.txt"
INCLUDED = ["reports/*.py", "quicksight/*.py", "dbt/dbt_project.yml"]
REPORT_PREFIXES = ("regulatory", "executive")
MANIFESTS_PREFIX = "manifests"


class ReportJob(Construct):
    """Attributes: ``bucket`` (reports), ``project``, ``role``, ``schedule``, ``pipeline_rule``, ``failure_rule``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        dbt_runner: DbtRunner,
        state_machine: sfn.IStateMachine,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        endpoint_security_group: ec2.ISecurityGroup,
        workgroup_security_group: ec2.ISecurityGroup,
        data_key: kms.IKey,
        logs_key: kms.IKey,
        access_logs_bucket: s3.IBucket,
        raw_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        workgroup_name: str,
        workgroup_arn: str,
        database_name: str,
        alerts_topic: sns.ITopic,
        notices_topic: sns.ITopic,
        dead_letter_queue: sqs.IQueue,
        executive_schedule_expression: str,
        executive_enabled: bool,
        regulatory_after_pipeline: bool,
        object_lock_days: int,
        noncurrent_version_expiry_days: int,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = SecureBucket(
            self, "ReportsBucket", encryption_key=data_key, access_logs_bucket=access_logs_bucket,
            removal_policy=RemovalPolicy.RETAIN if object_lock_days else removal_policy,
            # locked versions outlive this rule by law: S3 expires a non-current version only once unlocked
            noncurrent_version_expiry_days=noncurrent_version_expiry_days,
            object_lock_days=object_lock_days,
        ).bucket
        job = python_job(
            self, included=INCLUDED, requirements=REQUIREMENTS, command="python -m reports.job",
            description="Writes the regulatory filings queue (daily) or the executive pack (monthly) as PDF + CSV",
            role_description="Report job: read the marts through the Redshift Data API, write the reports bucket, "
                             "send the notice",
            security_group_description="Report job (CodeBuild)", purpose="reports",
            environment={
                "REPORT": "regulatory",
                "REPORTS_BUCKET": self.bucket.bucket_name,
                "NOTICES_TOPIC_ARN": notices_topic.topic_arn,
                "NAME_PREFIX": name_prefix,
                "REDSHIFT_WORKGROUP": workgroup_name,
                "REDSHIFT_DATABASE": database_name,
                "RAW_BUCKET": raw_bucket.bucket_name,
                "ARTIFACTS_BUCKET": artifacts_bucket.bucket_name,
            },
            dbt_runner=dbt_runner, vpc=vpc, subnets=subnets, endpoint_security_group=endpoint_security_group,
            workgroup_security_group=workgroup_security_group, data_key=data_key, logs_key=logs_key,
            compute_type=codebuild.ComputeType.SMALL, timeout=Duration.minutes(30),
            queued_timeout=Duration.hours(1), log_retention=log_retention, removal_policy=removal_policy,
        )
        self.project, self.role = job.project, job.role
        self.role.add_to_policy(iam.PolicyStatement(
            sid="ReportsWrite", actions=["s3:PutObject"],
            resources=[self.bucket.arn_for_objects(f"{p}/*") for p in REPORT_PREFIXES]))
        self.role.add_to_policy(iam.PolicyStatement(
            sid="DataQualityRead", actions=["s3:GetObject"],
            resources=[raw_bucket.arn_for_objects(f"{MANIFESTS_PREFIX}/*"),
                       artifacts_bucket.arn_for_objects(f"{ARTIFACTS_PREFIX}/*")]))
        self.role.add_to_policy(iam.PolicyStatement(
            sid="DataQualityListManifests", actions=["s3:ListBucket"], resources=[raw_bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": f"{MANIFESTS_PREFIX}/*"}}))
        self.role.add_to_policy(iam.PolicyStatement(
            sid="DataQualityListRuns", actions=["s3:ListBucket"], resources=[artifacts_bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": f"{ARTIFACTS_PREFIX}/*"}}))
        data_key.grant(self.role, "kms:Decrypt", "kms:GenerateDataKey")
        notices_topic.grant_publish(self.role)
        self.role.add_to_policy(iam.PolicyStatement(
            sid="DataApiExecute", actions=["redshift-data:ExecuteStatement"], resources=[workgroup_arn]))
        # Describe/Get/Cancel have no resource type: limited to the statements this role itself submitted.
        self.role.add_to_policy(iam.PolicyStatement(
            sid="DataApiOwnStatements",
            actions=["redshift-data:DescribeStatement", "redshift-data:GetStatementResult",
                     "redshift-data:CancelStatement"],
            resources=["*"], conditions={"StringEquals": {"redshift-data:statement-owner-iam-userid": "${aws:userid}"}}))
        grant_redshift_iam(self.role, workgroup_arn)
        dbt_runner.grant_package_read(self.role)

        self.schedule = schedule(self, self.project, dead_letter_queue=dead_letter_queue,
                                 expression=executive_schedule_expression, enabled=executive_enabled,
                                 description="Monthly executive pack (config: reports.executive_schedule_expression)",
                                 role_description="EventBridge Scheduler: start the executive pack build",
                                 overrides={"REPORT": "executive"})
        self.pipeline_rule = events.Rule(
            self, "AfterPipeline", enabled=regulatory_after_pipeline,
            description="Pipeline executions that SUCCEEDED -> the regulatory report of that batch",
            event_pattern=events.EventPattern(
                source=["aws.states"], detail_type=["Step Functions Execution Status Change"],
                detail={"stateMachineArn": [state_machine.state_machine_arn], "status": ["SUCCEEDED"]}),
            targets=[targets.CodeBuildProject(
                self.project, dead_letter_queue=dead_letter_queue, retry_attempts=4,
                max_event_age=Duration.hours(6),
                event=events.RuleTargetInput.from_object({"environmentVariablesOverride": [
                    {"name": "REPORT", "value": "regulatory", "type": "PLAINTEXT"},
                    {"name": "DBT_RUN_PREFIX", "value": f"{ARTIFACTS_PREFIX}/{events.EventField.from_path('$.detail.name')}",
                     "type": "PLAINTEXT"}]}))],
        )
        self.failure_rule = failure_alert(
            self, self.project, alerts_topic, description="Report builds that did not succeed -> SNS alert",
            what="Report build", consequence="the report was not written; re-run the build for its date "
                                             "(environment REPORT, REPORT_DATE).")
