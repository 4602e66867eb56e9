"""QuickSightAnalytics on a small stack: network least privilege, the data source's secret, typed SPICE datasets,
row-level security, permissions, theme and dashboards."""

from __future__ import annotations

import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Match, Template

from infra.constructs.quicksight import (DASHBOARD_READER, DATASET_READER, SECRETS_MANAGER_ROLE_NAME,
                                        QuickSightAnalytics)
from infra.constructs.warehouse import DatabaseLogin
from quicksight import catalog, definition, models

PRINCIPAL = "arn:aws:quicksight:eu-west-1:123456789012:group/default/analysts"
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:quicksight-login-AbCdEf"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"


def login(stack) -> DatabaseLogin:
    return DatabaseLogin(username="quicksight", key=kms.Key.from_key_arn(stack, "DataKey", KEY),
                         secret=secretsmanager.Secret.from_secret_complete_arn(stack, "Login", SECRET))


def build(network_stack, **kwargs) -> tuple[QuickSightAnalytics, Template]:
    stack, vpc, warehouse_sg = network_stack
    analytics = QuickSightAnalytics(
        stack, "QuickSight", name_prefix="unit-dev", principal_arn=PRINCIPAL, vpc=vpc,
        subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED), warehouse_security_group=warehouse_sg,
        warehouse_host="wg.123456789012.eu-west-1.redshift-serverless.amazonaws.com", warehouse_port=5439,
        database_name="analytics", credentials=login(stack), **kwargs)
    return analytics, Template.from_stack(stack)


@pytest.fixture
def built(network_stack):
    return build(network_stack, region_access=("analysts:*", "uk-fraud:UK"))


def test_network_is_least_privilege(built):
    _, t = built
    groups = t.find_resources("AWS::EC2::SecurityGroup", {"Properties": {"GroupDescription": Match.string_like_regexp("QuickSight")}})
    (qs_id, qs_sg), = groups.items()
    # egress: only the warehouse port, only to the warehouse's group; no inbound rule at all (stateful since 2023)
    (egress,) = qs_sg["Properties"]["SecurityGroupEgress"]
    assert egress == {"Description": "Redshift Serverless workgroup", "FromPort": 5439, "IpProtocol": "tcp",
                      "ToPort": 5439,
                      "DestinationSecurityGroupId": {"Fn::GetAtt": [egress["DestinationSecurityGroupId"]["Fn::GetAtt"][0],
                                                                    "GroupId"]}}
    assert egress["DestinationSecurityGroupId"]["Fn::GetAtt"][0].startswith("WarehouseSg")
    assert "SecurityGroupIngress" not in qs_sg["Properties"]
    t.has_resource_properties("AWS::EC2::SecurityGroupIngress", {
        "IpProtocol": "tcp", "FromPort": 5439, "ToPort": 5439,
        "GroupId": {"Fn::GetAtt": [Match.string_like_regexp("^WarehouseSg"), "GroupId"]},
        "SourceSecurityGroupId": {"Fn::GetAtt": [qs_id, "GroupId"]}})
    t.resource_count_is("AWS::EC2::SecurityGroupIngress", 1)


def test_vpc_connection_role_is_trusted_by_quicksight_with_eni_actions(built):
    _, t = built
    t.has_resource_properties("AWS::IAM::Role", {"AssumeRolePolicyDocument": {"Statement": [Match.object_like({
        "Principal": {"Service": "quicksight.amazonaws.com"}, "Action": "sts:AssumeRole"})]}})
    (policy,) = t.find_resources("AWS::IAM::Policy").values()
    actions = {a for s in policy["Properties"]["PolicyDocument"]["Statement"]
               for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert actions == {"ec2:CreateNetworkInterface", "ec2:ModifyNetworkInterfaceAttribute",
                       "ec2:DeleteNetworkInterface", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"}
    (connection,) = t.find_resources("AWS::QuickSight::VPCConnection").values()
    assert len(connection["Properties"]["SubnetIds"]) == 3  # the three isolated subnets


def test_data_source_reads_its_login_secret_over_the_vpc_connection(built):
    _, t = built
    t.has_resource_properties("AWS::QuickSight::DataSource", {
        "Type": "REDSHIFT",
        "Credentials": {"SecretArn": SECRET},
        "DataSourceParameters": {"RedshiftParameters": {"Database": "analytics", "Port": 5439,
                                                        "Host": Match.string_like_regexp("redshift-serverless")}},
        "VpcConnectionProperties": {"VpcConnectionArn": {"Fn::GetAtt": [Match.string_like_regexp("VpcConnection"), "Arn"]}},
        "SslProperties": {"DisableSsl": False},
    })


def test_quicksight_secrets_role_may_read_that_one_secret_and_nothing_else(built):
    _, t = built
    (policy,) = t.find_resources("AWS::IAM::ManagedPolicy").values()
    props = policy["Properties"]
    assert props["Roles"] == [SECRETS_MANAGER_ROLE_NAME]
    assert props["PolicyDocument"]["Statement"] == [
        {"Action": "secretsmanager:GetSecretValue", "Effect": "Allow", "Resource": SECRET},
        # the secret's key, only when Secrets Manager decrypts it for QuickSight
        {"Action": "kms:Decrypt", "Effect": "Allow", "Resource": KEY,
         "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}},
    ]


def test_datasets_are_spice_and_typed_from_the_model_yaml(built):
    analytics, t = built
    marts = models.project_models()
    used = [d for d in catalog.DATASETS if any(d.id in dash.datasets for dash in catalog.DASHBOARDS)]
    assert analytics.dataset_ids == [f"unit-dev-{d.id}" for d in used]
    for ds in used:
        (resource,) = t.find_resources("AWS::QuickSight::DataSet", {"Properties": {"DataSetId": f"unit-dev-{ds.id}"}}).values()
        props = resource["Properties"]
        assert props["ImportMode"] == "SPICE"
        table = props["PhysicalTableMap"]["fact"]["RelationalTable"]
        assert (table["Schema"], table["Name"]) == ("analytics_marts", ds.model)
        model = marts[ds.model]
        assert table["InputColumns"] == [{"Name": c, "Type": models.QUICKSIGHT_INPUT_TYPE[model.columns[c].family]}
                                         for c in ds.columns]
        # readers, not owners: CloudFormation alone changes the datasets
        assert props["Permissions"] == [{"Principal": PRINCIPAL, "Actions": DATASET_READER}]


def test_joined_dataset_projects_exactly_the_declared_columns(built):
    _, t = built
    (resource,) = t.find_resources("AWS::QuickSight::DataSet", {"Properties": {"DataSetId": "unit-dev-fraud-alerts"}}).values()
    prep = resource["Properties"]["DataPrepConfiguration"]
    assert prep["SourceTableMap"] == {"fact": {"PhysicalTableId": "fact"}, "customer": {"PhysicalTableId": "customer"}}
    steps = prep["TransformStepMap"]
    join = steps["join"]["JoinStep"]
    assert (join["Type"], join["OnClause"]) == ("LEFT", "{customer_id} = {dim_customers_customer_id}")
    assert join["LeftOperand"] == {"TransformOperationId": "import-fact"}
    assert join["RightOperand"] == {"TransformOperationId": "rename-customer"}
    assert steps["rename-customer"]["RenameColumnsStep"]["RenameColumnOperations"] == [
        {"ColumnName": "customer_id", "NewColumnName": "dim_customers_customer_id"},
        {"ColumnName": "country", "NewColumnName": catalog.REGION_FIELD}]
    project = steps["project"]["ProjectStep"]
    assert project["ProjectedColumns"] == list(catalog.dataset("fraud-alerts").output_columns)
    assert project["Source"] == {"TransformOperationId": "join"}
    assert prep["DestinationTableMap"]["dataset"]["Source"] == {"TransformOperationId": "project"}


def test_row_level_security_on_every_customer_level_dataset(built):
    analytics, t = built
    rules = analytics.region_rules
    assert rules is not None
    sql = t.find_resources("AWS::QuickSight::DataSet", {"Properties": {"DataSetId": "unit-dev-rls-region"}})
    (rules_resource,) = sql.values()
    query = rules_resource["Properties"]["PhysicalTableMap"]["rules"]["CustomSql"]["SqlQuery"]
    assert "select 'analysts' as \"GroupName\", cast(null as varchar(1024))" in query  # "*" = every region
    assert "select 'uk-fraud' as \"GroupName\", cast('UK' as varchar(1024))" in query
    assert "Permissions" not in rules_resource["Properties"]  # readers never see the rules
    for ds in catalog.DATASETS:
        (resource,) = t.find_resources("AWS::QuickSight::DataSet", {"Properties": {"DataSetId": f"unit-dev-{ds.id}"}}).values()
        (semantic,) = resource["Properties"]["SemanticModelConfiguration"]["TableMap"].values()
        rls = semantic.get("RowLevelPermissionConfiguration")
        if catalog.REGION_FIELD in ds.output_columns:
            assert rls == {"RowLevelPermissionDataSet": {
                "Arn": {"Fn::GetAtt": [t_logical_id(t, "unit-dev-rls-region"), "Arn"]},
                "PermissionPolicy": "GRANT_ACCESS", "FormatVersion": "VERSION_1", "Status": "ENABLED"}}
        else:  # per-country / per-segment aggregates hold no customer rows
            assert rls is None, ds.id


def t_logical_id(t: Template, data_set_id: str) -> str:
    (logical_id,) = t.find_resources("AWS::QuickSight::DataSet", {"Properties": {"DataSetId": data_set_id}})
    return logical_id


def test_without_rules_there_is_no_row_level_security(network_stack):
    analytics, t = build(network_stack)
    assert analytics.region_rules is None
    for resource in t.find_resources("AWS::QuickSight::DataSet").values():
        (semantic,) = resource["Properties"]["SemanticModelConfiguration"]["TableMap"].values()
        assert "RowLevelPermissionConfiguration" not in semantic


def test_dashboards_use_the_theme_and_grant_readers_only(built):
    analytics, t = built
    assert sorted(analytics.dashboards) == sorted(d.id for d in catalog.DASHBOARDS)
    t.resource_count_is("AWS::QuickSight::Dashboard", len(catalog.DASHBOARDS))
    t.has_resource_properties("AWS::QuickSight::Theme", {"BaseThemeId": "CLASSIC",
                                                          "Configuration": Match.object_like({"DataColorPalette": Match.any_value()})})
    for dash in catalog.DASHBOARDS:
        t.has_resource_properties("AWS::QuickSight::Dashboard", {
            "DashboardId": f"unit-dev-{dash.id}", "Name": dash.name,
            "ThemeArn": {"Fn::GetAtt": [Match.string_like_regexp("Theme"), "Arn"]},
            "Permissions": [{"Principal": PRINCIPAL, "Actions": DASHBOARD_READER}],
            "DashboardPublishOptions": Match.object_like({"ExportToCSVOption": {"AvailabilityStatus": "DISABLED"}}),
        })


def test_camel_case_matches_cdk_property_names():
    assert definition.camel_key("KPIVisual") == "kpiVisual"
    assert definition.camel_key("XAxisLabelOptions") == "xAxisLabelOptions"
    assert definition.camel_key("DataSetIdentifierDeclarations") == "dataSetIdentifierDeclarations"
    assert definition.camel({"PhysicalTableMap": {"fact": {"RelationalTable": {}}}}, maps=frozenset({"PhysicalTableMap"})) \
        == {"physicalTableMap": {"fact": {"relationalTable": {}}}}


def test_environment_without_principal_has_no_quicksight(tmp_path):
    """An empty quicksight.principal_arn (no subscription) builds the platform without QuickSight: no stack, no
    acknowledgments left dangling, nothing for the pipeline to refresh."""
    import copy

    from infra.application import build_platform, cdk_json_context, new_app

    environments = copy.deepcopy(cdk_json_context()["environments"])
    environments["dev"]["quicksight"] = {"principal_arn": ""}
    app = new_app("dev", outdir=tmp_path, extra_context={"environments": environments}, validation=False)
    platform = build_platform(app)  # applies the acknowledgments: would raise StaleAcknowledgment
    assert platform.stage.quicksight is None
    assert platform.stage.node.try_find_child("QuickSight") is None
