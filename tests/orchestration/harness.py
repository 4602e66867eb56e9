"""Execute the synthesized pipeline state machine under moto, with the real Lambda handlers run in-process.

What is real: the state machine definition from the synthesized CloudFormation template (references resolved to
the moto resources created here), the three Lambda handlers with the environment CDK gave them, boto3 calls
against moto. What is simulated, because moto cannot run it:
- CodeBuild: moto records StartBuild but runs nothing. The harness captures each StartBuild request, "runs" dbt by
  writing the scenario's run_results.json under the build's ARTIFACTS_S3_URI, and delivers the EventBridge events
  CodeBuild would emit (a phase change, then the final state change) to the callback handler.
- Gaps of moto 5.2 (ARCHITECTURE.md): `quicksight describe_ingestion` is added (RUNNING once, then the scenario's
  status); glue .sync needs a callback endpoint to exist; a Parallel
  re-raising a branch's States.* error; SendTaskFailure keeping its cause; Glue runs of chosen jobs end FAILED; Wait states are
  shortened to 0 s (the queue's to 1 s) and the dbt task's heartbeat to HEARTBEAT_SECONDS so tests stay fast; a
  handler that raises answers as Lambda does (FunctionError, errorType = the exception's class name); moto's
  CodeBuild reports every build SUCCEEDED when described, the harness reports IN_PROGRESS until its build ends.
- Several executions can run at once (`run_many`), on one state machine, to exercise the run queue.
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from moto import mock_aws

# lambdas/ on sys.path, the region/account moto serves, events and a fake Lambda context: the same as every
# other in-process handler test
from tests.fixtures.lambdas import ACCOUNT, REGION, FakeContext, load_event, report_build_statuses

from infra.constructs.pipeline_states import STATE_QUEUED

HEARTBEAT_SECONDS = 4  # the dbt task's heartbeat timeout under the harness (the real one is minutes)

# --- CloudFormation reference resolution ---------------------------------------------------------------------


class TemplateResolver:
    """Resolve Ref / Fn::GetAtt / Fn::Join / Fn::ImportValue to the names of the moto resources the harness creates.

    Physical names: a resource's explicit name property when the template sets one, else its logical id.
    """

    NAME_PROPERTIES = {
        "AWS::Glue::Job": "Name",
        "AWS::CodeBuild::Project": "Name",
        "AWS::SNS::Topic": "TopicName",
        "AWS::S3::Bucket": "BucketName",
        "AWS::Lambda::Function": "FunctionName",
        "AWS::DynamoDB::GlobalTable": "TableName",
        "AWS::DynamoDB::Table": "TableName",
        "AWS::StepFunctions::StateMachine": "StateMachineName",
        "AWS::SQS::Queue": "QueueName",
    }

    def __init__(self, templates: list[dict]):
        self.templates = templates
        self.exports: dict[str, tuple[dict, Any]] = {}
        self.outputs: dict[str, tuple[dict, Any]] = {}
        for template in templates:
            for name, output in (template.get("Outputs") or {}).items():
                self.outputs[name] = (template, output["Value"])
                export = (output.get("Export") or {}).get("Name")
                if isinstance(export, str):
                    self.exports[export] = (template, output["Value"])

    def name(self, template: dict, logical_id: str) -> str:
        resource = template["Resources"][logical_id]
        prop = self.NAME_PROPERTIES.get(resource["Type"])
        explicit = (resource.get("Properties") or {}).get(prop) if prop else None
        if explicit is not None:
            return self.resolve(template, explicit)
        if resource["Type"] == "AWS::S3::Bucket":
            return logical_id.lower()
        return logical_id

    def arn(self, template: dict, logical_id: str) -> str:
        kind = template["Resources"][logical_id]["Type"]
        name = self.name(template, logical_id)
        service, resource = {
            "AWS::Lambda::Function": ("lambda", "function:"),
            "AWS::SNS::Topic": ("sns", ""),
            "AWS::DynamoDB::GlobalTable": ("dynamodb", "table/"),
            "AWS::DynamoDB::Table": ("dynamodb", "table/"),
            "AWS::CodeBuild::Project": ("codebuild", "project/"),
            "AWS::StepFunctions::StateMachine": ("states", "stateMachine:"),
            "AWS::SQS::Queue": ("sqs", ""),
        }.get(kind, (kind.split("::")[1].lower(), f"{logical_id}/"))
        if kind == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{name}"
        return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}{name}"

    def resolve(self, template: dict, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(template, v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {k: self.resolve(template, v) for k, v in value.items()}
        (key, arg), = value.items()
        if key == "Ref":
            pseudo = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
                      "AWS::URLSuffix": "amazonaws.com"}
            if arg in pseudo:
                return pseudo[arg]
            kind = template["Resources"][arg]["Type"]
            return self.arn(template, arg) if kind in ("AWS::SNS::Topic", "AWS::StepFunctions::StateMachine") \
                else self.name(template, arg)
        if key == "Fn::GetAtt":
            logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            if attribute in ("Arn", "TopicArn"):
                return self.arn(template, logical_id)
            if attribute in ("Name", "TopicName", "QueueName"):
                return self.name(template, logical_id)
            raise NotImplementedError(f"GetAtt {logical_id}.{attribute}")
        if key == "Fn::Join":
            separator, parts = arg
            return separator.join(str(self.resolve(template, p)) for p in parts)
        if key == "Fn::GetStackOutput":  # how aws-cdk-lib 2.27x references another stack of the stage
            source, value = self.outputs[arg["OutputName"]]
            return self.resolve(source, value)
        if key == "Fn::ImportValue":
            source, exported = self.exports[self.resolve(template, arg)]
            return self.resolve(source, exported)
        if key == "Fn::Select":
            index, items = arg
            return self.resolve(template, items)[int(index)]
        if key == "Fn::Split":
            separator, text = arg
            return self.resolve(template, text).split(separator)
        return {key: self.resolve(template, arg)}


# --- scenarios and results ----------------------------------------------------------------------------------


@dataclass
class Scenario:
    """What the simulated world does during one execution."""

    run_results: str | None = "run_results_passed.json"  # fixture the dbt build "writes"; None = nothing
    build_status: str = "SUCCEEDED"
    failing_glue_jobs: set[str] = field(default_factory=set)
    ingestion_status: str = "COMPLETED"
    # function logical-id prefix → number of invocations that fail with a transient Lambda service error first
    throttled_invocations: dict[str, int] = field(default_factory=dict)
    build_seconds: float = 0.3  # how long the simulated dbt build runs before its final state event
    build_calls_back: bool = True  # False: the build is lost (no event ever reaches the callback)
    duplicate_callback: bool = False  # EventBridge delivers the final state event twice
    codebuild_refusals: int = 0  # StartBuild calls answered AccountLimitExceededException first
    queued_ingestion_polls: int = 0  # polls that see each SPICE ingestion QUEUED behind a running one
    sns_failures: int = 0  # SNS Publish calls that fail with a transient error first


@dataclass
class RunResult:
    status: str
    output: dict | None
    history: list[dict]
    notifications: list[tuple[str | None, str]]  # (subject, message)
    ingestions: list[str]  # dataset ids with a created ingestion
    builds: list[dict]  # StartBuild requests
    glue_runs: list[str]  # job names started
    invocations: list[str]  # lambda logical ids invoked (incl. throttled attempts)

    name: str = ""
    started: float = 0.0  # time.monotonic() of start and end, to order executions
    ended: float = 0.0

    def states_entered(self) -> list[str]:
        return [e["stateEnteredEventDetails"]["name"] for e in self.history if "stateEnteredEventDetails" in e]


# --- the harness ----------------------------------------------------------------------------------------------


class PipelineHarness:
    """Build once per test from the synthesized templates; `run(scenario, input)` executes the state machine."""

    def __init__(self, stack_template: dict, all_templates: list[dict], monkeypatch):
        self.template = stack_template
        self.resolver = TemplateResolver(all_templates)
        self.monkeypatch = monkeypatch
        self.lock = threading.RLock()
        resources = stack_template["Resources"]
        machines = [k for k, r in resources.items() if r["Type"] == "AWS::StepFunctions::StateMachine"]
        assert len(machines) == 1, f"expected one state machine, found {machines}"
        self.machine_logical_id = machines[0]
        self.definition = self._definition()
        self.functions = {
            logical_id: {
                "handler": r["Properties"]["Handler"],
                "env": self.resolver.resolve(stack_template, r["Properties"]["Environment"]["Variables"]),
            }
            for logical_id, r in resources.items()
            if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Handler", "").endswith(".app.handler")
        }
        self._env_keys = sorted({k for f in self.functions.values() for k in f["env"]})
        for key in [*self._env_keys, "POWERTOOLS_TRACE_DISABLED", "AWS_LAMBDA_FUNCTION_NAME"]:
            monkeypatch.setenv(key, os.environ.get(key, ""))  # restored after the test

    def _definition(self) -> dict:
        raw = self.template["Resources"][self.machine_logical_id]["Properties"]["DefinitionString"]
        definition = json.loads(self.resolver.resolve(self.template, raw))
        for name, state in self.states(definition).items():
            if state.get("Type") == "Wait" and "Seconds" in state:
                state["Seconds"] = 1 if name == STATE_QUEUED else 0
            if "HeartbeatSeconds" in state:
                state["HeartbeatSeconds"] = HEARTBEAT_SECONDS
            for retry in state.get("Retry", []):  # same retries, a second apart instead of minutes
                retry["IntervalSeconds"] = 1
                retry["BackoffRate"] = 1
        return definition

    @staticmethod
    def states(definition: dict) -> dict[str, dict]:
        """Every state by name, nested ones (Parallel branches, Map processors) included."""
        found: dict[str, dict] = {}

        def walk(states: dict) -> None:
            for name, state in states.items():
                found[name] = state
                for branch in state.get("Branches", []):
                    walk(branch["States"])
                for key in ("ItemProcessor", "Iterator"):
                    if key in state:
                        walk(state[key]["States"])

        walk(definition["States"])
        return found

    def set_queue_limit(self, seconds: int) -> None:
        """How long an execution may wait for earlier ones (the real limit is hours)."""
        for state in self.states(self.definition).values():
            parameters = state.get("Parameters") or {}
            if "max_wait_seconds" in parameters:
                parameters["max_wait_seconds"] = seconds

    def function(self, folder: str) -> str:
        (logical_id,) = [k for k, f in self.functions.items() if f["handler"] == f"{folder}.app.handler"]
        return logical_id

    def env_of(self, folder: str) -> dict[str, str]:
        return self.functions[self.function(folder)]["env"]

    # --- in-process Lambda ---------------------------------------------------------------------------------
    def invoke_in_process(self, logical_id: str, event: dict) -> Any:
        from common import aws

        spec = self.functions[logical_id]
        module_name = spec["handler"].rsplit(".", 1)[0]
        with self.lock:
            # Only overwrite values, never clear or delete keys: moto's interpreter threads (other executions) read
            # os.environ meanwhile, and a key vanishing under a copy of it raises KeyError there. Every function's
            # keys are set (the others' to ""), so no setting leaks from one function into another; the test's
            # monkeypatch restores the environment afterwards.
            try:
                for key in self._env_keys:
                    os.environ[key] = spec["env"].get(key, "")
                os.environ.update({"POWERTOOLS_TRACE_DISABLED": "true", "AWS_LAMBDA_FUNCTION_NAME": logical_id,
                                   "AWS_DEFAULT_REGION": REGION})
                aws.reset_clients()
                module = importlib.import_module(module_name)
                if hasattr(module, "settings"):
                    module.settings.cache_clear()
                return module.handler(copy.deepcopy(event), FakeContext())
            finally:
                aws.reset_clients()

    # --- executions -------------------------------------------------------------------------------------------
    def run(self, scenario: Scenario, execution_input: dict, name: str = "batch-2026-11-24-run01",
            timeout_s: float = 90) -> RunResult:
        return self.run_many(scenario, [(name, execution_input)], timeout_s=timeout_s)[0]

    def run_many(self, scenario: Scenario, executions: list[tuple[str, dict]], *, stagger_s: float = 0.2,
                 timeout_s: float = 120) -> list[RunResult]:
        """Start every (name, input) on one state machine, `stagger_s` apart, and wait for all of them."""
        config = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
        with mock_aws(config=config):
            return self._run(scenario, executions, stagger_s, timeout_s)

    def _run(self, scenario: Scenario, executions: list[tuple[str, dict]], stagger_s: float,
             timeout_s: float) -> list[RunResult]:
        from moto.awslambda_simple.models import LambdaSimpleBackend
        from moto.codebuild.responses import CodeBuildResponse
        from moto.core.exceptions import JsonRESTError
        from moto.glue.models import FakeJob
        from moto.quicksight.responses import QuickSightResponse
        from moto.sns.models import sns_backends

        builds: list[dict] = []
        ingestions: list[str] = []
        glue_runs: list[str] = []
        invocations: list[str] = []
        describe_calls: dict[str, int] = {}
        throttles = dict(scenario.throttled_invocations)
        refusals = {"left": scenario.codebuild_refusals}
        build_status: dict[str, str] = {}  # build id -> status the harness reports (IN_PROGRESS until it ends)
        mp = self.monkeypatch

        def invoke(backend, function_name, qualifier, body, headers, response_headers):
            logical_id = function_name.split(":")[-1]
            invocations.append(logical_id)
            for prefix, remaining in throttles.items():
                if logical_id.startswith(prefix) and remaining > 0:
                    throttles[prefix] = remaining - 1
                    raise JsonRESTError("TooManyRequestsException", "Rate exceeded")
            try:
                result = self.invoke_in_process(logical_id, json.loads(body))
            except Exception as exc:  # what Lambda answers for an unhandled exception
                response_headers["x-amz-function-error"] = "Unhandled"
                return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}).encode()
            return json.dumps(result).encode()

        mp.setattr(LambdaSimpleBackend, "invoke", invoke)

        # moto gap: a glue .sync task dereferences a callback endpoint that only exists when the service also
        # declares .waitForTaskToken support ('NoneType' object has no attribute 'interrupt_all').
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
            state_task_service_glue as glue_service,
        )
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition

        mp.setattr(glue_service, "_SUPPORTED_INTEGRATION_PATTERNS",
                   {ResourceCondition.Sync, ResourceCondition.WaitForTaskToken})
        # moto gap: a Parallel whose branch failed with a States.* error (e.g. States.TaskFailed from a failed Glue
        # run) crashes building a *custom* error name from it instead of raising that error to the Catch.
        from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
        from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
        from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branches_decl

        def error_name(error_name: str | None):
            if error_name and error_name.startswith("States."):
                return StatesErrorName.from_name(error_name)
            return CustomErrorName(error_name)

        mp.setattr(branches_decl, "CustomErrorName", error_name)

        # moto gap: SendTaskFailure drops `cause`, which is where the callback names the failing models.
        from moto.core.responses import EmptyResult
        from moto.stepfunctions.responses import StepFunctionResponse

        def send_task_failure(response):
            response.stepfunction_backend.send_task_failure(
                response._get_param("taskToken"), error=response._get_param("error"),
                cause=response._get_param("cause"))
            return EmptyResult()

        mp.setattr(StepFunctionResponse, "send_task_failure", send_task_failure)

        original_start_build = CodeBuildResponse.start_build

        def start_build(response):
            if refusals["left"] > 0:
                refusals["left"] -= 1
                raise JsonRESTError("AccountLimitExceededException", "Cannot have more than 1 builds in queue")
            request = json.loads(response.body)
            result = original_start_build(response)
            from moto.codebuild.models import codebuild_backends

            build_id = codebuild_backends[ACCOUNT][REGION].build_history[request["projectName"]][-1]
            builds.append({**request, "build_id": build_id, "started": time.monotonic()})
            build_status[build_id] = "IN_PROGRESS"
            threading.Thread(target=self._finish_build, args=(scenario, request, build_id, build_status, builds[-1]),
                             daemon=True).start()
            return result

        mp.setattr(CodeBuildResponse, "start_build", start_build)
        report_build_statuses(mp, build_status)

        original_start_job_run = FakeJob.start_job_run

        def start_job_run(job, *args, **kwargs):
            run_id = original_start_job_run(job, *args, **kwargs)
            glue_runs.append(job.name)
            if job.name in scenario.failing_glue_jobs:
                for run in job.job_runs:
                    if run.job_run_id == run_id:
                        run._transitions = [("STARTING", "RUNNING"), ("RUNNING", "FAILED")]
            return run_id

        mp.setattr(FakeJob, "start_job_run", start_job_run)

        original_create_ingestion = QuickSightResponse.create_ingestion

        def create_ingestion(response):
            ingestions.append(response._get_param("DataSetId"))
            return original_create_ingestion(response)

        def describe_ingestion(response):
            ingestion_id = response._get_param("IngestionId")
            describe_calls[ingestion_id] = describe_calls.get(ingestion_id, 0) + 1
            n = describe_calls[ingestion_id]
            # QUEUED behind another ingestion for the scenario's polls, RUNNING once, then the final status.
            if n <= scenario.queued_ingestion_polls:
                status = "QUEUED"
            elif n == scenario.queued_ingestion_polls + 1:
                status = "RUNNING"
            else:
                status = scenario.ingestion_status
            return json.dumps({"Ingestion": {"IngestionId": ingestion_id, "IngestionStatus": status,
                                             "Arn": f"arn:aws:quicksight:{REGION}:{ACCOUNT}:dataset/"
                                                    f"{response._get_param('DataSetId')}/ingestion/{ingestion_id}"},
                               "RequestId": "r", "Status": 200})

        from moto.sns.exceptions import SNSException
        from moto.sns.responses import SNSResponse

        sns_left = {"n": scenario.sns_failures}
        original_publish = SNSResponse.publish

        def publish(response):
            if sns_left["n"] > 0:
                sns_left["n"] -= 1
                raise SNSException("KMSThrottling", "Rate exceeded for the topic's KMS key")
            return original_publish(response)

        mp.setattr(SNSResponse, "publish", publish)
        mp.setattr(QuickSightResponse, "create_ingestion", create_ingestion)
        mp.setattr(QuickSightResponse, "describe_ingestion", describe_ingestion, raising=False)

        topic_arns = self._create_resources()
        sfn = boto3.client("stepfunctions", region_name=REGION)
        machine_arn = sfn.create_state_machine(
            name=self.resolver.name(self.template, self.machine_logical_id),
            definition=json.dumps(self.definition),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/pipeline",
        )["stateMachineArn"]
        started: dict[str, tuple[str, float]] = {}
        for i, (name, execution_input) in enumerate(executions):
            if i:
                time.sleep(stagger_s)
            arn = sfn.start_execution(stateMachineArn=machine_arn, name=name,
                                      input=json.dumps(execution_input))["executionArn"]
            started[name] = (arn, time.monotonic())
        deadline = time.monotonic() + timeout_s
        described: dict[str, dict] = {}
        ended: dict[str, float] = {}
        while len(described) < len(started):
            for name, (arn, _) in started.items():
                if name in described:
                    continue
                d = sfn.describe_execution(executionArn=arn)
                if d["status"] != "RUNNING":
                    described[name], ended[name] = d, time.monotonic()
            if time.monotonic() > deadline:
                raise TimeoutError(f"executions still RUNNING after {timeout_s}s: "
                                   f"{sorted(set(started) - set(described))}")
            time.sleep(0.1)
        notifications = [(n[2], n[1]) for arn in topic_arns
                         for n in sns_backends[ACCOUNT][REGION].topics[arn].sent_notifications]
        results = []
        for name, (arn, start) in started.items():
            d = described[name]
            history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
            mine = [n for n in notifications if name in n[1]] if len(started) > 1 else notifications
            results.append(RunResult(
                d["status"], json.loads(d["output"]) if d.get("output") else None, history, mine, ingestions,
                builds, glue_runs, invocations, name=name, started=start, ended=ended[name]))
        return results

    def _create_resources(self) -> list[str]:
        """Moto resources named as the resolved template references expect them; returns the topic ARNs."""
        start_env, pipeline_env = self.env_of("start_dbt_build"), self.env_of("start_pipeline")
        boto3.client("s3", region_name=REGION).create_bucket(
            Bucket=start_env["ARTIFACTS_BUCKET"], CreateBucketConfiguration={"LocationConstraint": REGION})
        boto3.client("codebuild", region_name=REGION).create_project(
            name=start_env["DBT_PROJECT_NAME"], source={"type": "S3", "location": "assets/dbt.zip"},
            artifacts={"type": "NO_ARTIFACTS"}, serviceRole=f"arn:aws:iam::{ACCOUNT}:role/dbt",
            environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                         "computeType": "BUILD_GENERAL1_SMALL"})
        glue = boto3.client("glue", region_name=REGION)
        for job in json.loads(pipeline_env["INGEST_JOB_NAMES"]):
            glue.create_job(Name=job, Role="glue", Command={"Name": "glueetl", "ScriptLocation": "s3://b/job.py"},
                            ExecutionProperty={"MaxConcurrentRuns": 5})
        topics = [k for k, r in self.template["Resources"].items() if r["Type"] == "AWS::SNS::Topic"]
        assert len(topics) == 2, topics  # alerts, notices
        sns = boto3.client("sns", region_name=REGION)
        return [sns.create_topic(Name=self.resolver.name(self.template, t))["TopicArn"] for t in topics]

    # --- simulated CodeBuild -------------------------------------------------------------------------------
    def _finish_build(self, scenario: Scenario, request: dict, build_id: str, build_status: dict[str, str],
                      record: dict) -> None:
        if not scenario.build_calls_back:
            return  # lost: no phase change, no state change, no heartbeat ever reaches the waiting task
        env = {v["name"]: v["value"] for v in request.get("environmentVariablesOverride", [])}
        bucket, prefix = env["ARTIFACTS_S3_URI"][len("s3://"):].split("/", 1)
        variables = [{"name": k, "type": "PLAINTEXT", "value": v} for k, v in env.items()]
        callback = self.function("dbt_build_callback")

        def deliver(fixture: str, status: str | None) -> None:
            event = load_event(fixture)
            event["detail"]["project-name"] = request["projectName"]
            event["detail"]["build-id"] = build_id
            event["detail"]["additional-information"]["environment"]["environment-variables"] = variables
            if status:
                event["detail"]["build-status"] = status
            try:
                record.setdefault("callbacks", []).append(self.invoke_in_process(callback, event))
            except Exception as exc:  # noqa: BLE001 - recorded for the test to see, not lost in this thread
                record.setdefault("callbacks", []).append({"raised": repr(exc)})

        time.sleep(0.3)  # let the Lambda return and the task start waiting on its token
        deliver("codebuild_build_phase_change.json", None)
        time.sleep(max(0.0, scenario.build_seconds - 0.3))
        if scenario.run_results:
            boto3.client("s3", region_name=REGION).put_object(
                Bucket=bucket, Key=f"{prefix}/run_results.json",
                Body=json.dumps(load_event(scenario.run_results)).encode())
        build_status[build_id] = scenario.build_status
        record["ended"] = time.monotonic()
        for _ in range(2 if scenario.duplicate_callback else 1):
            deliver("codebuild_build_state_succeeded.json", scenario.build_status)


def stack_with_state_machine(templates: dict[str, dict]) -> dict:
    found = [t for t in templates.values()
             if any(r["Type"] == "AWS::StepFunctions::StateMachine" for r in t.get("Resources", {}).values())]
    assert len(found) == 1, f"expected one stack with the pipeline state machine, found {len(found)}"
    return found[0]


Runner = Callable[[Scenario, dict], RunResult]
