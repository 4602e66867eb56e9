"""The bootstrap as synthesized in every environment (session `synth` fixture): wiring, least privilege, the plan."""

from __future__ import annotations

import json

import pytest

from infra.config import ENVIRONMENT_NAMES


def only(synthesized, rtype):
    (found,) = [r for _, _, r in synthesized.resources(rtype)]
    return found


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_bootstrap_runs_after_the_warehouse_and_the_dbt_runner_exist(synth, env):
    assert {"Warehouse", "Orchestration", "Network", "Storage", "Security"} <= synth[env].stack_dependencies[
        "WarehouseBootstrap"]


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_custom_resource_carries_the_whole_plan_with_the_dbt_role_resolved_at_deploy(synth, env):
    stage = synth[env].stage
    plan = stage.warehouse_bootstrap.bootstrap.statements
    template = synth[env].template("WarehouseBootstrap")
    (resource,) = [r for r in template["Resources"].values() if r["Type"] == "Custom::RedshiftBootstrap"]
    statements = resource["Properties"]["Statements"]
    assert [s["name"] for s in statements] == [s.name for s in plan]
    user = json.dumps(next(s for s in statements if s["name"] == "create dbt user"))
    # IAMR:<name of the dbt runner's role>, read from the Orchestration stack at deploy time
    assert "Fn::GetStackOutput" in user and "orchestration" in user and "DbtRunnerRole" in user
    glue_database = synth[env].config.glue_database_name
    external = next(s for s in statements if s["name"] == "create external schema raw")
    assert f"from data catalog database '{glue_database}'" in json.dumps(external)


def test_handler_is_isolated_and_least_privilege(synth):
    prod = synth["prod"]
    template = prod.template("WarehouseBootstrap")
    handler = next(r for lid, r in template["Resources"].items()
                   if r["Type"] == "AWS::Lambda::Function" and lid.startswith("BootstrapHandler"))
    props = handler["Properties"]
    assert props["VpcConfig"]["SubnetIds"] and props["ReservedConcurrentExecutions"] == 1
    assert props["Environment"]["Variables"]["WORKGROUP_NAME"] == prod.config.resource_prefix
    assert props["Environment"]["Variables"]["DATABASE_NAME"] == prod.config.warehouse.database_name
    assert "KmsKeyArn" in props
    statements = [s for lid, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Policy"
                  and lid.startswith("BootstrapHandler") for s in r["Properties"]["PolicyDocument"]["Statement"]]
    by_action = {json.dumps(s["Action"]): s for s in statements}
    execute = by_action['"redshift-data:ExecuteStatement"']
    assert "Fn::GetStackOutput" in json.dumps(execute["Resource"]) and "Workgroup" in json.dumps(execute["Resource"])
    describe = next(s for s in statements if "redshift-data:DescribeStatement" in s["Action"])
    assert describe["Condition"] == {"StringEquals": {"redshift-data:statement-owner-iam-userid": "${aws:userid}"}}
    secret = by_action['"secretsmanager:GetSecretValue"']
    assert secret["Resource"] != "*"
    # nothing else may touch Redshift: no GetCredentials, no wildcard redshift actions
    actions = [a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]
    assert not [a for a in actions if a.startswith(("redshift:", "redshift-serverless:")) or a.endswith(":*")]
