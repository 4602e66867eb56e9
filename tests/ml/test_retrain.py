"""Retraining on AWS without AWS: ml.retrain against moto S3 with the test bank's warehouse, the promotion both ways
(a first run promotes beside the rules; the same data again is a tie and keeps what runs, with an alert saying why),
the dbt runner's fetch of what was promoted (infra/assets/dbt_runner/fetch_models.py) and its refusals, the Redshift
reader's IAM login, and the trainer's pinned packages."""

import dataclasses
import importlib.metadata
import importlib.util
import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from ml import artifacts, models
from ml.retrain import run
from ml.warehouse import duckdb_reader, redshift_reader

REPO_ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"
BUCKET = "fintech-dev-artifacts"
ALERTS, NOTICES = "arn:aws:sns:eu-west-1:111111111111:alerts", "arn:aws:sns:eu-west-1:111111111111:notices"
SHIPPED = REPO_ROOT / "dbt" / "promoted_models"


def _fetch_models():
    spec = importlib.util.spec_from_file_location("fetch_models", REPO_ROOT / "infra/assets/dbt_runner/fetch_models.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fetch_models = _fetch_models()


class Topics:
    """Stands in for the SNS client: what was published where."""

    def __init__(self):
        self.sent: list[dict] = []

    def publish(self, **kwargs):
        self.sent.append(kwargs)


@pytest.fixture
def short_models(monkeypatch):
    """The 45-day test bank: a week judged, two weeks to mature (fraud), a 7-day churn horizon (duckdb_with_models
    built ml_customer_features with it), few outcomes. On it the rules and the heuristic outrank a model trained on
    a fortnight, so the gate refuses every candidate; to walk the promotion path the baseline here is a score that
    knows nothing (0 for every row: PR-AUC = the prevalence), which any real model beats."""
    short = {name: dataclasses.replace(spec, eval_days=7, min_positives=5, baseline="no_score",
                                       frame_sql=spec.frame_sql.replace("select f.*,", "select f.*, 0.0 as no_score,"),
                                       maturity_days=14 if name == "fraud_classifier" else 7)
             for name, spec in models.MODELS.items()}
    monkeypatch.setattr(models, "MODELS", short)
    return short


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield client


def _run(s3, read, tmp_path, run_id):
    topics = Topics()
    outcomes, manifest = run(read=read, s3=s3, sns=topics, bucket=BUCKET, prefix=artifacts.PREFIX, run_id=run_id,
                             alerts_topic=ALERTS, notices_topic=NOTICES, name_prefix="fintech-dev",
                             names=list(models.MODELS), work_dir=tmp_path / run_id)
    return {o.name: o for o in outcomes}, manifest, topics.sent


def _get(s3, key) -> bytes:
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def test_retraining_promotes_then_keeps_a_tie_and_the_runner_scores_with_what_was_promoted(
        duckdb_with_models, short_models, s3, tmp_path):
    read = duckdb_reader(duckdb_with_models)
    first, manifest, sent = _run(s3, read, tmp_path, "run-1")

    fraud = first["fraud_classifier"]
    assert fraud.promoted, fraud.reason  # beside a baseline that knows nothing (short_models)
    assert manifest["run"] == "run-1" and set(manifest["models"]) == set(models.MODELS)
    for name, outcome in first.items():
        entry = manifest["models"][name]
        assert entry["key"] == f"models/dbt_macros/run-1/{name}.sql"
        assert entry["sha256"] == artifacts.sha256(_get(s3, entry["key"]))
        assert entry["version"] == (outcome.version if outcome.promoted else "none")
        card = json.loads(_get(s3, f"models/{name}/runs/run-1/card.json"))
        assert card["version"] == outcome.version
        assert json.loads(_get(s3, f"models/{name}/runs/run-1/promotion.json"))["promoted"] == outcome.promoted
    assert json.loads(_get(s3, "models/fraud_classifier/promoted/card.json"))["version"] == fraud.version
    (message,) = sent
    all_promoted = all(o.promoted for o in first.values())
    assert message["TopicArn"] == (NOTICES if all_promoted else ALERTS)
    assert fraud.reason in message["Message"] and "run-1" in message["Message"]
    assert "customer" not in message["Message"].lower().replace("customer_segment", "")  # metrics, no customer data

    # The dbt runner brings down exactly what the manifest names, hashes checked.
    out = tmp_path / "fetched"
    line = fetch_models.fetch(s3, bucket=BUCKET, manifest_key="models/promoted.json", shipped=SHIPPED, out=out)
    assert f"fraud_classifier {fraud.version}" in line
    assert (out / "fraud_classifier.sql").read_bytes() == _get(s3, manifest["models"]["fraud_classifier"]["key"])
    assert f"{{% macro fraud_classifier_version() %}}{fraud.version}{{% endmacro %}}" in \
        (out / "fraud_classifier.sql").read_text()

    # Same data again: the same model retrained ties the incumbent, so what runs stays and the alert says why.
    second, manifest2, sent2 = _run(s3, read, tmp_path, "run-2")
    assert not second["fraud_classifier"].promoted
    assert second["fraud_classifier"].version == fraud.version
    assert "does not beat model " + fraud.version in second["fraud_classifier"].reason
    (alert,) = sent2
    assert alert["TopicArn"] == ALERTS and "current model kept" in alert["Subject"]
    assert f"The current model stays: {fraud.version}." in alert["Message"]
    assert manifest2["models"]["fraud_classifier"]["version"] == fraud.version
    assert json.loads(_get(s3, "models/fraud_classifier/promoted/card.json"))["version"] == fraud.version


def test_the_runner_refuses_a_corrupt_or_incomplete_artifact_and_starts_rules_only_before_any_run(s3, tmp_path):
    with pytest.raises(fetch_models.ArtifactError, match="manifest"):  # nothing there yet is fine, junk is not
        s3.put_object(Bucket=BUCKET, Key="models/promoted.json", Body=b"{not json")
        fetch_models.fetch(s3, bucket=BUCKET, manifest_key="models/promoted.json", shipped=SHIPPED, out=tmp_path / "a")
    s3.delete_object(Bucket=BUCKET, Key="models/promoted.json")
    line = fetch_models.fetch(s3, bucket=BUCKET, manifest_key="models/promoted.json", shipped=SHIPPED,
                              out=tmp_path / "b")
    assert line.startswith("no model promoted yet")
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == sorted(p.name for p in SHIPPED.glob("*.sql"))

    # A manifest written by ml.artifacts, then broken three ways.
    macros = tmp_path / "models" / "dbt_macros"
    from ml.promotion import write_dbt_macros
    for name in ("fraud_classifier", "churn_propensity"):
        write_dbt_macros(macros, name, None, None, "test")
        for file in artifacts.RUN_FILES:
            (tmp_path / "models" / name).mkdir(parents=True, exist_ok=True)
            (tmp_path / "models" / name / file).write_text("{}")
    manifest = artifacts.push_run(s3, BUCKET, artifacts.PREFIX, tmp_path / "models", "r1",
                                  {"fraud_classifier": False, "churn_propensity": False})
    key = manifest["models"]["fraud_classifier"]["key"]
    s3.put_object(Bucket=BUCKET, Key=key, Body=_get(s3, key) + b"-- tampered")
    with pytest.raises(fetch_models.ArtifactError, match="fraud_classifier none: .* does not match the manifest's SHA-256"):
        fetch_models.fetch(s3, bucket=BUCKET, manifest_key="models/promoted.json", shipped=SHIPPED, out=tmp_path / "c")
    s3.delete_object(Bucket=BUCKET, Key=key)
    with pytest.raises(fetch_models.ArtifactError, match="cannot be read"):
        fetch_models.fetch(s3, bucket=BUCKET, manifest_key="models/promoted.json", shipped=SHIPPED, out=tmp_path / "d")
    del manifest["models"]["churn_propensity"]
    s3.put_object(Bucket=BUCKET, Key="models/promoted.json", Body=json.dumps(manifest).encode())
    with pytest.raises(fetch_models.ArtifactError, match="no entry for churn_propensity"):
        fetch_models.fetch(s3, bucket=BUCKET, manifest_key="models/promoted.json", shipped=SHIPPED, out=tmp_path / "e")
    assert not (tmp_path / "e").exists()  # nothing half-written for dbt to read


def test_the_cli_writes_the_reason_for_the_alert_and_exits_non_zero(s3, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    s3.put_object(Bucket=BUCKET, Key="models/promoted.json", Body=b"[]")
    error_file = tmp_path / "target" / "runner_error.txt"
    code = fetch_models.main(["--bucket", BUCKET, "--manifest-key", "models/promoted.json", "--shipped", str(SHIPPED),
                              "--out", str(tmp_path / "out"), "--error-file", str(error_file)])
    assert code == 1
    assert error_file.read_text().startswith("promoted models: s3://fintech-dev-artifacts/models/promoted.json is not")


def test_retrain_names_missing_configuration(monkeypatch, capsys):
    from ml.retrain import ENVIRONMENT, main

    for key in ENVIRONMENT:
        monkeypatch.delenv(key, raising=False)
    assert main([]) == 2
    assert "ARTIFACTS_BUCKET" in capsys.readouterr().err


def test_the_redshift_reader_signs_in_with_iam_and_returns_a_frame():
    calls = []

    class Cursor:
        description = [("transaction_id",), ("amount",)]

        def execute(self, sql):
            calls.append(sql)

        def fetchall(self):
            return [("t1", 12.5), ("t2", 3.0)]

    class Connection:
        def cursor(self):
            return Cursor()

        def close(self):
            calls.append("closed")

    def connect(**kwargs):
        calls.append(kwargs)
        return Connection()

    read = redshift_reader(workgroup="fintech-prod", database="analytics", region=REGION, connect=connect)
    frame = read("select 1")
    (kwargs, sql, closed) = calls
    assert kwargs["iam"] is True and kwargs["is_serverless"] is True and kwargs["serverless_work_group"] == "fintech-prod"
    assert "password" not in kwargs and "user" not in kwargs and kwargs["sslmode"] == "verify-full"
    assert kwargs["numeric_to_float"] is True
    assert list(frame.columns) == ["transaction_id", "amount"] and frame["amount"].sum() == 15.5
    assert closed == "closed"


def test_the_trainers_pins_are_the_installed_versions():
    from tests.orchestration.test_dbt_runner import _pins

    pins = _pins(REPO_ROOT / "infra/assets/model_trainer/requirements.txt")
    assert {"scikit-learn", "numpy", "pandas", "duckdb", "redshift-connector", "pyyaml"} <= set(pins)
    differing = {n: (v, importlib.metadata.version(n)) for n, v in pins.items() if importlib.metadata.version(n) != v}
    assert not differing, f"trainer pins differ from what the tests run: {differing}"
