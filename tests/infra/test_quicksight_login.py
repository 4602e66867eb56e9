"""QuickSight signs in to Redshift as its own least-privilege user, never as the admin (session `synth` fixture):
the login secret, who may read it, the data source using it, and the bootstrap creating the user from it."""

from __future__ import annotations

import json

import pytest

from infra.config import ENVIRONMENT_NAMES
from infra.constructs.quicksight import SECRETS_MANAGER_ROLE_NAME
from infra.constructs.warehouse import QUICKSIGHT_USER


def login_secret(env):
    (logical_id, secret), = [(lid, r) for _, lid, r in env.resources("AWS::SecretsManager::Secret")]
    return logical_id, secret


def refers_to(value, logical_id: str) -> bool:
    """A cross-stack reference (GetStackOutput of the producer's Ref/GetAtt output) to ``logical_id``."""
    return logical_id in json.dumps(value) and "Fn::GetStackOutput" in json.dumps(value)


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_login_secret_is_generated_and_encrypted_with_the_data_key(synth, env):
    _, secret = login_secret(synth[env])
    props = secret["Properties"]
    generated = props["GenerateSecretString"]
    assert json.loads(generated["SecretStringTemplate"]) == {"username": QUICKSIGHT_USER}
    assert generated["GenerateStringKey"] == "password" and generated["PasswordLength"] >= 32
    assert "SecretString" not in props  # the template never holds a password
    assert refers_to(props["KmsKeyId"], "KeysDataKey")
    # kept or deleted with the environment's data, like the warehouse namespace
    (_, _, namespace), = synth[env].resources("AWS::RedshiftServerless::Namespace")
    assert secret.get("DeletionPolicy") == namespace.get("DeletionPolicy")


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_data_source_signs_in_with_the_login_secret_not_the_admin_secret(synth, env):
    secret_id, _ = login_secret(synth[env])
    template = synth[env].template("QuickSight")
    (source,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::QuickSight::DataSource"]
    secret_arn = source["Properties"]["Credentials"]["SecretArn"]
    assert refers_to(secret_arn, secret_id)
    assert "AdminSecret" not in json.dumps(template)  # nothing in QuickSight's stack names the admin secret


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_quicksight_secrets_role_reads_that_secret_only(synth, env):
    secret_id, _ = login_secret(synth[env])
    template = synth[env].template("QuickSight")
    (policy,) = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::IAM::ManagedPolicy"]
    assert policy["Roles"] == [SECRETS_MANAGER_ROLE_NAME]
    read, decrypt = policy["PolicyDocument"]["Statement"]
    assert read["Action"] == "secretsmanager:GetSecretValue" and refers_to(read["Resource"], secret_id)
    assert decrypt["Action"] == "kms:Decrypt" and refers_to(decrypt["Resource"], "KeysDataKey")
    region = synth[env].config.region
    assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}}
    # no other QuickSight policy touches secrets
    others = [s for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"
              for s in r["Properties"]["PolicyDocument"]["Statement"]]
    assert not [s for s in others if "secretsmanager" in json.dumps(s["Action"])]


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_bootstrap_creates_the_user_from_the_secret_before_quicksight_deploys(synth, env):
    secret_id, _ = login_secret(synth[env])
    template = synth[env].template("WarehouseBootstrap")
    (resource,) = [r for r in template["Resources"].values() if r["Type"] == "Custom::RedshiftBootstrap"]
    statements = {s["name"]: s for s in resource["Properties"]["Statements"]}
    assert statements["create quicksight user"]["sql"] == f"create user {QUICKSIGHT_USER} password disable"
    password = statements["set quicksight user password"]
    assert password["sql"] == f"alter user {QUICKSIGHT_USER} password {{password_md5}}"
    assert refers_to(password["password_secret"], secret_id)
    assert statements["grant role quicksight_reader to quicksight user"]["sql"] == (
        f"grant role quicksight_reader to {QUICKSIGHT_USER}")
    # no statement carries a literal password
    assert not [s for s in statements.values() if "password '" in s["sql"]]
    # the data source is created only after the user exists
    assert "WarehouseBootstrap" in synth[env].stack_dependencies["QuickSight"]


def test_only_the_bootstrap_lambda_may_read_the_login_secret_in_its_stack(synth):
    prod = synth["prod"]
    secret_id, _ = login_secret(prod)
    readers = [lid for lid, r in prod.template("WarehouseBootstrap")["Resources"].items()
               if r["Type"] == "AWS::IAM::Policy"
               and any("secretsmanager:GetSecretValue" in json.dumps(s["Action"]) and refers_to(s["Resource"], secret_id)
                       for s in r["Properties"]["PolicyDocument"]["Statement"])]
    assert len(readers) == 1 and readers[0].startswith("BootstrapHandler")
    # and nobody outside the bootstrap and QuickSight stacks references it
    for stack_id, template in ((s, prod.template(s)) for s in prod.stack_dependencies):
        if stack_id not in ("Warehouse", "WarehouseBootstrap", "QuickSight"):
            assert secret_id not in json.dumps(template), stack_id


def test_an_environment_without_quicksight_has_no_login_and_no_user(synth):
    """No consumer, no credential: without a QuickSight principal there is no secret and no password user."""
    import dataclasses

    from aws_cdk import App

    from infra.application import cdk_json_context
    from infra.stage import PlatformStage

    config = synth["dev"].config
    config = dataclasses.replace(config, quicksight=dataclasses.replace(config.quicksight, principal_arn=""))
    stage = PlatformStage(App(context=cdk_json_context()), config=config)
    assert stage.quicksight is None and stage.warehouse.warehouse.quicksight_login is None
    statements = stage.warehouse_bootstrap.bootstrap.statements
    assert not [s for s in statements if "quicksight user" in s.name or s.password_secret]
    assert "create role quicksight_reader" in [s.name for s in statements]  # the role stays, for later
