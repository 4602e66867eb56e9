"""Start the dbt CodeBuild build for one pipeline execution; Step Functions waits on the task token.

Idempotency: a retry never starts a second build for the same pipeline execution. The first invocation claims the
execution with a conditional S3 write (If-None-Match: *) of dbt-runs/<execution id>/orchestration/build.json and
records the build id there; a retry finds the claim and returns that build. If the claim has no build id yet (a
concurrent first attempt is between claim and StartBuild, or died there), StartBuild is called with the same
`idempotencyToken` (derived from the execution id), and CodeBuild returns the existing build instead of starting a
second one (tokens are honoured for 5 minutes, longer than any Lambda retry of this task takes). The key is the
execution id, not the task token, because Step Functions hands every retry attempt of the task a NEW token.

A stored build that has already ENDED (a redrive or a retry after the build finished) is not trusted: its callback
answered an earlier attempt, so waiting on it would only end at the heartbeat timeout. A new build is started, with
an idempotency token of its own (execution id + build number), and the claim records it.

Errors that mean "the build could not start yet" (CodeBuild throttling or its concurrent-build limit, the claim race
whose other writer has not finished) raise `BuildNotStarted`, which the state machine retries with backoff;
anything else fails the task at once. The payload is validated first (common/events.py).

The token itself is not put in the build environment (build environment variables are readable by anyone with
codebuild:BatchGetBuilds and show in the console): every attempt writes it to one object per execution in the
KMS-encrypted artifacts bucket, and the build carries only that object's key. The callback reads the object when the
build ends, so it always answers the attempt that is waiting now.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
from datetime import UTC, datetime
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from common import events
from common.aws import client
from common.observability import logger, metrics, tracer

# CodeBuild answers these when it cannot start a build now; a later attempt can (the state machine retries).
RETRYABLE_START_ERRORS = ("ThrottlingException", "AccountLimitExceededException", "ResourceInUseException",
                          "ServiceUnavailableException", "InternalFailure")
FINAL_BUILD_STATUSES = ("SUCCEEDED", "FAILED", "FAULT", "STOPPED", "TIMED_OUT")


class BuildNotStarted(RuntimeError):
    """Transient: the build could not be started (or its claim read) now; the state machine retries the task."""
from common.settings import load_settings


@dataclass(frozen=True)
class Settings:
    dbt_project_name: str
    artifacts_bucket: str
    dbt_target: str
    artifacts_prefix: str = "dbt-runs"


@dataclass(frozen=True)
class StartDbtBuildRequest:
    """The payload the state machine sends (see infra/constructs/orchestration.py)."""

    task_token: str
    execution_id: str
    ingest_date: str
    select: str = ""
    full_refresh: bool = False

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> StartDbtBuildRequest:
        if not isinstance(event, dict):
            raise events.BadEvent(f"start-dbt-build payload: expected a JSON object, got {type(event).__name__}")
        missing = [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING and not event.get(f.name)]
        if missing:
            raise events.BadEvent(
                f"start-dbt-build payload lacks {', '.join(missing)}: invoke it from the state machine task "
                "with .waitForTaskToken (payload task_token/execution_id/ingest_date)"
            )
        select = str(event.get("select") or "")
        if not re.fullmatch(r"[A-Za-z0-9_.:+*,@ /-]{0,500}", select):
            raise events.BadEvent(f"select {select!r} is not a dbt node selection")
        return cls(
            task_token=str(event["task_token"]),
            execution_id=events.execution_id(event["execution_id"]),
            ingest_date=events.iso_date(event["ingest_date"]),
            select=select,
            full_refresh=event.get("full_refresh", False) is True,
        )


@functools.cache
def settings() -> Settings:
    return load_settings(Settings)


def artifacts_prefix(cfg: Settings, execution_id: str) -> str:
    return f"{cfg.artifacts_prefix}/{execution_id}"


def token_key(cfg: Settings, execution_id: str) -> str:
    return f"{artifacts_prefix(cfg, execution_id)}/orchestration/task-token"


def claim_key(cfg: Settings, execution_id: str) -> str:
    return f"{artifacts_prefix(cfg, execution_id)}/orchestration/build.json"


def store_task_token(cfg: Settings, request: StartDbtBuildRequest) -> None:
    client("s3").put_object(
        Bucket=cfg.artifacts_bucket, Key=token_key(cfg, request.execution_id), Body=request.task_token.encode()
    )


def build_environment(cfg: Settings, request: StartDbtBuildRequest) -> list[dict[str, str]]:
    """CodeBuild environment overrides; names match infra/assets/dbt_runner/run_dbt.sh."""
    values = {
        "PIPELINE_EXECUTION_ID": request.execution_id,
        "INGEST_DATE": request.ingest_date,
        "DBT_TARGET": cfg.dbt_target,
        "DBT_SELECT": request.select,
        "DBT_FULL_REFRESH": "true" if request.full_refresh else "false",
        "ARTIFACTS_S3_URI": f"s3://{cfg.artifacts_bucket}/{artifacts_prefix(cfg, request.execution_id)}",
        "TASK_TOKEN_S3_KEY": token_key(cfg, request.execution_id),
    }
    return [{"name": k, "value": v, "type": "PLAINTEXT"} for k, v in values.items()]


def idempotency_token(execution_id: str, build_number: int) -> str:
    # Build 1 keeps the token of releases before build numbers existed, so an in-flight claim still matches.
    seed = execution_id if build_number == 1 else f"{execution_id}#{build_number}"
    return hashlib.sha256(seed.encode()).hexdigest()


def start_build(request: StartDbtBuildRequest, cfg: Settings, build_number: int = 1) -> dict[str, str]:
    try:
        response = client("codebuild").start_build(
            projectName=cfg.dbt_project_name,
            idempotencyToken=idempotency_token(request.execution_id, build_number),
            environmentVariablesOverride=build_environment(cfg, request),
        )
    except ClientError as err:
        code = err.response["Error"]["Code"]
        if code in RETRYABLE_START_ERRORS:
            raise BuildNotStarted(f"CodeBuild did not start the dbt build ({code}): retrying") from err
        raise
    build = response["build"]
    metrics.add_metric(name="DbtBuildsStarted", unit=MetricUnit.Count, value=1)
    logger.info("started dbt build", extra={"build_id": build["id"], "execution_id": request.execution_id})
    return {"build_id": build["id"], "execution_id": request.execution_id}


def _claim(cfg: Settings, request: StartDbtBuildRequest) -> dict[str, Any] | None:
    """Claim the execution; returns None when this call claimed it, else the existing claim."""
    body = {"execution_id": request.execution_id, "claimed_at": datetime.now(UTC).isoformat()}
    try:
        client("s3").put_object(Bucket=cfg.artifacts_bucket, Key=claim_key(cfg, request.execution_id),
                                Body=json.dumps(body).encode(), IfNoneMatch="*")
        return None
    except ClientError as err:
        # 412: the claim exists; 409: a concurrent conditional write is in flight — both mean "not first".
        if err.response["Error"]["Code"] not in ("PreconditionFailed", "ConditionalRequestConflict", "412", "409"):
            raise
    try:
        stored = client("s3").get_object(Bucket=cfg.artifacts_bucket, Key=claim_key(cfg, request.execution_id))
    except ClientError as err:
        # 409 means the other conditional write is still in flight: its object may not be readable yet.
        if err.response["Error"]["Code"] in ("NoSuchKey", "404"):
            raise BuildNotStarted("the build claim of this execution is being written by another attempt: "
                                  "retrying") from err
        raise
    return json.loads(stored["Body"].read())


def _build_status(build_id: str) -> str | None:
    builds = client("codebuild").batch_get_builds(ids=[build_id]).get("builds") or []
    return builds[0].get("buildStatus") if builds else None


def start_build_once(request: StartDbtBuildRequest, cfg: Settings) -> dict[str, str]:
    existing = _claim(cfg, request)
    build_number = 1
    if existing and existing.get("build_id"):
        status = _build_status(existing["build_id"])
        if status not in FINAL_BUILD_STATUSES:  # still running (or queued): its callback answers this attempt
            logger.info("dbt build already started for this execution", extra={"build_id": existing["build_id"]})
            return {"build_id": existing["build_id"], "execution_id": request.execution_id}
        # It ended before this attempt waited on it (redrive, retry after the build finished): run dbt again.
        build_number = int(existing.get("build_number", 1)) + 1
        logger.info("the stored dbt build already ended: starting another",
                    extra={"build_id": existing["build_id"], "build_status": status, "build_number": build_number})
    result = start_build(request, cfg, build_number)
    client("s3").put_object(
        Bucket=cfg.artifacts_bucket, Key=claim_key(cfg, request.execution_id),
        Body=json.dumps({"execution_id": request.execution_id, "build_id": result["build_id"],
                         "build_number": build_number, "started_at": datetime.now(UTC).isoformat()}).encode(),
    )
    return result


@logger.inject_lambda_context(clear_state=True)  # keys appended for one execution never leak into the next
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    request = StartDbtBuildRequest.from_event(event)
    logger.append_keys(execution_id=request.execution_id, ingest_date=request.ingest_date)
    cfg = settings()
    store_task_token(cfg, request)  # before the idempotency check: a retry's new token must replace the old one
    return start_build_once(request, cfg)
