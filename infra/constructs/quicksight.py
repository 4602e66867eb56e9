"""QuickSight as code: VPC connection to Redshift Serverless, the Redshift data source, SPICE datasets per dbt
mart, a theme, and the three dashboards built from quicksight/catalog.py.

Prerequisites outside CloudFormation (README "Dashboards"): a QuickSight Enterprise subscription in the account and
region, the principal group from config, and QuickSight's Secrets Manager access turned on (QuickSight admin ->
Security & permissions), which creates the service role ``aws-quicksight-secretsmanager-role-v0``. No secret needs
selecting there: this construct grants that role read on the data source's login secret (and nothing else).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_quicksight as qs
from constructs import Construct

from infra.config import ConfigError
from infra.constructs.warehouse import DatabaseLogin
from quicksight import catalog, definition, fieldcheck, models, theme
from quicksight.models import MartModel
from quicksight.spec import Dashboard, Dataset

# Read-only grants for the analysts' group: they use the dashboards; CloudFormation owns and changes the assets.
DASHBOARD_READER = ["quicksight:DescribeDashboard", "quicksight:ListDashboardVersions", "quicksight:QueryDashboard"]
DATASET_READER = ["quicksight:DescribeDataSet", "quicksight:DescribeDataSetPermissions", "quicksight:PassDataSet",
                  "quicksight:DescribeIngestion", "quicksight:ListIngestions"]
DATA_SOURCE_READER = ["quicksight:DescribeDataSource", "quicksight:DescribeDataSourcePermissions",
                      "quicksight:PassDataSource"]
# The account-wide role QuickSight reads data-source secrets with (created by the console's Secrets Manager toggle;
# QuickSight user guide, "Granting QuickSight access to Secrets Manager and selected secrets").
SECRETS_MANAGER_ROLE_NAME = "aws-quicksight-secretsmanager-role-v0"
THEME_READER = ["quicksight:DescribeTheme", "quicksight:DescribeThemeAlias", "quicksight:ListThemeAliases",
                "quicksight:ListThemeVersions"]


class QuickSightDefinitionError(ConfigError):
    """The dashboards use a field the dbt marts do not provide. A ConfigError, so ``app.py`` prints the one line
    (dashboard, visual, field, fix) and exits 1 instead of a traceback."""


def _dataset_props(properties: dict) -> dict:
    """CfnDataSet keyword arguments from the builder's PascalCase properties (camelCase, map ids kept)."""
    return {
        "physical_table_map": {k: definition.camel(v) for k, v in properties["PhysicalTableMap"].items()},
        "data_prep_configuration": definition.camel(properties["DataPrepConfiguration"], maps=definition.DATA_PREP_MAPS),
        "semantic_model_configuration": definition.camel(properties["SemanticModelConfiguration"],
                                                         maps=definition.DATA_PREP_MAPS),
    }


def _parse_region_rule(rule: str) -> tuple[str, str | None]:
    """"group:USA,UK" -> ("group", "USA,UK"); "group:*" -> ("group", None) = every region (config checks the form)."""
    group, regions = rule.split(":", 1)
    return group, None if regions == "*" else regions


class QuickSightAnalytics(Construct):
    """Attributes: ``dataset_ids`` (DataSetIds the pipeline refreshes, in catalog order), ``dataset_arns`` (id ->
    ARN), ``datasets`` / ``dashboards`` (short id -> L1), ``data_source``, ``vpc_connection``, ``security_group``,
    ``vpc_connection_role``, ``secrets_role`` (QuickSight's Secrets Manager role, imported), ``theme``,
    ``region_rules`` (the row-level-security rules dataset; None without ``region_access``).

    ``credentials``: the data source's database login (secret with ``username``/``password``), a least-privilege
    user, never the warehouse admin."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        principal_arn: str,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        warehouse_security_group: ec2.ISecurityGroup,
        warehouse_host: str,
        warehouse_port: int,
        database_name: str,
        credentials: DatabaseLogin,
        region_access: Sequence[str] = (),
        dashboards: Sequence[Dashboard] = catalog.DASHBOARDS,
        datasets: Sequence[Dataset] = catalog.DATASETS,
        marts: Mapping[str, MartModel] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        marts = models.project_models() if marts is None else marts
        # Fail before creating anything: a dashboard reading a column dbt does not build would deploy and then
        # show errors to analysts (or fail the stack half-way).
        try:
            fieldcheck.check(dashboards, datasets, marts)
        except fieldcheck.FieldCheckError as err:
            raise QuickSightDefinitionError(str(err)) from None

        stack = Stack.of(self)
        account = stack.account
        used = [d for d in datasets if any(d.id in dash.datasets for dash in dashboards)]

        # --- network: QuickSight ENIs in the isolated subnets, allowed only to the warehouse port ----------------
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
            description="QuickSight VPC connection: Redshift only",
        )
        # VPC connections created after 2023-04-27 have stateful security groups (QuickSight user guide, "Inbound
        # rules"), so the return traffic needs no inbound rule: egress to the warehouse port is all there is.
        self.security_group.add_egress_rule(
            ec2.Peer.security_group_id(warehouse_security_group.security_group_id), ec2.Port.tcp(warehouse_port),
            "Redshift Serverless workgroup",
        )
        # The warehouse's inbound rule lives here, in the consumer's stack (no edits to the warehouse stack, no cycle).
        ec2.CfnSecurityGroupIngress(
            self, "WarehouseIngress", group_id=warehouse_security_group.security_group_id, ip_protocol="tcp",
            from_port=warehouse_port, to_port=warehouse_port,
            source_security_group_id=self.security_group.security_group_id,
            description="QuickSight VPC connection",
        )
        selected = vpc.select_subnets(subnet_type=subnets.subnet_type)
        self.vpc_connection_role = iam.Role(
            self, "VpcConnectionRole", assumed_by=iam.ServicePrincipal("quicksight.amazonaws.com"),
            description="QuickSight creates and manages its network interfaces in the isolated subnets",
        )
        # The actions AWS::QuickSight::VPCConnection needs (ARCHITECTURE.md); Create is scoped to this VPC's
        # subnets and group, Describe* has no resource-level permissions in EC2.
        eni_arn = stack.format_arn(service="ec2", resource="network-interface", resource_name="*")
        self.vpc_connection_role.add_to_policy(iam.PolicyStatement(
            actions=["ec2:CreateNetworkInterface"],
            resources=[eni_arn,
                       *(stack.format_arn(service="ec2", resource="subnet", resource_name=s) for s in selected.subnet_ids),
                       stack.format_arn(service="ec2", resource="security-group",
                                        resource_name=self.security_group.security_group_id)],
        ))
        self.vpc_connection_role.add_to_policy(iam.PolicyStatement(
            actions=["ec2:ModifyNetworkInterfaceAttribute", "ec2:DeleteNetworkInterface"], resources=[eni_arn],
        ))
        self.vpc_connection_role.add_to_policy(iam.PolicyStatement(
            actions=["ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"], resources=["*"],
        ))
        self.vpc_connection = qs.CfnVPCConnection(
            self, "VpcConnection", aws_account_id=account, vpc_connection_id=f"{name_prefix}-redshift",
            name=f"{name_prefix} Redshift Serverless", role_arn=self.vpc_connection_role.role_arn,
            security_group_ids=[self.security_group.security_group_id], subnet_ids=selected.subnet_ids,
        )
        # QuickSight checks the role when it creates the ENIs: the policy must exist first.
        self.vpc_connection.node.add_dependency(self.vpc_connection_role)

        # --- data source: signs in with its own login's secret, which QuickSight's Secrets Manager role may read ----
        # QuickSight reads the secret through that role whenever it connects (SPICE refreshes); the deploying role's
        # own GetSecretValue authorizes creating the data source (QuickSight user guide, secrets-manager-integration-api).
        self.secrets_role = iam.Role.from_role_name(self, "SecretsManagerRole", SECRETS_MANAGER_ROLE_NAME)
        # A managed policy, not an inline one on a role this stack does not own: removed with the stack, and the
        # console's own policy on the role (secrets selected there) stays untouched.
        iam.ManagedPolicy(self, "SecretsManagerRead", roles=[self.secrets_role], statements=credentials.read_statements(),
                          description=f"QuickSight reads the {credentials.username} database login of {name_prefix}")
        self.data_source = qs.CfnDataSource(
            self, "DataSource", aws_account_id=account, data_source_id=f"{name_prefix}-redshift",
            name=f"{name_prefix} warehouse", type="REDSHIFT",
            data_source_parameters=qs.CfnDataSource.DataSourceParametersProperty(
                redshift_parameters=qs.CfnDataSource.RedshiftParametersProperty(
                    host=warehouse_host, port=warehouse_port, database=database_name)),
            credentials=qs.CfnDataSource.DataSourceCredentialsProperty(secret_arn=credentials.secret.secret_arn),
            vpc_connection_properties=qs.CfnDataSource.VpcConnectionPropertiesProperty(
                vpc_connection_arn=self.vpc_connection.attr_arn),
            ssl_properties=qs.CfnDataSource.SslPropertiesProperty(disable_ssl=False),
            permissions=[qs.CfnDataSource.ResourcePermissionProperty(principal=principal_arn,
                                                                     actions=DATA_SOURCE_READER)],
        )

        # --- row-level security by customer region ---------------------------------------------------------------
        # CloudFormation today: SemanticModelConfiguration -> TableMap -> RowLevelPermissionConfiguration with a rules
        # dataset (user/group based). The top-level RowLevelPermissionDataSet is the deprecated legacy path
        # (aws-cdk#36519), and tag-based rules apply only to anonymous embedding, while these dashboards are read
        # by signed-in QuickSight groups. So: a rules dataset, one row per group, on every customer-level dataset.
        self.region_rules: qs.CfnDataSet | None = None
        rules = dict(_parse_region_rule(r) for r in region_access)
        if rules:
            # no permissions for the readers: they must not see who may see what
            self.region_rules = qs.CfnDataSet(
                self, "RegionAccessRules", aws_account_id=account, data_set_id=f"{name_prefix}-rls-region",
                name=f"{name_prefix} region access rules", import_mode="SPICE",
                **_dataset_props(definition.region_rules_properties(rules, catalog.REGION_FIELD,
                                                                    self.data_source.attr_arn)),
            )

        # --- SPICE datasets, typed from the dbt model YAML -------------------------------------------------------
        self.datasets: dict[str, qs.CfnDataSet] = {}
        self.dataset_ids: list[str] = []
        self.dataset_arns: dict[str, str] = {}
        for ds in used:
            protected = self.region_rules is not None and catalog.REGION_FIELD in ds.output_columns
            properties = definition.dataset_properties(
                ds, self.data_source.attr_arn, marts, rules_arn=self.region_rules.attr_arn if protected else None)
            data_set_id = f"{name_prefix}-{ds.id}"
            resource = qs.CfnDataSet(
                self, f"DataSet-{ds.id}", aws_account_id=account, data_set_id=data_set_id,
                name=f"{name_prefix} {ds.name}", import_mode="SPICE", **_dataset_props(properties),
                permissions=[qs.CfnDataSet.ResourcePermissionProperty(principal=principal_arn,
                                                                      actions=DATASET_READER)],
            )
            self.datasets[ds.id] = resource
            self.dataset_ids.append(data_set_id)
            self.dataset_arns[ds.id] = resource.attr_arn

        self.theme = qs.CfnTheme(
            self, "Theme", aws_account_id=account, theme_id=f"{name_prefix}-bank", name=f"{name_prefix} bank",
            base_theme_id="CLASSIC", configuration=definition.camel(theme.theme_configuration()),
            permissions=[qs.CfnTheme.ResourcePermissionProperty(principal=principal_arn, actions=THEME_READER)],
        )

        # --- dashboards from the definitions ---------------------------------------------------------------------
        by_id = {d.id: d for d in used}
        self.dashboards: dict[str, qs.CfnDashboard] = {}
        for dash in dashboards:
            body = definition.dashboard_definition(dash, self.dataset_arns, by_id, marts)
            self.dashboards[dash.id] = qs.CfnDashboard(
                self, f"Dashboard-{dash.id}", aws_account_id=account, dashboard_id=f"{name_prefix}-{dash.id}",
                name=dash.name, definition=definition.camel(body), theme_arn=self.theme.attr_arn,
                version_description="Deployed by CDK from quicksight/catalog.py",
                dashboard_publish_options=qs.CfnDashboard.DashboardPublishOptionsProperty(
                    ad_hoc_filtering_option=qs.CfnDashboard.AdHocFilteringOptionProperty(availability_status="ENABLED"),
                    # customer-level rows never leave QuickSight as files
                    export_to_csv_option=qs.CfnDashboard.ExportToCSVOptionProperty(availability_status="DISABLED"),
                    sheet_controls_option=qs.CfnDashboard.SheetControlsOptionProperty(visibility_state="EXPANDED"),
                ),
                permissions=[qs.CfnDashboard.ResourcePermissionProperty(principal=principal_arn,
                                                                        actions=DASHBOARD_READER)],
            )
