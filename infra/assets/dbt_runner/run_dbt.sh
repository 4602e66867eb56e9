#!/usr/bin/env bash
# The dbt runner's build steps, called by the CodeBuild buildspec (infra/constructs/dbt_runner.py):
#   run_dbt.sh install   pip-install the pinned runner requirements from the CodeArtifact PyPI mirror
#   run_dbt.sh build     the promoted models' dbt macros (fetch_models.py: by the manifest MODELS_MANIFEST_S3_URI
#                        names, hashes checked; a broken artifact stops here), dbt source freshness, then (only if
#                        sources are fresh) dbt build
#   run_dbt.sh upload    copy run_results.json, manifest.json, sources.json, runner_error.txt and dbt logs to
#                        ARTIFACTS_S3_URI
# Inputs are environment variables: the project's (CODEARTIFACT_*, DBT_PROJECT_DIR) and the per-build overrides
# start_dbt_build sets (DBT_TARGET, DBT_SELECT, DBT_FULL_REFRESH, ARTIFACTS_S3_URI, ...).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project_dir="${DBT_PROJECT_DIR:-${CODEBUILD_SRC_DIR:-.}}"

need() {
  local name
  for name in "$@"; do
    if [[ -z "${!name:-}" ]]; then
      echo "run_dbt.sh: environment variable $name is not set: start the build through the start_dbt_build Lambda" >&2
      exit 2
    fi
  done
}

install() {
  need CODEARTIFACT_DOMAIN CODEARTIFACT_DOMAIN_OWNER CODEARTIFACT_REPOSITORY
  # The build runs in isolated subnets: PyPI is reached only through CodeArtifact's VPC endpoints.
  aws codeartifact login --tool pip --domain "$CODEARTIFACT_DOMAIN" \
    --domain-owner "$CODEARTIFACT_DOMAIN_OWNER" --repository "$CODEARTIFACT_REPOSITORY"
  # RUNNER_PYTHON: the interpreter to install into (CodeBuild's python; tests pass a stand-in).
  "${RUNNER_PYTHON:-python}" -m pip install --no-cache-dir --disable-pip-version-check --no-deps \
    -r "$here/requirements.txt"
  dbt --version
}

heartbeat() {
  # While dbt runs, tell the waiting pipeline task that this build is alive, every HEARTBEAT_SECONDS: the task's
  # heartbeat timeout then notices a lost build (or a callback that never arrives) within minutes, not after the
  # build timeout. The token is read fresh each time from the object start_dbt_build writes (a task retry gets a
  # new token) and is never printed. SIGTERM (stop_heartbeat) ends it at once, its sleep included.
  local bucket="${ARTIFACTS_S3_URI#s3://}" token sleeper=""
  bucket="${bucket%%/*}"
  trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
  while true; do
    sleep "${HEARTBEAT_SECONDS:-300}" &
    sleeper=$!
    wait "$sleeper" || true
    token="$(aws s3 cp --only-show-errors "s3://$bucket/$TASK_TOKEN_S3_KEY" - 2>/dev/null)" || continue
    aws stepfunctions send-task-heartbeat --task-token "$token" >/dev/null 2>&1 \
      || echo "run_dbt.sh: heartbeat not accepted (the task may have ended)" >&2
  done
}

HEARTBEAT_PID=""
stop_heartbeat() {
  if [[ -n "$HEARTBEAT_PID" ]]; then
    kill -TERM "$HEARTBEAT_PID" 2>/dev/null || true
    wait "$HEARTBEAT_PID" 2>/dev/null || true
    HEARTBEAT_PID=""
  fi
}

fetch_models() {
  # What dbt scores with: the retraining step's promoted models (ml/retrain.py), or the shipped state when none
  # was promoted yet. Any broken artifact fails the build before dbt, with the reason in target/runner_error.txt
  # (uploaded; the callback puts it in the pipeline's alert) - never a silently empty score.
  need MODELS_MANIFEST_S3_URI
  local uri="${MODELS_MANIFEST_S3_URI#s3://}"
  export DBT_PROMOTED_MODELS_DIR="$project_dir/.promoted_models"
  rm -rf "$DBT_PROMOTED_MODELS_DIR"
  "${RUNNER_PYTHON:-python}" "$here/fetch_models.py" --bucket "${uri%%/*}" --manifest-key "${uri#*/}" \
    --shipped "$project_dir/promoted_models" --out "$DBT_PROMOTED_MODELS_DIR" --error-file target/runner_error.txt
}

build() {
  need DBT_TARGET
  cd "$project_dir"
  fetch_models
  if [[ -n "${TASK_TOKEN_S3_KEY:-}" && -n "${ARTIFACTS_S3_URI:-}" ]]; then  # started by the pipeline
    # The loop must not outlive the build step (it would keep the phase open): stopped after dbt, and on any
    # early exit (stale sources, an error) by the EXIT trap.
    heartbeat </dev/null &
    HEARTBEAT_PID=$!
    trap stop_heartbeat EXIT
  fi
  local common=(--project-dir . --profiles-dir . --target "$DBT_TARGET")
  # Stale sources stop the run before any model changes: the marts keep yesterday's consistent state.
  if ! dbt source freshness "${common[@]}" --output target/sources.json; then
    echo "run_dbt.sh: dbt source freshness failed (see target/sources.json): dbt build skipped" >&2
    exit 1
  fi
  local args=("${common[@]}")
  if [[ -n "${DBT_SELECT:-}" ]]; then
    read -r -a selection <<<"$DBT_SELECT"
    args+=(--select "${selection[@]}")
  fi
  if [[ "${DBT_FULL_REFRESH:-false}" == "true" ]]; then
    args+=(--full-refresh)
  fi
  local status=0
  dbt build "${args[@]}" || status=$?
  stop_heartbeat
  return "$status"
}

upload() {
  need ARTIFACTS_S3_URI
  cd "$project_dir"
  local file uploaded=0
  for file in target/run_results.json target/manifest.json target/sources.json target/runner_error.txt; do
    if [[ -f "$file" ]]; then
      aws s3 cp --only-show-errors "$file" "$ARTIFACTS_S3_URI/$(basename "$file")"
      uploaded=$((uploaded + 1))
    fi
  done
  if [[ -d logs ]]; then
    aws s3 cp --only-show-errors --recursive logs "$ARTIFACTS_S3_URI/logs/"
  fi
  echo "run_dbt.sh: uploaded $uploaded dbt artifact(s) to $ARTIFACTS_S3_URI"
}

case "${1:-}" in
  install | build | upload) "$1" ;;
  *)
    echo "usage: run_dbt.sh install|build|upload" >&2
    exit 2
    ;;
esac
