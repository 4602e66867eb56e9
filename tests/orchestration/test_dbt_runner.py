"""The dbt runner's pinned requirements and its build script (run_dbt.sh), run with stand-in `dbt` and `aws`."""

import os
import re
import stat
import subprocess
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
RUNNER = REPO_ROOT / "infra" / "assets" / "dbt_runner"


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line and not line.startswith("-"):
            name, version = line.split("==", 1)
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version.strip()
    return pins


def test_runner_requirements_are_the_tested_versions():
    runner = _pins(RUNNER / "requirements.txt")
    constraints = _pins(REPO_ROOT / "constraints.txt")
    dev = _pins(REPO_ROOT / "requirements-dev.txt")
    assert runner["dbt-core"] == dev["dbt-core"] and runner["dbt-redshift"] == dev["dbt-redshift"]
    differing = {name: (v, constraints.get(name)) for name, v in runner.items() if constraints.get(name) != v}
    assert not differing, f"runner pins differ from constraints.txt: {differing}"
    assert "dbt-duckdb" not in runner and "dbt-postgres" in runner  # dbt-redshift builds on dbt-postgres


FAKE_DBT = """#!/usr/bin/env bash
echo "dbt $*" >> "$CALLS"
if [[ "$1" == "source" ]]; then
  mkdir -p target && echo '{"results": []}' > target/sources.json
  exit "${FRESHNESS_EXIT:-0}"
fi
if [[ "$1" == "build" ]]; then
  sleep "${BUILD_SLEEP:-0}"
  mkdir -p target logs && echo '{"args": {"which": "build"}}' > target/run_results.json
  echo '{}' > target/manifest.json && echo 'log line' > logs/dbt.log
  exit "${BUILD_EXIT:-0}"
fi
"""
FAKE_AWS = """#!/usr/bin/env bash
echo "aws $*" >> "$CALLS"
if [[ "$1 $2" == "s3 cp" && "${@: -1}" == "-" ]]; then printf 'token-of-the-waiting-task'; fi
"""
FAKE_PYTHON = """#!/usr/bin/env bash
echo "python $*" >> "$CALLS"
if [[ "$1" == *fetch_models.py ]]; then
  if [[ "${FETCH_EXIT:-0}" != 0 ]]; then
    mkdir -p target && echo 'promoted models: fraud_classifier abc: hash mismatch' > target/runner_error.txt
  fi
  exit "${FETCH_EXIT:-0}"
fi
"""


@pytest.fixture
def runner_env(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("dbt", FAKE_DBT), ("aws", FAKE_AWS), ("fake-python", FAKE_PYTHON)):
        script = bin_dir / name
        script.write_text(body)
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    project = tmp_path / "project"
    project.mkdir()
    calls = tmp_path / "calls.log"
    calls.touch()
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "CALLS": str(calls),
        "DBT_PROJECT_DIR": str(project),
        "DBT_TARGET": "prod",
        "ARTIFACTS_S3_URI": "s3://artifacts/dbt-runs/batch-2026-11-24-run01",
        "MODELS_MANIFEST_S3_URI": "s3://artifacts/models/promoted.json",
        # never a real pip: the install step must only ever reach the stand-in
        "RUNNER_PYTHON": str(bin_dir / "fake-python"),
    }

    def run(step: str, **extra: str) -> tuple[subprocess.CompletedProcess, list[str]]:
        done = subprocess.run(["bash", str(RUNNER / "run_dbt.sh"), step], env={**env, **extra},
                              capture_output=True, text=True, timeout=60)
        return done, calls.read_text().splitlines()

    return run


def test_build_checks_freshness_then_builds_the_selection(runner_env):
    done, calls = runner_env("build", DBT_SELECT="staging+ marts.fraud", DBT_FULL_REFRESH="true")
    assert done.returncode == 0, done.stderr
    assert calls[0].startswith("python ") and calls[0].split()[1].endswith("fetch_models.py")
    assert "--bucket artifacts --manifest-key models/promoted.json" in calls[0]
    assert calls[1].startswith("dbt source freshness --project-dir . --profiles-dir . --target prod")
    assert calls[2] == ("dbt build --project-dir . --profiles-dir . --target prod "
                        "--select staging+ marts.fraud --full-refresh")


def test_stale_sources_skip_the_build_and_fail(runner_env):
    done, calls = runner_env("build", FRESHNESS_EXIT="1")
    assert done.returncode == 1
    assert "dbt build skipped" in done.stderr
    assert [c for c in calls if c.startswith("dbt build")] == []


def test_a_broken_model_artifact_stops_the_build_before_dbt_and_its_reason_is_uploaded(runner_env):
    done, calls = runner_env("build", FETCH_EXIT="1")
    assert done.returncode == 1
    assert not [c for c in calls if c.startswith("dbt ")]
    done, calls = runner_env("upload")
    assert any(c.endswith("target/runner_error.txt s3://artifacts/dbt-runs/batch-2026-11-24-run01/runner_error.txt")
               for c in calls), calls


def test_failing_dbt_build_fails_the_step(runner_env):
    done, _ = runner_env("build", BUILD_EXIT="1")
    assert done.returncode == 1


def test_upload_copies_results_manifest_freshness_and_logs_under_the_execution(runner_env):
    runner_env("build")
    done, calls = runner_env("upload")
    assert done.returncode == 0, done.stderr
    uri = "s3://artifacts/dbt-runs/batch-2026-11-24-run01"
    uploads = [c for c in calls if c.startswith("aws s3 cp")]
    for name in ("run_results.json", "manifest.json", "sources.json"):
        assert any(c.endswith(f"target/{name} {uri}/{name}") for c in uploads), uploads
    assert any("--recursive logs " + uri + "/logs/" in c for c in uploads)


def test_missing_variable_names_it_and_the_fix(runner_env):
    done, _ = runner_env("build", DBT_TARGET="")
    assert done.returncode == 2
    assert "DBT_TARGET is not set" in done.stderr and "start_dbt_build" in done.stderr


def test_install_logs_in_to_codeartifact_then_installs_exactly_the_pins(runner_env):
    done, calls = runner_env("install", CODEARTIFACT_DOMAIN="fintech-dev-packages",
                             CODEARTIFACT_DOMAIN_OWNER="111111111111", CODEARTIFACT_REPOSITORY="dbt-runner")
    assert done.returncode == 0, done.stderr
    assert calls[0] == ("aws codeartifact login --tool pip --domain fintech-dev-packages "
                        "--domain-owner 111111111111 --repository dbt-runner")
    assert calls[1].startswith("python -m pip install") and "--no-deps" in calls[1]
    assert calls[1].endswith(f"-r {RUNNER}/requirements.txt")
    assert calls[2] == "dbt --version"


def test_the_running_build_heartbeats_with_the_waiting_tasks_token_and_stops_after(runner_env, tmp_path):
    key = "dbt-runs/batch-2026-11-24-run01/orchestration/task-token"
    done, calls = runner_env("build", TASK_TOKEN_S3_KEY=key, HEARTBEAT_SECONDS="0.3", BUILD_SLEEP="1.5")
    assert done.returncode == 0, done.stderr
    beats = [c for c in calls if c.startswith("aws stepfunctions send-task-heartbeat")]
    assert len(beats) >= 2 and all(c.endswith("--task-token token-of-the-waiting-task") for c in beats)
    assert f"aws s3 cp --only-show-errors s3://artifacts/{key} -" in calls
    assert "token-of-the-waiting-task" not in done.stdout + done.stderr  # never printed
    time.sleep(0.8)  # the loop ended with the build: no beat after it
    assert len([c for c in (tmp_path / "calls.log").read_text().splitlines()
                if c.startswith("aws stepfunctions")]) == len(beats)


def test_a_build_started_by_hand_sends_no_heartbeat(runner_env):
    done, calls = runner_env("build", HEARTBEAT_SECONDS="0.2", BUILD_SLEEP="0.6")
    assert done.returncode == 0 and not [c for c in calls if "stepfunctions" in c]
