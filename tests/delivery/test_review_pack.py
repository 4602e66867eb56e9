"""The platform team's review pack (scripts/review.py): guarded by the approved baseline review/<env>.json, built
from the session's synthesized environments (tests/fixtures/synth.py), deterministic, and it sees what it claims."""

from __future__ import annotations

import json
import re

import pytest

from infra.config import ENVIRONMENT_NAMES
from scripts import review

MAX_DIFF_LINES = 150


@pytest.fixture(scope="module")
def packs(synth):
    return {env: review.review_environment(synth[env]) for env in ENVIRONMENT_NAMES}


@pytest.fixture(scope="module")
def all_packs(packs, delivery_pipeline):
    from infra.pipeline import pipeline_host

    built, template, _, _ = delivery_pipeline
    return {**packs, review.PIPELINE_NAME: review.review_pipeline(template, pipeline_host(built.configs))}


@pytest.mark.parametrize("env", [*ENVIRONMENT_NAMES, review.PIPELINE_NAME])
def test_synthesized_pack_matches_the_approved_baseline(all_packs, env):
    baseline = review.BASELINE_DIR / f"{env}.json"
    assert baseline.exists(), f"review/{env}.json is missing: run make review-approve and commit review/"
    current = review.to_json(all_packs[env])
    approved = baseline.read_text()
    if current != approved:
        lines = review.diff(approved, current, env).splitlines()
        shown = "\n".join(lines[:MAX_DIFF_LINES]) + (f"\n... {len(lines) - MAX_DIFF_LINES} more diff lines"
                                                     if len(lines) > MAX_DIFF_LINES else "")
        pytest.fail(f"the {env} review pack changed (IAM, network, keys, acknowledgments, cost knobs or resources):\n"
                    f"{shown}\nIf the change is intended: make review-approve, then commit review/ with it.",
                    pytrace=False)


@pytest.mark.parametrize("env", [*ENVIRONMENT_NAMES, review.PIPELINE_NAME])
def test_markdown_baseline_is_the_rendering_of_the_json_baseline(env):
    approved = json.loads((review.BASELINE_DIR / f"{env}.json").read_text())
    assert (review.BASELINE_DIR / f"{env}.md").read_text() == review.to_markdown(approved), \
        f"review/{env}.md was edited by hand or not re-generated: run make review-approve"


def test_pack_is_deterministic_and_free_of_hashes_and_timestamps(synth, packs):
    again = review.to_json(review.review_environment(synth["prod"]))
    assert again == review.to_json(packs["prod"])
    for env, pack in packs.items():
        text = review.to_json(pack)
        assert not re.search(r"[0-9a-f]{64}", text), f"{env}: an asset hash leaked into the pack"
        assert not re.search(r"\b20\d\d-\d\d-\d\dT\d\d:\d\d", text), f"{env}: a timestamp leaked into the pack"


def test_no_environment_exposes_a_public_endpoint(all_packs):
    for env, pack in all_packs.items():
        assert pack["network"]["public_endpoints"] == [], env


def test_pipeline_pack_shows_its_cross_account_grants(all_packs, delivery_pipeline):
    from infra import compliance
    from infra.pipeline import pipeline_host

    delivery = all_packs[review.PIPELINE_NAME]
    assert delivery["stacks"] == ["Delivery"] and delivery["account"] == "333333333333"
    (key,) = [k for k in delivery["kms_keys"] if k["key"].startswith("ArtifactsKey")]
    assert key["rotation"] is True
    principals = " ".join(p for s in key["statements"] for p in s.get("principal", []))
    for account in ("111111111111", "222222222222"):
        assert f"cdk-hnb659fds-deploy-role-{account}" in principals
    host = pipeline_host(delivery_pipeline[0].configs)
    assert len(delivery["nag_acknowledgments"]) == len(compliance.cicd_acknowledgments(host))


def test_glue_cost_knobs_follow_the_configuration(packs, synth):
    for env, pack in packs.items():
        glue = synth[env].config.glue
        jobs = pack["cost_knobs"]["glue_jobs"]
        assert len(jobs) == sum(1 for _ in synth[env].resources("AWS::Glue::Job"))
        for job in jobs:
            assert (job["worker_type"], job["workers"]) == (glue.worker_type, glue.number_of_workers), (env, job)
            assert job["execution_class"] == ("FLEX" if glue.flex_execution else "STANDARD"), (env, job)
            assert job["timeout_minutes"] == glue.timeout_minutes, (env, job)


# --- the generator on hand-written templates: what it flags and how it renders ----------------------------------


def test_renders_intrinsics_readably_and_scrubs_asset_hashes():
    value = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::", {"Ref": "Bucket1"}, "/",
                               {"Fn::GetAtt": ["Role2", "Arn"]}]]}
    assert review.render(value) == "arn:${AWS::Partition}:s3:::<Bucket1>/<Role2.Arn>"
    assert review.render({"Fn::GetStackOutput": {"StackName": "s", "OutputName": "o", "Region": "r"}}) == "<s:o>"
    assert review.render("cdk-assets/" + "ab" * 32 + ".zip") == "cdk-assets/<asset-hash>.zip"


def test_flags_public_exposure():
    template = {"Resources": {
        "Open": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
            "GroupDescription": "web", "SecurityGroupIngress": [
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}]}},
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "Wg": {"Type": "AWS::RedshiftServerless::Workgroup", "Properties": {"PubliclyAccessible": True}},
        "Igw": {"Type": "AWS::EC2::InternetGateway", "Properties": {}},
        "Closed": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "db", "SecurityGroupEgress": [
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}]}},
    }}
    public = review.network({"Stack": template})["public_endpoints"]
    assert public == sorted([
        "Stack/<Open>: ingress from 0.0.0.0/0 on 443-443",
        "Stack/Bucket: S3 bucket without a full public access block",
        "Stack/Wg: publicly accessible Redshift workgroup",
        "Stack/Igw: internet gateway",
    ])


def test_iam_statements_name_their_principal():
    template = {"Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                        "Principal": {"Service": "lambda.amazonaws.com"}}]},
            "ManagedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}},
        "Policy": {"Type": "AWS::IAM::Policy", "Properties": {
            "Roles": [{"Ref": "Role"}], "PolicyDocument": {"Statement": [
                {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "*"}]}}},
        "BucketPolicy": {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": {"Ref": "B"}, "PolicyDocument": {
            "Statement": [{"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": "*"}]}}},
    }}
    statements = review.iam_statements({"S": template})
    by_kind = {s["kind"]: s for s in statements}
    assert by_kind["identity"]["principal"] == ["role <Role> (Service:lambda.amazonaws.com)"]
    assert by_kind["identity"]["actions"] == ["s3:GetObject", "s3:PutObject"]  # sorted
    assert by_kind["trust"]["principal"] == ["Service:lambda.amazonaws.com"]
    assert by_kind["managed-policy"]["managed_policy"] == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    assert by_kind["resource (S3)"]["principal"] == ["AWS:*"] and by_kind["resource (S3)"]["effect"] == "Deny"
