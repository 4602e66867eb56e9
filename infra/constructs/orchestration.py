"""The pipeline: Step Functions chaining Glue ingestion → dbt (CodeBuild, started by a Lambda) → QuickSight, with
triggers (schedule, on demand, Glue backfills), alerts (SNS), alarms and a dashboard.

State machine (standard, logged, traced), input ``{"ingest_date": "YYYY-MM-DD", "skip_ingest": bool, "trigger": ...}``:
its states are in ``pipeline_states.py`` (queue behind earlier runs → Glue → dbt → QuickSight → notice, every wait
bounded, every failure an alert naming the step), its alarms and dashboard in ``pipeline_alarms.py``.

Backfills (a Glue ingest run started outside the pipeline) are followed by exactly one dbt build: an EventBridge
rule sends Glue "Job State Change" SUCCEEDED events of the ingest jobs to start_pipeline, which ignores runs the
pipeline started (they carry ``--pipeline_execution_id``), waits for the last concurrent backfill run of the same
ingest date, and starts a ``skip_ingest`` execution whose name is derived from that last run (lambdas/start_pipeline).
"""

from __future__ import annotations

import atexit
import functools
import importlib.metadata
import json
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs import pipeline_alarms, pipeline_states
from infra.constructs.dbt_runner import DbtRunner
from infra.constructs.model_trainer import ModelTrainer
from infra.constructs.report_job import ReportJob

REPO_ROOT = Path(__file__).resolve().parents[2]
LAMBDAS_DIR = REPO_ROOT / "lambdas"
LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_14
# The layer is built offline from the pinned packages installed in .venv (requirements-dev.txt): Powertools and the
# X-Ray SDK (Tracer) with their dependencies missing from the Lambda runtime. All are pure Python (wrapt falls back to
# its pure-Python implementation when its C extension is absent), so the files run on any Lambda Python runtime.
# Chosen over the public Powertools layer ARN: that ARN's version number cannot be checked against the pinned
# package offline, while this layer is exactly what the tests ran.
LAYER_DISTRIBUTIONS = ("aws-lambda-powertools", "aws-xray-sdk", "wrapt", "typing-extensions")
# The running dbt build sends a heartbeat every DBT_HEARTBEAT_EVERY seconds (run_dbt.sh): a lost build or a callback
# that never arrives is noticed within DBT_HEARTBEAT_MINUTES, not after the whole build timeout.
DBT_HEARTBEAT_EVERY = 300
DBT_HEARTBEAT_MINUTES = 15
TRAINING_COMPUTE_TYPES = {"small": codebuild.ComputeType.SMALL, "medium": codebuild.ComputeType.MEDIUM,
                          "large": codebuild.ComputeType.LARGE, "2xlarge": codebuild.ComputeType.X2_LARGE}
@functools.cache
def powertools_layer_dir() -> str:
    """Assemble ``python/<package files>`` of LAYER_DISTRIBUTIONS from the installed, pinned distributions."""
    root = Path(tempfile.mkdtemp(prefix="powertools-layer-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    for name in LAYER_DISTRIBUTIONS:
        dist = importlib.metadata.distribution(name)
        for file in dist.files or []:
            if ".." in file.parts or "__pycache__" in file.parts or file.suffix in (".so", ".pyc", ".c", ".pyd"):
                continue
            source = Path(str(file.locate()))
            if source.is_file():
                target = root / "python" / file
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
    return str(root)


class Orchestration(Construct):
    """Attributes: ``state_machine``, ``topic`` (alerts), ``notices_topic``, ``dbt_runner``, ``start_pipeline``, ``start_dbt_build``,
    ``dbt_build_callback``, ``pipeline_turn`` (lambda Functions), ``glue_failure_rule``, ``lambda_security_group``, ``dead_letter_queue``,
    ``schedule``, ``model_trainer`` (monthly retraining), ``report_job``, ``alarms`` (by name), ``dashboard``, ``metrics_namespace``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        endpoint_security_group: ec2.ISecurityGroup,
        data_key: kms.IKey,
        logs_key: kms.IKey,
        artifacts_bucket: s3.IBucket,
        raw_bucket: s3.IBucket,
        access_logs_bucket: s3.IBucket,
        workgroup_name: str,
        workgroup_arn: str,
        workgroup_security_group: ec2.ISecurityGroup,
        database_name: str,
        dbt_target: str,
        ingest_jobs: Mapping[str, str],
        quicksight_dataset_ids: Sequence[str],
        alert_emails: Sequence[str],
        schedule_expression: str,
        schedule_enabled: bool,
        usage_limit_rpu_hours: int,
        usage_limit_period: str,
        retrain_schedule_expression: str,
        retrain_enabled: bool,
        training_compute: str,
        training_timeout: Duration,
        executive_schedule_expression: str,
        executive_enabled: bool,
        regulatory_after_pipeline: bool,
        reports_object_lock_days: int,
        noncurrent_version_expiry_days: int,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
        ingest_date_argument: str = "--ingest_date",
        dbt_timeout: Duration = Duration.minutes(90),
        glue_timeout: Duration = Duration.hours(2),
        quicksight_poll_interval: Duration = Duration.seconds(60),
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        # ingest_jobs may be empty while no ingestion stack exists: the pipeline then starts at dbt and has no
        # Glue rules or alarms (nothing pretends to ingest).
        self.metrics_namespace = f"{name_prefix}/pipeline"
        self._removal_policy = removal_policy
        self._log_retention = log_retention
        self._logs_key = logs_key

        # --- alerts (failure alerts, alarms, Glue failures) and success notices: two KMS-encrypted topics, each with
        # its own key, so a problem with one (a key disabled, a throttled key, a topic policy) never silences the other
        alerts_key = kms.Key(
            self, "AlertsKey", enable_key_rotation=True, removal_policy=removal_policy,
            description="SNS alerts topic and the orchestration dead-letter queue",
        )
        # CloudWatch alarms and EventBridge publish to the encrypted topic: their service principals need the key.
        for principal in ("cloudwatch.amazonaws.com", "events.amazonaws.com"):
            alerts_key.add_to_resource_policy(
                iam.PolicyStatement(
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    principals=[iam.ServicePrincipal(principal)],
                    resources=["*"],  # in a key policy, "*" means this key
                    conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
                )
            )
        self.topic = sns.Topic(self, "AlertsTopic", master_key=alerts_key, enforce_ssl=True,
                               display_name=f"{name_prefix} analytics pipeline")
        notices_key = kms.Key(
            self, "NoticesKey", enable_key_rotation=True, removal_policy=removal_policy,
            description="SNS topic of the pipeline's success notices",
        )
        self.notices_topic = sns.Topic(self, "NoticesTopic", master_key=notices_key, enforce_ssl=True,
                                       display_name=f"{name_prefix} analytics pipeline notices")
        for email in alert_emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
            self.notices_topic.add_subscription(subscriptions.EmailSubscription(email))

        self.dead_letter_queue = sqs.Queue(
            self, "DeadLetterQueue", encryption=sqs.QueueEncryption.KMS, encryption_master_key=alerts_key,
            enforce_ssl=True, retention_period=Duration.days(14), removal_policy=removal_policy,
        )

        # --- dbt runner (CodeBuild) ----------------------------------------------------------------------------
        self.dbt_runner = DbtRunner(
            self, "DbtRunner", vpc=vpc, subnets=subnets, endpoint_security_group=endpoint_security_group,
            data_key=data_key, logs_key=logs_key, artifacts_bucket=artifacts_bucket,
            codeartifact_domain_name=f"{name_prefix}-packages", workgroup_name=workgroup_name,
            workgroup_arn=workgroup_arn, workgroup_security_group=workgroup_security_group,
            database_name=database_name, dbt_target=dbt_target, timeout=dbt_timeout,
            heartbeat_seconds=DBT_HEARTBEAT_EVERY,
            log_retention=log_retention, removal_policy=removal_policy,
        )
        project = self.dbt_runner.project

        # --- Lambdas -------------------------------------------------------------------------------------------
        self._layer = lambda_.LayerVersion(
            self, "PowertoolsLayer", code=lambda_.Code.from_asset(powertools_layer_dir()),
            compatible_runtimes=[LAMBDA_RUNTIME],
            description="aws-lambda-powertools + aws-xray-sdk, pinned (requirements-dev.txt)",
        )
        self._code = lambda_.Code.from_asset(str(LAMBDAS_DIR), exclude=["**/__pycache__", "*.pyc", "README.md"])
        self._data_key = data_key
        # The functions run in the isolated subnets like everything else (PCI DSS 1.3 / NIST SC-7) and reach AWS
        # through the network's endpoints (S3 gateway; Step Functions, CodeBuild, Glue, X-Ray interface endpoints).
        self._vpc, self._subnets = vpc, subnets
        self.lambda_security_group = ec2.SecurityGroup(
            self, "LambdaSecurityGroup", vpc=vpc, description="Orchestration Lambdas", allow_all_outbound=False
        )
        self.lambda_security_group.connections.allow_to(endpoint_security_group, ec2.Port.tcp(443),
                                                        "AWS APIs via interface endpoints")
        # The S3 gateway endpoint has no security group; with no internet route this reaches only it.
        self.lambda_security_group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "S3 gateway endpoint")

        self.start_dbt_build = self._function(
            "StartDbtBuild", "start_dbt_build", reserved_concurrency=5,
            environment={
                "DBT_PROJECT_NAME": project.project_name,
                "ARTIFACTS_BUCKET": artifacts_bucket.bucket_name,
                "ARTIFACTS_PREFIX": self.dbt_runner.artifacts_prefix,
                "DBT_TARGET": dbt_target,
            },
        )
        # BatchGetBuilds: a retry checks whether the stored build still runs before trusting it.
        self.start_dbt_build.add_to_role_policy(
            iam.PolicyStatement(actions=["codebuild:StartBuild", "codebuild:BatchGetBuilds"],
                                resources=[project.project_arn])
        )
        # The task token and the build claim (idempotency) of each execution: dbt-runs/<execution id>/...
        self.start_dbt_build.add_to_role_policy(iam.PolicyStatement(
            actions=["s3:GetObject", "s3:PutObject"],
            resources=[artifacts_bucket.arn_for_objects(f"{self.dbt_runner.artifacts_prefix}/*/orchestration/*")]))
        self.start_dbt_build.add_to_role_policy(iam.PolicyStatement(
            actions=["s3:ListBucket"], resources=[artifacts_bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": f"{self.dbt_runner.artifacts_prefix}/*"}}))
        data_key.grant(self.start_dbt_build, "kms:Decrypt", "kms:GenerateDataKey")

        self.dbt_build_callback = self._function(
            "DbtBuildCallback", "dbt_build_callback", reserved_concurrency=5,
            environment={
                "DBT_PROJECT_NAME": project.project_name,
                "ARTIFACTS_BUCKET": artifacts_bucket.bucket_name,
            },
        )
        # Read the run's artifacts; ListBucket (on the bucket only) makes a missing run_results.json a 404, which
        # the callback reports as "dbt wrote no results", instead of a 403.
        self.dbt_build_callback.add_to_role_policy(iam.PolicyStatement(
            actions=["s3:GetObject"],
            resources=[artifacts_bucket.arn_for_objects(f"{self.dbt_runner.artifacts_prefix}/*")]))
        self.dbt_build_callback.add_to_role_policy(iam.PolicyStatement(
            actions=["s3:ListBucket"], resources=[artifacts_bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": f"{self.dbt_runner.artifacts_prefix}/*"}}))
        data_key.grant_decrypt(self.dbt_build_callback)

        # Queue: the first state asks it whether an earlier execution still runs; the state machine's ARN comes in the
        # payload from the execution context (configuring it would be a reference cycle: the machine references it).
        self.pipeline_turn = self._function("PipelineTurn", "pipeline_turn", reserved_concurrency=5, environment={})

        # --- state machine -------------------------------------------------------------------------------------
        dbt_task = dbt_timeout.plus(Duration.minutes(30 + 15))  # queue (DbtRunner) + install + upload
        bounds = pipeline_states.Bounds(
            glue=glue_timeout, glue_queueing=Duration.minutes(15), dbt_task=dbt_task,
            # The running build heartbeats every few minutes (run_dbt.sh), CodeBuild's phase changes too.
            dbt_heartbeat=Duration.minutes(DBT_HEARTBEAT_MINUTES),
            queue=glue_timeout.plus(dbt_task).plus(Duration.hours(1)), queue_poll=Duration.minutes(5),
            ingestion_poll=quicksight_poll_interval, ingestion_polls=60,
        )
        self.state_machine = pipeline_states.build_state_machine(
            self, name_prefix=name_prefix, ingest_jobs=ingest_jobs, ingest_date_argument=ingest_date_argument,
            dataset_ids=list(quicksight_dataset_ids), bounds=bounds,
            log_group_props=dict(encryption_key=self._logs_key, retention=self._log_retention,
                                 removal_policy=self._removal_policy),
        )
        self.state_machine.grant_task_response(self.dbt_build_callback)
        # Publishing to a KMS-encrypted topic needs the publisher's own kms:GenerateDataKey/Decrypt on its key; the
        # SnsPublish tasks grant only sns:Publish (without this, every alert and notice would fail with
        # KMS.AccessDenied in AWS, which moto does not check).
        for key in (self.topic.master_key, self.notices_topic.master_key):
            key.grant(self.state_machine, "kms:GenerateDataKey", "kms:Decrypt")
        # Standalone policies: the functions/project do not depend on them, so the state machine (which references
        # the functions) can be referenced here without a dependency cycle.
        iam.Policy(self, "PipelineTurnListExecutions", roles=[self.pipeline_turn.role], statements=[
            iam.PolicyStatement(actions=["states:ListExecutions"],
                                resources=[self.state_machine.state_machine_arn])])
        iam.Policy(self, "DbtRunnerHeartbeat", roles=[self.dbt_runner.role], statements=[
            iam.PolicyStatement(actions=["states:SendTaskHeartbeat"],
                                resources=[self.state_machine.state_machine_arn])])

        self.start_pipeline = self._function(
            "StartPipeline", "start_pipeline", reserved_concurrency=2,
            environment={
                "STATE_MACHINE_ARN": self.state_machine.state_machine_arn,
                "INGEST_JOB_NAMES": json.dumps(list(ingest_jobs.values())),
                "INGEST_DATE_ARGUMENT": ingest_date_argument,
            },
        )
        self.state_machine.grant_start_execution(self.start_pipeline)
        self.start_pipeline.add_to_role_policy(iam.PolicyStatement(
            actions=["states:ListExecutions"], resources=[self.state_machine.state_machine_arn]))
        if ingest_jobs:
            self.start_pipeline.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["glue:GetJobRun", "glue:GetJobRuns"],
                    resources=[stack.format_arn(service="glue", resource="job", resource_name=job)
                               for job in ingest_jobs.values()],
                )
            )

        # --- triggers ------------------------------------------------------------------------------------------
        events.Rule(
            self, "DbtBuildEvents",
            description="dbt CodeBuild state/phase changes → dbt_build_callback",
            event_pattern=events.EventPattern(
                source=["aws.codebuild"],
                detail_type=["CodeBuild Build State Change", "CodeBuild Build Phase Change"],
                detail={"project-name": [project.project_name]},
            ),
            targets=[targets.LambdaFunction(self.dbt_build_callback, dead_letter_queue=self.dead_letter_queue,
                                            retry_attempts=8, max_event_age=Duration.hours(2))],
        )
        self.glue_failure_rule: events.Rule | None = None
        if ingest_jobs:
            events.Rule(
                self, "GlueBackfillEvents",
                description="Ingest job runs that succeeded → start_pipeline (dbt after backfills)",
                event_pattern=events.EventPattern(
                    source=["aws.glue"], detail_type=["Glue Job State Change"],
                    detail={"jobName": list(ingest_jobs.values()), "state": ["SUCCEEDED"]},
                ),
                targets=[targets.LambdaFunction(self.start_pipeline, dead_letter_queue=self.dead_letter_queue,
                                                retry_attempts=8, max_event_age=Duration.hours(6))],
            )
            self.glue_failure_rule = events.Rule(
                self, "GlueFailureEvents",
                description="Ingest job runs that failed (pipeline or backfill) → SNS alert",
                event_pattern=events.EventPattern(
                    source=["aws.glue"], detail_type=["Glue Job State Change"],
                    detail={"jobName": list(ingest_jobs.values()), "state": ["FAILED", "TIMEOUT", "ERROR"]},
                ),
                # Publish through a role: the default grants events.amazonaws.com the alerts key with no
                # aws:SourceAccount condition (the key policy already allows it, conditioned, above).
                targets=[targets.SnsTopic(self.topic, authorize_using_role=True,
                                          message=events.RuleTargetInput.from_text(
                    f"Glue job {events.EventField.from_path('$.detail.jobName')} run "
                    f"{events.EventField.from_path('$.detail.jobRunId')} ended "
                    f"{events.EventField.from_path('$.detail.state')}: {events.EventField.from_path('$.detail.message')}"
                ))],
            )

        scheduler_role = iam.Role(self, "SchedulerRole", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"),
                                  description="EventBridge Scheduler: start the pipeline on schedule")
        # Explicit statements: the L2 grants would add every function version (:*) and kms:ReEncrypt*.
        scheduler_role.add_to_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"],
                                                         resources=[self.start_pipeline.function_arn]))
        scheduler_role.add_to_policy(iam.PolicyStatement(actions=["sqs:SendMessage"],
                                                         resources=[self.dead_letter_queue.queue_arn]))
        scheduler_role.add_to_policy(iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"],
                                                         resources=[alerts_key.key_arn]))
        self.schedule = scheduler.CfnSchedule(
            self, "Schedule",
            description="Nightly pipeline run (config: pipeline.schedule_expression)",
            schedule_expression=schedule_expression,
            schedule_expression_timezone="UTC",
            state="ENABLED" if schedule_enabled else "DISABLED",
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            target=scheduler.CfnSchedule.TargetProperty(
                arn=self.start_pipeline.function_arn,
                role_arn=scheduler_role.role_arn,
                input=json.dumps({"trigger": "schedule", "scheduled_time": "<aws.scheduler.scheduled-time>"}),
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                    maximum_retry_attempts=3, maximum_event_age_in_seconds=3600),
                dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(arn=self.dead_letter_queue.queue_arn),
            ),
        )

        # --- model retraining (monthly CodeBuild build: train, gate, promote; alerts on refusal or failure) -----
        self.model_trainer = ModelTrainer(
            self, "ModelTrainer", name_prefix=name_prefix, dbt_runner=self.dbt_runner, vpc=vpc, subnets=subnets,
            endpoint_security_group=endpoint_security_group, workgroup_security_group=workgroup_security_group,
            data_key=data_key, logs_key=logs_key, artifacts_bucket=artifacts_bucket, workgroup_name=workgroup_name,
            workgroup_arn=workgroup_arn, database_name=database_name, alerts_topic=self.topic,
            notices_topic=self.notices_topic, dead_letter_queue=self.dead_letter_queue,
            schedule_expression=retrain_schedule_expression, schedule_enabled=retrain_enabled,
            compute_type=TRAINING_COMPUTE_TYPES[training_compute], timeout=training_timeout,
            log_retention=log_retention, removal_policy=removal_policy,
        )

        # --- reports (regulatory after each published batch, executive monthly; alerts when a build fails) -----
        self.report_job = ReportJob(
            self, "ReportJob", name_prefix=name_prefix, dbt_runner=self.dbt_runner, state_machine=self.state_machine,
            vpc=vpc, subnets=subnets, endpoint_security_group=endpoint_security_group,
            workgroup_security_group=workgroup_security_group, data_key=data_key, logs_key=logs_key,
            access_logs_bucket=access_logs_bucket, raw_bucket=raw_bucket, artifacts_bucket=artifacts_bucket,
            workgroup_name=workgroup_name, workgroup_arn=workgroup_arn, database_name=database_name,
            alerts_topic=self.topic, notices_topic=self.notices_topic, dead_letter_queue=self.dead_letter_queue,
            executive_schedule_expression=executive_schedule_expression, executive_enabled=executive_enabled,
            regulatory_after_pipeline=regulatory_after_pipeline, object_lock_days=reports_object_lock_days,
            noncurrent_version_expiry_days=noncurrent_version_expiry_days,
            log_retention=log_retention, removal_policy=removal_policy,
        )

        # --- alarms and dashboard ------------------------------------------------------------------------------
        self.alarms = pipeline_alarms.build_alarms(self, workgroup_name, usage_limit_rpu_hours, usage_limit_period)
        self.dashboard = pipeline_alarms.build_dashboard(self, name_prefix, workgroup_name)

    # ---------------------------------------------------------------------------------------------------------
    def _function(self, construct_id: str, folder: str, *, reserved_concurrency: int,
                  environment: dict[str, str]) -> lambda_.Function:
        log_group = logs.LogGroup(self, f"{construct_id}Logs", encryption_key=self._logs_key,
                                  retention=self._log_retention, removal_policy=self._removal_policy)
        return lambda_.Function(
            self, construct_id,
            runtime=LAMBDA_RUNTIME,
            handler=f"{folder}.app.handler",
            code=self._code,
            layers=[self._layer],
            memory_size=256,
            timeout=Duration.seconds(60),
            reserved_concurrent_executions=reserved_concurrency,
            dead_letter_queue=self.dead_letter_queue,
            environment={
                **environment,
                "POWERTOOLS_SERVICE_NAME": folder,
                "POWERTOOLS_METRICS_NAMESPACE": self.metrics_namespace,
                "POWERTOOLS_LOG_LEVEL": "INFO",
            },
            environment_encryption=self._data_key,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            vpc=self._vpc,
            vpc_subnets=self._subnets,
            security_groups=[self.lambda_security_group],
        )
