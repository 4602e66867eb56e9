"""Lambda handler tests: handlers imported the way Lambda imports them (lambdas/ on sys.path), AWS served by moto."""

import json
import sys
from pathlib import Path

import pytest

LAMBDAS_DIR = Path(__file__).resolve().parents[2] / "lambdas"
EVENTS_DIR = Path(__file__).resolve().parent / "events"
if str(LAMBDAS_DIR) not in sys.path:
    sys.path.insert(0, str(LAMBDAS_DIR))

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account


def load_event(name: str) -> dict:
    return json.loads((EVENTS_DIR / name).read_text())


class FakeContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name = "test-function"
    function_version = "$LATEST"
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:test-function"
    memory_limit_in_mb = 256
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    log_group_name = "/aws/lambda/test-function"
    log_stream_name = "2026/11/25/[$LATEST]abc"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


@pytest.fixture
def lambda_context() -> FakeContext:
    return FakeContext()


@pytest.fixture
def lambda_env(monkeypatch):
    """Offline Powertools + region; handlers' cached settings and clients are reset around each test."""
    from common import aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "test")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "FinTechAnalytics/Test")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "test-function")
    aws.reset_clients()
    yield monkeypatch
    aws.reset_clients()


def reset_settings(*modules) -> None:
    for module in modules:
        module.settings.cache_clear()
