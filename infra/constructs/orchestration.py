"""The pipeline: Step Functions chaining Glue ingestion → dbt (CodeBuild, started by a Lambda) → QuickSight, with
triggers (schedule, on demand, Glue backfills), alerts (SNS), alarms and a dashboard.

State machine (standard, logged, traced), input ``{"ingest_date": "YYYY-MM-DD", "skip_ingest": bool, "trigger": ...}``::

    Skip ingest? ─no─► Ingest source tables (Parallel: one glue:startJobRun.sync per table)
         │yes                      │
         └──────────► Start dbt build (Lambda, .waitForTaskToken; dbt_build_callback answers)
                                   │
                      dbt passed? ─no─► Record failure: dbt tests ─► Send failure alert ─► Pipeline failed
                                   │yes
                      Refresh QuickSight datasets (Map: createIngestion, Wait/describeIngestion loop)
                                   │
                      Send success notice ─► Pipeline succeeded

Every task has a Catch → "Record failure: <step>" → "Send failure alert" (names the step, the batch, the execution
and the error/cause) → Fail. Failed dbt tests never reach the QuickSight refresh.

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
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
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
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.constructs.dbt_runner import DbtRunner

REPO_ROOT = Path(__file__).resolve().parents[2]
LAMBDAS_DIR = REPO_ROOT / "lambdas"
LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_14
# The layer is built offline from the pinned packages installed in .venv (requirements-dev.txt): Powertools and the
# X-Ray SDK (Tracer) with their dependencies missing from the Lambda runtime. All are pure Python (wrapt falls back to
# its pure-Python implementation when its C extension is absent), so the files run on any Lambda Python runtime.
# Chosen over the public Powertools layer ARN: that ARN's version number cannot be checked against the pinned
# package offline, while this layer is exactly what the tests ran.
LAYER_DISTRIBUTIONS = ("aws-lambda-powertools", "aws-xray-sdk", "wrapt", "typing-extensions")
PIPELINE_MARKER_ARGUMENT = "--pipeline_execution_id"  # must match lambdas/start_pipeline/app.py

# State names the tests and the alert messages rely on.
STATE_INGEST = "Ingest source tables"
STATE_DBT = "Start dbt build"
STATE_DBT_CHOICE = "dbt passed?"
STATE_REFRESH = "Refresh QuickSight datasets"
STATE_SUCCESS_NOTICE = "Send success notice"
STATE_ALERT = "Send failure alert"
FAILURE_STEP_DBT_TESTS = "dbt tests"

_SDK_TRANSIENT_ERRORS = ["QuickSight.ThrottlingException", "QuickSight.InternalFailureException"]
_GLUE_TRANSIENT_ERRORS = [
    "Glue.ConcurrentRunsExceededException",
    "Glue.InternalServiceException",
    "Glue.OperationTimeoutException",
    "Glue.ThrottlingException",
]


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
    """Attributes: ``state_machine``, ``topic``, ``dbt_runner``, ``start_pipeline``, ``start_dbt_build``,
    ``dbt_build_callback`` (lambda Functions), ``lambda_security_group``, ``dead_letter_queue``,
    ``schedule``, ``alarms`` (by name), ``dashboard``, ``metrics_namespace``.
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

        # --- alerts: one KMS-encrypted topic for failure alerts, success notices and alarms -------------------------
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
        for email in alert_emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))

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
        self.start_dbt_build.add_to_role_policy(
            iam.PolicyStatement(actions=["codebuild:StartBuild"], resources=[project.project_arn])
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

        # --- state machine -------------------------------------------------------------------------------------
        task_timeout = dbt_timeout.plus(Duration.minutes(30 + 15))  # queue (DbtRunner) + install + upload
        self.state_machine = self._state_machine(
            name_prefix=name_prefix, ingest_jobs=ingest_jobs, ingest_date_argument=ingest_date_argument, dataset_ids=list(quicksight_dataset_ids),
            glue_timeout=glue_timeout, dbt_task_timeout=task_timeout,
            # The longest silence between heartbeats is the BUILD phase (all of dbt), capped by the build timeout.
            dbt_heartbeat=dbt_timeout.plus(Duration.minutes(10)),
            poll_interval=quicksight_poll_interval,
            timeout=glue_timeout.plus(task_timeout).plus(Duration.hours(2)),
        )
        self.state_machine.grant_task_response(self.dbt_build_callback)

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
        self._glue_failure_rule: events.Rule | None = None
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
            self._glue_failure_rule = events.Rule(
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

        # --- alarms and dashboard ------------------------------------------------------------------------------
        self.alarms = self._alarms(workgroup_name, usage_limit_rpu_hours, usage_limit_period)
        self.dashboard = self._dashboard(name_prefix, workgroup_name)

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

    def _state_machine(self, *, name_prefix: str, ingest_jobs: Mapping[str, str], ingest_date_argument: str, dataset_ids: list[str],
                       glue_timeout: Duration, dbt_task_timeout: Duration, dbt_heartbeat: Duration,
                       poll_interval: Duration, timeout: Duration) -> sfn.StateMachine:
        stack = Stack.of(self)
        alert = tasks.SnsPublish(
            self, STATE_ALERT, topic=self.topic, subject=f"{name_prefix}: analytics pipeline FAILED",
            message=sfn.TaskInput.from_text(sfn.JsonPath.format(
                "Pipeline step [{}] failed for batch {} (execution {}). Error: {}",
                sfn.JsonPath.string_at("$.failed_step"), sfn.JsonPath.string_at("$.ingest_date"),
                sfn.JsonPath.execution_name, sfn.JsonPath.json_to_string(sfn.JsonPath.object_at("$.error")),
            )),
            result_path=sfn.JsonPath.DISCARD,
        )
        failed = sfn.Fail(self, "Pipeline failed", error="PipelineFailed",
                          cause="A pipeline step failed: the SNS alert and the execution history name it")
        alert.add_catch(failed, result_path="$.alert_error")
        alert.next(failed)

        def on_failure(step: str) -> sfn.IChainable:
            return sfn.Pass(self, f"Record failure: {step}", result=sfn.Result.from_string(step),
                            result_path="$.failed_step").next(alert)

        def catch(state: sfn.TaskStateBase | sfn.Parallel | sfn.Map, step: str) -> None:
            state.add_catch(on_failure(step), errors=["States.ALL"], result_path="$.error")

        # Glue ingestion, one branch per source table.
        ingest = sfn.Parallel(self, STATE_INGEST, result_path="$.ingest") if ingest_jobs else None
        for table, job_name in ingest_jobs.items():
            run = tasks.GlueStartJobRun(
                self, f"Ingest {table}", glue_job_name=job_name,
                integration_pattern=sfn.IntegrationPattern.RUN_JOB,
                arguments=sfn.TaskInput.from_object({
                    ingest_date_argument: sfn.JsonPath.string_at("$.ingest_date"),
                    PIPELINE_MARKER_ARGUMENT: sfn.JsonPath.execution_name,
                }),
                # The raw .sync output carries timestamps and the arguments; keep what the next steps need.
                result_selector={"job": sfn.JsonPath.string_at("$.JobName"), "run_id": sfn.JsonPath.string_at("$.Id"),
                                 "state": sfn.JsonPath.string_at("$.JobRunState")},
                task_timeout=sfn.Timeout.duration(glue_timeout),
            )
            run.add_retry(errors=_GLUE_TRANSIENT_ERRORS, interval=Duration.seconds(30), max_attempts=3,
                          backoff_rate=2, jitter_strategy=sfn.JitterType.FULL)
            ingest.branch(run)
        if ingest is not None:
            catch(ingest, STATE_INGEST)

        dbt = tasks.LambdaInvoke(
            self, STATE_DBT, lambda_function=self.start_dbt_build,
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            payload=sfn.TaskInput.from_object({
                "task_token": sfn.JsonPath.task_token,
                "execution_id": sfn.JsonPath.execution_name,
                "ingest_date": sfn.JsonPath.string_at("$.ingest_date"),
            }),
            heartbeat_timeout=sfn.Timeout.duration(dbt_heartbeat),
            task_timeout=sfn.Timeout.duration(dbt_task_timeout),
            result_path="$.dbt",
            retry_on_service_exceptions=False,  # explicit retry below, with jitter
        )
        dbt.add_retry(
            errors=["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                    "Lambda.TooManyRequestsException", "Lambda.ClientExecutionTimeoutException"],
            interval=Duration.seconds(2), max_attempts=6, backoff_rate=2, jitter_strategy=sfn.JitterType.FULL,
        )
        catch(dbt, "dbt build")

        success = tasks.SnsPublish(
            self, STATE_SUCCESS_NOTICE, topic=self.topic, subject=f"{name_prefix}: analytics pipeline succeeded",
            message=sfn.TaskInput.from_text(sfn.JsonPath.format(
                "Batch {} (execution {}) is published. {}",
                sfn.JsonPath.string_at("$.ingest_date"), sfn.JsonPath.execution_name,
                sfn.JsonPath.string_at("$.dbt.message"),
            )),
            result_path=sfn.JsonPath.DISCARD,
        )
        catch(success, STATE_SUCCESS_NOTICE)
        success.next(sfn.Succeed(self, "Pipeline succeeded"))

        after_dbt: sfn.IChainable = success
        if dataset_ids:
            after_dbt = self._quicksight_refresh(dataset_ids, poll_interval, catch, success)

        tests_failed = sfn.Pass(
            self, "dbt tests failed",
            parameters={"Error": "DbtTestsFailed", "Cause": sfn.JsonPath.string_at("$.dbt.message")},
            result_path="$.error",
        ).next(on_failure(FAILURE_STEP_DBT_TESTS))
        dbt.next(
            sfn.Choice(self, STATE_DBT_CHOICE)
            .when(sfn.Condition.string_equals("$.dbt.outcome", "passed"), after_dbt)
            .otherwise(tests_failed)
        )

        start: sfn.IChainable = dbt
        if ingest_jobs:
            start = sfn.Choice(self, "Skip ingest?").when(
                sfn.Condition.and_(sfn.Condition.is_present("$.skip_ingest"),
                                   sfn.Condition.boolean_equals("$.skip_ingest", True)),
                dbt,
            ).otherwise(ingest.next(dbt))

        log_group = logs.LogGroup(self, "StateMachineLogs", encryption_key=self._logs_key,
                                  retention=self._log_retention, removal_policy=self._removal_policy)
        machine = sfn.StateMachine(
            self, "StateMachine",
            comment=f"{name_prefix} analytics pipeline: Glue → dbt (CodeBuild) → QuickSight",
            definition_body=sfn.DefinitionBody.from_chainable(start),
            state_machine_type=sfn.StateMachineType.STANDARD,
            # Execution data stays out of the logs: task inputs carry Step Functions task tokens.
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
            tracing_enabled=True,
            timeout=timeout,
        )
        return machine

    def _dataset_arns(self, dataset_ids: list[str]) -> list[str]:
        # CreateIngestion/DescribeIngestion authorize on the ingestion resource, whose id the state machine
        # generates per run (States.UUID()): each dataset's ingestion/*, nothing else.
        stack = Stack.of(self)
        return [stack.format_arn(service="quicksight", resource="dataset", resource_name=f"{d}/ingestion/*")
                for d in dataset_ids]

    def _quicksight_refresh(self, dataset_ids: list[str], poll_interval: Duration, catch, success) -> sfn.IChainable:
        account = Stack.of(self).account
        create = tasks.CallAwsService(
            self, "Create ingestion", service="quicksight", action="createIngestion",
            parameters={"AwsAccountId": account, "DataSetId": sfn.JsonPath.string_at("$.dataset_id"),
                        "IngestionId": sfn.JsonPath.string_at("$.ingestion_id"), "IngestionType": "FULL_REFRESH"},
            iam_resources=self._dataset_arns(dataset_ids),
            result_path=sfn.JsonPath.DISCARD,
        )
        create.add_retry(errors=[*_SDK_TRANSIENT_ERRORS, "QuickSight.LimitExceededException"],
                         interval=Duration.seconds(30), max_attempts=4, backoff_rate=2,
                         jitter_strategy=sfn.JitterType.FULL)
        wait = sfn.Wait(self, "Wait for ingestion", time=sfn.WaitTime.duration(poll_interval))
        describe = tasks.CallAwsService(
            self, "Describe ingestion", service="quicksight", action="describeIngestion",
            parameters={"AwsAccountId": account, "DataSetId": sfn.JsonPath.string_at("$.dataset_id"),
                        "IngestionId": sfn.JsonPath.string_at("$.ingestion_id")},
            iam_resources=self._dataset_arns(dataset_ids),
            result_selector={"status": sfn.JsonPath.string_at("$.Ingestion.IngestionStatus")},
            result_path="$.ingestion",
        )
        describe.add_retry(errors=_SDK_TRANSIENT_ERRORS, interval=Duration.seconds(10), max_attempts=4,
                           backoff_rate=2, jitter_strategy=sfn.JitterType.FULL)
        finished = (
            sfn.Choice(self, "Ingestion finished?")
            .when(sfn.Condition.string_equals("$.ingestion.status", "COMPLETED"), sfn.Succeed(self, "Dataset refreshed"))
            .when(sfn.Condition.or_(sfn.Condition.string_equals("$.ingestion.status", "FAILED"),
                                    sfn.Condition.string_equals("$.ingestion.status", "CANCELLED")),
                  sfn.Fail(self, "Ingestion failed", error="QuickSightIngestionFailed",
                           cause="A SPICE ingestion ended FAILED or CANCELLED: see the dataset's refresh history"))
            .otherwise(wait)
        )
        create.next(wait).next(describe).next(finished)

        listed = sfn.Pass(self, "List QuickSight datasets", result=sfn.Result.from_array(dataset_ids),
                          result_path="$.quicksight_datasets")
        refresh = sfn.Map(
            self, STATE_REFRESH, items_path="$.quicksight_datasets", max_concurrency=5,
            item_selector={
                "dataset_id": sfn.JsonPath.string_at("$$.Map.Item.Value"),
                # IngestionId must be unique per dataset (ARCHITECTURE.md).
                "ingestion_id": sfn.JsonPath.uuid(),
            },
            result_path=sfn.JsonPath.DISCARD,
        )
        refresh.item_processor(create)
        catch(refresh, STATE_REFRESH)
        return listed.next(refresh).next(success)

    def _alarms(self, workgroup_name: str, usage_limit_rpu_hours: int, usage_limit_period: str) -> dict[str, cloudwatch.Alarm]:
        action = cw_actions.SnsAction(self.topic)
        five_minutes = Duration.minutes(5)
        alarms: dict[str, cloudwatch.Alarm] = {}

        def alarm(name: str, metric: cloudwatch.IMetric, description: str, threshold: float = 1) -> None:
            created = cloudwatch.Alarm(
                self, f"{name}Alarm", metric=metric, threshold=threshold, evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING, alarm_description=description,
            )
            created.add_alarm_action(action)
            alarms[name] = created

        sm = self.state_machine
        alarm("PipelineFailed", sm.metric_failed(period=five_minutes, statistic="Sum"),
              "A pipeline execution failed: read the SNS alert naming the step")
        alarm("PipelineTimedOut", sm.metric_timed_out(period=five_minutes, statistic="Sum"),
              "A pipeline execution hit the state machine timeout: check the Glue and dbt durations")
        alarm("PipelineAborted", sm.metric_aborted(period=five_minutes, statistic="Sum"),
              "A pipeline execution was stopped (by hand or by a deployment)")
        if self._glue_failure_rule is not None:
            alarm("GlueJobFailed",
                  cloudwatch.Metric(namespace="AWS/Events", metric_name="TriggeredRules",
                                    dimensions_map={"RuleName": self._glue_failure_rule.rule_name},
                                    period=five_minutes, statistic="Sum"),
                  "An ingest Glue job run failed (pipeline or backfill): see the Glue job run and the SNS message")
        for name, fn in (("StartPipeline", self.start_pipeline), ("StartDbtBuild", self.start_dbt_build),
                         ("DbtBuildCallback", self.dbt_build_callback)):
            alarm(f"{name}Errors", fn.metric_errors(period=five_minutes, statistic="Sum"),
                  f"The {name} Lambda raised errors: read its log group")
        alarm("DeadLetters", self.dead_letter_queue.metric_approximate_number_of_messages_visible(
            period=five_minutes, statistic="Maximum"),
              "Events or schedules could not be delivered to the orchestration Lambdas: inspect the DLQ messages")
        alarm("DbtTestFailures",
              cloudwatch.Metric(namespace=self.metrics_namespace, metric_name="DbtTestFailures",
                                dimensions_map={"service": "dbt_build_callback"}, period=Duration.hours(1),
                                statistic="Maximum"),
              "dbt tests failed: the marts were not published to QuickSight; see the alert naming the tests")
        # The usage limit itself has no alarmable metric in CloudFormation: alarm when a day's RPU-hours use the
        # limit up faster than its period allows (ComputeSeconds are RPU-seconds per workgroup).
        period_days = {"daily": 1, "weekly": 7, "monthly": 30}[usage_limit_period]
        alarm("RedshiftUsage",
              cloudwatch.MathExpression(
                  expression="compute / 3600", label="RPU-hours per day", period=Duration.days(1),
                  using_metrics={"compute": cloudwatch.Metric(
                      namespace="AWS/Redshift-Serverless", metric_name="ComputeSeconds",
                      dimensions_map={"Workgroup": workgroup_name}, statistic="Sum", period=Duration.days(1))},
              ),
              f"Redshift Serverless used more than its {usage_limit_period} usage limit allows per day "
              f"({usage_limit_rpu_hours} RPU-hours per {usage_limit_period} period)",
              threshold=round(usage_limit_rpu_hours / period_days, 2))
        return alarms

    def _dashboard(self, name_prefix: str, workgroup_name: str) -> cloudwatch.Dashboard:
        sm = self.state_machine
        dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.days(7))
        dashboard.add_widgets(
            cloudwatch.TextWidget(markdown=f"# {name_prefix} analytics pipeline\nGlue → dbt (CodeBuild) → QuickSight. "
                                           "Alarms notify the alerts topic.", width=24, height=2),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Pipeline executions", width=8, left=[
                sm.metric_started(statistic="Sum"), sm.metric_succeeded(statistic="Sum"),
                sm.metric_failed(statistic="Sum"), sm.metric_timed_out(statistic="Sum")]),
            cloudwatch.GraphWidget(title="Pipeline duration (ms)", width=8, left=[sm.metric_time(statistic="Maximum")]),
            cloudwatch.GraphWidget(title="dbt test failures", width=8, left=[self.alarms["DbtTestFailures"].metric]),
        )
        glue_failures = [self.alarms["GlueJobFailed"].metric] if "GlueJobFailed" in self.alarms else []
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Glue ingest failures", width=8, left=glue_failures),
            cloudwatch.GraphWidget(title="Lambda errors", width=8, left=[
                self.alarms[f"{n}Errors"].metric for n in ("StartPipeline", "StartDbtBuild", "DbtBuildCallback")]),
            cloudwatch.GraphWidget(title="Dead letters", width=8, left=[self.alarms["DeadLetters"].metric]),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title=f"Redshift {workgroup_name}: RPU-hours per day", width=12,
                                   left=[self.alarms["RedshiftUsage"].metric]),
            cloudwatch.AlarmStatusWidget(title="Alarms", width=12, alarms=list(self.alarms.values())),
        )
        return dashboard
