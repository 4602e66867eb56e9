"""The delivery pipeline stack (infra/pipeline.py), synthesized once for this module like `cdk synth -c pipeline=true`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.config import ConfigError


@pytest.fixture(scope="module")
def delivery(delivery_pipeline):
    return delivery_pipeline


def resources(template, rtype):
    return {k: r for k, r in template["Resources"].items() if r["Type"] == rtype}


def test_pipeline_and_every_stage_are_nag_clean(delivery):
    _, _, findings, _ = delivery
    assert not findings, "unacknowledged findings (add them to infra/compliance.py cicd_acknowledgments):\n" + "\n".join(
        f.as_ack_source() for f in findings)


def test_deploys_dev_then_staging_then_prod_behind_a_manual_approval(delivery):
    _, template, _, _ = delivery
    (pipeline,) = resources(template, "AWS::CodePipeline::Pipeline").values()
    stages = pipeline["Properties"]["Stages"]
    assert [s["Name"] for s in stages] == ["Source", "Build", "UpdatePipeline", "Assets", "Dev", "Staging", "Prod"]
    prod = stages[-1]["Actions"]
    approval = [a for a in prod if a["ActionTypeId"]["Category"] == "Approval"]
    assert [a["Name"] for a in approval] == ["PromoteToProd"]
    deploys = [a for a in prod if a["ActionTypeId"]["Category"] == "Deploy"]
    assert deploys and all(a["RunOrder"] > approval[0]["RunOrder"] for a in deploys)
    for stage in stages[4:6]:
        assert not [a for a in stage["Actions"] if a["ActionTypeId"]["Category"] == "Approval"]
    # every environment's stacks are deployed, in their own account
    for stage, account in zip(stages[4:], ("111111111111", "222222222222", "333333333333"), strict=True):
        roles = {json.dumps(a.get("RoleArn")) for a in stage["Actions"] if a["ActionTypeId"]["Category"] == "Deploy"}
        assert roles and all(account in r for r in roles)
        assert any(a["Name"].endswith("-warehousebootstrap.Deploy") for a in stage["Actions"])


def test_source_is_the_configured_codeconnections_repository_on_merge(delivery):
    built, template, _, _ = delivery
    cicd = built.configs["prod"].cicd
    (pipeline,) = resources(template, "AWS::CodePipeline::Pipeline").values()
    (source,) = pipeline["Properties"]["Stages"][0]["Actions"]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["ConnectionArn"] == cicd.connection_arn
    assert source["Configuration"]["FullRepositoryId"] == cicd.repository
    assert source["Configuration"]["BranchName"] == cicd.branch
    triggers = pipeline["Properties"].get("Triggers", [])
    # V2 pipelines start on a push to the branch unless triggers narrow it; none here narrows it away
    assert pipeline["Properties"]["PipelineType"] == "V2" and not triggers


def test_synth_step_runs_the_test_suite_before_synthesizing(delivery):
    _, template, _, _ = delivery
    projects = resources(template, "AWS::CodeBuild::Project")
    synth = next(p for k, p in projects.items() if "Synth" in k)
    spec = json.loads(synth["Properties"]["Source"]["BuildSpec"])
    commands = spec["phases"]["build"]["commands"]
    assert commands.index(".ci/run") < next(i for i, c in enumerate(commands) if "cdk synth -c pipeline=true" in c)
    assert commands[0] == "make install"
    assert spec["artifacts"]["base-directory"] == "cdk.out"
    # the suite runs on the image the pull-request workflow uses, with Java for Spark
    from infra.pipeline import SYNTH_IMAGE

    assert synth["Properties"]["Environment"]["Image"] == SYNTH_IMAGE
    assert any("default-jre-headless" in c for c in spec["phases"]["install"]["commands"])
    workflow = (Path(__file__).resolve().parents[2] / ".github" / "workflows" / "ci.yml").read_text()
    assert f"image: {SYNTH_IMAGE.rsplit('/', 1)[-1]}" in workflow


def test_artifacts_are_encrypted_with_a_rotating_customer_managed_key(delivery):
    _, template, _, _ = delivery
    (pipeline,) = resources(template, "AWS::CodePipeline::Pipeline").values()
    store = pipeline["Properties"]["ArtifactStore"]
    assert store["EncryptionKey"]["Type"] == "KMS"
    key_id = store["EncryptionKey"]["Id"]["Fn::GetAtt"][0]
    assert template["Resources"][key_id]["Type"] == "AWS::KMS::Key"
    assert template["Resources"][key_id]["Properties"]["EnableKeyRotation"] is True
    bucket = template["Resources"][store["Location"]["Ref"]]["Properties"]
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert rule["SSEAlgorithm"] == "aws:kms" and rule["KMSMasterKeyID"]["Fn::GetAtt"][0] == key_id
    for project in resources(template, "AWS::CodeBuild::Project").values():
        assert project["Properties"]["EncryptionKey"]["Fn::GetAtt"][0] == key_id
    # the target accounts' deploy roles may decrypt the artifacts (cross-account deployment)
    policy = json.dumps(template["Resources"][key_id]["Properties"]["KeyPolicy"])
    for account in ("111111111111", "222222222222"):
        assert f"iam::{account}:role/cdk-hnb659fds-deploy-role-{account}-eu-west-1" in policy


def test_self_mutation_uses_the_pinned_cdk_cli(delivery):
    _, template, _, _ = delivery
    from infra.pipeline import CDK_CLI_VERSION

    mutation = next(p for k, p in resources(template, "AWS::CodeBuild::Project").items() if "SelfMutation" in k)
    spec = json.loads(mutation["Properties"]["Source"]["BuildSpec"])
    assert f"npm install -g aws-cdk@{CDK_CLI_VERSION}" in spec["phases"]["install"]["commands"]


def test_exactly_one_environment_hosts_the_pipeline(delivery):
    import dataclasses

    from infra.pipeline import pipeline_host

    built, *_ = delivery
    configs = dict(built.configs)
    assert pipeline_host(configs).name == "prod"
    no_host = {n: dataclasses.replace(c, cicd=dataclasses.replace(c.cicd, connection_arn=""))
               for n, c in configs.items()}
    with pytest.raises(ConfigError, match="set in exactly one environment .*found none"):
        pipeline_host(no_host)
    two = {**configs, "dev": dataclasses.replace(configs["dev"], cicd=configs["prod"].cicd)}
    with pytest.raises(ConfigError, match="found dev, prod"):
        pipeline_host(two)
