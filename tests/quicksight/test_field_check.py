"""The synth-time field check, both ways: the real definitions pass against the dbt marts' YAML; a field a model
does not have, or has with an unusable type, stops synthesis (and the renderer) with one line naming dashboard,
visual and field."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest
from aws_cdk.assertions import Template

from infra.application import REPO_ROOT, cdk_json_context
from infra.config import ConfigError
from infra.constructs.quicksight import QuickSightAnalytics, QuickSightDefinitionError
from quicksight import catalog, fieldcheck, models
from quicksight.spec import Measure, fields_of
from tests.quicksight.test_construct import login

from .conftest import marts_with


def test_catalog_matches_the_dbt_marts():
    assert fieldcheck.problems(catalog.DASHBOARDS, catalog.DATASETS) == []


def test_every_model_type_maps_to_a_quicksight_type():
    # the marts the dashboards read declare a data_type QuickSight can import for every column
    used = {d.model for d in catalog.DATASETS} | {d.join.model for d in catalog.DATASETS if d.join}
    marts = models.project_models()
    untyped = [(m, c.name, c.data_type) for m in used for c in marts[m].columns.values() if c.family is None]
    assert untyped == []


def _one_line(err: Exception) -> str:
    message = str(err)
    assert "\n" not in message
    return message


def test_misspelled_field_names_dashboard_visual_and_field():
    fraud = catalog.FRAUD
    bar = fraud.visuals[0]
    broken = dataclasses.replace(fraud, visuals=(dataclasses.replace(bar, category="primary_reason"),
                                                 *fraud.visuals[1:]))
    with pytest.raises(fieldcheck.FieldCheckError) as err:
        fieldcheck.check([broken], catalog.DATASETS)
    message = _one_line(err.value)
    assert message.startswith('QuickSight field check: dashboard "Fraud Detection", visual "alertsByRule"')
    assert 'field "primary_reason"' in message and "fraud_alerts" in message


def test_column_dropped_from_the_model_names_every_visual_that_reads_it():
    marts = marts_with("fraud_alerts", "primary_reason_code", None)
    found = fieldcheck.problems(catalog.DASHBOARDS, catalog.DATASETS, marts)
    readers = [v.id for v in catalog.FRAUD.all_visuals
               if v.dataset == "fraud-alerts" and "primary_reason_code" in dict(fields_of(v))]
    assert readers  # the bar chart and the alerts table
    for visual_id in readers:
        assert any(f'visual "{visual_id}"' in p and '"primary_reason_code" is not a column of dbt model fraud_alerts'
                   in p for p in found)
    assert any(p.startswith('dataset "fraud-alerts": column "primary_reason_code"') for p in found)
    with pytest.raises(fieldcheck.FieldCheckError) as err:
        fieldcheck.check(catalog.DASHBOARDS, catalog.DATASETS, marts)
    assert f"(and {len(found) - 1} more problem(s))" in _one_line(err.value)


@pytest.mark.parametrize(("model", "column", "new_type", "expected"), [
    # summed as money: must stay numeric
    ("fct_daily_revenue", "revenue_usd", "varchar", "used as SUM of a measure, which needs decimal/integer"),
    # the date controls need a date
    ("fraud_alerts", "alert_date", "varchar", 'control "Event date": field "alert_date" is varchar'),
    # a category must be text (a float category would make thousands of bars)
    ("dim_customers", "customer_segment", "double", "used as a category, which needs boolean/string"),
])
def test_incompatible_type_is_reported(model, column, new_type, expected):
    found = fieldcheck.problems(catalog.DASHBOARDS, catalog.DATASETS, marts_with(model, column, new_type))
    assert any(expected in p for p in found), found


def test_type_without_quicksight_equivalent_is_reported():
    found = fieldcheck.problems(catalog.DASHBOARDS, catalog.DATASETS, marts_with("dim_customers", "age_band", "super"))
    assert any('column "age_band" of dbt model dim_customers has data_type "super"' in p for p in found)


def test_count_works_on_any_type_but_sum_needs_numbers():
    kpi = catalog.FRAUD.kpis[0]
    assert kpi.measure.agg == "COUNT" and models.project_models()["fraud_alerts"].columns["alert_id"].family == "string"
    summed = dataclasses.replace(catalog.FRAUD, kpis=(dataclasses.replace(kpi, measure=Measure("alert_id", "SUM", "x")),))
    found = fieldcheck.problems([summed], catalog.DATASETS)
    assert any('visual "kpiAlerts"' in p and "SUM of a measure" in p for p in found)


def test_construct_refuses_to_build_with_a_mismatch(network_stack):
    stack, vpc, warehouse_sg = network_stack
    with pytest.raises(QuickSightDefinitionError) as err:
        QuickSightAnalytics(stack, "QuickSight", name_prefix="unit", principal_arn="arn:aws:quicksight:eu-west-1:"
                            "123456789012:group/default/analysts", vpc=vpc,
                            subnets=ec2_isolated(), warehouse_security_group=warehouse_sg, warehouse_host="wg.example",
                            warehouse_port=5439, database_name="analytics", credentials=login(stack),
                            marts=marts_with("fct_daily_revenue", "product", None))
    assert isinstance(err.value, ConfigError)  # app.py prints ConfigErrors as one line
    assert 'dashboard "Revenue", visual "byProduct"' in _one_line(err.value)
    # nothing was created before the check
    assert Template.from_stack(stack).find_resources("AWS::QuickSight::DataSet") == {}


def ec2_isolated():
    from aws_cdk import aws_ec2 as ec2

    return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)


def test_cdk_app_stops_with_one_line(tmp_path):
    """`cdk synth` runs app.py: a mismatch ends it with exit 1 and one line on stderr, no traceback. (A subprocess:
    CDK's node process reads CDK_CONTEXT_JSON when it starts.)"""
    program = (
        "import sys\n"
        "from quicksight import models\n"
        "from tests.quicksight.conftest import marts_with\n"
        "models.project_models = lambda: marts_with('fct_login_anomalies', 'reason_codes', None)\n"
        "import app\n"
        "sys.exit(app.main())\n"
    )
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps({**cdk_json_context(), "env": "dev"}),
           "CDK_OUTDIR": str(tmp_path), "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run([sys.executable, "-c", program], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 1, proc.stderr[-2000:]
    # node may print its own end-of-life banner on stderr: the app's message is the line starting with "error:"
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert lines[0].startswith('error: QuickSight field check: dashboard "Fraud Detection", visual "loginAnomalies"')
    assert 'field "reason_codes"' in lines[0]
