"""The per-environment config: cdk.json loads, and every bad value stops synth with one line naming field and fix."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import subprocess
import sys

import pytest

from infra.application import REPO_ROOT, cdk_json_context
from infra.config import ENVIRONMENT_NAMES, ConfigError, EnvironmentConfig, load_config


@pytest.fixture(scope="module")
def environments() -> dict:
    return cdk_json_context()["environments"]


def _with(environments: dict, env: str, path: str, value) -> dict:
    """A deep copy of the environments block with one value replaced (``path`` like ``warehouse.base_rpu``)."""
    changed = copy.deepcopy(environments)
    node = changed[env]
    *parents, leaf = path.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
    return changed


def test_every_environment_in_cdk_json_loads(environments):
    configs = {env: load_config(env, environments) for env in ENVIRONMENT_NAMES}
    assert {c.account for c in configs.values()} == {"111111111111", "222222222222", "333333333333"}
    assert configs["prod"].production and configs["prod"].removal_policy == "retain"
    assert configs["prod"].retention.audit_object_lock_days > 0
    assert configs["dev"].stage_id == "Dev" and configs["prod"].resource_prefix == "fintech-prod"
    assert configs["dev"].availability_zones == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    # The three VPCs must not overlap: they may be peered or share a transit gateway later.
    import ipaddress
    nets = [ipaddress.ip_network(c.vpc_cidr) for c in configs.values()]
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])


def test_default_environment_is_dev(environments):
    assert load_config(None, environments).name == "dev"


def test_config_is_frozen(environments):
    cfg = load_config("dev", environments)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.account = "999999999999"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.warehouse.base_rpu = 16  # type: ignore[misc]


def test_defaults_fill_omitted_sections(environments):
    minimal = {k: environments["dev"][k] for k in ("account", "region", "name_prefix", "vpc_cidr", "alert_emails")}
    cfg = load_config("dev", {"dev": minimal})
    assert cfg.removal_policy == "retain" and cfg.warehouse.base_rpu == 8 and cfg.glue.worker_type == "G.1X"


BAD_VALUES = [
    # (env, field path, bad value, text the message must contain besides the field)
    ("dev", "account", "12345", "12 digits"),
    ("dev", "models.retrain_schedule_expression", "monthly", "cron(0 6 1 * ? *)"),
    ("prod", "models.training_compute", "huge", "one of small, medium, large, 2xlarge"),
    ("staging", "models.retrain_enabled", "yes", "true or false"),
    ("dev", "account", "11111111111a", "12 digits"),
    ("dev", "account", 111111111111, "expected a string"),
    ("staging", "region", "eu-west-9", "AWS region"),
    ("prod", "alert_emails", ["oncall@example"], "e-mail"),
    ("prod", "alert_emails", [], "e-mail"),
    ("prod", "alert_emails", "oncall@example.com", "list of strings"),
    ("dev", "warehouse.base_rpu", 12, "multiple of 8"),
    ("dev", "warehouse.base_rpu", 0, "multiple of 8"),
    ("dev", "warehouse.base_rpu", 2048, "multiple of 8 from 8 to 1024"),
    ("dev", "warehouse.max_rpu", 30, "multiple of 8"),
    ("dev", "warehouse.max_rpu", 6000, "multiple of 8"),
    ("dev", "warehouse.base_rpu", True, "expected an integer"),
    ("dev", "warehouse.usage_limit_breach_action", "shutdown", "log, emit-metric, deactivate"),
    ("dev", "warehouse.usage_limit_period", "yearly", "daily, weekly, monthly"),
    ("dev", "vpc_cidr", "10.0.0.0/8", "/16../22"),
    ("dev", "vpc_cidr", "8.8.0.0/16", "private"),
    ("dev", "vpc_cidr", "10.0.0.1/16", "IPv4 network"),
    ("dev", "name_prefix", "FinTech", "lowercase"),
    ("dev", "removal_policy", "delete", "retain or destroy"),
    ("dev", "retention.log_retention_days", 100, "CloudWatch Logs retention value"),
    ("dev", "retention.raw_infrequent_access_days", 10, "30..3650"),
    ("dev", "glue.worker_type", "G.3X", "G.1X"),
    ("dev", "pipeline.schedule_expression", "every day", "cron("),
    ("dev", "quicksight.principal_arn", "analysts", "arn:aws:quicksight"),
    ("dev", "cicd.connection_arn", "arn:aws:s3:::bucket", "codeconnections"),
    ("dev", "availability_zone_suffixes", ["a", "b"], "three distinct letters"),
    ("dev", "production", "yes", "true or false"),
    ("dev", "warehouse.unknown_knob", 1, "unknown setting"),
    ("dev", "colour", "blue", "unknown setting"),
]


@pytest.mark.parametrize("env,path,value,hint", BAD_VALUES, ids=[f"{e}.{p}={v!r}" for e, p, v, _ in BAD_VALUES])
def test_bad_value_is_one_line_naming_field_and_fix(environments, env, path, value, hint):
    with pytest.raises(ConfigError) as err:
        load_config(env, _with(environments, env, path, value))
    message = str(err.value)
    assert "\n" not in message
    assert f"environments.{env}.{path}" in message
    assert hint in message


CROSS_FIELD = [
    ("dev", {"warehouse.base_rpu": 64, "warehouse.max_rpu": 32}, "warehouse.max_rpu", "max_rpu >= base_rpu"),
    ("prod", {"removal_policy": "destroy"}, "removal_policy", '"retain"'),
    ("prod", {"reports.object_lock_days": 365}, "reports.object_lock_days", "5-year record keeping"),
    ("prod", {"retention.audit_object_lock_days": 0}, "retention.audit_object_lock_days", "object lock"),
    ("dev", {"retention.raw_infrequent_access_days": 400}, "retention.raw_glacier_days", "greater than"),
]


@pytest.mark.parametrize("env,changes,path,hint", CROSS_FIELD, ids=[c[2] for c in CROSS_FIELD])
def test_cross_field_rules(environments, env, changes, path, hint):
    bad = environments
    for key, value in changes.items():
        bad = _with(bad, env, key, value)
    with pytest.raises(ConfigError, match=rf"environments\.{env}\.{path}: .*{hint}"):
        load_config(env, bad)


def test_unknown_environment(environments):
    with pytest.raises(ConfigError, match=r"unknown environment 'qa': use -c env=dev, -c env=staging or -c env=prod"):
        load_config("qa", environments)


def test_missing_block_and_missing_field(environments):
    with pytest.raises(ConfigError, match=r"environments\.staging is missing"):
        load_config("staging", {"dev": environments["dev"]})
    incomplete = copy.deepcopy(environments)
    del incomplete["dev"]["account"]
    with pytest.raises(ConfigError, match=r"environments\.dev\.account: missing"):
        load_config("dev", incomplete)
    with pytest.raises(ConfigError, match=r'"environments" is missing'):
        load_config("dev", None)


def test_every_field_of_every_section_is_settable_from_json(environments):
    """Extension contract: a new field is loaded from cdk.json without touching the loader."""
    cfg = load_config("dev", environments)
    for section in dataclasses.fields(EnvironmentConfig):
        value = getattr(cfg, section.name)
        if dataclasses.is_dataclass(value):
            for f in dataclasses.fields(value):
                assert "check" in f.metadata or f.type in ("bool", bool), f"{section.name}.{f.name} has no check"


def _run_app(env: str, environments: dict) -> subprocess.CompletedProcess:
    """Run app.py the way the CDK CLI does: context in CDK_CONTEXT_JSON, output dir in CDK_OUTDIR."""
    context = {**cdk_json_context(), "environments": environments, "env": env}
    proc_env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": "/nonexistent-never-written"}
    return subprocess.run([sys.executable, "app.py"], cwd=REPO_ROOT, env=proc_env, capture_output=True, text=True,
                          timeout=120)


def test_app_exits_1_with_one_line_and_no_traceback(environments):
    proc = _run_app("prod", _with(environments, "prod", "warehouse.base_rpu", 12))
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip() and "!!" not in line]
    assert lines == ["error: cdk.json context environments.prod.warehouse.base_rpu: 12 is invalid: use a multiple "
                     "of 8 from 8 to 1024"]
    assert "Traceback" not in proc.stderr
