"""The synthesized QuickSight stack of every environment: each Definition (PascalCase, as CloudFormation receives
it) passes botocore's client-side validation for CreateDashboard, CDK dropped no key of it, the datasets/theme/data
source pass their own API shapes, the templates stay far below CloudFormation's limits, and the pipeline refreshes
exactly these datasets."""

from __future__ import annotations

import copy
import json

import boto3
import pytest
from botocore.validate import ParamValidator

from infra.config import ENVIRONMENT_NAMES
from quicksight import catalog, definition
from quicksight.spec import KPI

STACK = "QuickSight"
# CloudFormation: a template uploaded through S3 (CDK does) may be 1 MB; resources per template 500.
TEMPLATE_LIMIT_BYTES = 1_000_000
PLACEHOLDER_ARN = "arn:aws:quicksight:eu-west-1:111111111111:dataset/placeholder"


@pytest.fixture(scope="module")
def quicksight_model():
    client = boto3.client("quicksight", region_name="eu-west-1", aws_access_key_id="offline",
                          aws_secret_access_key="offline")
    return client.meta.service_model


def validate(model, operation: str, params: dict) -> str:
    """botocore's report ('' when valid) of params against the operation's input shape."""
    report = ParamValidator().validate(params, model.operation_model(operation).input_shape)
    return report.generate_report() if report.has_errors() else ""


def without_intrinsics(value):
    """CloudFormation intrinsics ({"Fn::GetAtt": ...}, {"Ref": ...}) replaced by a string ARN, as deployed."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref")):
            return PLACEHOLDER_ARN
        return {k: without_intrinsics(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_intrinsics(v) for v in value]
    return value


def resources(synth, env, resource_type):
    return {lid: r["Properties"] for _, lid, r in synth[env].resources(resource_type)}


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_every_dashboard_definition_is_a_valid_create_dashboard_input(synth, env, quicksight_model):
    dashboards = resources(synth, env, "AWS::QuickSight::Dashboard")
    assert len(dashboards) == len(catalog.DASHBOARDS)
    for props in dashboards.values():
        params = {"AwsAccountId": props["AwsAccountId"], "DashboardId": props["DashboardId"], "Name": props["Name"],
                  "Definition": without_intrinsics(props["Definition"])}
        assert validate(quicksight_model, "CreateDashboard", params) == "", props["Name"]


def test_the_validation_catches_a_wrong_key(synth, quicksight_model):
    props = next(iter(resources(synth, "dev", "AWS::QuickSight::Dashboard").values()))
    broken = copy.deepcopy(without_intrinsics(props["Definition"]))
    visual = broken["Sheets"][0]["Visuals"][0]
    kind = next(iter(visual))
    visual[kind]["Titel"] = visual[kind].pop("Title")
    report = validate(quicksight_model, "CreateDashboard", {"AwsAccountId": "111111111111", "DashboardId": "x",
                                                            "Name": "x", "Definition": broken})
    assert 'Unknown parameter in Definition.Sheets[0].Visuals[0]' in report and '"Titel"' in report


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_cdk_kept_every_key_of_the_definitions(synth, env):
    """camelCase dicts in, PascalCase template out: equal to the builder's own PascalCase, key for key."""
    datasets = resources(synth, env, "AWS::QuickSight::DataSet")
    arn_of = {props["DataSetId"]: {"Fn::GetAtt": [lid, "Arn"]} for lid, props in datasets.items()}
    prefix = synth[env].config.resource_prefix
    by_name = {p["Name"]: p for p in resources(synth, env, "AWS::QuickSight::Dashboard").values()}
    for dash in catalog.DASHBOARDS:
        arns = {d: arn_of[f"{prefix}-{d}"] for d in dash.datasets}
        expected = definition.dashboard_definition(dash, arns, {d.id: d for d in catalog.DATASETS})
        assert by_name[dash.name]["Definition"] == expected, dash.name
    rules_arn = arn_of.get(f"{prefix}-rls-region")
    for ds in catalog.DATASETS:
        props = next(p for p in datasets.values() if p["DataSetId"] == f"{prefix}-{ds.id}")
        protected = rules_arn is not None and catalog.REGION_FIELD in ds.output_columns
        expected = definition.dataset_properties(ds, {"Fn::GetAtt": ["source", "Arn"]},
                                                 rules_arn=rules_arn if protected else None)
        for key, value in expected.items():
            assert without_intrinsics(props[key]) == without_intrinsics(value), (ds.id, key)


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_datasets_theme_and_data_source_are_valid_api_inputs(synth, env, quicksight_model):
    for props in resources(synth, env, "AWS::QuickSight::DataSet").values():
        params = {k: without_intrinsics(props[k]) for k in ("AwsAccountId", "DataSetId", "Name", "ImportMode",
                                                            "PhysicalTableMap", "DataPrepConfiguration",
                                                            "SemanticModelConfiguration")}
        # the deprecated dataset model is not used (CloudFormation warns W9009 on it)
        assert "LogicalTableMap" not in props and "RowLevelPermissionDataSet" not in props
        assert validate(quicksight_model, "CreateDataSet", params) == "", props["DataSetId"]
    (theme,) = resources(synth, env, "AWS::QuickSight::Theme").values()
    assert validate(quicksight_model, "CreateTheme", {k: theme[k] for k in (
        "AwsAccountId", "ThemeId", "Name", "BaseThemeId", "Configuration")}) == ""
    (source,) = resources(synth, env, "AWS::QuickSight::DataSource").values()
    assert validate(quicksight_model, "CreateDataSource", without_intrinsics({k: source[k] for k in (
        "AwsAccountId", "DataSourceId", "Name", "Type", "DataSourceParameters", "Credentials",
        "VpcConnectionProperties", "SslProperties")})) == ""


def test_each_dashboard_has_kpis_five_visuals_and_the_filters():
    for dash in catalog.DASHBOARDS:
        assert len(dash.kpis) >= 2 and all(isinstance(k, KPI) for k in dash.kpis), dash.name
        assert len(dash.visuals) >= 5, dash.name
        kinds = {c.kind for c in dash.controls}
        titles = {c.title for c in dash.controls}
        assert "date_range" in kinds and "Customer segment" in titles, dash.name
    # region: every dashboard (revenue's mart carries the customer's region since it was added to fct_daily_revenue)
    assert all("Customer region" in {c.title for c in d.controls} for d in catalog.DASHBOARDS)


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_templates_stay_far_below_cloudformation_limits(synth, env):
    path = synth.template_path(env, STACK)
    size = path.stat().st_size
    print(f"{env} QuickSight template: {size:,} bytes; "
          + ", ".join(f"{p['Name']}: {len(json.dumps(p['Definition'])):,} B"
                      for p in resources(synth, env, "AWS::QuickSight::Dashboard").values()))
    assert size < TEMPLATE_LIMIT_BYTES / 4
    assert len(synth.template(env, STACK)["Resources"]) < 100
    for props in resources(synth, env, "AWS::QuickSight::Dashboard").values():
        assert len(props["Definition"]["DataSetIdentifierDeclarations"]) <= 50  # QuickSight's per-dashboard cap


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_no_unacknowledged_findings_and_pipeline_refreshes_these_datasets(synth, env):
    assert [f for f in synth[env].unacknowledged if f.path.startswith(STACK)] == []
    analytics = synth[env].stage.quicksight.analytics
    assert analytics.dataset_ids  # the rules dataset is not refreshed by the pipeline: only config changes it
    orchestration = json.dumps(synth.template(env, "Orchestration"))
    for dataset_id in analytics.dataset_ids:
        assert dataset_id in orchestration
    assert f"{synth[env].config.resource_prefix}-rls-region" not in orchestration
