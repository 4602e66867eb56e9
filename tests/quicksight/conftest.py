"""Helpers for the QuickSight tests: mart models with one column removed or retyped, and a small stack to build
the construct in (unit scope; the whole platform is the session `synth` fixture)."""

from __future__ import annotations

import dataclasses

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_ec2 as ec2

from infra.application import cdk_json_context
from quicksight import models


def marts_with(model: str, column: str, data_type: str | None) -> dict[str, models.MartModel]:
    """The project's mart models with ``model.column`` retyped to ``data_type`` (None = removed)."""
    marts = dict(models.load_models())
    target = marts[model]
    columns = dict(target.columns)
    if data_type is None:
        del columns[column]
    else:
        columns[column] = models.Column(column, data_type, models.type_family(data_type))
    marts[model] = dataclasses.replace(target, columns=columns)
    return marts


@pytest.fixture
def network_stack():
    """(stack, vpc, warehouse security group) like the platform's: isolated subnets in three AZs."""
    app = App(context=cdk_json_context(), builtin_cloud_formation_validation=False)
    stack = Stack(app, "Unit", env=Environment(account="123456789012", region="eu-west-1"))
    vpc = ec2.Vpc(stack, "Vpc", availability_zones=["eu-west-1a", "eu-west-1b", "eu-west-1c"], nat_gateways=0,
                  subnet_configuration=[ec2.SubnetConfiguration(name="isolated", cidr_mask=24,
                                                                subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)])
    warehouse_sg = ec2.SecurityGroup(stack, "WarehouseSg", vpc=vpc, allow_all_outbound=False)
    return stack, vpc, warehouse_sg
