"""The model retraining step in the synthesized Orchestration stack (infra/constructs/model_trainer.py): a CodeBuild
project on a schedule from config, reading Redshift by IAM, writing only models/ in the artifacts bucket, alerting
on failure; the dbt runner reading the promoted models by the manifest; the bootstrap's read-only trainer grants."""

import json

import pytest

from infra.config import ENVIRONMENT_NAMES
from infra.constructs.model_trainer import FINAL_FAILURES
from tests.orchestration.test_orchestration_template import dbt_project, resources


def trainer(template: dict) -> tuple[str, dict]:
    (found,) = [(k, r["Properties"]) for k, r in resources(template, "AWS::CodeBuild::Project").items()
                if "ModelTrainer" in k]
    return found


def role_statements(template: dict, project: dict) -> list[dict]:
    role = project["ServiceRole"]["Fn::GetAtt"][0]
    return [st for p in resources(template, "AWS::IAM::Policy").values() if {"Ref": role} in p["Properties"]["Roles"]
            for st in p["Properties"]["PolicyDocument"]["Statement"]]


def staged_files(build, project: dict) -> list[str]:
    """The files of a CodeBuild project's S3 source asset as synthesis staged them."""
    asset = project["Source"]["Location"].split("/")[-1].split(".")[0]
    (staged,) = [d / f"asset.{asset}" for d in (build.outdir, build.outdir / f"assembly-{build.config.stage_id}")
                 if (d / f"asset.{asset}").is_dir()]
    return sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file())


def listed(value) -> list:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("env", list(ENVIRONMENT_NAMES))
def test_retraining_runs_on_the_configured_schedule_and_alerts_when_a_build_fails(synth, env):
    template, config = synth[env].template("Orchestration"), synth[env].config
    project_id, project = trainer(template)
    assert project["TimeoutInMinutes"] == config.models.training_timeout_minutes
    assert project["ConcurrentBuildLimit"] == 1 and project["EncryptionKey"]
    assert project["VpcConfig"]["Subnets"] and project["VpcConfig"]["SecurityGroupIds"]
    (schedule,) = [r["Properties"] for k, r in resources(template, "AWS::Scheduler::Schedule").items()
                   if "ModelTrainer" in k]
    assert schedule["ScheduleExpression"] == config.models.retrain_schedule_expression
    assert schedule["State"] == ("ENABLED" if config.models.retrain_enabled else "DISABLED")
    assert schedule["Target"]["Arn"] == "arn:aws:scheduler:::aws-sdk:codebuild:startBuild"
    assert schedule["Target"]["Input"] == {"Fn::Join": ["", ['{"ProjectName": "', {"Ref": project_id}, '"}']]}
    assert schedule["Target"]["DeadLetterConfig"]["Arn"]
    (rule,) = [r["Properties"] for k, r in resources(template, "AWS::Events::Rule").items() if "ModelTrainer" in k]
    assert rule["EventPattern"]["detail"] == {"project-name": [{"Ref": project_id}], "build-status": FINAL_FAILURES}
    (alerts_topic,) = [k for k, t in resources(template, "AWS::SNS::Topic").items() if "Alerts" in k]
    assert rule["Targets"][0]["Arn"] == {"Ref": alerts_topic}
    assert "nothing was promoted" in json.dumps(rule["Targets"][0]["InputTransformer"])


def test_the_trainer_reads_redshift_by_iam_and_writes_only_the_models_prefix(synth):
    template = synth["prod"].template("Orchestration")
    _, project = trainer(template)
    env = {v["Name"]: v["Value"] for v in project["Environment"]["EnvironmentVariables"]}
    assert {"ARTIFACTS_BUCKET", "MODELS_PREFIX", "ALERTS_TOPIC_ARN", "NOTICES_TOPIC_ARN", "REDSHIFT_WORKGROUP",
            "REDSHIFT_DATABASE"} <= set(env) and env["MODELS_PREFIX"] == "models"
    assert all(v["Type"] == "PLAINTEXT" for v in project["Environment"]["EnvironmentVariables"])
    assert not [k for k in env if "PASSWORD" in k or "SECRET" in k]
    spec = json.loads(project["Source"]["BuildSpec"])
    assert spec["phases"]["build"]["commands"] == ["python -m ml.retrain"]
    assert "--no-deps -r infra/assets/model_trainer/requirements.txt" in " ".join(spec["phases"]["install"]["commands"])
    statements = role_statements(template, project)
    s3_writes = [st for st in statements if any(a.startswith("s3:Put") or a.startswith("s3:Delete")
                                                for a in listed(st["Action"]))]
    (write,) = s3_writes
    assert "Sid" in write and write["Sid"] == "ModelArtifacts"
    assert write["Resource"]["Fn::Join"][1][-1] == "/models/*"
    assert not [st for st in statements if "s3:DeleteObject" in listed(st["Action"])]
    auth = [st for st in statements if "redshift-serverless:GetCredentials" in listed(st["Action"])]
    assert auth and all(st["Resource"] != "*" for st in auth)
    assert not [st for st in statements if "secretsmanager:GetSecretValue" in listed(st["Action"])]
    published = {r["Ref"] for st in statements if "sns:Publish" in listed(st["Action"]) for r in listed(st["Resource"])}
    topics = set(resources(template, "AWS::SNS::Topic"))
    assert published == topics and len(topics) == 2  # alerts (a refused candidate) and notices (a promotion)


def test_the_trainer_ships_only_the_ml_package_and_the_feature_contracts(synth):
    dev = synth["dev"]
    _, project = trainer(dev.template("Orchestration"))
    files = staged_files(dev, project)
    assert "ml/retrain.py" in files and "dbt/dbt_project.yml" in files
    assert "infra/assets/model_trainer/requirements.txt" in files
    assert all(f.startswith(("ml/", "dbt/dbt_project.yml", "dbt/models/features/", "infra/assets/model_trainer/"))
               for f in files), files
    assert not [f for f in files if f.endswith((".duckdb", ".pyc"))]


def test_the_dbt_runner_reads_the_promoted_models_by_the_manifest_only(synth):
    template = synth["dev"].template("Orchestration")
    project = dbt_project(template)[1]["Properties"]
    env = {v["Name"]: v["Value"] for v in project["Environment"]["EnvironmentVariables"]}
    assert env["MODELS_MANIFEST_S3_URI"]["Fn::Join"][1][-1] == "/models/promoted.json"
    statements = role_statements(template, project)
    (read,) = [st for st in statements if st.get("Sid") == "PromotedModelsRead"]
    assert read["Action"] == "s3:GetObject"
    resources_text = json.dumps(read["Resource"])
    assert "/models/promoted.json" in resources_text and "/models/dbt_macros/*" in resources_text
    assert not [st for st in statements if "s3:PutObject" in listed(st["Action"])
                and "/models/" in json.dumps(st["Resource"])]


def test_the_bootstrap_grants_the_trainer_read_on_features_and_marts_only(synth):
    template = synth["dev"].template("WarehouseBootstrap")
    (bootstrap,) = [r["Properties"] for r in resources(template, "Custom::RedshiftBootstrap").values()]
    # the IAMR:<role name> users' statements are Fn::Join of the role's name: compared as their JSON text
    plan = {s["name"]: s["sql"] if isinstance(s["sql"], str) else json.dumps(s["sql"]) for s in bootstrap["Statements"]}
    assert "grant role model_trainer to model trainer user" in plan and "ModelTrainerRole" in \
        plan["grant role model_trainer to model trainer user"]
    assert plan["create role model_trainer"] == "create role model_trainer"
    assert plan["grant select analytics_features to model_trainer"] == \
        "grant select on all tables in schema analytics_features to role model_trainer"
    assert "grant select analytics_marts to model_trainer" in plan
    trainer_sql = [sql for name, sql in plan.items() if "model_trainer" in sql or "model trainer" in name]
    assert not [sql for sql in trainer_sql if " create" in sql.replace("create user", "").replace("create role", "")
                or "insert" in sql or "staging" in sql]
