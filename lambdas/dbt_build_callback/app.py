"""Report the end of a dbt CodeBuild build back to the waiting Step Functions task.

Triggered by EventBridge for this project only (the rule filters on project-name; the handler checks it again):
- "CodeBuild Build Phase Change" → SendTaskHeartbeat, so the task's heartbeat timeout catches a lost build early.
- "CodeBuild Build State Change" in a final state → read run_results.json / sources.json (and runner_error.txt,
  what stopped the runner before dbt) the build uploaded under the execution id → SendTaskSuccess with the summary when dbt ran and only tests failed or all passed (the state
  machine's Choice then decides: failed tests mean an alert and no QuickSight refresh), SendTaskFailure naming the
  failing nodes when the build itself failed (model errors, stale sources, crash, timeout, stop).
Emits the DbtTestFailures metric (0 on success, so the alarm always has data).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from common import events
from common.aws import client
from common.observability import logger, metrics, tracer
from common.settings import load_settings

from dbt_build_callback.summary import DbtRunSummary, summarize

FINAL_STATUSES = ("SUCCEEDED", "FAILED", "FAULT", "STOPPED", "TIMED_OUT")
# The task already ended (timed out, execution stopped): nothing to report to; retrying cannot help.
STALE_TOKEN_ERRORS = ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken")
DETAIL_TYPES = ("CodeBuild Build State Change", "CodeBuild Build Phase Change")


@dataclass(frozen=True)
class Settings:
    dbt_project_name: str
    artifacts_bucket: str


@dataclass(frozen=True)
class BuildEvent:
    detail_type: str
    project_name: str
    build_id: str
    build_status: str
    environment: dict[str, str]

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> BuildEvent:
        what = "CodeBuild build event"
        detail_type = events.field(event, "detail-type", what)
        if detail_type not in DETAIL_TYPES:
            raise events.BadEvent(f"{what}: detail-type {detail_type!r} is not one of {', '.join(DETAIL_TYPES)}")
        detail = events.field(event, "detail", what)
        events.name(events.field(detail, "build-id", f"{what} detail"), "build-id")
        events.field(detail, "project-name", f"{what} detail")
        env_list = (detail.get("additional-information") or {}).get("environment", {}).get(
            "environment-variables", []
        )
        return cls(
            detail_type=event.get("detail-type", ""),
            project_name=detail.get("project-name", ""),
            build_id=detail.get("build-id", ""),
            build_status=detail.get("build-status") or detail.get("completed-phase-status") or "",
            environment={v["name"]: v.get("value", "") for v in env_list},
        )

    @property
    def execution_id(self) -> str:
        return self.environment.get("PIPELINE_EXECUTION_ID", "")

    @property
    def token_key(self) -> str:
        return self.environment.get("TASK_TOKEN_S3_KEY", "")

    @property
    def artifacts_key_prefix(self) -> str:
        # ARTIFACTS_S3_URI = s3://<bucket>/<prefix>
        return self.environment.get("ARTIFACTS_S3_URI", "").split("/", 3)[-1]


@functools.cache
def settings() -> Settings:
    return load_settings(Settings)


def _read_json(bucket: str, key: str) -> dict[str, Any] | None:
    try:
        body = client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as err:
        if err.response["Error"]["Code"] in ("NoSuchKey", "404"):
            return None
        raise
    return json.loads(body)


def _read_text(bucket: str, key: str) -> str | None:
    try:
        return client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8", errors="replace")
    except ClientError as err:
        if err.response["Error"]["Code"] in ("NoSuchKey", "404"):
            return None
        raise


def _task_token(cfg: Settings, build: BuildEvent) -> str:
    return client("s3").get_object(Bucket=cfg.artifacts_bucket, Key=build.token_key)["Body"].read().decode()


def _report(call: str, **kwargs: Any) -> bool:
    try:
        getattr(client("stepfunctions"), call)(**kwargs)
    except ClientError as err:
        if err.response["Error"]["Code"] in STALE_TOKEN_ERRORS:
            logger.warning("task no longer waits for this build", extra={"error": err.response["Error"]["Code"]})
            return False
        raise
    return True


def load_summary(cfg: Settings, build: BuildEvent) -> DbtRunSummary:
    prefix = build.artifacts_key_prefix
    run_results = _read_json(cfg.artifacts_bucket, f"{prefix}/run_results.json")
    sources = _read_json(cfg.artifacts_bucket, f"{prefix}/sources.json")
    summary = summarize(run_results, sources)
    if run_results is None and summary.outcome == "build_failed" and not summary.failing_nodes:
        summary.message = (
            f"CodeBuild build {build.build_id} ended {build.build_status} before dbt wrote run_results.json: "
            f"read the build log (s3://{cfg.artifacts_bucket}/{prefix}/logs/)"
        )
        # The runner names what stopped it before dbt ran (e.g. a missing or corrupt promoted-model artifact).
        reason = _read_text(cfg.artifacts_bucket, f"{prefix}/runner_error.txt")
        if reason:
            summary.message = f"{reason.strip()[:1000]} ({summary.message})"
    return summary


def complete_task(cfg: Settings, build: BuildEvent) -> dict[str, Any]:
    summary = load_summary(cfg, build)
    metrics.add_metric(name="DbtTestFailures", unit=MetricUnit.Count, value=summary.tests_failed)
    token = _task_token(cfg, build)
    output = {
        **summary.to_dict(),
        "build_id": build.build_id,
        "build_status": build.build_status,
        "execution_id": build.execution_id,
        "artifacts": f"s3://{cfg.artifacts_bucket}/{build.artifacts_key_prefix}/",
    }
    if summary.outcome == "build_failed" or build.build_status not in ("SUCCEEDED", "FAILED"):
        # Step Functions caps error at 256 and cause at 32768 characters.
        reported = _report(
            "send_task_failure", taskToken=token, error="DbtBuildFailed", cause=summary.message[:32000]
        )
    else:
        reported = _report("send_task_success", taskToken=token, output=json.dumps(output))
    logger.info("reported dbt build", extra={"outcome": summary.outcome, "reported": reported})
    return {"outcome": summary.outcome, "reported": reported, "message": summary.message}


@logger.inject_lambda_context(clear_state=True)  # keys appended for one build never leak into the next
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    cfg = settings()
    build = BuildEvent.from_event(event)
    if build.project_name != cfg.dbt_project_name:
        logger.warning("ignored a build of another project", extra={"project": build.project_name})
        return {"ignored": build.project_name}
    if not build.token_key:
        # A build started by hand (console, CLI) has no task waiting for it.
        logger.info("build has no task token reference; nothing to report", extra={"build_id": build.build_id})
        return {"ignored": build.build_id}
    logger.append_keys(execution_id=build.execution_id, build_id=build.build_id)
    if event.get("detail-type") == "CodeBuild Build Phase Change":
        return {"heartbeat": _report("send_task_heartbeat", taskToken=_task_token(cfg, build))}
    if build.build_status not in FINAL_STATUSES:
        return {"ignored": build.build_status}
    return complete_task(cfg, build)
