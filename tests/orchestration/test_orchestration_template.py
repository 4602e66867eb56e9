"""What the synthesized Orchestration stack promises, read from the real app's templates (session `synth`)."""

import json

import pytest

from infra.config import ENVIRONMENT_NAMES

ENVS = list(ENVIRONMENT_NAMES)


def resources(template: dict, kind: str) -> dict[str, dict]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def only(template: dict, kind: str) -> dict:
    (resource,) = resources(template, kind).values()
    return resource["Properties"]


@pytest.fixture(scope="module")
def dev(synth):
    return synth["dev"]


@pytest.fixture(scope="module")
def orchestration(dev):
    return dev.template("Orchestration")


def dbt_project(template: dict) -> tuple[str, dict]:
    (found,) = [(k, r) for k, r in resources(template, "AWS::CodeBuild::Project").items() if "DbtRunner" in k]
    return found


def test_dbt_runner_is_isolated_encrypted_and_time_boxed(orchestration, dev):
    project = dbt_project(orchestration)[1]["Properties"]
    assert project["VpcConfig"]["Subnets"] and project["VpcConfig"]["SecurityGroupIds"]
    assert project["EncryptionKey"]
    assert project["TimeoutInMinutes"] == 90 and project["QueuedTimeoutInMinutes"] == 30
    assert project["ConcurrentBuildLimit"] == 1
    assert project["Source"]["Type"] == "S3" and project["SecondarySources"][0]["SourceIdentifier"] == "runner"
    logs = project["LogsConfig"]["CloudWatchLogs"]
    assert logs["Status"] == "ENABLED"
    (group,) = [g for k, g in resources(orchestration, "AWS::Logs::LogGroup").items()
                if {"Ref": k} == logs["GroupName"]]
    assert group["Properties"]["KmsKeyId"]
    assert group["Properties"]["RetentionInDays"] == dev.config.retention.log_retention_days
    spec = json.loads(project["Source"]["BuildSpec"])
    assert spec["phases"]["build"]["commands"] == ['bash "$CODEBUILD_SRC_DIR_runner/run_dbt.sh" build']
    assert spec["phases"]["build"]["finally"] == ['bash "$CODEBUILD_SRC_DIR_runner/run_dbt.sh" upload']
    env = {v["Name"]: v["Value"] for v in project["Environment"]["EnvironmentVariables"]}
    assert env["DBT_TARGET"] == "dev" and env["CODEARTIFACT_REPOSITORY"] == "dbt-runner"
    assert not [n for n in env if "PASSWORD" in n or "SECRET" in n], "Redshift access is IAM only"


def test_dbt_runner_reaches_redshift_by_iam_and_pypi_through_codeartifact(orchestration):
    statements = [st for p in resources(orchestration, "AWS::IAM::Policy").values()
                  for st in p["Properties"]["PolicyDocument"]["Statement"]]
    by_sid = {st.get("Sid"): st for st in statements if st.get("Sid")}
    assert set(by_sid["RedshiftIamAuth"]["Action"]) == {"redshift-serverless:GetCredentials",
                                                         "redshift-serverless:GetWorkgroup"}
    assert by_sid["CodeArtifactBearerToken"]["Condition"] == {
        "StringEquals": {"sts:AWSServiceName": "codeartifact.amazonaws.com"}}
    assert not [st for st in statements if "secretsmanager:GetSecretValue" in str(st.get("Action"))]
    (store,) = [r["Properties"] for r in resources(orchestration, "AWS::CodeArtifact::Repository").values()
                if r["Properties"].get("ExternalConnections")]
    assert store["ExternalConnections"] == ["public:pypi"]


@pytest.mark.parametrize("env", ENVS)
def test_every_lambda_has_dlq_concurrency_kms_env_tracing_vpc_and_retention(synth, env):
    template = synth[env].template("Orchestration")
    functions = resources(template, "AWS::Lambda::Function")
    handlers = {f["Properties"]["Handler"] for f in functions.values()}
    assert handlers == {"start_pipeline.app.handler", "start_dbt_build.app.handler",
                        "dbt_build_callback.app.handler", "pipeline_turn.app.handler"}
    groups = resources(template, "AWS::Logs::LogGroup")
    for logical_id, function in functions.items():
        props = function["Properties"]
        assert props["Runtime"] == "python3.14", logical_id
        assert props["DeadLetterConfig"]["TargetArn"], logical_id
        assert props["ReservedConcurrentExecutions"] >= 1, logical_id
        assert props["KmsKeyArn"], logical_id
        assert props["TracingConfig"] == {"Mode": "Active"}, logical_id
        assert props["VpcConfig"]["SubnetIds"], logical_id
        assert props["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"].endswith("/pipeline")
        group_ref = props["LoggingConfig"]["LogGroup"]["Ref"]
        assert groups[group_ref]["Properties"]["RetentionInDays"] == synth[env].config.retention.log_retention_days


def test_state_machine_is_standard_logged_traced_and_bounded(orchestration):
    machine = only(orchestration, "AWS::StepFunctions::StateMachine")
    assert machine["StateMachineType"] == "STANDARD"
    assert machine["LoggingConfiguration"]["Level"] == "ALL"
    assert machine["TracingConfiguration"] == {"Enabled": True}
    definition = json.dumps(machine["DefinitionString"])
    assert '\\"TimeoutSeconds\\":' in definition  # whole-execution timeout
    assert "waitForTaskToken" in definition and '\\"HeartbeatSeconds\\":' in definition


def test_every_task_state_has_a_catch_to_the_alert(orchestration, dev):
    from tests.orchestration.harness import TemplateResolver

    raw = only(orchestration, "AWS::StepFunctions::StateMachine")["DefinitionString"]
    all_templates = [dev.template(s) for s in dev.stack_ids]
    definition = json.loads(TemplateResolver(all_templates).resolve(orchestration, raw))
    top = definition["States"]
    for name, state in top.items():
        if state["Type"] in ("Task", "Parallel", "Map") and name not in ("Send failure alert", "Send success notice",
                                                                         "Send drift warning"):
            targets = [c["Next"] for c in state.get("Catch", [])]
            assert targets and all(t.startswith("Record failure: ") for t in targets), name
            assert all(top[t]["Next"] == "Send failure alert" for t in targets), name
    assert top["Send failure alert"]["Next"] == "Pipeline failed"
    # a published batch stays published when its notice cannot be sent
    (notice_catch,) = top["Send success notice"]["Catch"]
    assert top[notice_catch["Next"]]["Next"] == "Pipeline succeeded"
    # ... and when a drift warning cannot be sent: the success notice still goes out
    (warning_catch,) = top["Send drift warning"]["Catch"]
    assert warning_catch["Next"] == "Send success notice" == top["Send drift warning"]["Next"]
    # failed dbt tests never reach the refresh: the Choice sends them to the alert
    choice = top["dbt passed?"]
    assert choice["Default"] == "dbt tests failed"
    assert [c["StringEquals"] for c in choice["Choices"]] == ["passed"]


@pytest.mark.parametrize("env", ENVS)
def test_schedule_and_alert_recipients_come_from_config(synth, env):
    template, config = synth[env].template("Orchestration"), synth[env].config
    (schedule,) = [r["Properties"] for k, r in resources(template, "AWS::Scheduler::Schedule").items()
                   if "ModelTrainer" not in k and "ReportJob" not in k]
    assert schedule["ScheduleExpression"] == config.pipeline.schedule_expression
    assert schedule["State"] == ("ENABLED" if config.pipeline.schedule_enabled else "DISABLED")
    assert json.loads(schedule["Target"]["Input"])["trigger"] == "schedule"
    assert schedule["Target"]["DeadLetterConfig"]["Arn"]
    topics = resources(template, "AWS::SNS::Topic")
    assert len(topics) == 2  # failure alerts + alarms, success notices
    keys = {t["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0] for t in topics.values()}
    assert len(keys) == 2, "each topic has its own key: one broken key never silences both"
    for topic_id in topics:
        emails = sorted(s["Properties"]["Endpoint"] for s in resources(template, "AWS::SNS::Subscription").values()
                        if s["Properties"]["TopicArn"] == {"Ref": topic_id})
        assert emails == sorted(config.alert_emails), topic_id


def test_alarms_cover_pipeline_glue_lambdas_dlq_dbt_tests_and_redshift(orchestration):
    alarms = [a["Properties"] for a in resources(orchestration, "AWS::CloudWatch::Alarm").values()]
    metric_names = {a.get("MetricName") for a in alarms} | {
        m["MetricStat"]["Metric"]["MetricName"] for a in alarms for m in a.get("Metrics", []) if "MetricStat" in m}
    assert {"ExecutionsFailed", "ExecutionsTimedOut", "Errors", "ApproximateNumberOfMessagesVisible",
            "DbtTestFailures", "ComputeSeconds"} <= metric_names
    assert sum(1 for a in alarms if a.get("MetricName") == "Errors") == 4
    assert all(a["AlarmActions"] for a in alarms)
    assert resources(orchestration, "AWS::CloudWatch::Dashboard")


def test_callback_rule_matches_only_this_projects_builds(orchestration):
    project_id = dbt_project(orchestration)[0]
    rules = [r["Properties"] for k, r in resources(orchestration, "AWS::Events::Rule").items()
             if "aws.codebuild" in r["Properties"]["EventPattern"]["source"]
             and "ModelTrainer" not in k and "ReportJob" not in k]
    (rule,) = rules
    assert rule["EventPattern"]["detail"]["project-name"] == [{"Ref": project_id}]
    assert rule["Targets"][0]["DeadLetterConfig"]["Arn"]


def test_powertools_layer_is_the_pinned_pure_python_packages(dev):
    import importlib.metadata

    layer = only(dev.template("Orchestration"), "AWS::Lambda::LayerVersion")
    asset = layer["Content"]["S3Key"]
    (staged,) = [d / f"asset.{asset.split('.')[0]}" for d in (dev.outdir, dev.outdir / f"assembly-{dev.config.stage_id}")
                 if (d / f"asset.{asset.split('.')[0]}").is_dir()]
    files = [p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file()]
    version = importlib.metadata.version("aws-lambda-powertools")
    assert f"python/aws_lambda_powertools-{version}.dist-info/METADATA" in files
    assert any(f.startswith("python/aws_xray_sdk/") for f in files)
    assert not [f for f in files if f.endswith(".so")], "binary wheels would tie the layer to one Python build"


def test_every_wait_is_bounded_below_the_execution_timeout(orchestration, dev):
    """Each step times out by itself (and its Catch names it in the alert) before the execution's own timeout,
    which would end the run TIMED_OUT without any alert naming the step."""
    from tests.orchestration.harness import PipelineHarness, TemplateResolver

    raw = only(orchestration, "AWS::StepFunctions::StateMachine")["DefinitionString"]
    definition = json.loads(TemplateResolver([dev.template(s) for s in dev.stack_ids]).resolve(orchestration, raw))
    states = PipelineHarness.states(definition)
    tasks = {n: s for n, s in states.items() if s["Type"] == "Task"}
    unbounded = [n for n, s in tasks.items() if "TimeoutSeconds" not in s
                 and not s["Resource"].endswith((":sns:publish", "quicksight:createIngestion",
                                                 "quicksight:describeIngestion"))]
    assert not unbounded, f"task states without a timeout: {unbounded}"
    glue = [s for n, s in tasks.items() if n.startswith("Ingest ")]
    assert glue and all(s["TimeoutSeconds"] > s["Parameters"]["Timeout"] * 60 for s in glue)
    dbt = tasks["Start dbt build"]
    assert dbt["HeartbeatSeconds"] <= 20 * 60 < dbt["TimeoutSeconds"]
    assert [r for r in dbt["Retry"] if r["ErrorEquals"] == ["BuildNotStarted"]]
    # the two loops: the queue gives up in its Lambda (max_wait_seconds), the SPICE poll after a count
    turn = tasks["Wait for earlier runs"]["Parameters"]["max_wait_seconds"]
    poll_limit = [c for c in states["Ingestion finished?"]["Choices"] if "NumericGreaterThanEquals" in c]
    assert turn > 0 and poll_limit and states[poll_limit[0]["Next"]]["Type"] == "Fail"
    waits = sum(s.get("TimeoutSeconds", 0) for n, s in tasks.items() if not n.startswith("Ingest ")) + turn
    waits += max(s["TimeoutSeconds"] for s in glue)
    waits += poll_limit[0]["NumericGreaterThanEquals"] * states["Wait for ingestion"]["Seconds"]
    assert definition["TimeoutSeconds"] > waits
    for name in ("Send success notice", "Send failure alert"):
        assert tasks[name]["Retry"], name


def test_the_state_machine_can_publish_to_both_encrypted_topics(orchestration):
    """SNS needs the publisher's own kms:GenerateDataKey/Decrypt on the topic's key: with sns:Publish alone every
    alert and notice fails with KMS.AccessDenied in AWS (moto does not check)."""
    machine_role = only(orchestration, "AWS::StepFunctions::StateMachine")["RoleArn"]["Fn::GetAtt"][0]
    statements = [st for p in resources(orchestration, "AWS::IAM::Policy").values()
                  if {"Ref": machine_role} in p["Properties"]["Roles"]
                  for st in p["Properties"]["PolicyDocument"]["Statement"]]
    for topic in resources(orchestration, "AWS::SNS::Topic").values():
        key = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
        granted = [st for st in statements if {"Fn::GetAtt": [key, "Arn"]} in
                   (st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]])]
        actions = {a for st in granted for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])}
        assert {"kms:GenerateDataKey", "kms:Decrypt"} <= actions, key
